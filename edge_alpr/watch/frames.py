"""A bounded frame queue between a camera's reading thread and its worker."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    index: int  # frame number in the source since it was (re)opened, counting all frames
    stamp: float  # wall-clock time it was read, seconds since the epoch (UTC)
    image: np.ndarray


class Closed(Exception):
    """The queue was closed and is empty: the source ended."""


class FrameQueue:
    """At most ``size`` frames. A live source never waits: ``put`` drops the oldest frame
    when full (counted in ``dropped``); a file source waits (``block=True``), since its
    frames are all there to be read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.dropped = 0
        self._items: deque[Frame] = deque()
        self._cond = threading.Condition()
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, frame: Frame, block: bool = False) -> None:
        with self._cond:
            if block:
                self._cond.wait_for(lambda: len(self._items) < self.size or self._closed)
            elif len(self._items) >= self.size:
                self._items.popleft()
                self.dropped += 1
            self._items.append(frame)
            self._cond.notify_all()

    def get(self, timeout: float) -> Frame | None:
        """The oldest frame; None when none came within ``timeout`` seconds. Raises
        :class:`Closed` once the queue is closed and empty."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._items or self._closed, timeout):
                return None
            if not self._items:
                raise Closed
            frame = self._items.popleft()
            self._cond.notify_all()
            return frame

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
