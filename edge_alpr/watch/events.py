"""Events: one per vehicle pass (and optionally a first "seen" one), built from a track, with
its watchlist match and its best crop and frame saved to the events folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..tracking import Track
from .watchlist import Match

log = logging.getLogger(__name__)

SEEN, END = "seen", "end"
CROP_MARGIN = 0.25  # of the plate box, on each side of the saved crop
FRAME_WIDTH = 1280  # saved frames wider than this are shrunk (the crop keeps full detail)


def utc_iso(stamp: float) -> str:
    """Seconds since the epoch as ISO 8601 UTC with milliseconds, e.g. 2026-11-26T12:00:00.000Z."""
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Event:
    kind: str  # SEEN or END
    camera: str
    track: Track
    match: Match | None
    crop: str  # saved file paths, "" when not saved
    frame: str

    @property
    def event_id(self) -> str:
        """Unique across runs: camera, first-seen time and track."""
        t = datetime.fromtimestamp(self.track.first_stamp, timezone.utc)
        ms = t.microsecond // 1000
        return f"{self.camera}-{t:%Y%m%dT%H%M%S}{ms:03d}-{self.track.track_id}"

    def to_dict(self) -> dict[str, Any]:
        """The event's JSON, used by every output. ``read`` is the best read in the one
        plate-read schema (``PlateResult.to_dict``)."""
        t = self.track
        return {
            "event": self.kind, "id": self.event_id, "camera": self.camera,
            "track": t.track_id, "first_seen": utc_iso(t.first_stamp),
            "last_seen": utc_iso(t.last_stamp), "frames": t.frames, "text": t.text,
            "confidence": round(t.confidence, 4),
            "candidates": [{"text": c, "share": round(s, 4)} for c, s in t.candidates],
            "layout": t.layout, "region": t.region, "region_name": t.region_name,
            "matches_pattern": t.matches_pattern, "direction": t.direction,
            "watchlist": self.match.to_dict() if self.match else None,
            "crop": self.crop, "frame": self.frame, "read": t.best.to_dict(),
        }


def save_pictures(folder: Path, event_id: str, track: Track) -> tuple[str, str]:
    """Write the best read's plate crop and frame (with the plate boxed) as JPEGs under
    ``folder/<UTC date>/``; returns their paths, or "" for what could not be written."""
    image = track.payload
    if not isinstance(image, np.ndarray):
        return "", ""
    day = datetime.fromtimestamp(track.first_stamp, timezone.utc).strftime("%Y-%m-%d")
    target = folder / day
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        log.error("events folder %s cannot be written: %s", target, e)
        return "", ""
    box = track.best.box
    h, w = image.shape[:2]
    crop = box.pad(CROP_MARGIN).crop(image)
    framed = image.copy()
    x0, y0, x1, y1 = box.clamp(w, h).to_int()
    cv2.rectangle(framed, (x0, y0), (x1, y1), (0, 200, 0), max(2, w // 640))
    if w > FRAME_WIDTH:
        framed = cv2.resize(framed, (FRAME_WIDTH, round(h * FRAME_WIDTH / w)),
                            interpolation=cv2.INTER_AREA)
    paths = []
    for suffix, picture in (("crop", crop), ("frame", framed)):
        path = target / f"{event_id}-{suffix}.jpg"
        ok = picture.size > 0 and cv2.imwrite(str(path), picture,
                                               [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            log.error("%s could not be written", path)
        paths.append(str(path) if ok else "")
    return paths[0], paths[1]
