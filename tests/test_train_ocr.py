"""The whole-plate training's batch mix (export.train_ocr)."""

import argparse

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="needs the export extra")

from edge_alpr.geometry import Box  # noqa: E402
from export.ocr_data import Sample, draw, specular_spot  # noqa: E402
from export.train_ocr import BATCH, INPUT_HW, MARGIN, MIX, batches, parse_mix  # noqa: E402


def test_mix_names_only_known_sources():
    assert parse_mix("synthetic=0.45,gate=0.45,photos=0.1") == {
        "synthetic": 0.45, "gate": 0.45, "photos": 0.1}
    with pytest.raises(argparse.ArgumentTypeError, match="splcied"):
        parse_mix("synthetic=0.5,splcied=0.5")


def test_batches_draw_each_source_by_its_share_and_never_one_left_out():
    drawn = {name: 0 for name in MIX}

    def source(name: str, text: str):
        def one(rng: np.random.Generator) -> Sample:
            drawn[name] += 1
            return Sample(np.full((40, 120), 200, np.uint8), Box(10, 5, 110, 35), text)
        return one

    sources = {name: source(name, "1234УБА") for name in MIX}
    batch = batches(sources, seed=0, mix={"synthetic": 0.5, "gate": 0.5, "photos": 0.0})
    for _ in range(4):
        x, y = batch()
    assert x.shape[0] == y.shape[0] == BATCH
    assert drawn["photos"] == drawn["spliced"] == 0
    assert 0.4 < drawn["synthetic"] / (4 * BATCH) < 0.6


def test_a_specular_spot_saturates_a_character_sized_patch_on_the_plate():
    h, w = INPUT_HW
    for seed in range(40):
        plate = np.full((h, w), 120.0, np.float32)
        out = specular_spot(np.random.default_rng(seed), plate)
        assert (out >= plate).all()  # light only adds
        ys, xs = np.nonzero(out >= 255)
        # from a stroke's width to about a character (a one-row character: ~12×30 px)
        assert 4 <= len(xs) <= 0.06 * h * w, (seed, len(xs))
        assert 0.1 * w - 1 <= xs.mean() <= 0.9 * w + 1 and 0.2 * h - 1 <= ys.mean() <= 0.8 * h + 1


def test_specular_spots_are_drawn_by_their_chance_only():
    x = np.full(INPUT_HW, 120, np.uint8)
    sample = Sample(x, Box(0, 0, INPUT_HW[1], INPUT_HW[0]), "1234УБА")
    off = [draw(np.random.default_rng(s), sample, INPUT_HW, MARGIN) for s in range(20)]
    again = [draw(np.random.default_rng(s), sample, INPUT_HW, MARGIN, specular=0.0)
             for s in range(20)]
    on = [draw(np.random.default_rng(s), sample, INPUT_HW, MARGIN, specular=1.0)
          for s in range(20)]
    assert all(np.array_equal(a, b) for a, b in zip(off, again, strict=True))
    assert sum(not np.array_equal(a, b) for a, b in zip(off, on, strict=True)) >= 15
