"""The bundled model files (ONNX models, their metrics and model card), installed as
package data."""
