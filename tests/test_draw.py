import numpy as np
import pytest

from edge_alpr.alphabet import DIGITS, LETTERS
from edge_alpr.draw import annotate, render_text
from edge_alpr.geometry import Box
from edge_alpr.pipeline import CharRead, PlateResult


def test_every_plate_character_has_its_own_glyph():
    glyphs = {c: render_text(c, 32) for c in DIGITS + LETTERS}
    assert all(g.shape[0] == 32 and g.max() > 200 for g in glyphs.values())
    unknown = render_text("\u2603", 32)  # a snowman is drawn as '?'
    distinct = {g.tobytes() for g in glyphs.values()} | {unknown.tobytes()}
    assert len(distinct) == len(glyphs) + 1
    # О (letter) and 0 (digit) look alike on plates but are different glyphs here.
    assert not np.array_equal(glyphs["О"], glyphs["0"])


@pytest.mark.parametrize("image", [np.full((200, 400), 90, np.uint8),
                                   np.full((200, 400, 3), 90, np.uint8),
                                   np.full((200, 400, 4), 90, np.uint8)])
def test_annotate_draws_on_a_copy(image):
    before = image.copy()
    box = Box(100, 100, 300, 150)
    plate = PlateResult(box, 0.9, "4253УБГ", 0.95, "one-row", "УБ", "Ulaanbaatar", True, (),
                        (CharRead(Box(110, 110, 130, 140), "4", 0.99),))
    out = annotate(image, [plate])
    assert (image == before).all()
    assert out.shape == (200, 400, 3) and out.dtype == np.uint8
    assert (out[100, 150] == (0, 200, 0)).all()  # the plate box's top edge
    label = out[40:100, 100:300]
    assert (label == 255).all(axis=2).sum() > 50  # white text on the label


def test_annotate_clips_labels_at_the_image_edge():
    plate = PlateResult(Box(0, 0, 399, 30), 0.9, "4253УБГ", 0.95, "one-row", "", "", False,
                        (), ())
    out = annotate(np.zeros((40, 60), np.uint8), [plate])
    assert out.shape == (40, 60, 3)
