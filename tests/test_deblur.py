"""Horizontal motion blur on a plate crop: measured along the rows only, and undone by
deconvolution with the blur's length."""

import cv2
import numpy as np
import pytest

from edge_alpr.annotations import ONE_ROW
from edge_alpr.deblur import blur_length, deblur_horizontal, horizontal_blur
from edge_alpr.plate_ocr import BLURRED_ABOVE
from export.conditions import defocus, motion_blur
from export.synth.plate import render_plate


@pytest.fixture(scope="module")
def plate() -> np.ndarray:
    """A rendered one-row plate, grey, 150 px wide: a gate camera's median plate."""
    image = render_plate(np.random.default_rng(0), text="4253УБГ", layout=ONE_ROW).image
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return cv2.resize(gray, (150, round(150 * gray.shape[0] / gray.shape[1])),
                      interpolation=cv2.INTER_AREA)


def _inner(a: np.ndarray, margin: int = 16) -> np.ndarray:
    # Away from the ends, where any deconvolution guesses what lies past the crop.
    return a[:, margin:-margin].astype(np.float32)


@pytest.mark.parametrize("length", [5, 9, 15])
def test_deblur_with_the_blurs_length_restores_the_plate(plate, length):
    blurred = motion_blur(plate, length)
    restored = deblur_horizontal(blurred, length)
    assert restored.shape == plate.shape and restored.dtype == np.uint8
    before = np.abs(_inner(blurred) - _inner(plate)).mean()
    after = np.abs(_inner(restored) - _inner(plate)).mean()
    assert after < 0.7 * before, (before, after)  # measured: 0.54-0.66


def test_horizontal_blur_grows_with_horizontal_blur_only(plate):
    sharp = horizontal_blur(plate)
    assert sharp < BLURRED_ABOVE  # a sharp plate gets no deblur look
    lengths = [horizontal_blur(motion_blur(plate, n)) for n in (5, 9, 15)]
    assert sharp < lengths[0] < lengths[1] < lengths[2]
    assert lengths[1] > BLURRED_ABOVE
    # Smeared down the columns, the rows keep most of their edges; defocus blurs them too.
    assert horizontal_blur(motion_blur(plate, 15, 90)) < lengths[0]
    assert horizontal_blur(defocus(plate, 3)) > sharp


def test_pixel_noise_does_not_pass_for_detail_along_the_rows(plate):
    # A night camera's noise on a smeared plate: the rows are averaged before measuring.
    noise = np.random.default_rng(1).normal(0, 12, plate.shape)
    noisy = np.clip(motion_blur(plate, 9) + noise, 0, 255).astype(np.uint8)
    assert horizontal_blur(noisy) > BLURRED_ABOVE  # measured 0.33 (0.41 without noise)
    assert abs(blur_length(noisy) - 9) <= 1


def test_horizontal_blur_of_a_flat_crop_is_total():
    assert horizontal_blur(np.full((20, 60), 128, np.uint8)) == 1.0


@pytest.mark.parametrize("length", [0, -3])
def test_deblur_needs_a_positive_length(plate, length):
    with pytest.raises(ValueError, match="at least 1"):
        deblur_horizontal(plate, length)


@pytest.mark.parametrize("length", [4, 5, 7, 9, 12, 15, 21])
def test_blur_length_finds_the_length_of_horizontal_motion_blur(plate, length):
    assert abs(blur_length(motion_blur(plate, length)) - length) <= 1


def test_blur_length_stays_within_half_a_narrow_crop(plate):
    narrow = motion_blur(plate, 9)[:, :30]
    assert 3 <= blur_length(narrow) <= 14
    assert blur_length(narrow[:, :6]) == 3  # too narrow to tell: the shortest


def test_deblur_of_length_one_changes_nothing(plate):
    np.testing.assert_array_equal(deblur_horizontal(plate, 1, nsr=0.0), plate)
