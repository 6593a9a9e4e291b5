"""Gate-camera frames end to end: the checked validation gate crops pasted into 1280×720 grey
scenes and read by the whole pipeline (detector, plate check, reader) under each condition.

    python -m export.eval_gate_frames [--reader both ...] [--condition night-ir ...] [--limit N]

The gate camera's held-back data are frames, while ``../shared`` has only its crops, and read as
crops (``export.eval_conditions``) the detector and its boxes play no part. Here each crop is
pasted at a seeded place into a scene made from a training photo (its own plates blanked, so
that they are not read instead; darkened for a night crop, as an infrared camera's scene is),
and the frame is degraded with the suite's gate-camera parameters, the pasted rectangle as the
plate. A plate is found when a reported plate's box holds the rectangle's centre, and read
exactly when that plate's text is the crop's label.

The scenes are made, not recorded: a pasted crop has sharp edges and no car around it. Compare
readers and models with it; it is no measure of the camera's accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge_alpr.annotations import Photo
from edge_alpr.geometry import Box
from edge_alpr.pipeline import BOTH, PlateReader, PlateResult

from .conditions import Condition, degrade_image
from .data import photos as all_photos
from .data import read_gray, split
from .eval_conditions import (
    LabelledCrop,
    ReaderUnavailable,
    add_suite_arguments,
    chosen_conditions,
    open_reader,
    validation_data,
)

FRAME_HW = (720, 1280)
# A crop darker than this on average was taken at night; its scene is darkened by NIGHT_GAIN.
NIGHT_MEAN = 90
NIGHT_GAIN = 0.25
SEED = 0


@dataclass(frozen=True, eq=False)
class GateFrame:
    name: str  # the crop's
    image: np.ndarray  # gray uint8, FRAME_HW
    plate: Box  # where the crop was pasted
    text: str


def scene(photo: Photo, gray: np.ndarray) -> np.ndarray:
    """A FRAME_HW grey scene from a photo, its annotated plates filled with its mean grey."""
    h, w = FRAME_HW
    out = cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA)
    s = w / gray.shape[1]
    fill = int(out.mean())
    for plate in photo.plates:
        x0, y0, x1, y1 = plate.box.scale(s).pad(0.05).clamp(w, h).to_int()
        out[y0:y1, x0:x1] = fill
    return out


def paste(crops: Sequence[LabelledCrop], scenes: Sequence[np.ndarray], seed: int = SEED
          ) -> list[GateFrame]:
    """Crop k pasted into scene k mod len(scenes) at a seeded place in the lower part of the
    frame, where a gate camera sees plates."""
    rng = np.random.default_rng(seed)
    fh, fw = FRAME_HW
    frames = []
    for k, c in enumerate(crops):
        h, w = c.image.shape[:2]
        if h > fh // 3 or w > fw // 2:
            raise ValueError(f"crop {c.name} ({w}×{h}) is too large for a {fw}×{fh} frame")
        image = scenes[k % len(scenes)].copy()
        if c.image.mean() < NIGHT_MEAN:
            image = (image * NIGHT_GAIN).astype(np.uint8)
        x = int(rng.uniform(0.08 * fw, fw - w - 0.08 * fw))
        y = int(rng.uniform(0.4 * fh, fh - h - 0.07 * fh))
        image[y:y + h, x:x + w] = c.image
        frames.append(GateFrame(c.name, image, Box(x, y, x + w, y + h), c.text))
    return frames


def pasted_read(frame: GateFrame, reads: Sequence[PlateResult]) -> PlateResult | None:
    """The first of ``reads`` (a frame's, best first) whose box holds the pasted plate's
    centre: the plate found; None when none does."""
    return next((p for p in reads if p.box.contains_point(*frame.plate.center)), None)


def score_frames(reader: PlateReader, frames: Sequence[GateFrame], condition: Condition
                 ) -> tuple[int, int, list[tuple[str, str, str]]]:
    """Plates found, plates read exactly, and the misses (name, label, read or "")."""
    found = exact = 0
    misses = []
    for f in frames:
        image = degrade_image(condition, f.image, [f.plate], f.name, photo=False)
        hit = pasted_read(f, reader.read(image))
        read = hit.text if hit else ""
        found += hit is not None
        exact += read == f.text
        if read != f.text:
            misses.append((f.name, f.text, read))
    return found, exact, misses


def validation_frames(limit: int | None = None) -> list[GateFrame]:
    """The checked validation gate crops pasted into scenes of the training photos."""
    _, crops, _ = validation_data(photos=False, limit=limit)
    train = split(all_photos())[0]
    return paste(crops, [scene(p, read_gray(p)) for p in train])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_suite_arguments(ap, BOTH)
    ap.add_argument("--limit", type=int, help="only the first N crops")
    ap.add_argument("--misses", action="store_true", help="list every miss")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    frames = validation_frames(args.limit)
    if not frames:
        print("no gate crops: ../shared/data/gate-crops is missing", file=sys.stderr)
        return 1
    print(f"{len(frames)} gate crops in {FRAME_HW[1]}×{FRAME_HW[0]} scenes\n\n"
          "| condition | reader | found | exact |\n|---|---|---|---|")
    for name in args.readers or [BOTH]:
        try:
            reader = open_reader(name, args.threads, args.precision)
        except ReaderUnavailable as e:
            print(f"| - | {name} | unavailable: {e} | |")
            continue
        for condition in chosen_conditions(args.conditions):
            found, exact, misses = score_frames(reader, frames, condition)
            n = len(frames)
            print(f"| {condition.name} | {name} | {found}/{n} ({found / n:.0%}) | "
                  f"{exact}/{n} ({exact / n:.0%}) |", flush=True)
            if args.misses:
                print("\n".join(f"|  | miss | {m[0]} {m[1]} | {m[2] or '-'} |" for m in misses))
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
