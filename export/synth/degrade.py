"""Degradations seen in the real photos: perspective, tilt, light, dirt, blur, noise, JPEG.

Geometric warps move the per-character label mask with INTER_NEAREST alongside the image, and
boxes are recomputed from the warped mask, so every box stays the tight bound of its glyph's ink.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge_alpr.annotations import CharBox

from .plate import char_boxes

MAX_TILT_DEG = 20.0  # the real photos show plates rolled by up to about ±20°


@dataclass(frozen=True, eq=False)
class Degraded:
    image: np.ndarray  # BGR uint8, same size as the input
    mask: np.ndarray  # uint8 labels k+1 of the characters' ink, warped with INTER_NEAREST
    quad: np.ndarray  # 4×2 float32 plate corners after the warp
    chars: tuple[CharBox, ...]  # reading order, recomputed from ``mask``


def _rotation(roll: float, yaw: float, pitch: float) -> np.ndarray:
    r, y, p = np.deg2rad([roll, yaw, pitch])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    return rz @ ry @ rx


def view_homography(rng: np.random.Generator, quad: np.ndarray, scale: float = 1.0,
                    max_tilt: float = MAX_TILT_DEG) -> np.ndarray:
    """A camera view of the plane through ``quad``: the quad turned in 3-D about its centre
    (roll within ±``max_tilt``, yaw and pitch as from a car in front), projected, scaled by
    ``scale`` and put back on its centre."""
    quad = np.asarray(quad, np.float64)
    centre = quad.mean(axis=0)
    w = float(np.ptp(quad[:, 0]))
    roll = float(np.clip(rng.normal(0, max_tilt / 3), -max_tilt, max_tilt))
    yaw = float(np.clip(rng.normal(0, 12), -35, 35))
    pitch = float(np.clip(rng.normal(0, 8), -25, 25))
    focal = w * rng.uniform(1.5, 6.0)  # short focal lengths exaggerate perspective
    pts = np.c_[quad - centre, np.zeros(4)] @ _rotation(roll, yaw, pitch).T
    proj = focal * pts[:, :2] / (pts[:, 2:] + focal)
    dst = proj * scale + centre
    return cv2.getPerspectiveTransform(quad.astype(np.float32), dst.astype(np.float32))


def warp(image: np.ndarray, mask: np.ndarray, quad: np.ndarray, h: np.ndarray,
         size: tuple[int, int], border: int = cv2.BORDER_REPLICATE
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``image`` (linear), ``mask`` (nearest) and ``quad`` through homography ``h`` into
    an image of ``size`` (width, height)."""
    out = cv2.warpPerspective(image, h, size, flags=cv2.INTER_LINEAR, borderMode=border)
    out_mask = cv2.warpPerspective(mask, h, size, flags=cv2.INTER_NEAREST,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    out_quad = cv2.perspectiveTransform(quad.reshape(-1, 1, 2).astype(np.float64), h)
    return out, out_mask, out_quad.reshape(-1, 2).astype(np.float32)


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], cells: int = 4
                  ) -> np.ndarray:
    """Low-frequency noise in [0, 1] of ``shape``."""
    h, w = shape
    gh, gw = max(2, round(cells * h / max(h, w))), max(2, cells)
    small = rng.random((gh, gw)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)


def weather(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Plate-surface effects that follow the plate: uneven light, a shadow edge, dirt, fading."""
    h, w = image.shape[:2]
    img = image.astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(a) * (xx / w - 0.5) + np.sin(a) * (yy / h - 0.5))
    gain = 1.0 + rng.uniform(0.1, 0.5) * ramp  # light falls off across the plate
    if rng.random() < 0.3:  # a soft shadow edge (car body, tree)
        b = rng.uniform(0, 2 * np.pi)
        d = np.cos(b) * (xx - rng.uniform(0, w)) + np.sin(b) * (yy - rng.uniform(0, h))
        soft = rng.uniform(0.5, 4) * max(1.0, h / 30)
        gain *= 1 - rng.uniform(0.25, 0.55) / (1 + np.exp(-d / soft))
    if rng.random() < 0.6:  # dirt: low-frequency brownish darkening
        dirt = np.clip(_smooth_field(rng, (h, w), 6) * 2 - rng.uniform(0.8, 1.5), 0, 1)
        img = img * (1 - 0.5 * dirt[..., None]) + np.array([40, 55, 70], np.float32) * (
            0.5 * dirt[..., None])
    if rng.random() < 0.3:  # specks
        n = int(rng.integers(5, 40))
        for x, y in zip(rng.integers(0, w, n), rng.integers(0, h, n), strict=True):
            cv2.circle(img, (int(x), int(y)), int(rng.integers(0, 2)), (60, 60, 60), -1)
    fade = rng.uniform(0.0, 0.25)  # sun-faded print and reflective film
    img = img * gain[..., None]
    img = img * (1 - fade) + fade * img.mean()
    return np.clip(img, 0, 255).astype(np.uint8)


def blur(rng: np.random.Generator, image: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Gaussian (focus) or motion blur; ``strength`` scales the kernel with the plate size."""
    if rng.random() < 0.25:
        length = max(2, int(round(rng.uniform(2, 6) * strength)))
        k = np.zeros((length, length), np.float32)
        k[length // 2, :] = 1.0
        rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2),
                                      float(rng.uniform(0, 180)), 1.0)
        k = cv2.warpAffine(k, rot, (length, length))
        return cv2.filter2D(image, -1, k / max(k.sum(), 1e-6))
    sigma = rng.uniform(0.5, 1.4) * strength
    return cv2.GaussianBlur(image, (0, 0), sigma)


def noise(rng: np.random.Generator, image: np.ndarray, sigma: float) -> np.ndarray:
    """Sensor noise, the same in all channels since the camera is monochrome."""
    n = rng.normal(0, sigma, image.shape[:2]).astype(np.float32)
    out = image.astype(np.float32) + (n[..., None] if image.ndim == 3 else n)
    return np.clip(out, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def contrast(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Haze or under/over exposure: squeeze the range towards a random level."""
    k = rng.uniform(0.4, 0.9)
    level = rng.uniform(70, 190)
    return np.clip(level + (image.astype(np.float32) - level) * k, 0, 255).astype(np.uint8)


def occlude(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray, quad: np.ndarray,
            max_cover: float = 0.35) -> np.ndarray:
    """A bar or blob over an edge of the plate (tow hook, frame, leaf) hiding at most
    ``max_cover`` of any character's ink, so each character stays readable and boxed."""
    h, w = image.shape[:2]
    pw = float(np.ptp(quad[:, 0]))
    side = int(rng.integers(0, 4))
    a, b = quad[side], quad[(side + 1) % 4]
    t = rng.uniform(0.0, 1.0)
    c = a + (b - a) * t
    size = pw * rng.uniform(0.04, 0.12)
    poly = (c + rng.normal(0, size, (5, 2))).astype(np.int32)
    cover = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(cover, cv2.convexHull(poly), 1)
    labels = mask[mask > 0]
    if labels.size:
        total = np.bincount(labels, minlength=256)
        hidden = np.bincount(mask[(cover > 0) & (mask > 0)], minlength=256)
        if (hidden[total > 0] / total[total > 0]).max() > max_cover:
            return image
    out = image.copy()
    out[cover > 0] = int(rng.integers(10, 230))
    return out


def degrade(rng: np.random.Generator, image: np.ndarray, mask: np.ndarray, quad: np.ndarray,
            text: str, strength: float = 1.0) -> Degraded:
    """Warp ``image`` (a plate on its background, BGR) by a random camera view about the plate,
    then blur, light, noise and JPEG it. ``mask`` labels the ink of ``text[k]`` with k+1."""
    h, w = image.shape[:2]
    hom = view_homography(rng, quad, scale=rng.uniform(0.9, 1.05))
    img, out_mask, out_quad = warp(image, mask, quad, hom, (w, h))
    if rng.random() < 0.15:
        img = occlude(rng, img, out_mask, out_quad)
    img = blur(rng, img, strength)
    if rng.random() < 0.7:  # the real plates are rarely crisp black on white
        img = contrast(rng, img)
    img = noise(rng, img, rng.uniform(0.5, 6.0))
    if rng.random() < 0.6:
        img = jpeg(img, int(rng.integers(35, 95)))
    return Degraded(img, out_mask, out_quad, char_boxes(out_mask, text))
