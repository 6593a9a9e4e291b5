"""``edge-alpr watch``: cameras to events.

Sources (camera threads and their bounded frame queues), the shared reader, one tracker per
camera, events with their best crop, watchlists, and outputs (JSON Lines, webhook, MQTT, a
SQLite reads log) plus a small page. This layer imports the core; the core never imports it.
Its third-party dependencies come with the ``watch`` extra: ``pip install "edge-alpr[watch]"``.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str) -> ModuleType:
    """Import an optional dependency of the watch layer, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{module} is needed by edge-alpr watch: "
                          f"pip install \"edge-alpr[watch]\"") from e
