"""edge-alpr eval's scoring, with stand-in stages so only the bookkeeping is under test."""

import cv2
import numpy as np
import pytest

from edge_alpr.annotations import Photo, PlateAnnotation
from edge_alpr.detector import Detection
from edge_alpr.evaluate import evaluate, load_annotations
from edge_alpr.geometry import Box
from edge_alpr.pipeline import PlateResult

A, B, FP = Box(10, 10, 110, 40), Box(200, 50, 300, 80), Box(400, 10, 480, 40)


class FakeReader:
    """Detects fixed boxes and 'reads' each as the text given for it."""

    def __init__(self, reads: dict[Box, tuple[float, str]]) -> None:
        self.reads = reads
        self.threshold = 0.5

    def detect(self, gray, threshold):
        return [Detection(b, s) for b, (s, _) in self.reads.items() if s >= threshold]

    def read_detections(self, gray, detections):
        return [PlateResult(d.box, d.score, self.reads[d.box][1], 0.9, "one-row", "", "", True,
                            (), ()) for d in detections]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "1.jpg"
    cv2.imwrite(str(path), np.zeros((100, 500), np.uint8))
    return Photo(path, 500, 100, (PlateAnnotation(A, "4253УБГ", "one-row"),
                                  PlateAnnotation(B, "7518УБА", "one-row")))


def test_exact_reads_misreads_misses_and_false_positives_are_counted(photo):
    reader = FakeReader({A: (0.9, "4253УБГ"), B.shift(2, 0): (0.8, "7518УБ"),
                         FP: (0.7, "11")})
    r = evaluate(reader, [photo])
    assert (r.images, r.plates, r.exact, r.recall, r.false_positives) == (1, 2, 1, 1.0, 1)
    assert r.char_accuracy == pytest.approx((1 + 6 / 7) / 2)
    assert {(m.truth, m.read, m.detected) for m in r.misses} == {("7518УБА", "7518УБ", True),
                                                                  ("", "11", True)}


def test_a_plate_under_the_threshold_is_a_miss_but_counts_for_ap(photo):
    r = evaluate(FakeReader({A: (0.9, "4253УБГ"), B: (0.3, "7518УБА")}), [photo])
    assert (r.exact, r.recall, r.false_positives) == (1, 0.5, 0)
    assert r.ap50 == pytest.approx(1.0)
    assert [(m.truth, m.detected) for m in r.misses] == [("7518УБА", False)]


def test_load_annotations_from_a_csv(tmp_path):
    (tmp_path / "plates.csv").write_text("image,xmin,ymin,xmax,ymax,text,layout\n"
                                         "1.jpg,10,10,110,40,4253УБГ,one-row\n", encoding="utf-8")
    (photo,) = load_annotations(tmp_path / "plates.csv")
    assert photo.path == tmp_path / "1.jpg" and photo.plates[0].text == "4253УБГ"
