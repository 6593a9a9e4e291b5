"""A slow, obviously-correct copy of the segmentation's component steps (scikit-image and
plain loops) to check ``edge_alpr.segment`` against; shared by the tests and the benchmark.

The binarization (resize, shadow removal, CLAHE, Otsu) is OpenCV in both and shared.
"""

from __future__ import annotations

import statistics

import numpy as np
from skimage import measure, morphology, segmentation

from edge_alpr.rows import assign_rows
from edge_alpr.segment import DEFAULT_PARAMS, SegmentParams, binarize


def reference_components(binary: np.ndarray, p: SegmentParams = DEFAULT_PARAMS
                         ) -> list[tuple[int, int, int, int]]:
    """Boxes ``x0, y0, x1, y1`` of the character components, sorted."""
    labels = measure.label(binary > 0, connectivity=2)
    interior = segmentation.clear_border(labels)
    kept_labels = set(np.unique(interior)) - {0}
    out = []
    for region in measure.regionprops(labels):
        y0, x0, _, _ = region.bbox
        touches = region.label not in kept_labels
        out += _judge(region.image, x0, y0, 0, touches, p, binary.shape)
    return sorted(out)


def _judge(mask: np.ndarray, x0: int, y0: int, erosions: int, touches: bool,
           p: SegmentParams, shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Character boxes in one component ``mask`` (eroded ``erosions`` times) at x0, y0."""
    height, width = shape
    e = erosions
    h, w = mask.shape
    box = (x0 - e, y0 - e, x0 + w + e, y0 + h + e)
    bw, bh = w + 2 * e, h + 2 * e
    if e > 0:  # a grown-back piece touches the border when its box reaches it
        touches = box[0] <= 0 or box[1] <= 0 or box[2] >= width or box[3] >= height
    area = int(mask.sum())
    fits = (p.min_height * height <= bh <= p.max_height * height
            and p.min_aspect * bh <= bw <= p.max_aspect * bh
            and area >= p.min_fill * bw * bh)
    if fits and not touches and bw <= p.split_aspect * bh:
        return [box]
    parts: list[tuple[int, int, int, int]] = []
    if bh >= p.min_height * height and e < p.max_erosions:
        padded = np.pad(mask, 1)  # outside the component is background
        eroded = morphology.erosion(padded, np.ones((3, 3), bool))[1:-1, 1:-1]
        for piece in measure.regionprops(measure.label(eroded, connectivity=2)):
            py0, px0, _, _ = piece.bbox
            parts += _judge(piece.image, x0 + px0, y0 + py0, e + 1, False, p, shape)
    if parts:
        return parts
    return [box] if fits and not touches else []


def reference_segment(crop: np.ndarray, p: SegmentParams = DEFAULT_PARAMS
                      ) -> list[tuple[int, tuple[float, float, float, float]]]:
    """(row, box in crop pixels) per character, in reading order."""
    binary, sx, sy = binarize(crop)
    boxes = [(x0 / sx, y0 / sy, x1 / sx, y1 / sy)
             for x0, y0, x1, y1 in reference_components(binary, p)]
    if not boxes:
        return []
    typical = statistics.median(b[3] - b[1] for b in boxes)
    boxes = [b for b in boxes if b[3] - b[1] >= p.min_relative_height * typical]
    rows = assign_rows(np.array([(b[0] + b[2]) / 2 for b in boxes]),
                       np.array([(b[1] + b[3]) / 2 for b in boxes]),
                       np.array([b[3] - b[1] for b in boxes]))
    return sorted(zip((int(r) for r in rows), boxes, strict=True),
                  key=lambda rb: (rb[0], (rb[1][0] + rb[1][2]) / 2))
