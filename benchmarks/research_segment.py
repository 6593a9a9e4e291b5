"""Character segmentation the way the research code did it, as the baseline for
``edge_alpr.segment``: scikit-image labels with the border cleared, then one contour per
label, found on a full-size mask of that label, its box kept when its size, aspect and fill
fit a character; a tall component that does not fit is eroded to free characters joined to
the plate's frame. No cuts of fused characters.

The binarization (shadow removal, CLAHE, inverted Otsu) is edge_alpr's, the filters use its
thresholds and the boxes are put in rows by its ``order_chars``: the two differ in how the
components are found and judged, not in what a character is.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage import measure, morphology, segmentation

from edge_alpr.segment import DEFAULT_PARAMS, CharBoxes, SegmentParams, binarize, order_chars


def research_components(binary: np.ndarray, p: SegmentParams = DEFAULT_PARAMS) -> np.ndarray:
    """(N, 4) boxes ``x0, y0, x1, y1`` of the character-like components not touching the
    border."""
    labels = segmentation.clear_border(measure.label(binary > 0, connectivity=2))
    return np.array(_characters(labels, 0, p, binary.shape[0]), np.float64).reshape(-1, 4)


def _characters(labels: np.ndarray, erosions: int, p: SegmentParams, height: int
                ) -> list[tuple[int, int, int, int]]:
    """Boxes of the labelled components that look like characters, grown back by the
    ``erosions`` the labels went through. A tall component that does not (characters joined
    to the plate's frame) is eroded once more and its pieces judged, up to
    ``p.max_erosions`` times."""
    boxes = []
    for region in measure.regionprops(labels):
        mask = (labels == region.label).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        x, y, w, h = cv2.boundingRect(max(contours, key=cv2.contourArea))
        x, y, w, h = x - erosions, y - erosions, w + 2 * erosions, h + 2 * erosions
        shaped = (p.min_height * height <= h <= p.max_height * height
                  and p.min_aspect * h <= w <= p.max_aspect * h
                  and region.area >= p.min_fill * w * h)
        if shaped and w <= p.split_aspect * h:
            boxes.append((x, y, x + w, y + h))
            continue
        parts = []
        if h >= p.min_height * height and erosions < p.max_erosions:
            eroded = morphology.erosion(mask, np.ones((3, 3), np.uint8))
            parts = _characters(measure.label(eroded, connectivity=2), erosions + 1, p, height)
        boxes += parts or ([(x, y, x + w, y + h)] if shaped else [])
    return boxes


def research_segment(crop: np.ndarray, params: SegmentParams = DEFAULT_PARAMS) -> CharBoxes:
    """Character boxes of a plate crop in its pixels and reading order, like
    :func:`edge_alpr.segment.segment`."""
    binary, sx, sy = binarize(crop)
    return order_chars(research_components(binary, params) / np.array([sx, sy, sx, sy]),
                       params)
