"""The whole reader: frame → plate detections → plate crops → plate text, with every box in
the original image's pixels.

Two readers turn a plate crop into text: the segmentation path (character boxes → character
CNN → grammar decoding of the components) and the whole-plate recognizer (one call per plate,
grammar decoding of its character slots). ``reader`` picks one of them or both."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .annotations import ONE_ROW, TWO_ROW, layout_of
from .detector import Detection, Detector
from .geometry import Box
from .image import read_gray, to_gray
from .level import level, roll_at
from .models import (
    AUTO,
    CHARS,
    DETECTOR,
    PLATE_OCR,
    ROLES,
    VERIFIER,
    bundled_model,
    choose_precision,
)
from .plate import Candidate, PlateText, decode_plate
from .plate_ocr import LEVEL_FROM, WHOLE_SURE, PlateOCR, is_sure
from .recognizer import Recognizer
from .segment import CROP_PAD, CharBoxes, cut_chars, segment
from .session import OnnxModel, accelerator_asked
from .timing import StageClock
from .verifier import PlateVerifier, cascade

# Plate crop → character boxes in the crop's pixels and reading order.
Segmenter = Callable[[np.ndarray], CharBoxes]


@dataclass(frozen=True)
class CharRead:
    box: Box | None  # in image pixels; None from the whole-plate reader, which finds no boxes
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
    reader: str = ""  # SEGMENTS or WHOLE, or BOTH when the two read the same text

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
            "chars": [{"box": rnd(c.box) if c.box else None, "char": c.char,
                       "confidence": round(c.confidence, 4)} for c in self.chars],
            "reader": self.reader,
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

# Context (fraction of the box per side) turned with a rolled plate for the segmentation path:
# its widest cut (SECOND_LOOK_PADS, CROP_PAD) and a little more.
_SEGMENTS_CONTEXT = max(CROP_PAD, *SECOND_LOOK_PADS) + 0.05
# The levelled plate's box is grown by this fraction of its height per side before it is
# segmented: where the detector's box fits the turned plate closely, the levelled box meets the
# plate's border, and the segmentation's border rule drops the characters touching it (the
# sample's 4253УБГ read as "23"). Chosen on gate training crops (model card, "Level look").
_SEGMENTS_LEVELLED_GROW = 0.1

SEGMENTS = "segments"  # segmentation, character CNN, grammar over the components
WHOLE = "whole"  # the whole-plate recognizer, grammar over its slots
BOTH = "both"  # the whole-plate reading; the segmentation path too where that one is unsure
READERS: tuple[str, ...] = (SEGMENTS, WHOLE, BOTH)
DEFAULT_READER = BOTH  # by measurement: models/MODEL_CARD.md, "Whole-plate recognizer"


class PlateReader:
    """Reads Mongolian plates in images. Models load once; ``read`` keeps no per-call state,
    so one reader can serve several threads.

    The stages, in order: ``detector`` (plate candidates in the whole frame), ``plate_check``
    (a plate or not, at full resolution; it sets the reader's :attr:`threshold`), then per
    plate ``reader``: SEGMENTS (the segmentation, ``segmenter``, and the character
    ``recognizer``), WHOLE (the whole-plate recognizer ``plate_ocr``) or BOTH (see
    :data:`WHOLE_SURE` and :func:`combine`). A stage given here replaces the bundled one
    (tests, benchmarks); the bundled ones open their model with ``providers``, ``threads`` and
    ``lean`` (see :class:`OnnxModel`), and only those the reader uses are loaded.

    ``precision``: "int8", "fp32" or "auto" for every bundled model that ships in both
    (:func:`edge_alpr.models.choose_precision`; "auto" is FP32 when ``providers`` put a GPU
    first); :attr:`precisions` says what each runs.
    ``min_chars``: detections read as fewer characters are dropped (0 reports every detection).
    ``lean``: the models' sessions keep no memory between calls; same results. Peak memory drops
    only with :func:`edge_alpr.session.lean_malloc` as well.
    ``level``: a rolled plate is read turned level where its reading is in doubt (the bundled
    whole-plate reader's level look, and the segmentation path's: see :meth:`_segments`).
    """

    def __init__(self, providers: str | Sequence[str] = ("cpu",), threads: int | None = None,
                 precision: str = AUTO, detector: Detector | None = None,
                 plate_check: PlateVerifier | None = None, recognizer: Recognizer | None = None,
                 min_chars: int = MIN_CHARS, segmenter: Segmenter = segment,
                 lean: bool = False, reader: str = DEFAULT_READER,
                 plate_ocr: PlateOCR | None = None, level: bool = True) -> None:
        if reader not in READERS:
            raise ValueError(f"unknown reader {reader!r}; choose from {', '.join(READERS)}")
        self.reader = reader
        self.min_chars = min_chars
        self.segmenter = segmenter
        accelerator = accelerator_asked(providers)
        self.precisions = {role: choose_precision(role, precision, accelerator=accelerator)
                           for role in ROLES}

        def bundled(role: str) -> OnnxModel:
            path = bundled_model(role, self.precisions[role]).path
            return OnnxModel(path, providers, threads, lean)

        self.detector = detector or Detector(bundled(DETECTOR))
        self.plate_check = plate_check or PlateVerifier(bundled(VERIFIER))
        self.recognizer = (recognizer or Recognizer(bundled(CHARS))) if reader != WHOLE else None
        self.level = level
        self.plate_ocr = (plate_ocr or PlateOCR(bundled(PLATE_OCR), level=level)) \
            if reader != SEGMENTS else None

    @property
    def threshold(self) -> float:
        """The reader's detection threshold: the plate check's, on the cascade's score
        (detector score × plate probability)."""
        return self.plate_check.threshold

    @property
    def models(self) -> dict[str, OnnxModel]:
        """The ONNX model of each stage by role (a stand-in stage without one left out)."""
        stages = {DETECTOR: self.detector, VERIFIER: self.plate_check, CHARS: self.recognizer,
                  PLATE_OCR: self.plate_ocr}
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
        """Read each detected plate; those read as fewer than ``min_chars`` are left out.

        ``clock`` gets "plate_ocr" for the whole-plate recognizer (all plates in one call)
        and the segmentation path's laps (see :func:`read_plate`).
        """
        return [r for r in self._read_all(gray, detections, clock)
                if len(r.text) >= self.min_chars]

    def read_crop(self, image: np.ndarray, source: str | Path | None = None) -> PlateResult:
        """The plate that fills ``image`` (a plate crop, as a gate camera's plate finder cuts
        it), read as a detection of the whole crop in the crop extended by CROP_PAD (edges
        replicated), so the segmentation path cuts it with the margin it was tuned on."""
        gray = to_gray(image, source)
        h, w = gray.shape
        bx, by = round(CROP_PAD * w), round(CROP_PAD * h)
        framed = cv2.copyMakeBorder(gray, by, by, bx, bx, cv2.BORDER_REPLICATE)
        box = Box(float(bx), float(by), float(bx + w), float(by + h))
        read = self._read_all(framed, [Detection(box, 1.0)])[0]
        return shift_read(read, -bx, -by)

    def _read_all(self, gray: np.ndarray, detections: Sequence[Detection],
                  clock: StageClock | None = None) -> list[PlateResult]:
        if not detections:
            return []
        if self.plate_ocr is None:
            return [self._segments(gray, d, clock) for d in detections]
        # Each box's roll measured once: the whole-plate reader's level look and the
        # segmentation of the same unsure plate both need it.
        roll = cache(partial(roll_at, gray))
        texts = self.plate_ocr(gray, [d.box for d in detections],
                               [d.check_box for d in detections], roll)
        wholes = [whole_result(d, t) for d, t in zip(detections, texts, strict=True)]
        if clock is not None:
            clock.lap("plate_ocr")
        if self.reader == WHOLE:
            return wholes
        at_once = self.level and self.plate_ocr.level
        return [read_both(w, lambda d=d: self._segments(gray, d, clock, at_once, roll),
                          self.plate_ocr.sure)
                for d, w in zip(detections, wholes, strict=True)]

    def _segments(self, gray: np.ndarray, detection: Detection, clock: StageClock | None,
                  at_once: bool = False, roll: Callable[[Box], float] | None = None
                  ) -> PlateResult:
        """The segmentation path's reading of a plate. With :attr:`level`, a plate rolled
        LEVEL_FROM or more is read turned level: ``at_once`` (BOTH, whose whole-plate reading
        was unsure and was levelled as well), or else where its reading as it is does not fit
        the grammar, the surer reading kept. The components of a plate rolled 20° fall into no
        rows (model card, "Level look"). ``roll`` gives a box's roll (default
        :func:`edge_alpr.level.roll_at` in ``gray``)."""
        roll = roll or partial(roll_at, gray)
        if at_once and abs(turned := roll(detection.box)) >= LEVEL_FROM:
            return self._segments_levelled(gray, detection, clock, turned)
        read = read_plate(gray, detection, self.recognizer, clock, segmenter=self.segmenter)
        read = dataclasses.replace(read, reader=SEGMENTS)
        if at_once or not self.level or read.matches_pattern:
            return read
        turned = roll(detection.box)
        if abs(turned) < LEVEL_FROM:
            return read
        again = self._segments_levelled(gray, detection, clock, turned)
        surer = (again.matches_pattern, again.confidence) > (read.matches_pattern,
                                                             read.confidence)
        return again if surer else read

    def _segments_levelled(self, gray: np.ndarray, detection: Detection,
                           clock: StageClock | None, roll: float) -> PlateResult:
        """The segmentation path's reading of a plate turned level by ``roll``, its boxes in
        the frame's pixels."""
        levelled = level(gray, detection.box, roll, _SEGMENTS_CONTEXT)
        plate = levelled.plate.pad(0, _SEGMENTS_LEVELLED_GROW)
        read = read_plate(levelled.image, dataclasses.replace(detection, box=plate),
                          self.recognizer, clock, segmenter=self.segmenter)
        chars = tuple(dataclasses.replace(c, box=c.box and levelled.to_frame(c.box))
                      for c in read.chars)
        return dataclasses.replace(read, box=detection.box, chars=chars, reader=SEGMENTS)


def shift_read(read: PlateResult, dx: float, dy: float) -> PlateResult:
    """``read`` with every box moved by (dx, dy)."""
    return dataclasses.replace(
        read, box=read.box.shift(dx, dy),
        chars=tuple(dataclasses.replace(c, box=c.box and c.box.shift(dx, dy))
                    for c in read.chars))


def whole_result(detection: Detection, plate: PlateText) -> PlateResult:
    """A whole-plate reading as a plate result: no character boxes; the layout from the box."""
    chars = tuple(CharRead(None, ch, conf)
                  for ch, conf in zip(plate.text, plate.char_confidences, strict=True))
    box = detection.box
    return PlateResult(box, detection.score, plate.text, plate.confidence,
                       layout_of(box.width, box.height), plate.region, plate.region_name,
                       plate.matches_pattern, plate.candidates, chars, WHOLE)


def read_both(whole: PlateResult, segments: Callable[[], PlateResult],
              sure: float = WHOLE_SURE) -> PlateResult:
    """BOTH's reading of a plate: the whole-plate reading ``whole`` when it fits the grammar
    with confidence ≥ ``sure``; else that combined with the segmentation path's, which
    ``segments`` makes (called only then: it is the costly reader)."""
    if is_sure(whole, sure):
        return whole
    return combine(whole, segments())


def combine(whole: PlateResult, segments: PlateResult) -> PlateResult:
    """One reading from the two readers' readings of the same plate.

    The same text: the segmentation path's (it has character boxes), marked BOTH, with the
    higher of the two confidences. Both fit the grammar and differ in one character: the
    reading whose reader is surer of that character (the readers err on different
    look-alikes: the segmentation path reads a thin Д as А, the whole-plate one an unsure
    letter under blur). Otherwise one that fits the grammar wins over one that does not, else
    the more confident one; readings that differ in more characters are more often shifted
    against each other (a character missed, another found) than two look-alikes, and are not
    mixed.
    """
    if whole.text == segments.text:
        return dataclasses.replace(segments, reader=BOTH,
                                   confidence=max(whole.confidence, segments.confidence))
    if whole.matches_pattern and segments.matches_pattern:
        differ = [i for i, (a, b) in enumerate(zip(whole.text, segments.text, strict=True))
                  if a != b]
        if len(differ) == 1:
            i = differ[0]
            return whole if whole.chars[i].confidence > segments.chars[i].confidence \
                else segments
    if whole.matches_pattern != segments.matches_pattern:
        return whole if whole.matches_pattern else segments
    return whole if whole.confidence >= segments.confidence else segments


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
