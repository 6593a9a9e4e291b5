"""Follow plates across video frames by box overlap and vote their text over each track."""

from __future__ import annotations

from dataclasses import dataclass, field

from .geometry import Box
from .pipeline import PlateResult

MIN_IOU = 0.3  # a plate moves little between the frames that are read
MAX_MISSED = 10  # frames read without the plate before its track ends


@dataclass(frozen=True)
class Track:
    """One plate seen over consecutive frames, with its text voted over them."""

    track_id: int
    first_frame: int
    last_frame: int
    frames: int  # frames in which the plate was read
    box: Box  # last box seen
    text: str
    confidence: float  # share of the vote the text got
    matches_pattern: bool
    region: str
    region_name: str

    def to_dict(self) -> dict[str, object]:
        return {"track": self.track_id, "first_frame": self.first_frame,
                "last_frame": self.last_frame, "frames": self.frames,
                "box": [round(v, 1) for v in self.box.as_list()], "text": self.text,
                "confidence": round(self.confidence, 4), "matches_pattern": self.matches_pattern,
                "region": self.region, "region_name": self.region_name}


@dataclass
class _Open:
    track_id: int
    first_frame: int
    last_frame: int
    box: Box
    reads: list[PlateResult] = field(default_factory=list)
    missed: int = 0  # read frames since the plate was last seen

    def close(self) -> Track:
        # Each read votes for its text with its confidence; standard-pattern reads first.
        votes: dict[str, float] = {}
        for r in self.reads:
            votes[r.text] = votes.get(r.text, 0.0) + r.confidence + (1.0 if r.matches_pattern
                                                                     else 0.0)
        text = max(votes, key=lambda t: votes[t])
        best = max((r for r in self.reads if r.text == text), key=lambda r: r.confidence)
        return Track(self.track_id, self.first_frame, self.last_frame, len(self.reads),
                     self.box, text, votes[text] / sum(votes.values()), best.matches_pattern,
                     best.region, best.region_name)


class PlateTracker:
    """Greedy IoU matching of each frame's plates to the open tracks."""

    def __init__(self, min_iou: float = MIN_IOU, max_missed: int = MAX_MISSED) -> None:
        self.min_iou = min_iou
        self.max_missed = max_missed
        self._open: list[_Open] = []
        self._next_id = 1

    def update(self, frame: int, plates: list[PlateResult]) -> list[Track]:
        """Add one read frame's plates; returns the tracks that ended before this frame."""
        pairs = sorted(((t.box.iou(p.box), ti, pi) for ti, t in enumerate(self._open)
                        for pi, p in enumerate(plates)), reverse=True)
        used_t: set[int] = set()
        used_p: set[int] = set()
        for iou, ti, pi in pairs:
            if iou < self.min_iou:
                break
            if ti in used_t or pi in used_p:
                continue
            used_t.add(ti)
            used_p.add(pi)
            track = self._open[ti]
            track.reads.append(plates[pi])
            track.box, track.last_frame, track.missed = plates[pi].box, frame, 0
        for ti, track in enumerate(self._open):
            if ti not in used_t:
                track.missed += 1
        for pi, p in enumerate(plates):
            if pi not in used_p and p.text:
                self._open.append(_Open(self._next_id, frame, frame, p.box, [p]))
                self._next_id += 1
        ended = [t for t in self._open if t.missed > self.max_missed]
        self._open = [t for t in self._open if t.missed <= self.max_missed]
        return [t.close() for t in ended]

    def finish(self) -> list[Track]:
        """Close every open track (end of the stream)."""
        ended, self._open = self._open, []
        return [t.close() for t in ended]
