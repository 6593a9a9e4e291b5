"""The service's Prometheus metrics, one registry per app (tests and Ray replicas run several
apps in one process): requests by endpoint and status, read latency, queue depth, plates read."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .queue import ReadQueue

# Seconds; a frame takes ~10-40 ms on a small CPU, queueing adds multiples of that.
READ_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
UNMATCHED = "unmatched"  # the endpoint label of a path no route serves (bounded cardinality)


class ServiceMetrics:
    def __init__(self, queue: ReadQueue) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("edge_alpr_requests", "HTTP requests answered",
                                ("endpoint", "method", "status"), registry=self.registry)
        self.read_seconds = Histogram("edge_alpr_read_seconds",
                                      "Decoding and reading one frame, on a worker thread",
                                      buckets=READ_BUCKETS, registry=self.registry)
        self.request_seconds = Histogram("edge_alpr_request_seconds",
                                         "Plate-reading requests, arrival to response",
                                         ("endpoint",), buckets=READ_BUCKETS,
                                         registry=self.registry)
        self.plates = Counter("edge_alpr_plates_read", "Plates reported to clients",
                              registry=self.registry)
        Gauge("edge_alpr_queue_depth", "Admitted requests waiting for a reading thread",
              registry=self.registry).set_function(lambda: queue.waiting)
        Gauge("edge_alpr_reads_in_progress", "Frames being read now",
              registry=self.registry).set_function(lambda: queue.running)
        Gauge("edge_alpr_queue_capacity", "Reading threads plus queue places",
              registry=self.registry).set(queue.workers + queue.depth)

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """ASGI middleware: counts every response by its route's path template and status."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception that escapes every handler ends as a 500
        started = time.perf_counter()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            # The route's name: its path, or the prefix of a route that serves a subtree.
            endpoint = getattr(route, "name", None) if route is not None else UNMATCHED
            self.metrics.requests.labels(endpoint, scope["method"], str(status)).inc()
            if scope["method"] == "POST" and route is not None:
                self.metrics.request_seconds.labels(endpoint).observe(
                    time.perf_counter() - started)
