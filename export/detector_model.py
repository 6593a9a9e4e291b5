"""The plate detector in Keras: a small depthwise-separable backbone, a top-down neck to
stride 8 and a CenterNet head (heatmap, log size, offset) in one output map.

Sized for a 2-core CPU: ~70 M multiply-adds at 384×640. Plates of 70 px in a 1920-wide frame
are ~23 px wide at 640, about three heatmap cells, which stride 8 still resolves.
"""

from __future__ import annotations

import math

from .tf_extra import keras

layers = keras.layers

INPUT_HW = (384, 640)  # a 1920×1080 frame letterboxes to 640×360
STRIDE = 8
BN_MOMENTUM = 0.9  # 0.999 leaves short trainings with stale statistics (constant outputs)
# Default score threshold of an export, set before any validation was looked at; the shipped
# one is chosen with --threshold (models/MODEL_CARD.md says how).
DEFAULT_THRESHOLD = 0.3
HEAT_PRIOR = 0.01  # initial heatmap probability, so early focal loss is not swamped


@keras.saving.register_keras_serializable(package="edge_alpr")
class ToFloat(layers.Layer):
    """uint8 → float32 with no rescaling: the stem's BatchNorm absorbs the scale, and a
    full-resolution Mul/Add costs more than the whole backbone once quantized (profiled)."""

    def call(self, x):
        return keras.ops.cast(x, "float32")


def _conv_bn(x, filters: int, kernel: int = 1, strides: int = 1, name: str = ""):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _sep(x, filters: int, strides: int = 1, name: str = ""):
    """Depthwise 3×3 then pointwise, each with BatchNorm and ReLU."""
    x = layers.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False,
                               name=f"{name}_dw")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(name=f"{name}_dw_relu")(x)
    return _conv_bn(x, filters, name=f"{name}_pw")


def build_detector(input_hw: tuple[int, int] = INPUT_HW, width: float = 1.0) -> keras.Model:
    """uint8 grayscale NHWC in; (H/8, W/8, 5) out: sigmoid heat, log w, log h, sigmoid offsets.

    ``input_hw`` may be None-sized for training on crops; the export fixes it.
    """
    c = lambda n: max(8, int(round(n * width / 8)) * 8)  # noqa: E731 - channel widths
    inp = keras.Input((*input_hw, 1), dtype="uint8", name="image")
    x = ToFloat(name="to_float")(inp)
    x = _conv_bn(x, c(16), 3, strides=2, name="stem")  # /2
    x = _sep(x, c(24), strides=2, name="b2")  # /4
    x = _sep(x, c(32), strides=2, name="b3a")  # /8
    s8 = _sep(x, c(32), name="b3b")
    x = _sep(s8, c(64), strides=2, name="b4a")  # /16
    x = _sep(x, c(64), name="b4b")
    s16 = _sep(x, c(64), name="b4c")
    x = _sep(s16, c(96), strides=2, name="b5a")  # /32
    x = _sep(x, c(96), name="b5b")
    s32 = _sep(x, c(96), name="b5c")
    # Top-down: bring the wide context of /32 down to the /8 grid.
    up = layers.UpSampling2D(name="up16")(_conv_bn(s32, c(48), name="lat32"))
    x = layers.Add(name="add16")([up, _conv_bn(s16, c(48), name="lat16")])
    x = _sep(x, c(48), name="n16")
    up = layers.UpSampling2D(name="up8")(_conv_bn(x, c(32), name="red16"))
    x = layers.Add(name="add8")([up, _conv_bn(s8, c(32), name="lat8")])
    x = _sep(x, c(32), name="n8a")
    x = _sep(x, c(32), name="n8b")
    heat = layers.Conv2D(1, 1, activation="sigmoid", name="heat",
                         bias_initializer=keras.initializers.Constant(
                             -math.log((1 - HEAT_PRIOR) / HEAT_PRIOR)))(x)
    size = layers.Conv2D(2, 1, name="log_size")(x)
    offset = layers.Conv2D(2, 1, activation="sigmoid", name="offset")(x)
    out = layers.Concatenate(name="detections")([heat, size, offset])
    return keras.Model(inp, out, name="plate_detector")
