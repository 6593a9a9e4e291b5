"""Regression guards on the validation photos: the reading stages from the annotated plate
boxes, with the shipped character model. The limits sit one plate / two characters below
today's figures (12/12 plates, 84/84 characters found, 82/84 read), so a change that costs
more than that fails here before it reaches the model card."""

from collections import Counter
from dataclasses import replace

import pytest

from edge_alpr.detector import Detection
from edge_alpr.models import CHARS, INT8, PLATE_OCR, bundled_model, choose_precision
from edge_alpr.pipeline import BOTH, WHOLE, PlateReader, read_plate
from edge_alpr.plate_ocr import SECOND_LOOKS, PlateOCR
from edge_alpr.recognizer import Recognizer
from edge_alpr.session import OnnxModel
from export.char_data import real_val_set, scores
from export.conditions import SUITE, Condition, MotionBlur, Tilt, degrade_image
from export.data import photos, read_gray, split
from export.eval_conditions import chosen_conditions, score_crops, validation_data

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(OnnxModel(bundled_model(CHARS, INT8).path))


def test_validation_plates_are_read_from_their_annotated_boxes(recognizer):
    val = split(photos())[1]
    reads = [(plate.text, read_plate(read_gray(photo), Detection(plate.box, 1.0),
                                     recognizer).text)
             for photo in val for plate in photo.plates]
    wrong = [r for r in reads if r[0] != r[1]]
    assert len(reads) == 12
    assert len(wrong) <= 1, wrong


def test_validation_characters_are_classified(recognizer):
    images, labels = real_val_set()
    s = scores(recognizer(images), labels)
    assert s["chars"] >= 82  # the segmentation found at least 82 of the 84 characters
    assert s["char_accuracy"] >= 0.97, s["errors"]
    assert s["reject_recall"] >= 0.9


def test_the_second_look_reads_more_blurred_gate_crops_and_no_fewer_clean_ones():
    _, crops, _ = validation_data(photos=False)
    if not crops:
        pytest.skip("no gate crops in ../shared/data/gate-crops")
    model = OnnxModel(bundled_model(PLATE_OCR, choose_precision(PLATE_OCR, "auto")).path)
    exact = {}
    for looks in ((), SECOND_LOOKS):  # without the deblur look, which reads some of the same
        reader = PlateReader(reader=WHOLE, plate_ocr=PlateOCR(model, second_looks=looks,
                                                              deblur=False))
        exact[len(looks)] = {c.name: score_crops(reader, crops, c).exact for c in SUITE
                             if c.name in ("clean", "motion-h-large")}
    first, second = exact[0], exact[len(SECOND_LOOKS)]
    # Measured with the shipped model: clean 305 -> 309, 9 px blur 240 -> 255 of 320.
    assert second["clean"] >= first["clean"], exact
    assert second["motion-h-large"] >= first["motion-h-large"] + 8, exact


def _exact_without_and_with(look: str, crops, conditions) -> tuple[dict, dict]:
    """Gate crops read exactly by ``both`` under each condition, without and with the
    whole-plate reader's ``look`` (a flag of :class:`PlateOCR`)."""
    model = OnnxModel(bundled_model(PLATE_OCR, choose_precision(PLATE_OCR, "auto")).path)
    exact = {}
    for on in (False, True):
        # The level look is the segmentation path's too (PlateReader's level).
        extra = {"level": on} if look == "level" else {}
        reader = PlateReader(reader=BOTH, plate_ocr=PlateOCR(model, **{look: on}), **extra)
        exact[on] = {c.name: score_crops(reader, crops, c).exact for c in conditions}
    return exact[False], exact[True]


def test_the_deblur_look_reads_more_horizontally_blurred_gate_crops_and_no_fewer_others():
    _, crops, _ = validation_data(photos=False)
    if not crops:
        pytest.skip("no gate crops in ../shared/data/gate-crops")
    # The suite's 9 px, and 13 px, a length the suite does not use: the look estimates it.
    conditions = [c for c in SUITE if c.name in ("clean", "motion-h-large", "motion-v", "defocus")]
    conditions.append(Condition("motion-h-13", MotionBlur(13), MotionBlur(13)))
    without, with_ = _exact_without_and_with("deblur", crops, conditions)
    # Measured with the shipped models (both, the default): 9 px 254 -> 281, 13 px 200 -> 229 of
    # 320, the others equal. With whole alone the look (trusted from 0.5) loses one defocused
    # crop, 304 -> 303 (model card, "Deblur look"); the default reader loses none.
    assert with_["motion-h-large"] >= without["motion-h-large"] + 15, (without, with_)
    assert with_["motion-h-13"] >= without["motion-h-13"] + 10, (without, with_)
    for name in ("clean", "motion-v", "defocus"):
        assert with_[name] >= without[name], (without, with_)


def test_the_level_look_reads_more_rolled_gate_crops_and_about_as_many_others():
    _, crops, _ = validation_data(photos=False)
    if not crops:
        pytest.skip("no gate crops in ../shared/data/gate-crops")
    # The suite's roll of 10°, and 20°, which the suite does not use.
    conditions = chosen_conditions(["clean", "roll-10", "side-40"])
    conditions.append(Condition("roll-20", Tilt(roll=20), Tilt(roll=20)))
    without, with_ = _exact_without_and_with("level", crops, conditions)
    # Measured with the shipped models (both, the default; the segmentation path levelled
    # too; without that 20° reads 288): roll 10° 300 -> 309, 20° 194 -> 307, clean 313 -> 313,
    # side view 310 -> 307 of 320 (model card, "Level look").
    assert with_["roll-10"] >= without["roll-10"] + 6, (without, with_)
    assert with_["roll-20"] >= without["roll-20"] + 100, (without, with_)
    assert with_["clean"] >= without["clean"] - 1, (without, with_)
    assert with_["side-40"] >= without["side-40"] - 5, (without, with_)


def test_the_check_box_look_reads_more_gate_frames_at_night_and_loses_at_most_one_clean():
    from export.eval_gate_frames import pasted_read, validation_frames

    frames = validation_frames()
    if not frames:
        pytest.skip("no gate crops in ../shared/data/gate-crops")
    # Without the level look (tested above): with it, the check's box also turns 02373's
    # 9022УДС into УАС, as the level look alone does not (clean 312 against 314).
    model = OnnxModel(bundled_model(PLATE_OCR, choose_precision(PLATE_OCR, "auto")).path)
    reader = PlateReader(reader=BOTH, plate_ocr=PlateOCR(model, level=False), level=False)
    exact = {True: Counter(), False: Counter()}
    for c in chosen_conditions(["clean", "night-ir"]):
        for f in frames:
            image = degrade_image(c, f.image, [f.plate], f.name, photo=False)
            found = reader.detect(image)  # once; read with and without the check's boxes
            for look in (True, False):
                dets = found if look else [replace(d, check_box=None) for d in found]
                hit = pasted_read(f, reader.read_detections(image, dets))
                exact[look][c.name] += hit is not None and hit.text == f.text
    with_, without = exact[True], exact[False]
    # Measured with the shipped models: night 283 -> 292, clean 314 -> 313 of 320 (over the
    # 11 conditions 3,212 -> 3,258). The clean frame lost is a close call: the check's box
    # reads 9919УБМ 0.72 sure, whose 9 beats the segmentation path's 3 of 9319УБМ.
    assert with_["night-ir"] >= without["night-ir"] + 8, exact
    assert with_["clean"] >= without["clean"] - 1, exact


def test_a_glare_spot_does_not_cut_the_plates_box_short():
    """A headlight's spot splits a plate in two bright halves; the detector trained with
    spots (model card, "Under headlight glare") still boxes the whole plate."""
    from export.eval_gate_frames import validation_frames

    frames = validation_frames()
    if not frames:
        pytest.skip("no gate crops in ../shared/data/gate-crops")
    reader = PlateReader()
    short = Counter()
    for c in chosen_conditions(["clean", "glare"]):
        for f in frames:
            image = degrade_image(c, f.image, [f.plate], f.name, photo=False)
            hit = next((d for d in reader.detect(image) if d.box.contains_point(*f.plate.center)),
                       None)
            short[c.name] += hit is None or hit.box.width < 0.85 * f.plate.width
    # Missed or under 0.85x the plate's width, of 320: clean 10, glare 19 with the shipped
    # detector; the one before it (no spots in training) 11 and 30.
    assert short["glare"] <= short["clean"] + 12, short
