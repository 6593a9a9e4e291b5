"""Train the character classifier, export it to fp32 and INT8 ONNX, score both on the
validation photos' real character crops.

    python -m export.train_chars [--minutes 12] [--threads 1] [--gate-vet MODEL.onnx]
    python -m export.train_chars --export-only [--checkpoint runs/chars/last.keras]

Training data: crops the runtime segmentation cuts from rendered plates and from the
training photos (``export.char_data``); with ``--gate-vet``, also the gate crops' characters
of the training split that this character model vets (``export.char_data.vet_gate``: the
machine-made labels are checked against it). The last epoch is exported; the validation
photos and gate crops are only scored, never used to pick anything.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

from edge_alpr.alphabet import CLASSES, REJECT
from edge_alpr.models import CHARS, FP32, INT8, model_file_name, sha256_of
from edge_alpr.recognizer import Recognizer
from edge_alpr.session import OnnxModel

from .char_data import (
    CHAR_HEIGHT,
    CHAR_WIDTH,
    GATE_SUSPECT,
    gate_train_set,
    gate_val_set,
    real_train_set,
    real_val_set,
    scores,
    synthetic_set,
    vet_gate,
)
from .onnx_export import export_onnx, max_abs_diff, quantize_int8  # noqa: E402
from .tf_extra import keras, tf  # noqa: E402
from .training import setup, trained_or_loaded, training_args, write_report  # noqa: E402

SYNTH_PLATES = 6000
SYNTH_SEED = 1
HOLDOUT_PLATES = 300  # rendered with another seed, to watch training
HOLDOUT_SEED = 2
# The real training crops (~300) are repeated so they weigh about a tenth of an epoch.
REAL_REPEAT = 15
BATCH = 128
_BOLT_SHARE = 0.25  # of training crops that get a bolt drawn on
N_CALIBRATION_BATCHES = 16
RUN_DIR = Path("runs/chars")


def build_model(n_classes: int = len(CLASSES)) -> keras.Model:
    """A small VGG-like CNN: uint8 crops in (scaled inside), class probabilities out."""
    layers = keras.layers
    image = keras.Input((CHAR_HEIGHT, CHAR_WIDTH), dtype="uint8", name="image")
    x = layers.Rescaling(1 / 255)(image)
    x = layers.Reshape((CHAR_HEIGHT, CHAR_WIDTH, 1))(x)
    for filters in (16, 32, 64):
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            # Momentum 0.9: the default 0.99 lags behind on a training this short.
            x = layers.BatchNormalization(momentum=0.9)(x)
            x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    probs = layers.Dense(n_classes, activation="softmax", name="probs")(x)
    return keras.Model(image, probs, name="chars")


def _augment() -> keras.Sequential:
    """Small shifts and zooms: the segmentation's boxes are off by a pixel or two."""
    layers = keras.layers
    return keras.Sequential([layers.RandomTranslation(0.06, 0.1, fill_mode="nearest"),
                             layers.RandomZoom(0.08, fill_mode="nearest")])


def _bolts(x: tf.Tensor) -> tf.Tensor:
    """A dark or shiny disc on some crops: plate bolts often sit on or beside a character,
    and the rendered plates have none."""
    n = tf.shape(x)[0]
    yy, xx = tf.meshgrid(tf.range(CHAR_HEIGHT, dtype=tf.float32),
                         tf.range(CHAR_WIDTH, dtype=tf.float32), indexing="ij")
    u = tf.random.uniform((n, 5))
    cx, cy = u[:, 0] * CHAR_WIDTH, u[:, 1] * CHAR_HEIGHT
    radius = 1.5 + 2.5 * u[:, 2]
    value = tf.where(u[:, 3] < 0.5, 40.0, 220.0)
    inside = ((xx[None] - cx[:, None, None]) ** 2 + (yy[None] - cy[:, None, None]) ** 2
              < (radius ** 2)[:, None, None]) & (u[:, 4] < _BOLT_SHARE)[:, None, None]
    return tf.where(inside, value[:, None, None], x)


def dataset(images: np.ndarray, labels: np.ndarray, seed: int) -> tf.data.Dataset:
    aug = _augment()

    def apply(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = _bolts(aug(tf.cast(x[..., None], tf.float32), training=True)[..., 0])
        return tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8), y

    return (tf.data.Dataset.from_tensor_slices((images, labels))
            .shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
            .batch(BATCH).map(apply).prefetch(2))


def vetted_gate_set(vet: Path, out: Path) -> tuple[np.ndarray, np.ndarray]:
    """The gate training crops that the character model ``vet`` vets; what was dropped, per
    label and the model's reading, goes to ``out``/gate_vetting.json."""
    x, y = gate_train_set()
    probs = Recognizer(OnnxModel(vet, threads=1))(x)
    keep = vet_gate(probs, y)
    best = probs.argmax(axis=1)
    dropped: dict[str, int] = {}
    for t, p in zip(y[~keep], best[~keep], strict=True):
        key = f"{CLASSES[t]}→{CLASSES[p]}"
        dropped[key] = dropped.get(key, 0) + 1
    suspect = np.isin(y, [CLASSES.index(c) for c in GATE_SUSPECT])
    report = {"vetting_model": str(vet), "crops": int(len(y)), "kept": int(keep.sum()),
              "suspect_letters": GATE_SUSPECT, "suspect_crops": int(suspect.sum()),
              "suspect_kept": int((keep & suspect).sum()),
              "dropped_label_to_reading": dict(sorted(dropped.items(), key=lambda kv: -kv[1]))}
    out.mkdir(parents=True, exist_ok=True)
    (out / "gate_vetting.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(f"gate: kept {report['kept']} of {report['crops']} crops (suspect letters "
          f"{report['suspect_kept']} of {report['suspect_crops']})", flush=True)
    return x[keep], y[keep]


def train(args: argparse.Namespace) -> keras.Model:
    synth_x, synth_y = synthetic_set(SYNTH_PLATES, SYNTH_SEED)
    real_x, real_y = real_train_set()
    hold_x, hold_y = synthetic_set(HOLDOUT_PLATES, HOLDOUT_SEED)
    gate_x, gate_y = (vetted_gate_set(args.gate_vet, args.out) if args.gate_vet
                      else (np.zeros((0, CHAR_HEIGHT, CHAR_WIDTH), np.uint8), np.zeros(0, int)))
    x = np.concatenate([synth_x, np.repeat(real_x, REAL_REPEAT, axis=0), gate_x])
    y = np.concatenate([synth_y, np.repeat(real_y, REAL_REPEAT), gate_y])
    print(f"train: {len(synth_y)} synthetic + {len(real_y)}×{REAL_REPEAT} real + "
          f"{len(gate_y)} gate crops; holdout {len(hold_y)}", flush=True)
    data = dataset(x, y, args.seed)
    steps = int(np.ceil(len(y) / BATCH))

    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(args.lr),
                  loss="sparse_categorical_crossentropy")
    batches = iter(data)
    model.train_on_batch(*next(batches))  # build and trace
    t0 = time.perf_counter()
    for _ in range(5):
        model.train_on_batch(*next(batches))
    step_s = (time.perf_counter() - t0) / 5
    epochs = max(1, int(args.minutes * 60 / (step_s * steps * 1.1)))
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, epochs * steps, alpha=0.02)
    model = build_model()  # fresh weights; the probe steps only timed the loop
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    print(f"{step_s * 1e3:.0f} ms/step → {epochs} epochs of {steps} steps", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    real_val = real_val_set()
    with (args.out / "log.csv").open("w", newline="") as f:
        log = csv.writer(f)
        log.writerow(["epoch", "loss", "train_acc", "holdout_acc", "real_val_char_acc",
                      "minutes"])
        start = time.perf_counter()
        for epoch in range(1, epochs + 1):
            h = model.fit(data, epochs=1, verbose=0).history
            hold = scores(model.predict(hold_x, batch_size=512, verbose=0), hold_y)
            val = scores(model.predict(real_val[0], batch_size=512, verbose=0), real_val[1])
            row = [epoch, round(h["loss"][0], 4), round(h["accuracy"][0], 4),
                   hold["char_accuracy"], val["char_accuracy"],
                   round((time.perf_counter() - start) / 60, 2)]
            log.writerow(row)
            f.flush()
            print(*row, flush=True)
            model.save(args.out / "last.keras")
    return model


def export(model: keras.Model, out: Path, checkpoint: str) -> dict[str, object]:
    """fp32 and INT8 ONNX with the classes and input size in their metadata, parity, scores."""
    metadata = {"classes": CLASSES, "input_height": str(CHAR_HEIGHT),
                "input_width": str(CHAR_WIDTH), "reject_class": REJECT,
                "input": "uint8 gray N×H×W character crops (edge_alpr.segment.cut_chars)",
                "output": "N×classes probabilities", "checkpoint": checkpoint}
    fp32 = export_onnx(model, out / model_file_name(CHARS, FP32), (None, CHAR_HEIGHT, CHAR_WIDTH),
                       {**metadata, "precision": FP32})
    rng = np.random.default_rng(0)
    real_x, _ = real_train_set()
    synth_x, _ = synthetic_set(HOLDOUT_PLATES, HOLDOUT_SEED)
    pool = np.concatenate([real_x, synth_x])
    calibration = [pool[rng.choice(len(pool), 32, replace=False)]
                   for _ in range(N_CALIBRATION_BATCHES)]
    parity = max_abs_diff(model, fp32, calibration[:4])
    int8 = quantize_int8(fp32, out / model_file_name(CHARS, INT8), calibration)

    val_x, val_y = real_val_set()
    gate_x, gate_y = gate_val_set()
    report: dict[str, object] = {"parity_max_abs_diff": parity,
                                 "input_hw": [CHAR_HEIGHT, CHAR_WIDTH]}
    for name, path in ((FP32, fp32), (INT8, int8)):
        recognizer = Recognizer(OnnxModel(path, threads=1))
        report[name] = {"file": path.name, "bytes": path.stat().st_size,
                        "sha256": sha256_of(path),
                        "real_validation": scores(recognizer(val_x), val_y),
                        "gate_validation": scores(recognizer(gate_x), gate_y)}
    return report


def main() -> None:
    ap = training_args(__doc__.split("\n")[0], RUN_DIR, minutes=12.0, lr=3e-3,
                       threads=1)
    ap.add_argument("--gate-vet", type=Path, metavar="MODEL.onnx",
                    help="train on the gate crops this character model vets")
    args = ap.parse_args()
    setup(args.threads, args.seed)

    model = trained_or_loaded(args.export_only, args.checkpoint, lambda: train(args))
    write_report(args.out, export(model, args.models, args.checkpoint.name))


if __name__ == "__main__":
    main()
