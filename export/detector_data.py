"""Training batches for the detector: frames at the deployment scale, cropped, augmented,
with CenterNet targets.

A source frame is a grayscale image with plate boxes. At run time a 1920-wide frame is shrunk
to the detector's 640-px input, so training samples scales around 640/1920 of the original
(×0.6–1.5) and crops a square window, plates favoured, padded like the letterbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from edge_alpr.detector import PAD_VALUE

from .conditions import defocus, motion_blur, spot
from .detector_model import INPUT_HW, STRIDE

# Channels of the target map: heat, log w, log h, offset x, offset y, centre mask.
TARGET_CHANNELS = 6
CROP = 256
BASE_SCALE = INPUT_HW[1] / 1920
SCALE_RANGE = (0.6, 1.5)
NEAR_PLATE = 0.75
# Camera blur on a share of crops, plates and others alike (so blur tells nothing about which
# it is), in pixels of a 1920-wide frame: motion up to about what a car's speed smears at
# 1080p, defocus of a lens a little off.
MOTION_SHARE, MOTION_PX = 0.3, (3.0, 20.0)
DEFOCUS_SHARE, DEFOCUS_PX = 0.15, (1.0, 4.0)
# Headlight reflections (``train_detector --glare``): a spot on each plate with this chance,
# and one anywhere in the crop with the other, so that a spot tells nothing about a plate.
GLARE_PLATE, GLARE_ANYWHERE = 0.3, 0.15


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # grayscale uint8
    boxes: np.ndarray  # (N, 4) float x0, y0, x1, y1 in this image's pixels
    scale: float = 1.0  # this image's size relative to the original 1920×1080 photo
    hard: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    """Boxes a previous detector wrongly called plates (hard negatives), same pixels."""


def encode_targets(boxes: np.ndarray, out_hw: tuple[int, int], stride: int = STRIDE
                   ) -> np.ndarray:
    """CenterNet targets for boxes in input pixels: a Gaussian per plate centre (its size
    following the box's), log size and sub-cell offset at the centre cell."""
    h, w = out_hw
    t = np.zeros((h, w, TARGET_CHANNELS), np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for x0, y0, x1, y1 in boxes / stride:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ix, iy = int(cx), int(cy)
        if not (0 <= ix < w and 0 <= iy < h):
            continue
        bw, bh = max(x1 - x0, 0.25), max(y1 - y0, 0.25)
        sx, sy = max(0.7, bw / 6), max(0.7, bh / 6)
        g = np.exp(-((xs - ix) ** 2 / (2 * sx**2) + (ys - iy) ** 2 / (2 * sy**2)))
        t[:, :, 0] = np.maximum(t[:, :, 0], g)
        t[iy, ix, 0] = 1.0
        # Size is regressed wherever the Gaussian is high, so a peak one cell off still
        # reads the right size; the offset only at the centre cell.
        near = g > 0.5
        t[near, 1], t[near, 2] = np.log(bw), np.log(bh)
        t[iy, ix, 3:6] = cx - ix, cy - iy, 1.0
    return t


def random_crop(rng: np.random.Generator, frame: Frame, size: int = CROP,
                near_plate: float = NEAR_PLATE, near_hard: float = 0.0
                ) -> tuple[np.ndarray, np.ndarray, float]:
    """A ``size``² window of the frame at a random deployment scale: around a plate with
    probability ``near_plate``, around a hard negative with ``near_hard``, else anywhere;
    boxes in crop pixels, and the crop's pixels per pixel of a 1920-wide frame."""
    s = BASE_SCALE * rng.uniform(*SCALE_RANGE) / frame.scale  # crop px per frame px
    span = size / s  # window side in frame pixels
    img_h, img_w = frame.image.shape
    pick = rng.random()
    centres = (frame.boxes if pick < near_plate else
               frame.hard if pick < near_plate + near_hard else frame.boxes[:0])
    if len(centres):
        x0, y0, x1, y1 = centres[rng.integers(len(centres))]
        cx = (x0 + x1) / 2 + rng.uniform(-0.4, 0.4) * span
        cy = (y0 + y1) / 2 + rng.uniform(-0.4, 0.4) * span
    else:
        cx, cy = rng.uniform(0, img_w), rng.uniform(0, img_h)
    wx0, wy0 = int(round(cx - span / 2)), int(round(cy - span / 2))
    side = int(round(span))
    window = np.full((side, side), PAD_VALUE, np.uint8)
    sx0, sy0 = max(wx0, 0), max(wy0, 0)
    sx1, sy1 = min(wx0 + side, img_w), min(wy0 + side, img_h)
    if sx1 > sx0 and sy1 > sy0:
        window[sy0 - wy0:sy1 - wy0, sx0 - wx0:sx1 - wx0] = frame.image[sy0:sy1, sx0:sx1]
    interp = cv2.INTER_AREA if size < side else cv2.INTER_LINEAR
    crop = cv2.resize(window, (size, size), interpolation=interp)
    k = size / side
    boxes = (frame.boxes - [wx0, wy0, wx0, wy0]) * k
    return crop, boxes.reshape(-1, 4).astype(np.float32), s * frame.scale


def photometric(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Light, contrast, blur, noise, CLAHE and JPEG, as cameras at a car park vary them."""
    img = img.astype(np.float32)
    if rng.random() < 0.8:
        img = img * rng.uniform(0.5, 1.4) + rng.uniform(-50, 50)
    if rng.random() < 0.3:
        img = 255.0 * (np.clip(img, 0, 255) / 255.0) ** rng.uniform(0.6, 1.6)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.3))
    if rng.random() < 0.3:
        img = img + rng.normal(0, rng.uniform(2, 10), img.shape)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.15:
        out = cv2.createCLAHE(clipLimit=rng.uniform(1.5, 3.0), tileGridSize=(8, 8)).apply(out)
    if rng.random() < 0.3:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 90))])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out


def camera_blur(rng: np.random.Generator, crop: np.ndarray, input_px: float) -> np.ndarray:
    """``crop`` blurred as a camera might have blurred its frame; ``input_px`` is the crop's
    pixels per pixel of a 1920-wide frame. Motion mostly horizontal (cars cross the view)."""
    r = rng.random()
    if r < MOTION_SHARE:
        angle = rng.normal(0, 15) if rng.random() < 0.7 else rng.uniform(0, 180)
        length = round(rng.uniform(*MOTION_PX) * input_px)
        return motion_blur(crop, length, angle) if length >= 2 else crop
    if r < MOTION_SHARE + DEFOCUS_SHARE:
        radius = rng.uniform(*DEFOCUS_PX) * input_px
        return defocus(crop, radius) if radius >= 0.7 else crop
    return crop


def headlight_glare(rng: np.random.Generator, crop: np.ndarray, boxes: np.ndarray
                    ) -> np.ndarray:
    """``crop`` with a lamp's reflection on some of its plates (``boxes``, crop pixels): a
    saturated spot a character or two across, anywhere on the plate's middle, any angle, sharp
    or with a halo; and now and then one anywhere else. A spot splits a plate in two bright
    halves, and a detector that never saw one boxes only one of them."""
    f = crop.astype(np.float32)
    for x0, y0, x1, y1 in boxes:
        if rng.random() < GLARE_PLATE:
            w, h = x1 - x0, y1 - y0
            f = spot(f, x0 + w * rng.uniform(0.1, 0.9), y0 + h * rng.uniform(0.2, 0.8),
                     rng.uniform(0, np.pi), w * rng.uniform(0.015, 0.08),
                     h * rng.uniform(0.04, 0.15), rng.uniform(250, 600), rng.uniform(0.3, 3.0))
    if rng.random() < GLARE_ANYWHERE:
        side = crop.shape[0] * rng.uniform(0.005, 0.03)
        f = spot(f, rng.uniform(0, crop.shape[1]), rng.uniform(0, crop.shape[0]),
                 rng.uniform(0, np.pi), side * rng.uniform(1, 3), side, rng.uniform(250, 600),
                 rng.uniform(0.3, 3.0))
    return np.clip(f, 0, 255).astype(np.uint8)


def make_batch(rng: np.random.Generator, frames: list[Frame], weights: np.ndarray,
               batch: int, size: int = CROP, near_plate: float = NEAR_PLATE,
               near_hard: float = 0.0, blur: bool = False, glare: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` augmented crops drawn from ``frames`` with probabilities ``weights``; with
    ``glare``, headlight reflections (:func:`headlight_glare`), then with ``blur``, camera
    blur (:func:`camera_blur`), before the photometric changes."""
    xs = np.empty((batch, size, size, 1), np.uint8)
    ys = np.empty((batch, size // STRIDE, size // STRIDE, TARGET_CHANNELS), np.float32)
    for i, j in enumerate(rng.choice(len(frames), size=batch, p=weights)):
        crop, boxes, frame_px = random_crop(rng, frames[j], size, near_plate, near_hard)
        if glare:
            crop = headlight_glare(rng, crop, boxes)
        if blur:
            crop = camera_blur(rng, crop, frame_px)
        xs[i, :, :, 0] = photometric(rng, crop)
        ys[i] = encode_targets(boxes, (size // STRIDE, size // STRIDE))
    return xs, ys
