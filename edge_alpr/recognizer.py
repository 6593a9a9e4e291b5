"""The character classifier: all character crops of a plate in, one probability row each out.

Crops come from :func:`edge_alpr.segment.cut_chars` at :attr:`Recognizer.input_hw`.

Classes and input size are read from the model's metadata; nothing about the model is
written down here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import InferenceError, InvalidImageError, ModelLoadError
from .session import OnnxModel


class Recognizer:
    """Character probabilities for character crops, in one batched session call."""

    def __init__(self, path: str | Path, providers: str | Sequence[str] = ("cpu",),
                 threads: int | None = None, lean: bool = False) -> None:
        self.model = OnnxModel(path, providers, threads, lean)
        md = self.model.metadata
        try:
            self.classes: str = md["classes"]
            self.reject_class: str = md["reject_class"]
            self.input_hw: tuple[int, int] = (int(md["input_height"]), int(md["input_width"]))
        except (KeyError, ValueError) as e:
            raise ModelLoadError(path, f"character model metadata incomplete or invalid: "
                                 f"{e}") from e
        shape = self.model.input_shape
        if (len(shape) != 3 or tuple(shape[1:]) != self.input_hw
                or self.model.input_dtype != np.uint8):
            raise ModelLoadError(path, f"input {shape} {self.model.input_dtype} does not match "
                                 f"uint8 N×{self.input_hw[0]}×{self.input_hw[1]} in its metadata")
        if len(set(self.classes)) != len(self.classes) or self.reject_class not in self.classes:
            raise ModelLoadError(path, f"bad class list {self.classes!r} (reject class "
                                 f"{self.reject_class!r})")

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """(N, classes) float32 for (N, H, W) uint8 crops as :func:`cut_chars` makes them."""
        crops = np.asarray(crops)
        if crops.ndim != 3 or crops.shape[1:] != self.input_hw or crops.dtype != np.uint8:
            raise InvalidImageError("character crops", f"expected uint8 N×{self.input_hw[0]}×"
                                    f"{self.input_hw[1]}, got {crops.dtype} {crops.shape}")
        if len(crops) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        probs = self.model.run(np.ascontiguousarray(crops))[0]
        if probs.shape != (len(crops), len(self.classes)):
            raise InferenceError(f"{self.model.path}: output of shape {probs.shape} for "
                                 f"{len(crops)} crops and {len(self.classes)} classes")
        return probs
