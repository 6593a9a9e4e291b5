"""Degraded plate crops, with a margin of background, for the character CNN."""

from __future__ import annotations

import cv2
import numpy as np

from edge_alpr.annotations import ONE_ROW, TWO_ROW, CharBox, PlateAnnotation
from edge_alpr.geometry import Box

from .backgrounds import photo_patch, synthetic_background
from .degrade import degrade, weather
from .plate import LAYOUTS, PLATE_MM, ColorScheme, RenderedPlate, render_plate

_MAX_TRIES = 5


def plate_width(rng: np.random.Generator, layout: str) -> float:
    """Plate width in pixels as in the 1920×1080 photos (70–320 px)."""
    if layout == TWO_ROW:
        return float(rng.uniform(75, 160))
    return float(rng.uniform(190, 310) if rng.random() < 0.8 else rng.uniform(100, 190))


def holder_frame(rng: np.random.Generator, canvas: np.ndarray, quad: np.ndarray) -> None:
    """Most real plates sit in a dark plastic holder a little larger than the plate."""
    c = quad.mean(axis=0)
    grow = 1 + rng.uniform(0.03, 0.12) * np.array([np.ptp(quad[:, 1]) / np.ptp(quad[:, 0]), 1])
    outer = ((quad - c) * grow + c).astype(np.int32)
    cv2.fillConvexPoly(canvas, outer, (float(rng.uniform(10, 90)),) * 3, cv2.LINE_AA)


def paste_flat(rng: np.random.Generator, plate: RenderedPlate, background: np.ndarray,
               x: int, y: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``plate`` laid on a BGR copy of ``background`` at (x, y): (image, mask, quad)."""
    canvas = background.copy()
    quad = plate.quad + np.array([x, y], np.float32)
    if rng.random() < 0.7:
        holder_frame(rng, canvas, quad)
    ph, pw = plate.image.shape[:2]
    region = canvas[y:y + ph, x:x + pw].astype(np.float32)
    a = plate.alpha[..., None]
    canvas[y:y + ph, x:x + pw] = (region * (1 - a) + weather(rng, plate.image) * a).astype(np.uint8)
    mask = np.zeros(canvas.shape[:2], np.uint8)
    mask[y:y + ph, x:x + pw] = plate.mask
    return canvas, mask, quad


def render_plate_crop(rng: np.random.Generator, text: str | None = None,
                      layout: str | None = None, background: np.ndarray | None = None,
                      gray: bool = True, scheme: ColorScheme | None = None
                      ) -> tuple[np.ndarray, PlateAnnotation]:
    """A degraded plate at real pixel size with a margin of background around it.

    ``background`` is a grayscale photo to take the surroundings from (a car-like stand-in
    when None); ``scheme`` is drawn from ``rng`` when None. Returns the image (gray, or BGR
    when ``gray`` is False) and the plate's annotation in its pixels, characters in reading
    order.
    """
    if layout is None:
        layout = LAYOUTS[int(rng.random() < 0.45)]
    for _ in range(_MAX_TRIES):
        target = plate_width(rng, layout)
        try:
            plate = render_plate(rng, text, layout, target / PLATE_MM[layout][0], scheme)
        except ValueError:  # a glyph too thin for so small a plate left no ink: draw another
            continue
        ph, pw = plate.image.shape[:2]
        pad = int(0.4 * pw)  # room for a ±20° roll and perspective
        ch, cw = ph + 2 * pad, pw + 2 * pad
        bg = (synthetic_background(rng, ch, cw) if background is None
              else photo_patch(rng, background, ch, cw))
        image, mask, quad = paste_flat(rng, plate, cv2.cvtColor(bg, cv2.COLOR_GRAY2BGR), pad, pad)
        try:
            d = degrade(rng, image, mask, quad, plate.text)
        except ValueError:  # a character vanished under the warp: draw another plate
            continue
        return _cut(rng, d.image, d.quad, d.chars, plate, gray)
    raise RuntimeError(f"no plate crop survived {_MAX_TRIES} tries")


def _cut(rng: np.random.Generator, image: np.ndarray, quad: np.ndarray,
         chars: tuple[CharBox, ...], plate: RenderedPlate, gray: bool
         ) -> tuple[np.ndarray, PlateAnnotation]:
    """The warped plate's bounding box plus a random margin, annotations shifted into it."""
    h, w = image.shape[:2]
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    bw, bh = x1 - x0, y1 - y0
    mx0, mx1 = rng.uniform(0.05, 0.3, 2) * bw
    my0, my1 = rng.uniform(0.1, 0.5, 2) * bh
    cx0, cy0 = max(0, int(x0 - mx0)), max(0, int(y0 - my0))
    cx1, cy1 = min(w, int(np.ceil(x1 + mx1))), min(h, int(np.ceil(y1 + my1)))
    out = image[cy0:cy1, cx0:cx1]
    if gray:
        out = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
    box = Box(float(x0), float(y0), float(x1), float(y1)).shift(-cx0, -cy0).clamp(
        cx1 - cx0, cy1 - cy0)
    moved = tuple(CharBox(c.label, c.box.shift(-cx0, -cy0)) for c in chars)
    layout = ONE_ROW if plate.layout == ONE_ROW else TWO_ROW
    return np.ascontiguousarray(out), PlateAnnotation(box, plate.text, layout, moved)
