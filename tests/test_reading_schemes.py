"""The segmentation reader on rendered plates of both layouts and every colour scheme."""

import cv2
import numpy as np
import pytest

from edge_alpr.annotations import ONE_ROW, TWO_ROW
from edge_alpr.detector import Detection
from edge_alpr.geometry import Box
from edge_alpr.models import CHARS, INT8, bundled_model
from edge_alpr.pipeline import read_plate
from edge_alpr.recognizer import Recognizer
from edge_alpr.segment import CROP_PAD, segment
from edge_alpr.session import OnnxModel
from export.synth.plate import PLATE_MM, SCHEMES, ColorScheme, RenderedPlate, render_plate

# Plate widths in pixels as in the 1920×1080 photos: a near one-row plate, a two-row one.
WIDTH_PX = {ONE_ROW: 260.0, TWO_ROW: 150.0}
TEXTS = ("4253УБГ", "9081ХӨР", "7716УНЕ")


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(OnnxModel(bundled_model(CHARS, INT8).path, threads=1))


def on_car(plate_image: np.ndarray) -> tuple[np.ndarray, Box]:
    """The plate laid on a dark holder and a mid-gray car, and its box."""
    gray = cv2.cvtColor(plate_image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    image = np.full((h * 3, w + 2 * h), 120, np.uint8)
    cv2.rectangle(image, (h - 6, h - 6), (h + w + 5, 2 * h + 5), 30, -1)
    image[h:2 * h, h:h + w] = gray
    return cv2.GaussianBlur(image, (3, 3), 0), Box(float(h), float(h), float(h + w), float(2 * h))


def render(text: str, layout: str, scheme: ColorScheme, seed: int) -> RenderedPlate:
    scale = WIDTH_PX[layout] / PLATE_MM[layout][0]
    return render_plate(np.random.default_rng(seed), text, layout, scale, scheme)


@pytest.mark.parametrize("layout", [ONE_ROW, TWO_ROW])
@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.name)
def test_rendered_plates_are_segmented_and_read_in_every_scheme(recognizer, scheme, layout):
    """The ink's polarity is found, and the plate is read as its black-on-white twin (same
    seed: same font, layout and marks) is: the polarity is the segmentation's business alone."""
    light = sum(scheme.ink) > sum(scheme.background)
    for seed, text in enumerate(TEXTS):
        image, box = on_car(render(text, layout, scheme, seed).image)
        x0, y0, x1, y1 = box.pad(CROP_PAD).to_int()
        assert segment(image[y0:y1, x0:x1]).light_ink == light, (scheme.name, layout, text)
        read = read_plate(image, Detection(box, 1.0), recognizer)
        assert len(read.text) == len(text) and read.layout == layout, (scheme.name, text)
        twin, _ = on_car(render(text, layout, SCHEMES[0], seed).image)
        assert read.text == read_plate(twin, Detection(box, 1.0), recognizer).text
