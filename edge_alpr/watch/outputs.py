"""Where events go. Every output takes an event's JSON and returns at once: one that talks to
the network queues it for its own thread, so a slow or dead endpoint never holds up reading."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, Protocol, TextIO


class Output(Protocol):
    name: str

    def publish(self, event: dict[str, Any]) -> None:
        """Hand over one event (never blocks on the network)."""

    def camera_state(self, camera: str, connected: bool) -> None:
        """A camera's stream came up or went down."""

    def status(self) -> dict[str, Any]:
        """Counters for the page and the logs."""

    def close(self) -> None:
        """Deliver what can be delivered within a short time, then stop."""


class JsonLines:
    """One JSON line per event, to a file (appended) or stdout."""

    name = "jsonl"

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: TextIO = (sys.stdout if path == "-"
                              else open(path, "a", encoding="utf-8"))  # noqa: SIM115
        self._lock = threading.Lock()
        self.written = 0

    def publish(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            self.written += 1

    def camera_state(self, camera: str, connected: bool) -> None:
        pass

    def status(self) -> dict[str, Any]:
        return {"path": self.path, "written": self.written}

    def close(self) -> None:
        if self._file is not sys.stdout:
            self._file.close()
