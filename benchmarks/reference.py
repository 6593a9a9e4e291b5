"""The TensorFlow references edge-alpr is measured against: the same trained Keras models
(``benchmarks/keras/``, the checkpoints the shipped ONNX models were exported from), run by
TensorFlow inside edge_alpr's own pipeline, so only the model runtime and, for the original
style, the segmentation and the per-character calls differ.

- tuned: the detector and the character CNN as ``tf.function``s, characters batched in one
  call, edge_alpr's segmentation;
- original: as the research code did, ``model.predict`` on the frame, the scikit-image
  segmentation of :mod:`benchmarks.research_segment`, ``model.predict`` once per character.

Input size, stride, threshold and classes are read from the bundled ONNX models' metadata,
as edge_alpr reads them, so these processes load onnxruntime too (two small sessions).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no banner of CPU features on stderr

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import export.detector_model  # noqa: E402, F401  (registers the detector's ToFloat layer)
from edge_alpr.detector import Detector  # noqa: E402
from edge_alpr.models import CHARS, DETECTOR, FP32, VERIFIER, bundled_model  # noqa: E402
from edge_alpr.pipeline import PlateReader, Segmenter  # noqa: E402
from edge_alpr.recognizer import Recognizer  # noqa: E402
from edge_alpr.segment import segment  # noqa: E402
from edge_alpr.session import OnnxModel, check_outputs  # noqa: E402
from edge_alpr.verifier import PlateVerifier  # noqa: E402

from .research_segment import research_segment  # noqa: E402

log = logging.getLogger(__name__)

KERAS_DIR = Path(__file__).resolve().parent / "keras"
DETECTOR_KERAS = KERAS_DIR / "detector.keras"  # runs/detector_glare/last.keras → detector_*.onnx
CHARS_KERAS = KERAS_DIR / "chars.keras"  # runs/chars/last.keras → chars_fp32.onnx, chars_int8.onnx
CHECK_KERAS = KERAS_DIR / "plate_check.keras"  # runs/verifier_blur/last.keras → plate_check_*.onnx

Stage = TypeVar("Stage", Detector, Recognizer, PlateVerifier)


@dataclass(frozen=True)
class KerasRuntime:
    """Stands in for edge_alpr's ``OnnxModel`` in a Detector or Recognizer: ``run(x)`` is
    ``[output]`` as numpy, computed by ``call`` on TensorFlow."""

    path: Path
    call: Callable[[np.ndarray], np.ndarray]

    def run(self, x: np.ndarray, expected: Sequence[tuple[int, ...]] = ()
            ) -> list[np.ndarray]:
        out = [self.call(x)]
        check_outputs(self.path, ("output",), out, expected)
        return out


def load(path: Path) -> keras.Model:
    return keras.models.load_model(path, compile=False)


def as_function(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """The model as one traced graph for any batch size (no retracing per batch)."""
    spec = tf.TensorSpec(model.inputs[0].shape, model.inputs[0].dtype)
    graph = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    return lambda x: graph(x).numpy()


def predict(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: model.predict(x, verbose=0)


def predict_each(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """One ``predict`` call per sample, as the research code classified each character."""
    return lambda x: np.concatenate([model.predict(s[None], verbose=0) for s in x])


def set_threads(threads: int) -> None:
    """TensorFlow's intra-op threads, like edge-alpr's ``--threads``. Settable only before
    TensorFlow first runs; after that (another user in the same process) a warning says the
    setting stays as it was."""
    if tf.config.threading.get_intra_op_parallelism_threads() == threads:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError as e:
        log.warning("TensorFlow threads not set to %d: %s", threads, e)


def _on_tensorflow(stage: Stage, path: Path, call: Callable[[np.ndarray], np.ndarray]) -> Stage:
    stage.model = KerasRuntime(path, call)  # the ONNX session was only needed for metadata
    return stage


def _tf_reader(threads: int, wrap_detector: Callable, wrap_chars: Callable,
               segmenter: Segmenter = segment) -> PlateReader:
    """edge-alpr's pipeline with its three models run by TensorFlow, each called through its
    wrap (the plate check through the detector's)."""
    set_threads(threads)
    def stage(kind: type[Stage], role: str, keras_path: Path, wrap: Callable) -> Stage:
        return _on_tensorflow(kind(OnnxModel(bundled_model(role, FP32).path, threads=1)),
                              keras_path, wrap(load(keras_path)))

    return PlateReader(
        detector=stage(Detector, DETECTOR, DETECTOR_KERAS, wrap_detector),
        plate_check=stage(PlateVerifier, VERIFIER, CHECK_KERAS, wrap_detector),
        recognizer=stage(Recognizer, CHARS, CHARS_KERAS, wrap_chars),
        segmenter=segmenter)


def tuned_reader(threads: int) -> PlateReader:
    return _tf_reader(threads, as_function, as_function)


def original_reader(threads: int) -> PlateReader:
    return _tf_reader(threads, predict, predict_each, research_segment)
