"""A rolled plate's roll, and the plate turned level (edge_alpr.level), on rendered plates
of both layouts turned by known angles."""

import cv2
import numpy as np
import pytest

from edge_alpr.annotations import ONE_ROW, TWO_ROW
from edge_alpr.geometry import Box
from edge_alpr.level import level, roll_at, roll_of


def rolled_plate(layout: str, roll: float) -> tuple[np.ndarray, np.ndarray, Box, Box]:
    """A grey frame with a rendered plate, the same frame with the plate turned ``roll``
    degrees (counter-clockwise as seen) about its centre, the plate's box and the upright
    box that bounds the turned plate."""
    from export.synth.plate import render_plate

    plate = render_plate(np.random.default_rng(3), text="4253УБГ", layout=layout).image
    size = (200, 44) if layout == ONE_ROW else (150, 100)
    plate = cv2.resize(cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY), size,
                       interpolation=cv2.INTER_AREA)
    frame = np.full((300, 400), 70, np.uint8)
    x0, y0 = (400 - size[0]) // 2, (300 - size[1]) // 2
    frame[y0:y0 + size[1], x0:x0 + size[0]] = plate
    box = Box(x0, y0, x0 + size[0], y0 + size[1])
    turn = cv2.getRotationMatrix2D(box.center, roll, 1.0)
    turned = cv2.warpAffine(frame, turn, (400, 300), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    corners = np.array([[box.x0, box.y0, 1], [box.x1, box.y0, 1], [box.x1, box.y1, 1],
                        [box.x0, box.y1, 1]]) @ turn.T
    upright = Box(*corners.min(axis=0), *corners.max(axis=0))
    return frame, turned, box, upright


@pytest.mark.parametrize("layout", [ONE_ROW, TWO_ROW])
@pytest.mark.parametrize("roll", [-22, -12, -7, 0, 5, 10, 20])
def test_roll_of_finds_how_far_a_plate_is_turned(layout, roll):
    _, turned, _, upright = rolled_plate(layout, roll)
    assert abs(roll_of(upright.crop(turned)) - roll) <= 1.0


def test_roll_of_a_sliver_or_nothing_is_level():
    assert roll_of(np.zeros((0, 0), np.uint8)) == 0.0
    assert roll_of(np.zeros((1, 50), np.uint8)) == 0.0
    frame = np.zeros((40, 60), np.uint8)
    assert roll_at(frame, Box(70, 50, 90, 60)) == roll_at(frame, Box(-30, -20, 0, 0)) == 0.0


@pytest.mark.parametrize("layout", [ONE_ROW, TWO_ROW])
@pytest.mark.parametrize("roll", [-10, 8, 20])
def test_level_turns_the_plate_back_into_its_own_box(layout, roll):
    frame, turned, box, upright = rolled_plate(layout, roll)
    levelled = level(turned, upright, roll, 0.1)
    plate = levelled.plate
    rx, ry = upright.pad(0.1).to_int()[:2]  # the region's corner in the frame
    # The levelled plate's box: the plate's own size, at its place in the region.
    assert plate.width == pytest.approx(box.width, abs=2)
    assert plate.height == pytest.approx(box.height, abs=2)
    back = plate.shift(rx, ry)
    assert max(abs(a - b) for a, b in zip(back.as_list(), box.as_list(), strict=True)) <= 2
    # Its pixels are the plate's as rendered, less the two resamplings' softening; the
    # turned plate, read from the same box, is not.
    inner = box.pad(-0.05)
    want = inner.crop(frame).astype(np.float32)
    got = inner.shift(-rx, -ry).crop(levelled.image).astype(np.float32)
    still_turned = inner.crop(turned).astype(np.float32)
    assert np.abs(got - want).mean() < 0.4 * np.abs(still_turned - want).mean()


def test_a_box_in_the_levelled_image_maps_back_to_the_frame():
    _, turned, box, upright = rolled_plate(ONE_ROW, 12)
    levelled = level(turned, upright, 12, 0.3)
    # The levelled plate, mapped back, is bounded by the turned plate's upright box.
    back = levelled.to_frame(levelled.plate)
    assert max(abs(a - b) for a, b in zip(back.as_list(), upright.as_list(), strict=True)) <= 2
    # A point maps as the turn does: the plate's centre stays where it was.
    cx, cy = levelled.plate.center
    np.testing.assert_allclose(levelled.to_frame(Box(cx - 1, cy - 1, cx + 1, cy + 1)).center,
                               box.center, atol=0.5)
