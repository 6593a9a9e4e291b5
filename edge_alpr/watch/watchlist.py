"""Known plates from a CSV file (plate, label, list), matched with homoglyph folding and an
edit distance.

Plates typed by people come in Latin letters as often as in Cyrillic (``4253YБГ``), with O
for 0 and the other way round. Both sides of a match are folded first, then the edit distance
between the folded texts decides. Folding reads the plate grammar (``edge_alpr.grammar``):
Latin look-alikes become their Cyrillic letter; in a text as long as a plate, a letter that
looks like a digit (О, Ө: 0, З: 3, В: 8, Ч: 4) becomes that digit in a digit slot and the other
way round in a letter slot; then Ө folds into О and Ү into У, the look-alike vowels that
keyboards and misreads confuse most.
"""

from __future__ import annotations

import csv
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from ..alphabet import DIGITS, LETTERS
from ..errors import EdgeAlprError
from ..grammar import DIGIT, LETTER, PATTERN
from ..metrics import edit_distance

log = logging.getLogger(__name__)

LISTS = ("deny", "alert", "allow")  # a tie between entries goes to the earlier list
_LATIN = str.maketrans({"A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М",
                        "O": "О", "P": "Р", "T": "Т", "X": "Х", "Y": "У", "Q": "О",
                        **{c: None for c in " -_.·"}})  # and separators people type
_AS_DIGIT = {"О": "0", "Ө": "0", "З": "3", "В": "8", "Ч": "4"}
_AS_LETTER = {"0": "О", "3": "З", "8": "В", "4": "Ч"}
_VOWELS = str.maketrans({"Ө": "О", "Ү": "У"})
class WatchlistError(EdgeAlprError, ValueError):
    """A watchlist file that cannot be used; the message names the file and the line."""


def fold(text: str) -> str:
    """The text with look-alikes folded and separators removed (upper case)."""
    text = text.upper().translate(_LATIN)
    if len(text) == len(PATTERN):
        swap = {DIGIT: _AS_DIGIT, LETTER: _AS_LETTER}
        text = "".join(swap[PATTERN.slots[i]].get(c, c) for i, c in enumerate(text))
    return text.translate(_VOWELS)


@dataclass(frozen=True)
class Entry:
    plate: str
    label: str
    list: str
    key: str  # the folded plate


@dataclass(frozen=True)
class Match:
    entry: Entry
    distance: int  # edits between the folded texts
    exact: bool  # same text without folding

    def to_dict(self) -> dict[str, object]:
        return {"plate": self.entry.plate, "label": self.entry.label, "list": self.entry.list,
                "distance": self.distance, "exact": self.exact}


def load_entries(path: Path) -> list[Entry]:
    """Read a watchlist CSV with the header ``plate,label,list``."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise WatchlistError(f"{path}: cannot be read: {e}") from e
    except UnicodeDecodeError as e:
        raise WatchlistError(f"{path}: not UTF-8 text: {e}") from e
    if not rows or [c.strip().lower() for c in rows[0]] != ["plate", "label", "list"]:
        raise WatchlistError(f"{path}: the first line must be the header plate,label,list")
    entries = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != 3:
            raise WatchlistError(f"{path}:{n}: expected 3 fields (plate,label,list), "
                                 f"got {len(row)}")
        plate, label, kind = (c.strip() for c in row)
        kind = kind.lower()
        if kind not in LISTS:
            raise WatchlistError(f"{path}:{n}: list must be one of {', '.join(LISTS)}, "
                                 f"not {kind!r}")
        key = fold(plate)
        if not key or any(c not in DIGITS + LETTERS for c in key):
            raise WatchlistError(f"{path}:{n}: {plate!r} is not a plate (characters "
                                 f"outside the plate alphabet after folding: {key!r})")
        entries.append(Entry(plate, label, kind, key))
    return entries


class Watchlist:
    """Entries from a CSV, reloaded when the file changes (a bad edit keeps the old list and
    is logged)."""

    def __init__(self, path: Path, max_distance: int = 1) -> None:
        self.path = path
        self.max_distance = max_distance
        self._entries = load_entries(path)
        self._mtime = os.stat(path).st_mtime_ns
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def _reload_if_changed(self) -> None:
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError as e:
            log.error("watchlist %s: %s; keeping the %d entries loaded", self.path, e,
                      len(self._entries))
            return
        if mtime == self._mtime:
            return
        self._mtime = mtime
        try:
            self._entries = load_entries(self.path)
            log.info("watchlist %s reloaded: %d entries", self.path, len(self._entries))
        except WatchlistError as e:
            log.error("%s; keeping the %d entries loaded before", e, len(self._entries))

    def match(self, text: str) -> Match | None:
        """The closest entry within ``max_distance`` edits (after folding), or None."""
        with self._lock:
            self._reload_if_changed()
            entries = self._entries
        key = fold(text)
        best: tuple[int, int, Entry] | None = None
        for e in entries:
            if abs(len(e.key) - len(key)) > self.max_distance:
                continue
            d = edit_distance(key, e.key)
            if d <= self.max_distance:
                rank = (d, LISTS.index(e.list), e)
                if best is None or rank[:2] < best[:2]:
                    best = rank
        if best is None:
            return None
        return Match(best[2], best[0], best[2].plate == text)
