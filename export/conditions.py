"""Camera conditions: pure, seeded degradations of a frame or a plate crop, and the condition
suite that ``python -m export.eval_conditions`` measures the readers under.

Every degradation is a function of the image (gray or BGR uint8, never modified), its
parameters, and for those that need chance a ``numpy`` generator; the generator of an image
under a condition comes from :func:`condition_rng`, seeded by the condition's and the image's
names, so a run gives the same pixels whatever the order or subset of images.

The parameters of :data:`SUITE` were set before any reader was run on them, not tuned on the
readers: the daylight photos are 1920×1080 frames, the gate crops come from a 720p camera, so
blur lengths and radii are given for each. Horizontal motion blur of 5 px at 720p (gate) and
9 px at 1080p (photos) is what issue #12 measured on real cameras; the larger one (15 px at
1080p) is the most the issue asks training to cover; defocus, night and glare were set by
looking at degraded crops beside the gate camera's own night crops.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import cv2
import numpy as np

from edge_alpr.geometry import Box

from .synth.degrade import jpeg, noise

# Base of every condition's generator; change it to draw other glare spots and noise.
SEED = 12


def condition_rng(condition: str, key: str) -> np.random.Generator:
    """The generator for image ``key`` under ``condition``: the same for the same names."""
    return np.random.default_rng([SEED, zlib.crc32(condition.encode()),
                                  zlib.crc32(key.encode())])


def _filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    # Replicated edges: a plate cut at the crop's border must not fade into black.
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE)


def motion_kernel(length: int, angle: float) -> np.ndarray:
    """A normalised line of ``length`` px through the kernel's centre, ``angle`` degrees from
    the x axis (counter-clockwise as seen, y pointing down). Samples at unit steps along the
    line are splatted bilinearly, so axis-aligned lines cover exactly ``length`` px (an even
    length sits half a pixel off the centre)."""
    if length < 1:
        raise ValueError(f"motion blur length must be >= 1 px, got {length}")
    a = np.deg2rad(angle)
    t = np.arange(length, dtype=np.float64) - length // 2
    xs, ys = t * np.cos(a), -t * np.sin(a)
    size = 2 * int(np.ceil(np.abs(t).max())) + 3  # odd, with room for the splat
    c = size // 2
    k = np.zeros((size, size), np.float64)
    x0, y0 = np.floor(xs), np.floor(ys)
    fx, fy = xs - x0, ys - y0
    for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                      (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(k, ((y0 + dy).astype(int) + c, (x0 + dx).astype(int) + c), w)
    k[k < 1e-9] = 0  # rounding crumbs would spread a line by a pixel
    return (k / k.sum()).astype(np.float32)


def motion_blur(image: np.ndarray, length: int, angle: float = 0.0) -> np.ndarray:
    """Linear motion blur of ``length`` px in direction ``angle`` (degrees; 0 = horizontal)."""
    return _filter(image, motion_kernel(length, angle))


def disc_kernel(radius: float) -> np.ndarray:
    """A normalised flat disc: the blur spot of a lens out of focus."""
    if radius <= 0:
        raise ValueError(f"defocus radius must be > 0 px, got {radius}")
    r = int(np.floor(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    k = (xx * xx + yy * yy <= radius * radius).astype(np.float32)
    return k / k.sum()


def defocus(image: np.ndarray, radius: float) -> np.ndarray:
    """Defocus: every point spread over a disc of ``radius`` px."""
    return _filter(image, disc_kernel(radius))


def rescale(image: np.ndarray, factor: float) -> np.ndarray:
    """The image as a camera ``factor`` times as sharp would deliver it: shrunk by ``factor``
    (area averaging, as a sensor's pixels do) and enlarged back to its size, so boxes keep
    their coordinates while the plate has ``factor`` times the resolution."""
    if not 0 < factor <= 1:
        raise ValueError(f"rescale factor must be in (0, 1], got {factor}")
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, round(w * factor)), max(1, round(h * factor))),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _like(field: np.ndarray, image: np.ndarray) -> np.ndarray:
    """A per-pixel H×W field shaped to multiply ``image`` (gray or colour)."""
    return field[..., None] if image.ndim == 3 else field


def plate_mask(shape: tuple[int, ...], plates: Sequence[Box], feather: float) -> np.ndarray:
    """1 inside the plates, 0 far from them, a soft edge of ``feather`` × plate height."""
    h, w = shape[:2]
    mask = np.zeros((h, w), np.float32)
    for box in plates:
        x0, y0, x1, y1 = box.clamp(w, h).to_int()
        mask[y0:y1, x0:x1] = 1
        sigma = max(feather * box.height, 0.5)
        # Blur a neighbourhood of the box only: a frame-sized Gaussian per plate is slow.
        m = int(np.ceil(3 * sigma))
        ya, yb, xa, xb = max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m)
        mask[ya:yb, xa:xb] = np.maximum(
            mask[ya:yb, xa:xb], cv2.GaussianBlur(mask[ya:yb, xa:xb], (0, 0), sigma))
    return mask


def night(image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator,
          scene_gain: float, plate_low: float, plate_high: float, sigma: float) -> np.ndarray:
    """Night under an infrared lamp: the scene falls to ``scene_gain`` of its brightness while
    the retro-reflective plate stays bright but flat (its 2nd-98th percentile range squeezed
    into ``plate_low``-``plate_high``), and the sensor's gain adds noise of ``sigma``."""
    img = image.astype(np.float32)
    dark = img * scene_gain
    lit = dark.copy()
    h, w = image.shape[:2]
    for box in plates:
        lo, hi = np.percentile(box.crop(img), (2, 98))
        # The squeeze reaches a little past the box, as the lamp's reflection does.
        x0, y0, x1, y1 = box.pad(0.1).clamp(w, h).to_int()
        lit[y0:y1, x0:x1] = plate_low + (img[y0:y1, x0:x1] - lo) * (
            (plate_high - plate_low) / max(hi - lo, 1.0))
    m = _like(plate_mask(image.shape, [b.pad(0.05) for b in plates], 0.08), image)
    out = dark * (1 - m) + np.clip(lit, 0, 255) * m
    return noise(rng, np.clip(out, 0, 255).astype(np.uint8), sigma)


def ellipse_d2(rows: slice, cols: slice, cx: float, cy: float, a: float, sx: float, sy: float
               ) -> np.ndarray:
    """Squared elliptic distance of each pixel of ``rows`` × ``cols`` from (cx, cy): 1 on the
    ellipse of semi-axes ``sx`` along the direction ``a`` radians and ``sy`` across it."""
    yy, xx = np.mgrid[rows, cols].astype(np.float32)
    u = ((xx - cx) * np.cos(a) - (yy - cy) * np.sin(a)) / sx
    v = ((xx - cx) * np.sin(a) + (yy - cy) * np.cos(a)) / sy
    return u * u + v * v


def spot(f: np.ndarray, cx: float, cy: float, a: float, sx: float, sy: float, peak: float,
         spread: float) -> np.ndarray:
    """``f`` (float, H×W) brightened by an elliptic Gaussian spot, semi-axes ``sx``×``sy`` px
    turned by ``a`` radians; a small ``spread`` gives a sharp edge, a large one a wide halo."""
    h, w = f.shape
    return f + peak * np.exp(-ellipse_d2(slice(0, h), slice(0, w), cx, cy, a, sx, sy) / spread)


def glare(image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator, radius: float,
          elongation: float, halo: float) -> np.ndarray:
    """A headlight's reflection on each plate: a saturated elliptic spot at a random place on
    the plate (centre within the middle 70% of its width and 60% of its height) and a random
    angle, ``radius`` × √(plate area) across its short semi-axis and ``elongation`` times that
    along the long one, brightening its surroundings out to about ``halo`` times its size."""
    h, w = image.shape[:2]
    add = np.zeros((h, w), np.float32)
    for box in plates:
        cx = box.x0 + box.width * rng.uniform(0.15, 0.85)
        cy = box.y0 + box.height * rng.uniform(0.2, 0.8)
        a = np.deg2rad(rng.uniform(0, 180))
        short = radius * np.sqrt(box.area)
        # Out to 3 halos the spot adds less than one gray level.
        reach = 3 * halo * short * elongation
        xa, xb = max(0, int(cx - reach)), min(w, int(cx + reach) + 1)
        ya, yb = max(0, int(cy - reach)), min(h, int(cy + reach) + 1)
        if xa >= xb or ya >= yb:
            continue
        # 1 on the saturated core's edge; the brightness added is a Gaussian of the distance
        # that is exactly 255 there and 255 / e at ``halo`` times the core's size.
        d2 = ellipse_d2(slice(ya, yb), slice(xa, xb), cx, cy, a, short * elongation, short)
        spot = 255 * np.exp((1 - d2) / (halo * halo - 1))
        add[ya:yb, xa:xb] = np.maximum(add[ya:yb, xa:xb], spot)
    return np.clip(image + _like(add, image), 0, 255).astype(np.uint8)


def tilted_corners(box: Box, roll: float, squeeze: float, far: float) -> np.ndarray:
    """(4, 2) float32: ``box``'s corners (clockwise from top-left) as a plate turned ``roll``
    degrees about its centre (counter-clockwise as seen) and seen from its left side: its
    width ×``squeeze``, its right edge ×``far`` as tall as its left (the far edge of a plate
    turned away shows smaller)."""
    cx, cy = box.center
    hw, hh = box.width * squeeze / 2, box.height / 2
    pts = np.array([[-hw, -hh], [hw, -hh * far], [hw, hh * far], [-hw, hh]], np.float64)
    a = np.deg2rad(roll)
    turn = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return (pts @ turn.T + [cx, cy]).astype(np.float32)


def tilt(image: np.ndarray, plates: Sequence[Box], roll: float, squeeze: float = 1.0,
         far: float = 1.0) -> np.ndarray:
    """Each plate turned and seen from the side (:func:`tilted_corners`) in place.

    In a frame, the plate and its surroundings out to 30% of its size are warped into the
    unchanged scene, with a soft seam; the frame keeps its size, so boxes keep their
    coordinates. A plate that fills its image (a crop) is warped with its edges replicated
    and cut at the tilted plate's bounding box, as a detector's box around it would be: the
    crop grows to hold the whole plate."""
    h, w = image.shape[:2]
    out = image
    for box in plates:
        src = tilted_corners(box, 0, 1, 1)  # the box's own corners
        dst = tilted_corners(box, roll, squeeze, far)
        if box.area >= 0.9 * w * h:
            (x0, y0), (x1, y1) = np.floor(dst.min(axis=0)), np.ceil(dst.max(axis=0))
            shift = np.float32([x0, y0])
            matrix = cv2.getPerspectiveTransform(src, dst - shift)
            return cv2.warpPerspective(image, matrix, (int(x1 - x0), int(y1 - y0)),
                                       flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        matrix = cv2.getPerspectiveTransform(src, dst)
        warped = cv2.warpPerspective(out, matrix, (w, h), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE)
        around = box.pad(0.3)
        region = tilted_corners(around, roll, squeeze, far)
        mask = np.zeros((h, w), np.float32)
        cv2.fillConvexPoly(mask, np.round(region).astype(np.int32), 1.0)
        mask = _like(cv2.GaussianBlur(mask, (0, 0), max(0.05 * box.height, 0.5)), image)
        out = np.clip(out * (1 - mask) + warped * mask + 0.5, 0, 255).astype(np.uint8)
    return out.copy() if out is image else out


class Degradation(Protocol):
    """One condition's change to an image, given its plates' boxes and its generator."""

    def __call__(self, image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator
                 ) -> np.ndarray: ...


# The parameter records below hold what the report writes down; each calls one function above.
@dataclass(frozen=True)
class Clean:
    def __call__(self, image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator
                 ) -> np.ndarray:
        return image.copy()

    def __str__(self) -> str:
        return "as recorded"


@dataclass(frozen=True)
class MotionBlur:
    length: int  # px
    angle: float = 0.0  # degrees from the x axis

    def __call__(self, image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator
                 ) -> np.ndarray:
        return motion_blur(image, self.length, self.angle)

    def __str__(self) -> str:
        return f"motion blur {self.length} px at {self.angle:g}°"


@dataclass(frozen=True)
class Defocus:
    radius: float  # px

    def __call__(self, image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator
                 ) -> np.ndarray:
        return defocus(image, self.radius)

    def __str__(self) -> str:
        return f"disc of radius {self.radius:g} px"


@dataclass(frozen=True)
class Rescale:
    factor: float

    def __call__(self, image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator
                 ) -> np.ndarray:
        return rescale(image, self.factor)

    def __str__(self) -> str:
        return f"shrunk ×{self.factor:g} (area) and enlarged back (linear)"


@dataclass(frozen=True)
class Night:
    scene_gain: float
    plate_low: float
    plate_high: float
    sigma: float

    def __call__(self, image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator
                 ) -> np.ndarray:
        return night(image, plates, rng, self.scene_gain, self.plate_low, self.plate_high,
                     self.sigma)

    def __str__(self) -> str:
        return (f"scene ×{self.scene_gain:g}, plate range squeezed into "
                f"{self.plate_low:g}-{self.plate_high:g}, noise σ {self.sigma:g}")


@dataclass(frozen=True)
class Glare:
    radius: float  # saturated core's short semi-axis, × √(plate area)
    elongation: float
    halo: float

    def __call__(self, image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator
                 ) -> np.ndarray:
        return glare(image, plates, rng, self.radius, self.elongation, self.halo)

    def __str__(self) -> str:
        return (f"saturated spot {self.radius:g}×{self.radius * self.elongation:g} √area, "
                f"halo ×{self.halo:g}")


@dataclass(frozen=True)
class Jpeg:
    quality: int

    def __call__(self, image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator
                 ) -> np.ndarray:
        return jpeg(image, self.quality)

    def __str__(self) -> str:
        return f"JPEG quality {self.quality}"


@dataclass(frozen=True)
class Noise:
    sigma: float  # gray levels

    def __call__(self, image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator
                 ) -> np.ndarray:
        return noise(rng, image, self.sigma)

    def __str__(self) -> str:
        return f"Gaussian noise σ {self.sigma:g}"


@dataclass(frozen=True)
class Tilt:
    roll: float = 0.0  # degrees, counter-clockwise as seen
    squeeze: float = 1.0  # width seen, × the plate's
    far: float = 1.0  # right edge's height, × the left's

    def __call__(self, image: np.ndarray, plates: Sequence[Box], rng: np.random.Generator
                 ) -> np.ndarray:
        return tilt(image, plates, self.roll, self.squeeze, self.far)

    def __str__(self) -> str:
        if self.squeeze == 1 and self.far == 1:
            return f"plate rolled {self.roll:g}°"
        return (f"plate seen from the side: width ×{self.squeeze:g}, far edge "
                f"×{self.far:g}" + (f", rolled {self.roll:g}°" if self.roll else ""))


@dataclass(frozen=True)
class Condition:
    """A camera condition as it falls on the two data sets: ``photo`` on a 1920×1080 daylight
    frame (full frame, plates where annotated), ``crop`` on a gate-camera plate crop (720p
    camera; the plate fills the crop)."""

    name: str
    photo: Degradation
    crop: Degradation

    def params(self) -> dict[str, dict[str, object]]:
        """What each degradation is, for the JSON report."""
        return {side: {"kind": type(d).__name__, **asdict(d), "text": str(d)}
                for side, d in (("photos", self.photo), ("gate", self.crop))}


SUITE: tuple[Condition, ...] = (
    Condition("clean", Clean(), Clean()),
    Condition("motion-h", MotionBlur(9), MotionBlur(5)),
    Condition("motion-h-large", MotionBlur(15), MotionBlur(9)),
    Condition("motion-v", MotionBlur(9, 90), MotionBlur(5, 90)),
    Condition("motion-diag", MotionBlur(9, 45), MotionBlur(5, 45)),
    Condition("defocus", Defocus(3), Defocus(2)),
    Condition("half-size", Rescale(0.5), Rescale(0.5)),
    Condition("night-ir", Night(0.2, 100, 170, 8), Night(0.2, 100, 170, 8)),
    Condition("glare", Glare(0.03, 2.0, 2.0), Glare(0.03, 2.0, 2.0)),
    Condition("jpeg-20", Jpeg(20), Jpeg(20)),
    Condition("noise", Noise(10), Noise(10)),
    # A camera beside the lane or a crooked plate: 10° of roll; a plate seen 40° from the side
    # (width × cos 40°), its far edge a tenth smaller.
    Condition("roll-10", Tilt(roll=10), Tilt(roll=10)),
    Condition("side-40", Tilt(squeeze=0.77, far=0.9), Tilt(squeeze=0.77, far=0.9)),
)


def degrade_image(condition: Condition, image: np.ndarray, plates: Sequence[Box], key: str,
                  photo: bool) -> np.ndarray:
    """``image`` under ``condition``: as a photo frame or as a crop, seeded by ``key``."""
    d = condition.photo if photo else condition.crop
    return d(image, plates, condition_rng(condition.name, key))
