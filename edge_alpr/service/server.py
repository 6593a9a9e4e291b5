"""``edge-alpr serve``: the app on uvicorn, one process, on loopback unless told otherwise."""

from __future__ import annotations

import logging

import uvicorn

from .app import ServiceConfig, build_app

log = logging.getLogger(__name__)

# Connections uvicorn holds at once (each with its buffers): beyond them it answers 503 itself.
# Well above what the read queue admits, so the queue's JSON 503 with Retry-After is what
# clients normally see.
MIN_CONNECTIONS = 64


def serve(config: ServiceConfig, host: str = "127.0.0.1", port: int = 8080,
          log_level: str = "info") -> None:
    """Load the models, then serve until interrupted (Ctrl-C, SIGTERM)."""
    app = build_app(config)
    log.info("edge-alpr service on http://%s:%d (%d reading threads, queue %d)", host, port,
             config.workers, config.queue)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False,
                limit_concurrency=max(MIN_CONNECTIONS, 4 * (config.workers + config.queue)),
                server_header=False)
