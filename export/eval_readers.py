"""Each reader on the real validation plates: exact reads per layout, character accuracy, and
the per-character table of the look-alikes (which truth character was read as which).

    python -m export.eval_readers [--reader segments --reader whole --reader both]
                                  [--json out/readers.json] [--sheets out/reader_misses]

Plates: the checked gate validation crops (``export.gate_data``, read with
``PlateReader.read_crop``) and the validation photos' annotated plates (read from their
annotated boxes, so detection plays no part). ``--sheets`` writes each reader's missed gate
crops with truth and reading (to an ignored folder: they are real crops).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from edge_alpr.detector import Detection
from edge_alpr.metrics import edit_distance
from edge_alpr.pipeline import READERS, PlateReader, PlateResult
from export.data import photos, read_gray, split
from export.gate_data import gate_split

# The look-alike groups the reading issue tracks (each character against the others).
GROUPS: tuple[str, ...] = ("ЛДА", "УҮ", "ЗЭ3", "ОӨ0", "БВ8", "НИПМ", "ЯН")


@dataclass
class ReaderScore:
    plates: int = 0
    exact: int = 0
    chars_right: float = 0.0
    by_layout: dict[str, list[int]] = field(default_factory=dict)  # layout -> [exact, plates]
    confusions: Counter = field(default_factory=Counter)  # "truth→read" of aligned characters
    seen: Counter = field(default_factory=Counter)  # truth characters read at equal length
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (name, truth, read)

    def add(self, name: str, layout: str, truth: str, read: str) -> None:
        self.plates += 1
        self.exact += read == truth
        self.chars_right += max(0.0, 1 - edit_distance(read, truth) / len(truth))
        row = self.by_layout.setdefault(layout, [0, 0])
        row[0] += read == truth
        row[1] += 1
        if len(read) == len(truth):
            self.seen.update(truth)
            self.confusions.update(f"{t}→{r}" for t, r in zip(truth, read, strict=True)
                                   if t != r)
        if read != truth:
            self.misses.append((name, truth, read))


def plates_to_read(which: str = "val") -> list[tuple[str, str, str, object]]:
    """(name, layout, truth, item): gate crops (item: path) and photo plates (item: (photo,
    annotation)) of the ``which`` splits ("train" or "val")."""
    k = {"train": 0, "val": 1}[which]
    out: list[tuple[str, str, str, object]] = []
    for c in gate_split()[k]:
        out.append((f"gate/{c.path.name}", c.layout, c.text, c.path))
    for photo in split(photos())[k]:
        for plate in photo.plates:
            out.append((f"photo/{photo.path.name}", plate.layout, plate.text, (photo, plate)))
    return out


def read_items(reader: PlateReader, items: Sequence[tuple[str, str, str, object]]
               ) -> list[PlateResult | None]:
    """``reader``'s reading of each item (:func:`plates_to_read`): a gate crop with
    ``PlateReader.read_crop``, a photo plate from its annotated box (each photo decoded once);
    None where the reader reported nothing."""
    out: list[PlateResult | None] = []
    frames: dict[Path, object] = {}
    for _, _, _, item in items:
        if isinstance(item, Path):
            out.append(reader.read_crop(cv2.imread(str(item), cv2.IMREAD_GRAYSCALE), item))
        else:
            photo, plate = item
            if photo.path not in frames:
                frames[photo.path] = read_gray(photo)
            reads = reader.read_detections(frames[photo.path], [Detection(plate.box, 1.0)])
            out.append(reads[0] if reads else None)
    return out


def evaluate_reader(reader: PlateReader, items: Sequence[tuple[str, str, str, object]]
                    ) -> dict[str, ReaderScore]:
    """Scores per data set ("gate", "photos") of ``reader`` on ``items``."""
    scores = {"gate": ReaderScore(), "photos": ReaderScore()}
    for (name, layout, truth, item), read in zip(items, read_items(reader, items), strict=True):
        data = "gate" if isinstance(item, Path) else "photos"
        scores[data].add(name, layout, truth, read.text if read else "")
    return scores


def confusion_table(scores: dict[str, dict[str, ReaderScore]]) -> str:
    """Markdown: per reader and look-alike character, times seen and what it was read as."""
    lines = ["| reader | character | seen | read as (gate + photos) |", "|---|---|---|---|"]
    for reader, sets in scores.items():
        seen = sum((s.seen for s in sets.values()), Counter())
        conf = sum((s.confusions for s in sets.values()), Counter())
        for ch in dict.fromkeys("".join(GROUPS)):
            wrong = {k: v for k, v in conf.items() if k.startswith(ch + "→")}
            cell = ", ".join(f"{k} {v}" for k, v in sorted(wrong.items(), key=lambda x: -x[1]))
            lines.append(f"| {reader} | {ch} | {seen[ch]} | {cell or '-'} |")
    return "\n".join(lines)


def summary_table(scores: dict[str, dict[str, ReaderScore]]) -> str:
    lines = ["| reader | data | plates | exact | one-row | two-row | characters |",
             "|---|---|---|---|---|---|---|"]
    for reader, sets in scores.items():
        for data, s in sets.items():
            lay = {k: f"{v[0]}/{v[1]}" for k, v in s.by_layout.items()}
            lines.append(f"| {reader} | {data} | {s.plates} | {s.exact}/{s.plates} "
                         f"({s.exact / max(s.plates, 1):.1%}) | {lay.get('one-row', '-')} | "
                         f"{lay.get('two-row', '-')} | {s.chars_right / max(s.plates, 1):.1%} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reader", action="append", choices=READERS)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--sheets", type=Path)
    args = ap.parse_args(argv)
    items = plates_to_read()
    scores = {name: evaluate_reader(PlateReader(threads=args.threads, reader=name,
                                                min_chars=0), items)
              for name in args.reader or READERS}
    print(summary_table(scores))
    print()
    print(confusion_table(scores))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({r: {d: {**vars(s), "confusions": dict(s.confusions),
                                                 "seen": dict(s.seen)}
                                             for d, s in sets.items()}
                                         for r, sets in scores.items()},
                                        ensure_ascii=False, indent=1))
    if args.sheets:
        from export.gate_data import GATE_DIR
        from export.gate_sheet import write_sheets

        for reader, sets in scores.items():
            missed = [(GATE_DIR / "images" / n.split("/", 1)[1], [n, f"{t} read {r or '-'}"])
                      for n, t, r in sets["gate"].misses]
            for p in write_sheets(missed, args.sheets / reader):
                print(p)


if __name__ == "__main__":
    main()
