"""A slow, obviously-correct copy of the segmentation's component steps (scikit-image and
plain loops) to check ``edge_alpr.segment`` against; shared by the tests and the benchmark.

The binarization (resize, shadow removal, CLAHE, Otsu) is OpenCV in both and shared.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
from skimage import measure, morphology

from edge_alpr.rows import assign_rows
from edge_alpr.segment import _CUT_WINDOW, _MATE_HEIGHT, DEFAULT_PARAMS, SegmentParams, binarize


def reference_components(binary: np.ndarray, p: SegmentParams = DEFAULT_PARAMS
                         ) -> list[tuple[int, int, int, int]]:
    """Boxes ``x0, y0, x1, y1`` of the character components, sorted."""
    height, width = binary.shape
    found: list[tuple[int, int, int, int]] = []
    whole = []  # (box, mask) of components standing as one box or too wide for one
    for region in measure.regionprops(measure.label(binary > 0, connectivity=2)):
        y0, x0, y1, x1 = region.bbox
        mask = region.image
        h, w = mask.shape
        side = ((x0 == 0) * int(mask[:, 0].sum()) + (x1 == width) * int(mask[:, -1].sum())) / h
        top = ((y0 == 0) * int(mask[0].sum()) + (y1 == height) * int(mask[-1].sum())) / w
        clear = max(side, top) <= p.max_border_contact
        shaped = (p.min_height * height <= h <= p.max_height * height
                  and p.min_aspect * h <= w and int(mask.sum()) >= p.min_fill * w * h)
        fits = shaped and w <= p.max_aspect * h
        box = (x0, y0, x1, y1)
        if clear and fits and w <= p.split_aspect * h:
            found.append(box)
            whole.append((box, mask))
            continue
        parts: list[tuple[int, int, int, int]] = []
        if h >= p.min_height * height and p.max_erosions > 0:
            parts = _erode(mask, x0, y0, 0, p, binary.shape)
        if parts:
            found += parts
        elif clear and shaped:
            whole.append((box, mask))
            if fits:
                found.append(box)
    return sorted(_split_fused(found, whole, p, height))


def _split_fused(found: list[tuple[int, int, int, int]], whole: list, p: SegmentParams,
                 height: int) -> list[tuple[int, int, int, int]]:
    """``found`` with each whole component as wide as several characters of its row cut."""
    if not found:
        return found
    tall = p.min_relative_height * statistics.median(b[3] - b[1] for b in found)
    cut, gone = [], set()
    for box, mask in whole:
        bw, bh = box[2] - box[0], box[3] - box[1]
        mates = [b[2] - b[0] for b in found
                 if b != box and box[1] <= (b[1] + b[3]) / 2 <= box[3] and b[3] - b[1] >= tall
                 and (b[3] - b[1]) * _MATE_HEIGHT >= bh and b[3] - b[1] <= _MATE_HEIGHT * bh
                 and b[2] - b[0] >= p.narrow_aspect * (b[3] - b[1])]
        if bh < tall or not mates:
            continue
        typical = statistics.median(mates)
        k = round(bw / typical)
        if bw < p.fused_width * typical or k > p.max_fused:
            continue
        pieces = _cut(mask, k, p, height)
        if pieces:
            cut += [(box[0] + a, box[1] + b, box[0] + c, box[1] + d) for a, b, c, d in pieces]
            gone.add(box)
    return [b for b in found if b not in gone] + cut


def _cut(mask: np.ndarray, k: int, p: SegmentParams, height: int
         ) -> list[tuple[int, int, int, int]]:
    h, w = mask.shape
    ink = [int(mask[:, c].sum()) for c in range(w)]
    edges = [0]
    for i in range(1, k):
        lo = max(1, math.floor((i - _CUT_WINDOW) * w / k))
        hi = min(w - 1, math.ceil((i + _CUT_WINDOW) * w / k))
        edges.append(min(range(lo, hi + 1), key=lambda c: ink[c]))  # the first minimum
    edges.append(w)
    pieces = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        cols = [c for c in range(a, b) if ink[c]]
        rows = [r for r in range(h) if mask[r, a:b].any()]
        if not cols:
            continue
        bw, bh = cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]
        if (p.min_height * height <= bh <= p.max_height * height
                and p.min_aspect * bh <= bw <= p.max_aspect * bh
                and sum(ink[a:b]) >= p.min_fill * bw * bh):
            pieces.append((cols[0], rows[0], cols[-1] + 1, rows[-1] + 1))
    return pieces


def _erode(mask: np.ndarray, x0: int, y0: int, e: int, p: SegmentParams,
           shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Character boxes among the pieces of ``mask`` (eroded ``e`` times) eroded once more."""
    padded = np.pad(mask, 1)  # outside the component is background
    eroded = morphology.erosion(padded, np.ones((3, 3), bool))[1:-1, 1:-1]
    parts: list[tuple[int, int, int, int]] = []
    for piece in measure.regionprops(measure.label(eroded, connectivity=2)):
        py0, px0, _, _ = piece.bbox
        parts += _judge(piece.image, x0 + px0, y0 + py0, e + 1, p, shape)
    return parts


def _judge(mask: np.ndarray, x0: int, y0: int, e: int, p: SegmentParams,
           shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Character boxes in one eroded piece ``mask`` (eroded ``e`` times) at x0, y0."""
    height, width = shape
    h, w = mask.shape
    box = (x0 - e, y0 - e, x0 + w + e, y0 + h + e)
    bw, bh = w + 2 * e, h + 2 * e
    # A grown-back piece touches the border when its box reaches it.
    touches = box[0] <= 0 or box[1] <= 0 or box[2] >= width or box[3] >= height
    area = int(mask.sum())
    fits = (p.min_height * height <= bh <= p.max_height * height
            and p.min_aspect * bh <= bw <= p.max_aspect * bh
            and area >= p.min_fill * bw * bh)
    if fits and not touches and bw <= p.split_aspect * bh:
        return [box]
    parts = (_erode(mask, x0, y0, e, p, shape)
             if bh >= p.min_height * height and e < p.max_erosions else [])
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
