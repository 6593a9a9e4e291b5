"""The whole-plate training's batch mix (export.train_ocr)."""

import argparse

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="needs the export extra")

from edge_alpr.geometry import Box  # noqa: E402
from export.ocr_data import Sample  # noqa: E402
from export.train_ocr import BATCH, MIX, batches, parse_mix  # noqa: E402


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
