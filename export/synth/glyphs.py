"""Condensed sans fonts from the fontpkg packages, and glyphs rendered as ink coverage maps."""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Glyphs are drawn this large once and then resized, so small plates still get smooth edges.
_DRAW_SIZE = 160


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


def random_font(rng: np.random.Generator) -> FontSpec:
    fam = FAMILIES[int(rng.choice(len(FAMILIES), p=FAMILY_WEIGHTS))]
    file = fam.files[int(rng.integers(0, len(fam.files)))]
    # Axis values are rounded so the glyph cache gets hits across plates.
    wght = None if fam.wght is None else float(round(rng.uniform(*fam.wght) / 50) * 50)
    wdth = None if fam.wdth is None else float(round(rng.uniform(*fam.wdth) / 10) * 10)
    return FontSpec(fam.name, file, wght, wdth, float(rng.uniform(0.85, 1.15)))


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


@lru_cache(maxsize=2048)
def _ink(text: str, family: str, file: str, wght: float | None, wdth: float | None
         ) -> np.ndarray:
    """Coverage (uint8) of ``text`` drawn large, cropped to its ink."""
    font = load_font(family, file, wght, wdth)
    x0, y0, x1, y1 = font.getbbox(text)
    pad = 4
    image = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad))
    ImageDraw.Draw(image).text((pad - x0, pad - y0), text, font=font, fill=255)
    a = np.asarray(image)
    ys, xs = np.nonzero(a)
    if ys.size == 0:
        raise ValueError(f"font {family} draws no ink for {text!r}")
    return a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def aspect(text: str, spec: FontSpec) -> float:
    """Ink width over ink height of ``text`` after the spec's horizontal scaling."""
    a = _ink(text, spec.family, spec.file, spec.wght, spec.wdth)
    return a.shape[1] / a.shape[0] * spec.width_scale


def render_glyph(text: str, spec: FontSpec, height: int, width: int) -> np.ndarray:
    """Coverage in [0, 1] (float32), ``height`` × ``width``, the ink stretched to fill it.

    Every character is fitted to the row height, as plate lettering has one cap height.
    """
    a = _ink(text, spec.family, spec.file, spec.wght, spec.wdth)
    out = cv2.resize(a, (max(1, width), max(1, height)), interpolation=cv2.INTER_AREA)
    return out.astype(np.float32) / 255.0
