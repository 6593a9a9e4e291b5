"""Daylight plates with texts nobody photographed, made of the training photos' own pixels:
each character of a real training plate replaced by a real character of the same kind (digit
or letter) cut from a training plate.

Why: the whole-plate model has seen 40 real daylight plates, and it reads those far better
under blur than plates it never saw (15 px horizontal blur: 33 of the 40 training plates, 8
of the 12 validation ones), so part of what it learned of them is their texts. A spliced
plate keeps a real plate's background, lighting, perspective, font and its characters'
real strokes, and gives them a new text each draw. Trained with (``export.train_ocr --mix``),
they read no better; the model card has the run.

    python -m export.splice --sheet out/splice.png    # look at some (real pixels: never commit)
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from edge_alpr.alphabet import DIGITS
from edge_alpr.annotations import PlateAnnotation
from edge_alpr.geometry import Box

from .data import PLATE_CONTEXT, photos, read_gray, split

# A character is cut as its box grown by PAD of its size per side, and pasted fading out over
# that margin: annotated boxes are tight, and a hard edge would be a cue no camera makes.
PAD = 0.08
# A pasted character keeps its own width to height (a 1 is narrow), but at most this many
# times the width of the character it replaces, so that it stays clear of its neighbours.
MAX_WIDER = 1.3
# The paper under a character is found by a closing this many character heights across.
STROKE_KERNEL = 0.35
# Each character keeps its own glyph with this chance, so hosts' real pairs stay in the mix.
KEEP = 0.25
# Ink and paper levels as percentiles of a region's gray values (daylight plates: dark ink).
LEVELS = (5.0, 95.0)


@dataclass(frozen=True)
class Host:
    """A training plate whose 7 annotated characters spell its text: its box grown by
    PLATE_CONTEXT cut from its photo, and its annotation in that cut's pixels."""

    image: np.ndarray
    plate: PlateAnnotation


@dataclass(frozen=True)
class Glyph:
    """One annotated character, cut as its box grown by PAD, from a plate of ``layout``."""

    image: np.ndarray
    label: str
    layout: str

    @property
    def aspect(self) -> float:
        h, w = self.image.shape
        return w / h


def hosts_and_glyphs(which: str = "train") -> tuple[list[Host], list[Glyph]]:
    """The photos' ``which`` split's plates whose characters spell their text and that have
    room around them, and all those plates' characters."""
    part = split(photos())[0 if which == "train" else 1]
    hosts, glyphs = [], []
    for photo in part:
        gray = read_gray(photo)
        for plate in photo.plates:
            if "".join(c.label for c in plate.chars) != plate.text:
                continue
            # A host needs its surroundings (those of the runtime's cut and the paper's
            # closing) inside the photo; its characters can still be donors.
            room = plate.box.pad(PLATE_CONTEXT)
            if room.clamp(gray.shape[1], gray.shape[0]) == room:
                x0, y0, _, _ = room.to_int()
                hosts.append(Host(room.crop(gray).copy(), _shifted(plate, -x0, -y0)))
            glyphs += [Glyph(c.box.pad(PAD).crop(gray).copy(), c.label, plate.layout)
                       for c in plate.chars]
    return hosts, glyphs


def _shifted(plate: PlateAnnotation, dx: float, dy: float) -> PlateAnnotation:
    return replace(plate, box=plate.box.shift(dx, dy),
                   chars=tuple(replace(c, box=c.box.shift(dx, dy)) for c in plate.chars))


def _levels(x: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(x, LEVELS)
    return float(lo), float(max(hi, lo + 1.0))


def _feather(h: int, w: int) -> np.ndarray:
    """(h, w) weights: 1 on the character's box, falling linearly to 0 at the cut's edge."""
    def ramp(n: int) -> np.ndarray:
        # Distance from the centre in units of the box's half size; the cut's edge is at 1+2·PAD.
        d = np.abs((np.arange(n) + 0.5) / n * 2 - 1) * (1 + 2 * PAD)
        return np.clip((1 + 2 * PAD - d) / (2 * PAD), 0, 1)
    return np.minimum(ramp(h)[:, None], ramp(w)[None, :]).astype(np.float32)


def paper(rng: np.random.Generator, gray: np.ndarray, plate: PlateAnnotation) -> np.ndarray:
    """The plate's paper without its ink: a gray closing of the photo (dark strokes thinner
    than about a third of a character's height filled from either side), its shading kept;
    lowered and roughened to the paper's own level and grain, which a closing overshoots."""
    height = float(np.median([c.box.height for c in plate.chars]))
    k = 2 * int(height * STROKE_KERNEL / 2) + 1
    closed = cv2.morphologyEx(gray, cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    residual = (closed.astype(np.float32) - gray)[ink == 0]
    bias, grain = float(np.median(residual)), float(np.std(residual))
    return closed - bias + rng.normal(0, grain, gray.shape).astype(np.float32)


def _blend(gray: np.ndarray, box: Box, over: np.ndarray) -> None:
    """``over`` (the size of ``box`` grown by PAD) laid on ``gray`` there, faded at the edge."""
    x0, y0, x1, y1 = box.pad(PAD).to_int()
    under = gray[y0:y1, x0:x1].astype(np.float32)
    m = _feather(y1 - y0, x1 - x0)
    gray[y0:y1, x0:x1] = np.clip(under + m * (over - under), 0, 255).astype(np.uint8)


def paste(gray: np.ndarray, blank: np.ndarray, box: Box, glyph: Glyph) -> None:
    """Replace the character at ``box`` of ``gray`` (in place) by ``glyph``: the old one
    painted over with ``blank`` (:func:`paper`), the new one drawn darkest-wins at the box's
    height and centre, its ink and paper mapped to the old one's."""
    ink, light = _levels(box.pad(PAD).crop(gray))
    x0, y0, x1, y1 = box.pad(PAD).to_int()
    _blend(gray, box, blank[y0:y1, x0:x1])
    cx, cy = box.center
    width = min(box.height * glyph.aspect, box.width * MAX_WIDER)
    new = Box(cx - width / 2, box.y0, cx + width / 2, box.y1)
    x0, y0, x1, y1 = new.pad(PAD).to_int()
    donor = cv2.resize(glyph.image, (x1 - x0, y1 - y0),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    dl, dh = _levels(donor)
    donor = ink + (donor - dl) * (light - ink) / (dh - dl)
    _blend(gray, new, np.minimum(gray[y0:y1, x0:x1].astype(np.float32), donor))


def splice(rng: np.random.Generator, host: Host, glyphs: list[Glyph]
           ) -> tuple[np.ndarray, str]:
    """A copy of the host's image with its plate's characters replaced, and the new text."""
    gray = host.image.copy()
    blank = paper(rng, gray, host.plate)
    text = []
    for c in host.plate.chars:
        digit = c.label in DIGITS
        fits = [g for g in glyphs
                if (g.label in DIGITS) == digit and g.layout == host.plate.layout]
        if rng.random() < KEEP or not fits:
            text.append(c.label)
            continue
        g = fits[int(rng.integers(len(fits)))]
        paste(gray, blank, c.box, g)
        text.append(g.label)
    return gray, "".join(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sheet", type=Path, required=True)
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    hosts, glyphs = hosts_and_glyphs()
    rng = np.random.default_rng(args.seed)
    tiles = []
    for i in range(args.n):
        h = hosts[i % len(hosts)]
        gray, text = splice(rng, h, glyphs)
        pair = [h.plate.box.pad(0.15).crop(x) for x in (h.image, gray)]
        tile = np.hstack([cv2.resize(x, (240, 100)) for x in pair])
        cv2.putText(tile, f"{h.plate.text} > {text}".encode("ascii", "replace").decode(),
                    (4, 96), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 255, 1)
        tiles.append(tile)
    rows = [np.hstack(tiles[i:i + 3]) for i in range(0, len(tiles) - len(tiles) % 3, 3)]
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.sheet), np.vstack(rows))
    print(f"{args.sheet}: {len(rows) * 3} spliced plates beside their hosts")


if __name__ == "__main__":
    main()
