"""benchmarks.readers times the readers on frames under one of the suite's conditions: the
frames must be the suite's degraded frames, with each frame's own plates."""

import json

import numpy as np
import pytest

from benchmarks.alternating import Frame, degraded
from edge_alpr.bench import sample_frames
from edge_alpr.geometry import Box
from edge_alpr.image import read_image


def test_degraded_frames_take_the_condition_at_each_frames_annotated_plates():
    path = sample_frames()[0]
    frame = Frame(path.name, read_image(path), True)
    boxes = [Box(*t["box"]) for t in json.loads(path.with_suffix(".json").read_text())]
    [glared] = degraded([frame], "glare")
    assert glared.name == f"glare-{path.name}" and glared.sample
    assert glared.image.shape == frame.image.shape
    for box in boxes:  # a saturated spot lands on every plate, nowhere else
        before, after = (int((box.crop(f) == 255).sum()) for f in (frame.image, glared.image))
        assert after > before
    changed = glared.image != frame.image
    changed = changed.any(axis=-1) if changed.ndim == 3 else changed
    inside = np.zeros_like(changed)
    for box in boxes:
        x0, y0, x1, y1 = box.pad(1.0).to_int()
        inside[max(y0, 0):y1, max(x0, 0):x1] = True
    assert changed.any() and not (changed & ~inside).any()
    # The same condition twice gives the same pixels: timings compare like with like.
    np.testing.assert_array_equal(degraded([frame], "glare")[0].image, glared.image)


def test_an_unknown_condition_is_named_with_the_suites():
    path = sample_frames()[0]
    with pytest.raises(ValueError, match="'blurry'.*motion-h"):
        degraded([Frame(path.name, read_image(path), True)], "blurry")
