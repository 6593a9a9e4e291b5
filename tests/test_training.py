"""The training scripts' shared epoch loop (TF extra)."""

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="needs the export extra")
import keras  # noqa: E402

from export.training import cosine_lr, fit_epochs, fit_minutes  # noqa: E402


def test_fit_epochs_trains_every_step_on_a_new_batch_and_reports_each_epoch():
    keras.utils.set_random_seed(0)  # not setup(): TensorFlow's threads are fixed once it ran
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    rng = np.random.default_rng(0)
    made = []

    def batch_of():
        x = rng.normal(size=(16, 2)).astype(np.float32)
        made.append(x)
        return x, x @ np.array([[2.0], [-1.0]], np.float32)

    reports = list(fit_epochs(model, batch_of, epochs=3, steps_per_epoch=20))
    assert [e for e, _ in reports] == [1, 2, 3]
    # Every step took a fresh batch; one more was made ahead while the last step trained.
    assert len(made) == 3 * 20 + 1
    losses = [loss for _, loss in reports]
    assert losses[-1] < losses[0] / 10  # it learned y = 2a - b


def test_cosine_lr_decays_from_the_peak_to_its_floor():
    assert cosine_lr(1e-3, 0.0) == pytest.approx(1e-3)
    assert cosine_lr(1e-3, 0.5) == pytest.approx(1e-3 * (0.02 + 0.98 * 0.5))
    assert cosine_lr(1e-3, 1.0) == cosine_lr(1e-3, 7.0) == pytest.approx(2e-5)


def test_fit_minutes_stops_within_its_budget_and_decays_by_elapsed_time():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    rng = np.random.default_rng(0)
    now = [0.0]

    # Each batch takes 1.1 s of a fake clock, so no epoch ends on the budget's boundary
    # whether or not the batch made ahead has taken its time yet.
    def batch_of():
        now[0] += 1.1
        x = rng.normal(size=(16, 2)).astype(np.float32)
        return x, x @ np.array([[2.0], [-1.0]], np.float32)

    reports = list(fit_minutes(model, batch_of, minutes=1.0, steps_per_epoch=10,
                               peak_lr=0.1, clock=lambda: now[0]))
    epochs, _, lrs, seconds = zip(*reports, strict=True)
    # Epochs of ~11 s: the sixth would end past 60 s, so five ran.
    assert epochs == (1, 2, 3, 4, 5) and seconds[-1] <= 60
    assert lrs[0] == pytest.approx(0.1)
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))
    # Set after epoch 4 from the time then (the next batch, made ahead, may have taken its
    # time already).
    low, high = cosine_lr(0.1, (seconds[-2] + 1.1) / 60), cosine_lr(0.1, seconds[-2] / 60)
    assert low * (1 - 1e-6) <= lrs[-1] <= high * (1 + 1e-6)  # a float32 variable
