"""Execution providers against each other on the same decoded frames, for a machine with an
accelerator: which provider each model really runs on, whether the plates read match the CPU's,
and per-frame latency, the configurations alternating frame by frame in one process.

    python -m benchmarks.providers [images ...] [--provider cpu --provider cuda]
        [--precision fp32 --precision int8] [--rounds 10] [--threads N] [--reader both]

Frames: the images given (files, folders, globs), else the bundled sample frames plus the
validation photos when ../shared/data is there. A provider this onnxruntime lacks, or one that
fails to start, falls back to the CPU as edge-alpr does for a user; the table shows what ran.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime

from edge_alpr.bench import TOTAL
from edge_alpr.errors import EdgeAlprError
from edge_alpr.image import read_gray
from edge_alpr.inputs import expand
from edge_alpr.pipeline import DEFAULT_READER, READERS, PlateReader, PlateResult

from .alternating import Frame, alternate, frames

# The providers edge-alpr is asked for, per name given here: TensorRT with CUDA behind it, as
# the README's Jetson steps run it.
CHAINS: dict[str, tuple[str, ...]] = {"cpu": ("cpu",), "cuda": ("cuda",),
                                      "tensorrt": ("tensorrt", "cuda")}
_SHORT = {"CPUExecutionProvider": "CPU", "CUDAExecutionProvider": "CUDA",
          "TensorrtExecutionProvider": "TensorRT"}


@dataclass(frozen=True)
class Agreement:
    """How one configuration's reads compare with a reference's over the same frames."""

    frames: int
    same_texts: int  # frames whose set of plate texts is the reference's
    box_px: float  # largest corner difference of matched plates, pixels
    confidence: float  # largest difference of matched plates' confidences


def agreement(reads: Sequence[Sequence[PlateResult]], ref: Sequence[Sequence[PlateResult]]
              ) -> Agreement:
    """Frame by frame, plates matched by text (the reference's order otherwise)."""
    same, box, conf = 0, 0.0, 0.0
    for got, want in zip(reads, ref, strict=True):
        same += sorted(p.text for p in got) == sorted(p.text for p in want)
        by_text = {p.text: p for p in got}
        for w in want:
            g = by_text.get(w.text)
            if g is None:
                continue
            corners = np.subtract(g.box.as_list(), w.box.as_list())
            box = max(box, float(np.abs(corners).max()))
            conf = max(conf, abs(g.confidence - w.confidence))
    return Agreement(len(ref), same, box, conf)


def in_use(reader: PlateReader) -> str:
    """The providers each model's session runs on, e.g. ``detector CUDA+CPU``."""
    return ", ".join(f"{role} {'+'.join(_SHORT.get(p, p) for p in m.providers)}"
                     for role, m in reader.models.items())


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("images", nargs="*", help="files, folders or globs (default: see above)")
    ap.add_argument("--provider", action="append", choices=list(CHAINS), dest="providers",
                    help="repeatable; the first is the reference (default: cpu, cuda)")
    ap.add_argument("--precision", action="append", choices=["fp32", "int8"],
                    dest="precisions", help="repeatable (default: fp32, int8)")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--threads", type=int, help="CPU intra-op threads (default: onnxruntime's)")
    ap.add_argument("--reader", choices=READERS, default=DEFAULT_READER)
    args = ap.parse_args(argv)
    imgs = ([Frame(p.name, read_gray(p), False) for p in expand(args.images)]
            if args.images else frames())
    print(f"onnxruntime {onnxruntime.__version__}; available: "
          f"{', '.join(onnxruntime.get_available_providers())}")
    readers: dict[str, PlateReader] = {}
    start_s: dict[str, float] = {}
    for provider in args.providers or ["cpu", "cuda"]:
        for precision in args.precisions or ["fp32", "int8"]:
            name = f"{provider}/{precision}"
            t0 = time.perf_counter()
            try:
                reader = PlateReader(providers=CHAINS[provider], threads=args.threads,
                                     precision=precision, reader=args.reader)
                reader.read(imgs[0].image)  # the first frame: CUDA context, engine builds
            except EdgeAlprError as e:  # reported, and the other configurations go on
                print(f"{name}: failed: {e}", flush=True)
                continue
            readers[name] = reader
            start_s[name] = time.perf_counter() - t0
            print(f"{name}: {in_use(readers[name])}", flush=True)
    reads = {n: [r.read(f.image) for f in imgs] for n, r in readers.items()}
    loads = [os.getloadavg()[0]]
    ms = alternate(readers, imgs, args.rounds, loads)
    names = list(readers)
    base = float(np.median(ms[names[0]][TOTAL]))
    print(f"\n{len(imgs)} frames × {args.rounds} rounds, reader {args.reader}, CPU threads "
          f"{args.threads or 'default'}, load {min(loads):.1f}-{max(loads):.1f}; reads "
          f"compared with the same precision's first provider\n")
    print("| configuration | load + first frame s | p50 ms | p95 ms | p50 vs "
          f"{names[0]} | frames read alike | box Δ px | confidence Δ |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        ref = next(n for n in names if n.split("/")[1] == name.split("/")[1])
        a = agreement(reads[name], reads[ref])
        total = ms[name][TOTAL]
        print(f"| {name} | {start_s[name]:.2f} | {np.median(total):.2f} | "
              f"{np.percentile(total, 95):.2f} | {np.median(total) / base:.2f} | "
              f"{a.same_texts}/{a.frames} | {a.box_px:.2g} | {a.confidence:.2g} |")
    print()
    for f, *per in zip(imgs, *reads.values(), strict=True):
        shown = [" ".join(sorted(p.text for p in r)) or "-" for r in per]
        print(f"{f.name}: " + (f"all {shown[0]}" if len(set(shown)) == 1 else
                               "; ".join(f"{n} {t}" for n, t in zip(names, shown, strict=True))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
