"""Score the reader against annotated photos: detection AP50/recall, exact plate text and
character accuracy, with the misses listed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .annotations import Photo, read_plates_csv, read_voc
from .errors import AnnotationError
from .image import read_gray
from .metrics import detection_score, edit_distance, match
from .pipeline import PlateReader

LOW_THRESHOLD = 0.05  # detections kept for AP50; the shipped threshold applies to the rest


@dataclass(frozen=True)
class Miss:
    image: str
    truth: str  # the true text, "" for a false positive
    read: str  # what was read, "" when the plate was not found
    detected: bool


@dataclass(frozen=True)
class EvalReport:
    images: int
    plates: int
    ap50: float
    recall: float
    false_positives: int
    exact: int  # plates found (IoU ≥ 0.5) and read exactly
    char_accuracy: float  # mean of 1 − edit distance / length over all true plates
    misses: tuple[Miss, ...] = field(default=())

    @property
    def exact_rate(self) -> float:
        return self.exact / self.plates if self.plates else float("nan")


def load_annotations(source: str | Path) -> list[Photo]:
    """A Pascal VOC folder (``*.xml`` beside the images, or in ``images/``) or a plates CSV
    (``image,xmin,ymin,xmax,ymax,text[,layout]``, images beside it or in ``images/``)."""
    source = Path(source)
    if source.is_dir():
        folder = source / "images" if (source / "images").is_dir() else source
        xmls = sorted(folder.glob("*.xml"))
        if not xmls:
            raise AnnotationError(source, "no Pascal VOC .xml files")
        return [read_voc(x, x.with_suffix(".jpg")) for x in xmls]
    rows = read_plates_csv(source)
    folder = source.parent / "images" if (source.parent / "images").is_dir() else source.parent
    return [Photo(folder / name, 0, 0, tuple(plates)) for name, plates in rows.items()]


def evaluate(reader: PlateReader, photos: Iterable[Photo]) -> EvalReport:
    threshold = reader.threshold
    preds, truths, misses = [], [], []
    exact = 0
    char_scores: list[float] = []
    n_images = 0
    for photo in photos:
        n_images += 1
        gray = read_gray(photo.path)
        detections = reader.detect(gray, threshold=LOW_THRESHOLD)
        results = reader.read_detections(gray, [d for d in detections if d.score >= threshold])
        scored = [(d.box, d.score) for d in detections]
        truth = [p.box for p in photo.plates]
        preds.append(scored)
        truths.append(truth)
        matched = match([r.box for r in results], truth)
        found = {k: r for r, k in zip(results, matched, strict=True) if k >= 0}
        for k, plate in enumerate(photo.plates):
            read = found[k].text if k in found else ""
            exact += read == plate.text
            char_scores.append(max(0.0, 1 - edit_distance(read, plate.text) / len(plate.text)))
            if read != plate.text:
                misses.append(Miss(photo.name, plate.text, read, k in found))
        misses += [Miss(photo.name, "", r.text, True)
                   for r, k in zip(results, matched, strict=True) if k < 0]
    det = detection_score(preds, truths, threshold)
    return EvalReport(n_images, det.plates, det.ap50, det.recall, det.false_positives, exact,
                      sum(char_scores) / max(len(char_scores), 1), tuple(misses))
