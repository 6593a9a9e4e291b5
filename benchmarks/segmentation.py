"""Time the segmentation per plate: the fast path against the scikit-image reference.

    python -m benchmarks.segmentation [--rounds 15]

Both run on every real plate crop, alternating which goes first, on one thread; the
medians over all calls and their ratio are printed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import cv2
import numpy as np

from edge_alpr.segment import CROP_PAD, segment
from export.data import photos, plate_crops
from tests.reference_segment import reference_segment


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    crops = [crop for _, _, crop in plate_crops(photos(), CROP_PAD)]
    runs: dict[str, Callable[[np.ndarray], object]] = {"fast": segment,
                                                       "reference": reference_segment}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for name in runs:  # warm-up: imports, caches
        runs[name](crops[0])
    for r in range(args.rounds):
        for i, crop in enumerate(crops):
            order = list(runs) if (r + i) % 2 == 0 else list(runs)[::-1]
            for name in order:
                t0 = time.perf_counter()
                runs[name](crop)
                times[name].append(time.perf_counter() - t0)
    med = {name: float(np.median(t)) * 1e3 for name, t in times.items()}
    print(f"{len(crops)} plate crops × {args.rounds} rounds, 1 thread")
    for name, ms in med.items():
        print(f"{name:<10} median {ms:7.3f} ms/plate")
    print(f"reference / fast: {med['reference'] / med['fast']:.1f}×")


if __name__ == "__main__":
    main()
