"""Plate layouts (one-row and two-row) drawn with exact per-character ink masks."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge_alpr.alphabet import N_DIGITS
from edge_alpr.annotations import ONE_ROW, TWO_ROW, CharBox
from edge_alpr.geometry import Box

from .glyphs import FontSpec, aspect, random_font, render_glyph
from .text import check_text, random_text

LAYOUTS: tuple[str, ...] = (ONE_ROW, TWO_ROW)
# Plate sizes in millimetres (width, height).
PLATE_MM: dict[str, tuple[float, float]] = {ONE_ROW: (520.0, 110.0), TWO_ROW: (280.0, 200.0)}
# Coverage at which a pixel counts as ink of its glyph (the label mask and boxes use it).
INK_THRESHOLD = 0.5
_SHIFT = 4  # sub-pixel bits for cv2 drawing
_EMBLEM_RED = (40.0, 40.0, 185.0)


@dataclass(frozen=True)
class ColorScheme:
    name: str
    background: tuple[float, float, float]  # BGR
    ink: tuple[float, float, float]
    probability: float


SCHEMES: tuple[ColorScheme, ...] = (
    ColorScheme("black-on-white", (232, 234, 234), (22, 22, 22), 0.75),
    ColorScheme("black-on-yellow", (30, 190, 230), (22, 22, 22), 0.07),
    ColorScheme("white-on-green", (50, 110, 25), (235, 235, 235), 0.06),
    ColorScheme("white-on-black", (28, 28, 28), (232, 232, 232), 0.06),
    ColorScheme("white-on-red", (35, 35, 180), (235, 235, 235), 0.06),
)


@dataclass(frozen=True, eq=False)
class RenderedPlate:
    """A flat plate in its own pixel frame; nothing but the glyphs is in ``mask``."""

    image: np.ndarray  # H×W×3 BGR uint8
    alpha: np.ndarray  # H×W float32 plate silhouette (rounded corners) in [0, 1]
    mask: np.ndarray  # H×W uint8: k+1 where the ink of character k (reading order) is
    text: str
    layout: str
    chars: tuple[CharBox, ...]  # reading order, boxes = tight bounds of each glyph's ink
    box: Box  # the plate in its image: the whole image
    quad: np.ndarray  # 4×2 float32 corners, clockwise from top-left
    scheme: str
    font: FontSpec


def char_boxes(mask: np.ndarray, text: str) -> tuple[CharBox, ...]:
    """Tight box of each label ``k+1`` in ``mask``, labelled ``text[k]``; raises if one is gone."""
    out = []
    for k, label in enumerate(text):
        x, y, w, h = cv2.boundingRect((mask == k + 1).astype(np.uint8))
        if w == 0:
            raise ValueError(f"character {k} ({label}) has no ink left")
        out.append(CharBox(label, Box(float(x), float(y), float(x + w), float(y + h))))
    return tuple(out)


def _pts(points_mm: np.ndarray, s: float) -> np.ndarray:
    return np.round(np.asarray(points_mm, np.float64) * s * (1 << _SHIFT)).astype(np.int32)


def _rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float) -> np.ndarray:
    """Polygon of a rounded rectangle (mm)."""
    t = np.linspace(0, np.pi / 2, 6)
    corners = [(x1 - r, y0 + r, -np.pi / 2), (x1 - r, y1 - r, 0.0), (x0 + r, y1 - r, np.pi / 2),
               (x0 + r, y0 + r, np.pi)]
    return np.concatenate([np.stack([cx + r * np.cos(a0 + t), cy + r * np.sin(a0 + t)], 1)
                           for cx, cy, a0 in corners])


def _fill(img: np.ndarray, poly_mm: np.ndarray, s: float, color: tuple[float, ...]) -> None:
    cv2.fillPoly(img, [_pts(poly_mm, s)], color, cv2.LINE_AA, _SHIFT)


def _ellipse(img: np.ndarray, c_mm: tuple[float, float], axes_mm: tuple[float, float], s: float,
             color: tuple[float, ...], thick_mm: float = -1, start: float = 0,
             end: float = 360) -> None:
    center = tuple(int(v) for v in _pts(np.array(c_mm), s))
    axes = tuple(int(v) for v in _pts(np.array(axes_mm), s))
    thick = -1 if thick_mm < 0 else max(1, round(thick_mm * s))
    cv2.ellipse(img, center, axes, 0, start, end, color, thick, cv2.LINE_AA, _SHIFT)


def _soyombo(img: np.ndarray, x0: float, y0: float, w: float, h: float, s: float,
             color: tuple[float, ...]) -> None:
    """A simplified soyombo emblem (flame, sun, moon, triangles, bars, taijitu, pillars)."""
    cx = x0 + w / 2

    def box(u0: float, v0: float, u1: float, v1: float) -> np.ndarray:
        return np.array([[x0 + u0 * w, y0 + v0 * h], [x0 + u1 * w, y0 + v0 * h],
                         [x0 + u1 * w, y0 + v1 * h], [x0 + u0 * w, y0 + v1 * h]])

    def tri_down(v0: float, v1: float) -> np.ndarray:
        return np.array([[x0 + 0.22 * w, y0 + v0 * h], [x0 + 0.78 * w, y0 + v0 * h],
                         [cx, y0 + v1 * h]])

    for du, top in ((-0.2, 0.06), (0.0, 0.0), (0.2, 0.06)):  # three flame tongues
        _fill(img, np.array([[cx + (du - 0.09) * w, y0 + 0.17 * h], [cx + du * w, y0 + top * h],
                             [cx + (du + 0.09) * w, y0 + 0.17 * h]]), s, color)
    _ellipse(img, (cx, y0 + 0.22 * h), (0.17 * w, 0.17 * w), s, color)  # sun
    _ellipse(img, (cx, y0 + 0.27 * h), (0.26 * w, 0.1 * w), s, color, 0.07 * w, 0, 180)  # moon
    _fill(img, tri_down(0.36, 0.45), s, color)
    _fill(img, box(0.22, 0.48, 0.78, 0.52), s, color)
    _ellipse(img, (cx, y0 + 0.64 * h), (0.26 * w, 0.26 * w), s, color, 0.07 * w)  # taijitu
    _ellipse(img, (cx, y0 + 0.64 * h), (0.08 * w, 0.08 * w), s, color)
    _fill(img, box(0.22, 0.76, 0.78, 0.80), s, color)
    _fill(img, tri_down(0.83, 0.92), s, color)
    _fill(img, box(0.0, 0.36, 0.13, 0.98), s, color)  # pillars
    _fill(img, box(0.87, 0.36, 1.0, 0.98), s, color)


def _bolt(img: np.ndarray, c_mm: tuple[float, float], s: float, bg: tuple[float, ...]) -> None:
    dark = tuple(0.45 * v for v in bg)
    _ellipse(img, c_mm, (3.5, 3.5), s, (150.0, 150.0, 150.0))
    _ellipse(img, c_mm, (3.5, 3.5), s, dark, 0.8)
    _ellipse(img, (c_mm[0] - 0.8, c_mm[1] - 0.8), (1.2, 1.2), s, (215.0, 215.0, 215.0))


def _oval_mark(img: np.ndarray, c_mm: tuple[float, float], w: float, h: float, s: float,
               ink: tuple[float, ...], font: FontSpec, word: str) -> None:
    """The oval country mark; not a character, so it never enters the label mask."""
    _ellipse(img, c_mm, (w / 2, h / 2), s, ink, 1.4)
    th, tw = 0.45 * h, min(0.7 * w, 0.45 * h * aspect(word, font))
    hp, wp = max(1, round(th * s)), max(1, round(tw * s))
    cov = render_glyph(word, font, hp, wp)
    x, y = round((c_mm[0] - tw / 2) * s), round((c_mm[1] - th / 2) * s)
    region = img[y:y + hp, x:x + wp]
    cov = cov[:region.shape[0], :region.shape[1], None]
    region[:] = region * (1 - cov) + np.array(ink, np.float32) * cov


@dataclass(frozen=True)
class _Slot:
    char: str
    x: float  # left edge, mm
    y: float  # top edge, mm
    w: float
    h: float


def _row(chars: str, font: FontSpec, h: float, x0: float, x1: float, y: float, gap: float,
         pair_gap: float, fill: float) -> list[_Slot]:
    """Characters of one row centred in [x0, x1]: widened (up to 1.4×) until they span
    ``fill`` of it, as real lettering spreads over the plate, squeezed if they do not fit."""
    widths = np.array([aspect(c, font) * h for c in chars])
    gaps = np.full(len(chars) - 1, gap)
    if len(chars) == N_DIGITS and pair_gap > 0:
        gaps[1] += pair_gap
    room = x1 - x0 - gaps.sum()
    widths *= min(1.4, max(fill * (x1 - x0) - gaps.sum(), 0.0) / widths.sum())
    widths *= min(1.0, room / widths.sum())
    need = widths.sum() + gaps.sum()
    x = x0 + (x1 - x0 - need) / 2
    slots = []
    for i, (c, w) in enumerate(zip(chars, widths, strict=True)):
        slots.append(_Slot(c, x, y, w, h))
        x += w + (gaps[i] if i < len(gaps) else 0)
    return slots


def _layout(rng: np.random.Generator, text: str, layout: str, font: FontSpec, draw: np.ndarray,
            s: float, ink: tuple[float, ...], emblem: tuple[float, ...]) -> list[_Slot]:
    """Draw the non-character marks into ``draw`` and return the character slots."""
    w_mm, h_mm = PLATE_MM[layout]
    digits, letters = text[:N_DIGITS], text[N_DIGITS:]
    has_emblem = rng.random() < 0.85
    has_oval = rng.random() < 0.8
    word = "MNG" if rng.random() < 0.8 else "MGL"
    gap_k = rng.uniform(0.06, 0.16)  # letter spacing, in character heights
    if layout == ONE_ROW:
        ch = rng.uniform(66, 78)
        gap = gap_k * ch
        y = h_mm / 2 - ch / 2 + rng.uniform(-2, 3)
        left = 10.0
        if has_emblem:
            ew = rng.uniform(18, 26)
            _soyombo(draw, left, y + 1, ew, ch - 2, s, emblem)
            left += ew + rng.uniform(4, 8)
        else:
            left += 6
        right = w_mm - 12
        zone = rng.uniform(34, 44) if has_oval else rng.uniform(14, 30)
        # Digits and letters get about equal halves (the letters are wider).
        split = left + (right - left - zone) * rng.uniform(0.48, 0.56)
        pair_gap = rng.uniform(4, 14) if rng.random() < 0.35 else 0.0
        slots = _row(digits, font, ch, left, split, y, gap, pair_gap, rng.uniform(0.8, 1.0))
        slots += _row(letters, font, ch, split + zone, right, y, gap, 0.0, rng.uniform(0.8, 1.0))
        if has_oval:
            oc = ((slots[N_DIGITS - 1].x + slots[N_DIGITS - 1].w + slots[N_DIGITS].x) / 2,
                  h_mm / 2 + rng.uniform(-4, 4))
            ow = min(30.0, slots[N_DIGITS].x - slots[N_DIGITS - 1].x - slots[N_DIGITS - 1].w - 3)
            if ow > 14:
                _oval_mark(draw, oc, ow, ow * 0.6, s, ink, font, word)
        bolt_y = (4.5 + y) / 2
        bolts = [(w_mm * 0.25, bolt_y), (w_mm * 0.75, bolt_y)] if y > 13 else []
    else:
        dh = rng.uniform(74, 84)
        gap = gap_k * dh
        lh = dh * rng.uniform(0.82, 0.95)
        top = rng.uniform(12, 16)
        ly = top + dh + rng.uniform(8, 14)
        lh = min(lh, h_mm - 9 - ly)
        pair_gap = rng.uniform(8, 24) if rng.random() < 0.75 else 0.0
        slots = _row(digits, font, dh, 14, w_mm - 14, top, gap, pair_gap, rng.uniform(0.75, 0.95))
        left, right = 14.0, w_mm - 14
        if has_emblem:
            ew = min(lh * 0.4, 26.0)
            _soyombo(draw, left, ly, ew, lh, s, emblem)
            left += ew + 4
        if has_oval:
            ow = rng.uniform(28, 36)
            oc = (right - ow / 2, ly + lh * rng.uniform(0.5, 0.75))
            _oval_mark(draw, oc, ow, ow * 0.6, s, ink, font, word)
            right -= ow + 4
        slots += _row(letters, font, lh, left, right, ly, gap, 0.0, rng.uniform(0.6, 0.9))
        bolts = [(14.0, 10.0), (w_mm - 14.0, 10.0)] if slots[0].x > 22 else []
    if rng.random() < 0.6:
        for b in bolts:
            _bolt(draw, b, s, ink)
    return slots


def render_plate(rng: np.random.Generator, text: str | None = None, layout: str | None = None,
                 px_per_mm: float = 1.0, scheme: ColorScheme | None = None,
                 font: FontSpec | None = None) -> RenderedPlate:
    """A flat, clean plate (degradations come later), ``px_per_mm`` pixels per millimetre.

    ``text``, ``layout``, ``scheme`` and ``font`` are drawn from ``rng`` when not given.
    """
    text = random_text(rng) if text is None else check_text(text)
    if layout is None:
        layout = LAYOUTS[int(rng.random() < 0.45)]
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    if scheme is None:
        scheme = SCHEMES[int(rng.choice(len(SCHEMES), p=[c.probability for c in SCHEMES]))]
    font = random_font(rng) if font is None else font
    s = px_per_mm
    w_mm, h_mm = PLATE_MM[layout]
    width, height = max(8, round(w_mm * s)), max(8, round(h_mm * s))

    # Paint fades and print vary: jitter the scheme's colours a little per plate.
    bg = tuple(float(np.clip(v + rng.normal(0, 8), 0, 255)) for v in scheme.background)
    ink = tuple(float(np.clip(v + rng.normal(0, 6), 0, 255)) for v in scheme.ink)
    emblem = ink if scheme.name == "white-on-red" else _EMBLEM_RED
    img = np.empty((height, width, 3), np.float32)
    img[:] = bg
    silhouette = np.zeros((height, width), np.uint8)
    r = rng.uniform(4, 10)
    _fill(silhouette, _rounded_rect(0, 0, w_mm, h_mm, r), s, (255,))
    inset, thick = rng.uniform(1.5, 4), rng.uniform(1.2, 3)
    cv2.polylines(img, [_pts(_rounded_rect(inset, inset, w_mm - inset, h_mm - inset, r), s)], True,
                  ink, max(1, round(thick * s)), cv2.LINE_AA, _SHIFT)

    slots = _layout(rng, text, layout, font, img, s, ink, emblem)
    mask = np.zeros((height, width), np.uint8)
    ink_arr = np.array(ink, np.float32)
    for k, slot in enumerate(slots):
        x, y = round(slot.x * s), round(slot.y * s)
        cov = render_glyph(slot.char, font, max(2, round(slot.h * s)), max(1, round(slot.w * s)))
        region = img[y:y + cov.shape[0], x:x + cov.shape[1]]
        cov = cov[:region.shape[0], :region.shape[1]]
        region[:] = region * (1 - cov[..., None]) + ink_arr * cov[..., None]
        mask[y:y + cov.shape[0], x:x + cov.shape[1]][cov >= INK_THRESHOLD] = k + 1
    quad = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    return RenderedPlate(
        image=np.clip(img + 0.5, 0, 255).astype(np.uint8),
        alpha=silhouette.astype(np.float32) / 255.0,
        mask=mask, text=text, layout=layout, chars=char_boxes(mask, text),
        box=Box(0.0, 0.0, float(width), float(height)), quad=quad, scheme=scheme.name, font=font)
