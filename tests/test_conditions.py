"""export.conditions: each degradation does what it says, deterministically, without touching
its input."""

import json

import numpy as np
import pytest

from edge_alpr.geometry import Box
from export.conditions import (
    SUITE,
    Glare,
    Night,
    Noise,
    condition_rng,
    defocus,
    degrade_image,
    glare,
    motion_blur,
    motion_kernel,
    night,
    rescale,
    tilt,
    tilted_corners,
)


def _impulse(size: int = 61) -> np.ndarray:
    img = np.zeros((size, size), np.float32)
    img[size // 2, size // 2] = 1.0
    return img


@pytest.mark.parametrize("length", [1, 2, 5, 9, 15])
def test_horizontal_motion_blur_spreads_a_vertical_line_over_length_px(length):
    img = np.zeros((20, 60), np.float32)
    img[:, 30] = 1.0
    out = motion_blur(img, length, 0)
    row = out[10]
    assert np.count_nonzero(row > 1e-6) == length
    assert np.allclose(row[row > 1e-6], 1 / length, atol=1e-6)
    assert np.allclose(out, out[10])  # nothing moved vertically


@pytest.mark.parametrize("length", [5, 9])
def test_vertical_motion_blur_spreads_a_horizontal_line_over_length_rows(length):
    img = np.zeros((40, 20), np.float32)
    img[20, :] = 1.0
    col = motion_blur(img, length, 90)[:, 10]
    assert np.count_nonzero(col > 1e-6) == length
    assert np.allclose(col[col > 1e-6], 1 / length, atol=1e-6)


@pytest.mark.parametrize("angle", [30.0, 45.0, 120.0])
def test_motion_blur_in_any_direction_is_a_line_of_that_length_and_direction(angle):
    length = 15
    out = motion_blur(_impulse(), length, angle)
    yy, xx = np.mgrid[0:61, 0:61].astype(np.float64) - 30
    a = np.deg2rad(angle)
    along = xx * np.cos(a) - yy * np.sin(a)  # y points down, angles turn counter-clockwise
    across = xx * np.sin(a) + yy * np.cos(a)
    w = out / out.sum()
    # A uniform line of ``length`` unit samples: variance (length² − 1) / 12 along it; the
    # bilinear splat adds less than a quarter pixel² either way.
    assert np.sum(w * along**2) == pytest.approx((length**2 - 1) / 12, abs=0.3)
    assert np.sum(w * across**2) < 0.3
    assert abs(np.sum(w * along)) < 1e-6 and abs(np.sum(w * across)) < 1e-6  # centred


def test_motion_kernel_rejects_a_zero_length():
    with pytest.raises(ValueError, match="length"):
        motion_kernel(0, 0)


@pytest.mark.parametrize("radius", [1, 2, 3, 4.5])
def test_defocus_spreads_a_point_evenly_over_a_disc_of_the_radius(radius):
    out = defocus(_impulse(), radius)
    yy, xx = np.mgrid[0:61, 0:61] - 30
    disc = xx**2 + yy**2 <= radius**2
    assert np.array_equal(out > 1e-7, disc)
    assert np.allclose(out[disc], 1 / disc.sum())


def test_half_size_halves_the_resolution_and_keeps_the_frame():
    yy, xx = np.mgrid[0:64, 0:96]
    finest = ((xx + yy) % 2 * 255).astype(np.uint8)  # 1-px checkerboard: the finest detail
    coarse = (127.5 + 127 * np.sin(2 * np.pi * xx / 8)).astype(np.uint8)  # 8-px period
    for img in (finest, coarse):
        assert rescale(img, 0.5).shape == img.shape
    assert finest.std() > 120 and rescale(finest, 0.5).std() < 2  # gone at half resolution
    kept = rescale(coarse, 0.5)[:, 4:-4].astype(float)
    assert np.corrcoef(kept.ravel(), coarse[:, 4:-4].ravel())[0, 1] > 0.95


def _scene_with_plate() -> tuple[np.ndarray, Box]:
    rng = np.random.default_rng(0)
    img = rng.integers(60, 200, (300, 500)).astype(np.uint8)  # a busy scene
    plate = Box(150, 120, 350, 170)
    x0, y0, x1, y1 = plate.to_int()
    img[y0:y1, x0:x1] = 230  # white plate
    img[y0 + 10:y1 - 10, x0 + 20:x1 - 20:12] = 20  # dark strokes
    return img, plate


def test_tilted_corners_turn_narrow_and_shrink_the_far_edge():
    box = Box(30, 15, 70, 25)  # 40 × 10 around (50, 20)
    assert np.allclose(tilted_corners(box, 0, 1, 1), [[30, 15], [70, 15], [70, 25], [30, 25]])
    # 90° counter-clockwise as seen (y down): the right end goes up.
    turned = tilted_corners(box, 90, 1, 1)
    assert np.allclose(turned[1], [50 - 5, 20 - 20]) and np.allclose(np.ptp(turned, 0), [10, 40])
    side = tilted_corners(box, 0, 0.5, 0.8)
    assert np.allclose(np.ptp(side[:, 0]), 20)
    assert np.isclose(side[2, 1] - side[1, 1], 8) and np.isclose(side[3, 1] - side[0, 1], 10)


def test_a_plate_rolled_in_a_frame_slopes_and_leaves_the_scene_away_from_it():
    img, plate = _scene_with_plate()
    x0, y0, x1, y1 = plate.to_int()
    img[y0:y1, x0:x1] = 230
    img[y0 + 24:y0 + 27, x0 + 10:x1 - 10] = 0  # a dark line along the plate's middle
    out = tilt(img, [plate], 10)
    assert out.shape == img.shape
    far = np.ones(img.shape, bool)
    fx0, fy0, fx1, fy1 = plate.pad(1.0).clamp(img.shape[1], img.shape[0]).to_int()
    far[fy0:fy1, fx0:fx1] = False
    assert np.array_equal(out[far], img[far])

    def line_row(x: int) -> float:
        return float(np.argmin(out[y0 - 40:y1 + 40, x].astype(int))) + y0 - 40

    # 160 px of the line apart: a rise of 160 × tan 10° = 28 px, right end up.
    assert line_row(x0 + 20) - line_row(x1 - 20) == pytest.approx(28, abs=3)


def test_a_tilted_crop_grows_to_the_tilted_plates_bounding_box():
    img, plate = _scene_with_plate()
    x0, y0, x1, y1 = plate.to_int()
    crop = img[y0:y1, x0:x1].copy()  # 200 × 50, the plate filling it
    full = Box(0, 0, crop.shape[1], crop.shape[0])
    rolled = tilt(crop, [full], 10)
    # 200 cos 10° + 50 sin 10° wide, 200 sin 10° + 50 cos 10° tall.
    assert rolled.shape == pytest.approx((84, 206), abs=1)
    side = tilt(crop, [full], 0, 0.77, 0.9)
    assert side.shape == pytest.approx((50, 154), abs=1)
    # The strokes' ink shrinks with the plate's area seen (0.77 × the mean of 1 and 0.9).
    def ink(image: np.ndarray) -> float:
        return float(np.clip(230 - image.astype(float), 0, None).sum())

    assert ink(side) == pytest.approx(0.77 * 0.95 * ink(crop), rel=0.1)


def test_night_darkens_the_scene_and_flattens_the_plate():
    img, plate = _scene_with_plate()
    out = night(img, [plate], np.random.default_rng(0), 0.2, 100, 170, sigma=0)
    far = (slice(0, 60), slice(0, 500))  # well away from the plate and the lamp's halo
    assert out[far].astype(float).mean() == pytest.approx(0.2 * img[far].mean(), abs=1)
    lo, hi = np.percentile(plate.crop(out), (2, 98))
    assert (lo, hi) == (pytest.approx(100, abs=2), pytest.approx(170, abs=2))
    assert plate.crop(out).mean() > 3 * out[far].mean()  # bright plate in a dark scene


def test_night_adds_sensor_noise_of_sigma():
    flat = np.full((200, 200), 128, np.uint8)
    out = night(flat, [], np.random.default_rng(0), 1.0, 100, 170, sigma=8)
    assert (out.astype(float) - 128).std() == pytest.approx(8, rel=0.05)


def test_glare_saturates_a_spot_of_the_size_inside_the_plate_and_nothing_far_away():
    img = np.full((400, 800), 40, np.uint8)
    plate = Box(200, 150, 600, 250)  # √area = 200: core semi-axes 6 and 12 px
    out = glare(img, [plate], np.random.default_rng(3), radius=0.03, elongation=2.0, halo=2.0)
    saturated = out == 255
    ys, xs = np.nonzero(saturated)
    assert all(plate.contains_point(x, y) for x, y in zip(xs, ys, strict=True))
    # Pixels of the background that reach 255: the core (d² ≤ 1) and the thin ring where the
    # halo adds ≥ 215, d² ≤ 1 + (halo² − 1)·ln(255/215).
    core = np.pi * 6 * 12
    assert core < saturated.sum() < core * (1 + 3 * np.log(255 / 215)) * 1.1
    assert np.array_equal(out[:, :100], img[:, :100])  # beyond three halos: untouched


def test_noise_condition_adds_noise_of_sigma_seeded_by_the_image():
    flat = np.full((200, 200), 128, np.uint8)
    a = Noise(10)(flat, [], condition_rng("noise", "a.jpg"))
    again = Noise(10)(flat, [], condition_rng("noise", "a.jpg"))
    other = Noise(10)(flat, [], condition_rng("noise", "b.jpg"))
    assert (a.astype(float) - 128).std() == pytest.approx(10, rel=0.05)
    assert np.array_equal(a, again) and not np.array_equal(a, other)


@pytest.mark.parametrize("photo", [True, False], ids=["photo", "crop"])
@pytest.mark.parametrize("condition", SUITE, ids=lambda c: c.name)
def test_every_condition_is_deterministic_keeps_shape_and_leaves_its_input(condition, photo):
    img, plate = _scene_with_plate()
    before = img.copy()
    out = degrade_image(condition, img, [plate], "x.jpg", photo)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(img, before)
    assert np.array_equal(out, degrade_image(condition, img, [plate], "x.jpg", photo))
    if condition.name == "clean":
        assert np.array_equal(out, img)
    else:
        assert not np.array_equal(out, img)


def test_every_condition_works_on_colour_frames_too():
    img, plate = _scene_with_plate()
    bgr = np.dstack([img, img, img])
    for c in SUITE:
        out = degrade_image(c, bgr, [plate], "x.jpg", True)
        assert out.shape == bgr.shape
        # A gray scene stays gray: every degradation treats the channels alike.
        assert np.array_equal(out[..., 0], out[..., 2]), c.name


def test_suite_names_are_unique_and_parameters_are_json():
    names = [c.name for c in SUITE]
    assert len(set(names)) == len(names)
    params = json.loads(json.dumps({c.name: c.params() for c in SUITE}))
    assert params["motion-h"]["photos"] == {"kind": "MotionBlur", "length": 9, "angle": 0.0,
                                            "text": "motion blur 9 px at 0°"}
    assert params["motion-h"]["gate"]["length"] == 5
    assert {type(c.photo) for c in SUITE} >= {Night, Glare}
