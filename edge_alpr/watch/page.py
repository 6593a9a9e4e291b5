"""The watch page: recent events with their crops, search by plate and time, camera status.

A Starlette app (the HTTP stack of ``edge-alpr serve``) served by uvicorn in a thread of the
watch process. Plain HTML, CSS and JS from ``static/``; the JSON API is what the page uses:

- ``GET /api/events?plate=&camera=&since=&until=&limit=``: events, newest first
- ``GET /api/status``: cameras (state, fps, dropped frames, last event) and outputs
- ``GET /media/{event id}/crop`` and ``/frame``: an event's saved pictures
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

from . import require
from .readslog import Query, QueryError, ReadsLogError
from .runner import Watch

STATIC = Path(__file__).parent / "static"
MAX_LIMIT = 500


class PageError(ValueError):
    """The page cannot be served (bad address, port taken)."""


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:port`` for IPv6) -> (host, port)."""
    m = re.fullmatch(r"\[?([^\[\]]+?)\]?:(\d{1,5})", address)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise PageError(f"--http {address!r}: expected HOST:PORT, e.g. 127.0.0.1:8090")
    return m.group(1), int(m.group(2))


def make_app(watch: Watch) -> Any:
    require("starlette")  # the install hint when missing
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    def bad(message: str, status: int = 400) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def index(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html")

    async def events(request: Request) -> JSONResponse:
        p = request.query_params
        unknown = set(p) - {"plate", "camera", "since", "until", "limit", "kind"}
        if unknown:
            return bad(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        try:
            limit = int(p.get("limit", "50"))
        except ValueError:
            return bad("limit must be a whole number")
        if not 1 <= limit <= MAX_LIMIT:
            return bad(f"limit must be between 1 and {MAX_LIMIT}")
        kind = p.get("kind", "end")
        if kind not in ("end", "seen", "all"):
            return bad("kind must be end, seen or all")
        try:
            q = Query(plate=p.get("plate", "").strip()[:32], camera=p.get("camera", ""),
                      since=p.get("since", ""), until=p.get("until", ""),
                      kind="" if kind == "all" else kind, limit=limit)
        except QueryError as e:
            return bad(str(e))
        try:
            found = watch.search(q)
        except ReadsLogError as e:
            return bad(str(e), 500)
        for e in found:  # the page shows pictures through /media, never by file path
            e["crop_url"] = f"/media/{e['id']}/crop" if e.get("crop") else ""
            e["frame_url"] = f"/media/{e['id']}/frame" if e.get("frame") else ""
        return JSONResponse({"events": found})

    async def status(request: Request) -> JSONResponse:
        return JSONResponse(watch.status())

    async def media(request: Request) -> FileResponse | JSONResponse:
        which = request.path_params["which"]
        if which not in ("crop", "frame"):
            return bad("expected /media/{event id}/crop or /frame", 404)
        path = watch.picture(request.path_params["event_id"], which)
        if not path or not Path(path).is_file():
            return bad("no such picture", 404)
        return FileResponse(path, media_type="image/jpeg")

    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return bad(exc.detail, exc.status_code)

    return Starlette(routes=[
        Route("/", index), Route("/api/events", events), Route("/api/status", status),
        Route("/media/{event_id}/{which}", media),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ], exception_handlers={HTTPException: http_error})


class PageServer:
    """uvicorn serving the page in a thread, until ``stop``."""

    def __init__(self, watch: Watch, address: str) -> None:
        uvicorn = require("uvicorn")
        self.host, self.port = parse_address(address)
        config = uvicorn.Config(make_app(watch), host=self.host, port=self.port,
                                log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="page", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise PageError(f"the page cannot listen on {self.host}:{self.port} "
                                "(address in use or not this machine's?)")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)
