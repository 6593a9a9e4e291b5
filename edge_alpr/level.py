"""A rolled plate: how far its rows run from level, and the plate turned level.

A camera beside the lane, or a crooked plate, rolls the plate in the frame. The detector's
upright box around it is then taller than the plate and the characters slant inside it, which
the whole-plate recognizer, trained with little roll, reads badly (model card, "Level look").
A plate's rows of characters and its edges are lines: the roll is the angle at which the
crop's horizontal edges, summed along lines at that angle, pile up most sharply (the
projection-profile method of document deskewing).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .geometry import Box

# Rolls (degrees, counter-clockwise as seen) that :func:`roll_of` tells apart.
ROLLS = np.arange(-25.0, 25.5, 1.0)
# Crops are measured at this height (px): enough for a two-row plate's character edges.
PROFILE_HEIGHT = 32
# Share of the crop's pixels, those with the strongest vertical gradient, that are summed.
EDGE_SHARE = 0.2
# A plate is no narrower than this × its height (a two-row plate is ~1.4, one row ~4.7): the
# levelled box keeps at least that height when the upright box leaves it unsure.
WIDEST_ASPECT = 5.5

_RADIANS = np.deg2rad(ROLLS)
_COS, _SIN = np.cos(_RADIANS)[:, None], np.sin(_RADIANS)[:, None]


def roll_of(crop: np.ndarray) -> float:
    """Degrees (counter-clockwise as seen, within :data:`ROLLS`) that the rows of the plate
    filling the grayscale ``crop`` run from level. On gate crops turned 10°: within 4° for 90%
    of them (model card, "Level look")."""
    h, w = crop.shape[:2]
    if min(h, w) < 2:
        return 0.0
    width = max(8, round(w * PROFILE_HEIGHT / max(h, 1)))
    f = cv2.resize(crop, (width, PROFILE_HEIGHT), interpolation=cv2.INTER_AREA)
    gy = np.abs(cv2.Sobel(f.astype(np.float32), cv2.CV_32F, 0, 1, ksize=3))
    ys, xs = np.nonzero(gy >= np.quantile(gy, 1 - EDGE_SHARE))
    weights = gy[ys, xs]
    # Each edge pixel's offset across lines at each roll; a level row of them shares one.
    across = np.rint(ys * _COS + (xs - width / 2) * _SIN).astype(np.int64)
    across -= across.min()
    bins = int(across.max()) + 1
    flat = (across + np.arange(len(ROLLS))[:, None] * bins).ravel()
    profiles = np.bincount(flat, np.tile(weights, len(ROLLS)), len(ROLLS) * bins)
    return float(ROLLS[np.argmax((profiles.reshape(len(ROLLS), bins) ** 2).sum(axis=1))])


def roll_at(gray: np.ndarray, box: Box) -> float:
    """:func:`roll_of` the part of ``gray`` under ``box``; 0 for a box wholly outside it."""
    h, w = gray.shape[:2]
    if box.x1 <= 0 or box.y1 <= 0 or box.x0 >= w or box.y0 >= h:
        return 0.0
    return roll_of(box.crop(gray))


@dataclass(frozen=True)
class Levelled:
    """A plate turned level: the part of a frame around it, turned, and its box in that."""

    image: np.ndarray
    plate: Box  # the levelled plate, in ``image``'s pixels
    turn: np.ndarray  # 2×3 affine: frame pixels → ``image`` pixels

    def to_frame(self, box: Box) -> Box:
        """The upright box in the frame's pixels around ``box`` of :attr:`image`."""
        back = cv2.invertAffineTransform(self.turn)
        corners = np.array([[x, y, 1.0] for x in (box.x0, box.x1) for y in (box.y0, box.y1)])
        corners = corners @ back.T
        return Box(*corners.min(axis=0), *corners.max(axis=0))


def level(gray: np.ndarray, box: Box, roll: float, context: float) -> Levelled:
    """The part of ``gray`` around ``box`` (grown by ``context`` of its size per side, edges
    replicated past the frame) turned by -``roll`` about the box's centre, and the box of the
    levelled plate in it: the plate whose upright bounding box ``box`` is."""
    around = box.pad(context)
    x0, y0 = around.to_int()[:2]
    region = around.cut(gray)
    cx, cy = box.center[0] - x0, box.center[1] - y0
    turn = cv2.getRotationMatrix2D((cx, cy), -roll, 1.0)
    levelled = cv2.warpAffine(region, turn, (region.shape[1], region.shape[0]),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Upright box (W, H) of a plate (w, h) rolled by a: W = w cos a + h sin a,
    # H = w sin a + h cos a; solved for w and h.
    a = np.deg2rad(abs(roll))
    cos2 = np.cos(2 * a)
    pw = (box.width * np.cos(a) - box.height * np.sin(a)) / cos2
    ph = (box.height * np.cos(a) - box.width * np.sin(a)) / cos2
    pw = max(pw, 2.0)
    ph = max(ph, pw / WIDEST_ASPECT)
    from_frame = turn.copy()
    from_frame[:, 2] -= turn[:, :2] @ [x0, y0]
    return Levelled(levelled, Box(cx - pw / 2, cy - ph / 2, cx + pw / 2, cy + ph / 2),
                    from_frame)
