"""Training side of edge-alpr (TensorFlow, synthetic data, export). Never imported by the runtime."""
