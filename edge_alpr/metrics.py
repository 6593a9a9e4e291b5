"""Scores for detections and plate texts: AP50, recall, false positives, edit distance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .geometry import Box


@dataclass(frozen=True)
class DetectionScore:
    ap50: float  # VOC all-point average precision at IoU 0.5, over all scores
    recall: float  # at the threshold the detections were made with
    false_positives: int
    plates: int
    images: int


def match(preds: Sequence[Box], truth: Sequence[Box], iou: float = 0.5) -> list[int]:
    """Greedy one-to-one matching in the order of ``preds`` (best first): the index of the
    matched truth box for each prediction, or -1."""
    taken: set[int] = set()
    out = []
    for p in preds:
        ious = [(p.iou(t), j) for j, t in enumerate(truth) if j not in taken]
        best = max(ious, default=(0.0, -1))
        if best[0] >= iou:
            taken.add(best[1])
            out.append(best[1])
        else:
            out.append(-1)
    return out


def detection_score(preds: Sequence[Sequence[tuple[Box, float]]],
                    truth: Sequence[Sequence[Box]], threshold: float,
                    iou: float = 0.5) -> DetectionScore:
    """AP50 over all predictions, and recall/false positives of those scoring ≥ ``threshold``.

    ``preds[i]`` are (box, score) pairs for image i, ``truth[i]`` its true boxes.
    """
    if len(preds) != len(truth):
        raise ValueError(f"{len(preds)} prediction lists for {len(truth)} images")
    scored: list[tuple[float, bool]] = []
    hits = fps = 0
    for p, t in zip(preds, truth, strict=True):
        p = sorted(p, key=lambda bs: -bs[1])
        matched = match([b for b, _ in p], t, iou)
        scored += [(s, m >= 0) for (_, s), m in zip(p, matched, strict=True)]
        kept = [m for (_, s), m in zip(p, matched, strict=True) if s >= threshold]
        hits += sum(m >= 0 for m in kept)
        fps += sum(m < 0 for m in kept)
    n_true = sum(len(t) for t in truth)
    return DetectionScore(average_precision(scored, n_true), hits / max(n_true, 1), fps,
                          n_true, len(truth))


def threshold_sweep(preds: Sequence[Sequence[tuple[Box, float]]],
                    truth: Sequence[Sequence[Box]], thresholds: Sequence[float]
                    ) -> dict[str, dict[str, float]]:
    """Recall and false positives at each threshold, keyed by the threshold as text (JSON)."""
    out = {}
    for t in thresholds:
        s = detection_score(preds, truth, t)
        out[str(t)] = {"recall": round(s.recall, 4), "false_positives": s.false_positives}
    return out


def average_precision(scored: Sequence[tuple[float, bool]], n_true: int) -> float:
    """VOC all-point interpolated AP of (score, is_true_positive) pairs."""
    if n_true == 0:
        return float("nan")
    order = sorted(scored, key=lambda st: -st[0])
    tp = np.cumsum([t for _, t in order], dtype=np.float64)
    fp = np.cumsum([not t for _, t in order], dtype=np.float64)
    recall = np.concatenate([[0.0], tp / n_true, [1.0]]) if order else np.array([0.0, 1.0])
    precision = np.concatenate([[1.0], tp / np.maximum(tp + fp, 1), [0.0]]) if order \
        else np.array([1.0, 0.0])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall) * precision[1:]))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
