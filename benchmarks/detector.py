"""Detector latency: INT8 against fp32, and the fp32 detector with its plate check (fp32 and
INT8), alternating in one run, on the same frames.

    python -m benchmarks.detector [--models models] [--threads 2] [--runs 200]

Frames: the validation photos when ../shared is there, else synthetic frames (noise).
Prints p50/p95 of the model call alone and of the whole detect (letterbox + model + decode,
+ the check for the cascades), and the ratios of the medians.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from edge_alpr.detector import Detector, letterbox
from edge_alpr.image import to_gray
from edge_alpr.pipeline import PlateReader
from edge_alpr.session import OnnxModel
from edge_alpr.verifier import PlateVerifier
from export.data import DATA_DIR, photos, read_gray, split


def frames() -> list[np.ndarray]:
    if (DATA_DIR / "plates.csv").is_file():
        return [read_gray(p) for p in split(photos())[1]]
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (1080, 1920), dtype=np.uint8) for _ in range(4)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=Path, default=Path("models"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()

    def model(name: str) -> OnnxModel:
        return OnnxModel(args.models / f"{name}.onnx", threads=args.threads)

    detectors = {p: Detector(model(f"detector_{p}")) for p in ("fp32", "int8")}
    cascades = {f"fp32+check_{p}": PlateReader(
        threads=args.threads, detector=detectors["fp32"],
        plate_check=PlateVerifier(model(f"plate_check_{p}"))) for p in ("fp32", "int8")}
    imgs = frames()
    inputs = [letterbox(to_gray(f), detectors["fp32"].input_hw)[0][None, :, :, None]
              for f in imgs]
    model_ms: dict[str, list[float]] = {p: [] for p in ("fp32", "int8")}
    detect = {**detectors, **{p: reader.detect for p, reader in cascades.items()}}
    full_ms: dict[str, list[float]] = {p: [] for p in detect}
    for i in range(args.warmup + args.runs):
        for p, det in detect.items():  # alternate, so load changes hit both alike
            x, img = inputs[i % len(inputs)], imgs[i % len(imgs)]
            t0 = time.perf_counter()
            if p in model_ms:
                detectors[p].model.run(x)
            t1 = time.perf_counter()
            det(img)
            t2 = time.perf_counter()
            if i >= args.warmup:
                if p in model_ms:
                    model_ms[p].append((t1 - t0) * 1e3)
                full_ms[p].append((t2 - t1) * 1e3)
    print(f"{args.runs} runs, {args.threads} threads, {len(imgs)} frames "
          f"{imgs[0].shape[1]}×{imgs[0].shape[0]}")
    for name, table in (("model", model_ms), ("detect", full_ms)):
        for p, ms in table.items():
            p50, p95 = np.median(ms), np.percentile(ms, 95)
            print(f"{name:6s} {p}: p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
        for p in table:
            if p != "fp32":
                ratio = np.median(table[p]) / np.median(table["fp32"])
                print(f"{name:6s} {p}/fp32 median ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
