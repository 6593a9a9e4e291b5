"""Sheets of gate crops with their labels, for checking labels by eye.

    python -m export.gate_sheet --split val --out out/gate_val      # every validation crop
    python -m export.gate_sheet --names out/suspects.txt --out out/suspects

Each tile shows the crop (scaled to a fixed height), its file name and its label, and a second
label when one is given (``--names`` lines ``image,label,other``). Sheets go to an ignored
folder: they show real crops and are never committed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from export.gate_data import GATE_DIR, gate_split
from export.synth.glyphs import load_font

COLS = 4
TILE_W, TILE_H = 330, 150
CROP_H = 105
PER_SHEET = 28


def _tile(image: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    k = min(CROP_H / image.shape[0], (TILE_W - 4) / image.shape[1])
    crop = cv2.resize(image, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    tile = np.full((TILE_H, TILE_W), 255, np.uint8)
    tile[2:2 + crop.shape[0], 2:2 + crop.shape[1]] = crop
    pil = Image.fromarray(tile)
    font = load_font("Roboto Condensed", "RobotoCondensed[wght].ttf", 500.0, None, 17)
    draw = ImageDraw.Draw(pil)
    for i, line in enumerate(lines):
        draw.text((3, CROP_H + 4 + 19 * i), line, font=font, fill=0)
    return np.asarray(pil)


def write_sheets(items: Sequence[tuple[Path | np.ndarray, Sequence[str]]], out: Path
                 ) -> list[Path]:
    """PNG sheets of ``items`` (a crop's path or gray pixels, text lines), PER_SHEET tiles
    each."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in range(0, len(items), PER_SHEET):
        tiles = [_tile(p if isinstance(p, np.ndarray) else
                       cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), lines)
                 for p, lines in items[s:s + PER_SHEET]]
        tiles += [np.full((TILE_H, TILE_W), 200, np.uint8)] * (-len(tiles) % COLS)
        rows = [np.hstack(tiles[r:r + COLS]) for r in range(0, len(tiles), COLS)]
        path = out / f"sheet{s // PER_SHEET:02d}.png"
        cv2.imwrite(str(path), np.vstack(rows))
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=("train", "val"))
    ap.add_argument("--names", type=Path, help="CSV lines image,label[,other]")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.names:
        rows = [line.split(",") for line in args.names.read_text("utf-8").splitlines() if line]
        items = [(GATE_DIR / "images" / r[0], [r[0], " / ".join(r[1:])]) for r in rows]
    else:
        train, val = gate_split()
        crops = val if args.split == "val" else train
        items = [(c.path, [f"{c.path.name} {c.layout}", c.text]) for c in crops]
    for p in write_sheets(items, args.out):
        print(p)


if __name__ == "__main__":
    main()
