import pytest

from edge_alpr.geometry import Box
from edge_alpr.metrics import average_precision, detection_score, edit_distance, threshold_sweep

A, B = Box(0, 0, 10, 10), Box(100, 100, 120, 110)


@pytest.mark.parametrize("preds, truth, ap, recall, fps", [
    ([[(A, 0.9)], [(B, 0.8)]], [[A], [B]], 1.0, 1.0, 0),  # perfect
    # An FP ranked first: precision 1/2 then 2/3; the envelope gives 2/3 over all recall.
    ([[(A, 0.9), (B, 0.95)], [(B, 0.8)]], [[A], [B]], 2 / 3, 1.0, 1),
    ([[(A, 0.9)], []], [[A], [B]], 0.5, 0.5, 0),  # a miss caps AP at the recall
    ([[(A.shift(6, 0), 0.9)], [(B, 0.8)]], [[A], [B]], 0.25, 0.5, 1),  # IoU 0.25 < 0.5
    ([[(A, 0.3)], [(B, 0.8)]], [[A], [B]], 1.0, 0.5, 0),  # under threshold: AP keeps it
])
def test_detection_score(preds, truth, ap, recall, fps):
    s = detection_score(preds, truth, threshold=0.5)
    assert s.recall == pytest.approx(recall)
    assert s.false_positives == fps
    assert s.ap50 == pytest.approx(ap)


def test_duplicate_detection_counts_once():
    s = detection_score([[(A, 0.9), (A, 0.8)]], [[A]], threshold=0.5)
    assert (s.recall, s.false_positives) == (1.0, 1)


def test_threshold_sweep_trades_recall_for_false_positives():
    preds = [[(A, 0.9), (B, 0.4)], [(B, 0.6)]]  # image 0: B is a false positive
    sweep = threshold_sweep(preds, [[A], [B]], (0.3, 0.5, 0.7))
    assert sweep == {"0.3": {"recall": 1.0, "false_positives": 1},
                     "0.5": {"recall": 1.0, "false_positives": 0},
                     "0.7": {"recall": 0.5, "false_positives": 0}}


def test_average_precision_empty():
    assert average_precision([], 3) == 0.0


@pytest.mark.parametrize("a, b, d", [("", "", 0), ("4253УБГ", "4253УБГ", 0),
                                     ("4253УБГ", "4258УБГ", 1), ("4253УБГ", "253УБГ", 1),
                                     ("abc", "", 3), ("0О", "О0", 2)])
def test_edit_distance(a, b, d):
    assert edit_distance(a, b) == d
