"""``edge-alpr watch CONFIG``: run the cameras until every source ends (files) or the process
is told to stop (SIGINT, SIGTERM); open tracks end then and their events go out. With a page,
the process keeps serving it after the sources end, until stopped."""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading

from .config import load_config
from .runner import Watch
from .sources import FAILED

log = logging.getLogger(__name__)


def run(config_path: str, http: str | None = None, report_unmatched: bool = False,
        seen: bool = False) -> int:
    """Run the watch; returns the exit code (0: stopped or every source ended, 1: a camera
    failed). Configuration errors raise (ConfigError, WatchlistError, ReadsLogError, ...)."""
    config = load_config(config_path)
    config = dataclasses.replace(config, http=http if http is not None else config.http,
                                 report_unmatched=report_unmatched or config.report_unmatched,
                                 seen_events=seen or config.seen_events)
    if config.http:
        from .page import PageServer, parse_address

        parse_address(config.http)  # a bad address fails before anything starts
    watch = Watch(config)
    page = PageServer(watch, config.http) if config.http else None
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT,
                                                                     signal.SIGTERM)}
    try:
        if page is not None:
            page.start()
            log.info("page on http://%s:%d/", page.host, page.port)
        watch.start()
        ended = False
        while not stop.wait(0.5):
            if not ended and watch.wait(timeout=0):
                ended = True
                if page is None:
                    log.info("every source ended")
                    break
                log.info("every source ended; the page stays up until stopped")
    finally:
        watch.stop()
        if page is not None:
            page.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 1 if any(c["state"] == FAILED for c in watch.status()["cameras"]) else 0
