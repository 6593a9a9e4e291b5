"""Axis-aligned boxes in pixel coordinates."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    """A box ``[x0, x1) × [y0, y1)`` in pixels (x0 < x1, y0 < y1)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        if not (self.x1 > self.x0 and self.y1 > self.y0):
            raise ValueError(f"empty box: {self.as_list()}")

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def as_list(self) -> list[float]:
        return [self.x0, self.y0, self.x1, self.y1]

    def iou(self, other: Box) -> float:
        iw = min(self.x1, other.x1) - max(self.x0, other.x0)
        ih = min(self.y1, other.y1) - max(self.y0, other.y0)
        if iw <= 0 or ih <= 0:
            return 0.0
        inter = iw * ih
        return inter / (self.area + other.area - inter)

    def contains_point(self, x: float, y: float) -> bool:
        return self.x0 <= x < self.x1 and self.y0 <= y < self.y1

    def scale(self, sx: float, sy: float | None = None) -> Box:
        sy = sx if sy is None else sy
        return Box(self.x0 * sx, self.y0 * sy, self.x1 * sx, self.y1 * sy)

    def shift(self, dx: float, dy: float) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)

    def pad(self, fraction_x: float, fraction_y: float | None = None) -> Box:
        """Grow by a fraction of the width (and height) on each side."""
        fy = fraction_x if fraction_y is None else fraction_y
        dx, dy = self.width * fraction_x, self.height * fy
        return Box(self.x0 - dx, self.y0 - dy, self.x1 + dx, self.y1 + dy)

    def clamp(self, width: int, height: int) -> Box:
        """Clip to an image of the given size; raises ValueError if nothing is left."""
        return Box(max(0.0, self.x0), max(0.0, self.y0), min(float(width), self.x1),
                   min(float(height), self.y1))

    def to_int(self) -> tuple[int, int, int, int]:
        """Integer pixel bounds that cover the box."""
        return (int(np.floor(self.x0)), int(np.floor(self.y0)),
                int(np.ceil(self.x1)), int(np.ceil(self.y1)))

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The pixels under the box (clamped to the image), as a view."""
        h, w = image.shape[:2]
        x0, y0, x1, y1 = self.clamp(w, h).to_int()
        return image[y0:y1, x0:x1]


    def cut(self, image: np.ndarray) -> np.ndarray:
        """The pixels under the box's integer bounds (:meth:`to_int`), the image's edges
        replicated where the box leaves it; empty where the box and the image do not meet."""
        x0, y0, x1, y1 = self.to_int()
        h, w = image.shape[:2]
        inside = image[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]
        if inside.size == 0:
            return inside
        return cv2.copyMakeBorder(inside, max(-y0, 0), max(y1 - h, 0), max(-x0, 0),
                                  max(x1 - w, 0), cv2.BORDER_REPLICATE)
