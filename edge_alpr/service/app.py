"""The plate-reading HTTP app: one shared :class:`PlateReader` behind a bounded queue, answering
edge-alpr's own API, the CodeProject.AI ALPR API and the Plate Recognizer Snapshot API.

Endpoints (README, "HTTP service"):
  POST /v1/read                      edge-alpr: one ``edge-alpr read --json`` record
  POST /v1/vision/alpr, /v1/image/alpr (any path below them, as CodeProject.AI's server routes)
  POST /v1/plate-reader/, /v1/plate-reader
  GET  /healthz, GET /metrics
"""

from __future__ import annotations

import inspect
import logging
import os
import socket
import time
import uuid
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import InvalidImageError
from ..image import GRAY, decode_image
from ..pipeline import MIN_CHARS, PlateReader, PlateResult
from ..records import image_record
from .http import (
    BodyLimit,
    HttpError,
    ResponseHeaders,
    TokenAuth,
    UnexpectedErrors,
    error_handlers,
    parse_form,
)
from .metrics import RequestMetrics, ServiceMetrics
from .queue import ReadQueue
from .shapes import codeproject_response, platerecognizer_response
from .uploads import (
    Upload,
    edge_upload,
    file_upload,
    first_file,
    form_float,
    plate_recognizer_request,
)

log = logging.getLogger(__name__)

MIB = 1 << 20
OPEN_PATHS = frozenset({"/healthz"})  # answered without the token (liveness checks)


@dataclass(frozen=True)
class ServiceConfig:
    """``workers``: frames read at once, by threads sharing the one reader; ``queue``: requests
    that may wait for them; ``max_body``: bytes; ``token``: required from clients when set;
    ``reader_options``: keyword arguments for :class:`PlateReader` (providers, lean, ...);
    ``instance``: this server's name in ``/healthz`` and the ``X-Edge-Alpr-Instance`` response
    header (default host:pid), to tell replicas apart."""

    workers: int = 2
    queue: int = 8
    max_body: int = 10 * MIB
    token: str | None = None
    reader_options: Mapping[str, Any] = field(default_factory=dict)
    instance: str | None = None


@dataclass(frozen=True)
class _Read:
    frame: np.ndarray
    plates: list[PlateResult]
    process_s: float  # decoding and reading
    inference_s: float  # reading


class PlateService:
    """The state the endpoints share: the reader (models loaded once), the queue, metrics."""

    def __init__(self, config: ServiceConfig, reader: PlateReader | None = None) -> None:
        self.config = config
        self.instance = config.instance or f"{socket.gethostname()}:{os.getpid()}"
        # Each worker reads whole frames; parallel frames beat parallel operators on small
        # CPUs (toolchain notes), so the models get one intra-op thread unless told otherwise.
        # min_chars is applied per request, so the reader reports every detection.
        self.reader_options = {"threads": 1, **config.reader_options}
        self.reader = reader or PlateReader(**self.reader_options, min_chars=0)
        self.queue = ReadQueue(config.workers, config.queue)
        self.metrics = ServiceMetrics(self.queue)
        self.plate_reader_calls = 0

    # -- reading ------------------------------------------------------------------------------

    def _decode_and_read(self, upload: Upload) -> _Read:
        t0 = time.perf_counter()
        frame = decode_image(upload.data, upload.filename or "upload", GRAY)  # as read(path)
        t1 = time.perf_counter()
        plates = self.reader.read(frame, source=upload.filename or "upload")
        t2 = time.perf_counter()
        self.metrics.read_seconds.observe(t2 - t0)
        return _Read(frame, plates, t2 - t0, t2 - t1)

    async def read(self, upload: Upload, min_chars: int = MIN_CHARS) -> _Read:
        """Decode and read on a worker thread; a bad image is a 400 naming the problem."""
        try:
            done = await self.queue.run(self._decode_and_read, upload)
        except InvalidImageError as e:
            raise HttpError(400, str(e)) from e
        plates = [p for p in done.plates if len(p.text) >= min_chars]
        self.metrics.plates.inc(len(plates))
        return _Read(done.frame, plates, done.process_s, done.inference_s)

    # -- endpoints ----------------------------------------------------------------------------

    async def edge_read(self, request: Request) -> Response:
        min_chars = self._query_options(request)
        with self.queue.admit():
            upload = await edge_upload(request, self.config.max_body)
            done = await self.read(upload, min_chars)
        height, width = done.frame.shape[:2]
        return JSONResponse(image_record(upload.filename, width, height, done.plates,
                                         done.process_s))

    async def codeproject(self, request: Request) -> Response:
        started = time.perf_counter()
        with self.queue.admit():
            form = await parse_form(request, self.config.max_body)
            min_confidence = form_float(form, "min_confidence", 0.0, 1.0) or 0.0
            part = first_file(form)  # its server hands the module the first file, any name
            if part is None:
                raise HttpError(400, "no image: send it as a multipart file part ('upload' or "
                                "'image')")
            done = await self.read(await file_upload(part))
        plates = [p.to_dict() for p in done.plates if p.confidence >= min_confidence]
        return JSONResponse(codeproject_response(
            plates, process_ms=done.process_s * 1e3, inference_ms=done.inference_s * 1e3,
            round_trip_ms=(time.perf_counter() - started) * 1e3, request_id=str(uuid.uuid4()),
            device=self._device()))

    async def plate_reader(self, request: Request) -> Response:
        with self.queue.admit():
            snapshot = await plate_recognizer_request(
                await parse_form(request, self.config.max_body))
            done = await self.read(snapshot.upload)
        plates = [p.to_dict() for p in done.plates if p.detection_score >= snapshot.threshold_d
                  and p.confidence >= snapshot.threshold_o]
        self.plate_reader_calls += 1
        # Plate Recognizer's service answers 201 Created; its clients accept any 2xx.
        return JSONResponse(platerecognizer_response(
            plates, processing_ms=done.process_s * 1e3, filename=snapshot.upload.filename,
            camera_id=snapshot.camera_id, timestamp=snapshot.timestamp,
            calls=self.plate_reader_calls), status_code=201)

    async def healthz(self, request: Request) -> Response:
        models = {m.path.name: list(m.providers) for m in self.reader.models.values()}
        return JSONResponse({
            "status": "ok", "edge_alpr": version("edge-alpr"), "instance": self.instance,
            "models": models,
            "providers": sorted({p for used in models.values() for p in used}),
            "threads": self.queue.workers,
            "queue": {"capacity": self.queue.depth, "waiting": self.queue.waiting,
                      "reading": self.queue.running},
        })

    async def metrics_endpoint(self, request: Request) -> Response:
        return self.metrics.exposition()

    # -- helpers ------------------------------------------------------------------------------

    def _query_options(self, request: Request) -> int:
        """``min_chars`` from the query; options the reader was built with (``reader=``, ...)
        must match them, since the models are loaded once, at start."""
        min_chars = MIN_CHARS
        fixed = set(inspect.signature(PlateReader).parameters) - {"min_chars"}
        for key, value in request.query_params.multi_items():
            if key == "min_chars":
                if not value.isdigit():
                    raise HttpError(400, f"min_chars: expected a whole number >= 0, got "
                                    f"{value!r}")
                min_chars = int(value)
            elif key in fixed:
                loaded = self.reader_options.get(key)
                if loaded is None or str(loaded) != value:
                    raise HttpError(400, f"{key}={value}: this server was started with "
                                    f"{key}={loaded}; start one with that option to use it")
            else:
                raise HttpError(400, f"unknown query parameter {key!r}")
        return min_chars

    def _device(self) -> str:
        used = {p for m in self.reader.models.values() for p in m.providers}
        return "CPU" if used <= {"CPUExecutionProvider"} else "GPU"

    def close(self) -> None:
        self.queue.close()


def build_app(config: ServiceConfig, reader: PlateReader | None = None) -> Starlette:
    """The ASGI app; the reader's models load here, once."""
    service = PlateService(config, reader)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        service.close()

    # (path, name, endpoint, method); the name is the metrics' endpoint label.
    table = [
        ("/v1/read", "/v1/read", service.edge_read, "POST"),
        # CodeProject.AI's server routes by prefix: /v1/vision/alpr/ and below reach its module.
        ("/v1/vision/alpr{rest:path}", "/v1/vision/alpr", service.codeproject, "POST"),
        ("/v1/image/alpr{rest:path}", "/v1/image/alpr", service.codeproject, "POST"),
        ("/v1/plate-reader/", "/v1/plate-reader/", service.plate_reader, "POST"),
        ("/v1/plate-reader", "/v1/plate-reader", service.plate_reader, "POST"),
        ("/healthz", "/healthz", service.healthz, "GET"),
        ("/metrics", "/metrics", service.metrics_endpoint, "GET"),
    ]
    routes = [Route(path, endpoint, methods=[method], name=name)
              for path, name, endpoint, method in table]
    app = Starlette(routes=routes, exception_handlers=error_handlers(), lifespan=lifespan)
    app.router.redirect_slashes = False  # a path either is an endpoint or is a 404
    app.state.service = service
    # The last added runs first: count every response, answer unexpected errors, refuse bad
    # tokens, name the instance, refuse oversized bodies.
    app.add_middleware(BodyLimit, limit=config.max_body)
    app.add_middleware(ResponseHeaders, headers={"X-Edge-Alpr-Instance": service.instance})
    app.add_middleware(TokenAuth, token=config.token, open_paths=OPEN_PATHS)
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(RequestMetrics, metrics=service.metrics)
    return app
