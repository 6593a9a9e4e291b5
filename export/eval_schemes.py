"""The segmentation reader on rendered plates, per colour scheme and layout.

    python -m export.eval_schemes [--plates 40] [--seed 5]

Each plate is rendered and degraded as for training (``export.synth.crop``), cut with the
runtime's margin around its true box, segmented, classified by the shipped character model
(INT8, as ``PlateReader`` runs it) and decoded. Prints, per scheme and layout, the share of
characters the segmentation finds (IoU ≥ 0.5) and of plates read exactly. The same seed
draws the same plates, so runs compare.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from edge_alpr.annotations import ONE_ROW, TWO_ROW
from edge_alpr.detector import Detection
from edge_alpr.geometry import Box
from edge_alpr.metrics import match
from edge_alpr.models import CHARS, INT8, bundled_model
from edge_alpr.pipeline import read_plate
from edge_alpr.recognizer import Recognizer
from edge_alpr.segment import CROP_PAD, segment
from edge_alpr.session import OnnxModel

from .eval_segmentation import MIN_IOU
from .synth.crop import render_plate_crop
from .synth.plate import SCHEMES


@dataclass(frozen=True)
class SchemeScore:
    scheme: str
    layout: str
    plates: int
    chars_found: float  # share of the true characters the segmentation finds
    exact: float  # share of plates read exactly


def rendered(scheme_name: str, layout: str, n: int, seed: int
             ) -> Iterator[tuple[np.ndarray, Box, tuple[Box, ...], str]]:
    """(gray image, plate box, character boxes, text) of ``n`` rendered plates."""
    scheme = next(s for s in SCHEMES if s.name == scheme_name)
    rng = np.random.default_rng(seed)
    for _ in range(n):
        image, plate = render_plate_crop(rng, layout=layout, scheme=scheme)
        yield image, plate.box, tuple(c.box for c in plate.chars), plate.text


def score(scheme: str, layout: str, n: int, seed: int, recognizer: Recognizer) -> SchemeScore:
    found = total = exact = 0
    for image, box, chars, text in rendered(scheme, layout, n, seed):
        x0, y0, x1, y1 = box.pad(CROP_PAD).clamp(image.shape[1], image.shape[0]).to_int()
        seg = segment(image[y0:y1, x0:x1])
        hit = match([c.shift(-x0, -y0) for c in chars], [Box(*b) for b in seg.boxes], MIN_IOU)
        found += int((np.asarray(hit) >= 0).sum())
        total += len(chars)
        exact += read_plate(image, Detection(box, 1.0), recognizer).text == text
    return SchemeScore(scheme, layout, n, found / max(total, 1), exact / max(n, 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plates", type=int, default=40, help="per scheme and layout")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    recognizer = Recognizer(OnnxModel(bundled_model(CHARS, INT8).path, threads=1))
    for scheme in SCHEMES:
        for layout in (ONE_ROW, TWO_ROW):
            s = score(scheme.name, layout, args.plates, args.seed, recognizer)
            print(f"{s.scheme:<16} {s.layout:<8} plates {s.plates:3d}  characters found "
                  f"{s.chars_found:6.1%}  exact {s.exact:6.1%}", flush=True)


if __name__ == "__main__":
    main()
