"""A bounded queue in front of the shared reader: ``workers`` frames read at once, at most
``depth`` more requests waiting; a request beyond that is refused at once (503), before its
body is read, so memory stays bounded by (workers + depth) request bodies."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from .http import HttpError

T = TypeVar("T")

# Seconds a refused client is told to wait: about the time the queue takes to move on.
RETRY_AFTER_S = 1


class QueueFull(HttpError):
    def __init__(self, limit: int) -> None:
        super().__init__(503, f"busy: {limit} requests are being read or waiting; retry later",
                         {"Retry-After": str(RETRY_AFTER_S)})


class ReadQueue:
    """Admission and worker threads for reads. ``admit`` is called on the event loop (one
    thread); the counts it keeps are read by the metrics."""

    def __init__(self, workers: int, depth: int) -> None:
        if workers < 1 or depth < 0:
            raise ValueError(f"workers must be >= 1 and depth >= 0, got {workers}, {depth}")
        self.workers = workers
        self.depth = depth
        self.admitted = 0  # requests being read or waiting for a worker
        self._running = 0
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="edge-alpr-read")

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return max(0, self.admitted - self._running)

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold a place for one request, or raise :class:`QueueFull` when none is left."""
        if self.admitted >= self.workers + self.depth:
            raise QueueFull(self.workers + self.depth)
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` on a worker thread (an admitted request waits here for one)."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, self._counted, fn, args)

    def _counted(self, fn: Callable[..., T], args: tuple[object, ...]) -> T:
        with self._lock:
            self._running += 1
        try:
            return fn(*args)
        finally:
            with self._lock:
                self._running -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
