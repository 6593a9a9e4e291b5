"""Propose fixes for the gate training crops' machine labels where both readers disagree with
the label: ``export/gate_train_fixes.csv`` (image, machine_text, text; "" drops the crop).

    python -m export.gate_relabel --whole runs/ocr_v4/models/plate_ocr_fp32.onnx \
        [--chars CHARS.onnx] [--out export/gate_train_fixes.csv] [--sheets out/relabel]

The segmentation reader reads with the bundled character model, or ``--chars``: the shipped
file was made with the one before the character model learned from gate crops (the model
card says how to get it), which never trained on these crops. The whole-plate model given
here did, with the labels as they were.

A label is replaced when both readers read the same standard plate text that differs from
it. A crop is dropped when both read something else than the label, each with confidence at
least MIN_CONFIDENCE, but not the same thing; and when the whole-plate model, though it
trained on the label, reads a text that differs from it in FAR_OFF characters or more
(checked by eye on the third model's sheets: a crop of no plate, a headlight or a logo, or
another car's text). Everything else keeps its label. ``--sheets`` draws every proposal for
checking by eye (real crops: to an ignored folder).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2

from edge_alpr.pipeline import SEGMENTS, WHOLE, PlateReader
from edge_alpr.plate_ocr import PlateOCR
from edge_alpr.recognizer import Recognizer
from edge_alpr.session import OnnxModel
from export.gate_data import GATE_DIR, TRAIN_FIXES, gate_split

MIN_CONFIDENCE = 0.5
FAR_OFF = 3
# Both readers lean the same way as the labels' OCR: a Д, Л, Я or М read as А or Н. Where a
# label has one of these and both readers read its look-alike, the label is kept: checked by
# eye on the first proposals, those labels were right (e.g. УБД read as УБА).
BIASED = {"Д": "А", "Л": "А", "Я": "Н", "М": "Н"}


def against_bias(label: str, read: str) -> bool:
    """Whether ``read`` differs from ``label`` where the readers are known to err."""
    return any(BIASED.get(a) == b for a, b in zip(label, read, strict=True))


def far_off(label: str, read: str) -> bool:
    """Whether ``read`` differs from ``label`` in FAR_OFF characters or more."""
    if len(read) != len(label):
        return True
    return sum(a != b for a, b in zip(label, read, strict=True)) >= FAR_OFF


def propose(whole_model: Path, chars_model: Path | None = None
            ) -> list[tuple[str, str, str, str, str]]:
    """(image, label, new text or "", segments' reading, whole's reading) per proposal."""
    recognizer = Recognizer(OnnxModel(chars_model, threads=2)) if chars_model else None
    segments = PlateReader(threads=2, reader=SEGMENTS, recognizer=recognizer)
    whole = PlateReader(threads=2, reader=WHOLE, plate_ocr=PlateOCR(OnnxModel(whole_model,
                                                                              threads=2)))
    out = []
    for crop in gate_split(train_fixes=False)[0]:
        gray = cv2.imread(str(crop.path), cv2.IMREAD_GRAYSCALE)
        s, w = segments.read_crop(gray, crop.path), whole.read_crop(gray, crop.path)
        if crop.text in (s.text, w.text):
            continue
        if s.text == w.text and s.matches_pattern and not against_bias(crop.text, s.text):
            out.append((crop.path.name, crop.text, s.text, s.text, w.text))
        elif (s.text != w.text and min(s.confidence, w.confidence) >= MIN_CONFIDENCE
              or far_off(crop.text, w.text)):
            out.append((crop.path.name, crop.text, "", s.text, w.text))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--whole", type=Path, required=True, help="whole-plate ONNX model")
    ap.add_argument("--chars", type=Path, help="character ONNX model (default: the bundled one)")
    ap.add_argument("--out", type=Path, default=TRAIN_FIXES)
    ap.add_argument("--sheets", type=Path)
    args = ap.parse_args()
    rows = propose(args.whole, args.chars)
    with args.out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["image", "machine_text", "text"])
        w.writerows(r[:3] for r in rows)
    fixed = sum(bool(r[2]) for r in rows)
    print(f"{args.out}: {fixed} labels replaced, {len(rows) - fixed} crops dropped")
    if args.sheets:
        from export.gate_sheet import write_sheets

        items = [(GATE_DIR / "images" / r[0], [r[0], f"{r[1]} → {r[2] or 'drop'} "
                                               f"(s {r[3] or '-'} w {r[4] or '-'})"])
                 for r in rows]
        for p in write_sheets(items, args.sheets):
            print(p)


if __name__ == "__main__":
    main()
