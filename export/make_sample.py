"""Render the bundled sample scene: synthetic plates on a synthetic background (no real photo).

    python -m export.make_sample --out samples

Writes ``scene.jpg`` (1920×1080) and ``scene.json`` with the true plate boxes and texts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from .synth.backgrounds import synthetic_background
from .synth.scene import render_scene

TEXTS = ("4253УБГ", "9081ХӨР")
SEED = 11


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("samples"))
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    background = synthetic_background(rng, 1080, 1920)
    scene = render_scene(rng, background, [], n_plates=len(TEXTS), texts=TEXTS)
    args.out.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out / "scene.jpg"), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    truth = [{"box": [round(v, 1) for v in p.box.as_list()], "text": p.text,
              "layout": p.layout} for p in scene.plates]
    (args.out / "scene.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(truth, ensure_ascii=False))


if __name__ == "__main__":
    main()
