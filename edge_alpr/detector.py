"""Plate detection: letterbox a frame, run the detector, decode boxes in image pixels.

The detector is CenterNet-style: one output map of shape (H/stride, W/stride, 5) holding the
plate-centre heatmap (sigmoid), log width and log height in stride units, and the centre's
sub-cell offset (sigmoid). Input size, stride and threshold come from the model's metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    # The plate check's own box for the plate where it differs from ``box`` (the check redraws
    # ``box`` only when it is far off): the reader's second cut for a plate it reads unsurely.
    check_box: Box | None = None


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
    boxes = [Box(x0, y0, x1, y1) for x0, y0, x1, y1 in
             np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)]
    return nms(boxes, scores.tolist(), threshold, lb.width, lb.height)


def nms_kept(boxes: Sequence[Box], scores: Sequence[float], threshold: float, width: int,
             height: int) -> list[int]:
    """Indices of the boxes scoring ≥ ``threshold``, non-maximum suppressed (IoU
    :data:`NMS_IOU`), at most :data:`MAX_DETECTIONS`, those outside the ``width``×``height``
    frame dropped, best first."""
    rects = [[b.x0, b.y0, b.width, b.height] for b in boxes]
    keep = cv2.dnn.NMSBoxes(rects, list(scores), threshold, NMS_IOU, top_k=MAX_DETECTIONS)
    return [int(i) for i in np.asarray(keep, dtype=np.int64).reshape(-1)
            if boxes[i].x1 > 0 and boxes[i].y1 > 0 and boxes[i].x0 < width and boxes[i].y0 < height]


def nms(boxes: Sequence[Box], scores: Sequence[float], threshold: float, width: int,
        height: int) -> list[Detection]:
    """The detections :func:`nms_kept` keeps, clamped to the frame."""
    return [Detection(boxes[i].clamp(width, height), float(scores[i]))
            for i in nms_kept(boxes, scores, threshold, width, height)]


class Detector:
    """The plate detector: any frame in, plates in original-image pixels out, best first.

    Input size, stride and the default threshold are read from the model's metadata. In
    :class:`edge_alpr.PlateReader` it proposes the candidates of the plate check, which sets
    the cascade's threshold (see :meth:`PlateReader.detect`).
    """

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self.input_hw = (model.meta("input_height", int), model.meta("input_width", int))
        self.stride = model.meta("stride", int)
        self.threshold = model.meta("score_threshold", float)
        if self.stride < 1 or self.input_hw[0] % self.stride or self.input_hw[1] % self.stride:
            raise ModelLoadError(model.path, f"stride {self.stride} does not divide the input "
                                 f"size {self.input_hw}")
        # One map cell per stride: heatmap, log width, log height, offset x, offset y.
        self.output_shape = (1, self.input_hw[0] // self.stride, self.input_hw[1] // self.stride,
                             5)

    def __call__(self, image: np.ndarray, threshold: float | None = None,
                 clock: StageClock | None = None) -> list[Detection]:
        """``clock``, when given, gets laps "letterbox", "detector" (the model call) and
        "decode"."""
        gray = to_gray(image)
        threshold = self.threshold if threshold is None else threshold
        x, lb = letterbox(gray, self.input_hw)
        if clock is not None:
            clock.lap("letterbox")
        out = self.model.run(x[None, :, :, None], [self.output_shape])[0][0]
        if clock is not None:
            clock.lap("detector")
        dets = decode(out, self.stride, threshold, lb)
        if clock is not None:
            clock.lap("decode")
        return dets
