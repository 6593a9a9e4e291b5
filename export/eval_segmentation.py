"""How many annotated characters the segmentation finds, per split and layout.

    python -m export.eval_segmentation [--misses]

A character counts as found when a segmented box overlaps its annotated box with IoU ≥ 0.5
(one-to-one); boxes matching no character are extras.
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
from export.data import photos, plate_crops, split

MIN_IOU = 0.5


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


def segmented_plates(photo_list: list[Photo]) -> Iterator[SegmentedPlate]:
    """Each annotated plate cut as the runtime cuts it, with its segmentation."""
    for photo, plate, crop in plate_crops(photo_list, CROP_PAD):
        x0, y0, _, _ = plate.box.pad(CROP_PAD).clamp(photo.width, photo.height).to_int()
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
    args = ap.parse_args()
    train, val = split(photos())
    for name, photo_list in (("train", train), ("validation", val)):
        tallies: dict[str, Tally] = {}
        for sp in segmented_plates(photo_list):
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
