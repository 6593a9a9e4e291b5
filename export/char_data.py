"""Character crops for the classifier, cut by the runtime's own segmentation.

Rendered plates (every colour scheme) and the training photos' plates are segmented exactly
as at run time; each component is labelled by IoU with the true character boxes, so training
crops look like the crops the classifier will be given. The gate-camera crops of the training
split add real characters labelled by position (``export.gate_chars``); their labels are
machine-made and are vetted by a character model before use (:func:`vet_gate`).

    python -m export.char_data [--plates 4000] [--seed 1]

writes ``cache/chars-synth-<plates>-<seed>.npz``, ``cache/chars-real-train.npz`` and
``cache/chars-gate-train.npz``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from edge_alpr.alphabet import CLASSES, REJECT
from edge_alpr.annotations import CharBox, Photo
from edge_alpr.geometry import Box
from edge_alpr.metrics import match
from edge_alpr.segment import CROP_PAD, CharBoxes, cut_chars, segment
from export.data import photos, split
from export.eval_segmentation import MIN_IOU, segmented_plates
from export.gate_chars import segmented
from export.gate_data import GateCrop, gate_split
from export.synth.crop import render_plate_crop

CACHE_DIR = Path(__file__).resolve().parent.parent / "cache"
# The classifier's input, height × width: the one place at training time; the runtime reads
# it from the model. Characters are about 0.6 as wide as tall; 36 rows keep the strokes of
# the larger plates' letters.
CHAR_HEIGHT = 36
CHAR_WIDTH = 20
# A component overlapping a character less than MIN_IOU but more than this is a piece or
# a merge of characters: neither a clean character nor clearly none, so it is left out.
MAX_REJECT_IOU = 0.25
# The gate labels' OCR confuses these letters with each other (the data's README: Л, Д read
# as А, Я and М as Н): a gate character labelled with one of them is used only where the
# vetting model reads it so too. Other labels are used unless the model gives them less
# than GATE_MIN_PROB (a wrong label, or a box off its character).
GATE_SUSPECT = "АНЛДЯМ"
GATE_MIN_PROB = 0.05


def label_components(boxes: np.ndarray, truth: Sequence[CharBox]) -> list[str | None]:
    """The class of each segmented box: its character, REJECT, or None when ambiguous."""
    found = [Box(*b) for b in boxes]
    hit = match(found, [c.box for c in truth], MIN_IOU)
    out: list[str | None] = []
    for b, j in zip(found, hit, strict=True):
        if j >= 0:
            out.append(truth[j].label)
        else:
            best = max((b.iou(c.box) for c in truth), default=0.0)
            out.append(REJECT if best < MAX_REJECT_IOU else None)
    return out


def _labelled(crop: np.ndarray, chars: CharBoxes, labels: list[str | None]
              ) -> tuple[np.ndarray, np.ndarray]:
    keep = [i for i, lb in enumerate(labels) if lb is not None]
    kept = chars.take(keep)
    images = cut_chars(crop, kept, CHAR_HEIGHT, CHAR_WIDTH)
    return images, np.array([CLASSES.index(labels[i]) for i in keep], np.int64)


def synthetic_crops(n_plates: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(images, class indices) of the segmented components of each rendered plate."""
    rng = np.random.default_rng(seed)
    for _ in range(n_plates):
        image, plate = render_plate_crop(rng)
        crop_box = plate.box.pad(CROP_PAD).clamp(image.shape[1], image.shape[0])
        x0, y0, _, _ = crop_box.to_int()
        crop = crop_box.crop(image)
        chars = segment(crop)
        truth = [CharBox(c.label, c.box.shift(-x0, -y0)) for c in plate.chars]
        yield _labelled(crop, chars, label_components(chars.boxes, truth))


def real_crops(photo_list: list[Photo]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(images, class indices) of the segmented components of each annotated plate."""
    for sp in segmented_plates(photo_list):
        truth = [CharBox(c.label, b) for c, b in zip(sp.plate.chars, sp.truth, strict=True)]
        yield _labelled(sp.crop, sp.chars, label_components(sp.chars.boxes, truth))


def gate_crops(crops: Sequence[GateCrop]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(images, class indices) of the gate crops that segment into one box per slot,
    labelled by position from their (machine-made) text."""
    for gp in segmented(crops):
        images = cut_chars(gp.image, gp.chars, CHAR_HEIGHT, CHAR_WIDTH)
        yield images, np.array([CLASSES.index(c) for c in gp.crop.text], np.int64)


def vet_gate(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Which gate crops to train on, given a vetting model's probabilities: suspect letters
    only where the model's best class is the label, others unless the model all but rules
    the label out."""
    best = probs.argmax(axis=1)
    suspect = np.isin(labels, [CLASSES.index(c) for c in GATE_SUSPECT])
    p_label = probs[np.arange(len(labels)), labels]
    return np.where(suspect, best == labels, p_label >= GATE_MIN_PROB)


def _stack(parts: Iterator[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    images, labels = zip(*parts, strict=True)
    return np.concatenate(images), np.concatenate(labels)


def synthetic_path(n_plates: int, seed: int) -> Path:
    return CACHE_DIR / f"chars-synth-{n_plates}-{seed}.npz"


REAL_TRAIN_PATH = CACHE_DIR / "chars-real-train.npz"
GATE_TRAIN_PATH = CACHE_DIR / "chars-gate-train.npz"


def load_or_build(path: Path, build: Callable[[], tuple[np.ndarray, np.ndarray]]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` from the cache file, built and saved first when missing."""
    if not path.is_file():
        images, labels = build()
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, images=images, labels=labels)
    with np.load(path) as f:
        return f["images"], f["labels"]


def synthetic_set(n_plates: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return load_or_build(synthetic_path(n_plates, seed),
                         lambda: _stack(synthetic_crops(n_plates, seed)))


def real_train_set() -> tuple[np.ndarray, np.ndarray]:
    return load_or_build(REAL_TRAIN_PATH, lambda: _stack(real_crops(split(photos())[0])))


def gate_train_set() -> tuple[np.ndarray, np.ndarray]:
    """Unvetted: labels as the gate data has them (see :func:`vet_gate`)."""
    return load_or_build(GATE_TRAIN_PATH, lambda: _stack(gate_crops(gate_split()[0])))


def gate_val_set() -> tuple[np.ndarray, np.ndarray]:
    """The gate validation split's crops, labels as in main (checked by eye where
    ``export/gate_val_checked.csv`` has them), never cached."""
    return _stack(gate_crops(gate_split()[1]))


def real_val_set() -> tuple[np.ndarray, np.ndarray]:
    """The validation photos' crops, never cached (kept apart from anything trained on)."""
    return _stack(real_crops(split(photos())[1]))


def scores(probs: np.ndarray, labels: np.ndarray) -> dict[str, float | int | list[str]]:
    """Character accuracy over crops of characters, reject rate over the rest, confusions."""
    pred = probs.argmax(axis=1)
    reject = CLASSES.index(REJECT)
    is_char = labels != reject
    wrong = [f"{CLASSES[t]}→{CLASSES[p]}" for t, p in zip(labels, pred, strict=True) if t != p]
    return {"char_accuracy": round(float((pred[is_char] == labels[is_char]).mean()), 4),
            "chars": int(is_char.sum()),
            "reject_recall": round(float((pred[~is_char] == reject).mean()), 4)
            if (~is_char).any() else float("nan"),
            "rejects": int((~is_char).sum()),
            "errors": sorted(wrong)}


def describe(labels: np.ndarray) -> str:
    counts = np.bincount(labels, minlength=len(CLASSES))
    return (f"{len(labels)} crops, {counts[CLASSES.index(REJECT)]} reject; fewest: "
            + ", ".join(f"{CLASSES[i]} {counts[i]}" for i in np.argsort(counts)[:5]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plates", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    _, labels = synthetic_set(args.plates, args.seed)
    print(f"synthetic: {describe(labels)} ({time.perf_counter() - t0:.0f} s)")
    _, labels = real_train_set()
    print(f"real train: {describe(labels)}")
    _, labels = gate_train_set()
    print(f"gate train (unvetted): {describe(labels)}")


if __name__ == "__main__":
    main()
