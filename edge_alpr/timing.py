"""Per-stage wall-clock timing for one frame, filled in by the pipeline when asked."""

from __future__ import annotations

import time


class StageClock:
    """Time per stage, in seconds. Each :meth:`lap` charges the time since the previous lap
    (or since the clock was made) to a stage; a stage run several times in a frame (one per
    plate) accumulates. One clock per frame: it is not shared between threads."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + (now - self._last)
        self._last = now
