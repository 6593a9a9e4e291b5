"""The whole-plate recognizer: each plate crop in, one class distribution per character slot
out, decoded with the plate grammar (:func:`edge_alpr.plate.decode_slots`).

No segmentation: the crop is cut around the detector's box with the model's margin and resized
to its input, whatever the layout (two-row plates fill the input as one-row ones do). Classes,
input size and margin are read from the model's metadata.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import ModelLoadError
from .geometry import Box
from .grammar import PATTERN
from .plate import PlateText, decode_slots
from .session import OnnxModel
from .verifier import check_crops


def plate_input(gray: np.ndarray, box: Box, input_hw: tuple[int, int], margin: float
                ) -> np.ndarray:
    """(H, W) uint8: ``box`` grown by ``margin`` of its size, cut from ``gray`` (edges
    replicated past the frame) and resized to ``input_hw``, aspect not kept."""
    return check_crops(gray, [box], input_hw, margin)[0]


class PlateOCR:
    """Plate texts for boxes of a grayscale frame, all plates in one batched call."""

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
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

    def __call__(self, gray: np.ndarray, boxes: Sequence[Box]) -> list[PlateText]:
        """The decoded text of each box of ``gray``, in order."""
        probs = self.probabilities(self.inputs(gray, boxes))
        return [decode_slots(p, self.classes) for p in probs]
