"""How many annotated characters the segmentation finds, per split and layout.

    python -m export.eval_segmentation [--misses] [--jitter DRAWS]

A character counts as found when a segmented box overlaps its annotated box with IoU ≥ 0.5
(one-to-one); boxes matching no character are extras. ``--jitter`` cuts each plate from
DRAWS randomly scaled and shifted copies of its annotated box instead, as scattered as the
detector's boxes are (a fixed seed, so runs compare).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from edge_alpr.alphabet import REJECT
from edge_alpr.annotations import Photo, PlateAnnotation
from edge_alpr.geometry import Box
from edge_alpr.metrics import match
from edge_alpr.segment import CROP_PAD, CharBoxes, segment
from export.data import photos, read_gray, split

MIN_IOU = 0.5
# Detector boxes against annotated ones on the training photos: width ratio p10-p90
# 0.86-1.08, height 0.89-1.21, centres off by a few percent; the jitter spans a bit more.
JITTER_WIDTH = (0.85, 1.15)
JITTER_HEIGHT = (0.85, 1.2)
JITTER_SHIFT = 0.05  # of the box's width / height, either way
JITTER_SEED = 0


@dataclass(frozen=True)
class SegmentedPlate:
    photo: Photo
    plate: PlateAnnotation
    crop: np.ndarray  # gray, the plate box grown by CROP_PAD
    truth: tuple[Box, ...]  # annotated character boxes in crop pixels, reading order
    chars: CharBoxes

    @property
    def labels(self) -> list[str]:
        """The annotated character each segmented box shows, or REJECT."""
        hit = match([Box(*b) for b in self.chars.boxes], self.truth, MIN_IOU)
        return [self.plate.chars[j].label if j >= 0 else REJECT for j in hit]


def jittered(box: Box, rng: np.random.Generator) -> Box:
    """``box`` scaled and shifted about its centre as a detector's box might be."""
    (cx, cy), w, h = box.center, box.width, box.height
    w2 = w * rng.uniform(*JITTER_WIDTH) / 2
    h2 = h * rng.uniform(*JITTER_HEIGHT) / 2
    cx += w * rng.uniform(-JITTER_SHIFT, JITTER_SHIFT)
    cy += h * rng.uniform(-JITTER_SHIFT, JITTER_SHIFT)
    return Box(cx - w2, cy - h2, cx + w2, cy + h2)


def segmented_plates(photo_list: list[Photo], jitter_draws: int = 0
                     ) -> Iterator[SegmentedPlate]:
    """Each annotated plate cut as the runtime cuts a detector box, with its segmentation:
    from the annotated box, or from ``jitter_draws`` jittered copies of it."""
    rng = np.random.default_rng(JITTER_SEED)
    for photo in photo_list:
        gray = read_gray(photo)
        for plate in photo.plates:
            boxes = ([jittered(plate.box, rng) for _ in range(jitter_draws)] if jitter_draws
                     else [plate.box])
            for box in boxes:
                x0, y0, x1, y1 = box.pad(CROP_PAD).clamp(photo.width, photo.height).to_int()
                crop = gray[y0:y1, x0:x1]
                truth = tuple(c.box.shift(-x0, -y0) for c in plate.chars)
                yield SegmentedPlate(photo, plate, crop, truth, segment(crop))


@dataclass(frozen=True)
class Tally:
    chars: int = 0
    found: int = 0
    extras: int = 0
    plates: int = 0

    def add(self, chars: int, found: int, extras: int) -> Tally:
        return Tally(self.chars + chars, self.found + found, self.extras + extras,
                     self.plates + 1)

    def line(self, name: str) -> str:
        recall = self.found / max(self.chars, 1)
        return (f"{name:<16} plates {self.plates:3d}  chars {self.chars:4d}  found "
                f"{self.found:4d}  recall {recall:6.1%}  extras {self.extras:3d} "
                f"({self.extras / max(self.plates, 1):.2f}/plate)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--misses", action="store_true", help="list the characters not found")
    ap.add_argument("--jitter", type=int, default=0, metavar="DRAWS",
                    help="cut each plate from DRAWS jittered copies of its box")
    ap.add_argument("--split", choices=("train", "val", "both"), default="both")
    args = ap.parse_args()
    train, val = split(photos())
    chosen = [("train", train), ("validation", val)]
    if args.split != "both":
        chosen = chosen[:1] if args.split == "train" else chosen[1:]
    for name, photo_list in chosen:
        tallies: dict[str, Tally] = {}
        for sp in segmented_plates(photo_list, args.jitter):
            labels = sp.labels
            found = sum(label != REJECT for label in labels)
            for key in (name, f"  {sp.plate.layout}"):
                tallies[key] = tallies.get(key, Tally()).add(len(sp.truth), found,
                                                             len(labels) - found)
            if args.misses and found < len(sp.truth):
                print(f"  miss {sp.photo.name} {sp.plate.text}: found "
                      f"{''.join(lb for lb in labels if lb != REJECT)!r}")
        for key in sorted(tallies, key=lambda k: (k.startswith(" "), k)):
            print(tallies[key].line(key))


if __name__ == "__main__":
    main()
