"""Read annotated photos: Pascal VOC files (plate and character boxes) and a plates CSV.

The layout is that of ``mongolian-alpr``: objects named ``plate`` are plates, every other
object is one character named by the transliteration in :data:`edge_alpr.alphabet.VOC_NAMES`.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .alphabet import VOC_NAMES
from .errors import AnnotationError
from .geometry import Box
from .rows import assign_rows

ONE_ROW = "one-row"
TWO_ROW = "two-row"
# A two-row plate (280×200 mm) is about 1.4 times as wide as tall, a one-row one (520×110 mm)
# about 4.7; boxes and crops carry some margin and tilt, and nothing real falls near 2.4.
TWO_ROW_MAX_ASPECT = 2.4


def layout_of(width: float, height: float) -> str:
    """ONE_ROW or TWO_ROW for a plate box (or crop) of this size."""
    return TWO_ROW if width < TWO_ROW_MAX_ASPECT * height else ONE_ROW


@dataclass(frozen=True)
class CharBox:
    label: str  # one character of edge_alpr.alphabet.CLASSES
    box: Box


@dataclass(frozen=True)
class PlateAnnotation:
    box: Box
    text: str  # "" when only the box is known
    layout: str  # ONE_ROW, TWO_ROW, or "" when unknown
    chars: tuple[CharBox, ...] = ()


@dataclass(frozen=True)
class Photo:
    path: Path
    width: int
    height: int
    plates: tuple[PlateAnnotation, ...]

    @property
    def name(self) -> str:
        return self.path.name


def _bndbox(obj: ET.Element, xml_path: Path) -> Box:
    bb = obj.find("bndbox")
    if bb is None:
        raise AnnotationError(xml_path, "object without bndbox")
    try:
        x0, y0, x1, y1 = (float(bb.findtext(k, "")) for k in ("xmin", "ymin", "xmax", "ymax"))
        return Box(x0, y0, x1, y1)
    except ValueError as e:
        raise AnnotationError(xml_path, f"bad bndbox: {e}") from e


def reading_order(chars: list[CharBox]) -> tuple[list[CharBox], int]:
    """Characters as printed (top row first, each row left to right) and the number of rows."""
    if not chars:
        return [], 0
    rows = assign_rows(np.array([c.box.center[0] for c in chars]),
                       np.array([c.box.center[1] for c in chars]),
                       np.array([c.box.height for c in chars]))
    order = sorted(range(len(chars)), key=lambda i: (rows[i], chars[i].box.center[0]))
    return [chars[i] for i in order], int(rows.max()) + 1


def read_voc(xml_path: str | Path, image_path: str | Path | None = None) -> Photo:
    """One photo's plates with their characters in reading order.

    ``text`` is spelled from the character boxes; the layout follows from their rows.
    """
    xml_path = Path(xml_path)
    try:
        root = ET.parse(xml_path).getroot()
    except (ET.ParseError, OSError) as e:
        raise AnnotationError(xml_path, str(e)) from e
    size = root.find("size")
    width = int(size.findtext("width", "0")) if size is not None else 0
    height = int(size.findtext("height", "0")) if size is not None else 0
    plates: list[Box] = []
    chars: list[CharBox] = []
    for obj in root.findall("object"):
        name = (obj.findtext("name") or "").strip()
        box = _bndbox(obj, xml_path)
        if name == "plate":
            plates.append(box)
        elif name in VOC_NAMES:
            chars.append(CharBox(VOC_NAMES[name], box))
        else:
            raise AnnotationError(xml_path, f"unknown object name {name!r}")
    out = []
    for plate in plates:
        mine = [c for c in chars if plate.contains_point(*c.box.center)]
        ordered, n_rows = reading_order(mine)
        out.append(PlateAnnotation(
            box=plate,
            text="".join(c.label for c in ordered),
            layout=(TWO_ROW if n_rows == 2 else ONE_ROW) if ordered else "",
            chars=tuple(ordered),
        ))
    if image_path is None:
        image_path = xml_path.with_name(root.findtext("filename") or xml_path.stem + ".jpg")
    return Photo(Path(image_path), width, height, tuple(out))


def read_plates_csv(csv_path: str | Path) -> dict[str, list[PlateAnnotation]]:
    """``image,xmin,ymin,xmax,ymax,text[,layout]`` rows, grouped by image file name."""
    csv_path = Path(csv_path)
    out: dict[str, list[PlateAnnotation]] = {}
    try:
        with csv_path.open(newline="", encoding="utf-8") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                try:
                    box = Box(*(float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax")))
                    plate = PlateAnnotation(box, row["text"].strip(), row.get("layout") or "")
                except (KeyError, TypeError, ValueError) as e:
                    raise AnnotationError(csv_path, f"line {n}: {e}") from e
                out.setdefault(row["image"], []).append(plate)
    except OSError as e:
        raise AnnotationError(csv_path, str(e)) from e
    return out


def load_dataset(root: str | Path) -> list[Photo]:
    """All photos of a ``mongolian-alpr``-style folder (``images/*.xml`` + ``plates.csv``).

    Plate text and layout come from ``plates.csv`` (checked by eye); the character boxes come
    from the XML. A mismatch between the two is an error, so a bad annotation cannot slip in.
    """
    root = Path(root)
    images = root / "images"
    csv_plates = read_plates_csv(root / "plates.csv")
    photos = []
    for xml_path in sorted(images.glob("*.xml"), key=_natural_key):
        photo = read_voc(xml_path, images / (xml_path.stem + ".jpg"))
        truth = csv_plates.get(photo.name, [])
        merged = []
        for plate in photo.plates:
            match = [t for t in truth if t.box.iou(plate.box) > 0.9]
            if len(match) != 1:
                raise AnnotationError(xml_path, f"plate {plate.box.as_list()} not in plates.csv")
            t = match[0]
            if plate.chars and plate.text != t.text:
                raise AnnotationError(xml_path, f"characters spell {plate.text!r}, "
                                      f"plates.csv says {t.text!r}")
            merged.append(PlateAnnotation(plate.box, t.text, t.layout, plate.chars))
        if len(merged) != len(truth):
            raise AnnotationError(xml_path, "plates.csv lists plates the XML does not have")
        photos.append(Photo(photo.path, photo.width, photo.height, tuple(merged)))
    return photos


def _natural_key(p: Path) -> tuple[int, str]:
    return (int(p.stem), p.stem) if p.stem.isdigit() else (1 << 30, p.stem)
