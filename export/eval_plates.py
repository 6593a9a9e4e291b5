"""Plate text from the annotated plate boxes (the reading stages alone, no detector).

    python -m export.eval_plates [--split val|train|gate] [--models DIR]

For each annotated plate of the split, the runtime cuts the box (with the segmentation's
margin), segments, classifies with the shipped character model (INT8 and fp32) and decodes
with the plate grammar. Prints exact-text rates per layout and every miss. ``gate`` reads
the gate crops' validation split, each crop whole as the plate's box (labels as checked in
``export/gate_val_checked.csv`` where that has them, else machine-made: the output says
which). ``--models`` scores other character model files than the shipped ones.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edge_alpr.detector import Detection
from edge_alpr.geometry import Box
from edge_alpr.models import CHARS, FP32, INT8, bundled_model, model_file_name
from edge_alpr.pipeline import read_plate
from edge_alpr.recognizer import Recognizer
from edge_alpr.session import OnnxModel

from .data import photos, read_gray, split
from .gate_chars import read_crop
from .gate_data import CHECKED_VAL, gate_split


def plates(which: str) -> Iterator[tuple[str, np.ndarray, Box, str, str]]:
    """(name, gray image, plate box, true text, layout) of each plate of the split."""
    if which == "gate":
        for crop in gate_split()[1]:
            image = read_crop(crop)
            h, w = image.shape
            yield crop.path.name, image, Box(0.0, 0.0, float(w), float(h)), crop.text, crop.layout
        return
    train, val = split(photos())
    for photo in val if which == "val" else train:
        gray = read_gray(photo)
        for plate in photo.plates:
            yield photo.name, gray, plate.box, plate.text, plate.layout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=("val", "train", "gate"), default="val")
    ap.add_argument("--models", type=Path, help="folder with chars_fp32/int8.onnx to score "
                    "instead of the shipped ones")
    args = ap.parse_args()
    if args.split == "gate":
        print("gate labels: " + (f"as checked in {CHECKED_VAL.name}" if CHECKED_VAL.is_file()
                                 else "machine-made, NOT checked (no gate_val_checked.csv yet)"))
    for precision in (INT8, FP32):
        path = (args.models / model_file_name(CHARS, precision) if args.models
                else bundled_model(CHARS, precision).path)
        recognizer = Recognizer(OnnxModel(path, threads=1))
        total, exact, misses = Counter(), Counter(), []
        for name, gray, box, text, layout in plates(args.split):
            read = read_plate(gray, Detection(box, 1.0), recognizer)
            total[layout] += 1
            if read.text == text:
                exact[layout] += 1
            else:
                misses.append(f"{name} {text} → {read.text or '-'}")
        rates = ", ".join(f"{layout} {exact[layout]}/{n} ({exact[layout] / n:.1%})"
                          for layout, n in sorted(total.items()))
        print(f"{precision} {args.split}: exact plate text {sum(exact.values())}/"
              f"{sum(total.values())}; {rates}")
        for m in misses:
            print(f"  {m}")


if __name__ == "__main__":
    main()
