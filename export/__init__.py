"""Training side of edge-alpr: synthetic data, training, export. Never imported by the runtime."""
