"""Render synthetic scenes into the training photos and cache them for detector training.

    python -m export.make_scenes --n 2400 --seed 1 --out cache/scenes

Scenes are stored at half resolution: training shrinks frames to 0.2–0.5 of 1920×1080 anyway.
Shards of ``--shard`` scenes are written as they finish, so a partial run is usable.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from .data import photos, read_gray, split
from .synth.scene import render_scene

STORE_SCALE = 0.5
MAX_PLATES = 8


def render_shard(rng: np.random.Generator, backgrounds: list[tuple[np.ndarray, tuple]],
                 n: int) -> dict[str, np.ndarray]:
    images, boxes, counts = [], np.zeros((n, MAX_PLATES, 4), np.float32), np.zeros(n, np.int32)
    for i in range(n):
        bg, real = backgrounds[int(rng.integers(len(backgrounds)))]
        scene = render_scene(rng, bg, real)
        small = cv2.resize(scene.image, None, fx=STORE_SCALE, fy=STORE_SCALE,
                           interpolation=cv2.INTER_AREA)
        images.append(small)
        b = np.array([p.box.as_list() for p in scene.plates[:MAX_PLATES]], np.float32)
        boxes[i, : len(b)] = b * STORE_SCALE
        counts[i] = len(b)
    return {"images": np.stack(images), "boxes": boxes, "counts": counts,
            "scale": np.float32(STORE_SCALE)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2400)
    ap.add_argument("--shard", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("cache/scenes"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    train, _ = split(photos())
    backgrounds = [(read_gray(p), p.plates) for p in train]
    for k in range(0, args.n, args.shard):
        path = args.out / f"scenes_{args.seed}_{k // args.shard:03d}.npz"
        if path.exists():
            continue
        rng = np.random.default_rng([args.seed, k])
        np.savez(path, **render_shard(rng, backgrounds, min(args.shard, args.n - k)))
        print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    main()
