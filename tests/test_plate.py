import numpy as np
import pytest

from edge_alpr.alphabet import CLASSES, REGIONS, REJECT
from edge_alpr.plate import Candidate, PlateText, decode_plate

SURE = 0.9
EMBLEM = {REJECT: 0.95}
# A bolt or frame piece that looks a little like a "1".
SPURIOUS = {"1": 0.4, REJECT: 0.3}


@pytest.fixture(params=["alphabet order", "reversed"])
def classes(request) -> str:
    # The runtime takes the class list from the model's metadata: its order is the model's.
    return CLASSES if request.param == "alphabet order" else CLASSES[::-1]


def comps(text: str) -> list[dict[str, float]]:
    return [{ch: SURE} for ch in text]


def probs(components: list[dict[str, float]], classes: str) -> np.ndarray:
    """One row per component: the named probabilities, the rest spread evenly."""
    p = np.empty((len(components), len(classes)))
    for row, named in zip(p, components, strict=True):
        row[:] = (1 - sum(named.values())) / (len(classes) - len(named))
        for ch, v in named.items():
            row[classes.index(ch)] = v
    return p


def read(components: list[dict[str, float]], classes: str, **kw) -> PlateText:
    return decode_plate(probs(components, classes), classes, **kw)


@pytest.mark.parametrize("position", ["digit", "letter"])
@pytest.mark.parametrize("favoured", ["digit", "letter"])
@pytest.mark.parametrize("digit, letter", [("0", "О"), ("8", "В"), ("3", "З"), ("4", "Ч")])
def test_lookalikes_are_settled_by_position(digit, letter, favoured, position, classes):
    near = {digit: 0.5, letter: 0.45} if favoured == "digit" else {digit: 0.45, letter: 0.5}
    plate = comps("4253УБГ")
    at = 1 if position == "digit" else 6
    plate[at] = near
    r = read(plate, classes)
    want = digit if position == "digit" else letter
    assert r.matches_pattern
    assert r.text == "4253УБГ"[:at] + want + "4253УБГ"[at + 1:]
    assert r.char_confidences[at] == pytest.approx(near[want])


@pytest.mark.parametrize("components, rows, text, matches, kept", [
    pytest.param(comps("4253УБГ"), None, "4253УБГ", True, range(7), id="clean"),
    pytest.param(comps("4253") + [EMBLEM] + comps("УБГ"), None, "4253УБГ", True,
                 (0, 1, 2, 3, 5, 6, 7), id="emblem in the middle skipped"),
    pytest.param(comps("42") + [SPURIOUS] + comps("53УБГ"), None, "4253УБГ", True,
                 (0, 1, 3, 4, 5, 6, 7), id="8 components, one spurious"),
    pytest.param(comps("4253") + comps("УБГ"), [0] * 4 + [1] * 3, "4253УБГ", True, range(7),
                 id="two rows"),
    pytest.param(comps("425УБ"), None, "425УБ", False, range(5), id="5 components as read"),
    pytest.param([EMBLEM] + comps("425УБ"), None, "425УБ", False, range(1, 6),
                 id="5 characters and an emblem"),
    pytest.param(comps("4253УБ") + [EMBLEM], None, "4253УБ", False, range(6),
                 id="emblem not forced to be a 7th character"),
    pytest.param(comps("42531УБ"), None, "42531УБ", False, range(7), id="5 digits as read"),
    pytest.param(comps("4253УБГ1"), None, "4253УБГ1", False, range(8),
                 id="8 sure characters as read"),
    pytest.param(comps("4253УБГ"), [0] * 3 + [1] * 4, "4253УБГ", False, range(7),
                 id="rows that do not split digits from letters"),
    pytest.param([], None, "", False, (), id="no components"),
])
def test_plates(components, rows, text, matches, kept, classes):
    r = decode_plate(probs(components, classes), classes, rows)
    assert (r.text, r.matches_pattern, r.kept) == (text, matches, tuple(kept))
    assert len(r.char_confidences) == len(r.text)
    assert r.candidates[0] == Candidate(r.text, r.confidence, r.kept)
    if not matches:
        assert (r.region, r.region_name) == ("", "")


def test_as_read_confidence_is_the_product_of_its_labelling(classes):
    r = read([EMBLEM] + comps("425УБ"), classes)
    assert r.char_confidences == pytest.approx((SURE,) * 5)
    assert r.confidence == pytest.approx(SURE**5 * EMBLEM[REJECT])
    assert read([EMBLEM], classes).confidence == 0.0


def test_rows_keep_a_top_row_component_out_of_the_letters(classes):
    # Without rows the stray top-row component reads as a letter better than the faint Г.
    plate = comps("4253") + [{"Т": 0.6, REJECT: 0.2}] + comps("УБ") + [{"Г": 0.4, REJECT: 0.3}]
    assert read(plate, classes, region_prior=1.0).text == "4253ТУБ"
    r = decode_plate(probs(plate, classes), classes, [0] * 5 + [1] * 3, region_prior=1.0)
    assert (r.text, r.kept) == ("4253УБГ", (0, 1, 2, 3, 5, 6, 7))


@pytest.mark.parametrize("letters, region, name", [
    ("УБГ", "УБ", "Ulaanbaatar"),
    ("ХӨА", "ХӨ", "Khövsgöl"),
    ("СҮА", "СҮ", ""),  # a known code whose province is not confirmed
    ("ААГ", "", ""),
])
def test_region(letters, region, name, classes):
    r = read(comps("4253" + letters), classes)
    assert (r.text, r.region, r.region_name) == ("4253" + letters, region, name)
    assert region == "" or region in REGIONS


def test_region_prior_tips_an_uncertain_letter(classes):
    plate = comps("4253У") + [{"Б": 0.4, "Д": 0.5}] + comps("Г")
    assert read(plate, classes).text == "4253УБГ"
    assert read(plate, classes, region_prior=1.0).text == "4253УДГ"


@pytest.mark.parametrize("top_n", [1, 2, 5])
def test_candidates_are_the_top_n_by_confidence(top_n, classes):
    plate = comps("4253УБГ")
    plate[2] = {"5": 0.5, "6": 0.4}
    plate[6] = {"Г": 0.6, "Т": 0.35}
    r = read(plate, classes, top_n=top_n)
    texts = [c.text for c in r.candidates]
    confs = [c.confidence for c in r.candidates]
    assert texts[:3] == ["4253УБГ", "4263УБГ", "4253УБТ"][:top_n]
    assert len(texts) == min(top_n, 5) and len(set(texts)) == len(texts)
    assert confs == sorted(confs, reverse=True)
    assert 0 < sum(confs) <= 1
    assert r.confidence == confs[0]


@pytest.mark.parametrize("make, kwargs", [
    (lambda c: np.full((7, len(c) - 1), 1 / len(c)), {}),
    (lambda c: np.full((7, len(c)), -1.0), {}),
    (lambda c: np.full((7, len(c)), np.nan), {}),
    (lambda c: np.full(len(c), 1 / len(c)), {}),
    (lambda c: probs(comps("4253УБГ"), c), {"rows": [0] * 6}),
    (lambda c: probs(comps("4253УБГ"), c), {"rows": [1] * 4 + [0] * 3}),
    (lambda c: probs(comps("4253УБГ"), c), {"rows": [0] * 4 + [2] * 3}),
    (lambda c: probs(comps("4253УБГ"), c), {"top_n": 0}),
    (lambda c: probs(comps("4253УБГ"), c), {"min_pattern_ratio": 0.0}),
], ids=["columns", "logits", "nan", "1-d", "rows length", "rows order", "row 2", "top_n",
        "ratio"])
def test_bad_input_raises(make, kwargs, classes):
    with pytest.raises(ValueError):
        decode_plate(make(classes), classes, **kwargs)


def test_classes_must_be_distinct_characters():
    with pytest.raises(ValueError, match="distinct single characters"):
        decode_plate(np.full((7, 3), 1 / 3), ["0", "0", "#"])
