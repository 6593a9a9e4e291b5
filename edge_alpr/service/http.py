"""HTTP building blocks for edge-alpr's Starlette apps: JSON errors, a body size limit, token
authentication and bounded form parsing. Nothing here knows about plates.

Every error a client gets is JSON, ``{"success": false, "error": "...", "code": N}`` (the
CodeProject.AI failure shape, which other clients read as well), is logged once, and never
carries a traceback.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData, Headers
from starlette.exceptions import HTTPException
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# Bounds for a form, whatever the body limit: a plate-reading request has one image and a few
# fields; more is a malformed or hostile request.
MAX_FORM_FILES = 4
MAX_FORM_FIELDS = 64


class HttpError(Exception):
    """A request that cannot be served, with the status and the message the client gets."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class BodyTooLarge(HttpError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over the limit of {limit} bytes")


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"success": False, "error": message, "code": status}


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None
                   ) -> JSONResponse:
    return JSONResponse(error_body(status, message), status, headers=dict(headers or {}))


def _request_line(request: Request) -> str:
    client = request.client.host if request.client else "-"
    return f"{client} {request.method} {request.url.path}"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpError)
    log.warning("%s -> %d: %s", _request_line(request), exc.status, exc.message)
    return error_response(exc.status, exc.message, exc.headers)


async def _starlette_error(request: Request, exc: Exception) -> Response:
    """Routing's 404 and 405 (with its Allow header) and Starlette's own 400s, as JSON."""
    assert isinstance(exc, HTTPException)
    log.warning("%s -> %d: %s", _request_line(request), exc.status_code, exc.detail)
    return error_response(exc.status_code, str(exc.detail), exc.headers)


def error_handlers() -> dict[Any, Any]:
    """Starlette ``exception_handlers`` for the errors raised on purpose: ours and routing's.
    Anything else is :class:`UnexpectedErrors`' to answer."""
    return {HttpError: _http_error, HTTPException: _starlette_error}


class UnexpectedErrors:
    """ASGI middleware: an exception no handler took is logged once, with its traceback, and
    answered with a JSON 500 that names only its type. (Starlette's own last-resort handler
    re-raises to the server, which logs it a second time.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.error("%s %s %s -> 500", _client(scope), scope["method"], scope["path"],
                      exc_info=exc)
            if not started:
                await error_response(500, f"internal error ({type(exc).__name__}); see the "
                                     "server log")(scope, receive, send)


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with 413, by its
    Content-Length before anything is read, or while it streams in (chunked uploads)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            log.warning("%s %s -> 413: Content-Length %s over %d", _client(scope),
                        scope["path"], length, self.limit)
            await error_response(413, str(BodyTooLarge(self.limit)))(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counting_receive, send)


class TokenAuth:
    """ASGI middleware: with a token set, every path but ``open_paths`` needs the header
    ``Authorization: Token <token>`` (Plate Recognizer's form; ``Bearer`` is accepted too)."""

    def __init__(self, app: ASGIApp, token: str | None, open_paths: frozenset[str]) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.token is None or scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        scheme, _, given = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() in ("token", "bearer") and hmac.compare_digest(
                given.strip().encode(), self.token):
            await self.app(scope, receive, send)
            return
        problem = "wrong token" if given else "missing token: send 'Authorization: Token <token>'"
        log.warning("%s %s -> 401: %s", _client(scope), scope["path"], problem)
        await error_response(401, problem, {"WWW-Authenticate": "Token"})(scope, receive, send)


class ResponseHeaders:
    """ASGI middleware: adds fixed headers to every response."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def adding_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.raw]}
            await send(message)

        await self.app(scope, receive, adding_send)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "-"


class _InMemoryMultiPart(MultiPartParser):
    """Starlette's parser, keeping file parts in memory (bounded by the body limit) instead
    of spilling them to a temporary file: images are never written to disk."""

    def __init__(self, *args: Any, spool: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spool_max_size = spool


async def parse_form(request: Request, max_bytes: int) -> FormData:
    """The request's multipart or url-encoded form, each part at most ``max_bytes``.

    Any other content type is a 415; a malformed form is a 400 naming the problem."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "multipart/form-data":
            return await _InMemoryMultiPart(
                request.headers, request.stream(), max_files=MAX_FORM_FILES,
                max_fields=MAX_FORM_FIELDS, max_part_size=max_bytes, spool=max_bytes).parse()
        if content_type == "application/x-www-form-urlencoded":
            return await FormParser(request.headers, request.stream(),
                                    max_fields=MAX_FORM_FIELDS, max_part_size=max_bytes).parse()
    except MultiPartException as e:
        raise HttpError(400, f"malformed form: {e.message}") from e
    raise HttpError(415, f"expected a multipart/form-data or url-encoded form, got "
                    f"{content_type or 'no Content-Type'}")
