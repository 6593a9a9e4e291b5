"""Plate detection: letterbox a frame, run the detector, decode boxes in image pixels.

The detector is CenterNet-style: one output map of shape (H/stride, W/stride, 5) holding the
plate-centre heatmap (sigmoid), log width and log height in stride units, and the centre's
sub-cell offset (sigmoid). Input size, stride and threshold come from the model's metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import ModelLoadError
from .geometry import Box
from .image import to_gray
from .session import OnnxModel
from .timing import StageClock

PAD_VALUE = 114  # letterbox fill: mid-gray, like the training crops' padding
NMS_IOU = 0.45
MAX_DETECTIONS = 32


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the detector input: scaled, then placed at the top left."""

    scale: float
    width: int  # original frame size
    height: int


@dataclass(frozen=True)
class Detection:
    box: Box  # in original-image pixels
    score: float


def letterbox(gray: np.ndarray, input_hw: tuple[int, int]) -> tuple[np.ndarray, Letterbox]:
    """Resize ``gray`` to fit ``input_hw`` keeping its aspect ratio; pad right and bottom."""
    h, w = gray.shape[:2]
    in_h, in_w = input_hw
    scale = min(in_w / w, in_h / h)
    new_w, new_h = max(1, min(in_w, round(w * scale))), max(1, min(in_h, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    out = np.full((in_h, in_w), PAD_VALUE, dtype=np.uint8)
    out[:new_h, :new_w] = cv2.resize(gray, (new_w, new_h), interpolation=interp)
    return out, Letterbox(scale, w, h)


def decode(output: np.ndarray, stride: int, threshold: float, lb: Letterbox) -> list[Detection]:
    """Peaks of the heatmap above ``threshold`` → boxes in original pixels, NMS'd, best first."""
    heat = np.ascontiguousarray(output[:, :, 0])
    peaks = (heat >= threshold) & (heat == cv2.dilate(heat, np.ones((3, 3), np.uint8)))
    ys, xs = np.nonzero(peaks)
    if ys.size == 0:
        return []
    cell = output[ys, xs]
    cx = (xs + cell[:, 3]) * stride / lb.scale
    cy = (ys + cell[:, 4]) * stride / lb.scale
    bw = np.exp(cell[:, 1]) * stride / lb.scale
    bh = np.exp(cell[:, 2]) * stride / lb.scale
    scores = cell[:, 0]
    rects = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], axis=1)
    keep = cv2.dnn.NMSBoxes(rects.tolist(), scores.tolist(), threshold, NMS_IOU,
                            top_k=MAX_DETECTIONS)
    out = []
    for i in np.asarray(keep, dtype=np.int64).reshape(-1):
        box = Box(rects[i, 0], rects[i, 1], rects[i, 0] + rects[i, 2], rects[i, 1] + rects[i, 3])
        if box.x1 > 0 and box.y1 > 0 and box.x0 < lb.width and box.y0 < lb.height:
            out.append(Detection(box.clamp(lb.width, lb.height), float(scores[i])))
    return out


class Detector:
    """The plate detector: any frame in, plates in original-image pixels out, best first.

    Input size, stride and the default threshold are read from the model's metadata.
    """

    def __init__(self, path: str | Path, providers: str | Sequence[str] = ("cpu",),
                 threads: int | None = None, lean: bool = False) -> None:
        self.model = OnnxModel(path, providers, threads, lean)
        md = self.model.metadata
        try:
            self.input_hw = (int(md["input_height"]), int(md["input_width"]))
            self.stride = int(md["stride"])
            self.threshold = float(md["score_threshold"])
        except (KeyError, ValueError) as e:
            raise ModelLoadError(path, f"detector metadata incomplete or invalid: {e}") from e

    def __call__(self, image: np.ndarray, threshold: float | None = None,
                 clock: StageClock | None = None) -> list[Detection]:
        """``clock``, when given, gets laps "letterbox", "detector" (the model call), "decode"."""
        x, lb = letterbox(to_gray(image), self.input_hw)
        if clock is not None:
            clock.lap("letterbox")
        out = self.model.run(x[None, :, :, None])[0][0]
        if clock is not None:
            clock.lap("detector")
        dets = decode(out, self.stride, self.threshold if threshold is None else threshold, lb)
        if clock is not None:
            clock.lap("decode")
        return dets
