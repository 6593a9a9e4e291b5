"""Spliced daylight plates (export.splice): the old character is gone, the new one is there
and reads as its label."""

import numpy as np
import pytest

from edge_alpr.alphabet import DIGITS
from edge_alpr.annotations import CharBox, PlateAnnotation
from edge_alpr.geometry import Box
from edge_alpr.models import CHARS, INT8, bundled_model
from edge_alpr.recognizer import Recognizer
from edge_alpr.segment import CharBoxes, cut_chars
from edge_alpr.session import OnnxModel
from export.splice import Glyph, Host, hosts_and_glyphs, paper, paste, splice

PAPER, INK = 180.0, 40.0


def _plate(rng: np.random.Generator) -> tuple[np.ndarray, PlateAnnotation]:
    """Grainy paper with 7 bars 8 px wide as characters, 20 × 40 px, 15 px apart."""
    image = rng.normal(PAPER, 4, (120, 300)).clip(0, 255).astype(np.uint8)
    chars = []
    for i in range(7):
        box = Box(30 + 35 * i, 40, 50 + 35 * i, 80)
        image[40:80, 36 + 35 * i:44 + 35 * i] = INK
        chars.append(CharBox("1", box))
    return image, PlateAnnotation(Box(25, 35, 280, 85), "1111111", "one-row", tuple(chars))


def test_paper_takes_the_ink_away_at_the_paper_level_and_grain():
    rng = np.random.default_rng(0)
    image, plate = _plate(rng)
    blank = paper(rng, image, plate)
    under = blank[40:80, 36:44]  # where the first bar's ink was
    assert abs(under.mean() - PAPER) < 3
    assert 1 < under.std() < 8


def test_paste_puts_the_new_character_over_the_old():
    rng = np.random.default_rng(1)
    image, plate = _plate(rng)
    ring = np.full((46, 24), 230, np.uint8)  # a donor "0": a dark ring on light paper
    ring[4:-4, 3:-3] = 20
    ring[12:-12, 9:-9] = 230
    before = image.copy()
    paste(image, paper(rng, image, plate), plate.chars[0].box, Glyph(ring, "0", "one-row"))
    assert image[60, 40] > PAPER - 15  # the old bar's middle: now the ring's hole
    assert image[60, 32] < PAPER - 60  # the ring's left stroke, mapped to the host's ink
    np.testing.assert_array_equal(image[:, 60:], before[:, 60:])  # the neighbours untouched


@pytest.mark.data
def test_spliced_plates_read_as_their_new_text():
    """The shipped character model (trained on these photos' characters) reads each pasted
    character as the label it was given."""
    hosts, glyphs = hosts_and_glyphs("train")
    assert len(hosts) >= 30 and len(glyphs) == 7 * 40
    recognizer = Recognizer(OnnxModel(bundled_model(CHARS, INT8).path, threads=1))
    rng = np.random.default_rng(2)
    right = total = changed = 0
    for i in range(30):
        host: Host = hosts[i % len(hosts)]
        image, text = splice(rng, host, glyphs)
        assert len(text) == 7 and all((c in DIGITS) == (k < 4) for k, c in enumerate(text))
        changed += text != host.plate.text
        boxes = CharBoxes(np.array([c.box.as_list() for c in host.plate.chars]),
                          np.zeros(7, int) if host.plate.layout == "one-row"
                          else np.array([0, 0, 0, 0, 1, 1, 1]))
        probs = recognizer(cut_chars(image, boxes, *recognizer.input_hw))
        read = "".join(recognizer.classes[k] for k in probs.argmax(1))
        right += sum(a == b for a, b in zip(read, text, strict=True))
        total += 7
    assert changed >= 27
    assert right / total > 0.9, f"{right}/{total} pasted characters read as their label"


@pytest.mark.data
def test_splicing_is_seeded():
    hosts, glyphs = hosts_and_glyphs("train")
    a = splice(np.random.default_rng(5), hosts[0], glyphs)
    b = splice(np.random.default_rng(5), hosts[0], glyphs)
    assert a[1] == b[1]
    np.testing.assert_array_equal(a[0], b[0])
