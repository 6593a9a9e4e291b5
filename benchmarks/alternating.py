"""Frames to time on and the alternating timer the benchmarks share: every configuration
reads every frame in turn, the order rotating, so load from other jobs hits them alike."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from edge_alpr.bench import STAGES, TOTAL, sample_frames, time_frames
from edge_alpr.image import read_image
from edge_alpr.pipeline import PlateReader


@dataclass(frozen=True)
class Frame:
    name: str
    image: np.ndarray
    sample: bool  # a bundled synthetic frame, else a validation photo


def frames() -> list[Frame]:
    out = [Frame(p.name, read_image(p), True) for p in sample_frames()]
    from export.data import DATA_DIR, photos, read_gray, split

    if (DATA_DIR / "plates.csv").is_file():
        out += [Frame(p.name, read_gray(p), False) for p in split(photos())[1]]
    return out


def texts(reader: PlateReader, image: np.ndarray) -> tuple[str, ...]:
    return tuple(sorted(p.text for p in reader.read(image)))


def alternate(readers: Mapping[str, PlateReader], frames: Sequence[Frame], rounds: int,
              loads: list[float]) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per stage and in total, per pipeline: every frame of every round read by
    each pipeline in turn, the order rotated from frame to frame. Appends the 1-minute load
    average after each round to ``loads``."""
    ms: dict[str, dict[str, list[float]]] = {n: {s: [] for s in (*STAGES, TOTAL)}
                                             for n in readers}
    names = list(readers)
    for r in range(rounds):
        for j, frame in enumerate(frames):
            k = (r * len(frames) + j) % len(names)
            for name in names[k:] + names[:k]:
                for stage, v in time_frames(readers[name], [frame.image], 1, 0).items():
                    ms[name][stage] += v
        loads.append(os.getloadavg()[0])
        print(f"round {r + 1}/{rounds}: load {loads[-1]:.2f}", file=sys.stderr, flush=True)
    return ms
