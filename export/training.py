"""What the training scripts share: TensorFlow's threads and seed, and an epoch loop that makes
the next batch while TensorFlow trains on this one."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .tf_extra import keras, tf

Batch = tuple[np.ndarray, np.ndarray]


def setup(threads: int, seed: int) -> None:
    """``threads`` intra-op threads, operators one at a time, and every random seed."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(seed)


def fit_epochs(model: keras.Model, batch_of: Callable[[], Batch], epochs: int,
               steps_per_epoch: int) -> Iterator[tuple[int, float]]:
    """Train ``epochs`` × ``steps_per_epoch`` steps on batches from ``batch_of``; yields
    (epoch, mean loss) after each epoch. One thread makes the next batch while TensorFlow
    (which releases the GIL) trains."""
    with ThreadPoolExecutor(1) as pool:
        next_batch = pool.submit(batch_of)
        for epoch in range(1, epochs + 1):
            losses = []
            for _ in range(steps_per_epoch):
                batch = next_batch.result()
                next_batch = pool.submit(batch_of)
                losses.append(float(model.train_on_batch(*batch)))
            yield epoch, float(np.mean(losses))


def cosine_lr(peak: float, progress: float, floor: float = 0.02) -> float:
    """Cosine decay from ``peak`` to ``floor`` × ``peak`` as ``progress`` goes from 0 to 1."""
    progress = min(max(progress, 0.0), 1.0)
    return peak * (floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * progress)))


def fit_minutes(model: keras.Model, batch_of: Callable[[], Batch], minutes: float,
                steps_per_epoch: int, peak_lr: float,
                clock: Callable[[], float] = time.perf_counter
                ) -> Iterator[tuple[int, float, float, float]]:
    """Train epochs of ``steps_per_epoch`` steps until the next one would end past ``minutes``;
    yields (epoch, mean loss, its learning rate, seconds since the start) after each. The rate
    follows a cosine of the elapsed share of the budget, set between epochs: a step count fixed
    from a timing probe at the start is wrong on a shared host whose speed changes."""
    budget = minutes * 60
    model.optimizer.learning_rate.assign(peak_lr)
    start = clock()
    for epoch, loss in fit_epochs(model, batch_of, 10**9, steps_per_epoch):
        lr = float(model.optimizer.learning_rate.numpy())
        yield epoch, loss, lr, clock() - start
        elapsed = clock() - start  # with the caller's per-epoch validation
        if elapsed * (epoch + 1) / epoch > budget:
            return
        model.optimizer.learning_rate.assign(cosine_lr(peak_lr, elapsed / budget))


def training_args(description: str, run_dir: Path, minutes: float, lr: float, threads: int
                  ) -> argparse.ArgumentParser:
    """The options every training script takes, with its defaults: where checkpoints, log and
    ONNX files go, the time budget, peak learning rate, threads, seed, and export only."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", type=Path, default=run_dir, help="checkpoints and log")
    ap.add_argument("--models", type=Path, default=Path("models"), help="ONNX files")
    ap.add_argument("--minutes", type=float, default=minutes, help="training time budget")
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--threads", type=int, default=threads)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--checkpoint", type=Path, default=run_dir / "last.keras")
    return ap


def trained_or_loaded(export_only: bool, checkpoint: Path,
                      train: Callable[[], keras.Model]) -> keras.Model:
    """The model to export: ``checkpoint`` as saved (``--export-only``), else ``train()``."""
    if export_only:
        return keras.models.load_model(checkpoint, compile=False)
    return train()


def write_report(out: Path, report: dict) -> None:
    """An export's report: ``out/export.json``, and the same on stdout."""
    text = json.dumps(report, indent=1, ensure_ascii=False)
    out.mkdir(parents=True, exist_ok=True)
    (out / "export.json").write_text(text, encoding="utf-8")
    print(text)
