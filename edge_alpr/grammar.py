"""The plate grammar as one declarative pattern: which characters may fill each slot, which
slots spell the region code, and how a two-row plate splits its slots between the rows.

Every decoder (the segmentation path's component labelling, the whole-plate recognizer's
slots), the synthetic text generator and the label checks read this pattern; nothing else
writes the rule down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .alphabet import DIGITS, LETTERS, REGIONS

DIGIT = "D"
LETTER = "L"


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: decoders cache on it
class PlatePattern:
    """``slots`` names the kind of each character in reading order (a key of ``kinds``).

    ``region_slots`` are the two slots whose letters spell the region code (a key of
    ``regions``); ``top_row`` is how many leading slots stand on the top row of a two-row
    plate (the rest on the bottom row).
    """

    slots: str
    kinds: Mapping[str, str]  # kind -> the characters it allows
    region_slots: tuple[int, int]
    regions: Mapping[str, str] = field(default_factory=dict)  # code -> place name ("": unknown)
    top_row: int = 0

    def __post_init__(self) -> None:
        if set(self.slots) - set(self.kinds):
            raise ValueError(f"slot kinds {self.slots!r} not all in {sorted(self.kinds)}")
        a, b = self.region_slots
        if not (0 <= a < b < len(self.slots)) or self.slots[a] != self.slots[b]:
            raise ValueError(f"region slots {self.region_slots} do not fit {self.slots!r}")
        if not 0 <= self.top_row < len(self.slots):
            raise ValueError(f"top_row {self.top_row} outside the {len(self.slots)} slots")

    def __len__(self) -> int:
        return len(self.slots)

    def allowed(self, slot: int) -> str:
        """The characters that may stand in ``slot``."""
        return self.kinds[self.slots[slot]]

    def fits(self, text: str) -> bool:
        """Whether ``text`` is a standard plate string."""
        return len(text) == len(self.slots) and all(
            c in self.allowed(i) for i, c in enumerate(text))

    def region_of(self, text: str) -> str:
        """The region code ``text`` spells, "" when it spells none known or does not fit."""
        if not self.fits(text):
            return ""
        code = text[self.region_slots[0]] + text[self.region_slots[1]]
        return code if code in self.regions else ""

    def slot_rows(self) -> np.ndarray:
        """(slots,) row of each slot on a two-row plate: 0 top, 1 bottom."""
        return (np.arange(len(self.slots)) >= self.top_row).astype(np.int64)

    def kind_mask(self, classes: Sequence[str]) -> dict[str, np.ndarray]:
        """Per kind, (classes,) booleans: which of a model's classes that kind allows."""
        return {k: np.array([c in chars for c in classes]) for k, chars in self.kinds.items()}

    def slot_mask(self, classes: Sequence[str]) -> np.ndarray:
        """(slots, classes) booleans: which class may fill which slot."""
        kinds = self.kind_mask(classes)
        return np.stack([kinds[k] for k in self.slots])

    def region_pairs(self, classes: Sequence[str]) -> frozenset[tuple[int, int]]:
        """Class indices (first, second) of the known region codes."""
        index = {c: i for i, c in enumerate(classes)}
        return frozenset((index[a], index[b]) for a, b in self.regions
                         if a in index and b in index)


# Mongolian standard plates: four digits then three letters (``4253УБГ``); the first two letters
# are the region code; on a two-row plate the digits stand over the letters.
PATTERN = PlatePattern(
    slots=DIGIT * 4 + LETTER * 3,
    kinds=MappingProxyType({DIGIT: DIGITS, LETTER: LETTERS}),
    region_slots=(4, 5),
    regions=MappingProxyType(REGIONS),
    top_row=4,
)
