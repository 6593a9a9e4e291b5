"""Camera sources: a thread per camera reads frames into its bounded queue, reopening a
stream that drops with growing waits; a file source ends cleanly at its end."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import cv2

from .config import CameraConfig
from .frames import Frame, FrameQueue

log = logging.getLogger(__name__)

BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0  # seconds before reopening a stream, doubling
STABLE_S = 10.0  # a connection that lasted this long resets the wait to BACKOFF_FIRST
OPEN_TIMEOUT_MS = 10_000  # opening a stream gives up after this long
READ_TIMEOUT_MS = 5_000  # a stream that sends no frame for this long has dropped
# RTSP over TCP unless the user set FFmpeg's capture options: no smeared frames from UDP loss.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
# FFmpeg's and OpenCV's own lines on a refused or dropped stream repeat what this module logs
# (set OPENCV_FFMPEG_LOGLEVEL yourself to see them).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

CONNECTING, CONNECTED, RECONNECTING, ENDED, FAILED = (
    "connecting", "connected", "reconnecting", "ended", "failed")


@dataclass(frozen=True)
class SourceStatus:
    state: str
    fps: float  # frames read per second from the source, recent average
    frames: int  # frames read since the start, all connections
    queued: int  # frames handed to the worker
    dropped: int  # frames dropped from the full queue
    reconnects: int
    error: str


class CameraSource(threading.Thread):
    """Reads ``camera``'s frames into ``queue`` until stopped (or the file ends)."""

    def __init__(self, camera: CameraConfig, queue: FrameQueue) -> None:
        super().__init__(name=f"source-{camera.name}", daemon=True)
        self.camera = camera
        self.queue = queue
        self.state = CONNECTING
        self.error = ""
        self.frames = 0
        self.queued = 0
        self.reconnects = 0
        self.fps = 0.0
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def status(self) -> SourceStatus:
        return SourceStatus(self.state, round(self.fps, 2), self.frames, self.queued,
                            self.queue.dropped, self.reconnects, self.error)

    def _open(self) -> cv2.VideoCapture:
        src = self.camera.source
        if isinstance(src, int):
            return cv2.VideoCapture(src)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS,
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS]
        return cv2.VideoCapture(src, cv2.CAP_FFMPEG, params)

    def run(self) -> None:
        cam = self.camera
        backoff = BACKOFF_FIRST
        try:
            while not self._stop_event.is_set():
                capture = self._open()
                if not capture.isOpened():
                    capture.release()
                    self.error = f"{cam.source} cannot be opened"
                    if cam.is_file:
                        self.state = FAILED
                        log.error("camera %s: %s", cam.name, self.error)
                        return
                    self.state = RECONNECTING
                    log.warning("camera %s: %s; retrying in %.0f s", cam.name, self.error,
                                backoff)
                    self._stop_event.wait(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
                    continue
                opened = time.monotonic()
                if self.state == RECONNECTING:
                    self.reconnects += 1
                    log.warning("camera %s: reconnected (reconnect %d)", cam.name,
                                self.reconnects)
                else:
                    log.info("camera %s: connected to %s", cam.name, cam.source)
                self.state, self.error = CONNECTED, ""
                read = self._read(capture)
                capture.release()
                if self._stop_event.is_set():
                    return
                if cam.is_file:
                    self.state = ENDED
                    log.info("camera %s: end of %s after %d frames", cam.name, cam.source, read)
                    return
                if time.monotonic() - opened > STABLE_S:
                    backoff = BACKOFF_FIRST
                self.state = RECONNECTING
                self.error = f"stream lost after {read} frames"
                log.warning("camera %s: %s; reopening in %.0f s", cam.name, self.error, backoff)
                self._stop_event.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
        except Exception as e:  # a broken camera never takes the process down
            self.state, self.error = FAILED, f"{type(e).__name__}: {e}"
            log.exception("camera %s failed", cam.name)
        finally:
            self.queue.close()

    def _read(self, capture: cv2.VideoCapture) -> int:
        """Read frames until the stream ends or fails; returns how many were read."""
        cam = self.camera
        index = read = 0
        last_put = float("-inf")
        window: list[float] = []  # recent read times, for fps
        while not self._stop_event.is_set():
            ok, image = capture.read()
            if not ok or image is None:
                return read
            now = time.time()
            index += 1
            read += 1
            self.frames += 1
            window.append(now)
            if len(window) > 30:
                window.pop(0)
            if len(window) > 1 and window[-1] > window[0]:
                self.fps = (len(window) - 1) / (window[-1] - window[0])
            if (index - 1) % cam.every:
                continue
            if cam.fps > 0:
                # Files by their own clock (they are read as fast as they are consumed),
                # streams by the wall clock.
                t = capture.get(cv2.CAP_PROP_POS_MSEC) / 1e3 if cam.is_file else now
                if t - last_put < 1.0 / cam.fps - 1e-3:
                    continue
                last_put = t
            self.queue.put(Frame(index, now, image), block=cam.is_file)
            self.queued += 1
        return read
