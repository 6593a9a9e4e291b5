"""The character classifier: all character crops of a plate in, one probability row each out.

Crops come from :func:`edge_alpr.segment.cut_chars` at :attr:`Recognizer.input_hw`.

Classes and input size are read from the model's metadata; nothing about the model is
written down here.
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidImageError, ModelLoadError
from .session import OnnxModel


class Recognizer:
    """Character probabilities for character crops, in one batched session call."""

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self.classes: str = model.meta("classes", str)
        self.reject_class: str = model.meta("reject_class", str)
        self.input_hw: tuple[int, int] = (model.meta("input_height", int),
                                          model.meta("input_width", int))
        shape = model.input_shape
        if (len(shape) != 3 or tuple(shape[1:]) != self.input_hw
                or model.input_dtype != np.uint8):
            raise ModelLoadError(model.path, f"input {shape} {model.input_dtype} does not "
                                 f"match uint8 N×{self.input_hw[0]}×{self.input_hw[1]} in its "
                                 "metadata")
        if len(set(self.classes)) != len(self.classes) or self.reject_class not in self.classes:
            raise ModelLoadError(model.path, f"bad class list {self.classes!r} (reject class "
                                 f"{self.reject_class!r})")

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """(N, classes) float32 for (N, H, W) uint8 crops as :func:`cut_chars` makes them."""
        crops = np.asarray(crops)
        if crops.ndim != 3 or crops.shape[1:] != self.input_hw or crops.dtype != np.uint8:
            raise InvalidImageError("character crops", f"expected uint8 N×{self.input_hw[0]}×"
                                    f"{self.input_hw[1]}, got {crops.dtype} {crops.shape}")
        if len(crops) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        return self.model.run(np.ascontiguousarray(crops),
                              [(len(crops), len(self.classes))])[0]
