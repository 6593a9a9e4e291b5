import csv
import itertools
import math
from collections import Counter

import numpy as np
import pytest
from test_plate import probs

from edge_alpr.alphabet import CLASSES, DIGITS, LETTERS, REJECT
from edge_alpr.grammar import DIGIT, LETTER, PATTERN, PlatePattern
from edge_alpr.plate import REGION_PRIOR, decode_plate, decode_slots
from export.gate_data import CHECKED_VAL

SLOT_CLASSES = DIGITS + LETTERS  # a whole-plate recognizer's classes: no reject


@pytest.mark.parametrize("text, fits, region", [
    ("4253УБГ", True, "УБ"),
    ("0000ӨВА", True, "ӨВ"),
    ("9081ХӨР", True, "ХӨ"),
    ("1234ЯЯЯ", True, ""),  # fits, but ЯЯ is no region code
    ("4253УБ", False, ""),
    ("4253УБГГ", False, ""),
    ("425ЗУБГ", False, ""),  # a letter in a digit slot
    ("42530БГ", False, ""),  # the digit 0 in a letter slot (О is the letter)
    ("4253УБ1", False, ""),
    ("4253UBG", False, ""),  # Latin letters
    ("", False, ""),
])
def test_pattern_table(text, fits, region):
    assert PATTERN.fits(text) is fits
    assert PATTERN.region_of(text) == region


def test_every_common_region_code_on_the_checked_gate_plates_is_known():
    # The region prior favours known codes: a common code left out is read as a neighbour's
    # under blur or glare, and its plates report no region.
    with CHECKED_VAL.open(encoding="utf-8") as f:
        codes = Counter(t[4:6] for t in (r["text"] for r in csv.DictReader(f)) if PATTERN.fits(t))
    common = {c for c, n in codes.items() if n >= 0.01 * sum(codes.values())}
    assert len(common) >= 8 and not common - set(PATTERN.regions)


def test_pattern_layout_and_masks():
    assert len(PATTERN) == 7 and PATTERN.slots == "DDDDLLL"
    assert PATTERN.slot_rows().tolist() == [0, 0, 0, 0, 1, 1, 1]
    mask = PATTERN.slot_mask(CLASSES)
    assert mask.shape == (7, len(CLASSES))
    assert not mask[:, CLASSES.index(REJECT)].any()
    assert mask[0, CLASSES.index("0")] and not mask[0, CLASSES.index("О")]
    assert mask[6, CLASSES.index("О")] and not mask[6, CLASSES.index("0")]
    pairs = PATTERN.region_pairs(CLASSES)
    assert (CLASSES.index("У"), CLASSES.index("Б")) in pairs
    assert (CLASSES.index("Б"), CLASSES.index("У")) in pairs  # БУ is Bulgan
    assert (CLASSES.index("Я"), CLASSES.index("Я")) not in pairs


@pytest.mark.parametrize("kwargs", [
    {"slots": "DDX", "kinds": {DIGIT: DIGITS}, "region_slots": (0, 1)},
    {"slots": "DDL", "kinds": {DIGIT: DIGITS, LETTER: LETTERS}, "region_slots": (1, 2)},
    {"slots": "DDL", "kinds": {DIGIT: DIGITS, LETTER: LETTERS}, "region_slots": (2, 1)},
    {"slots": "DDL", "kinds": {DIGIT: DIGITS, LETTER: LETTERS}, "region_slots": (0, 1),
     "top_row": 5},
], ids=["unknown kind", "region across kinds", "region order", "top row"])
def test_bad_patterns_raise(kwargs):
    with pytest.raises(ValueError):
        PlatePattern(**kwargs)


def _random_probs(rng: np.random.Generator, n: int, classes: str) -> np.ndarray:
    p = rng.dirichlet(np.full(len(classes), 0.3), size=n)
    return p


def _brute_total(p: np.ndarray, classes: str, rows: list[int] | None) -> float:
    """Summed prior-weighted probability of every grammar reading, by enumeration of which
    components are kept (the classes of each slot summed in closed form)."""
    skip = p[:, classes.index(REJECT)]
    kinds = PATTERN.kind_mask(classes)
    a, b = PATTERN.region_slots
    pairs = PATTERN.region_pairs(classes)
    weight = np.ones((len(classes), len(classes)))
    for f, s in pairs:
        weight[f, s] = REGION_PRIOR
    total = 0.0
    for kept in itertools.combinations(range(len(p)), len(PATTERN)):
        if rows is not None and [rows[i] for i in kept] != PATTERN.slot_rows().tolist():
            continue
        term = float(np.prod([skip[i] for i in range(len(p)) if i not in kept]))
        for slot, i in enumerate(kept):
            if slot not in (a, b):
                term *= float(p[i, kinds[PATTERN.slots[slot]]].sum())
        pa = p[kept[a]] * kinds[PATTERN.slots[a]]
        pb = p[kept[b]] * kinds[PATTERN.slots[b]]
        total += term * float(pa @ weight @ pb)
    return total


@pytest.mark.parametrize("seed, n, rows", [
    (0, 7, None), (1, 8, None), (2, 9, None), (3, 9, [0, 0, 0, 0, 1, 1, 1, 1, 1]),
])
def test_component_decoder_confidence_is_its_share_of_every_grammar_reading(seed, n, rows):
    rng = np.random.default_rng(seed)
    # Make one reading clearly best so the decoder does not fall back to the free reading.
    p = 0.3 * _random_probs(rng, n, CLASSES)
    for i, ch in zip(range(n), "4253УБГ##", strict=False):
        p[i, CLASSES.index(ch)] += 0.7
    read = decode_plate(p, CLASSES, rows)
    assert read.matches_pattern
    q = np.clip(p, 1e-12, None)
    q /= q.sum(axis=1, keepdims=True)
    best = float(np.prod([q[i, CLASSES.index(c)] for i, c in zip(read.kept, read.text,
                                                                  strict=True)]))
    best *= float(np.prod([q[i, CLASSES.index(REJECT)] for i in range(n)
                           if i not in read.kept]))
    best *= REGION_PRIOR if PATTERN.region_of(read.text) else 1.0
    assert read.confidence == pytest.approx(best / _brute_total(q, CLASSES, rows), rel=1e-6)


@pytest.mark.parametrize("slots, text, matches", [
    ([{c: 0.9} for c in "4253УБГ"], "4253УБГ", True),
    # Look-alikes settled by the slot: О read in a digit slot is 0, 0 in a letter slot is О.
    ([{"О": 0.6, "0": 0.3}] + [{c: 0.9} for c in "253УБГ"], "0253УБГ", True),
    ([{c: 0.9} for c in "4253УБ"] + [{"0": 0.6, "О": 0.3}], "4253УБО", True),
    # The region prior tips an uncertain second letter towards a known code.
    ([{c: 0.9} for c in "4253У"] + [{"Б": 0.4, "Д": 0.5}, {"Г": 0.9}], "4253УБГ", True),
    # Nothing like a plate in the letter slots: returned as read, flagged.
    ([{c: 0.9} for c in "4253"] + [{"7": 0.99}] * 3, "4253777", False),
])
def test_slot_decoder_table(slots, text, matches):
    read = decode_slots(probs(slots, SLOT_CLASSES), SLOT_CLASSES)
    assert (read.text, read.matches_pattern) == (text, matches)
    assert len(read.char_confidences) == len(text)


def test_slot_decoder_candidates_and_confidence_against_enumeration():
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.full(len(SLOT_CLASSES), 0.2), size=7)
    for i, ch in enumerate("4253УБГ"):
        p[i] = 0.5 * p[i]
        p[i, SLOT_CLASSES.index(ch)] += 0.5
    read = decode_slots(p, SLOT_CLASSES, top_n=4)
    mask = PATTERN.slot_mask(SLOT_CLASSES)
    pairs = PATTERN.region_pairs(SLOT_CLASSES)
    a, b = PATTERN.region_slots
    total = math.prod(float(p[i, mask[i]].sum()) for i in range(7) if i not in (a, b))
    pair_mass = sum(p[a, f] * p[b, s] * (REGION_PRIOR if (f, s) in pairs else 1.0)
                    for f in np.flatnonzero(mask[a]) for s in np.flatnonzero(mask[b]))
    total *= float(pair_mass)

    def score(text: str) -> float:
        idx = [SLOT_CLASSES.index(c) for c in text]
        prior = REGION_PRIOR if (idx[a], idx[b]) in pairs else 1.0
        return math.prod(float(p[i, k]) for i, k in enumerate(idx)) * prior

    confs = [c.confidence for c in read.candidates]
    assert [c.text for c in read.candidates][0] == read.text == "4253УБГ"
    assert confs == sorted(confs, reverse=True) and len(set(c.text for c in read.candidates)) == 4
    for c in read.candidates:
        assert PATTERN.fits(c.text)
        assert c.confidence == pytest.approx(score(c.text) / total, rel=1e-9)
