"""Render the bundled sample scene: synthetic plates on a drawn street scene (no real photo).

    python -m export.make_sample --out samples

Writes ``scene.jpg`` (1920×1080, gray) and ``scene.json`` with the true plate boxes and texts.
Each plate is pasted by ``render_scene`` into the bumper region of a drawn car, so it lands
where plates are.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from .synth.backgrounds import synthetic_background
from .synth.plate import SCHEMES
from .synth.scene import render_scene

# (text, car body x0, y0, x1, y1): one car nearer than the other. Plates are black on white
# (SCHEMES[0]), like every plate of the reference photos.
CARS = (("4253УБГ", 260, 380, 1060, 900), ("9081ХӨР", 1250, 470, 1750, 800))
SEED = 0  # the first seed giving one plate of each layout


def draw_car(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, shade: float) -> tuple:
    """A car seen from behind; returns its bumper region (x0, y0, x1, y1)."""
    w, h = x1 - x0, y1 - y0
    cv2.rectangle(img, (x0, y0 + h // 3), (x1, y1 - h // 8), shade, -1)
    cv2.rectangle(img, (x0 + w // 8, y0), (x1 - w // 8, y0 + h // 3), shade * 0.9, -1)
    cv2.rectangle(img, (x0 + w // 6, y0 + h // 20), (x1 - w // 6, y0 + h // 3 - h // 20),
                  40.0, -1)  # rear window
    for cx in (x0 + w // 6, x1 - w // 6):
        cv2.ellipse(img, (cx, y1 - h // 8), (w // 10, h // 8), 0, 0, 360, 25.0, -1)
    cv2.rectangle(img, (x0 + w // 14, y0 + h // 3 + h // 12), (x0 + w // 5, y0 + h // 2),
                  shade * 0.6, -1)  # lamps
    cv2.rectangle(img, (x1 - w // 5, y0 + h // 3 + h // 12), (x1 - w // 14, y0 + h // 2),
                  shade * 0.6, -1)
    return x0 + w // 4, y0 + h // 2, x1 - w // 4, y1 - h // 6


def street(rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A 1920×1080 float gray street with the cars of :data:`CARS`, and their bumper regions."""
    img = np.empty((1080, 1920), np.float32)
    img[:600] = np.linspace(205, 160, 600)[:, None]  # wall
    img[600:] = np.linspace(120, 90, 480)[:, None]  # ground
    img += synthetic_background(rng, 1080, 1920).astype(np.float32) * 0.15 - 20
    bumpers = [draw_car(img, *car, shade=float(rng.uniform(110, 170))) for _, *car in CARS]
    return img, bumpers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("samples"))
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    img, bumpers = street(rng)
    truth = []
    for (text, *_), (bx0, by0, bx1, by1) in zip(CARS, bumpers, strict=True):
        region = np.clip(img[by0:by1, bx0:bx1], 0, 255).astype(np.uint8)
        scene = render_scene(rng, region, [], n_plates=1, texts=[text], scheme=SCHEMES[0])
        img[by0:by1, bx0:bx1] = scene.image
        if not scene.plates:
            raise SystemExit(f"seed {args.seed}: plate {text} does not fit its car's bumper")
        (plate,) = scene.plates
        truth.append({"box": [round(v, 1) for v in plate.box.shift(bx0, by0).as_list()],
                      "text": plate.text, "layout": plate.layout})
    args.out.mkdir(parents=True, exist_ok=True)
    out = cv2.GaussianBlur(np.clip(img, 0, 255).astype(np.uint8), (3, 3), 0.8)
    cv2.imwrite(str(args.out / "scene.jpg"), out, [cv2.IMWRITE_JPEG_QUALITY, 88])
    (args.out / "scene.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(truth, ensure_ascii=False))


if __name__ == "__main__":
    main()
