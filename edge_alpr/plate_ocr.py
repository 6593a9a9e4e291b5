"""The whole-plate recognizer: each plate crop in, one class distribution per character slot
out, decoded with the plate grammar (:func:`edge_alpr.plate.decode_slots`).

No segmentation: the crop is cut around the detector's box with the model's margin and resized
to its input, whatever the layout (two-row plates fill the input as one-row ones do). Classes,
input size and margin are read from the model's metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import InferenceError, ModelLoadError
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

    def __init__(self, path: str | Path, providers: str | Sequence[str] = ("cpu",),
                 threads: int | None = None, lean: bool = False) -> None:
        self.model = OnnxModel(path, providers, threads, lean)
        md = self.model.metadata
        try:
            self.classes: str = md["classes"]
            self.input_hw: tuple[int, int] = (int(md["input_height"]), int(md["input_width"]))
            self.margin = float(md["margin"])
            self.slots = int(md["slots"])
        except (KeyError, ValueError) as e:
            raise ModelLoadError(path, f"whole-plate model metadata incomplete or invalid: "
                                 f"{e}") from e
        if self.slots != len(PATTERN) or len(set(self.classes)) != len(self.classes):
            raise ModelLoadError(path, f"{self.slots} slots of classes {self.classes!r} do not "
                                 f"fit the plate pattern's {len(PATTERN)} slots")

    def inputs(self, gray: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """(N, H, W) uint8 model inputs for ``boxes`` of ``gray``."""
        return check_crops(gray, boxes, self.input_hw, self.margin)

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """(N, slots, classes) float32 for (N, H, W) uint8 inputs."""
        if len(inputs) == 0:
            return np.zeros((0, self.slots, len(self.classes)), np.float32)
        probs = self.model.run(np.ascontiguousarray(inputs))[0]
        if probs.shape != (len(inputs), self.slots, len(self.classes)):
            raise InferenceError(f"{self.model.path}: output of shape {probs.shape} for "
                                 f"{len(inputs)} plates (expected N×{self.slots}×"
                                 f"{len(self.classes)})")
        return probs

    def __call__(self, gray: np.ndarray, boxes: Sequence[Box]) -> list[PlateText]:
        """The decoded text of each box of ``gray``, in order."""
        probs = self.probabilities(self.inputs(gray, boxes))
        return [decode_slots(p, self.classes) for p in probs]
