"""The whole-plate recognizer: each plate crop in, one class distribution per character slot
out, decoded with the plate grammar (:func:`edge_alpr.plate.decode_slots`).

No segmentation: the crop is cut around the detector's box with the model's margin and resized
to its input, whatever the layout (two-row plates fill the input as one-row ones do). Classes,
input size and margin are read from the model's metadata. A plate read unsurely gets a second
look: the slot probabilities averaged over the box cut a few ways (:data:`SECOND_LOOKS`); one
still unsure whose crop is smeared along its rows gets a deblur look (:data:`BLURRED_ABOVE`),
and one still unsure whose plate is rolled a level look (:data:`LEVEL_FROM`).
One still unsure after these is read again, with every look, from the plate check's own box
for it when the pipeline has one (``Detection.check_box``), and the surer reading is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol

import numpy as np

from .deblur import blur_length, deblur_horizontal, horizontal_blur
from .errors import ModelLoadError
from .geometry import Box
from .grammar import PATTERN
from .level import level, roll_at
from .plate import PlateText, decode_slots
from .session import OnnxModel
from .verifier import check_crops

# A reading that fits the grammar with at least this confidence is taken as it is; a less sure
# one gets a second look, and the BOTH reader has the segmentation path read it as well.
WHOLE_SURE = 0.9
# The second look's cuts, besides the first: the box shifted by (dx, dy) and grown by ``grow``
# on each side, fractions of its width and height, as the detector's boxes vary (the training
# jitters them likewise). A blurred, glared or dim plate is read right more often from the
# average over several cuts: the model's errors on one cut are partly its cut's (model card,
# "Whole-plate recognizer": second look).
SECOND_LOOKS: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.0, 0.04), (0.0, 0.0, -0.03), (0.02, 0.0, 0.0), (-0.02, 0.0, 0.0),
    (0.0, 0.04, 0.0), (0.0, -0.04, 0.0))
# The deblur look: a plate still unsure after the second look whose crop is blurred along its
# rows (:func:`edge_alpr.deblur.horizontal_blur` above BLURRED_ABOVE) is read again from its
# surroundings deconvolved for horizontal motion blur of the length the crop shows
# (:func:`edge_alpr.deblur.blur_length`). That reading replaces the plate's if it is surer and
# at least DEBLUR_TRUSTED sure: a deconvolution that rings can read surely and wrongly. 0.5 read
# the most of the gate training crops over the condition suite (0.3-0.8 and 0 replayed; model
# card, "Deblur look").
BLURRED_ABOVE = 0.3
DEBLUR_TRUSTED = 0.5
# Context (fraction of the box per side, beyond the model's margin) deconvolved with the box,
# or turned with it for the level look.
_CONTEXT = 0.1
# The level look: a plate still unsure after the looks above whose rows run at least LEVEL_FROM
# degrees from level (:func:`edge_alpr.level.roll_of`) is read again from its surroundings
# turned level, and that reading kept if it is surer (model card, "Level look").
LEVEL_FROM = 4.0


class Reading(Protocol):
    matches_pattern: bool
    confidence: float


def is_sure(reading: Reading, sure: float = WHOLE_SURE) -> bool:
    """Whether a reading (a plate text or result) fits the grammar with confidence ≥ ``sure``."""
    return reading.matches_pattern and reading.confidence >= sure


def recut(box: Box, dx: float, dy: float, grow: float) -> Box:
    """``box`` shifted by (dx, dy) and grown by ``grow`` on each side (fractions of its size)."""
    return box.shift(dx * box.width, dy * box.height).pad(grow)


def plate_input(gray: np.ndarray, box: Box, input_hw: tuple[int, int], margin: float
                ) -> np.ndarray:
    """(H, W) uint8: ``box`` grown by ``margin`` of its size, cut from ``gray`` (edges
    replicated past the frame) and resized to ``input_hw``, aspect not kept."""
    return check_crops(gray, [box], input_hw, margin)[0]


class PlateOCR:
    """Plate texts for boxes of a grayscale frame, all plates in one batched call, and the
    unsure ones (below ``sure``) in one more for their second look (``second_looks``: the
    recuts, see :data:`SECOND_LOOKS`; empty for none), the smeared ones still unsure in
    one more for their deblur look (``deblur``, see :data:`BLURRED_ABOVE`), and the rolled
    ones still unsure in one more for their level look (``level``, see :data:`LEVEL_FROM`)."""

    def __init__(self, model: OnnxModel, sure: float = WHOLE_SURE,
                 second_looks: Sequence[tuple[float, float, float]] = SECOND_LOOKS,
                 deblur: bool = True, level: bool = True) -> None:
        self.model = model
        self.sure = sure
        self.second_looks = tuple(second_looks)
        self.deblur = deblur
        self.level = level
        self.classes: str = model.meta("classes", str)
        self.input_hw: tuple[int, int] = (model.meta("input_height", int),
                                          model.meta("input_width", int))
        self.margin: float = model.meta("margin", float)
        slots = model.meta("pattern", str)
        if slots != PATTERN.slots or len(set(self.classes)) != len(self.classes):
            raise ModelLoadError(model.path, f"slots {slots!r} of classes {self.classes!r} do "
                                 f"not fit the plate pattern {PATTERN.slots!r}")

    def inputs(self, gray: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """(N, H, W) uint8 model inputs for ``boxes`` of ``gray``."""
        return check_crops(gray, boxes, self.input_hw, self.margin)

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """(N, slots, classes) float32 for (N, H, W) uint8 inputs."""
        shape = (len(inputs), len(PATTERN), len(self.classes))
        if len(inputs) == 0:
            return np.zeros(shape, np.float32)
        return self.model.run(np.ascontiguousarray(inputs), [shape])[0]

    def __call__(self, gray: np.ndarray, boxes: Sequence[Box],
                 check_boxes: Sequence[Box | None] | None = None,
                 roll: Callable[[Box], float] | None = None) -> list[PlateText]:
        """The decoded text of each box of ``gray``, in order, with the looks of
        :meth:`read` for the unsure ones; a plate still unsure after them that has a box in
        ``check_boxes`` (the plate check's own box for it, or None) is read again from that
        box, all such plates together, and the surer of its two readings kept."""
        texts = self.read(gray, boxes, roll)
        again = [i for i, t in enumerate(texts) if check_boxes and check_boxes[i] is not None
                 and not is_sure(t, self.sure)]
        if again:
            looks = self.read(gray, [check_boxes[i] for i in again], roll)
            for i, text in zip(again, looks, strict=True):
                if _sureness(text) > _sureness(texts[i]):
                    texts[i] = text
        return texts

    def read(self, gray: np.ndarray, boxes: Sequence[Box],
             roll: Callable[[Box], float] | None = None) -> list[PlateText]:
        """The decoded text of each box of ``gray``, in order; a reading less sure than
        :attr:`sure` is replaced by its second look (all of them in one more call), and one
        still unsure whose crop is smeared by its deblur look where that is trusted, and one
        still unsure whose plate is rolled by its level look where that is surer. ``roll``
        gives a box's roll in ``gray`` (default :func:`edge_alpr.level.roll_at`; the pipeline
        passes one that remembers, so that the segmentation path does not measure it again)."""
        probs = self.probabilities(self.inputs(gray, boxes))
        texts = [decode_slots(p, self.classes) for p in probs]
        unsure = [i for i, t in enumerate(texts) if not is_sure(t, self.sure)]
        if unsure and self.second_looks:
            looks = self.second_look(gray, [boxes[i] for i in unsure], probs[unsure])
            for i, text in zip(unsure, looks, strict=True):
                texts[i] = text
        blurred = [i for i in unsure if self.deblur and not is_sure(texts[i], self.sure)
                   and _smeared(gray, boxes[i])]
        if blurred:
            looks = self.deblur_look(gray, [boxes[i] for i in blurred])
            for i, text in zip(blurred, looks, strict=True):
                if text.confidence >= DEBLUR_TRUSTED and _sureness(text) > _sureness(texts[i]):
                    texts[i] = text
        roll = roll or partial(roll_at, gray)
        rolls = {i: roll(boxes[i]) for i in unsure
                 if self.level and not is_sure(texts[i], self.sure)}
        rolled = [i for i, roll in rolls.items() if abs(roll) >= LEVEL_FROM]
        if rolled:
            looks = self.level_look(gray, [boxes[i] for i in rolled], [rolls[i] for i in rolled])
            for i, text in zip(rolled, looks, strict=True):
                if _sureness(text) > _sureness(texts[i]):
                    texts[i] = text
        return texts

    def second_look(self, gray: np.ndarray, boxes: Sequence[Box], first: np.ndarray
                    ) -> list[PlateText]:
        """Each box read from its slot probabilities averaged over ``first`` (N, slots,
        classes: the first look's) and the box recut as each of :attr:`second_looks`."""
        cuts = [recut(b, *look) for b in boxes for look in self.second_looks]
        more = self.probabilities(self.inputs(gray, cuts)).reshape(
            len(boxes), len(self.second_looks), *first.shape[1:])
        mean = (first + more.sum(axis=1)) / (1 + len(self.second_looks))
        return [decode_slots(p, self.classes) for p in mean]

    def deblur_look(self, gray: np.ndarray, boxes: Sequence[Box]) -> list[PlateText]:
        """Each box read from its surroundings in ``gray`` deconvolved for horizontal motion
        blur of the length its crop shows."""
        h, w = gray.shape[:2]
        inputs = []
        for box in boxes:
            x0, y0, x1, y1 = box.pad(self.margin + _CONTEXT).clamp(w, h).to_int()
            around = deblur_horizontal(gray[y0:y1, x0:x1], blur_length(box.crop(gray)))
            inputs.append(self.inputs(around, [box.shift(-x0, -y0)])[0])
        return [decode_slots(p, self.classes) for p in self.probabilities(np.stack(inputs))]

    def level_look(self, gray: np.ndarray, boxes: Sequence[Box], rolls: Sequence[float]
                   ) -> list[PlateText]:
        """Each box read from its surroundings in ``gray`` turned level by its roll: the slot
        probabilities averaged over two cuts of the levelled plate, as tall as the upright
        box says it is and as tall as the upright box. The first is the plate if the upright
        box bounds it; a plate finder's box often cuts closer, and then the first cuts into
        the characters (gate training crops: the mean of both read the most, model card)."""
        inputs = []
        for box, roll in zip(boxes, rolls, strict=True):
            levelled = level(gray, box, roll, self.margin + _CONTEXT)
            plate = levelled.plate
            cy, half = plate.center[1], box.height / 2
            upright = Box(plate.x0, cy - half, plate.x1, cy + half)
            inputs.append(self.inputs(levelled.image, [plate, upright]))
        probs = self.probabilities(np.concatenate(inputs)).reshape(len(boxes), 2, len(PATTERN),
                                                                   len(self.classes))
        return [decode_slots(p, self.classes) for p in probs.mean(axis=1)]


def _smeared(gray: np.ndarray, box: Box) -> bool:
    """Whether the part of ``gray`` under ``box`` is blurred along its rows; a box that leaves
    nothing of itself in the frame, or a sliver, is not."""
    h, w = gray.shape[:2]
    if box.x1 <= 0 or box.y1 <= 0 or box.x0 >= w or box.y0 >= h:
        return False
    crop = box.crop(gray)
    return crop.shape[1] > 1 and horizontal_blur(crop) > BLURRED_ABOVE


def _sureness(text: PlateText) -> tuple[bool, float]:
    return text.matches_pattern, text.confidence
