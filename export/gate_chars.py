"""Character crops cut from the gate-camera plate crops by the runtime's own segmentation.

The gate crops have no character boxes, only a (machine-made) plate text. Where the
segmentation finds exactly as many characters as the plate grammar has slots, laid out as the
crop's layout prints them (one row of 7, or 4 over 3) and alike in height, each box is labelled
by its position: slot k shows ``text[k]``.

    python -m export.gate_chars        # how many crops segment cleanly, per split
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from edge_alpr.annotations import TWO_ROW
from edge_alpr.grammar import PATTERN
from edge_alpr.segment import CharBoxes, segment

from .gate_data import GateCrop, gate_split

# Characters of one plate row are alike in height; a box this much taller or shorter than its
# row's median is a character merged with the frame or cut short, and the positions drift.
MAX_HEIGHT_SPREAD = 1.35


@dataclass(frozen=True, eq=False)
class GatePlate:
    crop: GateCrop
    image: np.ndarray  # gray, the crop as stored (the gate crops are cut tightly)
    chars: CharBoxes  # one box per slot of the plate grammar, reading order


def layout_consistent(chars: CharBoxes, layout: str) -> bool:
    """Whether ``chars`` are one box per grammar slot, in the rows ``layout`` prints them."""
    if len(chars) != len(PATTERN):
        return False
    want = PATTERN.slot_rows() if layout == TWO_ROW else np.zeros(len(PATTERN), np.int64)
    if not np.array_equal(chars.rows, want):
        return False
    heights = chars.boxes[:, 3] - chars.boxes[:, 1]
    for r in np.unique(chars.rows):
        h = heights[chars.rows == r]
        if h.max() > MAX_HEIGHT_SPREAD * np.median(h) or h.min() * MAX_HEIGHT_SPREAD < np.median(h):
            return False
    return True


def read_crop(crop: GateCrop) -> np.ndarray:
    image = cv2.imread(str(crop.path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FileNotFoundError(f"{crop.path}: cannot be read as an image")
    return image


def segmented(crops: Iterable[GateCrop]) -> Iterator[GatePlate]:
    """The crops whose segmentation is one box per slot in their layout's rows."""
    for crop in crops:
        image = read_crop(crop)
        chars = segment(image)
        if layout_consistent(chars, crop.layout):
            yield GatePlate(crop, image, chars)


def main() -> None:
    cv2.setNumThreads(1)
    for name, crops in zip(("train", "val"), gate_split(), strict=True):
        n = sum(1 for _ in segmented(crops))
        print(f"{name}: {n} of {len(crops)} crops segment into one box per slot")


if __name__ == "__main__":
    main()
