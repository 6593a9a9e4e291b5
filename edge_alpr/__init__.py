"""edge-alpr: Mongolian licence plate recognition on small CPUs.

``from edge_alpr import PlateReader`` — loaded on first use, so importing a light module such
as ``edge_alpr.alphabet`` does not load onnxruntime and OpenCV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .pipeline import PlateReader, PlateResult

__all__ = ["PlateReader", "PlateResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'edge_alpr' has no attribute {name!r}")
