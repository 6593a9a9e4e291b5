"""Whole scenes for the detector: synthetic plates pasted with perspective into real photos."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge_alpr.annotations import CharBox, PlateAnnotation
from edge_alpr.geometry import Box

from .crop import holder_frame, plate_width
from .degrade import blur, jpeg, noise, view_homography, warp, weather
from .plate import LAYOUTS, PLATE_MM, ColorScheme, char_boxes, render_plate

_PLACE_TRIES = 40
# Keep pasted plates this far (in plate sizes) from real and other pasted plates.
_KEEP_OUT = 0.3


@dataclass(frozen=True, eq=False)
class Scene:
    image: np.ndarray  # same kind as the background (grayscale stays grayscale)
    plates: tuple[PlateAnnotation, ...]  # the pasted plates, then the photo's real ones


def _placed_quad(rng: np.random.Generator, quad: np.ndarray, size: tuple[int, int],
                 taken: list[Box]) -> np.ndarray | None:
    """``quad`` moved to a random free spot of the image, or None if none was found."""
    w, h = size
    lo, hi = quad.min(axis=0), quad.max(axis=0)
    bw, bh = hi - lo
    if bw + 4 > w or bh + 4 > h:  # the plate does not fit at all
        return None
    # Real plates sit in the middle band of the frame (cars at the kerb); a small image
    # (a region given by the caller) is used whole.
    y_lo, y_hi = max(bh / 2 + 2, 0.25 * h), min(h - bh / 2 - 2, 0.9 * h)
    if y_hi < y_lo:
        y_lo, y_hi = bh / 2 + 2, h - bh / 2 - 2
    for _ in range(_PLACE_TRIES):
        cx = rng.uniform(bw / 2 + 2, w - bw / 2 - 2)
        cy = rng.uniform(y_lo, y_hi)
        box = Box(cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
        if all(box.pad(_KEEP_OUT).iou(t.pad(_KEEP_OUT)) == 0 for t in taken):
            taken.append(box)
            return (quad - lo + np.array([box.x0, box.y0])).astype(np.float32)
    return None


def _match_light(rng: np.random.Generator, plate: np.ndarray, context: np.ndarray) -> np.ndarray:
    """Map the plate's 0–255 range onto the photo's local light: a white plate is about as
    bright as the brightest surroundings; the ink stays dark (retroreflective plates keep
    their contrast even in dim surroundings)."""
    p95 = float(np.percentile(context, 95))
    hi = float(np.clip(p95 + rng.uniform(-25, 25), 120, 245))
    lo = float(np.clip(rng.uniform(15, 75), 5, hi - 80))
    return lo + (hi - lo) * plate.astype(np.float32) / 255.0


def _paste(rng: np.random.Generator, image: np.ndarray, layout: str, text: str | None,
           taken: list[Box], width: float | None = None, scheme: ColorScheme | None = None
           ) -> PlateAnnotation | None:
    """One synthetic plate drawn into ``image`` in place; its annotation in image pixels.
    ``width`` is the plate's width before the view warp (px), drawn as in real photos if None."""
    h, w = image.shape[:2]
    target = plate_width(rng, layout) if width is None else width
    plate = render_plate(rng, text, layout, px_per_mm=target / PLATE_MM[layout][0],
                         scheme=scheme)
    hom = view_homography(rng, plate.quad)
    quad = cv2.perspectiveTransform(plate.quad.reshape(-1, 1, 2).astype(np.float64), hom)
    dst = _placed_quad(rng, quad.reshape(-1, 2), (w, h), taken)
    if dst is None:
        return None
    # Work in a padded region of interest around the plate, not the whole photo.
    pad = int(0.15 * np.ptp(dst[:, 0])) + 3
    x0, y0 = (np.floor(dst.min(axis=0)).astype(int) - pad).clip(0)
    x1, y1 = np.minimum(np.ceil(dst.max(axis=0)).astype(int) + pad, [w, h])
    local = dst - np.array([x0, y0], np.float32)
    to_roi = cv2.getPerspectiveTransform(plate.quad, local)
    size = (int(x1 - x0), int(y1 - y0))
    face = weather(rng, plate.image)
    if image.ndim == 2:  # the photos are grayscale: paste a grayscale plate
        face = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)
    warped, mask, quad_roi = warp(face, plate.mask, plate.quad, to_roi, size)
    alpha = cv2.warpPerspective(plate.alpha, to_roi, size, flags=cv2.INTER_LINEAR)
    roi = image[y0:y1, x0:x1]
    context = image[max(0, y0 - 2 * pad):y1 + 2 * pad, max(0, x0 - 2 * pad):x1 + 2 * pad]
    canvas = roi.astype(np.float32)
    if rng.random() < 0.6:
        holder_frame(rng, canvas, quad_roi)
    a = alpha if image.ndim == 2 else alpha[..., None]
    canvas = canvas * (1 - a) + _match_light(rng, warped, context) * a
    out = blur(rng, np.clip(canvas, 0, 255).astype(np.uint8), strength=0.8)
    out = noise(rng, out, rng.uniform(0.8, 3.0))
    roi[:] = jpeg(out, int(rng.integers(70, 95)))
    try:
        chars = char_boxes(mask, plate.text)
    except ValueError:  # a glyph too thin to survive nearest sampling: drop its annotation
        return None
    box = Box(*(dst.min(axis=0).tolist() + dst.max(axis=0).tolist())).clamp(w, h)
    return PlateAnnotation(box, plate.text, plate.layout,
                           tuple(CharBox(c.label, c.box.shift(x0, y0)) for c in chars))


def render_scene(rng: np.random.Generator, background: np.ndarray,
                 real_plates: Sequence[PlateAnnotation], n_plates: int | None = None,
                 texts: Sequence[str] | None = None, layouts: Sequence[str] | None = None,
                 widths: Sequence[float] | None = None, scheme: ColorScheme | None = None
                 ) -> Scene:
    """``n_plates`` (1–3 when None) synthetic plates pasted into a copy of ``background`` (a
    training photo, grayscale or BGR), away from its ``real_plates``. ``texts``, ``layouts``
    and ``widths`` (px) force those of each plate, ``scheme`` the colours of all; they are
    drawn at random when None.

    The returned plates are the pasted ones (with character boxes) followed by the real ones.
    Fewer than ``n_plates`` are pasted when the photo has no free room left.
    """
    if n_plates is None:
        n_plates = int(rng.integers(1, 4))
    image = background.copy()
    taken = [p.box for p in real_plates]
    pasted = []
    for i in range(n_plates):
        layout = LAYOUTS[int(rng.random() < 0.45)] if layouts is None else layouts[i]
        text = None if texts is None else texts[i]
        ann = _paste(rng, image, layout, text, taken, None if widths is None else widths[i],
                     scheme)
        if ann is not None:
            pasted.append(ann)
    return Scene(image, tuple(pasted) + tuple(real_plates))
