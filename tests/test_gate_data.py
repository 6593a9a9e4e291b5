"""The gate-camera crops: split by plate text, checked validation labels, training label fixes."""

import csv

import pytest

from edge_alpr.annotations import ONE_ROW, TWO_ROW, layout_of
from edge_alpr.grammar import PATTERN
from export.gate_data import CHECKED_VAL, GATE_DIR, gate_split, is_val_text, training_fixes
from export.gate_relabel import against_bias, far_off

needs_gate = pytest.mark.skipif(not (GATE_DIR / "labels.csv").is_file(),
                                reason=f"needs the gate crops at {GATE_DIR} (../shared)")


@pytest.mark.parametrize("label, read, biased", [
    ("1817УБД", "1817УБА", True),  # a Д read as А: the readers' own leaning, label kept
    ("7563УНЛ", "7563УНА", True),
    ("0815УНЯ", "0815УНН", True),
    ("2272УНМ", "2272УНН", True),
    ("1817УБА", "1817УБД", False),  # the other way is no leaning of theirs
    ("0458СЭҮ", "6893УЕО", False),  # another car's text
])
def test_fixes_into_the_readers_leaning_are_refused(label, read, biased):
    assert against_bias(label, read) is biased


@pytest.mark.parametrize("label, read, dropped", [
    ("2659УНН", "2659УНМ", False),  # a look-alike: kept for the eyes (gate_train_eyes.csv)
    ("5359УБТ", "5059УБТ", False),
    ("1438УНН", "1938УНМ", False),  # two characters off
    ("0458СЭҮ", "6893УЕО", True),  # another car's text
    ("2062УХО", "2602УБА", True),  # a black frame read as something
    ("6892СБА", "5191СБА", True),
    ("6892СБА", "5199", True),  # a read of another length
])
def test_crops_read_far_off_their_label_are_dropped(label, read, dropped):
    assert far_off(label, read) is dropped


@pytest.mark.parametrize("w, h, layout", [(520, 110, ONE_ROW), (280, 200, TWO_ROW),
                                          (137, 50, ONE_ROW), (90, 64, TWO_ROW)])
def test_layout_from_the_aspect(w, h, layout):
    assert layout_of(w, h) == layout


@needs_gate
def test_no_plate_text_is_on_both_sides_and_every_label_fits():
    train, val = gate_split()
    assert len(val) == 320 and len(train) > 3000
    assert not {c.text for c in train} & {c.text for c in val}
    assert all(PATTERN.fits(c.text) for c in train + val)


@needs_gate
def test_validation_is_every_checked_crop_and_the_fixes_apply():
    with CHECKED_VAL.open(encoding="utf-8") as f:
        checked = list(csv.DictReader(f))
    # Every validation crop by its machine label's hash was checked, and only those.
    assert all(is_val_text(r["machine_text"]) for r in checked)
    kept = {r["image"]: r["text"] for r in checked if r["text"]}
    val = {c.path.name: c.text for c in gate_split()[1]}
    assert val == kept
    fixes = training_fixes()
    train = {c.path.name: c.text for c in gate_split()[0]}
    unfixed = {c.path.name: c.text for c in gate_split(train_fixes=False)[0]}
    for image, text in fixes.items():
        if text:
            assert train.get(image, text) == text  # (left out only if a validation text)
        else:
            assert image not in train and image in unfixed
