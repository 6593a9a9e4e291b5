"""The watch process: per camera a source thread and a worker thread, one shared reader, one
tracker per camera; events to the outputs, recent ones kept for the page.

A worker reads its camera's frames (region of interest only), drops plates narrower than the
camera's minimum, tracks them and turns tracks into events. When its queue stays empty for
IDLE_FLUSH_S (a stream that stalled or dropped) its open tracks end: their vehicles have
gone as far as anyone can tell, and their events should not wait for the stream to return.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from ..errors import EdgeAlprError
from ..pipeline import PlateReader, PlateResult, shift_read
from ..tracking import PlateTracker, Track
from .config import CameraConfig, WatchConfig
from .events import END, SEEN, Event, save_pictures, utc_iso
from .frames import Closed, FrameQueue
from .outputs import JsonLines, Output
from .readslog import Query, ReadsLog
from .sources import CONNECTED, FAILED, READ_TIMEOUT_MS, CameraSource
from .watchlist import Watchlist, fold

log = logging.getLogger(__name__)

IDLE_FLUSH_S = 3.0


def _version() -> str:
    try:
        return version("edge-alpr")
    except PackageNotFoundError:
        return "unknown"


class CameraWorker(threading.Thread):
    def __init__(self, camera: CameraConfig, watch: Watch) -> None:
        super().__init__(name=f"worker-{camera.name}", daemon=True)
        self.camera = camera
        self.watch = watch
        self.queue = FrameQueue(camera.queue)
        self.source = CameraSource(camera, self.queue)
        self.tracker = PlateTracker(max_missed=camera.max_missed, min_reads=camera.min_reads,
                                    report_unmatched=watch.config.report_unmatched,
                                    seen=watch.config.seen_events)
        self.frames_read = 0
        self.read_errors = 0
        self.events = 0
        self.last_event: dict[str, Any] | None = None
        self.error = ""
        self._was_connected = False

    def read(self, image: np.ndarray) -> list[PlateResult]:
        cam = self.camera
        view, dx, dy = image, 0, 0
        if cam.roi is not None:
            x0, y0, x1, y1 = cam.roi
            view, dx, dy = image[y0:y1, x0:x1], x0, y0
            if view.size == 0:  # a configuration error: the camera stops (logged once)
                raise ValueError(f"roi {list(cam.roi)} is outside the "
                                 f"{image.shape[1]}x{image.shape[0]} frame")
        plates = self.watch.reader.read(view, source=cam.name)
        return [shift_read(p, dx, dy) if dx or dy else p for p in plates
                if p.box.width >= cam.min_plate_width]

    def _follow_source(self) -> None:
        up = self.source.state == CONNECTED
        if up != self._was_connected:
            self._was_connected = up
            self.watch.camera_state(self.camera.name, up)

    def run(self) -> None:
        self.source.start()
        try:
            while True:
                self._follow_source()
                try:
                    frame = self.queue.get(IDLE_FLUSH_S)
                except Closed:
                    break
                if frame is None:
                    self._emit(self.tracker.finish())
                    continue
                try:
                    plates = self.read(frame.image)
                except EdgeAlprError as e:
                    self.read_errors += 1
                    log.error("camera %s: frame %d not read: %s", self.camera.name,
                              frame.index, e)
                    continue
                self.frames_read += 1
                self._emit(self.tracker.update(frame.index, plates, frame.stamp,
                                               payload=frame.image))
        except Exception as e:  # one camera's failure never stops the others
            self.error = f"{type(e).__name__}: {e}"
            # A bad setting is said in one line; anything else with its traceback.
            (log.error if isinstance(e, ValueError) else log.exception)(
                "camera %s: stopped: %s", self.camera.name, self.error)
        finally:
            self.source.stop()
            self.queue.close()
            self._emit(self.tracker.finish())
            self._follow_source()

    def _emit(self, tracks: list[Track]) -> None:
        for track in tracks:
            self.events += 1
            event = self.watch.event(self.camera.name, track)
            self.last_event = event

    def status(self) -> dict[str, Any]:
        s = self.source.status()
        last = self.last_event
        return {"name": self.camera.name, "state": FAILED if self.error else s.state,
                "fps": s.fps, "frames": s.frames,
                "frames_read": self.frames_read, "dropped": s.dropped,
                "queued": len(self.queue), "reconnects": s.reconnects,
                "error": self.error or s.error, "read_errors": self.read_errors,
                "events": self.events, "open_tracks": self.tracker.open_tracks,
                "last_event": None if last is None else {
                    k: last[k] for k in ("id", "text", "last_seen", "watchlist")}}


class Watch:
    """Everything ``edge-alpr watch`` runs. ``start`` it, then ``stop`` it (or ``wait`` for
    file sources to end)."""

    def __init__(self, config: WatchConfig, reader: PlateReader | None = None) -> None:
        self.config = config
        self.reader = reader or PlateReader(threads=config.threads)
        self.watchlist = (Watchlist(config.watchlist, config.max_distance)
                          if config.watchlist else None)
        self.recent: deque[dict[str, Any]] = deque(maxlen=config.recent)
        self.pictures: dict[str, tuple[str, str]] = {}  # event id -> crop, frame (recent)
        self._lock = threading.Lock()
        self.reads_log: ReadsLog | None = None
        self.outputs: list[Output] = []
        if config.reads_log:
            self.reads_log = ReadsLog(config.reads_log)
            self.outputs.append(self.reads_log)
        if config.jsonl:
            self.outputs.append(JsonLines(config.jsonl))
        if config.webhook:
            from .webhook import Webhook

            self.outputs.append(Webhook(config.webhook))
        if config.mqtt:
            from .mqtt import Mqtt

            self.outputs.append(Mqtt(config.mqtt, [c.name for c in config.cameras], _version()))
        self.workers = [CameraWorker(c, self) for c in config.cameras]
        self.started = time.time()

    def start(self) -> None:
        for w in self.workers:
            w.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for every camera to end (file sources); True when they all have."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for w in self.workers:
            w.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(w.is_alive() for w in self.workers)

    def stop(self) -> None:
        """Stop the sources, end the open tracks (their events go out), close the outputs."""
        for w in self.workers:
            w.source.stop()
            w.queue.close()
        for w in self.workers:  # a source blocked in a dead stream's read gives up by then
            w.join(READ_TIMEOUT_MS / 1e3 + 5)
            w.source.join(READ_TIMEOUT_MS / 1e3 + 5)
        for out in self.outputs:
            try:
                out.close()
            except Exception:
                log.exception("output %s did not close cleanly", out.name)

    def camera_state(self, camera: str, connected: bool) -> None:
        for out in self.outputs:
            try:
                out.camera_state(camera, connected)
            except Exception:
                log.exception("output %s failed on camera %s's state", out.name, camera)

    def event(self, camera: str, track: Track) -> dict[str, Any]:
        """Build, save and publish one event; returns its JSON."""
        match = self.watchlist.match(track.text) if self.watchlist else None
        draft = Event(SEEN if not track.ended else END, camera, track, match, "", "")
        crop, frame = save_pictures(self.config.events_dir / camera, draft.event_id, track)
        event = dataclasses.replace(draft, crop=crop, frame=frame).to_dict()
        with self._lock:
            self.recent.append(event)
            self.pictures[event["id"]] = (crop, frame)
            while len(self.pictures) > self.config.recent:  # oldest first (dict order)
                del self.pictures[next(iter(self.pictures))]
        log.info("camera %s: %s %s %s (%d frames, %s)%s", camera, event["event"],
                 event["text"], event["id"], event["frames"], event["direction"] or "-",
                 f", watchlist {match.entry.list} {match.entry.plate}" if match else "")
        for out in self.outputs:
            try:
                out.publish(event)
            except Exception:  # an output's failure never stops reading or the others
                log.exception("output %s failed on event %s", out.name, event["id"])
        return event

    def search(self, q: Query) -> list[dict[str, Any]]:
        """Recent events matching ``q``: from the reads log when there is one, else from
        memory."""
        if self.reads_log is not None:
            return self.reads_log.query(q)
        key = fold(q.plate)
        with self._lock:
            events = list(self.recent)
        hits = [e for e in reversed(events)
                if key in fold(e["text"]) and (not q.camera or e["camera"] == q.camera)
                and (not q.since or e["first_seen"] >= q.since)
                and (not q.until or e["first_seen"] <= q.until)
                and (not q.kind or e["event"] == q.kind)]
        return hits[:q.limit]

    def picture(self, event_id: str, which: str) -> str:
        """The saved crop or frame of an event ("" when unknown)."""
        with self._lock:
            paths = self.pictures.get(event_id)
        if paths is None and self.reads_log is not None:
            found = self.reads_log.get(event_id)
            paths = (found["crop"], found["frame"]) if found else None
        if paths is None:
            return ""
        return paths[0] if which == "crop" else paths[1]

    def status(self) -> dict[str, Any]:
        return {"started": utc_iso(self.started), "now": utc_iso(time.time()),
                "cameras": [w.status() for w in self.workers],
                "outputs": {o.name: o.status() for o in self.outputs},
                "watchlist": None if self.watchlist is None else {
                    "path": str(self.watchlist.path), "entries": len(self.watchlist)}}
