"""Images in: read files and normalise any supported array to 8-bit grayscale.

The models see grayscale: the reference photos are grayscale, plates are told apart by
luminance, and one channel costs a third of the detector's first layer.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .errors import InvalidImageError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})


# What the reader reads, decoded straight from the file (see read_gray).
GRAY = cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image file as stored (any depth and channel count); errors name the file."""
    return _decode(path, cv2.IMREAD_UNCHANGED)


def read_gray(path: str | Path) -> np.ndarray:
    """Decode an image file straight to 8-bit grayscale, what the reader reads; errors name
    the file. A third of the time of a colour decode for a 1080p JPEG (the decoder skips the
    colour planes). Orientation tags are ignored, as :func:`read_image` ignores them, so boxes
    fit both."""
    return _decode(path, GRAY)


def _decode(path: str | Path, flags: int) -> np.ndarray:
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise InvalidImageError(path, f"cannot be read ({e.strerror or e})") from e
    return decode_image(data, path, flags)


def decode_image(data: bytes | np.ndarray, source: str | Path | None = None,
                 flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    """Decode an encoded image (JPEG, PNG, ... bytes) with OpenCV's ``flags`` (as stored by
    default, :data:`GRAY` for what the reader reads); ``source`` names it in errors."""
    buffer = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray)) else data
    if buffer.size == 0:
        raise InvalidImageError(source, "empty file")
    try:
        image = cv2.imdecode(buffer, flags)
    except cv2.error as e:  # a header OpenCV refuses outright (e.g. an absurd size)
        raise InvalidImageError(source, f"not a decodable image ({e.err})") from e
    if image is None:
        raise InvalidImageError(source, "not a decodable image (corrupt, truncated or not an "
                                "image format)")
    return image


def to_gray(image: np.ndarray, source: str | Path | None = None) -> np.ndarray:
    """8-bit grayscale view or copy of a gray, BGR or BGRA image of 8 or 16 bits.

    The caller's array is never modified.
    """
    if not isinstance(image, np.ndarray):
        raise InvalidImageError(source, f"expected a numpy array, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise InvalidImageError(source, f"unsupported image shape {image.shape}: expected "
                                "H×W, H×W×1, H×W×3 (BGR) or H×W×4 (BGRA)")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InvalidImageError(source, f"empty image of shape {image.shape}")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise InvalidImageError(source, f"unsupported pixel type {image.dtype}: expected uint8 "
                                "or uint16")
    if image.ndim == 3:
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        image = cv2.cvtColor(image, code)
    return image
