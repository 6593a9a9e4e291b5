"""Group character boxes into the printed rows of a plate, also when the plate is tilted."""

from __future__ import annotations

import numpy as np

# Slopes (dy/dx) searched for the text baseline: up to about ±27°.
_SLOPES = np.linspace(-0.5, 0.5, 101)
# A single row fits when all centres lie within this fraction of a character height of a line.
_ONE_ROW_SPREAD = 0.5


def assign_rows(cx: np.ndarray, cy: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """Row index per character: 0 for the top (or only) row, 1 for the bottom row.

    One row when one straight line through the centres explains them all; otherwise the
    split into two straight rows that leaves each row tightest.
    """
    cx = np.asarray(cx, dtype=np.float64)
    cy = np.asarray(cy, dtype=np.float64)
    n = cx.size
    rows = np.zeros(n, dtype=np.int64)
    if n < 3:
        return rows
    h = float(np.median(heights))
    proj = cy[None, :] - _SLOPES[:, None] * (cx[None, :] - cx.mean())  # (slopes, n)
    one_row_spread = (proj.max(axis=1) - proj.min(axis=1)).min()
    if one_row_spread < _ONE_ROW_SPREAD * h:
        return rows
    order = np.argsort(proj, axis=1)
    srt = np.take_along_axis(proj, order, axis=1)
    split = np.argmax(np.diff(srt, axis=1), axis=1)  # last index of the top row
    idx = np.arange(len(_SLOPES))
    spread = (srt[idx, split] - srt[:, 0]) + (srt[:, -1] - srt[idx, split + 1])
    best = int(np.argmin(spread))
    bottom = order[best, split[best] + 1:]
    rows[bottom] = 1
    return rows
