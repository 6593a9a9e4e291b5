"""Export a trained detector to fp32 and INT8 ONNX, check parity, and score both on the
validation photos through the runtime's Detector.

    python -m export.export_detector --checkpoint runs/detector/last.keras --out models

Writes ``detector_fp32.onnx``, ``detector_int8.onnx`` and ``detector.json`` (metrics, sizes,
sha256) into ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from edge_alpr.detector import Detector, letterbox  # noqa: E402
from edge_alpr.metrics import detection_score, threshold_sweep  # noqa: E402
from edge_alpr.session import OnnxModel  # noqa: E402

from .data import photos, read_gray, split  # noqa: E402
from .detector_model import DEFAULT_THRESHOLD, INPUT_HW, STRIDE, build_detector  # noqa: E402
from .onnx_export import export_onnx, max_abs_diff, quantize_int8  # noqa: E402
from .tf_extra import keras  # noqa: E402
from .train_detector import SCENE_DIR  # noqa: E402

N_CALIBRATION = 32


def calibration_frames(rng: np.random.Generator) -> list[np.ndarray]:
    """Letterboxed training photos and synthetic scenes, as the detector sees them."""
    train, _ = split(photos())
    frames = [read_gray(p) for p in train]
    shards = sorted(SCENE_DIR.glob("*.npz"))
    if shards:
        with np.load(shards[0]) as z:
            images = z["images"]
        frames += list(images[rng.choice(len(images), N_CALIBRATION // 3, replace=False)])
    picked = rng.choice(len(frames), min(N_CALIBRATION, len(frames)), replace=False)
    return [letterbox(frames[i], INPUT_HW)[0][None, :, :, None] for i in picked]


SWEEP = tuple(round(t, 2) for t in np.arange(0.2, 0.81, 0.05))


def score(path: Path, threshold: float) -> dict[str, object]:
    """AP50, recall and false positives on the validation photos at ``threshold``, and the
    recall / false-positive trade-off over :data:`SWEEP` to show where it was chosen."""
    _, val = split(photos())
    detector = Detector(OnnxModel(path, threads=2))
    preds = [[(d.box, d.score) for d in detector(read_gray(p), threshold=0.05)] for p in val]
    truth = [[pl.box for pl in p.plates] for p in val]
    s = detection_score(preds, truth, threshold)
    return {"ap50": round(s.ap50, 4), "recall": round(s.recall, 4),
            "false_positives": s.false_positives, "plates": s.plates, "images": s.images,
            "sweep": threshold_sweep(preds, truth, SWEEP)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", type=Path, default=Path("runs/detector/last.keras"))
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = ap.parse_args()
    rng = np.random.default_rng(0)

    trained = keras.models.load_model(args.checkpoint, compile=False)
    model = build_detector(INPUT_HW)  # the same layers with the deployment input size
    model.set_weights(trained.get_weights())
    metadata = {"input_height": INPUT_HW[0], "input_width": INPUT_HW[1], "stride": STRIDE,
                "score_threshold": args.threshold, "input": "uint8 gray NHWC, letterboxed",
                "output": "heat, log_w, log_h, offset_x, offset_y (stride units)",
                "checkpoint": args.checkpoint.name}
    fp32 = export_onnx(model, args.out / "detector_fp32.onnx", (1, *INPUT_HW, 1),
                       {**metadata, "precision": "fp32"})
    calib = calibration_frames(rng)
    parity = max_abs_diff(model, fp32, calib[:4])
    int8 = quantize_int8(fp32, args.out / "detector_int8.onnx", calib, float_first_conv=True)

    report = {"parity_max_abs_diff": parity, "threshold": args.threshold,
              "input_hw": list(INPUT_HW), "stride": STRIDE}
    for name, path in (("fp32", fp32), ("int8", int8)):
        report[name] = {"file": path.name, "bytes": path.stat().st_size,
                        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                        "validation": score(path, args.threshold)}
    (args.out / "detector.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
