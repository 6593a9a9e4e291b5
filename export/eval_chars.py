"""Character accuracy of the character models on real crops: the validation photos' and the
gate crops' validation split, with the confusion table of the look-alike groups.

    python -m export.eval_chars [--models DIR]

Photo crops are the ones the runtime's segmentation cuts from the annotated validation plate
boxes, labelled by IoU with the annotated characters; gate crops are the validation split's
crops that segment into one box per slot, labelled by position (``export.char_data``). Gate
labels are the ones in ``export/gate_val_checked.csv`` where that has the crop, else the
machine-made ones: the line says how many were checked. ``--models`` scores other files
than the shipped ones (e.g. a training run's).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np

from edge_alpr.alphabet import CLASSES
from edge_alpr.models import CHARS, FP32, INT8, bundled_model, model_file_name
from edge_alpr.recognizer import Recognizer
from edge_alpr.session import OnnxModel

from .char_data import gate_val_set, real_val_set, scores
from .gate_data import CHECKED_VAL

# The look-alike groups issue 12 asks about: each character's readings within the table.
GROUPS = ("Л", "Д", "УҮ", "З3Э", "ОӨ0", "БВ", "НИПМ", "Я")


def confusions(probs: np.ndarray, labels: np.ndarray) -> list[str]:
    """One line per character of :data:`GROUPS`: how its crops were read (count per class)."""
    pred = probs.argmax(axis=1)
    lines = []
    for char in "".join(GROUPS):
        mine = pred[labels == CLASSES.index(char)]
        if len(mine) == 0:
            lines.append(f"  {char}: no crops")
            continue
        counts = np.bincount(mine, minlength=len(CLASSES))
        reads = ", ".join(f"{CLASSES[i]} {counts[i]}" for i in np.argsort(-counts)
                          if counts[i])
        lines.append(f"  {char}: {len(mine)} crops, read {reads}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, help="folder with chars_fp32/int8.onnx to score "
                    "instead of the shipped ones")
    args = ap.parse_args()
    sets = {"validation photos": real_val_set(), "gate validation": gate_val_set()}
    print("gate labels: " + (f"as checked in {CHECKED_VAL.name}" if CHECKED_VAL.is_file()
                             else "machine-made, NOT checked (no gate_val_checked.csv yet)"))
    for precision in (FP32, INT8):
        path = (args.models / model_file_name(CHARS, precision) if args.models
                else bundled_model(CHARS, precision).path)
        recognizer = Recognizer(OnnxModel(path, threads=1))
        every = []
        for name, (images, labels) in sets.items():
            probs = recognizer(images)
            every.append((probs, labels))
            s = scores(probs, labels)
            errors = Counter(s["errors"]).most_common()
            print(f"{precision} {name}: character accuracy {s['char_accuracy']:.1%} of "
                  f"{s['chars']}, reject recall {s['reject_recall']:.1%} of {s['rejects']}; "
                  f"errors {', '.join(f'{e} {n}' if n > 1 else e for e, n in errors) or 'none'}")
        probs, labels = (np.concatenate(v) for v in zip(*every, strict=True))
        print(f"{precision} look-alikes, photos and gate crops together:")
        print("\n".join(confusions(probs, labels)))


if __name__ == "__main__":
    main()
