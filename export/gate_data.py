"""The gate-camera plate crops (``../shared/data/gate-crops``): labels, layout, split by text.

The labels are an OCR's, not a person's (about one in ten wrong, see the data's README). Only
labels that fit the plate grammar are used; the validation split is every crop whose text
hashes into it, so a plate text never appears on both sides, and its labels were checked by
eye crop by crop: ``export/gate_val_checked.csv`` holds the checked text of every validation
crop ("" where the crop is no plate, no standard plate or not surely readable). A checked
text can differ from the hashed one (the OCR gave a crop its neighbour's text); training
leaves out every crop labelled with a validation text, so no plate is on both sides.
Training labels are as the OCR wrote them, less those corrected in
``export/gate_train_fixes.csv`` (proposed by ``export.gate_relabel`` from the readers) and then
in ``export/gate_train_eyes.csv`` (image, label, text: corrected by eye on sheets of the crops
where the whole-plate model disagreed with its own training label; "" drops the crop).

    python -m export.gate_data            # counts per split and layout
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2

from edge_alpr.annotations import TWO_ROW, layout_of
from edge_alpr.grammar import PATTERN

GATE_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gate-crops"
CHECKED_VAL = Path(__file__).resolve().parent / "gate_val_checked.csv"
TRAIN_FIXES = Path(__file__).resolve().parent / "gate_train_fixes.csv"
TRAIN_EYES = Path(__file__).resolve().parent / "gate_train_eyes.csv"
# One plate text in VAL_BUCKETS goes to validation (by a hash of the text, stable across runs).
VAL_BUCKETS = 12


@dataclass(frozen=True)
class GateCrop:
    path: Path
    text: str  # the label used: the OCR's, or the checked one for validation and fixes
    layout: str  # ONE_ROW or TWO_ROW, from the crop's aspect


def is_val_text(text: str) -> bool:
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    return digest[0] % VAL_BUCKETS == 0


def _labels(root: Path) -> list[tuple[str, str]]:
    with (root / "labels.csv").open(encoding="utf-8") as f:
        return [(r["image"], r["machine_text"]) for r in csv.DictReader(f)]


def _checked(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as f:
        return {r["image"]: r["text"] for r in csv.DictReader(f)}


def _crop(root: Path, name: str, text: str) -> GateCrop:
    path = root / "images" / name
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FileNotFoundError(f"{path}: cannot be read as an image")
    return GateCrop(path, text, layout_of(image.shape[1], image.shape[0]))


def training_fixes() -> dict[str, str]:
    """Image → fixed training label ("" drops the crop): TRAIN_FIXES, with TRAIN_EYES over it."""
    return {**_checked(TRAIN_FIXES), **_checked(TRAIN_EYES)}


def gate_split(root: Path = GATE_DIR, train_fixes: bool = True
               ) -> tuple[list[GateCrop], list[GateCrop]]:
    """(train, validation) crops whose label fits the grammar, split by plate text.

    Validation texts are the checked ones: a crop checked as no readable plate is left out.
    Training labels are fixed by TRAIN_FIXES, then TRAIN_EYES, unless ``train_fixes`` is False.
    """
    checked = _checked(CHECKED_VAL)
    fixes = training_fixes() if train_fixes else {}
    labels = [(n, t) for n, t in _labels(root) if PATTERN.fits(t)]
    val = [_crop(root, n, checked.get(n, t)) for n, t in labels
           if is_val_text(t) and checked.get(n, t)]
    val_texts = {c.text for c in val}
    train = [_crop(root, n, fixes.get(n, t)) for n, t in labels
             if not is_val_text(t) and fixes.get(n, t) and fixes.get(n, t) not in val_texts]
    return train, val


if __name__ == "__main__":
    tr, va = gate_split()
    for name, crops in (("train", tr), ("val", va)):
        n2 = sum(c.layout == TWO_ROW for c in crops)
        print(f"{name}: {len(crops)} crops ({len(crops) - n2} one-row, {n2} two-row), "
              f"{len({c.text for c in crops})} texts")
