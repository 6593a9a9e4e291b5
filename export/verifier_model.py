"""The plate check in Keras: a small CNN over a candidate box cut at full resolution.

47k parameters, 8 M multiply-adds per crop (the detector: ~70 M per frame); a frame has a
handful of candidates over the threshold.
"""

from __future__ import annotations

from .detector_model import ToFloat
from .tf_extra import keras

layers = keras.layers

INPUT_HW = (32, 96)  # height × width: one-row plates (~4.6:1) and two-row (~1.9:1) both squashed
MARGIN = 0.1  # of the box size on each side: the plate's frame and a little car around it
# Default cascade threshold (detector score × plate probability), set before validation.
DEFAULT_THRESHOLD = 0.25
BN_MOMENTUM = 0.9


def build_verifier(input_hw: tuple[int, int] = INPUT_HW, width: int = 16) -> keras.Model:
    """uint8 (H, W, 1) in; (5,) out: sigmoid plate probability, then the plate's box relative
    to the input box (R-CNN deltas: dx, dy in box sizes, dw, dh as log ratios)."""
    inp = keras.Input((*input_hw, 1), dtype="uint8", name="image")
    x = layers.Rescaling(1 / 255, name="scale")(ToFloat(name="to_float")(inp))
    for i, filters in enumerate((width, 2 * width, 3 * width, 4 * width)):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"c{i}")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"c{i}_bn")(x)
        x = layers.ReLU(name=f"c{i}_relu")(x)
        if i < 3:
            x = layers.MaxPooling2D(name=f"c{i}_pool")(x)
    # Max and mean over the grid: "a character-like stroke somewhere" and "text everywhere".
    x = layers.Concatenate(name="pool")([layers.GlobalMaxPooling2D()(x),
                                         layers.GlobalAveragePooling2D()(x)])
    x = layers.Dropout(0.3, name="drop")(x)
    plate = layers.Dense(1, activation="sigmoid", name="plate")(x)
    deltas = layers.Dense(4, name="box")(x)
    out = layers.Concatenate(name="check")([plate, deltas])
    return keras.Model(inp, out, name="plate_check")
