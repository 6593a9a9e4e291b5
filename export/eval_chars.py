"""Character accuracy of the shipped character models on the validation photos' real crops.

    python -m export.eval_chars

The crops are the ones the runtime's segmentation cuts from the annotated validation plate
boxes, labelled by IoU with the annotated characters (``export.char_data``); the fp32 and
INT8 files are scored on the same crops.
"""

from __future__ import annotations

from edge_alpr.models import CHARS, FP32, INT8, bundled_model
from edge_alpr.recognizer import Recognizer
from edge_alpr.session import OnnxModel

from .char_data import real_val_set, scores


def main() -> None:
    images, labels = real_val_set()
    for precision in (FP32, INT8):
        s = scores(Recognizer(OnnxModel(bundled_model(CHARS, precision).path))(images), labels)
        print(f"{precision}: character accuracy {s['char_accuracy']:.1%} of {s['chars']}, "
              f"reject recall {s['reject_recall']:.1%} of {s['rejects']}; "
              f"errors {', '.join(s['errors']) or 'none'}")


if __name__ == "__main__":
    main()
