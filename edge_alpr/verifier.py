"""Plate check: the detector's second stage. Each candidate box is cut from the full-resolution
frame; a small CNN says whether it is a plate and where the plate's box is within it.

The detector sees a 1920-wide frame at 640 px, where a plate is 23–100 px wide and a wheel hub
or a badge looks much like one; at full resolution the characters tell them apart, and the
smallest plates' boxes (which the detector draws up to twice too large) can be redrawn. Input
size, margin and the cascade's threshold come from the model's metadata.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .detector import Detection, nms_kept
from .geometry import Box
from .session import OnnxModel


def check_crops(gray: np.ndarray, boxes: Sequence[Box], input_hw: tuple[int, int],
                margin: float) -> np.ndarray:
    """(N, H, W) uint8: each box grown by ``margin`` of its size on every side, cut from
    ``gray`` (edges replicated where it leaves the frame) and resized to ``input_hw``,
    aspect not kept (one- and two-row plates both fill the input)."""
    in_h, in_w = input_hw
    out = np.empty((len(boxes), in_h, in_w), np.uint8)
    for i, box in enumerate(boxes):
        x0, y0, x1, y1 = box.pad(margin).to_int()
        crop = Box(x0, y0, max(x1, x0 + 2), max(y1, y0 + 2)).cut(gray)
        if crop.size == 0:
            out[i] = 0
            continue
        interp = cv2.INTER_AREA if crop.shape[1] > in_w else cv2.INTER_LINEAR
        out[i] = cv2.resize(crop, (in_w, in_h), interpolation=interp)
    return out


def apply_deltas(boxes: Sequence[Box], deltas: np.ndarray) -> list[Box]:
    """R-CNN box regression: centre moved by (dx, dy) box sizes, sides scaled by exp(dw, dh)."""
    out = []
    for b, (dx, dy, dw, dh) in zip(boxes, deltas.astype(np.float64), strict=True):
        cx, cy = b.center
        w, h = b.width * np.exp(dw), b.height * np.exp(dh)
        cx, cy = cx + dx * b.width, cy + dy * b.height
        out.append(Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return out


# A box is redrawn only when the check scales a side by this factor or more (either way), as
# for the smallest plates, which the detector draws up to twice too large. Smaller redraws
# bring boxes a little closer to the annotations (mean IoU 0.81 → 0.84 on validation) but the
# reader's crop margins were measured on the detector's own boxes: applied to every box they
# changed two readings of the 52 training and validation plates, both for the worse. The
# check's box is kept beside such a box instead (``Detection.check_box``), for the reader's
# second cut of a plate it reads unsurely.
REDRAW_MIN_SCALE = 1.25


def redrawn(boxes: Sequence[Box], checked: Sequence[Box]) -> list[bool]:
    """Whether each of the check's boxes scales a side of its box by at least
    :data:`REDRAW_MIN_SCALE` (either way): the box is then redrawn as the check's."""
    limit = np.log(REDRAW_MIN_SCALE)
    return [max(abs(np.log(c.width / b.width)), abs(np.log(c.height / b.height))) >= limit
            for b, c in zip(boxes, checked, strict=True)]


def redraw(boxes: Sequence[Box], checked: Sequence[Box]) -> list[Box]:
    """``boxes``, each replaced by the check's box where that is far off (:func:`redrawn`)."""
    return [c if far else b
            for b, c, far in zip(boxes, checked, redrawn(boxes, checked), strict=True)]


class PlateVerifier:
    """For boxes of a grayscale frame: the probability that each is a plate and the check's
    own box for the plate, in one batched call. Input size, margin and the cascade's threshold
    come from the model's metadata."""

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self.input_hw = (model.meta("input_height", int), model.meta("input_width", int))
        self.margin = model.meta("margin", float)
        self.threshold = model.meta("score_threshold", float)

    def __call__(self, gray: np.ndarray, boxes: Sequence[Box]
                 ) -> tuple[np.ndarray, list[Box]]:
        """(N,) float32 plate probabilities and the check's N boxes (its regression applied
        to each of ``boxes``, in ``gray``'s pixels; one may reach past the frame)."""
        if not boxes:
            return np.zeros(0, np.float32), []
        crops = check_crops(gray, boxes, self.input_hw, self.margin)
        # N rows: plate probability, then the box deltas dx, dy, dw, dh.
        out = self.model.run(crops[..., None], [(len(boxes), 5)])[0]
        return out[:, 0].astype(np.float32), apply_deltas(boxes, out[:, 1:])


def cascade(detections: Sequence[Detection], probs: np.ndarray, checked: Sequence[Box],
            threshold: float, width: int, height: int) -> list[Detection]:
    """The detector's candidates after the check: each scores the detector's score times the
    check's plate probability, its box redrawn as the check's where that is far off
    (:func:`redraw`) and the check's box kept beside it otherwise; those under ``threshold``
    go, and the rest are suppressed again (two candidates may have found one plate)."""
    scores = [d.score * float(p) for d, p in zip(detections, probs, strict=True)]
    boxes = redraw([d.box for d in detections], checked)
    return [Detection(boxes[i].clamp(width, height), scores[i],
                      None if boxes[i] == checked[i] else checked[i].clamp(width, height))
            for i in nms_kept(boxes, scores, threshold, width, height)]
