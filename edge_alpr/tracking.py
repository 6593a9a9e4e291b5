"""Follow plates across video frames and vote their text over each track.

A plate read in a frame joins the open track it fits best by place and by text: its box near
where the track's box was heading (constant velocity of centre and size, so a view that pans
or zooms keeps the track) and its text close to the track's. A read far from every track but
spelling nearly the track's text still joins it within a few plate widths: a fast move or a
missed frame does not split a vehicle in two; nor does a misread where the view jumped (a
younger track that comes to vote for the same standard text as a track that lost its plate is
joined to it). A track ends after ``max_missed`` read frames
without its plate; it is reported only when it was read at least ``min_reads`` times and its
voted text fits the plate grammar (``report_unmatched`` reports the others too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .geometry import Box
from .metrics import edit_distance
from .pipeline import PlateResult

MAX_MISSED = 10  # read frames without the plate before its track ends
MIN_READS = 2  # a plate read once is more often a sign or a wheel than a vehicle
# Gates: a read joins a track when its box, against the track's predicted box, overlaps at
# least MIN_IOU, or its centre is within NEAR plate widths; a read whose text is within
# TEXT_NEAR edits of the track's text may be up to FAR widths away (a fast pan, a lost frame).
MIN_IOU = 0.3
NEAR = 0.5
FAR = 3.0
TEXT_NEAR = 2
# Two standard texts this many edits apart are two plates, however close their boxes (the next
# car at a gate); a track that lost its plate is joined by a younger one of its text (a split)
# within JOIN_FAR plate widths of where it was heading.
TEXT_FAR = 4
JOIN_FAR = 6.0
MAX_SCALE = 2.0  # size change between two reads of one plate, either way
# Box growth (last over first, fitted over the reads) that makes a track approaching or leaving.
DIRECTION_GROWTH = 1.15
APPROACHING, LEAVING, STATIONARY = "approaching", "leaving", "stationary"
# What a track keeps, bounded however long it lasts (a parked car is read for hours): the best
# read (and its payload, e.g. a frame) of this many texts, votes for this many texts.
_KEPT_TEXTS = 3
_VOTED_TEXTS = 32


@dataclass(frozen=True)
class Track:
    """One plate seen over frames, its text voted over its reads.

    ``ended`` is False for a "seen" snapshot of a track still open (see ``PlateTracker``).
    ``best`` is the read of the voted text with the highest confidence (larger boxes
    preferred); ``payload`` is what the caller passed with that read (e.g. its frame).
    """

    track_id: int
    first_frame: int
    last_frame: int
    first_stamp: float
    last_stamp: float
    frames: int  # frames in which the plate was read
    box: Box  # last box seen
    text: str
    confidence: float  # share of the vote the text got
    candidates: tuple[tuple[str, float], ...]  # texts and their vote shares, best first
    matches_pattern: bool
    layout: str
    region: str
    region_name: str
    direction: str  # APPROACHING, LEAVING, STATIONARY, or "" from a single read
    best: PlateResult
    best_frame: int
    ended: bool = True
    payload: Any = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready values; ``best`` is the read's own schema (PlateResult.to_dict)."""
        return {"track": self.track_id, "first_frame": self.first_frame,
                "last_frame": self.last_frame, "frames": self.frames,
                "box": [round(v, 1) for v in self.box.as_list()], "text": self.text,
                "confidence": round(self.confidence, 4),
                "candidates": [{"text": t, "share": round(s, 4)} for t, s in self.candidates],
                "matches_pattern": self.matches_pattern, "layout": self.layout,
                "region": self.region, "region_name": self.region_name,
                "direction": self.direction, "best_frame": self.best_frame,
                "best": self.best.to_dict()}


def _distance(a: Box, b: Box) -> float:
    """Distance between the boxes' centres, in widths of the wider one."""
    (ax, ay), (bx, by) = a.center, b.center
    return math.hypot(ax - bx, ay - by) / max(a.width, b.width)


def _quality(read: PlateResult) -> tuple[bool, float]:
    # A standard read first, then confidence, discounted for plates too small to see well.
    return read.matches_pattern, read.confidence * min(1.0, read.box.width / 150.0)


@dataclass
class _Open:
    track_id: int
    first_frame: int
    first_stamp: float
    last_frame: int
    last_stamp: float
    box: Box
    first_box: Box
    velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)  # centre x, y, log width per frame
    votes: dict[str, float] = field(default_factory=dict)
    best: dict[str, tuple[tuple[bool, float], PlateResult, int, Any]] = field(
        default_factory=dict)
    # Sums over the reads of frame f and log box height s, for the least-squares growth:
    # n, Σf, Σs, Σf², Σfs.
    sums: list[float] = field(default_factory=lambda: [0.0] * 5)
    reads: int = 0
    missed: int = 0  # read frames since the plate was last seen
    seen_sent: bool = False

    @property
    def leading(self) -> str:
        return max(self.votes, key=self.votes.__getitem__)

    def predicted(self, frame: int) -> Box:
        gap = frame - self.last_frame
        cx, cy = self.box.center
        vx, vy, vs = self.velocity
        s = math.exp(vs * gap)
        w, h = self.box.width * s / 2, self.box.height * s / 2
        cx, cy = cx + vx * gap, cy + vy * gap
        return Box(cx - w, cy - h, cx + w, cy + h)

    def add(self, frame: int, stamp: float, read: PlateResult, payload: Any) -> None:
        if self.reads:
            gap = max(1, frame - self.last_frame)
            (ox, oy), (nx, ny) = self.box.center, read.box.center
            self.velocity = ((nx - ox) / gap, (ny - oy) / gap,
                             math.log(read.box.width / self.box.width) / gap)
        self.box, self.last_frame, self.last_stamp, self.missed = read.box, frame, stamp, 0
        self.reads += 1
        # Each read votes for its text with its confidence; standard-pattern reads first.
        self.votes[read.text] = (self.votes.get(read.text, 0.0) + read.confidence
                                 + (1.0 if read.matches_pattern else 0.0))
        q = _quality(read)
        if read.text not in self.best or q > self.best[read.text][0]:
            self.best[read.text] = (q, read, frame, payload)
        self._prune()
        f, h = frame - self.first_frame, math.log(read.box.height)
        for i, v in enumerate((1.0, f, h, f * f, f * h)):
            self.sums[i] += v

    def _prune(self) -> None:
        while len(self.best) > _KEPT_TEXTS:  # drop the reads of the least voted text
            del self.best[min(self.best, key=self.votes.__getitem__)]
        while len(self.votes) > _VOTED_TEXTS:  # forget the least voted text without a read
            del self.votes[min((t for t in self.votes if t not in self.best),
                               key=self.votes.__getitem__)]

    @property
    def voted(self) -> str:
        """The best-voted text whose best read is kept."""
        return max(self.best, key=self.votes.__getitem__)

    def absorb(self, later: _Open) -> None:
        """Take in ``later``, a younger track of the same plate (see PlateTracker)."""
        for text, v in later.votes.items():
            self.votes[text] = self.votes.get(text, 0.0) + v
        for text, entry in later.best.items():
            if text not in self.best or entry[0] > self.best[text][0]:
                self.best[text] = entry
        self._prune()
        d = later.first_frame - self.first_frame  # its sums count frames from its own start
        n, sf, sh, sff, sfh = later.sums
        for i, v in enumerate((n, sf + n * d, sh, sff + 2 * d * sf + n * d * d, sfh + d * sh)):
            self.sums[i] += v
        self.reads += later.reads
        self.box, self.velocity, self.missed = later.box, later.velocity, later.missed
        self.last_frame, self.last_stamp = later.last_frame, later.last_stamp
        self.seen_sent = self.seen_sent or later.seen_sent

    def direction(self) -> str:
        n, sf, sh, sff, sfh = self.sums
        if n < 2:
            return ""
        var = sff - sf * sf / n
        if var <= 1e-9:
            return STATIONARY
        slope = (sfh - sf * sh / n) / var
        growth = math.exp(slope * (self.last_frame - self.first_frame))
        return (APPROACHING if growth >= DIRECTION_GROWTH
                else LEAVING if growth <= 1 / DIRECTION_GROWTH else STATIONARY)

    def snapshot(self, ended: bool) -> Track:
        text = self.voted
        _, best, best_frame, payload = self.best[text]
        total = sum(self.votes.values())
        ranked = sorted(self.votes.items(), key=lambda kv: -kv[1])[:5]
        return Track(self.track_id, self.first_frame, self.last_frame, self.first_stamp,
                     self.last_stamp, self.reads, self.box, text, self.votes[text] / total,
                     tuple((t, v / total) for t, v in ranked), best.matches_pattern,
                     best.layout, best.region, best.region_name, self.direction(), best,
                     best_frame, ended, payload)


class PlateTracker:
    """Matches each frame's plates to the open tracks (greedy, best pairs first).

    ``update`` returns the tracks that ended, and with ``seen=True`` also a snapshot
    (``ended=False``) of each track the first time it qualifies for a report, for callers
    that must react before the vehicle has passed (a barrier).
    """

    def __init__(self, max_missed: int = MAX_MISSED, min_reads: int = MIN_READS,
                 report_unmatched: bool = False, seen: bool = False) -> None:
        self.max_missed = max_missed
        self.min_reads = min_reads
        self.report_unmatched = report_unmatched
        self.seen = seen
        self._open: list[_Open] = []
        self._next_id = 1

    @property
    def open_tracks(self) -> int:
        return len(self._open)

    def _score(self, track: _Open, frame: int, read: PlateResult) -> float | None:
        """How well ``read`` fits ``track`` (higher is better), None when it cannot be it."""
        pred = track.predicted(frame)
        scale = read.box.width / pred.width
        if not 1 / MAX_SCALE <= scale <= MAX_SCALE:
            return None
        dist = _distance(pred, read.box)
        iou = pred.iou(read.box)
        edits = min(edit_distance(read.text, t) for t in track.votes)
        voted = track.best[track.voted][1]
        if (read.matches_pattern and voted.matches_pattern
                and edit_distance(read.text, voted.text) >= TEXT_FAR):
            return None
        if iou < MIN_IOU and dist > NEAR and not (edits <= TEXT_NEAR and dist <= FAR):
            return None
        return iou + max(0.0, 1.0 - dist / FAR) + max(0.0, 1.0 - edits / 7)

    def _reportable(self, track: _Open) -> bool:
        if track.reads < self.min_reads:
            return False
        return self.report_unmatched or track.snapshot(False).matches_pattern

    def update(self, frame: int, plates: list[PlateResult], stamp: float = 0.0,
               payload: Any = None) -> list[Track]:
        """Add one read frame's plates (``stamp``: its time, ``payload``: kept with the best
        read of each track, e.g. the frame). Returns the tracks that ended (and "seen"
        snapshots, see the class)."""
        pairs = sorted(((s, ti, pi) for ti, t in enumerate(self._open)
                        for pi, p in enumerate(plates) if p.text
                        if (s := self._score(t, frame, p)) is not None), reverse=True)
        used_t: set[int] = set()
        used_p: set[int] = set()
        for _, ti, pi in pairs:
            if ti in used_t or pi in used_p:
                continue
            used_t.add(ti)
            used_p.add(pi)
            self._open[ti].add(frame, stamp, plates[pi], payload)
        for ti, track in enumerate(self._open):
            if ti not in used_t:
                track.missed += 1
        for pi, p in enumerate(plates):
            if pi not in used_p and p.text:
                track = _Open(self._next_id, frame, stamp, frame, stamp, p.box, p.box)
                track.add(frame, stamp, p, payload)
                self._open.append(track)
                self._next_id += 1
        self._join_splits()
        out: list[Track] = []
        if self.seen:
            for t in self._open:
                if not t.seen_sent and t.missed == 0 and self._reportable(t):
                    t.seen_sent = True
                    out.append(t.snapshot(False))
        ended = [t for t in self._open if t.missed > self.max_missed]
        self._open = [t for t in self._open if t.missed <= self.max_missed]
        return out + [t.snapshot(True) for t in ended if self._reportable(t)]

    def _join_splits(self) -> None:
        """One vehicle, two tracks: a track lost its plate (a misread just where the view
        jumped started a new track there) and a younger track, begun after the old one's last
        read, now votes for the same standard text. The old track takes the young one in."""
        for young in sorted(self._open, key=lambda t: -t.first_frame):
            if young.missed or young.reads < 2:
                continue
            text = young.voted
            if not young.best[text][1].matches_pattern:
                continue
            olds = [t for t in self._open
                    if t.last_frame < young.first_frame and t.voted == text
                    and _distance(t.predicted(young.first_frame), young.first_box) <= JOIN_FAR]
            if olds:
                max(olds, key=lambda t: t.last_frame).absorb(young)
                self._open.remove(young)

    def finish(self) -> list[Track]:
        """Close every open track (end of the stream); the reportable ones are returned."""
        ended, self._open = self._open, []
        return [t.snapshot(True) for t in ended if self._reportable(t)]
