"""Random plate strings: 4 digits, a region code, one more letter."""

from __future__ import annotations

import numpy as np

from edge_alpr.alphabet import DIGITS, LETTERS, N_DIGITS, REGIONS
from edge_alpr.grammar import PATTERN

# Ulaanbaatar dominates the real photos (all but one plate); other codes still appear so the
# character CNN sees every letter in the region position.
_UB_CODES = ("УБ", "УН", "УА")
_UB_WEIGHT = 8.0

REGION_CODES: tuple[str, ...] = tuple(REGIONS)
REGION_WEIGHTS: np.ndarray = np.array(
    [_UB_WEIGHT if code in _UB_CODES else 1.0 for code in REGION_CODES])
REGION_WEIGHTS /= REGION_WEIGHTS.sum()


def random_text(rng: np.random.Generator) -> str:
    """A plate string such as ``4253УБГ``: any 4 digits, a real region code, any letter."""
    digits = "".join(DIGITS[i] for i in rng.integers(0, len(DIGITS), N_DIGITS))
    region = REGION_CODES[int(rng.choice(len(REGION_CODES), p=REGION_WEIGHTS))]
    return digits + region + LETTERS[int(rng.integers(0, len(LETTERS)))]


def check_text(text: str) -> str:
    """``text`` if it is a standard plate string, else ValueError (forced texts are checked)."""
    if not PATTERN.fits(text):
        raise ValueError(f"not a plate string ({PATTERN.slots}: D digit, L letter): {text!r}")
    return text
