"""The pipelines of ``python -m benchmarks.compare`` by name. Kept apart from the script so a
fresh process building one (cold start, peak memory) imports nothing the pipeline does not:
TensorFlow only for the references."""

from __future__ import annotations

from edge_alpr.models import AUTO
from edge_alpr.models import FP32 as _FP32
from edge_alpr.pipeline import SEGMENTS, PlateReader

INT8 = "edge-alpr int8"
FP32 = "edge-alpr fp32"
TUNED = "TF tuned"
ORIGINAL = "TF original"
PIPELINES = (INT8, FP32, TUNED, ORIGINAL)


def make_reader(name: str, threads: int) -> PlateReader:
    if name in (INT8, FP32):  # INT8: INT8 characters, as `auto` runs them (see --precision)
        # The segmentation reader: the TensorFlow references run that path and its models.
        return PlateReader(threads=threads, precision=AUTO if name == INT8 else _FP32,
                           reader=SEGMENTS)
    from .reference import original_reader, tuned_reader

    if name == TUNED:
        return tuned_reader(threads)
    if name == ORIGINAL:
        return original_reader(threads)
    raise ValueError(f"unknown pipeline {name!r}; known: {', '.join(PIPELINES)}")
