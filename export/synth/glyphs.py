"""Condensed sans fonts from the fontpkg packages, and glyphs rendered as ink coverage maps.

Mongolian plates use a DIN-like lettering whose shapes differ from every packaged font in a few
characters (checked against the real crops with ``python -m export.synth.contact_sheet
--per-char``): Л is a Λ (no hook), Д is that Λ standing on a base bar with two feet, З has a
flat top (the digit 3 has one on some plates), the 1 has a long flag and the 4 an open top.
Those are built from the font's own strokes (:func:`_plate_ink`); every other character is
the font's glyph.
Weight, width and stroke ends vary per plate (:class:`FontSpec`).
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Glyphs are drawn this large once and then resized, so small plates still get smooth edges.
_DRAW_SIZE = 160
# Stem width over cap height on real plates (gate crops and photos, by eye on the contact
# sheets): about 0.13-0.17, worn or small plates down to 0.08. The packaged fonts span
# 0.09 (Oswald 300) to 0.21 (Roboto Condensed 750); weight changes are kept inside this.
STEM_RATIO = (0.08, 0.19)


@dataclass(frozen=True)
class FontFamily:
    name: str
    package: str  # the fontpkg module that ships the file
    files: tuple[str, ...]  # file names under <package>/files, one per static weight
    wght: tuple[float, float] | None = None  # variable weight axis range to sample
    wdth: tuple[float, float] | None = None  # variable width axis range to sample


# Plate lettering is a bold, DIN-like condensed sans; no GOST plate font is packaged, so vary
# families, weights and widths instead (see the toolchain notes).
FAMILIES: tuple[FontFamily, ...] = (
    FontFamily("Roboto Condensed", "fontpkg_roboto_condensed", ("RobotoCondensed[wght].ttf",),
               wght=(400, 750)),
    FontFamily("Roboto Flex", "fontpkg_roboto_flex",
               ("RobotoFlex[GRAD,XOPQ,XTRA,YOPQ,YTAS,YTDE,YTFI,YTLC,YTUC,opsz,slnt,wdth,wght].ttf",),
               wght=(400, 700), wdth=(25, 75)),
    FontFamily("Oswald", "fontpkg_oswald", ("Oswald[wght].ttf",), wght=(300, 550)),
    FontFamily("PT Sans Narrow", "fontpkg_pt_sans_narrow",
               ("PT_Sans-Narrow-Web-Regular.ttf", "PT_Sans-Narrow-Web-Bold.ttf")),
)
# Roboto Condensed is the closest to real plates: draw it most often.
FAMILY_WEIGHTS: np.ndarray = np.array([0.4, 0.25, 0.15, 0.2])


@dataclass(frozen=True)
class FontSpec:
    family: str
    file: str
    wght: float | None  # variable axis values, None for static fonts
    wdth: float | None
    width_scale: float  # extra horizontal scaling of every glyph
    # Stroke growth (+) or thinning (-) in pixels at the draw size (strokes are ~15-30 px
    # there): paint spread, wear and the font weights between the packaged ones.
    bold: float = 0.0
    round_ends: bool = False  # worn, rounded stroke ends and corners instead of square ones
    # Real crops mix shapes (per-character contact sheets): З has a flat top on about half the
    # gate crops, the digit 3 rarely; a few plates have a square Д (the font's own) instead
    # of the Λ on a base.
    flat_ze: bool = True
    flat_three: bool = False
    square_de: bool = False
    open_four: bool = False  # the 4's stem stops short of the top (most plates)


def random_font(rng: np.random.Generator) -> FontSpec:
    fam = FAMILIES[int(rng.choice(len(FAMILIES), p=FAMILY_WEIGHTS))]
    file = fam.files[int(rng.integers(0, len(fam.files)))]
    # Axis values are rounded so the glyph cache gets hits across plates.
    wght = None if fam.wght is None else float(round(rng.uniform(*fam.wght) / 50) * 50)
    wdth = None if fam.wdth is None else float(round(rng.uniform(*fam.wdth) / 10) * 10)
    width_scale = float(rng.uniform(0.85, 1.15))
    # The shape variants come from a child stream, so the plate's other draws (layout, colours,
    # degradations) stay those of the same seed before the variants existed.
    shapes = rng.spawn(1)[0]
    bold = float(round(np.clip(shapes.normal(0.5, 1.5), -4, 3)))  # most plates: medium-bold
    flags = shapes.random(5) < (0.3, 0.5, 0.15, 0.2, 0.7)
    return FontSpec(fam.name, file, wght, wdth, width_scale, bold, *(bool(f) for f in flags))


def _family(name: str) -> FontFamily:
    return next(f for f in FAMILIES if f.name == name)


@lru_cache(maxsize=32)
def load_font(family: str, file: str, wght: float | None, wdth: float | None,
              size: int = _DRAW_SIZE) -> ImageFont.FreeTypeFont:
    """The font file from its fontpkg package, with variable axes set."""
    path = importlib.resources.files(_family(family).package) / "files" / file
    with importlib.resources.as_file(path) as real_path:
        font = ImageFont.truetype(str(real_path), size)
    if wght is not None or wdth is not None:
        axes = font.get_variation_axes()
        wanted = {b"Weight": wght, b"Width": wdth}
        font.set_variation_by_axes([
            wanted[a["name"]] if wanted.get(a["name"]) is not None else a["default"]
            for a in axes])
    return font


def _draw_text(text: str, family: str, file: str, wght: float | None, wdth: float | None
               ) -> np.ndarray:
    """Coverage (uint8) of ``text`` in the font drawn large, cropped to its ink."""
    font = load_font(family, file, wght, wdth)
    x0, y0, x1, y1 = font.getbbox(text)
    pad = 4
    image = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad))
    ImageDraw.Draw(image).text((pad - x0, pad - y0), text, font=font, fill=255)
    return _crop_ink(np.asarray(image), f"font {family} draws no ink for {text!r}")


def _crop_ink(a: np.ndarray, error: str) -> np.ndarray:
    ys, xs = np.nonzero(a > 8)
    if ys.size == 0:
        raise ValueError(error)
    return np.ascontiguousarray(a[ys.min():ys.max() + 1, xs.min():xs.max() + 1])


def _stem(family: str, file: str, wght: float | None, wdth: float | None) -> float:
    """The font's stem width in pixels at the draw size: the median row of its Latin I."""
    rows = (_draw_text("I", family, file, wght, wdth) >= 128).sum(axis=1)
    return float(np.median(rows))


def _stroke(ink: np.ndarray) -> float:
    """Stroke width in pixels of a composed glyph: twice the largest distance from ink to its
    edge (junctions make it an upper bound: used only to round the stroke ends)."""
    dist = cv2.distanceTransform((ink >= 128).astype(np.uint8), cv2.DIST_L2, 5)
    return 2.0 * float(dist.max())


def _lambda(family: str, file: str, wght: float | None, wdth: float | None) -> np.ndarray:
    """The plate's Л: the font's Greek capital Λ (U+039B), or its V upside down where the font
    has no Greek (it then draws the same box for Λ as for a private-use code point)."""
    ink = _draw_text("\u039b", family, file, wght, wdth)
    missing = _draw_text("\ue000", family, file, wght, wdth)
    if ink.shape == missing.shape and np.array_equal(ink, missing):
        return np.ascontiguousarray(_draw_text("V", family, file, wght, wdth)[::-1])
    return ink


def _poly(canvas: np.ndarray, points: list[tuple[float, float]]) -> None:
    pts = np.round(np.array(points) * 16).astype(np.int32)
    cv2.fillPoly(canvas, [pts], (255,), cv2.LINE_AA, 4)


def _de(family: str, file: str, wght: float | None, wdth: float | None) -> np.ndarray:
    """Д: the Λ standing on a base bar that reaches a little past its legs, and two short
    feet under the bar's ends."""
    lam = _lambda(family, file, wght, wdth)
    h, w = lam.shape
    sw = _stem(family, file, wght, wdth)
    feet = 0.13 * h  # the feet below the bar; the whole letter is one cap height
    body = h - feet
    over = 0.35 * sw  # the bar's reach past the legs on each side
    width = int(np.ceil(w + 2 * over))
    canvas = np.zeros((int(np.ceil(h)), width), np.uint8)
    leg = cv2.resize(lam, (w, int(round(body))), interpolation=cv2.INTER_AREA)
    x = int(round(over))
    canvas[:leg.shape[0], x:x + w] = np.maximum(canvas[:leg.shape[0], x:x + w], leg)
    bar = 0.85 * sw
    _poly(canvas, [(0, body - bar), (width, body - bar), (width, body), (0, body)])
    foot = 0.8 * sw
    for x0 in (0.0, width - foot):
        _poly(canvas, [(x0, body - 1), (x0 + foot, body - 1), (x0 + foot, h), (x0, h)])
    return canvas


def _flat_top(glyph: np.ndarray, sw: float) -> np.ndarray:
    """З or 3 with the plate's flat top: a bar over the full width and a diagonal from its right
    end down to the left end of the waist, over the font's own lower bowl."""
    h, w = glyph.shape
    # The middle stroke: the rows between 0.38 and 0.62 of the height whose ink reaches
    # furthest left (past a fifth of the width: some fonts' bowls end high on the left).
    lo = int(0.2 * w)
    band = glyph[int(0.38 * h):int(0.62 * h), lo:] >= 128
    reach = np.where(band.any(axis=1), band.argmax(axis=1), w) + lo
    left = float(reach.min())
    waist = int(0.38 * h) + int(np.argmax(reach <= left + 0.3 * sw))
    out = glyph.copy()
    out[:waist] = 0
    _poly(out, [(0.06 * w, 0), (w, 0), (w, sw * 0.95), (0.06 * w, sw * 0.95)])
    d = sw * 1.05
    _poly(out, [(w - d * 1.2, 0), (w, 0), (left + d, waist + sw), (left, waist + sw),
                (left, waist)])
    return out


def _open_four(glyph: np.ndarray) -> np.ndarray:
    """The 4 with an open top: its stem (the columns inked at the foot) starts at a third of
    the height, below the diagonal's upper end."""
    h, w = glyph.shape
    stem = np.flatnonzero(glyph[int(0.93 * h)] >= 128)
    out = glyph.copy()
    if stem.size:
        out[:int(0.3 * h), stem[0]:] = 0
    return out


def _one(family: str, file: str, wght: float | None, wdth: float | None) -> np.ndarray:
    """The plate's 1: a full-height stem with a long flag reaching down-left to about a third
    of the height (most fonts draw a short one)."""
    h = _draw_text("1", family, file, wght, wdth).shape[0]
    sw = _stem(family, file, wght, wdth)
    w = max(0.4 * h, 2.2 * sw)
    canvas = np.zeros((h, int(np.ceil(w))), np.uint8)
    x0 = w - sw
    _poly(canvas, [(x0, 0), (w, 0), (w, h), (x0, h)])
    # The flag: a stroke from the stem's top to the left edge, 0.36 of the height lower.
    a, b = np.array([x0 + 0.5 * sw, 0.4 * sw]), np.array([0.5 * sw, 0.36 * h])
    u = (b - a) / np.linalg.norm(b - a)
    n = np.array([-u[1], u[0]]) * sw / 2
    _poly(canvas, [tuple(a + n), tuple(b + n), tuple(b - n), tuple(a - n)])
    _poly(canvas, [(x0, 0), (w, 0), (w, sw), (x0, sw)])
    return canvas


@lru_cache(maxsize=256)
def _plate_ink(text: str, family: str, file: str, wght: float | None, wdth: float | None,
               flat_ze: bool, flat_three: bool, square_de: bool, open_four: bool
               ) -> np.ndarray:
    """Coverage of ``text`` as the plate draws it (see the module's docstring)."""
    if text == "Л":
        return _lambda(family, file, wght, wdth)
    if text == "Д" and not square_de:
        return _de(family, file, wght, wdth)
    if text == "1":
        return _one(family, file, wght, wdth)
    glyph = _draw_text(text, family, file, wght, wdth)
    if (text == "З" and flat_ze) or (text == "3" and flat_three):
        return _flat_top(glyph, _stem(family, file, wght, wdth))
    if text == "4" and open_four:
        return _open_four(glyph)
    return glyph


def _bold(spec: FontSpec) -> int:
    """The spec's stroke growth, limited so that stems stay within the plates' range of
    stroke width over cap height."""
    cap = _draw_text("I", spec.family, spec.file, spec.wght, spec.wdth).shape[0]
    stem = _stem(spec.family, spec.file, spec.wght, spec.wdth)
    lo, hi = STEM_RATIO
    return int(np.clip(spec.bold, np.ceil((lo * cap - stem) / 2), np.floor((hi * cap - stem) / 2)))


@lru_cache(maxsize=4096)
def _ink(text: str, spec: FontSpec) -> np.ndarray:
    """Coverage (uint8) of ``text`` drawn large, cropped to its ink, with the spec's stroke
    weight and ends."""
    a = _plate_ink(text, spec.family, spec.file, spec.wght, spec.wdth, spec.flat_ze,
                   spec.flat_three, spec.square_de, spec.open_four)
    bold = _bold(spec)
    if bold:
        r = abs(bold)
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * int(r) + 1, 2 * int(r) + 1))
        a = cv2.copyMakeBorder(a, int(r), int(r), int(r), int(r), cv2.BORDER_CONSTANT, value=0)
        a = cv2.dilate(a, k) if bold > 0 else cv2.erode(a, k)
    if spec.round_ends:
        sigma = max(1.0, 0.18 * _stroke(a))
        m = int(np.ceil(3 * sigma))  # blur into empty margins, not mirrored ink
        a = cv2.copyMakeBorder(a, m, m, m, m, cv2.BORDER_CONSTANT, value=0)
        blurred = cv2.GaussianBlur(a, (0, 0), sigma).astype(np.float32)
        a = np.clip((blurred - 128) * 3 + 128, 0, 255).astype(np.uint8)
    return _crop_ink(a, f"font {spec.family} draws no ink for {text!r} at {spec}")


def aspect(text: str, spec: FontSpec) -> float:
    """Ink width over ink height of ``text`` after the spec's horizontal scaling."""
    a = _ink(text, spec)
    return a.shape[1] / a.shape[0] * spec.width_scale


def render_glyph(text: str, spec: FontSpec, height: int, width: int) -> np.ndarray:
    """Coverage in [0, 1] (float32), ``height`` × ``width``, the ink stretched to fill it.

    Every character is fitted to the row height, as plate lettering has one cap height.
    """
    a = _ink(text, spec)
    out = cv2.resize(a, (max(1, width), max(1, height)), interpolation=cv2.INTER_AREA)
    return out.astype(np.float32) / 255.0
