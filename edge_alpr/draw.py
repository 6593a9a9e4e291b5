"""Annotated copies of images: plate boxes and their text, Cyrillic included.

Text is drawn from a glyph atlas rendered at build time (``export.make_glyph_atlas``):
``cv2.putText`` knows only Latin, and the runtime carries no font renderer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np

from .image import to_gray
from .pipeline import PlateResult

BOX_COLOR = (0, 200, 0)  # BGR: a standard read
FLAG_COLOR = (0, 140, 255)  # a read that does not fit the standard pattern
TEXT_COLOR = (255, 255, 255)


@lru_cache(maxsize=1)
def _atlas() -> tuple[np.ndarray, dict[str, tuple[int, int]]]:
    folder = resources.files("edge_alpr") / "assets"
    data = np.frombuffer((folder / "glyphs.png").read_bytes(), np.uint8)
    atlas = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    meta = json.loads((folder / "glyphs.json").read_text(encoding="utf-8"))
    return atlas, {c: (x, w) for c, (x, w) in meta["glyphs"].items()}


def render_text(text: str, height: int) -> np.ndarray:
    """Coverage mask (uint8) of ``text`` at ``height`` px; unknown characters become '?'."""
    atlas, glyphs = _atlas()
    cols = [atlas[:, x:x + w] for x, w in (glyphs.get(c, glyphs["?"]) for c in text)]
    strip = np.hstack(cols) if cols else np.zeros((atlas.shape[0], 1), np.uint8)
    scale = height / strip.shape[0]
    return cv2.resize(strip, (max(1, round(strip.shape[1] * scale)), height),
                      interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def _put_text(canvas: np.ndarray, text: str, x: int, y: int, height: int,
              background: tuple[int, int, int]) -> None:
    """Draw ``text`` with its top-left at (x, y) on a filled label, clipped to the canvas."""
    mask = render_text(text, height)
    pad = max(1, height // 8)
    h, w = mask.shape
    label = np.empty((h + 2 * pad, w + 2 * pad, 3), np.uint8)
    label[:] = background
    alpha = mask[:, :, None].astype(np.float32) / 255
    inner = label[pad:pad + h, pad:pad + w]
    inner[:] = (alpha * np.array(TEXT_COLOR) + (1 - alpha) * inner).astype(np.uint8)
    ch, cw = canvas.shape[:2]
    x0, y0 = max(0, min(x, cw - 1)), max(0, min(y, ch - 1))
    x1, y1 = min(cw, x0 + label.shape[1]), min(ch, y0 + label.shape[0])
    canvas[y0:y1, x0:x1] = label[: y1 - y0, : x1 - x0]


def annotate(image: np.ndarray, plates: Sequence[PlateResult]) -> np.ndarray:
    """A BGR copy of ``image`` with each plate's box, characters and text drawn on it."""
    if image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8:
        canvas = image.copy()
    else:
        canvas = cv2.cvtColor(to_gray(image), cv2.COLOR_GRAY2BGR)
    thickness = max(1, round(max(canvas.shape[:2]) / 600))
    for p in plates:
        color = BOX_COLOR if p.matches_pattern else FLAG_COLOR
        x0, y0, x1, y1 = (int(round(v)) for v in p.box.as_list())
        cv2.rectangle(canvas, (x0, y0), (x1, y1), color, thickness)
        for c in p.chars:
            if c.box is None:  # the whole-plate reader finds no character boxes
                continue
            cx0, cy0, cx1, cy1 = (int(round(v)) for v in c.box.as_list())
            cv2.rectangle(canvas, (cx0, cy0), (cx1, cy1), color, 1)
        height = max(14, min(48, round(0.45 * (y1 - y0))))
        label = f"{p.text or '?'} {p.confidence:.2f}"
        _put_text(canvas, label, x0, y0 - height - 2 * max(1, height // 8) - thickness,
                  height, color)
    return canvas
