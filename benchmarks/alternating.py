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


def degraded(frames: Sequence[Frame], condition_name: str) -> list[Frame]:
    """``frames`` under the condition suite's ``condition_name`` as it falls on a photo frame
    (:mod:`export.conditions`), with each frame's annotated plates (the sample's JSON, the
    photos' annotations) where a condition needs them."""
    import json

    from edge_alpr.geometry import Box
    from export.conditions import SUITE, degrade_image
    from export.data import photos

    suite = {c.name: c for c in SUITE}
    if condition_name not in suite:
        raise ValueError(f"no condition {condition_name!r} in the suite: {', '.join(suite)}")
    condition = suite[condition_name]
    plates = ({p.name: [pl.box for pl in p.plates] for p in photos()}
              if any(not f.sample for f in frames) else {})
    for path in sample_frames():
        plates[path.name] = [Box(*t["box"]) for t in
                             json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))]
    return [Frame(f"{condition_name}-{f.name}",
                  degrade_image(condition, f.image, plates[f.name], f.name, photo=True), f.sample)
            for f in frames]


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
