"""The training scripts' shared epoch loop (TF extra)."""

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="needs the export extra")
import keras  # noqa: E402

from export.training import fit_epochs  # noqa: E402


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
