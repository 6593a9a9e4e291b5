"""Training samples for the whole-plate recognizer: plates with their text, cut and degraded as
a camera and the detector would deliver them.

A sample is a grayscale image, the plate's box in it and the plate text. Each draw cuts the
box with a jittered margin (detector boxes are a little off) through the runtime's own
``plate_input`` and then applies camera conditions at the recognizer's input scale:
motion blur up to ~15 px in any direction, defocus, low resolution (plates down to ~50 px
wide), night/IR (dark, noisy, bright plate), glare, JPEG, rotation and shear, dirt,
occlusion and inverted polarity.

    python -m export.ocr_data --synthetic 24000 --seed 1     # render and cache the plates
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_alpr.geometry import Box
from edge_alpr.plate_ocr import plate_input
from export.conditions import spot
from export.data import PLATE_CONTEXT, photos, plate_crops, split
from export.gate_data import gate_split
from export.splice import hosts_and_glyphs, splice

CACHE_DIR = Path(__file__).resolve().parent.parent / "cache"


@dataclass(frozen=True, eq=False)
class Sample:
    image: np.ndarray  # gray uint8
    box: Box  # the plate in image pixels
    text: str


def _render(args: tuple[int, int]) -> list[tuple[np.ndarray, list[float], str]]:
    from export.synth.crop import render_plate_crop  # per worker: fonts load once there

    n, seed = args
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        image, plate = render_plate_crop(rng)
        out.append((image, plate.box.as_list(), plate.text))
    return out


def renderer_version() -> str:
    """A digest of the renderer's source: a cache made by other glyphs is never reused."""
    digest = hashlib.sha1()
    for path in sorted((Path(__file__).parent / "synth").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def synthetic_samples(n: int, seed: int, workers: int = 2) -> list[Sample]:
    """``n`` rendered plate crops (all layouts and colour schemes), cached in cache/."""
    path = CACHE_DIR / f"ocr-synth-{n}-{seed}-{renderer_version()}.npz"
    if not path.is_file():
        t0 = time.perf_counter()
        chunks = [(n // 16 + (i < n % 16), seed * 1000 + i) for i in range(16)]
        with ProcessPoolExecutor(workers) as pool:
            rendered = [s for part in pool.map(_render, chunks) for s in part]
        path.parent.mkdir(parents=True, exist_ok=True)
        images = np.empty(len(rendered), object)
        images[:] = [r[0] for r in rendered]
        np.savez(path, images=images, boxes=np.array([r[1] for r in rendered], np.float32),
                 texts=np.array([r[2] for r in rendered]))
        print(f"rendered {n} plates in {time.perf_counter() - t0:.0f} s → {path}", flush=True)
    with np.load(path, allow_pickle=True) as f:
        return [Sample(i, Box(*b), str(t)) for i, b, t in zip(f["images"], f["boxes"], f["texts"],
                                                              strict=True)]


def gate_samples(which: str) -> list[Sample]:
    """The gate crops of the ``which`` split ("train" or "val"); the plate fills the crop."""
    crops = gate_split()[0 if which == "train" else 1]
    out = []
    for c in crops:
        image = cv2.imread(str(c.path), cv2.IMREAD_GRAYSCALE)
        out.append(Sample(image, Box(0, 0, image.shape[1], image.shape[0]), c.text))
    return out


def photo_samples(which: str) -> list[Sample]:
    """The annotated plates of the daylight photos' ``which`` split, with context around."""
    part = split(photos())[0 if which == "train" else 1]
    out = []
    for _, plate, crop in plate_crops(part, pad=PLATE_CONTEXT):
        k = 1 + 2 * PLATE_CONTEXT
        w, h = plate.box.width, plate.box.height
        # The crop is the box grown by PLATE_CONTEXT (clamped at the photo's edge; rare).
        x0 = (crop.shape[1] - w) / 2 if crop.shape[1] >= w * k - 1 else 0
        y0 = (crop.shape[0] - h) / 2 if crop.shape[0] >= h * k - 1 else 0
        out.append(Sample(crop, Box(x0, y0, x0 + w, y0 + h), plate.text))
    return out


def spliced_source() -> Callable[[np.random.Generator], Sample]:
    """A draw of a new daylight plate each call (:mod:`export.splice`): a training photo's
    plate with its characters swapped for other training plates' characters."""
    hosts, glyphs = hosts_and_glyphs("train")

    def one(rng: np.random.Generator) -> Sample:
        host = hosts[int(rng.integers(len(hosts)))]
        image, text = splice(rng, host, glyphs)
        return Sample(image, host.plate.box, text)

    return one


def _motion(image: np.ndarray, length: float, angle: float) -> np.ndarray:
    n = max(2, int(np.ceil(length)) | 1)
    k = np.zeros((n, n), np.float32)
    cv2.line(k, (0, n // 2), (n - 1, n // 2), 1.0, 1, cv2.LINE_AA)
    rot = cv2.getRotationMatrix2D(((n - 1) / 2, (n - 1) / 2), angle, 1.0)
    k = cv2.warpAffine(k, rot, (n, n))
    return cv2.filter2D(image, -1, k / max(k.sum(), 1e-6), borderType=cv2.BORDER_REPLICATE)


def _disc(image: np.ndarray, radius: float) -> np.ndarray:
    n = int(np.ceil(radius)) * 2 + 1
    k = np.zeros((n, n), np.float32)
    cv2.circle(k, (n // 2, n // 2), int(round(radius)), 1.0, -1, cv2.LINE_AA)
    return cv2.filter2D(image, -1, k / k.sum(), borderType=cv2.BORDER_REPLICATE)


# Chance of a small, sharp specular spot (``train_ocr --specular``); 0 draws nothing, so the
# generator's stream is the one the shipped model trained on.
SPECULAR = 0.0


def specular_spot(rng: np.random.Generator, f: np.ndarray) -> np.ndarray:
    """The lamp mirrored by the plate: a saturated, sharp-edged spot a character or two across,
    on the plate (the middle 80% of the input's width, 60% of its height), any angle."""
    h, w = f.shape
    return spot(f, rng.uniform(0.1 * w, 0.9 * w), rng.uniform(0.2 * h, 0.8 * h),
                rng.uniform(0, np.pi), rng.uniform(2, 9), rng.uniform(1.5, 5),
                rng.uniform(250, 600), rng.uniform(0.3, 1.5))


def camera(rng: np.random.Generator, x: np.ndarray, specular: float = SPECULAR) -> np.ndarray:
    """Camera conditions on one recognizer input (uint8 H×W), each with its own chance."""
    h, w = x.shape
    f = x.astype(np.float32)
    if rng.random() < 0.3:  # low resolution: the plate was 40-110 px wide in the frame
        small = int(rng.uniform(40, 110))
        f = cv2.resize(cv2.resize(f, (small, max(8, small * h // w)), interpolation=cv2.INTER_AREA),
                       (w, h), interpolation=cv2.INTER_LINEAR)
    r = rng.random()
    if r < 0.3:  # motion blur, up to ~15 px of a 150-px plate, mostly horizontal
        angle = rng.normal(0, 15) if rng.random() < 0.7 else rng.uniform(0, 180)
        f = _motion(f, rng.uniform(2, 18), angle)
    elif r < 0.45:
        f = _disc(f, rng.uniform(1, 3.5))
    elif r < 0.6:
        f = cv2.GaussianBlur(f, (0, 0), rng.uniform(0.6, 2.0))
    if rng.random() < 0.2:  # glare: a headlight's saturated spot with a halo, any angle
        f = spot(f, rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0, np.pi),
                 rng.uniform(2, 30), rng.uniform(2, 14), rng.uniform(150, 400), rng.uniform(1, 6))
    if specular and rng.random() < specular:
        f = specular_spot(rng, f)
    if rng.random() < 0.15:  # dirt or an occluding bar
        x0 = int(rng.uniform(0, w))
        bw = int(rng.uniform(3, 14))
        f[:, x0:x0 + bw] = f[:, x0:x0 + bw] * rng.uniform(0.2, 0.7) + rng.uniform(0, 60)
    if rng.random() < 0.2:  # night/IR: dark, low contrast, noisy
        f = f * rng.uniform(0.3, 0.7) + rng.uniform(0, 25)
        f += rng.normal(0, rng.uniform(2, 10), f.shape)
    elif rng.random() < 0.5:
        lo, hi = rng.uniform(0, 80), rng.uniform(170, 255)
        f = lo + f * (hi - lo) / 255 + rng.normal(0, rng.uniform(0, 6), f.shape)
    if rng.random() < 0.1:
        f = 255 - f  # the other polarity (light ink on a dark plate)
    out = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 90))])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out


def jitter_box(rng: np.random.Generator, box: Box) -> Box:
    """A detector-like box for ``box``: shifted, scaled, a little off in aspect."""
    w, h = box.width, box.height
    cx, cy = box.center
    cx += rng.normal(0, 0.03) * w
    cy += rng.normal(0, 0.05) * h
    s = np.exp(rng.normal(0.02, 0.06))
    w, h = w * s * np.exp(rng.normal(0, 0.04)), h * s * np.exp(rng.normal(0, 0.04))
    return Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def rotate(rng: np.random.Generator, image: np.ndarray, box: Box) -> np.ndarray:
    """The image rolled and sheared about the box centre (plates a camera sees at an angle)."""
    if rng.random() < 0.5:
        return image
    m = cv2.getRotationMatrix2D(box.center, float(rng.normal(0, 4)), 1.0)
    m[0, 1] += rng.normal(0, 0.08)  # shear: slanted strokes, as from a side view
    return cv2.warpAffine(image, m, (image.shape[1], image.shape[0]),
                          borderMode=cv2.BORDER_REPLICATE)


def draw(rng: np.random.Generator, sample: Sample, input_hw: tuple[int, int], margin: float,
         degrade: bool = True, specular: float = SPECULAR) -> np.ndarray:
    """One recognizer input for ``sample``, as the runtime would cut it, then degraded."""
    image = rotate(rng, sample.image, sample.box) if degrade else sample.image
    box = jitter_box(rng, sample.box) if degrade else sample.box
    x = plate_input(image, box, input_hw, margin)
    return camera(rng, x, specular) if degrade else x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--synthetic", type=int, default=24000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(f"{len(synthetic_samples(args.synthetic, args.seed))} synthetic plates")


if __name__ == "__main__":
    main()
