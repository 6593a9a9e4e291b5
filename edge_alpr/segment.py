"""Character segmentation of a plate crop: binarize, find character-sized components, rows.

Pure image processing (numpy and OpenCV); the classifier decides what each box shows, so
extra boxes (emblem, ``MNG`` oval, bolts) are tolerated and a missed character is not.
The thresholds were tuned on the training photos' plate crops and are measured by
``python -m export.eval_segmentation``. Plates with light ink (white on green, black or red)
are segmented inverted (see :func:`segment`), and their characters cut inverted, so the
classifier always sees dark ink on a light field; ``python -m export.eval_schemes`` measures
them on rendered plates.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .alphabet import N_DIGITS, N_LETTERS
from .errors import InvalidImageError
from .image import to_gray
from .rows import assign_rows

# Margin around a plate box, as a fraction of its size on each side, that the crops the
# thresholds were tuned on had (a detector box is cut with the same margin).
CROP_PAD = 0.05
# Crops are resized to this height first, so every threshold below is in fixed pixels.
# 64 and 80 lost 1-2 points of training recall (strokes of small plates merge), 128 found
# no more characters than 96 and more extras.
NORM_HEIGHT = 96
# Wider crops than this are no plate; they would also blow up the resized width.
MAX_CROP_ASPECT = 10.0
# The background (shadow) estimate is a median over about 0.3 of the crop height, wider
# than a stroke so the characters vanish from it (0.4-0.5 cost training recall), taken at
# half resolution: same training recall, a third of the time. A quarter lost 2 points.
_BACKGROUND_SHRINK = 2
_BACKGROUND_KERNEL = 15
_CLAHE_CLIP = 2.0
_CLAHE_GRID = (4, 4)
_SQUARE3 = np.ones((3, 3), np.uint8)
# Characters fused into one component are cut at the ink projection's minimum within this
# fraction of a character width of where the even cut would fall.
_CUT_WINDOW = 0.25
# A component is judged against the components of its row whose height is within this
# factor of its own.
_MATE_HEIGHT = 1.25
# Context kept around a character box when it is cut for the classifier, as a fraction of
# its height on each side.
_CHAR_MARGIN = 0.08
# Ink polarity: the share of dark pixels (Otsu) in the middle of the crop (rows 0.2-0.8,
# columns 0.1-0.9 of it), where the plate's field outweighs its ink. Measured on crops cut as
# the runtime cuts them: the 52 annotated real plates 0.19-0.59 (median 0.33), 600 gate crops
# 0.01-0.74 (median 0.34, p95 0.47), rendered dark-on-light 0.27-0.88 (p95 0.58), rendered
# light-on-dark 0.48-0.86 (p5 0.57). Below the first bound the ink is dark, above the second
# light; in between both are segmented and the one whose boxes look more like a plate's
# characters wins (:func:`_plate_likeness`; on a tie, the side of the band's middle the share
# is on). Bounds and likeness were chosen on 600 rendered plates (seed 11 of
# export.eval_schemes' renderer) and 90 clean ones, with the constraint that every one of the
# 52 annotated real plates (training and validation photos) stays dark.
_DARK_SHARE_BOUNDS = (0.5, 0.7)
# Characters of one row are alike in height: a box counts as a character when at least two
# others of its row are within this fraction of its height.
_ALIKE_HEIGHT = 0.15
_EXTRA_BOX_COST = 0.5
_PLATE_CHARS = N_DIGITS + N_LETTERS


@dataclass(frozen=True)
class SegmentParams:
    """What a character component may look like, in units of the normalised crop height.

    Characters of one-row plates are 0.3-0.6 of the (padded) crop height, those of two-row
    plates 0.2-0.36; annotated boxes are 0.3-0.85 as wide as tall.
    """

    min_height: float = 0.15
    max_height: float = 0.65
    min_aspect: float = 0.1  # width / height; the digit 1 is narrow
    max_aspect: float = 1.1
    # Wider than this and the component is first tried as characters touching each other.
    split_aspect: float = 0.85
    min_fill: float = 0.15  # ink pixels / box area
    # A component that is no character as it stands (touches the frame, the crop border or
    # a neighbour) is eroded (3×3) up to this many times to let characters fall off it.
    max_erosions: int = 2
    # Characters of a plate are alike in height: the two-row plates' letters are >= 0.7 of
    # the median; smaller components are bolts, dirt and the MNG oval.
    min_relative_height: float = 0.6
    # A character cut by the crop's edge (a tight detector box) touches it with a short
    # stretch of stroke; bars, the frame and clutter along the edge with much of their side.
    # Kept when at most this fraction of the side facing the edge lies on it.
    max_border_contact: float = 0.3
    # A component this many times as wide as the median of its row's characters (and as
    # tall) is round(ratio) characters fused, up to max_fused of them; single annotated
    # characters are at most 1.4 times their row's median width.
    fused_width: float = 1.7
    max_fused: int = 3
    # Row mates narrower than this (width / height; the digit 1) say nothing of how wide the
    # other characters are: a tilted row's only mates can be 1s, and a 5 is twice as wide.
    narrow_aspect: float = 0.35

    def __post_init__(self) -> None:
        if not (0 < self.min_height < self.max_height and 0 < self.min_aspect
                < self.split_aspect <= self.max_aspect and 0 <= self.min_fill < 1
                and self.max_erosions >= 0 and 0 <= self.min_relative_height < 1
                and 0 <= self.max_border_contact < 1 and self.fused_width > 1
                and self.max_fused >= 2 and 0 <= self.narrow_aspect < self.max_aspect):
            raise ValueError(f"inconsistent segmentation parameters: {self}")


DEFAULT_PARAMS = SegmentParams()


@dataclass(frozen=True)
class CharBoxes:
    """Character boxes of one plate crop, in reading order (top row first, left to right).

    ``boxes`` is (N, 4) float64 ``x0, y0, x1, y1`` in the crop's pixels; ``rows`` (N,) the
    row of each box, 0 for the top (or only) row; ``light_ink`` whether the characters are
    lighter than the plate (they are then cut inverted, see :func:`cut_chars`).
    """

    boxes: np.ndarray
    rows: np.ndarray
    light_ink: bool = False

    def __post_init__(self) -> None:
        boxes = np.array(self.boxes, dtype=np.float64).reshape(-1, 4)
        rows = np.array(self.rows, dtype=np.int64).reshape(-1)
        if len(rows) != len(boxes):
            raise ValueError(f"{len(boxes)} boxes but {len(rows)} row indices")
        if np.any(boxes[:, 2:] <= boxes[:, :2]):
            raise ValueError("empty character box")
        boxes.flags.writeable = rows.flags.writeable = False
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "rows", rows)

    @classmethod
    def empty(cls) -> CharBoxes:
        return cls(np.zeros((0, 4)), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.boxes)

    def take(self, index: np.ndarray | list[int]) -> CharBoxes:
        """The boxes at ``index`` (integer positions), same polarity."""
        return CharBoxes(self.boxes[index], self.rows[index], self.light_ink)

    @property
    def n_rows(self) -> int:
        return int(self.rows.max()) + 1 if len(self.rows) else 0


def normalise(crop: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The crop in gray, resized to :data:`NORM_HEIGHT`, and the x and y scale factors from
    crop to resized pixels."""
    gray = to_gray(crop, "plate crop")
    h, w = gray.shape
    if w > MAX_CROP_ASPECT * h or h > MAX_CROP_ASPECT * w:
        raise InvalidImageError("plate crop", f"shape {gray.shape} is too elongated for a plate")
    width = max(1, round(w * NORM_HEIGHT / h))
    interp = cv2.INTER_AREA if h > NORM_HEIGHT else cv2.INTER_CUBIC
    return cv2.resize(gray, (width, NORM_HEIGHT), interpolation=interp), width / w, NORM_HEIGHT / h


def dark_share(gray: np.ndarray) -> float:
    """Share of the dark (Otsu) pixels in the middle of a normalised crop."""
    h, w = gray.shape
    middle = gray[int(0.2 * h):max(int(0.8 * h), int(0.2 * h) + 1),
                  int(0.1 * w):max(int(0.9 * w), int(0.1 * w) + 1)]
    t, _ = cv2.threshold(middle, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return float((middle <= t).mean())


def binarize(crop: np.ndarray, light_ink: bool = False) -> tuple[np.ndarray, float, float]:
    """The crop resized to :data:`NORM_HEIGHT` and binarized (255 = ink: dark ink, or light
    ink when ``light_ink``), and the x and y scale factors from crop to binary pixels."""
    gray, sx, sy = normalise(crop)
    return _binarize(255 - gray if light_ink else gray), sx, sy


def _binarize(gray: np.ndarray) -> np.ndarray:
    """Binary (255 = dark ink) of a normalised crop."""
    width = gray.shape[1]
    # Shadow removal: the background is the median of the slightly dilated (ink-thinned)
    # image; the inverted difference from it leaves ink dark on an even light field.
    small = cv2.resize(cv2.dilate(gray, _SQUARE3), (max(1, width // _BACKGROUND_SHRINK),
                       NORM_HEIGHT // _BACKGROUND_SHRINK), interpolation=cv2.INTER_AREA)
    background = cv2.resize(cv2.medianBlur(small, _BACKGROUND_KERNEL), (width, NORM_HEIGHT),
                            interpolation=cv2.INTER_LINEAR)
    flat = cv2.normalize(255 - cv2.absdiff(gray, background), None, 0, 255, cv2.NORM_MINMAX)
    flat = cv2.createCLAHE(_CLAHE_CLIP, _CLAHE_GRID).apply(flat)
    _, binary = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return binary


def find_components(binary: np.ndarray, params: SegmentParams = DEFAULT_PARAMS) -> np.ndarray:
    """Character-sized 8-connected components of a binary image, as (N, 4) int64 boxes
    ``x0, y0, x1, y1`` in no particular order; one touches the image border only with a
    short stretch of its side."""
    if binary.ndim != 2 or binary.dtype != np.uint8:
        raise InvalidImageError("binary image", f"expected H×W uint8, got {binary.shape} "
                                f"{binary.dtype}")
    p = params
    height, width = binary.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    x, y, w, h, area = stats[1:].T
    # Pixels of each component on the left/right and top/bottom edges, against its side.
    side = np.bincount(np.concatenate([labels[:, 0], labels[:, -1]]), minlength=n)[1:] / h
    top = np.bincount(np.concatenate([labels[0], labels[-1]]), minlength=n)[1:] / w
    clear = np.maximum(side, top) <= p.max_border_contact
    shaped = _fits(w, h, area, p, height, np.inf)
    fits = shaped & (w <= p.max_aspect * h)
    accept = clear & fits & (w <= p.split_aspect * h)
    boxes = np.stack([x, y, x + w, y + h], axis=1)
    found = [boxes[accept]]
    # Components standing as one box, or too wide for one: maybe characters fused.
    whole = list(np.flatnonzero(accept))
    for i in np.flatnonzero(~accept & (h >= p.min_height * height)):
        mask = (labels[y[i]:y[i] + h[i], x[i]:x[i] + w[i]] == i + 1).view(np.uint8)
        parts = _split(mask, int(x[i]), int(y[i]), 0, p, binary.shape)
        if parts:
            found.append(np.array(parts, dtype=np.int64))
        elif clear[i] and shaped[i]:
            whole.append(i)
    found.append(boxes[[i for i in whole if not accept[i] and fits[i]]])
    out = np.concatenate(found).astype(np.int64).reshape(-1, 4)
    return _split_fused(out, boxes[whole], labels, np.array(whole, dtype=np.int64) + 1, p)


def _split_fused(out: np.ndarray, whole: np.ndarray, labels: np.ndarray, ids: np.ndarray,
                 p: SegmentParams) -> np.ndarray:
    """``out`` with each box of ``whole`` (component ``ids``) that is as wide as several
    characters of its row cut into them at the minima of its column ink sums; wide boxes
    that are not cut are dropped (they are no box of ``out``)."""
    if len(whole) == 0 or len(out) == 0:
        return out
    height = labels.shape[0]
    wh = out[:, 2:] - out[:, :2]
    cy = (out[:, 1] + out[:, 3]) / 2
    ww, hw = whole[:, 2] - whole[:, 0], whole[:, 3] - whole[:, 1]
    # Only boxes as tall as the plate's characters (see order_chars) judge and are judged.
    tall = p.min_relative_height * np.median(wh[:, 1])
    # Row mates: other boxes centred within this one's rows and about as tall.
    mates = ((cy >= whole[:, 1:2]) & (cy <= whole[:, 3:4]) & (wh[:, 1] >= tall)
             & (wh[:, 1] * _MATE_HEIGHT >= hw[:, None]) & (wh[:, 1] <= _MATE_HEIGHT * hw[:, None])
             & (wh[:, 0] >= p.narrow_aspect * wh[:, 1])
             & np.any(out[None, :, :] != whole[:, None, :], axis=2)) & (hw[:, None] >= tall)
    cut: list[np.ndarray] = []
    keep = np.ones(len(out), bool)
    for j in np.flatnonzero(mates.any(axis=1)):
        typical = float(np.median(wh[mates[j], 0]))
        k = round(ww[j] / typical)
        if ww[j] < p.fused_width * typical or k > p.max_fused:
            continue
        x0, y0, x1, y1 = whole[j]
        mask = labels[y0:y1, x0:x1] == ids[j]
        pieces = _cut(mask, k, p, height) + [x0, y0, x0, y0]
        if len(pieces):
            cut.append(pieces)
            keep &= np.any(out != whole[j], axis=1)
    return np.concatenate([out[keep], *cut]).reshape(-1, 4)


def _cut(mask: np.ndarray, k: int, p: SegmentParams, height: int) -> np.ndarray:
    """The character-like pieces of ``mask`` cut into ``k`` at the columns of least ink near
    the even cuts, as boxes around their ink in mask pixels."""
    ink = mask.sum(axis=0)
    w = mask.shape[1]
    edges = [0]
    for i in range(1, k):
        lo = max(1, int(np.floor((i - _CUT_WINDOW) * w / k)))
        hi = min(w - 1, int(np.ceil((i + _CUT_WINDOW) * w / k)))
        edges.append(lo + int(np.argmin(ink[lo:hi + 1])))
    edges.append(w)
    pieces = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        cols = np.flatnonzero(ink[a:b])
        rows = np.flatnonzero(mask[:, a:b].any(axis=1))
        if len(cols) == 0:
            continue
        box = (a + cols[0], rows[0], a + cols[-1] + 1, rows[-1] + 1)
        if _fits(box[2] - box[0], box[3] - box[1], int(ink[a:b].sum()), p, height, p.max_aspect):
            pieces.append(box)
    return np.array(pieces, dtype=np.int64).reshape(-1, 4)


def _fits(w: np.ndarray | int, h: np.ndarray | int, area: np.ndarray | int, p: SegmentParams,
          height: int, max_aspect: float) -> np.ndarray | bool:
    return ((h >= p.min_height * height) & (h <= p.max_height * height)
            & (w >= p.min_aspect * h) & (w <= max_aspect * h) & (area >= p.min_fill * w * h))


def _split(mask: np.ndarray, x0: int, y0: int, erosions: int, p: SegmentParams,
           shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Characters inside one component (``mask`` at ``x0, y0``, already eroded ``erosions``
    times) that is none as it stands: erode once more and judge the pieces, each grown back
    by the erosions. Empty when nothing character-like falls off."""
    if erosions >= p.max_erosions:
        return []
    e = erosions + 1
    eroded = cv2.erode(mask, _SQUARE3, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(eroded, connectivity=8)
    height, width = shape
    out: list[tuple[int, int, int, int]] = []
    for j in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[j])
        box = (x0 + x - e, y0 + y - e, x0 + x + w + e, y0 + y + h + e)
        bw, bh = w + 2 * e, h + 2 * e
        inside = box[0] > 0 and box[1] > 0 and box[2] < width and box[3] < height
        fits = bool(_fits(bw, bh, area, p, height, p.max_aspect))
        if inside and fits and bw <= p.split_aspect * bh:
            out.append(box)
        elif bh >= p.min_height * height:
            piece = (labels[y:y + h, x:x + w] == j).view(np.uint8)
            parts = _split(piece, x0 + x, y0 + y, e, p, shape)
            out.extend(parts if parts else [box] if inside and fits else [])
    return out


def order_chars(boxes: np.ndarray, params: SegmentParams = DEFAULT_PARAMS,
                light_ink: bool = False) -> CharBoxes:
    """Drop boxes much smaller than the plate's typical character, group the rest into rows
    and sort them in reading order."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return CharBoxes(np.zeros((0, 4)), np.zeros(0, np.int64), light_ink)
    heights = boxes[:, 3] - boxes[:, 1]
    boxes = boxes[heights >= params.min_relative_height * np.median(heights)]
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    rows = assign_rows(cx, cy, boxes[:, 3] - boxes[:, 1])
    order = np.lexsort((cx, rows))
    return CharBoxes(boxes[order], rows[order], light_ink)


def _plate_likeness(chars: CharBoxes) -> tuple[float, int]:
    """How much ``chars`` look like a plate's characters, for comparing two segmentations:
    the boxes with two row mates alike in height (up to a plate's count) less half a point
    per box beyond that count, then the fewest boxes beyond it. The wrong polarity finds
    counters, gaps and clutter: many boxes of many heights."""
    h = chars.boxes[:, 3] - chars.boxes[:, 1]
    alike = ((chars.rows[:, None] == chars.rows[None, :])
             & (np.abs(h[:, None] - h[None, :]) <= _ALIKE_HEIGHT * h[:, None])).sum(axis=1)
    extra = max(0, len(chars) - _PLATE_CHARS)
    return (min(int((alike >= 3).sum()), _PLATE_CHARS) - _EXTRA_BOX_COST * extra,
            -abs(len(chars) - _PLATE_CHARS))


def segment(crop: np.ndarray, params: SegmentParams = DEFAULT_PARAMS) -> CharBoxes:
    """Character boxes of a plate crop (gray or BGR, any size, cut with :data:`CROP_PAD`)
    in the crop's pixels and reading order. No characters found is an empty result.

    The ink's polarity is judged from the crop's share of dark pixels (:func:`dark_share`);
    where that is unclear, both are segmented and the one that looks more like a plate's
    characters is kept.
    """
    gray, sx, sy = normalise(crop)
    share = dark_share(gray)
    lo, hi = _DARK_SHARE_BOUNDS
    if share < lo or share > hi:
        return _segment(gray, sx, sy, params, share > hi)
    # Equally plate-like: the side of the band's middle the share is on decides.
    lean = share - (lo + hi) / 2
    return max((_segment(gray, sx, sy, params, light_ink) for light_ink in (False, True)),
               key=lambda c: (*_plate_likeness(c), lean if c.light_ink else -lean))


def _segment(gray: np.ndarray, sx: float, sy: float, params: SegmentParams,
             light_ink: bool) -> CharBoxes:
    binary = _binarize(255 - gray if light_ink else gray)
    boxes = find_components(binary, params) / np.array([sx, sy, sx, sy])
    return order_chars(boxes, params, light_ink)


def cut_chars(crop: np.ndarray, chars: CharBoxes, height: int, width: int) -> np.ndarray:
    """The classifier's input: each character box cut from the crop, contrast stretched to
    0-255, scaled to fit ``height`` × ``width`` keeping its aspect, centred, edges replicated.

    Light ink (``chars.light_ink``) is cut inverted: the classifier sees dark on light.
    Returns (N, height, width) uint8. The size comes from the character model.
    """
    gray = to_gray(crop, "plate crop")
    if chars.light_ink:
        gray = 255 - gray
    if height < 1 or width < 1:
        raise ValueError(f"bad character size {height}×{width}")
    out = np.empty((len(chars), height, width), np.uint8)
    h_img, w_img = gray.shape
    for i, (x0, y0, x1, y1) in enumerate(chars.boxes):
        # A margin of context like the annotated boxes have around the ink.
        m = _CHAR_MARGIN * (y1 - y0)
        xa, ya = max(0, int(np.floor(x0 - m))), max(0, int(np.floor(y0 - m)))
        xb, yb = min(w_img, int(np.ceil(x1 + m))), min(h_img, int(np.ceil(y1 + m)))
        patch = gray[ya:yb, xa:xb]
        scale = min(height / patch.shape[0], width / patch.shape[1])
        ph, pw = max(1, round(patch.shape[0] * scale)), max(1, round(patch.shape[1] * scale))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        patch = cv2.resize(patch, (pw, ph), interpolation=interp)
        # Plates differ in contrast far more than characters differ in shape.
        patch = cv2.normalize(patch, None, 0, 255, cv2.NORM_MINMAX)
        top, left = (height - ph) // 2, (width - pw) // 2
        out[i] = cv2.copyMakeBorder(patch, top, height - ph - top, left, width - pw - left,
                                    cv2.BORDER_REPLICATE)
    return out

