"""The export side's TensorFlow stack (TensorFlow, Keras, tf2onnx, onnx), imported here and
nowhere else, so that where the export extra is not installed every export script stops with
one clear hint instead of a bare ModuleNotFoundError. The runtime (edge_alpr) never imports
``export``."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no banner of CPU features on stderr

INSTALL_HINT = 'pip install -e ".[export]"'

try:
    import keras
    import onnx
    import tensorflow as tf
    import tf2onnx
except ModuleNotFoundError as e:
    raise ModuleNotFoundError(
        f"{e.name} is not installed: the export tools (training, ONNX export, quantization) "
        f"need the export extra; install it with {INSTALL_HINT}", name=e.name) from e

__all__ = ["INSTALL_HINT", "keras", "onnx", "tf", "tf2onnx"]
