"""Soak and fuzz ``read`` (not CI: minutes of CPU).

    python -m benchmarks.soak_fuzz [--reads 10000] [--arrays 10000] [--files 10000]
                                   [--frames DIR] [--seed 0]

1. Soak: ``--reads`` reads of real frames (the photos of ../shared, cycled) through the code
   ``edge-alpr read`` runs (:func:`edge_alpr.batch.read_files`, default workers, malloc as the
   command sets it), the process's resident memory sampled every 100 reads. Memory must stay
   flat: the growth from the sample after the first 10% of reads to the last, and the slope of
   a line fitted through the samples after that, are printed. Every frame must read the same
   plates every time it comes round.
2. Fuzz arrays: ``--arrays`` random arrays (dtypes, shapes, channel counts, sizes from empty to
   4000 px, noise, flat, stripes) through ``PlateReader.read``: each must give plates or raise
   one of the project's errors (EdgeAlprError); anything else is a failure, listed.
3. Fuzz files: ``--files`` broken files (real JPEGs truncated or with bytes changed, random
   bytes behind JPEG/PNG/BMP headers, PNG headers declaring absurd sizes, empty files) in
   folders of 500, read with ``read_files`` as ``read`` reads them; then the real
   ``edge-alpr read --json`` on one such folder: exit 1, one line per file, no traceback.

Exit status 1 when any check fails. Figures go to the README ("Soak and fuzz").
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

from edge_alpr.batch import read_file, read_files
from edge_alpr.errors import EdgeAlprError
from edge_alpr.pipeline import PlateReader
from edge_alpr.session import reuse_malloc

REAL = Path(__file__).resolve().parent.parent.parent / "shared/data/mongolian-alpr/images"
RSS_EVERY = 100
FOLDER_SIZE = 500


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def soak(reader: PlateReader, frames: list[Path], reads: int) -> bool:
    texts: dict[Path, list[str]] = {}
    samples: list[tuple[int, float]] = []
    changed = 0
    t0 = time.perf_counter()
    paths = itertools.islice(itertools.cycle(frames), reads)
    for i, done in enumerate(read_files(reader, paths), 1):
        if done.error is not None:
            print(f"  soak: {done.path}: {done.error}")
            return False
        got = [p.text for p in done.plates]
        changed += texts.setdefault(done.path, got) != got
        if i % RSS_EVERY == 0:
            samples.append((i, rss_mib()))
    seconds = time.perf_counter() - t0
    settled = [(i, m) for i, m in samples if i >= reads // 10]
    growth = settled[-1][1] - settled[0][1]
    slope = np.polyfit([i for i, _ in settled], [m for _, m in settled], 1)[0] * 1000
    print(f"soak: {reads} reads of {len(frames)} frames in {seconds:.0f} s "
          f"({reads / seconds:.1f} files/s, load {os.getloadavg()[0]:.1f}); RSS MiB: after "
          f"{samples[0][0]} reads {samples[0][1]:.1f}, after {settled[0][0]} "
          f"{settled[0][1]:.1f}, max {max(m for _, m in samples):.1f}, last "
          f"{samples[-1][1]:.1f}; growth after {settled[0][0]} reads {growth:+.1f} MiB, "
          f"slope {slope:+.3f} MiB per 1000 reads; frames read differently on a later "
          f"round: {changed}")
    step = max(1, len(samples) // 10)
    print("  RSS MiB by reads: " + ", ".join(f"{i}: {m:.1f}" for i, m in samples[::step]))
    return growth < 5 and changed == 0


def random_array(rng: np.random.Generator) -> object:
    kind = rng.integers(12)
    if kind == 0:  # not an array at all
        return [[1, 2], [3, 4]] if rng.random() < 0.5 else None
    dtype = rng.choice([np.uint8, np.uint8, np.uint8, np.uint16, np.float32, np.float64,
                        np.int32, np.int8, np.bool_])
    ndim = int(rng.choice([0, 1, 2, 2, 3, 3, 3, 4]))
    side = lambda: int(rng.choice([0, 1, 2, 7, 31, 64, 333, 640, 1080, 1920,  # noqa: E731
                                   int(rng.integers(1, 4000))]))
    h, w = side(), side()
    while h * w > 8_000_000:
        h, w = max(1, h // 2), max(1, w // 2)
    shape = {0: (), 1: (w,), 2: (h, w), 3: (h, w, int(rng.choice([1, 2, 3, 4, 5]))),
             4: (1, h, w, 3)}[ndim]
    pattern = rng.integers(3)
    if pattern == 0:
        a = rng.integers(0, 256, shape) if dtype != np.bool_ else rng.random(shape) < 0.5
    elif pattern == 1:
        a = np.full(shape, rng.integers(0, 256))
    else:  # stripes: edges everywhere, which the detector and segmentation may take for text
        a = (np.indices(shape).sum(axis=0) // max(1, int(rng.integers(1, 40))) % 2) * 255 \
            if shape else np.zeros(())
    a = a.astype(dtype)
    if dtype == np.uint16:
        a = a * 257
    return a


def fuzz_arrays(reader: PlateReader, n: int, rng: np.random.Generator) -> bool:
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    t0 = time.perf_counter()
    for _ in range(n):
        a = random_array(rng)
        try:
            reader.read(a)
            outcomes["read"] += 1
        except EdgeAlprError as e:
            outcomes[type(e).__name__] += 1
        except Exception as e:  # noqa: BLE001  what the fuzzing is for
            desc = f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
            failures.append(f"{desc}: {type(e).__name__}: {e}")
    print(f"fuzz arrays: {n} in {time.perf_counter() - t0:.0f} s: {dict(outcomes)}; "
          f"other exceptions: {len(failures)}")
    for f in failures[:20]:
        print(f"  {f}")
    return not failures


def png(width: int, height: int, body: bytes) -> bytes:
    """A PNG signature and IHDR declaring ``width`` × ``height`` 8-bit gray, then ``body``."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)) + body)


def broken_file(rng: np.random.Generator, jpegs: list[bytes]) -> bytes:
    real = jpegs[rng.integers(len(jpegs))]
    kind = rng.integers(7)
    if kind == 0:
        return real[: int(rng.integers(0, len(real)))]
    if kind in (1, 2):  # some bytes changed (header or body)
        data = bytearray(real)
        span = 600 if kind == 1 else len(data)
        for _ in range(int(rng.integers(1, 30))):
            data[int(rng.integers(0, span))] = int(rng.integers(256))
        return bytes(data)
    if kind == 3:
        header = [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"BM", b"II*\x00", b""][
            rng.integers(5)]
        return header + rng.bytes(int(rng.integers(0, 20000)))
    if kind == 4:
        sizes = [0, 1, 65535, 100_000, 2**31 - 1]
        return png(int(rng.choice(sizes)), int(rng.choice(sizes)), rng.bytes(100))
    if kind == 5:
        return b""
    return real[: len(real) // 2] + rng.bytes(int(rng.integers(0, 5000)))


def fuzz_files(reader: PlateReader, n: int, rng: np.random.Generator,
               jpegs: list[bytes]) -> bool:
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="edge-alpr-fuzz-") as tmp:
        last = None
        for start in range(0, n, FOLDER_SIZE):
            folder = Path(tmp) / f"{start:06d}"
            folder.mkdir()
            paths = []
            for i in range(start, min(n, start + FOLDER_SIZE)):
                paths.append(folder / f"{i:06d}.{['jpg', 'png', 'bmp'][i % 3]}")
                paths[-1].write_bytes(broken_file(rng, jpegs))
            try:
                for done in read_files(reader, paths):
                    outcomes["error" if done.error else "read"] += 1
            except Exception:  # noqa: BLE001  find the file, one at a time
                for p in paths:
                    try:
                        read_file(reader, p)
                    except Exception as e:  # noqa: BLE001
                        failures.append(f"{p.name}: {type(e).__name__}: {e}")
            if last is not None:
                for p in last.iterdir():
                    p.unlink()
                last.rmdir()
            last = folder
        cli = subprocess.run([sys.executable, "-m", "edge_alpr.cli", "read", "--json",
                              str(last)], capture_output=True, text=True, timeout=600)
        lines = cli.stdout.splitlines()
        expected = len(list(last.iterdir()))
        cli_ok = (cli.returncode in (0, 1) and "Traceback" not in cli.stderr
                  and len(lines) == expected and all(json.loads(x) for x in lines))
    print(f"fuzz files: {n} in {time.perf_counter() - t0:.0f} s: {dict(outcomes)}; "
          f"other exceptions: {len(failures)}; edge-alpr read on the last folder: exit "
          f"{cli.returncode}, {len(lines)} lines for {expected} files, traceback "
          f"{'yes' if 'Traceback' in cli.stderr else 'no'}")
    for f in failures[:20]:
        print(f"  {f}")
    return not failures and cli_ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reads", type=int, default=10_000)
    ap.add_argument("--arrays", type=int, default=10_000)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--frames", type=Path, default=REAL)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    frames = sorted(args.frames.glob("*.jpg"))
    if not frames:
        sys.exit(f"no frames in {args.frames}")
    reuse_malloc()  # as edge-alpr read does
    reader = PlateReader(threads=1)  # as edge-alpr read does with several workers
    rng = np.random.default_rng(args.seed)
    ok = [soak(reader, frames, args.reads) if args.reads else True,
          fuzz_arrays(reader, args.arrays, rng) if args.arrays else True,
          fuzz_files(reader, args.files, rng, [p.read_bytes() for p in frames])
          if args.files else True]
    print("OK" if all(ok) else "FAILED")
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
