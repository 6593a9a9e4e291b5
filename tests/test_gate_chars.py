"""Gate-crop characters: which segmentations are labelled by position, and which machine-made
labels the vetting model lets through."""

import numpy as np
import pytest

from edge_alpr.alphabet import CLASSES
from edge_alpr.annotations import ONE_ROW, TWO_ROW
from edge_alpr.segment import CharBoxes
from export.char_data import GATE_MIN_PROB, vet_gate
from export.gate_chars import layout_consistent


def boxes(rows: list[int], heights: list[float] | None = None) -> CharBoxes:
    heights = heights or [40.0] * len(rows)
    b = [[30.0 * i, 10.0 + 50 * r, 30.0 * i + 20, 10.0 + 50 * r + h]
         for i, (r, h) in enumerate(zip(rows, heights, strict=True))]
    return CharBoxes(np.array(b), np.array(rows))


@pytest.mark.parametrize("rows, heights, layout, ok", [
    ([0] * 7, None, ONE_ROW, True),
    ([0, 0, 0, 0, 1, 1, 1], None, TWO_ROW, True),
    ([0] * 7, None, TWO_ROW, False),  # a two-row crop read as one row: positions unsure
    ([0, 0, 0, 1, 1, 1, 1], None, TWO_ROW, False),  # 3 over 4 is no standard plate
    ([0] * 6, None, ONE_ROW, False),  # a character missed: every later label would shift
    ([0] * 8, None, ONE_ROW, False),
    ([0] * 7, [40, 40, 40, 62, 40, 40, 40], ONE_ROW, False),  # one merged with the frame
    ([0] * 7, [40, 40, 40, 44, 40, 37, 40], ONE_ROW, True),
])
def test_only_one_box_per_slot_in_the_layouts_rows_is_labelled(rows, heights, layout, ok):
    assert layout_consistent(boxes(rows, heights), layout) == ok


def probs_for(reads: list[tuple[str, float]]) -> np.ndarray:
    """One row per crop: the given class at the given probability, the rest spread evenly."""
    out = np.empty((len(reads), len(CLASSES)))
    for i, (c, p) in enumerate(reads):
        out[i] = (1 - p) / (len(CLASSES) - 1)
        out[i, CLASSES.index(c)] = p
    return out


@pytest.mark.parametrize("label, read, p, kept", [
    ("А", "А", 0.9, True),
    ("А", "Л", 0.6, False),  # a Л the OCR wrote as А: the label would teach its mistake
    ("А", "Д", 0.5, False),
    ("Н", "Я", 0.7, False),
    ("Н", "М", 0.7, False),
    ("Л", "Л", 0.8, True),
    ("Л", "А", 0.8, False),
    ("Б", "Б", 0.9, True),
    ("Б", "В", 0.8, True),  # not a suspect letter: kept while the label is still plausible
    ("7", "1", 0.99, False),  # ... and dropped when the model all but rules it out
])
def test_suspect_letters_need_the_model_to_agree(label, read, p, kept):
    probs = probs_for([(read, p)])
    if label != read:
        # the label's own probability: plausible (0.1) unless the model is nearly sure
        probs[0, CLASSES.index(label)] = 0.1 if p < 0.95 else GATE_MIN_PROB / 10
    assert vet_gate(probs, np.array([CLASSES.index(label)])).tolist() == [kept]
