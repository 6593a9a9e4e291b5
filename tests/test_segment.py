import cv2
import numpy as np
import pytest

from edge_alpr.errors import InvalidImageError
from edge_alpr.geometry import Box
from edge_alpr.segment import (
    NORM_HEIGHT,
    CharBoxes,
    SegmentParams,
    binarize,
    cut_chars,
    find_components,
    segment,
)
from tests.reference_segment import reference_components, reference_segment

FONT = cv2.FONT_HERSHEY_SIMPLEX


def plate(texts: list[str], width: int, height: int, frame: bool = True,
          char_height: float = 0.6) -> tuple[np.ndarray, list[Box]]:
    """A light plate with dark digits (one text per row, ``char_height`` of a row high, as on
    real plates) and the exact box of each digit."""
    image = np.full((height, width), 205, np.uint8)
    image[:, : width // 3] -= 40  # a shadow over the left third
    if frame:
        cv2.rectangle(image, (3, 3), (width - 4, height - 4), 40, 2)
    boxes = []
    row_h = height / len(texts)
    scale = char_height * row_h / cv2.getTextSize("0", FONT, 1.0, 1)[0][1]
    thick = max(1, round(scale * 2))
    for r, text in enumerate(texts):
        advances = [cv2.getTextSize(ch, FONT, scale, thick)[0][0] * 1.2 for ch in text]
        x = (width - sum(advances)) / 2
        y = int(row_h * r + row_h * 0.78)
        for ch, advance in zip(text, advances, strict=True):
            if ch != " ":
                mask = np.zeros_like(image)
                cv2.putText(mask, ch, (int(x), y), FONT, scale, 255, thick, cv2.LINE_AA)
                ys, xs = np.nonzero(mask > 127)
                boxes.append(Box(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
                image[mask > 127] = 30
            x += advance
    return image, boxes


def found(chars: CharBoxes, truth: list[Box]) -> list[bool]:
    return [max((Box(*b).iou(t) for b in chars.boxes), default=0.0) >= 0.5 for t in truth]


def rotate(image: np.ndarray, boxes: list[Box], angle: float) -> tuple[np.ndarray, list[Box]]:
    """The plate turned by ``angle`` degrees and cut by its upright bounding box, as a
    detector would; each box becomes a small one around its moved centre."""
    h, w = image.shape
    c, s = abs(np.cos(np.deg2rad(angle))), abs(np.sin(np.deg2rad(angle)))
    size = (int(w * c + h * s) + 8, int(w * s + h * c) + 8)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[:, 2] += (size[0] - w) / 2, (size[1] - h) / 2
    out = cv2.warpAffine(image, m, size, borderMode=cv2.BORDER_REPLICATE)
    centres = [m @ np.array([*b.center, 1.0]) for b in boxes]
    return out, [Box(x - 1, y - 1, x + 1, y + 1) for x, y in centres]


# --- behaviour on drawn plates ------------------------------------------------------------

@pytest.mark.parametrize("width,height", [(300, 90), (150, 45), (600, 180), (90, 30)])
def test_drawn_digits_are_all_found_at_any_size(width, height):
    image, truth = plate(["4253 918"], 600, 180, char_height=0.45)
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    truth = [b.scale(width / 600, height / 180) for b in truth]
    chars = segment(image)
    assert all(found(chars, truth)), chars.boxes
    assert chars.n_rows == 1
    assert len(chars) <= len(truth) + 2


def test_a_bar_along_the_border_is_dropped():
    image, truth = plate(["4253"], 300, 90, frame=False)
    image[20:70, 0:4] = 30  # a character-high dark bar lying on the crop's left edge
    chars = segment(image)
    assert all(found(chars, truth))
    assert chars.boxes[:, 0].min() > 4


@pytest.mark.parametrize("side,cut", [("left", 1), ("left", 2), ("right", 1)])
def test_a_character_cut_by_the_crop_edge_is_still_found(side, cut):
    # A detector box a little too tight: the crop ends ``cut`` px inside the outer "4" or
    # "3"; the 3's round back loses more of its side to the edge, so it is cut less.
    image, truth = plate(["4253"], 300, 90, frame=False)
    if side == "left":
        x0 = truth[0].to_int()[0] + cut
        image, truth = image[:, x0:], [truth[0].shift(-x0, 0)]
    else:
        x1 = truth[-1].to_int()[2] - cut
        image, truth = image[:, :x1], [Box(truth[-1].x0, truth[-1].y0, x1, truth[-1].y1)]
    chars = segment(image)
    assert all(found(chars, truth))
    assert_same(chars, reference_segment(image))


def test_two_touching_characters_are_split():
    image, truth = plate(["4253 918"], 420, 90)
    two, five = truth[1].to_int(), truth[2].to_int()
    shift = five[0] - two[2] + 5  # the "5" moved left until it overlaps the "2" by 5 px
    glyph = image[:, five[0]:five[2]].copy()
    image[:, five[0]:five[2]] = image[:, five[2]:five[2] + 1]  # background there
    image[:, five[0] - shift:five[2] - shift] = np.minimum(
        image[:, five[0] - shift:five[2] - shift], glyph)
    truth[2] = truth[2].shift(-shift, 0)
    chars = segment(image)  # two erosions do not part them; the ink projection does
    assert all(found(chars, truth)), chars.boxes
    assert_same(chars, reference_segment(image))


def test_a_wide_digit_whose_only_row_mates_are_ones_is_not_cut():
    # On a tilted plate a "5" can have only 1s beside it in its row; a third of its width,
    # they must not make it look like characters fused (24.jpg was read 55191УБЗ).
    image, truth = plate(["5   "], 300, 90)
    x0, y0, x1, y1 = truth[0].to_int()
    w = round(0.27 * (y1 - y0))
    for k in range(3):
        a = x1 + 12 + k * 22
        image[y0:y1, a:a + w] = 30
        truth.append(Box(a, y0, a + w, y1))
    chars = segment(image)
    assert len(chars) == 4 and all(found(chars, truth)), chars.boxes
    assert_same(chars, reference_segment(image))


def test_a_character_glued_to_the_frame_is_still_found():
    image, truth = plate(["4253"], 300, 90)
    image[truth[0].to_int()[3] - 1:90 - 4, 60:64] = 40  # a bridge from "4" to the frame
    assert all(found(segment(image), truth))


@pytest.mark.parametrize("angle", [-20, -8, 0, 12, 20])
def test_tilted_two_row_plate_gets_rows_and_order_right(angle):
    image, truth = plate(["4253", "9187"], 240, 200)
    image, centres = rotate(image, truth, angle)
    chars = segment(image)
    assert len(chars) == 8, chars.boxes
    assert chars.rows.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    for b, c in zip(chars.boxes, centres, strict=True):  # reading order = drawing order
        assert Box(*b).contains_point(*c.center)


def test_blank_plate_has_no_characters():
    chars = segment(np.full((60, 200), 180, np.uint8))
    assert len(chars) == 0 and chars.n_rows == 0


def test_segment_accepts_bgr_and_never_modifies_the_crop():
    image, truth = plate(["4253"], 300, 90)
    bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    before = bgr.copy()
    assert np.array_equal(segment(bgr).boxes, segment(image).boxes)
    assert np.array_equal(bgr, before)


@pytest.mark.parametrize("crop,error", [
    (np.zeros((0, 10), np.uint8), InvalidImageError),
    (np.zeros((40, 120), np.float32), InvalidImageError),
    (np.zeros((40, 120, 2), np.uint8), InvalidImageError),
    (np.zeros((4, 100), np.uint8), InvalidImageError),  # far too elongated for a plate
    ([[0, 1], [2, 3]], InvalidImageError),
])
def test_bad_crops_raise(crop, error):
    with pytest.raises(error):
        segment(crop)


@pytest.mark.parametrize("kwargs", [
    dict(min_height=0.7), dict(split_aspect=1.5), dict(min_aspect=0.0), dict(max_erosions=-1),
    dict(min_relative_height=1.0), dict(min_fill=1.0),
])
def test_inconsistent_params_raise(kwargs):
    with pytest.raises(ValueError):
        SegmentParams(**kwargs)


@pytest.mark.parametrize("boxes,rows", [
    (np.zeros((2, 4)) + [0, 0, 1, 1], [0]),  # one row index for two boxes
    ([[5, 5, 5, 9]], [0]),  # empty box
])
def test_bad_char_boxes_raise(boxes, rows):
    with pytest.raises(ValueError):
        CharBoxes(np.asarray(boxes, float), np.asarray(rows))


def test_char_boxes_are_read_only():
    chars = CharBoxes(np.array([[0.0, 0, 2, 3]]), np.array([0]))
    with pytest.raises(ValueError):
        chars.boxes[0, 0] = 1


# --- character crops ----------------------------------------------------------------------

def test_cut_chars_gives_fixed_size_crops_centred_on_the_character():
    image, truth = plate(["4253"], 300, 90, frame=False)
    chars = segment(image)
    crops = cut_chars(image, chars, 36, 20)
    assert crops.shape == (4, 36, 20) and crops.dtype == np.uint8
    for c in crops:  # dark ink in the middle, light background at the sides
        assert c[:, 8:12].min() < 80 and c[:, :2].mean() > c[:, 8:12].mean()
    assert cut_chars(image, CharBoxes.empty(), 36, 20).shape == (0, 36, 20)


def test_cut_chars_handles_boxes_at_the_edge():
    image = np.full((50, 50), 200, np.uint8)
    chars = CharBoxes(np.array([[0.0, 0.0, 3.0, 50.0], [48.5, 10, 50, 12]]), np.array([0, 0]))
    assert cut_chars(image, chars, 36, 20).shape == (2, 36, 20)


@pytest.mark.parametrize("size", [(0, 20), (36, 0)])
def test_cut_chars_rejects_a_bad_size(size):
    with pytest.raises(ValueError):
        cut_chars(np.zeros((40, 120), np.uint8), CharBoxes.empty(), *size)


# --- the fast path against the reference --------------------------------------------------

def random_binary(rng: np.random.Generator) -> np.ndarray:
    """Blobs of all sizes: smoothed noise at a random level, plus bars and glued rectangles."""
    width = int(rng.integers(NORM_HEIGHT // 2, 4 * NORM_HEIGHT))
    noise = cv2.GaussianBlur(rng.random((NORM_HEIGHT, width)), (0, 0), rng.uniform(1, 6))
    binary = (noise > np.quantile(noise, rng.uniform(0.4, 0.9))).astype(np.uint8) * 255
    for _ in range(rng.integers(0, 8)):
        x, y = rng.integers(0, width - 5), rng.integers(0, NORM_HEIGHT - 10)
        w, h = rng.integers(2, 40), rng.integers(5, 70)
        binary[y:y + h, x:x + w] = 255 * int(rng.integers(0, 2))
    return binary


@pytest.mark.parametrize("seed", range(40))
def test_components_match_the_reference_on_random_images(seed):
    binary = random_binary(np.random.default_rng(seed))
    fast = sorted(map(tuple, find_components(binary).tolist()))
    assert fast == reference_components(binary)


@pytest.mark.parametrize("params", [SegmentParams(), SegmentParams(max_erosions=0),
                                    SegmentParams(min_height=0.05, max_aspect=2.0,
                                                  split_aspect=0.5, max_erosions=4)])
def test_components_match_the_reference_with_other_params(params):
    rng = np.random.default_rng(99)
    for _ in range(10):
        binary = random_binary(rng)
        assert sorted(map(tuple, find_components(binary, params).tolist())) == \
            reference_components(binary, params)


def test_segment_matches_the_reference_on_drawn_plates():
    for texts, w, h in ((["4253 918"], 300, 90), (["4253", "9187"], 160, 130)):
        image, _ = plate(texts, w, h)
        assert_same(segment(image), reference_segment(image))


def assert_same(chars: CharBoxes, ref: list) -> None:
    assert chars.rows.tolist() == [r for r, _ in ref]
    np.testing.assert_allclose(chars.boxes.reshape(-1, 4), np.array([b for _, b in ref])
                               .reshape(-1, 4), rtol=0, atol=1e-9)


@pytest.mark.data
def test_segment_matches_the_reference_on_real_crops():
    from edge_alpr.segment import CROP_PAD
    from export.data import photos, plate_crops

    n = 0
    for _, _, crop in plate_crops(photos(), CROP_PAD):
        assert_same(segment(crop), reference_segment(crop))
        n += 1
    assert n == 52


def test_binarize_scales_to_the_normalised_height():
    binary, sx, sy = binarize(np.full((45, 150), 200, np.uint8))
    assert binary.shape == (NORM_HEIGHT, round(150 * NORM_HEIGHT / 45))
    assert sy == NORM_HEIGHT / 45 and sx == pytest.approx(sy, rel=0.01)
    assert set(np.unique(binary)) <= {0, 255}


@pytest.mark.parametrize("texts, w, h", [(["4253 918"], 300, 90), (["4253", "9187"], 160, 130)])
def test_light_ink_is_segmented_like_its_dark_twin(texts, w, h):
    """White-on-green/black/red plates: the same boxes as the same plate in dark ink, flagged
    light, and cut for the classifier as dark on light."""
    image, _ = plate(texts, w, h)
    dark, light = segment(image), segment(255 - image)
    assert not dark.light_ink and light.light_ink
    assert len(dark) >= 5
    np.testing.assert_allclose(light.boxes, dark.boxes, atol=1.0)
    assert light.rows.tolist() == dark.rows.tolist()
    cut_dark = cut_chars(image, dark, 36, 20).astype(int)
    cut_light = cut_chars(255 - image, light, 36, 20).astype(int)
    assert np.abs(cut_dark - cut_light).mean() < 8  # the same crops, not their negatives


def test_char_boxes_keep_their_polarity_when_taken():
    chars = CharBoxes(np.array([[0.0, 0, 2, 3], [4, 0, 6, 3]]), np.array([0, 0]), light_ink=True)
    part = chars.take([1])
    assert part.light_ink and part.boxes.tolist() == [[4, 0, 6, 3]]
