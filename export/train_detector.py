"""Train the plate detector from scratch on the training photos plus synthetic scenes.

    python -m export.train_detector --minutes 75 --out runs/detector

Writes ``last.keras`` after every epoch and ``log.csv`` with the validation AP50/recall of
each epoch (full validation frames through the runtime's letterbox and decode).
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from edge_alpr.annotations import Photo  # noqa: E402
from edge_alpr.detector import Detection, Detector, decode, letterbox  # noqa: E402
from edge_alpr.geometry import Box  # noqa: E402
from edge_alpr.metrics import DetectionScore, detection_score  # noqa: E402
from edge_alpr.session import OnnxModel  # noqa: E402

from .data import photos, read_gray, split  # noqa: E402
from .detector_data import NEAR_PLATE, Frame, make_batch  # noqa: E402
from .detector_model import DEFAULT_THRESHOLD, INPUT_HW, STRIDE, build_detector  # noqa: E402
from .tf_extra import keras  # noqa: E402
from .training import fit_epochs, setup  # noqa: E402

ops = keras.ops

SCENE_DIR = Path("cache/scenes")


def detector_loss(y_true, y_pred):
    """Penalty-reduced focal loss on the heatmap + L1 on log size and offset."""
    gt, p = y_true[..., 0], ops.clip(y_pred[..., 0], 1e-4, 1 - 1e-4)
    centre = y_true[..., 5]
    n = ops.maximum(ops.sum(centre), 1.0)
    pos = -ops.log(p) * (1 - p) ** 2 * centre
    neg = -ops.log(1 - p) * p**2 * (1 - gt) ** 4 * (1 - centre)
    focal = (ops.sum(pos) + ops.sum(neg)) / n
    size_mask = ops.cast(gt > 0.5, "float32")
    size = ops.sum(ops.abs(y_pred[..., 1:3] - y_true[..., 1:3]) * size_mask[..., None])
    size = size / ops.maximum(ops.sum(size_mask), 1.0)
    offset = ops.sum(ops.abs(y_pred[..., 3:5] - y_true[..., 3:5]) * centre[..., None]) / n
    return focal + size + offset


def load_frames(train: list[Photo], scene_dir: Path, real_share: float
                ) -> tuple[list[Frame], np.ndarray]:
    """The real training photos and the cached synthetic scenes, with sampling weights that
    give the real photos ``real_share`` of the samples."""
    real = [Frame(read_gray(p), np.array([pl.box.as_list() for pl in p.plates], np.float32))
            for p in train]
    synth = []
    for shard in sorted(scene_dir.glob("*.npz")):
        with np.load(shard) as z:  # each z[...] access decompresses the array: read once
            images, boxes, counts, scale = z["images"], z["boxes"], z["counts"], float(z["scale"])
        synth += [Frame(im, b[:n], scale) for im, b, n in zip(images, boxes, counts, strict=True)]
    if not synth:
        return real, np.full(len(real), 1 / len(real))
    w = np.concatenate([np.full(len(real), real_share / len(real)),
                        np.full(len(synth), (1 - real_share) / len(synth))])
    return real + synth, w


def mine_hard_negatives(frames: list[Frame], detector_path: Path,
                        threshold: float = 0.2) -> list[Frame]:
    """The frames with the detections of ``detector_path`` that overlap no plate attached as
    hard negatives."""
    detector = Detector(OnnxModel(detector_path, threads=2))
    out = []
    for f in frames:
        truth = [Box(*b) for b in f.boxes]
        hard = [d.box.as_list() for d in detector(f.image, threshold=threshold)
                if all(d.box.iou(t) < 0.1 for t in truth)]
        out.append(replace(f, hard=np.array(hard, np.float32).reshape(-1, 4)))
    return out


def predict_frames(model: keras.Model, gray_frames: list[np.ndarray], threshold: float
                   ) -> list[list[Detection]]:
    out = []
    for g in gray_frames:
        x, lb = letterbox(g, INPUT_HW)
        y = np.asarray(model(x[None, :, :, None], training=False))[0]
        out.append(decode(y, STRIDE, threshold, lb))
    return out


def evaluate(model: keras.Model, val: list[Photo], threshold: float = DEFAULT_THRESHOLD
             ) -> DetectionScore:
    frames = [read_gray(p) for p in val]
    dets = predict_frames(model, frames, threshold=0.05)
    return detection_score([[(d.box, d.score) for d in ds] for ds in dets],
                           [[pl.box for pl in p.plates] for p in val], threshold)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/detector"))
    ap.add_argument("--minutes", type=float, default=75.0, help="training time budget")
    ap.add_argument("--steps-per-epoch", type=int, default=100)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--real-share", type=float, default=0.35)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scenes", type=Path, default=SCENE_DIR)
    ap.add_argument("--near-plate", type=float, default=NEAR_PLATE,
                    help="share of crops centred near a plate (the rest are anywhere)")
    ap.add_argument("--init", type=Path, help="start from this checkpoint (fine-tuning)")
    ap.add_argument("--mine", type=Path, help="ONNX detector whose false positives on the "
                    "training frames become hard negatives")
    ap.add_argument("--near-hard", type=float, default=0.25,
                    help="share of crops centred on a hard negative (with --mine)")
    ap.add_argument("--camera-blur", action="store_true",
                    help="motion blur and defocus on a share of crops, as the plate check "
                         "trains with (export.detector_data.camera_blur)")
    ap.add_argument("--glare", action="store_true",
                    help="headlight reflections on a share of plates and crops "
                         "(export.detector_data.headlight_glare)")
    args = ap.parse_args()

    setup(args.threads, args.seed)
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)

    train, val = split(photos())
    frames, weights = load_frames(train, args.scenes, args.real_share)
    print(f"{len(train)} training photos, {len(frames) - len(train)} synthetic scenes, "
          f"{len(val)} validation photos", flush=True)

    model = build_detector((None, None))
    if args.init:
        model.set_weights(keras.models.load_model(args.init, compile=False).get_weights())
    # Time the first steps to fit a cosine schedule into the budget.
    near_hard = 0.0
    if args.mine:
        frames = mine_hard_negatives(frames, args.mine)
        near_hard = args.near_hard
        print(f"{sum(len(f.hard) for f in frames)} hard negatives in "
              f"{sum(len(f.hard) > 0 for f in frames)} frames", flush=True)
    batch_of = partial(make_batch, rng, frames, weights, args.batch, near_plate=args.near_plate,
                       near_hard=near_hard, blur=args.camera_blur,
                       glare=args.glare)
    probe = batch_of()
    model.compile(optimizer=keras.optimizers.Adam(args.lr), loss=detector_loss)
    model.train_on_batch(*probe)
    t0 = time.perf_counter()
    for _ in range(3):
        model.train_on_batch(*batch_of())
    step_s = (time.perf_counter() - t0) / 3
    epochs = max(1, int(args.minutes * 60 / (step_s * args.steps_per_epoch * 1.05)))
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, epochs * args.steps_per_epoch,
                                                      alpha=0.02, warmup_target=None)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=5.0), loss=detector_loss)
    print(f"{step_s:.2f} s/step → {epochs} epochs of {args.steps_per_epoch} steps", flush=True)

    with (args.out / "log.csv").open("w", newline="") as f:
        log = csv.writer(f)
        log.writerow(["epoch", "loss", "val_ap50", "val_recall", "val_fp", "minutes"])
        start = time.perf_counter()
        for epoch, loss in fit_epochs(model, batch_of, epochs, args.steps_per_epoch):
            score = evaluate(model, val)
            minutes = (time.perf_counter() - start) / 60
            log.writerow([epoch, f"{loss:.4f}", f"{score.ap50:.4f}",
                          f"{score.recall:.4f}", score.false_positives, f"{minutes:.1f}"])
            f.flush()
            print(f"epoch {epoch}/{epochs} loss {loss:.4f} val AP50 {score.ap50:.3f} "
                  f"recall {score.recall:.3f} FP {score.false_positives} [{minutes:.1f} min]",
                  flush=True)
            model.save(args.out / "last.keras")


if __name__ == "__main__":
    main()
