"""Webhook: each event POSTed as JSON by a thread of its own, from a bounded queue (oldest
dropped when full), retried with doubling waits. Reading never waits for the endpoint."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections import deque
from typing import Any

from .config import WebhookConfig

log = logging.getLogger(__name__)

RETRY_FIRST, RETRY_MAX = 0.5, 30.0  # seconds between attempts, doubling
CLOSE_WAIT = 5.0  # seconds close() gives the queue to drain


class Webhook:
    name = "webhook"

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.sent = self.failed = self.dropped = 0
        self.last_error = ""
        self._queue: deque[dict[str, Any]] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self._thread.start()

    def publish(self, event: dict[str, Any]) -> None:
        cfg = self.config
        if cfg.lists and (event.get("watchlist") or {}).get("list") not in cfg.lists:
            return
        if event["event"] != "end" and not cfg.seen:
            return
        with self._cond:
            if len(self._queue) >= cfg.queue:
                self._queue.popleft()
                self.dropped += 1
                log.warning("webhook %s: queue full (%d); oldest event dropped", cfg.url,
                            cfg.queue)
            self._queue.append(event)
            self._cond.notify()

    def camera_state(self, camera: str, connected: bool) -> None:
        pass

    def _post(self, event: dict[str, Any]) -> None:
        body = json.dumps(event, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.config.url, data=body, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8",
                     "User-Agent": "edge-alpr-watch"})
        with urllib.request.urlopen(request, timeout=self.config.timeout) as response:
            response.read()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    return
                event = self._queue[0]
            wait = RETRY_FIRST
            for attempt in range(self.config.retries + 1):
                try:
                    self._post(event)
                    self.sent += 1
                    break
                except (urllib.error.URLError, OSError, ValueError) as e:
                    self.last_error = f"{type(e).__name__}: {e}"
                    if attempt == self.config.retries or self._closing:
                        self.failed += 1
                        log.error("webhook %s: event %s not delivered after %d attempt(s): %s",
                                  self.config.url, event.get("id"), attempt + 1,
                                  self.last_error)
                        break
                    log.warning("webhook %s: %s; retrying in %.1f s", self.config.url,
                                self.last_error, wait)
                    with self._cond:
                        self._cond.wait_for(lambda: self._closing, wait)
                    wait = min(wait * 2, RETRY_MAX)
            with self._cond:
                if self._queue and self._queue[0] is event:
                    self._queue.popleft()

    def status(self) -> dict[str, Any]:
        return {"url": self.config.url, "sent": self.sent, "failed": self.failed,
                "dropped": self.dropped, "queued": len(self._queue),
                "last_error": self.last_error}

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(CLOSE_WAIT)
