"""The whole-plate reader in the pipeline, with tiny ONNX models built here whose slots spell a
fixed text: batching, layouts, the BOTH policy, metadata checks. The shipped model's own
readings are tested in test_readers.py."""

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edge_alpr.alphabet import DIGITS, LETTERS
from edge_alpr.annotations import ONE_ROW, TWO_ROW
from edge_alpr.detector import Detection
from edge_alpr.errors import ModelLoadError
from edge_alpr.geometry import Box
from edge_alpr.image import read_gray
from edge_alpr.level import roll_of
from edge_alpr.models import PLATE_OCR, bundled_model
from edge_alpr.pipeline import (
    BOTH,
    SEGMENTS,
    WHOLE,
    WHOLE_SURE,
    CharRead,
    PlateReader,
    PlateResult,
    combine,
)
from edge_alpr.plate import Candidate, decode_slots
from edge_alpr.plate_ocr import (
    DEBLUR_TRUSTED,
    SECOND_LOOKS,
    PlateOCR,
    plate_input,
    recut,
)
from edge_alpr.segment import CharBoxes, segment
from edge_alpr.session import OnnxModel

CLASSES = DIGITS + LETTERS
SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "scene.jpg"
TRUTH = {p["text"]: p for p in json.loads(SAMPLE.with_suffix(".json").read_text())}


def spelled_probs(text: str, sure: float) -> np.ndarray:
    """(slots, classes): ``sure`` on each of ``text``'s characters, the rest spread evenly."""
    probs = np.full((len(text), len(CLASSES)), (1 - sure) / (len(CLASSES) - 1), np.float32)
    probs[np.arange(len(text)), [CLASSES.index(c) for c in text]] = sure
    return probs


def spelling_model(path: Path, text: str, sure: float, pattern: str = "DDDDLLL",
                   hw: tuple[int, int] = (48, 128)) -> Path:
    """A model that ignores its input and gives each slot ``sure`` on ``text``'s character."""
    probs = spelled_probs(text, sure)[None]
    nodes = [
        helper.make_node("Cast", ["image"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["f"], ["m"], axes=[1, 2], keepdims=1),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["z", "probs"], ["out"]),
    ]
    init = [helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0]),
            onnx.numpy_helper.from_array(probs, "probs")]
    graph = helper.make_graph(
        nodes, "spelling", [helper.make_tensor_value_info("image", TensorProto.UINT8,
                                                          [None, *hw])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, len(text), None])],
        initializer=init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    helper.set_model_props(model, {"classes": CLASSES, "pattern": pattern, "margin": "0.06",
                                   "input_height": str(hw[0]), "input_width": str(hw[1])})
    onnx.save(model, str(path))
    return path


@pytest.fixture
def sure_ocr(tmp_path) -> PlateOCR:
    return PlateOCR(OnnxModel(spelling_model(tmp_path / "sure.onnx", "1234УБА", 0.999),
                              threads=1))


@pytest.fixture
def unsure_model(tmp_path) -> OnnxModel:
    """A model that reads every plate as 1234УБА, 0.5 sure of each character."""
    return OnnxModel(spelling_model(tmp_path / "unsure.onnx", "1234УБА", 0.5), threads=1)


def record_inputs(ocr: PlateOCR) -> list[np.ndarray]:
    """The inputs of each of ``ocr``'s model calls from now on, in order."""
    calls: list[np.ndarray] = []
    run = ocr.model.run
    ocr.model.run = lambda x, expected=(): calls.append(x.copy()) or run(x, expected)
    return calls


def test_plate_input_cuts_the_box_with_its_margin():
    gray = np.zeros((100, 200), np.uint8)
    gray[40:60, 50:150] = 255  # the "plate"
    x = plate_input(gray, Box(50, 40, 150, 60), (48, 128), 0.0)
    assert x.shape == (48, 128) and x.min() == 255
    framed = plate_input(gray, Box(50, 40, 150, 60), (48, 128), 0.25)
    assert framed[:, 0].max() == 0 and framed[24, 64] == 255  # context around, plate inside


def test_whole_reader_reads_each_detection_in_one_call(sure_ocr):
    calls = record_inputs(sure_ocr)
    reader = PlateReader(threads=1, reader=WHOLE, plate_ocr=sure_ocr)
    assert reader.recognizer is None  # the character model is not even loaded
    plates = reader.read(SAMPLE)
    assert [len(x) for x in calls] == [len(plates)] == [2]
    for p in plates:
        assert (p.text, p.reader, p.matches_pattern, p.region) == ("1234УБА", WHOLE, True, "УБ")
        assert [c.char for c in p.chars] == list("1234УБА")
        assert all(c.box is None for c in p.chars)
        assert p.to_dict()["reader"] == WHOLE and p.to_dict()["chars"][0]["box"] is None
    # The layout comes from the box: the sample has one plate of each.
    truth_layouts = sorted(t["layout"] for t in TRUTH.values())
    assert sorted(p.layout for p in plates) == truth_layouts == [ONE_ROW, TWO_ROW]


def test_both_takes_a_sure_whole_reading_without_segmenting(sure_ocr):
    segmented = []
    reader = PlateReader(threads=1, reader=BOTH, plate_ocr=sure_ocr,
                         segmenter=lambda crop: segmented.append(crop) or segment(crop))
    plates = reader.read(SAMPLE)
    assert [p.text for p in plates] == ["1234УБА"] * 2 and not segmented
    assert all(p.confidence >= WHOLE_SURE for p in plates)


def test_an_unsure_reading_gets_a_second_look_in_one_more_call(unsure_model):
    # The sample's one-row plate is rolled ~10°: without the level look here (tested below).
    unsure = PlateOCR(unsure_model, deblur=False, level=False)
    calls = record_inputs(unsure)
    reader = PlateReader(threads=1, reader=WHOLE, plate_ocr=unsure)
    plates = reader.read(SAMPLE)
    # Both plates are unsure: their recuts go in one batch after the first look's. Then those
    # whose box the plate check did not redraw are read again from the check's box, the same
    # two calls for them alone (a redrawn box is the check's already).
    checked = sum(d.check_box is not None
                  for d in reader.detect(read_gray(SAMPLE)))
    assert checked >= 1
    looks = len(SECOND_LOOKS)
    assert [len(x) for x in calls] == [2, 2 * looks, checked, checked * looks]
    assert [p.text for p in plates] == ["1234УБА"] * 2


def _frame_with_two_plates() -> tuple[np.ndarray, list[Box]]:
    """A grey frame with the same rendered plate twice, side by side, and their boxes."""
    from export.synth.plate import render_plate

    plate = render_plate(np.random.default_rng(0), text="4253УБГ", layout=ONE_ROW).image
    plate = cv2.resize(cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY), (150, 32),
                       interpolation=cv2.INTER_AREA)
    frame = np.full((200, 500), 90, np.uint8)
    frame[80:112, 50:200] = plate
    frame[80:112, 300:450] = plate
    return frame, [Box(50, 80, 200, 112), Box(300, 80, 450, 112)]


def _two_plates_one_smeared() -> tuple[np.ndarray, list[Box]]:
    """The two plates, the right one smeared by 9 px of horizontal motion blur."""
    from export.conditions import motion_blur

    frame, boxes = _frame_with_two_plates()
    frame[80:112, 300:450] = motion_blur(frame[80:112, 300:450], 9)
    return frame, boxes


def test_a_smeared_plate_still_unsure_gets_a_deblur_look_in_one_more_call(unsure_model):
    unsure = PlateOCR(unsure_model)
    calls = record_inputs(unsure)
    frame, boxes = _two_plates_one_smeared()
    texts = unsure(frame, boxes)
    # First look, second look of both, then the smeared plate alone.
    assert [len(x) for x in calls] == [2, 2 * len(SECOND_LOOKS), 1]
    smeared, deblurred = (calls[k][-1].astype(np.float32) for k in (0, 2))
    # Deconvolved: more contrast along the rows than the smeared input had.
    assert np.abs(np.diff(deblurred, axis=1)).mean() > 1.5 * np.abs(np.diff(smeared, axis=1)).mean()
    # A deblurred reading below DEBLUR_TRUSTED does not replace the plate's.
    assert [t.text for t in texts] == ["1234УБА"] * 2


def _two_plates_one_rolled() -> tuple[np.ndarray, list[Box]]:
    """The two plates, the right one turned 10° (counter-clockwise as seen) about its centre;
    each with its upright box."""
    frame, (level, right) = _frame_with_two_plates()
    turn = cv2.getRotationMatrix2D(right.center, 10, 1.0)
    turned = cv2.warpAffine(frame, turn, frame.shape[::-1], flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    frame[:, 250:] = turned[:, 250:]
    corners = np.array([[x, y, 1] for x in (right.x0, right.x1) for y in (right.y0, right.y1)])
    corners = corners @ turn.T
    return frame, [level, Box(*corners.min(axis=0), *corners.max(axis=0))]


def test_a_rolled_plate_still_unsure_gets_a_level_look_in_one_more_call(unsure_model):
    unsure = PlateOCR(unsure_model)
    calls = record_inputs(unsure)
    frame, boxes = _two_plates_one_rolled()
    texts = unsure(frame, boxes)
    # First look, second look of both, then the rolled plate alone, cut two ways.
    assert [len(x) for x in calls] == [2, 2 * len(SECOND_LOOKS), 2]
    level_plate, rolled = calls[0].astype(np.float32)
    levelled = calls[2][0].astype(np.float32)  # the cut as tall as the plate
    # The level look's input is the level plate's, as the rolled plate's first look was not.
    assert np.abs(levelled - level_plate).mean() < 0.4 * np.abs(rolled - level_plate).mean()
    assert [t.text for t in texts] == ["1234УБА"] * 2
    calls.clear()
    PlateOCR(unsure.model, level=False)(frame, boxes)
    assert [len(x) for x in calls] == [2, 2 * len(SECOND_LOOKS)]


@pytest.mark.parametrize("levelled_p, replaced", [(0.999, True), (0.3, False)])
def test_a_levelled_reading_replaces_the_plates_only_when_surer(tmp_path, levelled_p,
                                                                  replaced):
    unsure = PlateOCR(OnnxModel(spelling_model(tmp_path / "unsure.onnx", "1234УБА", 0.6),
                                threads=1))
    levelled = decode_slots(spelled_probs("5678УБА", levelled_p), CLASSES)
    looked = []
    unsure.level_look = (lambda gray, boxes, rolls: looked.append((boxes, rolls))
                         or [levelled] * len(boxes))
    frame, boxes = _two_plates_one_rolled()
    texts = unsure(frame, boxes)
    [(looked_boxes, [roll])] = looked
    assert looked_boxes == [boxes[1]] and abs(roll - 10) <= 1  # the level plate is not
    assert texts[0].text == "1234УБА"
    assert texts[1].text == ("5678УБА" if replaced else "1234УБА")


@pytest.mark.parametrize("levels", [True, False])
def test_both_segments_a_rolled_plate_turned_level_and_reports_its_characters_in_the_frame(
        unsure_model, levels):
    unsure = PlateOCR(unsure_model, level=levels)
    crops = []
    reader = PlateReader(threads=1, reader=BOTH, plate_ocr=unsure,
                         segmenter=lambda crop: crops.append(crop) or segment(crop))
    frame, boxes = _two_plates_one_rolled()
    plates = reader.read_detections(frame, [Detection(b, 1.0) for b in boxes])
    # Both unsure, so both segmented once each: the level plate as it is, the rolled one turned
    # level when the whole-plate reader levels too.
    assert len(crops) == 2
    assert abs(roll_of(crops[0])) <= 1
    assert abs(roll_of(crops[1]) - (0 if levels else 10)) <= 1
    # Boxes stay in the frame's pixels: the plate's own, its characters' inside it.
    assert [p.box for p in plates] == boxes
    rolled = plates[1]
    assert rolled.text == "4253УБГ" or not levels
    for c in rolled.chars:
        if c.box is not None:
            assert rolled.box.pad(0.05).contains_point(*c.box.center)


@pytest.mark.parametrize("levels", [True, False])
def test_the_segments_reader_reads_a_rolled_plate_level_only_where_its_reading_fails(levels):
    # A segmentation that finds characters only in a level crop: the rolled plate is read
    # only from its levelled cut.
    crops = []

    def level_only(crop: np.ndarray) -> CharBoxes:
        crops.append(crop)
        return segment(crop if abs(roll_of(crop)) <= 2 else np.full_like(crop, 128))

    reader = PlateReader(threads=1, reader=SEGMENTS, segmenter=level_only, level=levels,
                         min_chars=0)
    frame, boxes = _two_plates_one_rolled()
    plates = reader.read_detections(frame, [Detection(b, 1.0) for b in boxes])
    assert plates[0].text == "4253УБГ"  # read as it is, never levelled: one cut
    assert plates[1].text == ("4253УБГ" if levels else "")
    assert len(crops) == (3 if levels else 2)
    assert plates[1].box == boxes[1]
    assert all(boxes[1].pad(0.05).contains_point(*c.box.center) for c in plates[1].chars)


def test_boxes_partly_or_wholly_outside_the_frame_are_read_without_error(unsure_model):
    unsure = PlateOCR(unsure_model)
    frame, _ = _two_plates_one_smeared()
    h, w = frame.shape
    boxes = [Box(w + 10, h + 10, w + 90, h + 30), Box(-60, -10, 4, 12), Box(10, 10, 11, 40),
             Box(w - 30, 80, w + 120, 112)]
    assert [t.text for t in unsure(frame, boxes)] == ["1234УБА"] * len(boxes)


def test_a_plate_still_unsure_is_read_again_from_the_checks_box_and_the_surer_reading_kept(
        tmp_path):
    ocr = PlateOCR(OnnxModel(spelling_model(tmp_path / "m.onnx", "1234УБА", 0.6), threads=1))
    def text(t: str, p: float):
        return decode_slots(spelled_probs(t, p), CLASSES)
    a, b, c, d = (Box(x, 10, x + 80, 30) for x in (0, 100, 200, 300))
    check_a, check_b, check_c = (Box(x + 2, 12, x + 76, 28) for x in (0, 100, 200))
    reads = {a: text("1234УБА", 0.6), b: text("5678УБА", 0.999), c: text("1234УБА", 0.8),
             d: text("1234УБА", 0.6), check_a: text("5678УБА", 0.999),
             check_c: text("9999УБА", 0.6)}
    calls = []
    ocr.read = lambda gray, boxes, roll=None: calls.append(list(boxes)) or [reads[x] for x in boxes]
    texts = ocr(np.zeros((40, 400), np.uint8), [a, b, c, d], [check_a, check_b, check_c, None])
    # b is sure, d has no box of the check's: only a and c are read again, in one call.
    assert calls == [[a, b, c, d], [check_a, check_c]]
    # a's second reading is surer and kept; c's is less sure and dropped.
    assert [t.text for t in texts] == ["5678УБА", "5678УБА", "1234УБА", "1234УБА"]
    assert texts[2] is reads[c]
    calls.clear()
    ocr(np.zeros((40, 400), np.uint8), [a, d])  # no boxes of the check's: one reading each
    assert calls == [[a, d]]


@pytest.mark.parametrize("deblurred_p, replaced", [(0.999, True), (0.7, False)])
def test_a_deblurred_reading_replaces_the_plates_only_when_trusted_and_surer(
        tmp_path, deblurred_p, replaced):
    unsure = PlateOCR(OnnxModel(spelling_model(tmp_path / "unsure.onnx", "1234УБА", 0.6),
                                threads=1))
    deblurred = decode_slots(spelled_probs("5678УБА", deblurred_p), CLASSES)
    # The case under test: surer than the plate's reading (0.26) either way, trusted or not.
    assert deblurred.confidence > 0.3 and (deblurred.confidence >= DEBLUR_TRUSTED) == replaced
    looked = []
    unsure.deblur_look = lambda gray, boxes: looked.append(boxes) or [deblurred] * len(boxes)
    frame, boxes = _two_plates_one_smeared()
    texts = unsure(frame, boxes)
    assert looked == [[boxes[1]]]  # the sharp plate is not looked at again
    assert texts[0].text == "1234УБА"
    assert texts[1].text == ("5678УБА" if replaced else "1234УБА")


def test_recut_shifts_and_grows_by_fractions_of_the_box():
    box = Box(100, 50, 200, 70)
    assert recut(box, 0.02, 0.0, 0.0) == Box(102, 50, 202, 70)
    assert recut(box, 0.0, -0.05, 0.0) == Box(100, 49, 200, 69)
    assert recut(box, 0.0, 0.0, 0.1) == Box(90, 48, 210, 72)


def test_the_second_look_averages_the_slot_probabilities_over_the_recut_boxes():
    ocr = PlateOCR(OnnxModel(bundled_model(PLATE_OCR, "fp32").path, threads=1))
    gray = cv2.imread(str(SAMPLE), cv2.IMREAD_GRAYSCALE)
    t = next(iter(TRUTH.values()))
    box = Box(*t["box"])
    cuts = [box] + [recut(box, *look) for look in SECOND_LOOKS]
    inputs = ocr.inputs(gray, cuts)
    assert len({x.tobytes() for x in inputs}) == len(cuts)  # every cut shows something else
    probs = ocr.probabilities(inputs)
    looked = ocr.second_look(gray, [box], probs[:1])[0]
    expected = decode_slots(probs.mean(axis=0), ocr.classes)
    assert [c.text for c in looked.candidates] == [c.text for c in expected.candidates]
    np.testing.assert_allclose([c.confidence for c in looked.candidates],
                               [c.confidence for c in expected.candidates], rtol=1e-6)
    assert looked.text == t["text"]


def test_both_segments_where_the_whole_reading_is_unsure(unsure_model):
    unsure = PlateOCR(unsure_model)
    reader = PlateReader(threads=1, reader=BOTH, plate_ocr=unsure)
    plates = {p.text: p for p in reader.read(SAMPLE)}
    # The segmentation path reads both sample plates to the grammar, more surely than 0.5^7.
    assert set(plates) == set(TRUTH)
    assert {p.reader for p in plates.values()} == {SEGMENTS}
    assert all(c.box is not None for p in plates.values() for c in p.chars)


def _read(text: str, conf: float, matches: bool, reader: str,
          char_conf: tuple[float, ...] | None = None) -> PlateResult:
    box = Box(0, 0, 100, 20)
    chars = tuple(CharRead(box if reader == SEGMENTS else None, c, k)
                  for c, k in zip(text, char_conf or (0.9,) * len(text), strict=True))
    candidates = (Candidate(text, conf, tuple(range(len(text)))),)
    return PlateResult(box, 0.9, text, conf, ONE_ROW, "", "", matches, candidates, chars, reader)


SURE = (0.99,) * 7


@pytest.mark.parametrize("whole, segments, text, reader, conf", [
    (("4253УБГ", 0.5, True), ("4253УБГ", 0.7, True), "4253УБГ", BOTH, 0.7),
    (("4253УБГ", 0.8, True), ("4253УБГ", 0.6, True), "4253УБГ", BOTH, 0.8),
    (("4253УБГ", 0.3, True), ("425УБГ", 0.9, False), "4253УБГ", WHOLE, 0.3),
    (("4253УБ7", 0.3, False), ("4253УБГ", 0.2, True), "4253УБГ", SEGMENTS, 0.2),
    (("425УБГ", 0.6, False), ("423УВГ", 0.4, False), "425УБГ", WHOLE, 0.6),
    (("425УБГ", 0.4, False), ("423УВГ", 0.6, False), "423УВГ", SEGMENTS, 0.6),
    (("4253УБГ", 0.2, True, (*SURE[:5], 0.95, 0.99)),
     ("4253УВГ", 0.6, True, (*SURE[:5], 0.5, 0.99)), "4253УБГ", WHOLE, 0.2),
    (("4253УБГ", 0.6, True, (*SURE[:5], 0.5, 0.99)),
     ("4253УВГ", 0.2, True, (*SURE[:5], 0.95, 0.99)), "4253УВГ", SEGMENTS, 0.2),
    (("4253УБГ", 0.6, True), ("4253УВТ", 0.4, True), "4253УБГ", WHOLE, 0.6),
], ids=["agree seg surer", "agree whole surer", "grammar decides", "grammar decides 2",
        "confidence decides", "confidence decides 2", "whole surer of the one difference",
        "segments surer of the one difference", "two differences: confidence decides"])
def test_combine(whole, segments, text, reader, conf):
    out = combine(_read(*whole[:3], WHOLE, *whole[3:]),
                  _read(*segments[:3], SEGMENTS, *segments[3:]))
    assert (out.text, out.reader, out.confidence) == (text, reader, conf)
    if reader == BOTH:  # the segmentation's character boxes are kept
        assert all(c.box is not None for c in out.chars)


def test_combine_does_not_mix_readings_that_differ_in_more_than_one_character():
    # The segmentation path missed the 7 and found another at the end (30.jpg end to end):
    # slot by slot, its surer 8 would make a text neither reader read.
    whole = _read("7833УНТ", 0.5, True, WHOLE, (0.6, *SURE[1:]))
    segments = _read("8337УНТ", 0.4, True, SEGMENTS, (0.99, *SURE[1:]))
    assert combine(whole, segments).text == "7833УНТ"


def test_read_crop_reads_a_plate_crop_in_its_own_pixels(sure_ocr):
    gray = np.full((40, 160), 200, np.uint8)
    read = PlateReader(threads=1, reader=WHOLE, plate_ocr=sure_ocr).read_crop(gray, "crop.png")
    assert read.text == "1234УБА" and read.box == Box(0, 0, 160, 40)


@pytest.mark.parametrize("change, match", [
    ({"pattern": "DDDLLLL"}, "pattern"),
    ({"hw": (48, 128), "pattern": "DDDDLLL", "drop": "margin"}, "margin"),
])
def test_model_metadata_is_checked(tmp_path, change, match):
    path = spelling_model(tmp_path / "m.onnx", "1234УБА", 0.9,
                          **{k: v for k, v in change.items() if k != "drop"})
    if "drop" in change:
        m = onnx.load(str(path))
        kept = [p for p in m.metadata_props if p.key != change["drop"]]
        del m.metadata_props[:]
        m.metadata_props.extend(kept)
        onnx.save(m, str(path))
    with pytest.raises(ModelLoadError, match=match):
        PlateOCR(OnnxModel(path, threads=1))


def test_unknown_reader_is_refused():
    with pytest.raises(ValueError, match="unknown reader"):
        PlateReader(threads=1, reader="ocr")


def test_detections_read_as_one_batch_keep_their_order(sure_ocr):
    gray = np.full((200, 400), 128, np.uint8)
    dets = [Detection(Box(10 + 100 * i, 50, 90 + 100 * i, 70), 0.9 - i / 10) for i in range(3)]
    reads = PlateReader(threads=1, reader=WHOLE, plate_ocr=sure_ocr).read_detections(gray, dets)
    assert [r.box for r in reads] == [d.box for d in dets]
    assert [r.detection_score for r in reads] == [d.score for d in dets]
    assert dataclasses.replace(reads[0], reader=SEGMENTS).reader == SEGMENTS  # frozen, typed


def test_export_of_an_untrained_whole_plate_model_matches_keras_and_loads(tmp_path):
    pytest.importorskip("tensorflow", reason="needs the export extra")
    from export.ocr_model import build_ocr_model
    from export.onnx_export import max_abs_diff
    from export.train_ocr import CLASSES as TRAINED_CLASSES
    from export.train_ocr import INPUT_HW, MARGIN, export_model

    model = build_ocr_model(INPUT_HW, 7, len(TRAINED_CLASSES), widths=(4, 8, 8, 8), head=4)
    path = export_model(model, tmp_path / "plate_ocr_fp32.onnx", "untrained")
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 256, (n, *INPUT_HW), dtype=np.uint8) for n in (1, 3)]
    assert max_abs_diff(model, path, batches) < 1e-5
    ocr = PlateOCR(OnnxModel(path, threads=1))  # the runtime reads the export's metadata
    assert (ocr.input_hw, ocr.margin, ocr.classes) == (INPUT_HW, MARGIN, TRAINED_CLASSES)
    gray = rng.integers(0, 256, (120, 300), dtype=np.uint8)
    boxes = [Box(10, 10, 150, 40), Box(200, 50, 260, 95)]
    expected = np.asarray(model(ocr.inputs(gray, boxes)))
    np.testing.assert_allclose(ocr.probabilities(ocr.inputs(gray, boxes)), expected, atol=1e-5)
    assert [len(t.text) for t in ocr(gray, boxes)] == [7, 7]


def test_a_keras_model_rebuilt_from_the_onnx_export_computes_it_and_trains_from_it(tmp_path):
    pytest.importorskip("tensorflow", reason="needs the export extra")
    from export.ocr_checkpoint import calibrate_batch_norms, keras_from_onnx
    from export.ocr_model import build_ocr_model
    from export.onnx_export import max_abs_diff
    from export.tf_extra import keras
    from export.train_ocr import CLASSES as TRAINED_CLASSES
    from export.train_ocr import INPUT_HW, export_model

    rng = np.random.default_rng(1)
    model = build_ocr_model(INPUT_HW, 7, len(TRAINED_CLASSES), widths=(4, 8, 6, 8), head=4)
    for layer in model.layers:  # batch norms and a bias as after training
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.get_weights()[0].shape[0]
            layer.set_weights([rng.uniform(0.5, 2, n), rng.normal(0, 0.3, n),
                               rng.normal(0, 0.3, n), rng.uniform(0.2, 3, n)])
        elif isinstance(layer, keras.layers.Dense):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0, 0.3, bias.shape)])
    path = export_model(model, tmp_path / "plate_ocr_fp32.onnx", "random")
    batches = [rng.integers(0, 256, (16, *INPUT_HW), dtype=np.uint8) for _ in range(2)]
    rebuilt = keras_from_onnx(path)
    assert max_abs_diff(rebuilt, path, batches) < 1e-5
    calibrate_batch_norms(rebuilt, batches)
    assert max_abs_diff(rebuilt, path, batches) < 1e-5
    # Training mode normalises each batch by its own statistics: on the calibration data the
    # rebuilt model then computes about what it does in inference, where an identity batch
    # norm would not.
    uncalibrated = keras_from_onnx(path)
    for m in (rebuilt, uncalibrated):  # the batch norms alone
        next(la for la in m.layers if isinstance(la, keras.layers.Dropout)).rate = 0.0
    inference = np.asarray(rebuilt(batches[0]))
    trained = np.asarray(rebuilt(batches[0], training=True))
    assert np.abs(trained - inference).max() < 0.05
    assert np.abs(np.asarray(uncalibrated(batches[0], training=True)) - inference).max() > 0.05


def test_tune_combine_replays_both_at_each_threshold():
    from export.tune_combine import replay

    wholes = [_read("4253УБГ", 0.95, True, WHOLE), _read("4253УБГ", 0.6, True, WHOLE),
              _read("425УБГ", 0.99, False, WHOLE)]
    segments = [_read("4253УВГ", 0.9, True, SEGMENTS, (*SURE[:5], 0.99, 0.99))] * 3
    # Above the threshold the whole reading stands; below it (or off the grammar) the
    # segmentation path reads too and the pipeline's combine decides.
    assert replay(wholes, segments, 0.9) == (["4253УБГ", "4253УВГ", "4253УВГ"], 2)
    assert replay(wholes, segments, 0.5) == (["4253УБГ", "4253УБГ", "4253УВГ"], 1)
