"""Training crops for the plate check (the detector's second stage).

Boxes come from where the check will meet them: the detector's own candidates on the training
photos and synthetic scenes (a plate when IoU ≥ 0.5 with one, not a plate when it overlaps
none; in between is left out), the annotated plates, and random boxes of plate sizes anywhere.
Crops are cut with the runtime's :func:`edge_alpr.verifier.check_crops` after the box is
jittered as detector boxes are; a plate's target also holds its true box relative to the
jittered one (:func:`box_deltas`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_alpr.detector import Detector
from edge_alpr.geometry import Box
from edge_alpr.verifier import check_crops

from .detector_data import Frame, camera_blur, photometric

CANDIDATE_THRESHOLD = 0.05  # mine every candidate the cascade could ever keep
POSITIVE_IOU = 0.5
NEGATIVE_IOU = 0.1
RANDOM_PER_FRAME = 4
# Plate boxes in a 1920-wide frame: width 70–320 px, width/height 1.4–5 (two-row to one-row).
RANDOM_WIDTH = (60.0, 340.0)
RANDOM_ASPECT = (1.3, 5.5)
# Plates in the training photos that the annotations miss (a car behind, read by eye); no
# box near them is used as a negative.
UNANNOTATED = {"48.jpg": ((299.0, 299.0, 443.0, 342.0),)}


@dataclass(frozen=True)
class Boxes:
    """Labelled boxes of one frame: ``frame`` indexes the frame list, boxes in its pixels."""

    frame: int
    positive: np.ndarray  # (N, 8): a box, then the plate it found
    negative: np.ndarray  # (M, 4)


def _ious(boxes: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(N, T) IoU of each box with each ``truth`` box."""
    b, t = boxes[:, None, :], truth[None, :, :]
    iw = np.clip(np.minimum(b[..., 2], t[..., 2]) - np.maximum(b[..., 0], t[..., 0]), 0, None)
    ih = np.clip(np.minimum(b[..., 3], t[..., 3]) - np.maximum(b[..., 1], t[..., 1]), 0, None)
    inter = iw * ih
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    return inter / (area(b) + area(t) - inter)


def _best_iou(boxes: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(N,) largest IoU of each box with any ``truth`` box (0 when there is none)."""
    if len(truth) == 0 or len(boxes) == 0:
        return np.zeros(len(boxes))
    return _ious(boxes, truth).max(axis=1)


def random_boxes(rng: np.random.Generator, frame: Frame, n: int) -> np.ndarray:
    """``n`` plate-sized boxes anywhere in the frame (frame pixels)."""
    h, w = frame.image.shape
    bw = rng.uniform(*RANDOM_WIDTH, n) * frame.scale
    bh = bw / rng.uniform(*RANDOM_ASPECT, n)
    x0 = rng.uniform(0, np.maximum(w - bw, 1))
    y0 = rng.uniform(0, np.maximum(h - bh, 1))
    return np.stack([x0, y0, x0 + bw, y0 + bh], axis=1).astype(np.float32)


def label_frames(rng: np.random.Generator, frames: list[Frame], detector: Detector,
                 ignore: list[np.ndarray]) -> list[Boxes]:
    """Positive and negative boxes of each frame: detector candidates and random boxes,
    labelled against the frame's plates; ``ignore[i]`` are regions never used as negatives."""
    out = []
    for i, f in enumerate(frames):
        cands = np.array([d.box.as_list() for d in detector(f.image, CANDIDATE_THRESHOLD)],
                         np.float32).reshape(-1, 4)
        boxes = np.concatenate([cands, random_boxes(rng, f, RANDOM_PER_FRAME)])
        iou = _best_iou(boxes, f.boxes)
        neg = boxes[(iou < NEGATIVE_IOU) & (_best_iou(boxes, ignore[i]) < NEGATIVE_IOU)]
        hit = iou >= POSITIVE_IOU
        found = f.boxes[_ious(boxes[hit], f.boxes).argmax(axis=1)] if hit.any() else boxes[:0]
        pos = np.concatenate([np.hstack([f.boxes, f.boxes]), np.hstack([boxes[hit], found])])
        out.append(Boxes(i, pos.reshape(-1, 8), neg))
    return out


def jitter(rng: np.random.Generator, box: np.ndarray) -> Box:
    """A detector-like error: centre shifted ≤ 8% and sides scaled 0.85–1.2; one box in three
    drawn 1.2–2× too large, as the detector draws the smallest plates."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2 + rng.uniform(-0.08, 0.08) * w
    cy = (y0 + y1) / 2 + rng.uniform(-0.08, 0.08) * h
    grow = (1.2, 2.0) if rng.random() < 1 / 3 else (0.85, 1.2)
    w, h = w * rng.uniform(*grow), h * rng.uniform(*grow)
    return Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def box_deltas(box: Box, truth: np.ndarray) -> np.ndarray:
    """The deltas :func:`edge_alpr.verifier.apply_deltas` turns ``box`` into ``truth`` with."""
    t = Box(*truth)
    (cx, cy), (tx, ty) = box.center, t.center
    return np.array([(tx - cx) / box.width, (ty - cy) / box.height,
                     np.log(t.width / box.width), np.log(t.height / box.height)], np.float32)


def make_batch(rng: np.random.Generator, frames: list[Frame], pos: list[tuple[int, np.ndarray]],
               neg: list[tuple[int, np.ndarray]], batch: int, input_hw: tuple[int, int],
               margin: float, pos_weights: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Half plates, half not: jittered, cut as at run time, blurred as cameras blur
    (:func:`camera_blur`), photometrically augmented; non-plates also mirrored (a mirrored
    plate would be a new kind of negative). Targets are (label, box deltas), the deltas zero
    for non-plates."""
    xs = np.empty((batch, *input_hw, 1), np.uint8)
    ys = np.zeros((batch, 5), np.float32)
    n_pos = batch // 2
    picks = [pos[i] for i in rng.choice(len(pos), n_pos, p=pos_weights)]
    picks += [neg[i] for i in rng.integers(0, len(neg), batch - n_pos)]
    for k, (fi, boxes) in enumerate(picks):
        box = jitter(rng, boxes[:4])
        crop = check_crops(frames[fi].image, [box], input_hw, margin)[0]
        # Input pixels per 1920-frame pixel: the box with its margins fills the input's width.
        input_px = input_hw[1] * frames[fi].scale / (box.width * (1 + 2 * margin))
        crop = camera_blur(rng, crop, input_px)
        if k < n_pos:
            ys[k] = 1.0, *box_deltas(box, boxes[4:])
        elif rng.random() < 0.5:
            crop = crop[:, ::-1]
        xs[k, :, :, 0] = photometric(rng, np.ascontiguousarray(crop))
    return xs, ys
