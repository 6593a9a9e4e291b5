"""The reads log: every event in a SQLite file, indexed by plate and by time, queried by
``edge-alpr reads`` and the page."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EdgeAlprError
from .watchlist import fold

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    camera TEXT NOT NULL,
    track INTEGER NOT NULL,
    plate TEXT NOT NULL,
    plate_key TEXT NOT NULL,          -- the plate with look-alikes folded (watchlist.fold)
    first_seen TEXT NOT NULL,         -- ISO 8601 UTC: sorts as text
    last_seen TEXT NOT NULL,
    frames INTEGER NOT NULL,
    confidence REAL NOT NULL,
    direction TEXT NOT NULL,
    list TEXT,                        -- watchlist list matched, NULL when none
    label TEXT,
    crop TEXT NOT NULL,
    frame TEXT NOT NULL,
    json TEXT NOT NULL,               -- the whole event
    PRIMARY KEY (id, kind)
);
CREATE INDEX IF NOT EXISTS events_plate_time ON events (plate_key, first_seen);
CREATE INDEX IF NOT EXISTS events_time ON events (first_seen);
"""
CSV_COLUMNS = ("id", "kind", "camera", "track", "plate", "first_seen", "last_seen", "frames",
               "confidence", "direction", "list", "label", "crop", "frame")


class ReadsLogError(EdgeAlprError, ValueError):
    """A reads log that cannot be opened or queried; the message names the file."""


# ISO 8601 UTC times as stored, or a prefix of one (a day, a minute): they compare as text.
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?Z?)?$")


class QueryError(ReadsLogError):
    """A query that cannot be asked (e.g. a time that is not ISO 8601)."""


@dataclass(frozen=True)
class Query:
    plate: str = ""  # folded substring of the plate ("4253" finds 4253УБГ)
    camera: str = ""
    since: str = ""  # ISO 8601 UTC bounds on first_seen, inclusive
    until: str = ""
    kind: str = "end"  # "" for every kind
    limit: int = 100

    def __post_init__(self) -> None:
        for key in ("since", "until"):
            value = getattr(self, key)
            if value and not TIME.match(value):
                raise QueryError(f"{key} {value!r} is not an ISO 8601 UTC time "
                                 "(e.g. 2026-11-26 or 2026-11-26T12:00:00Z)")

    def where(self) -> tuple[str, list[Any]]:
        clauses, args = [], []
        if self.plate:
            clauses.append("plate_key LIKE ? ESCAPE '\\'")
            key = fold(self.plate).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{key}%")
        for column, op, value in (("camera", "=", self.camera), ("first_seen", ">=", self.since),
                                  ("first_seen", "<=", self.until), ("kind", "=", self.kind)):
            if value:
                clauses.append(f"{column} {op} ?")
                args.append(value)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


class ReadsLog:
    """One connection, shared by the camera workers and the page under a lock."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        try:
            if readonly:
                if not path.is_file():
                    raise ReadsLogError(f"{path}: no such reads log")
                self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                           check_same_thread=False)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(SCHEMA)
            self._db.execute("SELECT 1 FROM events LIMIT 1").fetchall()
        except (sqlite3.Error, OSError) as e:
            raise ReadsLogError(f"{path}: not a usable reads log: {e}") from e
        self._lock = threading.Lock()
        self.written = 0

    name = "reads_log"

    def publish(self, event: dict[str, Any]) -> None:
        wl = event.get("watchlist") or {}
        row = (event["id"], event["event"], event["camera"], event["track"], event["text"],
               fold(event["text"]), event["first_seen"], event["last_seen"], event["frames"],
               event["confidence"], event["direction"], wl.get("list"), wl.get("label"),
               event["crop"], event["frame"], json.dumps(event, ensure_ascii=False))
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO events VALUES ({','.join('?' * 16)})",
                             row)
            self._db.commit()
            self.written += 1

    def camera_state(self, camera: str, connected: bool) -> None:
        pass

    def query(self, q: Query) -> list[dict[str, Any]]:
        """Matching events (their whole JSON), newest first."""
        where, args = q.where()
        sql = f"SELECT json FROM events{where} ORDER BY first_seen DESC LIMIT ?"
        try:
            with self._lock:
                rows = self._db.execute(sql, [*args, q.limit]).fetchall()
        except sqlite3.Error as e:
            raise ReadsLogError(f"{self.path}: query failed: {e}") from e
        return [json.loads(r[0]) for r in rows]

    def get(self, event_id: str) -> dict[str, Any] | None:
        """One event by id (its end event when it also had a seen one)."""
        with self._lock:
            row = self._db.execute("SELECT json FROM events WHERE id = ? ORDER BY kind = 'end' "
                                   "DESC LIMIT 1", (event_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def rows(self, q: Query) -> Iterator[tuple]:
        """Matching events as CSV_COLUMNS tuples, oldest first (for export)."""
        where, args = q.where()
        sql = (f"SELECT {', '.join(CSV_COLUMNS)} FROM events{where} ORDER BY first_seen"
               + (" LIMIT ?" if q.limit else ""))
        try:
            with self._lock:
                yield from self._db.execute(sql, [*args, *([q.limit] if q.limit else [])])
        except sqlite3.Error as e:
            raise ReadsLogError(f"{self.path}: query failed: {e}") from e

    def status(self) -> dict[str, Any]:
        return {"path": str(self.path), "written": self.written}

    def close(self) -> None:
        with self._lock:
            self._db.close()
