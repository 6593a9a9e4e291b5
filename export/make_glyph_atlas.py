"""Render the glyph atlas that ``edge_alpr.draw`` uses to write Cyrillic plate text
(``cv2.putText`` has only Latin Hershey fonts, and the runtime has no font renderer).

    python -m export.make_glyph_atlas --out edge_alpr/assets

Writes ``glyphs.png`` (one row of white-on-black coverage, Roboto Condensed Bold, OFL) and
``glyphs.json`` (each character's x offset and advance width in the row).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from edge_alpr.alphabet import DIGITS, LETTERS

from .synth.glyphs import load_font

CHARS = DIGITS + LETTERS + " .%?-:#"
HEIGHT = 48  # px of the font's em in the atlas; drawing scales it


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("edge_alpr/assets"))
    args = ap.parse_args()
    font = load_font("Roboto Condensed", "RobotoCondensed[wght].ttf", 700.0, None, HEIGHT)
    ascent, descent = font.getmetrics()
    widths = [int(np.ceil(font.getlength(c))) + 2 for c in CHARS]
    atlas = Image.new("L", (sum(widths), ascent + descent))
    draw = ImageDraw.Draw(atlas)
    table, x = {}, 0
    for c, w in zip(CHARS, widths, strict=True):
        draw.text((x + 1, 0), c, font=font, fill=255)
        table[c] = [x, w]
        x += w
    args.out.mkdir(parents=True, exist_ok=True)
    atlas.save(args.out / "glyphs.png", optimize=True)
    meta = {"font": "Roboto Condensed Bold (SIL Open Font License 1.1)", "height": atlas.height,
            "glyphs": table}
    (args.out / "glyphs.json").write_text(json.dumps(meta, ensure_ascii=False) + "\n")
    print(f"{len(CHARS)} glyphs, atlas {atlas.width}×{atlas.height}")


if __name__ == "__main__":
    main()
