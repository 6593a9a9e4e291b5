"""Backgrounds around a plate: patches of real training photos, or a car-like stand-in."""

from __future__ import annotations

import cv2
import numpy as np


def synthetic_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A gray bumper-and-grille-like patch (uint8), used when no photo is given."""
    base = rng.uniform(40, 200)
    yy = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
    img = np.repeat(base + rng.uniform(-40, 40) * yy, width, axis=1)
    for _ in range(int(rng.integers(0, 6))):  # grille slats, bumper edges
        y = int(rng.integers(0, height))
        cv2.line(img, (0, y), (width, y + int(rng.integers(-5, 6))), float(rng.uniform(0, 255)),
                 int(rng.integers(1, max(2, height // 8))), cv2.LINE_AA)
    small = rng.normal(0, rng.uniform(3, 20), (max(2, height // 8), max(2, width // 8)))
    img += cv2.resize(small.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(img, 0, 255).astype(np.uint8)


def photo_patch(rng: np.random.Generator, photo: np.ndarray, height: int, width: int
                ) -> np.ndarray:
    """A random ``height`` × ``width`` patch of ``photo`` (gray), resized if the photo is small."""
    ph, pw = photo.shape[:2]
    if ph < height or pw < width:
        k = max(height / ph, width / pw)
        photo = cv2.resize(photo, (int(np.ceil(pw * k)), int(np.ceil(ph * k))))
        ph, pw = photo.shape[:2]
    y = int(rng.integers(0, ph - height + 1))
    x = int(rng.integers(0, pw - width + 1))
    return photo[y:y + height, x:x + width].copy()
