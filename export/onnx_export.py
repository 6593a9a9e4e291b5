"""Keras → ONNX (tf2onnx), fp32 parity, and static INT8 quantization.

Settings follow what was measured on these CPUs (AVX2, no VNNI): QDQ, per-channel s8 weights,
u8 activations, reduce_range, and quant_pre_process first so BatchNorm folds into the convs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from .tf_extra import onnx, tf, tf2onnx

OPSET = 17
INPUT_NAME = "image"


def set_metadata(path: Path, metadata: dict[str, str]) -> None:
    """Write ``metadata`` into the model's metadata_props (replacing keys already there)."""
    model = onnx.load(str(path))
    kept = {p.key: p.value for p in model.metadata_props}
    kept.update(metadata)
    del model.metadata_props[:]
    for key, value in kept.items():
        model.metadata_props.add(key=key, value=str(value))
    onnx.save(model, str(path))


def export_onnx(model: tf.keras.Model, path: str | Path, input_shape: Sequence[int | None],
                metadata: dict[str, str], input_dtype: tf.DType = tf.uint8) -> Path:
    """Export with a fixed input shape (dynamic shapes add nodes the quantizer cannot handle)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = [tf.TensorSpec(tuple(input_shape), input_dtype, name=INPUT_NAME)]
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=OPSET, output_path=str(path))
    set_metadata(path, metadata)
    return path


def run_onnx(path: str | Path, batch: np.ndarray, threads: int = 1) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: batch})


def max_abs_diff(model: tf.keras.Model, path: str | Path, samples: Iterable[np.ndarray]) -> float:
    """Largest |Keras − ONNX| over all outputs and samples (each sample is one input batch)."""
    worst = 0.0
    for batch in samples:
        expected = model(batch, training=False)
        expected = expected if isinstance(expected, (list, tuple)) else [expected]
        for e, o in zip(expected, run_onnx(path, batch), strict=True):
            worst = max(worst, float(np.max(np.abs(np.asarray(e) - o))))
    return worst


class _Reader(CalibrationDataReader):
    def __init__(self, input_name: str, batches: Sequence[np.ndarray]) -> None:
        self._items = iter([{input_name: b} for b in batches])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)


def quantize_int8(fp32_path: str | Path, int8_path: str | Path,
                  calibration: Sequence[np.ndarray], float_first_conv: bool = False) -> Path:
    """Static INT8 (QDQ) calibrated with MinMax on ``calibration`` input batches.

    ``float_first_conv`` keeps the first convolution in fp32: onnxruntime's u8 kernel for a
    one-channel input is ~20× slower than its fp32 one (profiled on the detector's stem).
    Softmax stays in fp32 so probabilities still sum to one (u8 outputs come in 1/255 steps).
    The fp32 model's metadata is carried over to the INT8 model.
    """
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32_path), str(pre))
        graph = onnx.load(str(pre)).graph
        input_name = graph.input[0].name
        first_conv = next(n.name for n in graph.node if n.op_type == "Conv")  # nodes are sorted
        keep_float = [n.name for n in graph.node if n.op_type == "Softmax"]
        if float_first_conv:
            keep_float.append(first_conv)
        quantize_static(
            str(pre), str(int8_path), _Reader(input_name, calibration),
            quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=keep_float,
        )
    metadata = {p.key: p.value for p in onnx.load(str(fp32_path)).metadata_props}
    set_metadata(int8_path, {**metadata, "precision": "int8"})
    return int8_path
