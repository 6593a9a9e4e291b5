"""Contact sheets: synthetic plate crops beside real training crops, plus a few scenes; and
one sheet per character: synthetic samples beside every real example of it.

    python -m export.synth.contact_sheet --out out/sheet.png --seed 0 [--n 24]
    python -m export.synth.contact_sheet --per-char out/chars [--n 24] [--gate 96]

Per character, the real examples are the annotated characters of the training photos and the
characters the segmentation cuts from the gate crops of the training split
(``export.gate_chars``: one box per slot, labelled by position; machine-made labels). All
tiles are cut alike (``edge_alpr.segment.cut_chars``, larger than the classifier's input).

Write it outside the repository or under an ignored folder (out/): it shows real photos.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from edge_alpr.alphabet import DIGITS, LETTERS, N_DIGITS
from edge_alpr.annotations import PlateAnnotation
from edge_alpr.segment import CharBoxes, cut_chars
from export.data import photos, read_gray, split

from .crop import render_plate_crop
from .glyphs import load_font
from .plate import LAYOUTS, SCHEMES
from .scene import render_scene

COLS = 6
TILE = (260, 170)  # width, height of one crop tile, label strip included
LABEL_H = 22
HEADER_H = 30
N_SCENES = 3
SCENE_THUMB = (COLS * TILE[0] // N_SCENES, COLS * TILE[0] * 9 // (16 * N_SCENES))
_SYN, _REAL, _CHAR = (40, 170, 40), (200, 90, 0), (0, 0, 230)


def sheet_size(n: int) -> tuple[int, int]:
    """(width, height) of the sheet for ``n`` synthetic and ``n`` real crops."""
    rows = -(-n // COLS)
    return COLS * TILE[0], 3 * HEADER_H + 2 * rows * TILE[1] + SCENE_THUMB[1]


def _draw(image: np.ndarray, plates: Sequence[PlateAnnotation], color: tuple[int, int, int],
          chars: bool = True, width: int = 1) -> np.ndarray:
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    for plate in plates:
        x0, y0, x1, y1 = plate.box.to_int()
        cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), color, width)
        for c in plate.chars if chars else ():
            x0, y0, x1, y1 = c.box.to_int()
            cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), _CHAR, 1)
    return out


def _tile(image: np.ndarray, plate: PlateAnnotation, label: str,
          color: tuple[int, int, int]) -> np.ndarray:
    """The crop, scaled up to 2× to fill the tile, boxes drawn after scaling to stay thin."""
    w, h = TILE[0] - 4, TILE[1] - LABEL_H - 4
    k = min(w / image.shape[1], h / image.shape[0], 2.0)
    big = cv2.resize(image, None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST)
    scaled = PlateAnnotation(plate.box.scale(k), plate.text, plate.layout,
                             tuple(type(c)(c.label, c.box.scale(k)) for c in plate.chars))
    big = _draw(big, [scaled], color)
    tile = np.full((TILE[1], TILE[0], 3), 255, np.uint8)
    tile[2:2 + big.shape[0], 2:2 + big.shape[1]] = big
    return _label(tile, label, (2, TILE[1] - LABEL_H + 2), color)


def _label(image: np.ndarray, text: str, xy: tuple[int, int], color: tuple[int, int, int],
           size: int = 15) -> np.ndarray:
    """Text drawn with PIL, since cv2's fonts have no Cyrillic."""
    font = load_font("Roboto Condensed", "RobotoCondensed[wght].ttf", 500.0, None, size)
    pil = Image.fromarray(image[..., ::-1])
    ImageDraw.Draw(pil).text(xy, text, font=font, fill=color[::-1])
    return np.asarray(pil)[..., ::-1].copy()


def _grid(tiles: list[np.ndarray], rows: int) -> np.ndarray:
    blank = np.full((TILE[1], TILE[0], 3), 255, np.uint8)
    tiles = tiles + [blank] * (rows * COLS - len(tiles))
    return np.vstack([np.hstack(tiles[r * COLS:(r + 1) * COLS]) for r in range(rows)])


def _header(text: str) -> np.ndarray:
    strip = np.full((HEADER_H, COLS * TILE[0], 3), 235, np.uint8)
    return _label(strip, text, (6, 5), (0, 0, 0), 18)


def contact_sheet(seed: int, n: int) -> np.ndarray:
    """The sheet as a BGR image of :func:`sheet_size` ``(n)``."""
    rng = np.random.default_rng(seed)
    train = split(photos())[0]
    rows = -(-n // COLS)
    backgrounds = [read_gray(p) for p in train[:4]]

    syn = []
    # Cycle layouts × colour schemes so a short sheet still shows each combination.
    for i, (layout, scheme) in zip(range(n), itertools.cycle(itertools.product(LAYOUTS, SCHEMES))):
        image, plate = render_plate_crop(rng, layout=layout, scheme=scheme,
                                         background=backgrounds[i % len(backgrounds)])
        syn.append(_tile(image, plate, f"syn {plate.text} {scheme.name}", _SYN))

    real = []
    for photo, plate in itertools.islice(((p, pl) for p in train for pl in p.plates), n):
        box = plate.box.pad(0.2).clamp(photo.width, photo.height)
        x0, y0, _, _ = box.to_int()
        crop = box.crop(read_gray(photo))
        local = PlateAnnotation(plate.box.shift(-x0, -y0), plate.text, plate.layout,
                                tuple(type(c)(c.label, c.box.shift(-x0, -y0))
                                      for c in plate.chars))
        real.append(_tile(crop, local, f"real {plate.text} {photo.name}", _REAL))

    thumbs = []
    for photo in train[-N_SCENES:]:
        scene = render_scene(rng, read_gray(photo), photo.plates)
        n_real = len(photo.plates)
        pasted = scene.plates[:len(scene.plates) - n_real]
        full = _draw(_draw(scene.image, pasted, _SYN, chars=False, width=3),
                     scene.plates[len(pasted):], _REAL, chars=False, width=3)
        thumb = cv2.resize(full, SCENE_THUMB, interpolation=cv2.INTER_AREA)
        thumbs.append(_label(thumb, f"{photo.name}: {len(pasted)} pasted (green), "
                             f"{n_real} real (orange)", (6, 4), (0, 0, 255)))
    return np.vstack([_header("synthetic crops (as the CNN sees them, gray)"), _grid(syn, rows),
                      _header("real crops, training split"), _grid(real, rows),
                      _header("scenes: synthetic plates pasted into training photos"),
                      np.hstack(thumbs)])


CHAR_TILE = (40, 72)  # width, height of one character tile (cut_chars at this size)
CHAR_COLS = 24


def _char_tiles(gray: np.ndarray, boxes: Sequence[tuple[float, float, float, float]],
                light_ink: bool = False) -> list[np.ndarray]:
    """The boxes cut as the classifier gets them (light ink inverted)."""
    if not boxes:
        return []
    chars = CharBoxes(np.array(boxes, np.float64), np.zeros(len(boxes), np.int64), light_ink)
    return list(cut_chars(gray, chars, CHAR_TILE[1], CHAR_TILE[0]))


def _char_grid(title: str, tiles: list[np.ndarray], color: tuple[int, int, int]) -> np.ndarray:
    width = CHAR_COLS * (CHAR_TILE[0] + 2)
    strip = _label(np.full((HEADER_H, width, 3), 235, np.uint8), title, (6, 5), color, 18)
    if not tiles:
        return strip
    rows = -(-len(tiles) // CHAR_COLS)
    grid = np.full((rows * (CHAR_TILE[1] + 2), width), 255, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, CHAR_COLS)
        grid[r * (CHAR_TILE[1] + 2):r * (CHAR_TILE[1] + 2) + CHAR_TILE[1],
             c * (CHAR_TILE[0] + 2):c * (CHAR_TILE[0] + 2) + CHAR_TILE[0]] = t
    return np.vstack([strip, cv2.cvtColor(grid, cv2.COLOR_GRAY2BGR)])


def _text_with(rng: np.random.Generator, char: str) -> str:
    """A plate string with ``char`` in a slot that allows it (letters in the free last slot)."""
    from .text import random_text

    text = list(random_text(rng))
    text[int(rng.integers(0, N_DIGITS)) if char in DIGITS else len(text) - 1] = char
    return "".join(text)


def char_sheets(seed: int, n: int, max_gate: int) -> dict[str, np.ndarray]:
    """One BGR sheet per character: ``n`` synthetic samples (every layout and colour scheme,
    as gray crops), every annotated example in the training photos, up to ``max_gate``
    examples cut from the gate crops' training split."""
    from export.gate_chars import segmented
    from export.gate_data import gate_split

    rng = np.random.default_rng(seed)
    train = split(photos())[0]
    backgrounds = [read_gray(p) for p in train[:4]]
    real: dict[str, list[np.ndarray]] = {c: [] for c in DIGITS + LETTERS}
    for photo in train:
        gray = read_gray(photo)
        for plate in photo.plates:
            for c in plate.chars:
                real[c.label] += _char_tiles(gray, [c.box.as_list()])
    gate: dict[str, list[np.ndarray]] = {c: [] for c in DIGITS + LETTERS}
    for gp in segmented(gate_split()[0]):
        for k, c in enumerate(gp.crop.text):
            if len(gate[c]) < max_gate:
                gate[c] += _char_tiles(gp.image, [tuple(gp.chars.boxes[k])])
    sheets = {}
    combos = list(itertools.product(LAYOUTS, SCHEMES))
    for char in DIGITS + LETTERS:
        syn = []
        for i in range(n):
            layout, scheme = combos[i % len(combos)]
            image, plate = render_plate_crop(rng, _text_with(rng, char), layout,
                                             backgrounds[i % len(backgrounds)], scheme=scheme)
            syn += _char_tiles(image, [c.box.as_list() for c in plate.chars if c.label == char],
                               sum(scheme.ink) > sum(scheme.background))
        sheets[char] = np.vstack([
            _char_grid(f"{char}: synthetic ({len(syn)})", syn, _SYN),
            _char_grid(f"{char}: training photos ({len(real[char])})", real[char], _REAL),
            _char_grid(f"{char}: gate crops, training split ({len(gate[char])}, labels by "
                       f"position, machine-made)", gate[char], _REAL)])
    return sheets


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="PNG to write")
    where.add_argument("--per-char", type=Path, help="folder for one PNG per character")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=24, help="synthetic (and real) crops")
    parser.add_argument("--gate", type=int, default=96, help="gate examples per character")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # the machine is shared with training jobs
    if args.per_char:
        args.per_char.mkdir(parents=True, exist_ok=True)
        for i, (char, sheet) in enumerate(char_sheets(args.seed, args.n, args.gate).items()):
            path = args.per_char / f"{i:02d}_{ord(char):04x}.png"
            if not cv2.imwrite(str(path), sheet):
                raise SystemExit(f"cannot write {path}")
            print(path, char)
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(args.out), contact_sheet(args.seed, args.n)):
        raise SystemExit(f"cannot write {args.out}")
    print(args.out)


if __name__ == "__main__":
    main()
