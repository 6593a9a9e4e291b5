"""The whole reader: frame → plate detections → plate crops → character boxes → character
probabilities → plate text, with every box in the original image's pixels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .annotations import ONE_ROW, TWO_ROW
from .detector import Detection, Detector
from .geometry import Box
from .image import read_gray, to_gray
from .models import AUTO, CHARS, DETECTOR, ROLES, VERIFIER, bundled_model, choose_precision
from .plate import Candidate, PlateText, decode_plate
from .recognizer import Recognizer
from .segment import CROP_PAD, CharBoxes, cut_chars, segment
from .session import OnnxModel
from .timing import StageClock
from .verifier import PlateVerifier, cascade

# Plate crop → character boxes in the crop's pixels and reading order.
Segmenter = Callable[[np.ndarray], CharBoxes]


@dataclass(frozen=True)
class CharRead:
    box: Box  # in image pixels
    char: str
    confidence: float


@dataclass(frozen=True)
class PlateResult:
    box: Box  # in image pixels
    detection_score: float
    text: str
    confidence: float
    layout: str  # ONE_ROW, TWO_ROW, or "" when no character was read
    region: str  # region code, "" when none was recognised
    region_name: str
    matches_pattern: bool
    candidates: tuple[Candidate, ...]
    chars: tuple[CharRead, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, boxes as [x0, y0, x1, y1] rounded to 0.1 px."""
        rnd = lambda b: [round(float(v), 1) for v in b.as_list()]  # noqa: E731
        return {
            "box": rnd(self.box), "score": round(self.detection_score, 4), "text": self.text,
            "confidence": round(self.confidence, 4), "layout": self.layout,
            "region": self.region, "region_name": self.region_name,
            "matches_pattern": self.matches_pattern,
            "candidates": [{"text": c.text, "confidence": round(c.confidence, 4)}
                           for c in self.candidates],
            "chars": [{"box": rnd(c.box), "char": c.char, "confidence": round(c.confidence, 4)}
                      for c in self.chars],
        }


# A plate has 7 characters; a detection read as fewer than this is not reported (it is a
# wheel, a window or a sign the detector took for a plate).
MIN_CHARS = 5
# Margins (fractions of the box, as CROP_PAD) a plate is cut with again when its reading does
# not fit the grammar: a detector box a little tight or loose changes what the binarization
# and the border rule see. Chosen on the training photos' detections (README, figures).
SECOND_LOOK_PADS: tuple[float, ...] = (0.0, 0.15)
# Only a reading with at least this many characters gets a second look: one with fewer is no
# plate cut a little wrong but a wheel, a badge or a sign, and looking again costs time.
SECOND_LOOK_MIN_CHARS = 4


class PlateReader:
    """Reads Mongolian plates in images. Models load once; ``read`` keeps no per-call state,
    so one reader can serve several threads.

    The stages, in order: ``detector`` (plate candidates in the whole frame), ``plate_check``
    (a plate or not, at full resolution; it sets the reader's :attr:`threshold`), then per
    plate the segmentation (``segmenter``) and the character ``recognizer``. A stage given
    here replaces the bundled one (tests, benchmarks); the bundled ones open their model with
    ``providers``, ``threads`` and ``lean`` (see :class:`OnnxModel`).

    ``precision``: "int8", "fp32" or "auto" for every bundled model that ships in both
    (:func:`edge_alpr.models.choose_precision`); :attr:`precisions` says what each runs.
    ``min_chars``: detections read as fewer characters are dropped (0 reports every detection).
    ``lean``: the models' sessions keep no memory between calls; same results. Peak memory drops
    only with :func:`edge_alpr.session.lean_malloc` as well.
    """

    def __init__(self, providers: str | Sequence[str] = ("cpu",), threads: int | None = None,
                 precision: str = AUTO, detector: Detector | None = None,
                 plate_check: PlateVerifier | None = None, recognizer: Recognizer | None = None,
                 min_chars: int = MIN_CHARS, segmenter: Segmenter = segment,
                 lean: bool = False) -> None:
        self.min_chars = min_chars
        self.segmenter = segmenter
        self.precisions = {role: choose_precision(role, precision) for role in ROLES}

        def bundled(role: str) -> OnnxModel:
            path = bundled_model(role, self.precisions[role]).path
            return OnnxModel(path, providers, threads, lean)

        self.detector = detector or Detector(bundled(DETECTOR))
        self.plate_check = plate_check or PlateVerifier(bundled(VERIFIER))
        self.recognizer = recognizer or Recognizer(bundled(CHARS))

    @property
    def threshold(self) -> float:
        """The reader's detection threshold: the plate check's, on the cascade's score
        (detector score × plate probability)."""
        return self.plate_check.threshold

    @property
    def models(self) -> dict[str, OnnxModel]:
        """The ONNX model of each stage by role (a stand-in stage without one left out)."""
        stages = {DETECTOR: self.detector, VERIFIER: self.plate_check, CHARS: self.recognizer}
        return {role: stage.model for role, stage in stages.items()
                if isinstance(getattr(stage, "model", None), OnnxModel)}

    def read(self, image: np.ndarray | str | Path, source: str | Path | None = None,
             clock: StageClock | None = None) -> list[PlateResult]:
        """All plates in ``image`` (an array, or a path to an image file, decoded straight to
        grayscale by :func:`edge_alpr.image.read_gray`), best first.

        ``source`` names the array's origin in error messages. ``clock``, when given, gets a
        lap per stage (see :meth:`detect` and :func:`read_plate`); the grayscale conversion
        is charged to "letterbox".
        """
        if isinstance(image, (str, Path)):
            image, source = read_gray(image), image
        gray = to_gray(image, source)
        return self.read_detections(gray, self.detect(gray, clock=clock), clock)

    def detect(self, gray: np.ndarray, threshold: float | None = None,
               clock: StageClock | None = None) -> list[Detection]:
        """Plates in a grayscale frame, best first, scored detector score × plate probability,
        with the boxes the check redraws (:func:`edge_alpr.verifier.cascade`).

        The detector proposes its candidates at this threshold (default :attr:`threshold`),
        not at its own, which is for the detector alone: a candidate under it cannot reach it
        once multiplied by a probability. ``clock`` gets the detector's laps, then
        "plate_check".
        """
        threshold = self.threshold if threshold is None else threshold
        candidates = self.detector(gray, threshold, clock)
        if not candidates:
            return []
        probs, boxes = self.plate_check(gray, [d.box for d in candidates])
        found = cascade(candidates, probs, boxes, threshold, gray.shape[1], gray.shape[0])
        if clock is not None:
            clock.lap("plate_check")
        return found

    def read_detections(self, gray: np.ndarray, detections: Sequence[Detection],
                        clock: StageClock | None = None) -> list[PlateResult]:
        """Read each detected plate; those read as fewer than ``min_chars`` are left out."""
        reads = (read_plate(gray, d, self.recognizer, clock, segmenter=self.segmenter)
                 for d in detections)
        return [r for r in reads if len(r.text) >= self.min_chars]


def read_plate(gray: np.ndarray, detection: Detection, recognizer: Recognizer,
               clock: StageClock | None = None, second_look: Sequence[float] = SECOND_LOOK_PADS,
               segmenter: Segmenter = segment) -> PlateResult:
    """Read the characters of one detected plate in a grayscale frame.

    The plate is cut with :data:`CROP_PAD` around the box; when that reading does not fit the
    plate grammar but has at least :data:`SECOND_LOOK_MIN_CHARS` characters, it is cut again
    with each margin of ``second_look`` in turn, and the first reading that fits is taken.
    ``clock``, when given, gets laps "segmentation" (crop and character boxes), "char_cnn"
    (cutting the character crops and the model call) and "assembly" (plate text and result),
    once per look.
    """
    result = _read_crop(gray, detection, recognizer, CROP_PAD, clock, segmenter)
    for pad in second_look:
        if result.matches_pattern or len(result.text) < SECOND_LOOK_MIN_CHARS:
            break
        again = _read_crop(gray, detection, recognizer, pad, clock, segmenter)
        if again.matches_pattern:
            result = again
    return result


def _read_crop(gray: np.ndarray, detection: Detection, recognizer: Recognizer, pad: float,
               clock: StageClock | None, segmenter: Segmenter) -> PlateResult:
    h, w = gray.shape
    x0, y0, x1, y1 = detection.box.pad(pad).clamp(w, h).to_int()
    crop = gray[y0:y1, x0:x1]
    chars = segmenter(crop)
    if clock is not None:
        clock.lap("segmentation")
    if len(chars):
        probs = recognizer(cut_chars(crop, chars, *recognizer.input_hw))
    else:
        probs = np.zeros((0, len(recognizer.classes)))
    if clock is not None:
        clock.lap("char_cnn")
    plate = decode_plate(probs, recognizer.classes, chars.rows)
    result = _result(detection, plate, chars.boxes + [x0, y0, x0, y0], chars.rows)
    if clock is not None:
        clock.lap("assembly")
    return result


def _result(det: Detection, plate: PlateText, boxes: np.ndarray, rows: np.ndarray
            ) -> PlateResult:
    kept = list(plate.kept)
    reads = tuple(CharRead(Box(*boxes[i]), ch, conf)
                  for i, ch, conf in zip(kept, plate.text, plate.char_confidences, strict=True))
    layout = "" if not kept else TWO_ROW if rows[kept].max() > 0 else ONE_ROW
    return PlateResult(det.box, det.score, plate.text, plate.confidence, layout, plate.region,
                       plate.region_name, plate.matches_pattern, plate.candidates, reads)
