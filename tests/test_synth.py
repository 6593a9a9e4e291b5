import itertools
import subprocess
import sys

import cv2
import numpy as np
import pytest

from edge_alpr.alphabet import CLASSES, DIGITS, LETTERS, REGIONS
from edge_alpr.annotations import ONE_ROW, TWO_ROW
from edge_alpr.geometry import Box
from export.synth.backgrounds import synthetic_background
from export.synth.crop import paste_flat, render_plate_crop
from export.synth.degrade import degrade
from export.synth.glyphs import FAMILIES, STEM_RATIO, FontSpec, aspect, render_glyph
from export.synth.plate import INK_THRESHOLD, SCHEMES, render_plate
from export.synth.text import check_text, random_text


def test_random_text_uses_real_regions_and_reaches_every_letter():
    rng = np.random.default_rng(0)
    texts = [random_text(rng) for _ in range(6000)]
    assert all(check_text(t) == t for t in texts)
    regions = [t[4:6] for t in texts]
    assert set(regions) == set(REGIONS)  # every code appears, and nothing else
    ub = sum(r in ("УБ", "УН", "УА") for r in regions) / len(regions)
    assert 0.4 < ub < 0.7  # Ulaanbaatar weighted up, as in the real photos
    assert set(t[6] for t in texts) == set(LETTERS)
    assert {"Ө", "Ү", "О"} <= set("".join(texts))
    assert set("".join(t[:4] for t in texts)) == set(DIGITS)


def test_forced_text_is_checked():
    plate = render_plate(np.random.default_rng(0), text="0123ӨҮО", layout=ONE_ROW)
    assert plate.text == "0123ӨҮО"
    assert "".join(c.label for c in plate.chars) == "0123ӨҮО"
    with pytest.raises(ValueError):
        render_plate(np.random.default_rng(0), text="12УБГ")


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_every_label_renders_and_differs(family):
    spec = FontSpec(family.name, family.files[-1], None if family.wght is None else 700.0,
                    None if family.wdth is None else 50.0, 1.0)
    labels = DIGITS + LETTERS
    h, w = 64, 80  # Oswald's 3 and З differ only by a few pixels at 32 px
    images = {}
    for c in labels:
        assert c in CLASSES
        cw = max(1, round(aspect(c, spec) * h))
        glyph = render_glyph(c, spec, h, cw)
        assert (glyph >= INK_THRESHOLD).sum() > 20  # real ink, not an empty box
        canvas = np.zeros((h, w), np.float32)
        canvas[:, :min(w, cw)] = glyph[:, :w]
        images[c] = canvas
    for a, b in itertools.combinations(labels, 2):
        diff = np.abs(images[a] - images[b])
        assert diff.max() > 0.5 and diff.mean() > 0.005, (family.name, a, b)


def _assert_boxes_hold_ink(image, mask, plate_box, chars, text):
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = mask.shape
    assert "".join(c.label for c in chars) == text
    for k, c in enumerate(chars):
        ys, xs = np.nonzero(mask == k + 1)
        # The box is exactly the bounds of the glyph's (warped) ink mask ...
        assert c.box.as_list() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        # ... lies inside the plate ...
        assert plate_box.x0 - 1 <= c.box.x0 and c.box.x1 <= plate_box.x1 + 1
        assert plate_box.y0 - 1 <= c.box.y0 and c.box.y1 <= plate_box.y1 + 1
        # ... and the ink differs from the plate around it.
        x0, y0, x1, y1 = c.box.to_int()
        inside = mask[y0:y1, x0:x1] == k + 1
        patch = gray[y0:y1, x0:x1].astype(np.float32)
        assert abs(patch[inside].mean() - patch[~inside].mean()) > 8, (text, k)


@pytest.mark.parametrize("layout", [ONE_ROW, TWO_ROW])
@pytest.mark.parametrize("scheme_index", range(len(SCHEMES)))
def test_char_boxes_are_exact_on_clean_and_degraded_plates(layout, scheme_index):
    scheme = SCHEMES[scheme_index]
    rng = np.random.default_rng([scheme_index, layout == ONE_ROW])
    for _ in range(3):
        plate = render_plate(rng, layout=layout, px_per_mm=0.6, scheme=scheme)
        _assert_boxes_hold_ink(plate.image, plate.mask, plate.box, plate.chars, plate.text)
        h, w = plate.image.shape[:2]
        bg = cv2.cvtColor(synthetic_background(rng, h + 2 * w // 2, 2 * w), cv2.COLOR_GRAY2BGR)
        image, mask, quad = paste_flat(rng, plate, bg, w // 2, w // 2)
        d = degrade(rng, image, mask, quad, plate.text, strength=0.5)
        lo, hi = d.quad.min(axis=0), d.quad.max(axis=0)
        _assert_boxes_hold_ink(d.image, d.mask, Box(*lo, *hi), d.chars, plate.text)


def test_plate_crops_are_real_sized_and_boxed():
    rng = np.random.default_rng(1)
    for layout in (ONE_ROW, TWO_ROW) * 10:
        image, plate = render_plate_crop(rng, layout=layout)
        assert image.ndim == 2 and image.dtype == np.uint8
        h, w = image.shape
        assert plate.layout == layout and len(plate.chars) == 7
        assert 0 <= plate.box.x0 and plate.box.x1 <= w and 0 <= plate.box.y0
        assert plate.box.y1 <= h
        assert 60 <= plate.box.width <= 340
        for c in plate.chars:
            assert plate.box.x0 - 1 <= c.box.x0 and c.box.x1 <= plate.box.x1 + 1
            assert plate.box.y0 - 1 <= c.box.y0 and c.box.y1 <= plate.box.y1 + 1
            assert c.box.crop(image).std() > 4  # ink on plate, not a flat patch
        rows = [c.box.center[1] for c in plate.chars]
        if layout == TWO_ROW:  # reading order: the digits' row above the letters'
            assert max(rows[:4]) < min(rows[4:])


def test_same_seed_same_output():
    def run(seed):
        rng = np.random.default_rng(seed)
        plate = render_plate(rng)
        crop, ann = render_plate_crop(rng, gray=False)
        return plate, crop, ann

    (p1, c1, a1), (p2, c2, a2) = run(5), run(5)
    assert np.array_equal(p1.image, p2.image) and np.array_equal(p1.mask, p2.mask)
    assert p1.chars == p2.chars
    assert c1.tobytes() == c2.tobytes() and a1 == a2
    assert run(6)[2] != a1


@pytest.fixture(scope="module")
def train_photos():
    from export.data import photos, split
    return split(photos())[0]


@pytest.mark.data
def test_scenes_carry_pasted_and_real_plates_without_overlap(train_photos):
    from export.data import read_gray
    from export.synth.scene import render_scene
    photo = max(train_photos, key=lambda p: len(p.plates))
    background = read_gray(photo)
    scene = render_scene(np.random.default_rng(0), background, photo.plates, n_plates=3)
    again = render_scene(np.random.default_rng(0), background, photo.plates, n_plates=3)
    assert scene.image.tobytes() == again.image.tobytes() and scene.plates == again.plates
    assert scene.image.shape == background.shape and scene.image.dtype == np.uint8
    n_real = len(photo.plates)
    pasted, real = scene.plates[:-n_real], scene.plates[-n_real:]
    assert real == photo.plates
    assert 1 <= len(pasted) <= 3
    # The real plates' pixels are untouched.
    for p in real:
        assert np.array_equal(p.box.crop(scene.image), p.box.crop(background))
    for i, p in enumerate(pasted):
        assert 60 <= p.box.width <= 340 and len(p.chars) == 7
        assert all(p.box.iou(r.box) == 0 for r in real)
        assert all(p.box.iou(q.box) == 0 for q in pasted[i + 1:])
        for c in p.chars:
            assert p.box.x0 - 1 <= c.box.x0 and c.box.x1 <= p.box.x1 + 1
            assert p.box.y0 - 1 <= c.box.y0 and c.box.y1 <= p.box.y1 + 1
            assert c.box.crop(scene.image).std() > 4


@pytest.mark.data
def test_contact_sheet_command_writes_png(tmp_path):
    from export.synth.contact_sheet import sheet_size
    out = tmp_path / "sheet.png"
    subprocess.run([sys.executable, "-m", "export.synth.contact_sheet", "--out", str(out),
                    "--seed", "0", "--n", "4"], check=True, capture_output=True)
    image = cv2.imread(str(out))
    assert image is not None
    assert (image.shape[1], image.shape[0]) == sheet_size(4)


def test_scene_smaller_than_the_plate_pastes_nothing_instead_of_failing():
    from export.synth.scene import render_scene

    tiny = np.full((30, 40), 128, np.uint8)
    scene = render_scene(np.random.default_rng(0), tiny, [], n_plates=2)
    assert scene.plates == () and scene.image.shape == tiny.shape


def _runs(row: np.ndarray) -> int:
    """Number of separate ink runs in one row of a coverage map."""
    ink = np.r_[False, row >= INK_THRESHOLD, False]
    return int((np.diff(ink.astype(np.int8)) == 1).sum())


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_plate_shapes_of_lambda_de_ze_and_one(family):
    """The plate's lettering, not the font's: Л is a Λ (no hook, no crossbar), Д is that Λ on a
    base bar with feet, З has a flat top, the 1 a long flag (issue 12)."""
    spec = FontSpec(family.name, family.files[-1], None if family.wght is None else 700.0,
                    None if family.wdth is None else 50.0, 1.0)
    h = 120

    def glyph(c: str, s: FontSpec = spec) -> np.ndarray:
        return render_glyph(c, s, h, max(1, round(aspect(c, s) * h)))

    el, a, de = glyph("Л"), glyph("А"), glyph("Д")
    # Λ: two legs from 40% of the height down, never joined; А joins them with its crossbar.
    assert all(_runs(r) == 2 for r in el[int(0.4 * h):int(0.95 * h)])
    assert any(_runs(r) == 1 for r in a[int(0.4 * h):int(0.8 * h)])
    # The legs meet at the top (Λ, not П or a hooked Л): one run across the top rows.
    assert _runs(el[2]) == 1 and (el[2] >= INK_THRESHOLD).sum() < 0.5 * el.shape[1]
    # Д: the same apex, a bar over the whole width above the feet, and two feet under it.
    assert _runs(de[2]) == 1 and (de[2] >= INK_THRESHOLD).sum() < 0.5 * de.shape[1]
    bar = (de[int(0.8 * h):int(0.9 * h)] >= INK_THRESHOLD).mean(axis=1)
    assert bar.max() > 0.9
    assert _runs(de[-2]) == 2 and (de[-2] >= INK_THRESHOLD).sum() < 0.5 * de.shape[1]
    assert np.abs(render_glyph("Л", spec, 64, 40) - render_glyph("Д", spec, 64, 40)).mean() > 0.05
    assert np.abs(render_glyph("А", spec, 64, 40) - render_glyph("Д", spec, 64, 40)).mean() > 0.05
    # З: a flat top bar reaching the top-left corner (the font's З is round there).
    def top_left(g: np.ndarray) -> float:
        w = g.shape[1]
        return float((g[1:4, int(0.08 * w):int(0.2 * w)] >= INK_THRESHOLD).mean())

    assert top_left(glyph("З")) > 0.9
    # 1: the flag reaches the left quarter of the glyph at a third of its height.
    one = glyph("1")
    assert (one[int(0.3 * h), :one.shape[1] // 4] >= INK_THRESHOLD).any()
    # Variants: the digit 3 flat-topped when asked; a square Д when asked.
    flat3 = FontSpec(*[getattr(spec, f) for f in ("family", "file", "wght", "wdth",
                                                  "width_scale")], flat_three=True)
    assert top_left(glyph("3", flat3)) > 0.9  # (PT Sans draws its 3 flat-topped anyway)
    square = FontSpec(spec.family, spec.file, spec.wght, spec.wdth, 1.0, square_de=True)
    assert (glyph("Д", square)[2] >= INK_THRESHOLD).mean() > 0.5  # a flat top


@pytest.mark.parametrize("bold,round_ends", [(-4.0, False), (6.0, False), (0.0, True)])
def test_weight_and_stroke_ends_vary(bold, round_ends):
    fam = FAMILIES[0]
    base = FontSpec(fam.name, fam.files[0], 450.0, None, 1.0)
    varied = FontSpec(fam.name, fam.files[0], 450.0, None, 1.0, bold, round_ends)
    a, b = (render_glyph("Н", s, 96, 60) for s in (base, varied))
    ink_a, ink_b = (a >= INK_THRESHOLD).mean(), (b >= INK_THRESHOLD).mean()
    if bold > 0:
        assert ink_b > ink_a * 1.1
    elif bold < 0:
        assert ink_b < ink_a * 0.9
    else:  # rounded corners: the stems' outer corners lose ink
        def corners(g: np.ndarray) -> float:
            return float(np.mean([g[:3, :3], g[:3, -3:], g[-3:, :3], g[-3:, -3:]]))

        assert corners(b) < corners(a) - 0.1


def test_stroke_growth_stays_within_the_plates_stem_ratio():
    """The heaviest font grown further is held at the heaviest stems seen on plates."""
    fam = FAMILIES[0]
    heavy = FontSpec(fam.name, fam.files[0], 750.0, None, 1.0, bold=6.0)
    glyph = render_glyph("I", heavy, 114, round(aspect("I", heavy) * 114))
    stem = np.median((glyph >= INK_THRESHOLD).sum(axis=1))
    assert stem / 114 <= STEM_RATIO[1] + 0.02


def test_dark_on_light_dominates_and_light_on_dark_renders():
    dark = sum(s.probability for s in SCHEMES if sum(s.ink) < sum(s.background))
    assert dark >= 0.8 and abs(sum(s.probability for s in SCHEMES) - 1) < 1e-9
    rng = np.random.default_rng(3)
    for scheme in SCHEMES:
        plate = render_plate(rng, layout=ONE_ROW, scheme=scheme, px_per_mm=0.6)
        gray = cv2.cvtColor(plate.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
        ink, paper = gray[plate.mask > 0].mean(), gray[plate.mask == 0].mean()
        assert (ink < paper) == (sum(scheme.ink) < sum(scheme.background)), scheme.name
        assert abs(ink - paper) > 40
