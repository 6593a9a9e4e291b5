"""Rebuild the whole-plate recognizer's Keras checkpoint from its fp32 ONNX file, to train on.

    python -m export.ocr_checkpoint [--onnx models/plate_ocr_fp32.onnx]
                                    [--out benchmarks/keras/plate_ocr.keras]

The shipped model's training checkpoint was lost with the ignored ``runs/`` folder that held it
(model card, "Whole-plate recognizer"). tf2onnx folded each batch norm into the convolution
before it (its scale into the weights, its shift into a bias), so the ONNX graph holds the
inference function but not the statistics a fine-tune needs. This puts the weights back into
:func:`export.ocr_model.build_ocr_model`'s layers, then gives each batch norm the statistics
of its input over training batches, with its scale and shift set so that inference is the
ONNX model's (up to float rounding) and training starts normalising as a trained model does.
The printed parity and validation reads are the check.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .ocr_data import gate_samples, photo_samples, synthetic_samples
from .ocr_model import build_ocr_model
from .onnx_export import max_abs_diff
from .tf_extra import keras, onnx
from .train_ocr import SYNTH_SEED, batches, from_pool, keras_scores, validation

ONNX_PATH = Path("models/plate_ocr_fp32.onnx")
OUT = Path("benchmarks/keras/plate_ocr.keras")
CALIBRATION_BATCHES = 8
CALIBRATION_PLATES = 512


def _onnx_weights(graph: onnx.GraphProto) -> tuple[list[np.ndarray], list[np.ndarray],
                                                  list[np.ndarray]]:
    """The graph's weights in layer order: every convolution's kernel (ONNX layout), every
    folded bias (one per batch norm), and the dense layer's kernel and bias."""
    values = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    kernels, biases = [], []
    for node in graph.node:
        if node.op_type == "Conv":
            kernels.append(values[node.input[1]])
            if len(node.input) > 2:
                biases.append(values[node.input[2]])
    (matmul,) = [n for n in graph.node if n.op_type == "MatMul"]
    kernel = values[matmul.input[1]]
    # tf2onnx leaves out the bias's Add where the bias is all zeros.
    bias = [values[i] for n in graph.node if n.op_type == "Add" and matmul.output[0] in n.input
            for i in n.input if i in values] or [np.zeros(kernel.shape[1], kernel.dtype)]
    return kernels, biases, [kernel, *bias]


def keras_from_onnx(path: Path) -> keras.Model:
    """:func:`build_ocr_model`, sized by ``path``'s metadata and kernels, holding its weights,
    each batch norm an identity plus the folded bias: in inference it computes what the ONNX
    model does."""
    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    kernels, biases, dense = _onnx_weights(proto.graph)
    # The stem, (depthwise, pointwise) per separable convolution, the 1×1 head.
    stages = kernels[2:-1:2]  # pointwise kernels: each stage's width is its second's output
    widths = (kernels[0].shape[0], *(k.shape[0] for k in stages[1::2]))
    model = build_ocr_model((int(meta["input_height"]), int(meta["input_width"])),
                            len(meta["pattern"]), len(meta["classes"]), widths=widths,
                            head=kernels[-1].shape[0])
    convs = [layer for layer in model.layers
             if isinstance(layer, (keras.layers.Conv2D, keras.layers.SeparableConv2D))]
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    taken = iter(kernels)
    for layer in convs:
        if isinstance(layer, keras.layers.SeparableConv2D):
            depthwise, pointwise = next(taken), next(taken)
            layer.set_weights([depthwise.transpose(2, 3, 0, 1), pointwise.transpose(2, 3, 1, 0)])
        else:
            layer.set_weights([next(taken).transpose(2, 3, 1, 0)])
    if next(taken, None) is not None or len(biases) != len(norms):
        raise ValueError(f"{path}: its convolutions do not fit build_ocr_model's layers")
    for layer, bias in zip(norms, biases, strict=True):
        n = len(bias)
        layer.set_weights([np.ones(n), bias, np.zeros(n), np.full(n, 1 - layer.epsilon)])
    (head,) = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    head.set_weights(dense)
    return model


def calibrate_batch_norms(model: keras.Model, batches_: list[np.ndarray]) -> None:
    """Give each batch norm the mean and variance of its input over ``batches_``, keeping the
    function it computes in inference (scale √(var + ε), shift bias + mean)."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    probe = keras.Model(model.input, [layer.input for layer in norms])
    outs = [probe.predict(b, verbose=0) for b in batches_]
    for k, layer in enumerate(norms):
        x = np.concatenate([o[k].reshape(-1, o[k].shape[-1]) for o in outs])
        mean, var = x.mean(axis=0), x.var(axis=0)
        _, bias, _, _ = layer.get_weights()
        layer.set_weights([np.sqrt(var + layer.epsilon), bias + mean, mean, var])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onnx", type=Path, default=ONNX_PATH)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    model = keras_from_onnx(args.onnx)
    # The training mix, with fewer rendered plates to draw from than training renders.
    pools = {"synthetic": synthetic_samples(CALIBRATION_PLATES, SYNTH_SEED),
             "gate": gate_samples("train"), "photos": photo_samples("train")}
    batch_of = batches({k: from_pool(v) for k, v in pools.items()}, args.seed)
    calibrate_batch_norms(model, [batch_of()[0] for _ in range(CALIBRATION_BATCHES)])
    val, val_x = validation()
    print(f"max |Keras - ONNX| on 64 gate validation crops: "
          f"{max_abs_diff(model, args.onnx, [val_x['gate'][:64]]):.2e}")
    for k, score in keras_scores(model, val, val_x).items():
        print(f"{k} validation, Keras in inference: exact {score['exact']:.4f} of "
              f"{score['plates']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
