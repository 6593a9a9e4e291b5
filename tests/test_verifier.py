"""The plate check: how candidates are cut, how the cascade scores them, and what the shipped
check says about plates and the things the detector takes for them."""

import json

import cv2
import numpy as np
import pytest

from edge_alpr.bench import sample_frames
from edge_alpr.detector import Detection, Detector
from edge_alpr.errors import ModelLoadError
from edge_alpr.geometry import Box
from edge_alpr.image import read_image, to_gray
from edge_alpr.models import DETECTOR, FP32, INT8, VERIFIER, bundled_model
from edge_alpr.pipeline import PlateReader
from edge_alpr.session import OnnxModel
from edge_alpr.verifier import (
    REDRAW_MIN_SCALE,
    PlateVerifier,
    apply_deltas,
    cascade,
    check_crops,
    redraw,
    redrawn,
)


def shipped(role: str, precision: str = FP32) -> OnnxModel:
    return OnnxModel(bundled_model(role, precision).path, threads=1)


def test_check_crop_is_the_box_with_its_margin_resized():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (200, 300), dtype=np.uint8)
    box = Box(100, 50, 200, 90)  # 100×40, margin 0.1 → x 90..210, y 46..94
    (crop,) = check_crops(gray, [box], (24, 60), 0.1)
    expected = cv2.resize(gray[46:94, 90:210], (60, 24), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(crop, expected)


def test_check_crop_past_the_frame_edge_replicates_the_edge():
    gray = np.tile(np.arange(100, dtype=np.uint8), (50, 1))  # brightness = column
    (crop,) = check_crops(gray, [Box(-20, 10, 20, 30)], (20, 40), 0.0)
    assert crop.shape == (20, 40)
    assert (crop[:, :20] == 0).all()  # the 20 columns left of the frame copy column 0
    assert crop[0, -1] >= 18


class FixedCheck:
    """A plate check that answers given probabilities and boxes (the cascade logic under
    test); without ``redrawn`` it keeps the boxes it gets."""

    threshold = 0.25

    def __init__(self, probs, redrawn=None):
        self.probs = np.asarray(probs, np.float32)
        self.redrawn = redrawn
        self.calls = 0

    def __call__(self, gray, boxes):
        self.calls += 1
        return self.probs[: len(boxes)], list(self.redrawn or boxes)


@pytest.fixture(scope="module")
def sample_gray():
    return to_gray(read_image(sample_frames()[0]))


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(shipped(DETECTOR))


def cascade_reader(detector: Detector, check: FixedCheck) -> PlateReader:
    return PlateReader(threads=1, detector=detector, plate_check=check)


def test_cascade_multiplies_scores_drops_below_threshold_and_reorders(sample_gray, detector):
    alone = detector(sample_gray, threshold=0.25)
    assert len(alone) >= 2  # the sample has two plates
    probs = np.linspace(0.1, 1.0, len(alone))[::-1].copy()
    probs[0] = 0.01  # the best detection is "not a plate"
    check = FixedCheck(probs)
    reader = cascade_reader(detector, check)
    # The reader's threshold is the check's, not the detector's own (0.4 in its metadata).
    assert reader.threshold == check.threshold != detector.threshold
    found = reader.detect(sample_gray)
    expected = sorted(((d.box, d.score * p) for d, p in zip(alone, probs, strict=True)
                       if d.score * p >= 0.25), key=lambda x: -x[1])
    assert [(d.box, pytest.approx(d.score)) for d in found] == expected
    assert alone[0].box not in [d.box for d in found]


def test_cascade_takes_the_redrawn_boxes_and_suppresses_those_that_meet(sample_gray, detector):
    alone = detector(sample_gray, threshold=0.25)
    assert len(alone) >= 2
    # Every candidate redrawn onto the first one's plate, a little apart, but the last.
    b = alone[0].box
    redrawn = [b.shift(i, 0) for i in range(len(alone) - 1)] + [alone[-1].box]
    check = FixedCheck(np.ones(len(alone)), redrawn)
    found = cascade_reader(detector, check).detect(sample_gray)
    assert [d.box for d in found] == [b, alone[-1].box]  # one box per plate, best first
    assert [d.score for d in found] == pytest.approx([alone[0].score, alone[-1].score])


def test_box_deltas_and_apply_deltas_are_inverse():
    pytest.importorskip("export.verifier_data", reason="needs the export extra")
    from export.verifier_data import box_deltas

    box, truth = Box(100, 200, 300, 260), np.array([130, 190, 230, 250], np.float32)
    d = box_deltas(box, truth)
    assert d[2] == pytest.approx(np.log(0.5)) and d[0] == pytest.approx(-0.1)
    (back,) = apply_deltas([box], d[None])
    np.testing.assert_allclose(back.as_list(), truth, atol=1e-3)


def test_only_boxes_the_check_finds_far_off_are_redrawn():
    boxes = [Box(0, 0, 100, 40), Box(200, 0, 300, 40), Box(400, 0, 500, 40)]
    k = np.log(REDRAW_MIN_SCALE)
    deltas = np.array([[0.1, 0.1, 0.9 * k, -0.9 * k],  # moved and resized a little: kept
                       [0.0, 0.0, -1.1 * k, 0.0],  # a side shrunk more: redrawn
                       [0.05, 0.0, 0.0, 1.1 * k]], np.float32)
    checked = apply_deltas(boxes, deltas)
    kept, shrunk, grown = redraw(boxes, checked)
    assert kept == boxes[0] and redrawn(boxes, checked) == [False, True, True]
    assert shrunk.width == pytest.approx(100 / REDRAW_MIN_SCALE**1.1, rel=1e-4)
    assert grown.height == pytest.approx(40 * REDRAW_MIN_SCALE**1.1, rel=1e-4)
    assert grown.center[0] == pytest.approx(455)


def test_the_cascade_keeps_the_checks_box_beside_a_box_it_does_not_redraw():
    dets = [Detection(Box(20, 10, 120, 50), 0.9), Detection(Box(200, 0, 300, 40), 0.8),
            Detection(Box(400, 0, 500, 40), 0.7)]
    k = np.log(REDRAW_MIN_SCALE)
    checked = apply_deltas([d.box for d in dets], np.array(
        [[0.02, 0.0, 0.5 * k, 0.5 * k],  # a little off: kept, the check's box beside it
         [0.0, 0.0, -1.1 * k, 0.0],  # far off: redrawn, nothing beside it
         [0.0, 0.0, 0.0, 0.0]], np.float32))  # the same box: nothing beside it
    found = cascade(dets, np.ones(3, np.float32), checked, 0.1, 640, 480)
    assert [d.box for d in found] == [dets[0].box, checked[1], dets[2].box]
    assert found[0].check_box == checked[0] and found[0].check_box != dets[0].box
    assert found[1].check_box is None and found[2].check_box is None
    # A plate's boxes are clamped to the frame alike.
    (edge,) = cascade([Detection(Box(600, 0, 660, 20), 0.9)], np.ones(1, np.float32),
                      [Box(610, 0, 680, 20)], 0.1, 640, 480)
    assert edge.box.x1 == edge.check_box.x1 == 640


def test_cascade_skips_the_check_when_nothing_is_detected(detector):
    check = FixedCheck([])
    blank = np.full((720, 1280), 128, np.uint8)
    assert cascade_reader(detector, check).detect(blank) == []
    assert check.calls == 0


def test_check_without_its_metadata_is_refused(tmp_path):
    onnx = pytest.importorskip("onnx")
    model = onnx.load(str(bundled_model(VERIFIER, FP32).path))
    del model.metadata_props[:]
    path = tmp_path / "bare.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelLoadError, match="bare.onnx.*metadata"):
        PlateVerifier(OnnxModel(path))


@pytest.mark.parametrize("precision", [FP32, INT8])
def test_shipped_check_tells_the_sample_plates_from_the_rest_of_the_frame(precision, sample_gray):
    """Both plates of the bundled (drawn) sample frame score high and their boxes end up on
    the true ones, a box 1.3× too large redrawn; plate-sized boxes on the car body, wheels,
    windows and the road beside them score low."""
    check = PlateVerifier(shipped(VERIFIER, precision))
    plates = [d.box for d in Detector(shipped(DETECTOR))(sample_gray)][:2]
    assert len(plates) == 2
    probs, checked = check(sample_gray, plates)
    assert probs.min() >= 0.5
    truth = [Box(*p["box"]) for p in json.loads(
        sample_frames()[0].with_suffix(".json").read_text(encoding="utf-8"))]
    after = [max(r.iou(t) for r in redraw(plates, checked)) for t in truth]
    assert min(after) >= 0.7
    # The small two-row plate's box drawn 1.3× too large each way is redrawn onto it; a box
    # the check finds near its own is left as it is.
    t = truth[1]
    (cx, cy), w, h = t.center, 1.3 * t.width, 1.3 * t.height
    loose = Box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    (redrawn_box,) = redraw([loose], check(sample_gray, [loose])[1])
    assert redrawn_box.iou(t) >= 0.8 and redrawn_box.iou(t) > loose.iou(t) + 0.15
    assert redraw([t], check(sample_gray, [t])[1]) == [t]
    rng = np.random.default_rng(1)
    h, w = sample_gray.shape
    others = []
    while len(others) < 40:
        bw = rng.uniform(80, 300)
        x0, y0 = rng.uniform(0, w - bw), rng.uniform(0, h - bw / 2)
        box = Box(x0, y0, x0 + bw, y0 + bw / rng.uniform(1.5, 4.5))
        if all(box.iou(p) == 0 for p in plates):
            others.append(box)
    assert np.mean(check(sample_gray, others)[0] < 0.5) >= 0.9


def test_export_of_an_untrained_check_matches_keras_and_loads(tmp_path):
    pytest.importorskip("tensorflow", reason="needs the export extra")
    from export.onnx_export import export_onnx, max_abs_diff
    from export.verifier_model import build_verifier

    hw = (16, 48)
    model = build_verifier(hw, width=4)
    path = export_onnx(model, tmp_path / "check.onnx", (None, *hw, 1),
                       {"input_height": hw[0], "input_width": hw[1], "margin": 0.2,
                        "score_threshold": 0.3})
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 256, (n, *hw, 1), dtype=np.uint8) for n in (1, 5)]
    assert max_abs_diff(model, path, batches) < 1e-5
    check = PlateVerifier(OnnxModel(path))  # the runtime reads the export's metadata
    assert (check.input_hw, check.margin, check.threshold) == (hw, 0.2, 0.3)
    gray = rng.integers(0, 256, (120, 200), dtype=np.uint8)
    boxes = [Box(10, 10, 60, 30), Box(100, 50, 190, 110)]
    expected = np.asarray(model(check_crops(gray, boxes, hw, 0.2)[..., None]))
    assert expected.shape == (2, 5)
    probs, checked = check(gray, boxes)
    np.testing.assert_allclose(probs, expected[:, 0], atol=1e-5)
    for r, e in zip(checked, apply_deltas(boxes, expected[:, 1:]), strict=True):
        np.testing.assert_allclose(r.as_list(), e.as_list(), atol=1e-3)


def test_training_boxes_are_labelled_by_overlap_and_never_near_an_unannotated_plate():
    pytest.importorskip("export.verifier_data", reason="needs the export extra")
    from export.detector_data import Frame
    from export.verifier_data import NEGATIVE_IOU, POSITIVE_IOU, label_frames

    plate = np.array([[100, 100, 200, 140]], np.float32)
    unannotated = np.array([[400, 100, 500, 140]], np.float32)

    class Candidates:
        """Detector candidates: on the plate, half on it, on the unannotated plate, elsewhere."""

        def __call__(self, image, threshold):
            boxes = [Box(102, 101, 201, 141), Box(150, 100, 250, 140), Box(401, 99, 499, 141),
                     Box(600, 300, 700, 340)]
            return [Detection(b, 0.5) for b in boxes]

    frame = Frame(np.zeros((480, 800), np.uint8), plate)
    (labelled,) = label_frames(np.random.default_rng(0), [frame], Candidates(), [unannotated])
    pos = [Box(*b[:4]) for b in labelled.positive]
    neg = [Box(*b) for b in labelled.negative]
    assert Box(102, 101, 201, 141) in pos and Box(100, 100, 200, 140) in pos
    assert all(Box(*b[4:]) == Box(*plate[0]) for b in labelled.positive)  # the plate they found
    assert Box(600, 300, 700, 340) in neg
    # The half-overlapping box is neither; nothing near either plate is a negative.
    assert Box(150, 100, 250, 140) not in pos + neg
    for b in neg:
        assert b.iou(Box(*plate[0])) < NEGATIVE_IOU and b.iou(Box(*unannotated[0])) < NEGATIVE_IOU
    assert all(b.iou(Box(*plate[0])) >= POSITIVE_IOU for b in pos)
