"""The real photos: where they are, the train/validation split by car, and crops for training."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from edge_alpr.annotations import CharBox, Photo, PlateAnnotation, load_dataset

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mongolian-alpr"
SPLIT_SEED = 7
VAL_FRACTION = 0.25
# Training cuts a real photo's plate with this much of its surroundings (fraction of the box
# per side): room for the recognizer's box jitter and rotation.
PLATE_CONTEXT = 0.3


def photos(root: Path = DATA_DIR) -> list[Photo]:
    return load_dataset(root)


def car_groups(all_photos: list[Photo]) -> list[list[Photo]]:
    """Photos that share a plate text show the same car: union them into one group."""
    parent = list(range(len(all_photos)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_seen: dict[str, int] = {}
    for i, photo in enumerate(all_photos):
        for plate in photo.plates:
            j = first_seen.setdefault(plate.text, i)
            parent[find(i)] = find(j)
    groups: dict[int, list[Photo]] = {}
    for i, photo in enumerate(all_photos):
        groups.setdefault(find(i), []).append(photo)
    return list(groups.values())


def split(all_photos: list[Photo], seed: int = SPLIT_SEED,
          val_fraction: float = VAL_FRACTION) -> tuple[list[Photo], list[Photo]]:
    """Deterministic (train, validation) split of whole car groups, about ``val_fraction``
    of the photos in validation. A plate text never appears on both sides."""
    groups = sorted(car_groups(all_photos), key=lambda g: g[0].name)
    random.Random(seed).shuffle(groups)
    target = round(val_fraction * len(all_photos))
    train, val = [], []
    for group in groups:
        (val if len(val) + len(group) <= target else train).extend(group)
    key = lambda p: all_photos.index(p)  # noqa: E731 - keep the dataset's order
    return sorted(train, key=key), sorted(val, key=key)


def read_gray(photo: Photo) -> np.ndarray:
    image = cv2.imread(str(photo.path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FileNotFoundError(f"{photo.path}: cannot be read as an image")
    return image


def plate_crops(photo_list: list[Photo], pad: float = 0.0
                ) -> Iterator[tuple[Photo, PlateAnnotation, np.ndarray]]:
    """Each annotated plate cut from its photo (grayscale), grown by ``pad`` of its size."""
    for photo in photo_list:
        image = read_gray(photo)
        for plate in photo.plates:
            yield photo, plate, plate.box.pad(pad).crop(image).copy()


def char_crops(photo_list: list[Photo]) -> Iterator[tuple[CharBox, np.ndarray]]:
    """Each annotated character cut from its photo (grayscale), exactly at its box."""
    for photo in photo_list:
        image = read_gray(photo)
        for plate in photo.plates:
            for char in plate.chars:
                yield char, char.box.crop(image).copy()


def write_split_csv(photo_list: list[Photo], path: Path) -> None:
    """A plates CSV of ``photo_list`` with absolute image paths, for ``edge-alpr eval``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["image", "xmin", "ymin", "xmax", "ymax", "text", "layout"])
        for photo in photo_list:
            for plate in photo.plates:
                out.writerow([photo.path.resolve(), *(round(v) for v in plate.box.as_list()),
                              plate.text, plate.layout])


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Write the train/validation split as plates CSVs.")
    ap.add_argument("--out", type=Path, default=Path("out"))
    args = ap.parse_args()
    train, val = split(photos())
    write_split_csv(train, args.out / "train.csv")
    write_split_csv(val, args.out / "val.csv")
    print(f"{args.out / 'train.csv'}: {len(train)} photos; {args.out / 'val.csv'}: {len(val)}")
