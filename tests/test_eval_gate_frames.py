"""Gate frames made of pasted crops, read end to end: rendered plates pasted into the sample
scene (the real gate crops and photos are in ../shared)."""

import json
from pathlib import Path

import numpy as np
import pytest

from edge_alpr.annotations import ONE_ROW, TWO_ROW, Photo, PlateAnnotation
from edge_alpr.geometry import Box
from edge_alpr.image import read_gray
from edge_alpr.pipeline import PlateReader
from export.conditions import SUITE, Condition, MotionBlur
from export.eval_conditions import LabelledCrop
from export.eval_gate_frames import FRAME_HW, NIGHT_GAIN, paste, scene, score_frames
from export.synth.crop import render_plate_crop
from export.synth.plate import SCHEMES

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "scene.jpg"
CLEAN = next(c for c in SUITE if c.name == "clean")
SMEAR = Condition("smeared", MotionBlur(81), MotionBlur(41))


@pytest.fixture(scope="module")
def sample_scene() -> np.ndarray:
    truth = json.loads(SAMPLE.with_suffix(".json").read_text(encoding="utf-8"))
    photo = Photo(SAMPLE, 1920, 1080, tuple(
        PlateAnnotation(Box(*p["box"]), p["text"], p["layout"]) for p in truth))
    return scene(photo, read_gray(SAMPLE))


@pytest.fixture(scope="module")
def crops() -> list[LabelledCrop]:
    out = []
    for seed in range(6):
        layout = (ONE_ROW, TWO_ROW)[seed % 2]
        image, plate = render_plate_crop(np.random.default_rng(seed), layout=layout,
                                         scheme=SCHEMES[0])
        crop = plate.box.pad(0.05).crop(image).copy()
        out.append(LabelledCrop(f"{seed}.png", crop, plate.text, layout))
    return out


def test_the_scene_hides_its_own_plates(sample_scene):
    reads = PlateReader(threads=1).read(sample_scene)
    assert sample_scene.shape == FRAME_HW and reads == []


def test_crops_are_pasted_where_their_box_says_and_night_darkens_the_scene(crops, sample_scene):
    night = LabelledCrop("night.png", (crops[0].image // 4).astype(np.uint8), crops[0].text,
                         ONE_ROW)
    frames = paste([crops[0], night], [sample_scene])
    for f, c in zip(frames, (crops[0], night), strict=True):
        x0, y0, x1, y1 = f.plate.to_int()
        assert np.array_equal(f.image[y0:y1, x0:x1], c.image)
    outside = [f.image.copy() for f in frames]
    for img, f in zip(outside, frames, strict=True):
        x0, y0, x1, y1 = f.plate.to_int()
        img[y0:y1, x0:x1] = 0
    assert abs(outside[1].mean() - NIGHT_GAIN * outside[0].mean()) < 2
    with pytest.raises(ValueError, match="too large"):
        paste([LabelledCrop("big.png", np.zeros((400, 300), np.uint8), "", ONE_ROW)],
              [sample_scene])


def test_pasted_plates_are_found_and_read_and_a_destroyed_one_is_not(crops, sample_scene):
    reader = PlateReader(threads=1)
    frames = paste(crops, [sample_scene])
    found, exact, misses = score_frames(reader, frames, CLEAN)
    assert found == len(crops) and exact >= len(crops) - 1, misses
    found, exact, misses = score_frames(reader, frames, SMEAR)
    assert exact == 0 and len(misses) == len(crops)
