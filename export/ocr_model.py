"""The whole-plate recognizer: a plate crop in, one class distribution per character slot out.

Segmentation-free, in the fixed-slot style of fast-plate-ocr: a small CNN (separable
convolutions after a strided stem, so a plate costs a few million multiply-adds) and one dense
head that maps the whole feature map to every slot. A dense head can read both layouts from the
same input: two-row plates (digits over letters) fill the input as one-row ones do, and the
head learns where each slot's character stands in either.
"""

from __future__ import annotations

from export.tf_extra import keras


def build_ocr_model(input_hw: tuple[int, int], slots: int, n_classes: int,
                    widths: tuple[int, ...] = (24, 48, 96, 128), head: int = 64,
                    dropout: float = 0.3) -> keras.Model:
    """uint8 (N, H, W) crops in (scaled inside), (N, slots, classes) probabilities out.

    ``widths``: channels of the stem and of the three separable stages (each halves the
    resolution); ``head``: channels of the 1×1 projection that the dense head reads.
    """
    layers = keras.layers
    h, w = input_hw
    image = keras.Input((h, w), dtype="uint8", name="image")
    x = layers.Rescaling(1 / 255)(image)
    x = layers.Reshape((h, w, 1))(x)

    def bn_relu(t):
        # Momentum 0.9: the default 0.99 lags behind on a training this short.
        return layers.ReLU()(layers.BatchNormalization(momentum=0.9)(t))

    x = bn_relu(layers.Conv2D(widths[0], 3, strides=2, padding="same", use_bias=False)(x))
    for i, filters in enumerate(widths[1:]):
        for _ in range(2):
            x = bn_relu(layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x))
        if i < len(widths) - 2:
            x = layers.MaxPooling2D()(x)
    x = layers.MaxPooling2D()(x)
    x = bn_relu(layers.Conv2D(head, 1, use_bias=False)(x))
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(slots * n_classes)(x)
    x = layers.Reshape((slots, n_classes))(x)
    probs = layers.Softmax(name="probs")(x)
    return keras.Model(image, probs, name="plate_ocr")
