"""edge-alpr against the TensorFlow references (:mod:`benchmarks.reference`) on the same
decoded 1080p frames, and ``benchmarks/RESULTS.md`` from it.

    python -m benchmarks.compare [--rounds 8] [--threads 2] [--cold 3] [--out benchmarks/RESULTS.md]

Frames: the bundled sample frames, plus the validation photos when ../shared/data is there.
The pipelines take turns frame by frame in one process, the order rotating, so load from
other jobs on the machine hits them alike; JPEG decoding is left out. Then, each in fresh
processes: cold start (import + model load + first frame) and peak RSS; the installed size of
each environment; a profile of edge-alpr. Not a test: it takes several minutes.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from packaging.requirements import Requirement

from edge_alpr.bench import STAGES, TOTAL, sample_frames
from edge_alpr.pipeline import PlateReader

from .alternating import Frame, alternate, frames, texts
from .pipelines import FP32, INT8, ORIGINAL, PIPELINES, TUNED, make_reader
from .reference import CHARS_KERAS, CHECK_KERAS, DETECTOR_KERAS

REPO = Path(__file__).resolve().parent.parent
# Issue #6's aims, on a 2-core machine, 1080p frames.
TARGET_P50_MS = 10.0
TARGET_VS_ORIGINAL = 10.0
TARGET_VS_TUNED = 2.0
TARGET_COLD_S = 0.8
TARGET_RSS_MB = 150.0
# What each environment needs besides Python, for its installed size.
TF_ROOTS = ("tensorflow-cpu", "scikit-image", "opencv-python-headless", "numpy")

# A fresh interpreter: import, model load and the first frame (its decode left out), as
# ``edge-alpr bench`` measures its cold start; then the process's own peak RSS.
_FRESH = """
import json, time
t0 = time.perf_counter()
from benchmarks.pipelines import make_reader
reader = make_reader({name!r}, {threads!r})
t1 = time.perf_counter()
from edge_alpr.image import read_image
image = read_image({image!r})
t2 = time.perf_counter()
reader.read(image)
t3 = time.perf_counter()
from edge_alpr.bench import peak_rss_bytes
print(json.dumps({{"seconds": t1 - t0 + t3 - t2, "peak_bytes": peak_rss_bytes()}}))
"""


@dataclass(frozen=True)
class Fresh:
    cold_s: tuple[float, ...]
    peak_rss_mib: float


def fresh(name: str, threads: int, image: Path, repeats: int) -> Fresh:
    code = _FRESH.format(name=name, threads=threads, image=str(image))
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                      text=True, check=True, cwd=REPO).stdout.splitlines()[-1])
            for _ in range(repeats)]
    return Fresh(tuple(r["seconds"] for r in runs), max(r["peak_bytes"] for r in runs) / 2**20)


def runtime_site_packages(root: Path) -> Path:
    """A venv with ``pip install REPO`` (not editable) and nothing else: no pip, no setuptools."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(root / "bin" / "python"),
                    "install", "-q", str(REPO)], check=True, capture_output=True)
    (site,) = root.glob("lib/python*/site-packages")
    return site


def du_bytes(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def closure(roots: Iterable[str]) -> set[str]:
    """The installed distributions ``roots`` need, themselves included (no extras)."""
    seen: set[str] = set()
    todo = [_canonical(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.distribution(name).requires or ():
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(_canonical(req.name))
    return seen


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dist_bytes(name: str) -> int:
    dist = metadata.distribution(name)
    files = (Path(dist.locate_file(f)) for f in dist.files or ())
    return sum(f.stat().st_size for f in files if f.is_file())


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines()
                  if line.startswith("Model name")), "unknown CPU")
    return f"{model}, {os.cpu_count()} logical cores, Python {sys.version.split()[0]}"


def profile(reader: PlateReader, frames: Sequence[Frame], passes: int = 3, top: int = 14
            ) -> str:
    """The functions edge-alpr spends most of its own time in, per frame, as a table."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(passes):
        for f in frames:
            reader.read(f.image)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    n = passes * len(frames)
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]  # by own time
    lines = ["| function | calls/frame | own ms/frame | with callees ms/frame |",
             "|---|---:|---:|---:|"]
    for (file, line, func), (_, calls, own, cum, _) in rows:
        where = f"{Path(file).name}:{line} {func}" if line else func
        lines.append(f"| `{where}` | {calls / n:.1f} | {own / n * 1e3:.2f} | "
                     f"{cum / n * 1e3:.2f} |")
    return "\n".join(lines)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8, help="timed passes over the frames")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cold", type=int, default=3, help="fresh processes per pipeline")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    args = ap.parse_args()
    load_start = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M")
    imgs = frames()
    readers = {name: make_reader(name, args.threads) for name in PIPELINES}
    # Untimed first pass: warm-up (graph tracing included) and what each pipeline reads.
    reads = {name: [texts(r, f.image) for f in imgs] for name, r in readers.items()}
    loads: list[float] = []
    ms = alternate(readers, imgs, args.rounds, loads)
    where = profile(readers[INT8], imgs)
    fresh_runs = {name: fresh(name, args.threads, sample_frames()[0], args.cold)
                  for name in PIPELINES}
    with tempfile.TemporaryDirectory(prefix="edge-alpr-size-") as tmp:
        site = runtime_site_packages(Path(tmp))
        runtime_bytes = du_bytes(site)
        biggest = sorted(((du_bytes(p), p.name) for p in site.iterdir()), reverse=True)[:4]
    tf_dists = sorted(closure(TF_ROOTS))
    tf_bytes = {d: dist_bytes(d) for d in tf_dists}
    load_end = os.getloadavg()
    report = render(args, started, imgs, reads, ms, where, fresh_runs, runtime_bytes, biggest,
                    tf_bytes, load_start, load_end, loads)
    args.out.write_text(report)
    print(report)


def render(args: argparse.Namespace, started: str, imgs: Sequence[Frame],
           reads: Mapping[str, list[tuple[str, ...]]], ms: Mapping[str, Mapping[str, list[float]]],
           where: str, fresh_runs: Mapping[str, Fresh], runtime_bytes: int,
           biggest: Sequence[tuple[int, str]], tf_bytes: Mapping[str, int],
           load_start: tuple[float, ...], load_end: tuple[float, ...], loads: Sequence[float]
           ) -> str:
    med = {n: {s: float(np.median(v)) for s, v in st.items()} for n, st in ms.items()}
    p95 = {n: float(np.percentile(st[TOTAL], 95)) for n, st in ms.items()}
    base = med[INT8][TOTAL]
    n_samples = sum(f.sample for f in imgs)
    mib = 2**20
    out = [
        "# edge-alpr against TensorFlow: figures",
        "",
        f"Written by `python -m benchmarks.compare --rounds {args.rounds} --threads "
        f"{args.threads} --cold {args.cold}` on {started}; every figure below comes from that "
        "run. Medians and ratios are the figures to quote: this host is shared (other jobs "
        "run on its cores) and its speed varied 2× within minutes.",
        "",
        f"- Machine: {machine()}.",
        f"- Load average (1, 5, 15 min) at start {_loads(load_start)}, at end "
        f"{_loads(load_end)}; 1-minute load after each round {min(loads):.2f}–{max(loads):.2f}.",
        f"- Frames: {len(imgs)} decoded 1920×1080 frames ({n_samples} bundled synthetic "
        f"sample, {len(imgs) - n_samples} validation photos of ../shared/data), JPEG decode "
        f"excluded; {args.rounds} rounds, each frame read by every pipeline in turn, the "
        f"order rotating; {args.threads} threads per model for onnxruntime and TensorFlow "
        "(intra-op); one untimed warm-up pass first.",
        "- Pipelines: **edge-alpr int8** (the default: fp32 detector and plate check, INT8 "
        "character model), **edge-alpr fp32** (`--fp32`), **TF tuned** (the same Keras models "
        "as `tf.function`s, candidates and characters batched, edge-alpr's segmentation), "
        "**TF original** (`model.predict` on the frame, on the candidates, and once per "
        "character, scikit-image segmentation). "
        "All four share edge-alpr's letterbox, decode, crop cutting and plate grammar "
        "(`benchmarks/reference.py`, `benchmarks/research_segment.py`), and the binarization "
        "of the segmentation (shadow removal, CLAHE, Otsu), so the references get edge-alpr's "
        "speed-ups there. The TensorFlow processes also load onnxruntime and open the three "
        "small ONNX models, for the metadata edge-alpr reads from them (input size, stride, "
        "threshold, classes).",
        "",
        "## Per-stage medians (ms per frame)",
        "",
        "A stage a frame never reached counts as 0; stages run once per plate (and again for "
        "a second look) add up within a frame. The median total is not the sum of the stage "
        "medians.",
        "",
        "| stage | " + " | ".join(PIPELINES) + " |",
        "|---|" + "---:|" * len(PIPELINES),
    ]
    for stage in (*STAGES, TOTAL):
        cells = [f"{med[n][stage]:.2f}" for n in PIPELINES]
        out.append(f"| {'**total**' if stage == TOTAL else stage} | " + " | ".join(cells) + " |")
    out.append("| total p95 | " + " | ".join(f"{p95[n]:.2f}" for n in PIPELINES) + " |")
    out += ["", "## Ratios of medians", "",
            "| | detector | segmentation | char_cnn | **total** |", "|---|---:|---:|---:|---:|"]
    for num, den in ((TUNED, INT8), (ORIGINAL, INT8), (TUNED, FP32), (ORIGINAL, FP32),
                     (INT8, FP32)):
        cells = [f"{med[num][s] / med[den][s]:.2f}×" if med[den][s] else "–"
                 for s in ("detector", "segmentation", "char_cnn", TOTAL)]
        out.append(f"| {num} / {den} | " + " | ".join(cells) + " |")
    agree = [i for i in range(len(imgs)) if len({reads[n][i] for n in PIPELINES}) == 1]
    out += ["", "## Same plates read", "",
            f"All four pipelines read the same plate texts on {len(agree)} of {len(imgs)} "
            "frames."]
    for i, f in enumerate(imgs):
        if f.sample or i not in agree:
            out.append(f"- `{f.name}`{' (sample)' if f.sample else ''}: " + "; ".join(
                f"{n} {', '.join(reads[n][i]) or '—'}" for n in PIPELINES))
    out += ["", "## Cold start and peak memory", "",
            f"Fresh process each ({args.cold} per pipeline, one after another): import + "
            f"model load + the first frame (`{sample_frames()[0].name}`, its decode left out); "
            "peak RSS is the largest of their own high-water marks (VmHWM; a child's "
            "`ru_maxrss` on Linux starts from its parent's peak, here this script's).", "",
            "| | cold start median (runs) | peak RSS |", "|---|---:|---:|"]
    for n in PIPELINES:
        fr = fresh_runs[n]
        runs = ", ".join(f"{s:.2f}" for s in fr.cold_s)
        out.append(f"| {n} | {np.median(fr.cold_s):.2f} s ({runs}) | "
                   f"{fr.peak_rss_mib:.0f} MiB |")
    tf_total = sum(tf_bytes.values())
    top_tf = sorted(tf_bytes.items(), key=lambda kv: -kv[1])[:4]
    out += ["", "## Installed size", "",
            f"- edge-alpr: {runtime_bytes / mib:.0f} MiB, `du -sb` of the site-packages of a "
            "fresh venv after `pip install` of the repository (not editable; no pip or "
            "setuptools in it). Largest: "
            + ", ".join(f"{name} {b / mib:.0f} MiB" for b, name in biggest) + ".",
            f"- TensorFlow references: {tf_total / mib:.0f} MiB, the files of "
            f"{', '.join(TF_ROOTS)} and everything they require ({len(tf_bytes)} "
            "distributions, from the installed metadata of the dev venv). Largest: "
            + ", ".join(f"{d} {b / mib:.0f} MiB" for d, b in top_tf) + "."]
    cold = float(np.median(fresh_runs[INT8].cold_s))
    rss_mb = fresh_runs[INT8].peak_rss_mib * mib / 1e6
    out += ["", "## Against the aims (edge-alpr int8)", "",
            "| aim | measured | |", "|---|---:|---|",
            _aim(f"end-to-end p50 ≤ {TARGET_P50_MS:g} ms", f"{base:.2f} ms",
                 base <= TARGET_P50_MS, f"{base - TARGET_P50_MS:.2f} ms over "
                 f"({base / TARGET_P50_MS:.2f}× the aim)"),
            _aim(f"≥ {TARGET_VS_ORIGINAL:g}× faster than TF original",
                 f"{med[ORIGINAL][TOTAL] / base:.1f}×",
                 med[ORIGINAL][TOTAL] / base >= TARGET_VS_ORIGINAL,
                 f"{TARGET_VS_ORIGINAL * base - med[ORIGINAL][TOTAL]:.2f} ms per frame short"),
            _aim(f"≥ {TARGET_VS_TUNED:g}× faster than TF tuned",
                 f"{med[TUNED][TOTAL] / base:.2f}×", med[TUNED][TOTAL] / base >= TARGET_VS_TUNED,
                 f"{TARGET_VS_TUNED * base - med[TUNED][TOTAL]:.2f} ms per frame short"),
            _aim(f"cold start ≤ {TARGET_COLD_S:g} s", f"{cold:.2f} s", cold <= TARGET_COLD_S,
                 f"{cold - TARGET_COLD_S:.2f} s over"),
            _aim(f"peak RSS ≤ {TARGET_RSS_MB:g} MB", f"{rss_mb:.0f} MB", rss_mb <= TARGET_RSS_MB,
                 f"{rss_mb - TARGET_RSS_MB:.0f} MB over"),
            "", "## Where edge-alpr's time goes", "",
            "Stage shares of the summed stage medians (int8): " + ", ".join(
                f"{s} {med[INT8][s] / sum(med[INT8][x] for x in STAGES):.0%}" for s in STAGES)
            + ".", "",
            "cProfile of edge-alpr int8 over 3 passes of the frames, by own time (profiling "
            "inflates Python-heavy code):", "", where,
            "", "## Models", "",
            "The TensorFlow pipelines load the Keras checkpoints the shipped ONNX models were "
            "exported from, committed under `benchmarks/keras/`:", ""]
    for path, onnx in ((DETECTOR_KERAS, "models/detector_*.onnx (runs/detector_glare/last.keras)"),
                       (CHECK_KERAS, "models/plate_check_*.onnx (runs/verifier_blur/last.keras)"),
                       (CHARS_KERAS, "models/chars_*.onnx (runs/chars/last.keras)")):
        out.append(f"- `{path.relative_to(REPO)}` sha256 `{sha256(path)}`: {onnx}")
    return "\n".join(out) + "\n"


def _aim(what: str, measured: str, met: bool, miss: str) -> str:
    return f"| {what} | {measured} | {'met' if met else 'missed: ' + miss} |"


def _loads(loads: Sequence[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in loads)


if __name__ == "__main__":
    main()
