"""The readers under camera conditions: recall, exact reads and characters per condition.

    python -m export.eval_conditions [--reader segments --reader whole ...] [--out out/conditions]
        [--misses out/condition_misses [--blind]]

(every reader of :data:`edge_alpr.pipeline.READERS` by default).

Two data sets, each under every condition of :data:`export.conditions.SUITE`:

- the validation photos of ``../shared/data/mongolian-alpr`` (``export.data.split``), full
  frames degraded whole, read end to end (detector, plate check, reader) and scored as
  ``edge-alpr eval`` scores them (:func:`edge_alpr.evaluate.evaluate`): plates found (IoU ≥ 0.5
  at the shipped threshold), read exactly, and characters (1 − edit distance / length);
- the validation gate crops of ``../shared/data/gate-crops`` (``export.gate_data.gate_split``),
  each crop degraded and read as a plate without detection (:meth:`PlateReader.read_crop`):
  exact reads and characters.

A reader is chosen by name; a name the installed :class:`PlateReader` does not know is
reported as unavailable. Writes ``conditions.md`` (tables) and ``conditions.json`` (figures,
parameters and every miss) to ``--out`` and prints the tables; ``--misses`` draws the misses
(:func:`miss_sheets`), with ``--blind`` numbered and unlabelled for a person to read.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge_alpr.annotations import Photo
from edge_alpr.evaluate import evaluate
from edge_alpr.geometry import Box
from edge_alpr.image import read_image, to_gray
from edge_alpr.metrics import edit_distance
from edge_alpr.models import AUTO, PRECISION_CHOICES
from edge_alpr.pipeline import READERS, PlateReader

from .conditions import SUITE, Condition, degrade_image
from .data import DATA_DIR, split
from .data import photos as all_photos
from .gate_data import CHECKED_VAL, GATE_DIR, gate_split
from .gate_sheet import write_sheets


@dataclass(frozen=True)
class LabelledCrop:
    name: str
    image: np.ndarray  # gray uint8, the plate filling it
    text: str
    layout: str  # ONE_ROW or TWO_ROW


@dataclass(frozen=True)
class Miss:
    image: str
    truth: str
    # "" when nothing was reported: on the photos both when the detector missed the plate and
    # when its read had fewer than the reader's min_chars characters (Score.found tells).
    read: str
    layout: str


@dataclass(frozen=True)
class Score:
    """One reader on one data set under one condition."""

    plates: int
    exact: int
    char_accuracy: float  # mean over plates of max(0, 1 − edit distance / length)
    found: int | None = None  # plates the detector found (photos only)
    false_positives: int | None = None  # detections matching no plate (photos only)
    misses: tuple[Miss, ...] = field(default=())
    layouts: dict[str, int] = field(default_factory=dict)  # plates per layout

    def by_layout(self) -> dict[str, dict[str, int]]:
        """Plates and exact reads per layout."""
        return {layout: {"plates": n, "exact": n - sum(m.layout == layout for m in self.misses)}
                for layout, n in sorted(self.layouts.items())}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"plates": self.plates, "exact": self.exact,
                               "exact_rate": _rate(self.exact, self.plates),
                               "char_accuracy": round(self.char_accuracy, 4)}
        if self.found is not None:
            out |= {"found": self.found, "recall": _rate(self.found, self.plates),
                    "false_positives": self.false_positives}
        out["by_layout"] = self.by_layout()
        out["misses"] = [vars(m) for m in self.misses]
        return out


@dataclass(frozen=True)
class Row:
    condition: str
    reader: str
    photos: Score | None  # None when the data set was not run
    gate: Score | None


@dataclass(frozen=True)
class Report:
    conditions: tuple[Condition, ...]
    rows: tuple[Row, ...]
    unavailable: dict[str, str]  # reader name → why
    data: dict[str, Any]  # what was read: counts, label provenance
    seconds: float


class ReaderUnavailable(Exception):
    """PlateReader has no reader of this name."""


def _rate(n: int, total: int) -> float | None:
    return round(n / total, 4) if total else None


def open_reader(name: str, threads: int | None = None, precision: str = AUTO) -> PlateReader:
    """The shipped reader with ``name`` as its reading path, as a user would open it."""
    try:
        return PlateReader(threads=threads, reader=name, precision=precision)
    except ValueError as e:  # a name this PlateReader does not know
        raise ReaderUnavailable(f"PlateReader(reader={name!r}): {e}") from e


def read_crop(reader: PlateReader, crop: np.ndarray) -> str:
    """The text ``reader`` reports for a plate crop (:meth:`PlateReader.read_crop`), "" when
    the read has fewer than ``reader.min_chars`` characters: the rule ``read`` and
    ``edge-alpr eval`` apply to the photos' detections."""
    text = reader.read_crop(crop, "plate crop").text
    return text if len(text) >= reader.min_chars else ""


def _char_score(read: str, truth: str) -> float:
    return max(0.0, 1 - edit_distance(read, truth) / len(truth))


def score_crops(reader: PlateReader, crops: Sequence[LabelledCrop], condition: Condition
                ) -> Score:
    exact, chars, misses = 0, 0.0, []
    for c in crops:
        h, w = c.image.shape[:2]
        image = degrade_image(condition, c.image, [Box(0, 0, w, h)], c.name, photo=False)
        read = read_crop(reader, image)
        exact += read == c.text
        chars += _char_score(read, c.text)
        if read != c.text:
            misses.append(Miss(c.name, c.text, read, c.layout))
    return Score(len(crops), exact, chars / max(len(crops), 1), misses=tuple(misses),
                 layouts=dict(Counter(c.layout for c in crops)))


def score_photos(reader: PlateReader, photos: Sequence[Photo], condition: Condition,
                 folder: Path) -> Score:
    """End to end on the degraded frames, scored by ``edge-alpr eval``'s own :func:`evaluate`
    (which reads files: the frames are written losslessly to ``folder``)."""
    degraded = []
    for p in photos:
        gray = to_gray(read_image(p.path), p.path)
        image = degrade_image(condition, gray, [pl.box for pl in p.plates], p.name, photo=True)
        path = folder / f"{condition.name}-{p.path.stem}.png"
        cv2.imwrite(str(path), image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        degraded.append(Photo(path, p.width, p.height, p.plates))
    report = evaluate(reader, degraded)
    # evaluate names the degraded frame; the report names the photo.
    names = {d.name: p.name for d, p in zip(degraded, photos, strict=True)}
    layout = {(p.name, pl.text): pl.layout for p in photos for pl in p.plates}
    misses = tuple(Miss(names[m.image], m.truth, m.read, layout[names[m.image], m.truth])
                   for m in report.misses if m.truth)
    return Score(report.plates, report.exact, report.char_accuracy,
                 round(report.recall * report.plates), report.false_positives, misses,
                 dict(Counter(pl.layout for p in photos for pl in p.plates)))


def run_suite(readers: Sequence[str], conditions: Sequence[Condition],
              photos: Sequence[Photo], crops: Sequence[LabelledCrop],
              threads: int | None = None, data: dict[str, Any] | None = None,
              frames: Path | None = None, precision: str = AUTO) -> Report:
    """Every reader under every condition on ``photos`` (end to end) and ``crops`` (reading
    only); an empty data set is skipped. Degraded frames go to ``frames`` when given."""
    start = time.perf_counter()
    rows, unavailable = [], {}
    with tempfile.TemporaryDirectory(prefix="edge-alpr-conditions-") as tmp:
        folder = Path(frames or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name in readers:
            try:
                reader = open_reader(name, threads, precision)
            except ReaderUnavailable as e:
                unavailable[name] = str(e)
                continue
            for cond in conditions:
                rows.append(Row(
                    cond.name, name,
                    score_photos(reader, photos, cond, folder) if photos else None,
                    score_crops(reader, crops, cond) if crops else None))
    return Report(tuple(conditions), tuple(rows), unavailable, data or {},
                  time.perf_counter() - start)


SHEET_HEIGHT = 80  # px of each tile on the sheet
_LABEL_WIDTH = 150


def _tile(image: np.ndarray) -> np.ndarray:
    scale = SHEET_HEIGHT / image.shape[0]
    tile = cv2.resize(image, (max(1, round(image.shape[1] * scale)), SHEET_HEIGHT),
                      interpolation=cv2.INTER_NEAREST)  # the pixels as the reader gets them
    return cv2.copyMakeBorder(tile, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=255)


def condition_sheet(conditions: Sequence[Condition], photos: Sequence[Photo],
                    crops: Sequence[LabelledCrop]) -> np.ndarray:
    """One row per condition: each photo's first plate (with 30% context) cut from the degraded
    frame, then each crop degraded; gray, for eyes."""
    frames = [to_gray(read_image(p.path), p.path) for p in photos if p.plates]
    rows = []
    for cond in conditions:
        label = np.full((SHEET_HEIGHT + 4, _LABEL_WIDTH), 255, np.uint8)
        cv2.putText(label, cond.name, (4, SHEET_HEIGHT // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                    0, 1, cv2.LINE_AA)
        tiles = [label]
        for p, gray in zip([p for p in photos if p.plates], frames, strict=True):
            image = degrade_image(cond, gray, [pl.box for pl in p.plates], p.name, photo=True)
            tiles.append(_tile(p.plates[0].box.pad(0.3).crop(image)))
        for c in crops:
            h, w = c.image.shape[:2]
            tiles.append(_tile(degrade_image(cond, c.image, [Box(0, 0, w, h)], c.name,
                                             photo=False)))
        rows.append(np.hstack(tiles))
    width = max(r.shape[1] for r in rows)
    return np.vstack([cv2.copyMakeBorder(r, 0, 0, 0, width - r.shape[1], cv2.BORDER_CONSTANT,
                                         value=255) for r in rows])


def _miss_lines(m: Miss) -> list[str]:
    return [f"{m.image} {m.layout}", f"{m.truth} read {m.read or '-'}"]


def miss_sheets(report: Report, photos: Sequence[Photo], crops: Sequence[LabelledCrop],
                out: Path, blind: bool = False) -> list[Path]:
    """Every miss of every reader under every condition, as the reader got it, labelled with
    the truth and the read, in sheets under ``out/<reader>/<condition>/``: a gate crop clean
    and degraded side by side; a photo's plate with 30% context cut from the degraded frame.

    ``blind``: only what the reader got, numbered, with truth and read in ``key.csv`` beside
    the sheets, for a person to read the misses without knowing them: how many a careful eye
    reads right bounds what any reader could gain under the condition."""
    by_crop = {c.name: c for c in crops}
    by_photo = {p.name: p for p in photos}
    conditions = {c.name: c for c in report.conditions}
    paths: list[Path] = []
    for row in report.rows:
        cond = conditions[row.condition]
        frames: dict[str, np.ndarray] = {}  # each photo degraded once, however many misses
        drawn: list[tuple[np.ndarray, Miss]] = []
        for m in row.photos.misses if row.photos else ():
            p = by_photo[m.image]
            if p.name not in frames:
                frames[p.name] = degrade_image(cond, to_gray(read_image(p.path), p.path),
                                               [pl.box for pl in p.plates], p.name, photo=True)
            box = next(pl.box for pl in p.plates if pl.text == m.truth)
            drawn.append((box.pad(0.3).crop(frames[p.name]), m))
        for m in row.gate.misses if row.gate else ():
            c = by_crop[m.image]
            h, w = c.image.shape[:2]
            seen = degrade_image(cond, c.image, [Box(0, 0, w, h)], c.name, photo=False)
            drawn.append((seen if blind else _side_by_side(c.image, seen), m))
        if not drawn:
            continue
        folder = out / row.reader / row.condition
        if blind:
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / "key.csv").open("w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(["number", "image", "truth", "read"])
                writer.writerows([k, m.image, m.truth, m.read] for k, (_, m) in enumerate(drawn))
        paths += write_sheets([(image, [f"#{k}"] if blind else _miss_lines(m))
                               for k, (image, m) in enumerate(drawn)], folder)
    return paths


def _side_by_side(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a`` and ``b`` in a row on white, tops aligned: a tilted crop is taller than its own."""
    h = max(a.shape[0], b.shape[0])
    a, b = (cv2.copyMakeBorder(x, 0, h - x.shape[0], 0, 0, cv2.BORDER_CONSTANT, value=255)
            for x in (a, b))
    return np.hstack([a, np.full((h, max(2, a.shape[1] // 20)), 255, np.uint8), b])


def _cell(n: int, total: int) -> str:
    return f"{n}/{total} ({n / total:.0%})" if total else "-"


def markdown(report: Report) -> str:
    """The parameters and the results as markdown tables."""
    lines = ["| condition | on the photos (1920×1080 frames) | on the gate crops (720p camera) |",
             "|---|---|---|"]
    lines += [f"| {c.name} | {c.photo} | {c.crop} |" for c in report.conditions]
    lines += ["", "| condition | reader | photos: plates found | photos: exact | photos: "
              "characters | gate crops: exact | gate crops: characters |",
              "|---|---|---|---|---|---|---|"]
    for r in report.rows:
        p = ([_cell(r.photos.found or 0, r.photos.plates), _cell(r.photos.exact, r.photos.plates),
              f"{r.photos.char_accuracy:.1%}"] if r.photos else ["-"] * 3)
        g = ([_cell(r.gate.exact, r.gate.plates), f"{r.gate.char_accuracy:.1%}"] if r.gate
             else ["-"] * 2)
        lines.append("| " + " | ".join([r.condition, r.reader, *p, *g]) + " |")
    lines += [f"\nReader {name} unavailable: {why}" for name, why in report.unavailable.items()]
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> dict[str, Any]:
    return {
        "data": report.data,
        "conditions": {c.name: c.params() for c in report.conditions},
        "results": [{"condition": r.condition, "reader": r.reader,
                     "photos": r.photos.to_dict() if r.photos else None,
                     "gate": r.gate.to_dict() if r.gate else None} for r in report.rows],
        "unavailable": report.unavailable,
        "seconds": round(report.seconds, 1),
    }


def validation_data(gate: bool = True, photos: bool = True, limit: int | None = None
                    ) -> tuple[list[Photo], list[LabelledCrop], dict[str, Any]]:
    """The validation photos and gate crops, and where their labels come from."""
    val_photos = split(all_photos())[1][:limit] if photos else []
    crops: list[LabelledCrop] = []
    info: dict[str, Any] = {}
    if photos:
        info["photos"] = {"source": str(DATA_DIR), "split": "validation (export.data.split)",
                          "photos": len(val_photos),
                          "plates": sum(len(p.plates) for p in val_photos)}
    if gate:
        val = gate_split()[1][:limit]
        crops = [LabelledCrop(c.path.name, to_gray(read_image(c.path), c.path), c.text, c.layout)
                 for c in val]
        checked: set[str] = set()
        if CHECKED_VAL.is_file():
            with CHECKED_VAL.open(encoding="utf-8") as f:
                checked = {r["image"] for r in csv.DictReader(f)}
        n_checked = sum(c.name in checked for c in crops)
        info["gate"] = {"source": str(GATE_DIR),
                        "split": "validation (export.gate_data.gate_split)",
                        "crops": len(crops), "labels_checked_by_eye": n_checked,
                        "labels_unchecked_ocr": len(crops) - n_checked}
    return val_photos, crops, info


def add_suite_arguments(ap: argparse.ArgumentParser, default_readers: str) -> None:
    """``--reader`` (into ``readers``) and ``--condition`` (into ``conditions``), repeatable,
    and ``--threads``; :func:`chosen_conditions` turns the conditions into the suite's."""
    ap.add_argument("--reader", action="append", dest="readers",
                    help=f"reader name, repeatable: {', '.join(READERS)} "
                    f"(default: {default_readers})")
    ap.add_argument("--condition", action="append", dest="conditions",
                    choices=[c.name for c in SUITE], help="condition, repeatable (default: all)")
    ap.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    ap.add_argument("--precision", choices=PRECISION_CHOICES, default=AUTO,
                    help="the models' precision, as edge-alpr's --precision (default auto; "
                    "int8 is what auto runs on ARM CPUs with int8 dot-product instructions)")


def chosen_conditions(names: Sequence[str] | None) -> list[Condition]:
    """The suite's conditions named in ``names`` (all of them when none is named)."""
    return [c for c in SUITE if not names or c.name in names]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_suite_arguments(ap, "all")
    ap.add_argument("--no-photos", action="store_true", help="skip the validation photos")
    ap.add_argument("--no-gate", action="store_true", help="skip the gate crops")
    ap.add_argument("--limit", type=int, help="only the first N photos and crops (a quick look)")
    ap.add_argument("--out", type=Path, default=Path("out/conditions"),
                    help="folder for conditions.md and conditions.json")
    ap.add_argument("--frames", type=Path,
                    help="keep the degraded photo frames here (real photos: never commit them)")
    ap.add_argument("--sheet", type=Path,
                    help="draw the first photos' plates and gate crops under each condition "
                    "into this PNG (real data: never commit it)")
    ap.add_argument("--misses", type=Path,
                    help="draw every miss per reader and condition into sheets under this "
                    "folder (real data: never commit them)")
    ap.add_argument("--blind", action="store_true",
                    help="draw the misses numbered, without truth or read (those go to key.csv "
                    "beside them), for a person to read them blind")
    args = ap.parse_args(argv)
    conditions = chosen_conditions(args.conditions)
    photos, crops, info = validation_data(not args.no_gate, not args.no_photos, args.limit)
    info["command"] = "python -m export.eval_conditions " + " ".join(
        sys.argv[1:] if argv is None else argv)
    report = run_suite(args.readers or READERS, conditions, photos, crops, args.threads,
                       info, args.frames, args.precision)
    table = markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "conditions.md").write_text(table, encoding="utf-8")
    (args.out / "conditions.json").write_text(
        json.dumps(to_json(report), ensure_ascii=False, indent=1), encoding="utf-8")
    print(table)
    if args.sheet:
        args.sheet.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(args.sheet), condition_sheet(conditions, photos[:3], crops[:6]))
        print(f"wrote {args.sheet}")
    if args.misses:
        sheets = miss_sheets(report, photos, crops, args.misses, args.blind)
        print(f"wrote {len(sheets)} sheets of misses under {args.misses}")
    if "gate" in info and info["gate"]["labels_unchecked_ocr"]:
        print(f"gate crops: {info['gate']['labels_unchecked_ocr']} of {info['gate']['crops']} "
              "labels are the OCR's, not checked by eye: those figures are no accuracy yet")
    print(f"{report.seconds:.0f} s; wrote {args.out / 'conditions.md'}, "
          f"{args.out / 'conditions.json'}")
    return 0 if report.rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
