"""Plate text from the annotated plate boxes (the reading stages alone, no detector).

    python -m export.eval_plates [--split val|train]

For each annotated plate of the split, the runtime cuts the box (with the segmentation's
margin), segments, classifies with the shipped character model (INT8 and fp32) and decodes
with the plate grammar. Prints exact-text rates per layout and every miss.
"""

from __future__ import annotations

import argparse
from collections import Counter

from edge_alpr.detector import Detection
from edge_alpr.models import CHARS, FP32, INT8, bundled_model
from edge_alpr.pipeline import read_plate
from edge_alpr.recognizer import Recognizer
from edge_alpr.session import OnnxModel

from .data import photos, read_gray, split


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=("val", "train"), default="val")
    args = ap.parse_args()
    train, val = split(photos())
    chosen = val if args.split == "val" else train
    for precision in (INT8, FP32):
        recognizer = Recognizer(OnnxModel(bundled_model(CHARS, precision).path))
        total, exact, misses = Counter(), Counter(), []
        for photo in chosen:
            gray = read_gray(photo)
            for plate in photo.plates:
                read = read_plate(gray, Detection(plate.box, 1.0), recognizer)
                total[plate.layout] += 1
                if read.text == plate.text:
                    exact[plate.layout] += 1
                else:
                    misses.append(f"{photo.name} {plate.text} → {read.text or '-'}")
        rates = ", ".join(f"{layout} {exact[layout]}/{n} ({exact[layout] / n:.0%})"
                          for layout, n in sorted(total.items()))
        print(f"{precision} {args.split}: exact plate text {sum(exact.values())}/"
              f"{sum(total.values())}; {rates}")
        for m in misses:
            print(f"  {m}")


if __name__ == "__main__":
    main()
