"""The JSON record of one image read: one ``edge-alpr read --json`` line, the body of the HTTP
service's ``POST /v1/read``. Plates are :meth:`PlateResult.to_dict`; this adds the image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .pipeline import PlateResult


def image_record(image: str | None, width: int, height: int, plates: Sequence[PlateResult],
                 seconds: float) -> dict[str, Any]:
    """``image`` names the source (a path, an upload's file name, or None when it has none);
    ``seconds`` is the time it took, decoding included."""
    return {"image": image, "width": int(width), "height": int(height),
            "plates": [p.to_dict() for p in plates], "ms": round(seconds * 1e3, 1)}
