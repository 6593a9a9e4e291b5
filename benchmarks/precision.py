"""Which precision runs each model faster on this CPU: the whole reader in fp32 against INT8,
alternating in one process, per pipeline stage.

    python -m benchmarks.precision [--threads 1 2] [--rounds 5] [--runs 40] [image ...]

Frames: the given images, else the real photos when ../shared is there, else the bundled
sample; decoded to grayscale once. Each round reads ``--runs`` frames with each reader in
turn (the order alternating), so a busy minute of the shared host falls on both. Per stage,
the median over all rounds of the per-frame milliseconds and the INT8 / fp32 ratio: below 1,
INT8 is faster. "detector" is the detector's model call; "plate_check" and "char_cnn" also
cut their crops. The plates read by both readers are compared and the differences counted.
What ``--precision auto`` runs is in ``edge_alpr.models.AUTO_PRECISION``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from edge_alpr.bench import sample_frames, time_frames
from edge_alpr.image import read_gray
from edge_alpr.models import FP32, INT8
from edge_alpr.pipeline import PlateReader

REAL = Path(__file__).resolve().parent.parent.parent / "shared/data/mongolian-alpr/images"
MODEL_STAGES = ("detector", "plate_check", "char_cnn", "total")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("images", nargs="*", type=Path)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    paths = args.images or sorted(REAL.glob("*.jpg")) or sample_frames()
    frames = [read_gray(p) for p in paths]
    print(f"{len(frames)} frames, {args.rounds} rounds of {args.runs} per reader; load "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| threads | stage | fp32 p50 ms | INT8 p50 ms | INT8 / fp32 |")
    print("|---|---|---|---|---|")
    for threads in args.threads:
        readers = {p: PlateReader(threads=threads, precision=p) for p in (FP32, INT8)}
        differ = sum([r.text for r in readers[FP32].read(f)] != [r.text for r in
                                                              readers[INT8].read(f)]
                     for f in frames)
        ms: dict[str, dict[str, list[float]]] = {p: {s: [] for s in MODEL_STAGES}
                                                 for p in readers}
        for r in range(args.rounds):
            order = (FP32, INT8) if r % 2 == 0 else (INT8, FP32)
            for p in order:
                start = (r * args.runs) % len(frames)
                batch = (frames[start:] + frames[:start])[:args.runs]
                times = time_frames(readers[p], batch, len(batch), warmup=2)
                for s in MODEL_STAGES:
                    ms[p][s] += times[s]
        for s in MODEL_STAGES:
            f, i = (float(np.median(ms[p][s])) for p in (FP32, INT8))
            print(f"| {threads} | {s} | {f:.2f} | {i:.2f} | {i / f:.2f} |")
        print(f"threads {threads}: {differ} of {len(frames)} frames read differently")
    print(f"load after {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
