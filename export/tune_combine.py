"""What BOTH's threshold costs and gives: ``edge_alpr.plate_ocr.WHOLE_SURE``, how sure a
whole-plate reading must be to be taken without a second look and without segmenting the
plate, replayed over a range.

    python -m export.tune_combine [--split train|val] [--sure 0.5 --sure 0.9 ...]

Each plate of the split (the gate camera's crops, the photos' annotated plates) is read once
by the segmentation path and, at each threshold, by the whole-plate reader (its second look
depends on the threshold); BOTH is then replayed with the pipeline's own rule
(:func:`read_both`). The table gives exact reads and how many plates the
segmentation path had to read (its cost).

It does not pick the threshold. On the training split the whole-plate model reads plates it
was trained on: it is sure of all 40 training photos' plates and more often right than on
unseen plates, so lower thresholds look better there than they are. With the shipped model,
training favoured 0.5 (3,012 of 3,261 gate crops against 3,000 at 0.9) while validation read
6 gate crops and 1 photo fewer at 0.5 than at 0.9 (model card, "Whole-plate recognizer").
WHOLE_SURE stays 0.9, the value set before any of this was measured.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from edge_alpr.pipeline import SEGMENTS, WHOLE, PlateReader, PlateResult, read_both
from edge_alpr.plate_ocr import PlateOCR
from export.eval_readers import plates_to_read, read_items

SURE_GRID: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995)


def replay(wholes: Sequence[PlateResult], segments: Sequence[PlateResult], sure: float
           ) -> tuple[list[str], int]:
    """BOTH's texts at threshold ``sure`` and how many plates it segmented."""
    asked: list[PlateResult] = []

    def segmented(s: PlateResult) -> PlateResult:
        asked.append(s)
        return s

    texts = [read_both(w, lambda s=s: segmented(s), sure).text
             for w, s in zip(wholes, segments, strict=True)]
    return texts, len(asked)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=("train", "val"), default="train")
    ap.add_argument("--sure", type=float, action="append", help=f"default {SURE_GRID}")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    items = plates_to_read(args.split)
    segments = read_items(PlateReader(threads=args.threads, reader=SEGMENTS, min_chars=0),
                          items)
    whole = PlateReader(threads=args.threads, reader=WHOLE, min_chars=0)
    sets = {data: [i for i, it in enumerate(items) if it[0].startswith(data)]
            for data in ("gate", "photo")}
    print(f"{args.split} split\n\n| WHOLE_SURE | data | plates | exact | segmented |\n"
          "|---|---|---|---|---|")
    for sure in args.sure or SURE_GRID:
        whole.plate_ocr = PlateOCR(whole.plate_ocr.model, sure=sure)
        wholes = read_items(whole, items)
        for data, idx in sets.items():
            texts, n_seg = replay([wholes[i] for i in idx], [segments[i] for i in idx], sure)
            ok = sum(t == items[i][2] for t, i in zip(texts, idx, strict=True))
            print(f"| {sure:g} | {data} | {len(idx)} | {ok} ({ok / len(idx):.1%}) | "
                  f"{n_seg} ({n_seg / len(idx):.0%}) |")


if __name__ == "__main__":
    main()
