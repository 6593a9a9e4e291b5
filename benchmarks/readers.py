"""The readers against each other on the same decoded frames: per-stage and whole-frame
latency, alternating frame by frame in one process (as ``benchmarks.compare`` does), and the
plates each reads.

    python -m benchmarks.readers [--rounds 6] [--threads 2] [--condition NAME] [--without LOOK]

Frames: the bundled sample frames, plus the validation photos when ../shared/data is there;
``--condition`` degrades them with one of the condition suite's conditions (``export.conditions``,
as on a photo frame), ``--without deblur`` (or ``level``) adds ``both`` without that look of
``PlateOCR`` (``deblur=False``, ``level=False``) to see what the look costs.
Prints a markdown table: p50/p95 per frame, the median of each stage, and each reader's p50 as
a ratio of the segmentation reader's (the default before the whole-plate recognizer).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from edge_alpr.bench import STAGES, TOTAL
from edge_alpr.pipeline import BOTH, READERS, SEGMENTS, PlateReader
from edge_alpr.plate_ocr import PlateOCR

from .alternating import alternate, degraded, frames, texts

LOOKS = ("deblur", "level")  # PlateOCR's looks that a flag turns off


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    # A name, checked when used: the suite (export.conditions) needs the export extra, which
    # timing the clean frames does not.
    ap.add_argument("--condition", metavar="NAME",
                    help="degrade the frames with this condition of the suite (export.conditions)")
    ap.add_argument("--without", action="append", choices=LOOKS, default=[], metavar="LOOK",
                    help=f"add 'both' without this look ({', '.join(LOOKS)}) beside the readers;"
                         " repeat for more")
    args = ap.parse_args()
    try:
        imgs = degraded(frames(), args.condition) if args.condition else frames()
    except ValueError as e:
        ap.error(str(e))
    readers = {name: PlateReader(threads=args.threads, reader=name) for name in READERS}
    for look in args.without:  # the same model session, read without the look
        plain = PlateOCR(readers[BOTH].plate_ocr.model, **{look: False})
        # The level look is also the segmentation path's (PlateReader's level).
        off = {"level": False} if look == "level" else {}
        readers[f"both, no {look} look"] = PlateReader(threads=args.threads, reader=BOTH,
                                                       plate_ocr=plain, **off)
        if off:
            readers["segments, no level look"] = PlateReader(threads=args.threads,
                                                             reader=SEGMENTS, **off)
    for reader in readers.values():  # warm up: first-call allocations
        for f in imgs:
            reader.read(f.image)
    loads = [os.getloadavg()[0]]
    ms = alternate(readers, imgs, args.rounds, loads)
    base = float(np.median(ms[SEGMENTS][TOTAL]))
    print(f"{len(imgs)} frames{f' under {args.condition}' if args.condition else ''} × "
          f"{args.rounds} rounds, threads {args.threads}, "
          f"load {min(loads):.1f}-{max(loads):.1f}\n")
    used = [s for s in STAGES if any(np.median(ms[n][s]) > 0 for n in readers)]
    print("| reader | p50 ms | p95 ms | vs segments | " + " | ".join(used) + " |")
    print("|---|---|---|---|" + "---|" * len(used))
    for name in readers:
        total = ms[name][TOTAL]
        stages = " | ".join(f"{np.median(ms[name][s]):.2f}" for s in used)
        print(f"| {name} | {np.median(total):.2f} | {np.percentile(total, 95):.2f} | "
              f"{np.median(total) / base:.2f} | {stages} |")
    print()
    for f in imgs:
        reads = {name: texts(r, f.image) for name, r in readers.items()}
        print(f"{f.name}: " + "; ".join(f"{n} {' '.join(t) or '-'}" for n, t in reads.items()))


if __name__ == "__main__":
    main()
