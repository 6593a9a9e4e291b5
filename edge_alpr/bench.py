"""Where a frame's time goes: per-stage latency of the real pipeline over decoded frames,
plus cold start and peak memory of a fresh process.

The stages are timed by the pipeline itself through its optional :class:`StageClock`, so
what is measured is the code that ``edge-alpr read`` runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .batch import batch_settings, read_file, read_files
from .image import read_gray
from .models import AUTO, bundled_dir
from .pipeline import DEFAULT_READER, PlateReader
from .timing import StageClock

# In pipeline order; "letterbox" includes the grayscale conversion, "char_cnn" the cutting
# of the character crops. The stages and "total" are milliseconds per frame.
STAGES = ("letterbox", "detector", "decode", "plate_check", "plate_ocr", "segmentation",
          "char_cnn", "assembly")
TOTAL = "total"

# Runs in a fresh interpreter: import, model load and one frame, the image decode left out.
_COLD_START = """
import json, time
t0 = time.perf_counter()
from edge_alpr.image import read_gray
from edge_alpr.pipeline import PlateReader
from edge_alpr.session import lean_malloc
if {lean!r}:
    lean_malloc()
reader = PlateReader(providers={providers!r}, threads={threads!r}, precision={precision!r},
                     lean={lean!r}, reader={reader!r})
t1 = time.perf_counter()
image = read_gray({image!r})
t2 = time.perf_counter()
reader.read(image)
t3 = time.perf_counter()
from edge_alpr.bench import peak_rss_bytes
print(json.dumps({{"seconds": t1 - t0 + t3 - t2, "peak_bytes": peak_rss_bytes()}}))
"""


def peak_rss_bytes() -> int:
    """This process's own peak resident memory. VmHWM where there is procfs: on Linux a
    child's ru_maxrss starts from its parent's peak, so it overstates a fresh process's."""
    try:
        with open("/proc/self/status") as f:
            return 1024 * next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):  # no procfs; macOS gives ru_maxrss in bytes, Linux in KiB
        import resource  # POSIX only, like this fallback

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else 1024 * peak


@dataclass(frozen=True)
class StageStats:
    p50_ms: float
    p95_ms: float
    mean_ms: float


@dataclass(frozen=True)
class ColdStart:
    median_s: float  # import + model load + first frame, in a fresh process
    runs_s: tuple[float, ...]
    peak_rss_mib: float  # the largest over the runs


@dataclass(frozen=True)
class BatchStats:
    """Files read as ``edge-alpr read`` reads them, decode included (start-up excluded)."""

    files: int
    workers: int
    threads: int | None
    seconds: float  # wall time, first file submitted to last result
    failed: int

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds


@dataclass(frozen=True)
class BenchResult:
    images: tuple[str, ...]
    runs: int
    warmup: int
    threads: int | None  # None: onnxruntime's default
    providers: tuple[str, ...]
    precisions: Mapping[str, str]  # what each model ran in, by role
    stages: Mapping[str, StageStats]  # STAGES, then TOTAL
    cold_start: ColdStart
    lean: bool = False  # lean sessions and lean_malloc (the kiosk profile)
    batch: BatchStats | None = None  # with --files

    @property
    def fps(self) -> float:
        """Frames per second from the median total."""
        return 1e3 / self.stages[TOTAL].p50_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "images": list(self.images), "runs": self.runs, "warmup": self.warmup,
            "threads": self.threads, "providers": list(self.providers),
            "precisions": dict(self.precisions), "lean": self.lean,
            "stages": {k: {"p50_ms": round(s.p50_ms, 3), "p95_ms": round(s.p95_ms, 3),
                           "mean_ms": round(s.mean_ms, 3)} for k, s in self.stages.items()},
            "fps": round(self.fps, 2),
            "cold_start": {"median_s": round(self.cold_start.median_s, 3),
                           "runs_s": [round(s, 3) for s in self.cold_start.runs_s],
                           "peak_rss_mib": round(self.cold_start.peak_rss_mib, 1)},
            "batch": None if self.batch is None else {
                "files": self.batch.files, "workers": self.batch.workers,
                "threads": self.batch.threads, "seconds": round(self.batch.seconds, 3),
                "files_per_s": round(self.batch.files_per_s, 2), "failed": self.batch.failed},
        }


def sample_frames() -> list[Path]:
    """The bundled sample frames, the default input: ``samples/*.jpg`` of the repository,
    installed as the package ``edge_alpr.sample_files`` (see pyproject.toml)."""
    return sorted(bundled_dir("edge_alpr.sample_files", "samples").glob("*.jpg"))


def time_frames(reader: PlateReader, frames: Sequence[np.ndarray], runs: int, warmup: int
                ) -> dict[str, list[float]]:
    """Milliseconds per stage and in total for ``runs`` frames (cycling through ``frames``)
    after ``warmup`` untimed ones. A stage a frame never reached (no plate) counts as 0."""
    if runs < 1 or warmup < 0 or not frames:
        raise ValueError(f"need runs >= 1, warmup >= 0 and a frame; got runs={runs}, "
                         f"warmup={warmup}, {len(frames)} frames")
    ms: dict[str, list[float]] = {s: [] for s in (*STAGES, TOTAL)}
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        clock = StageClock()
        reader.read(frames[i % len(frames)], clock=clock)
        total = time.perf_counter() - t0
        if i < warmup:
            continue
        for stage in STAGES:
            ms[stage].append(clock.seconds.get(stage, 0.0) * 1e3)
        ms[TOTAL].append(total * 1e3)
    return ms


def summarize(ms: Sequence[float]) -> StageStats:
    return StageStats(float(np.median(ms)), float(np.percentile(ms, 95)), float(np.mean(ms)))


def cold_start(image: str | Path, providers: Sequence[str], threads: int | None,
               precision: str, repeats: int = 3, lean: bool = False,
               reader: str = DEFAULT_READER) -> ColdStart:
    """Import + model load + first frame in ``repeats`` fresh interpreters, one after another.

    Each runs in the folder this edge_alpr was imported from, so it imports the same one
    (``python -c`` puts the working folder first on the path: in a source checkout's root that
    is the checkout, whatever is installed)."""
    code = _COLD_START.format(providers=tuple(providers), threads=threads, precision=precision,
                              image=str(Path(image).resolve()), lean=lean, reader=reader)
    home = Path(__file__).resolve().parent.parent
    runs = []
    for _ in range(repeats):
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               cwd=home)
        if child.returncode:
            raise RuntimeError(f"cold-start process failed ({child.returncode}): "
                               f"{child.stderr.strip()[-2000:]}")
        runs.append(json.loads(child.stdout.splitlines()[-1]))
    return ColdStart(float(np.median([r["seconds"] for r in runs])),
                     tuple(r["seconds"] for r in runs),
                     max(r["peak_bytes"] for r in runs) / 2**20)


def bench_files(files: Sequence[Path], threads: int | None, providers: Sequence[str],
                precision: str, lean: bool, reader: str = DEFAULT_READER) -> BatchStats:
    """Read ``files`` once as ``edge-alpr read`` does (its workers and threads unless
    ``threads`` is given), after loading the reader and reading the first file untimed."""
    workers, threads = batch_settings(len(files), None, threads, lean)
    plates = PlateReader(providers=tuple(providers), threads=threads, precision=precision,
                         lean=lean, reader=reader)
    read_file(plates, Path(files[0]))  # first-run allocations, as the other figures skip them
    t0 = time.perf_counter()
    failed = sum(r.error is not None for r in read_files(plates, files, workers))
    return BatchStats(len(files), workers, threads, time.perf_counter() - t0, failed)


def bench(images: Sequence[str | Path], runs: int, warmup: int, threads: int | None = None,
          providers: Sequence[str] = ("cpu",), precision: str = AUTO, lean: bool = False,
          files: Sequence[Path] | None = None, reader: str = DEFAULT_READER) -> BenchResult:
    """Time the pipeline's stages over ``images`` (decoded to grayscale once, before timing),
    then the cold start on the first image, then, given ``files``, :func:`bench_files`.
    ``lean`` applies to the cold start's fresh processes; in this one it makes lean sessions
    only (malloc's settings are the caller's process's)."""
    frames = [read_gray(p) for p in images]
    plates = PlateReader(providers=tuple(providers), threads=threads, precision=precision,
                         lean=lean, reader=reader)
    ms = time_frames(plates, frames, runs, warmup)
    return BenchResult(tuple(str(p) for p in images), runs, warmup, threads, tuple(providers),
                       plates.precisions, {k: summarize(v) for k, v in ms.items()},
                       cold_start(images[0], providers, threads, precision, lean=lean,
                                  reader=reader), lean,
                       bench_files(files, threads, providers, precision, lean, reader)
                       if files else None)
