"""The detector's pure parts: letterbox, target encoding and the runtime decoder agree."""

import numpy as np
import pytest

from edge_alpr.detector import PAD_VALUE, decode, letterbox
from edge_alpr.errors import InvalidImageError
from edge_alpr.geometry import Box
from edge_alpr.image import to_gray

INPUT_HW, STRIDE = (384, 640), 8


@pytest.mark.parametrize("shape", [(1080, 1920), (480, 640), (2000, 500), (30, 40), (1, 20000)])
def test_letterbox_keeps_aspect_and_pads_bottom_right(shape):
    img = np.full(shape, 200, np.uint8)
    out, lb = letterbox(img, INPUT_HW)
    assert out.shape == INPUT_HW and out.dtype == np.uint8
    h, w = shape
    assert lb.scale == pytest.approx(min(640 / w, 384 / h))
    new_w, new_h = round(w * lb.scale), round(h * lb.scale)
    assert (out[: max(new_h, 1), : max(new_w, 1)] == 200).all()
    assert (out[new_h + 1:, :] == PAD_VALUE).all() and (out[:, new_w + 1:] == PAD_VALUE).all()


@pytest.mark.parametrize("boxes", [
    [[905, 562, 1095, 616]],  # a one-row plate of the real data
    [[1626, 542, 1699, 603], [954, 832, 1256, 938]],  # the smallest plate and a large one
    [[100, 100, 180, 160], [1500, 700, 1800, 800], [600, 300, 700, 390]],
])
def test_encoded_targets_decode_to_the_same_boxes(boxes):
    # A perfect detector outputs exactly the training targets: decoding them must give back
    # the boxes in original-image pixels.
    detector_data = pytest.importorskip("export.detector_data", reason="needs the export extra")
    frame = np.zeros((1080, 1920), np.uint8)
    _, lb = letterbox(frame, INPUT_HW)
    boxes = np.array(boxes, np.float32)
    out_hw = (INPUT_HW[0] // STRIDE, INPUT_HW[1] // STRIDE)
    target = detector_data.encode_targets(boxes * lb.scale, out_hw)
    dets = decode(target[..., :5], STRIDE, 0.5, lb)
    assert len(dets) == len(boxes)
    for truth in boxes:
        best = max(d.box.iou(Box(*truth)) for d in dets)
        assert best > 0.97


def test_decode_suppresses_overlapping_peaks_and_drops_weak_ones():
    out = np.zeros((48, 80, 5), np.float32)
    out[..., 1:3] = np.log([12.0, 4.0])  # 96×32 px boxes
    out[10, 10, 0], out[10, 12, 0] = 0.9, 0.8  # two peaks 16 px apart: the same plate
    out[30, 60, 0] = 0.2  # under the threshold
    _, lb = letterbox(np.zeros((384, 640), np.uint8), INPUT_HW)
    dets = decode(out, STRIDE, 0.3, lb)
    assert [round(d.score, 2) for d in dets] == [0.9]


@pytest.mark.parametrize("image, expected", [
    (np.full((4, 5), 7, np.uint8), 7),
    (np.full((4, 5, 1), 7, np.uint8), 7),
    (np.full((4, 5, 3), 7, np.uint8), 7),
    (np.full((4, 5, 4), 7, np.uint8), 7),
    (np.full((4, 5), 7 * 256, np.uint16), 7),
])
def test_to_gray_accepts_the_supported_kinds(image, expected):
    before = image.copy()
    gray = to_gray(image)
    assert gray.shape == (4, 5) and gray.dtype == np.uint8 and (gray == expected).all()
    assert (image == before).all()  # the caller's image is untouched


@pytest.mark.parametrize("image, problem", [
    (np.zeros((4, 5, 2), np.uint8), "unsupported image shape"),
    (np.zeros((4, 5), np.float32), "unsupported pixel type"),
    (np.zeros((0, 5), np.uint8), "empty image"),
    ("not an array", "expected a numpy array"),
])
def test_to_gray_rejects_with_a_clear_error(image, problem):
    with pytest.raises(InvalidImageError, match=problem):
        to_gray(image, "frame.png")
