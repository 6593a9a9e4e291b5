"""The HTTP plate-reading service (``edge-alpr serve``): edge-alpr's own API, the CodeProject.AI
ALPR API and the Plate Recognizer Snapshot API over one shared reader, and its Ray Serve
deployment.

A layer over the core: it imports ``edge_alpr``, never the other way round. Its HTTP stack
(Starlette on uvicorn, python-multipart, prometheus-client) comes with the ``serve`` extra.
"""

from __future__ import annotations

SERVE_EXTRA_HINT = 'the HTTP service needs the serve extra: pip install "edge-alpr[serve]"'

try:
    import prometheus_client  # noqa: F401
    import python_multipart  # noqa: F401  (Starlette's form parser)
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as e:
    raise ImportError(f"{SERVE_EXTRA_HINT} ({e.name} is missing)", name=e.name) from e
