"""Train the plate check (the detector's second stage) from scratch, export it to ONNX and
score the detector + check cascade on the validation photos.

    python -m export.train_verifier --minutes 12 --out runs/verifier --models models

Needs the synthetic scenes (``python -m export.make_scenes``) and the shipped detector, whose
candidates on the training frames are the check's hardest examples. Writes ``last.keras`` and
``log.csv`` into ``--out`` and ``plate_check_{fp32,int8}.onnx`` and ``plate_check.json``
(metrics, sizes, sha256) into ``--models``. Validation is printed each epoch, never used to
pick one: the last epoch is exported.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from edge_alpr.annotations import Photo  # noqa: E402
from edge_alpr.detector import Detection, Detector  # noqa: E402
from edge_alpr.geometry import Box  # noqa: E402
from edge_alpr.metrics import DetectionScore, detection_score, threshold_sweep  # noqa: E402
from edge_alpr.models import DETECTOR, FP32, INT8, VERIFIER, model_file_name, sha256_of  # noqa: E402
from edge_alpr.session import OnnxModel  # noqa: E402
from edge_alpr.verifier import apply_deltas, cascade, check_crops  # noqa: E402

from .data import photos, read_gray, split  # noqa: E402
from .onnx_export import export_onnx, max_abs_diff, quantize_int8  # noqa: E402
from .tf_extra import keras  # noqa: E402
from .train_detector import SCENE_DIR, load_frames  # noqa: E402
from .training import fit_minutes, setup, trained_or_loaded, training_args, write_report  # noqa: E402
from .verifier_data import CANDIDATE_THRESHOLD, UNANNOTATED, label_frames, make_batch  # noqa: E402
from .verifier_model import DEFAULT_THRESHOLD, INPUT_HW, MARGIN, build_verifier  # noqa: E402

ops = keras.ops

RUN_DIR = Path("runs/verifier")
SMOOTH_L1_BETA = 1 / 9
REAL_POSITIVE_SHARE = 0.3  # of plate samples drawn from the real photos' plates
SWEEP = tuple(round(t, 2) for t in np.arange(0.1, 0.71, 0.05))
N_CALIBRATION_BATCHES = 16


Candidates = list[tuple[list[Box], np.ndarray, np.ndarray, tuple[int, int]]]


def candidates(detector: Detector, photo_list: list[Photo], margin: float) -> Candidates:
    """Per photo: the detector's candidates, their scores, their check crops (``margin`` around
    each box), and the frame's width and height."""
    out = []
    for p in photo_list:
        gray = read_gray(p)
        dets = detector(gray, CANDIDATE_THRESHOLD)
        boxes = [d.box for d in dets]
        out.append((boxes, np.array([d.score for d in dets], np.float32),
                    check_crops(gray, boxes, INPUT_HW, margin)[..., None],
                    (gray.shape[1], gray.shape[0])))
    return out


def cascade_score(cands: Candidates, check: Callable[[np.ndarray], np.ndarray],
                  val: list[Photo], threshold: float
                  ) -> tuple[DetectionScore, dict[str, dict[str, float]], float]:
    """Detection score of detector × check (redrawn boxes, suppressed again as at run time)
    on the validation photos, its sweep, and the mean IoU of each plate's best box."""
    preds = []
    for boxes, scores, crops, (w, h) in cands:
        if not boxes:
            preds.append([])
            continue
        out = check(crops)
        dets = cascade([Detection(b, float(sc)) for b, sc in zip(boxes, scores, strict=True)],
                       out[:, 0], apply_deltas(boxes, out[:, 1:]), 0.0, w, h)
        preds.append([(d.box, d.score) for d in dets])
    truth = [[pl.box for pl in p.plates] for p in val]
    ious = [max((b.iou(t) for b, _ in ps), default=0.0)
            for ps, ts in zip(preds, truth, strict=True) for t in ts]
    return (detection_score(preds, truth, threshold), threshold_sweep(preds, truth, SWEEP),
            float(np.mean(ious)))


def check_loss(y_true, y_pred):
    """Binary cross-entropy on the plate probability + smooth L1 on a plate's box deltas
    (Fast R-CNN's, β = 1/9, weight 1)."""
    label = y_true[:, 0]
    p = ops.clip(y_pred[:, 0], 1e-6, 1 - 1e-6)
    bce = -(label * ops.log(p) + (1 - label) * ops.log(1 - p))
    err = ops.abs(y_true[:, 1:] - y_pred[:, 1:])
    smooth_l1 = ops.sum(ops.where(err < SMOOTH_L1_BETA, 0.5 * err**2 / SMOOTH_L1_BETA,
                                  err - 0.5 * SMOOTH_L1_BETA), axis=1)
    return ops.mean(bce + label * smooth_l1)


def train(args: argparse.Namespace, detector: Detector, cands: Candidates, val: list[Photo]
          ) -> keras.Model:
    rng = np.random.default_rng(args.seed)
    train_photos, _ = split(photos())
    frames, _ = load_frames(train_photos, SCENE_DIR, 0.5)
    # Scenes do not record which photo they were pasted into: the unannotated plates' places
    # are left out of every frame's negatives (a few random boxes lost, no plate called none).
    unannotated = np.array(sum(UNANNOTATED.values(), ()), np.float32).reshape(-1, 4)
    ignore = [unannotated * f.scale for f in frames]
    t0 = time.perf_counter()
    labelled = label_frames(rng, frames, detector, ignore)
    pos = [(b.frame, box) for b in labelled for box in b.positive]
    neg = [(b.frame, box) for b in labelled for box in b.negative]
    real = np.array([fi < len(train_photos) for fi, _ in pos])
    weights = np.where(real, REAL_POSITIVE_SHARE / real.sum(),
                       (1 - REAL_POSITIVE_SHARE) / (~real).sum())
    print(f"{len(frames)} frames: {len(pos)} plate boxes ({real.sum()} real), {len(neg)} others, "
          f"labelled in {time.perf_counter() - t0:.0f} s", flush=True)

    batch_of = partial(make_batch, rng, frames, pos, neg, args.batch, INPUT_HW, args.margin,
                       weights)
    model = build_verifier()
    model.compile(optimizer=keras.optimizers.Adam(args.lr), loss=check_loss)

    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "log.csv").open("w", newline="") as f:
        log = csv.writer(f)
        log.writerow(["epoch", "loss", "lr", "val_ap50", "val_recall", "val_fp",
                      "val_mean_iou", "minutes"])
        for epoch, loss, lr, seconds in fit_minutes(model, batch_of, args.minutes,
                                                    args.steps_per_epoch, args.lr):
            s, _, iou = cascade_score(cands, lambda x: np.asarray(model(x, training=False)),
                                      val, DEFAULT_THRESHOLD)
            row = [epoch, f"{loss:.4f}", f"{lr:.2e}", f"{s.ap50:.4f}", f"{s.recall:.4f}",
                   s.false_positives, f"{iou:.3f}", f"{seconds / 60:.1f}"]
            log.writerow(row)
            f.flush()
            print(*row, flush=True)
            model.save(args.out / "last.keras")
    return model


def export(model: keras.Model, out: Path, checkpoint: str, detector: Detector, cands: Candidates,
           val: list[Photo], threshold: float, margin: float) -> dict[str, object]:
    """fp32 and INT8 ONNX with input size, margin and threshold in their metadata; parity;
    the cascade's validation figures with each."""
    metadata = {"input_height": INPUT_HW[0], "input_width": INPUT_HW[1], "margin": margin,
                "score_threshold": threshold, "checkpoint": checkpoint,
                "input": "uint8 gray N×H×W×1 box crops (edge_alpr.verifier.check_crops)",
                "output": "N×5: plate probability (cascade score = detector score × it), box "
                          "deltas dx dy (box sizes) dw dh (log), edge_alpr.verifier.apply_deltas"}
    fp32 = export_onnx(model, out / model_file_name(VERIFIER, FP32), (None, *INPUT_HW, 1),
                       {**metadata, "precision": FP32})
    # Calibrated on the training photos' candidates, as the check meets them at run time.
    crops = np.concatenate([c for _, _, c, _ in candidates(detector, split(photos())[0], margin)
                            if len(c)])
    rng = np.random.default_rng(0)
    calibration = [crops[rng.choice(len(crops), 32, replace=False)]
                   for _ in range(N_CALIBRATION_BATCHES)]
    parity = max_abs_diff(model, fp32, calibration[:4])
    int8 = quantize_int8(fp32, out / model_file_name(VERIFIER, INT8), calibration)
    report: dict[str, object] = {"parity_max_abs_diff": parity, "threshold": threshold}
    for name, path in ((FP32, fp32), (INT8, int8)):
        run = OnnxModel(path, threads=1).run
        s, sweep, iou = cascade_score(cands, lambda x, run=run: run(x)[0], val, threshold)
        report[name] = {"file": path.name, "bytes": path.stat().st_size,
                        "sha256": sha256_of(path),
                        "validation": {"ap50": round(s.ap50, 4), "recall": round(s.recall, 4),
                                       "false_positives": s.false_positives,
                                       "mean_plate_iou": round(iou, 4), "sweep": sweep}}
    return report


def main() -> None:
    ap = training_args(__doc__.split("\n")[0], RUN_DIR, minutes=12.0, lr=2e-3,
                       threads=2)
    ap.add_argument("--detector", type=Path,
                    default=Path("models") / model_file_name(DETECTOR, FP32))
    ap.add_argument("--steps-per-epoch", type=int, default=100)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--margin", type=float, default=MARGIN,
                    help="context around each box, as a fraction of its size per side")
    args = ap.parse_args()
    setup(args.threads, args.seed)

    _, val = split(photos())
    detector = Detector(OnnxModel(args.detector, threads=args.threads))
    cands = candidates(detector, val, args.margin)
    model = trained_or_loaded(args.export_only, args.checkpoint,
                              lambda: train(args, detector, cands, val))
    report = export(model, args.models, args.checkpoint.name, detector, cands, val,
                    args.threshold, args.margin)
    (args.models / f"{VERIFIER}.json").write_text(json.dumps(report, indent=1) + "\n")
    write_report(args.out, report)


if __name__ == "__main__":
    main()
