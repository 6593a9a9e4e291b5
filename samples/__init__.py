"""The bundled sample frames (synthetic scenes from ``python -m export.make_sample``), installed
as package data so ``edge-alpr bench`` has a default input outside the repository."""
