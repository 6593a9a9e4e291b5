"""Plate text from per-character probabilities, decoded with the Mongolian plate grammar.

A standard plate reads four digits then three letters (``4253УБГ``), on one row or on two
(digits over letters); its first two letters are a region code. Every component found on a
plate crop is either one character or no character at all (the classifier's REJECT class:
emblem, bolts, frame pieces). A reading therefore labels every component, and readings are
compared by the product over all components: the probability of each character chosen and
the reject probability of each component left out. The grammar settles the look-alikes by
position: 0/О, 8/В, 3/З and 4/Ч.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .alphabet import DIGITS, LETTERS, N_DIGITS, N_LETTERS, REGIONS, REJECT
from .grammar import PATTERN, PlatePattern

log = logging.getLogger(__name__)

PLATE_LEN: int = N_DIGITS + N_LETTERS
# REJECT must be a component's best class with at least this probability to leave the
# as-read text (a less sure reject is read as its best character).
REJECT_MIN_PROB: float = 0.5
# Prior factor for grammar readings whose first two letters are a known region code.
REGION_PRIOR: float = 4.0
# The grammar's best reading is used when it is at least this fraction as likely as the free
# reading (every component's best class); below that the plate is returned as read.
MIN_PATTERN_RATIO: float = 1e-2
TOP_N: int = 5

# The character slot that completes the region code (the second letter).
_REGION_SLOT = N_DIGITS + 1
# Readings searched per candidate wanted: the spare ones stand in for readings that spell the
# same text with other components left out.
_READINGS_PER_CANDIDATE = 2
# Classes tried per component and slot kind; further ones only make readings far below the
# top few.
_CHOICES = 3
# Candidates less likely than this fraction of the best are not worth searching or listing.
_MIN_CANDIDATE_RATIO = 1e-3
# Floor for probabilities, so that a zero never makes a log infinite.
_EPS = 1e-12
_DIGIT, _LETTER = 0, 1


@dataclass(frozen=True)
class Candidate:
    text: str
    confidence: float
    kept: tuple[int, ...]  # indices of the input components read as the characters of text


@dataclass(frozen=True)
class PlateText:
    """A decoded plate; ``candidates[0]`` is the reading given in ``text``.

    A confidence is the probability of a reading, that is of its labelling of every component
    (characters kept, rejects left out): among the readings that fit the grammar when
    ``matches_pattern``, else among all labellings (the as-read text). Empty text has 0.
    """

    text: str
    confidence: float
    char_confidences: tuple[float, ...]  # the classifier's probability of each character
    candidates: tuple[Candidate, ...]
    region: str  # the region code, "" if none was recognised
    region_name: str
    matches_pattern: bool
    kept: tuple[int, ...]  # indices of the input components read as the characters of text


@dataclass(frozen=True)
class _ClassMap:
    classes: tuple[str, ...]
    digits: np.ndarray  # class indices of the digits
    letters: np.ndarray  # class indices of the letters
    reject: int | None  # class index of REJECT; None if the model has no such class
    log_prior: float  # of a known region code
    region_pairs: frozenset[tuple[int, int]]  # class indices of the known region codes
    region_weight: np.ndarray  # prior factor per (first letter, second letter), as in letters


class _Partial(NamedTuple):
    score: float  # log-probability plus log-prior
    loglik: float  # log-probability alone
    chosen: tuple[int, ...]  # class index per character
    kept: tuple[int, ...]  # component index per character


def decode_plate(
    probs: np.ndarray,
    classes: Sequence[str],
    rows: Sequence[int] | np.ndarray | None = None,
    *,
    top_n: int = TOP_N,
    region_prior: float = REGION_PRIOR,
    reject_min_prob: float = REJECT_MIN_PROB,
    min_pattern_ratio: float = MIN_PATTERN_RATIO,
) -> PlateText:
    """Read a plate from ``probs`` (components × classes, components in reading order).

    ``classes`` names the model's classes, one character each, in the order of the columns
    (as stored in the model's metadata). ``rows`` gives each component's row, 0 for the top
    and 1 for the bottom; on a two-row plate the digits must come from the top row and the
    letters from the bottom one. Plates that do not fit the grammar are returned as read,
    with ``matches_pattern=False``.
    """
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    if region_prior <= 0 or not 0 < min_pattern_ratio <= 1 or not 0 < reject_min_prob <= 1:
        raise ValueError(f"need region_prior > 0 and min_pattern_ratio, reject_min_prob in "
                         f"(0, 1], got {region_prior}, {min_pattern_ratio}, {reject_min_prob}")
    cm = _class_map(tuple(classes), float(region_prior))
    p = _normalised(probs, len(cm.classes))
    allowed = _allowed_kinds(rows, len(p))
    skip = p[:, cm.reject] if cm.reject is not None else np.full(len(p), _EPS)
    as_read = _as_read(p, cm, skip, reject_min_prob)
    if len(p) < PLATE_LEN:
        return as_read
    readings = _pattern_readings(np.log(p), np.log(skip), cm, allowed,
                                 _READINGS_PER_CANDIDATE * top_n)
    if not readings:
        log.debug("no %d-character reading fits the rows %s", PLATE_LEN, rows)
        return as_read
    free_loglik = float(np.log(p.max(axis=1)).sum())
    pattern_loglik = max(r.loglik for r in readings)
    if pattern_loglik < free_loglik + math.log(min_pattern_ratio):
        log.debug("best grammar reading is %.3g times as likely as the free reading: as read",
                  math.exp(pattern_loglik - free_loglik))
        return as_read
    log_total = _log_total(p, skip, cm, allowed)
    by_text: dict[str, _Partial] = {}
    for r in readings:  # best first: a text keeps its best reading
        by_text.setdefault("".join(cm.classes[c] for c in r.chosen), r)
    cut = readings[0].score + math.log(_MIN_CANDIDATE_RATIO)
    ranked = [(t, math.exp(r.score - log_total), r)
              for t, r in list(by_text.items())[:top_n] if r.score >= cut]
    text, conf, best = ranked[0]
    char_conf = tuple(float(p[i, c]) for i, c in zip(best.kept, best.chosen, strict=True))
    region = text[N_DIGITS:_REGION_SLOT + 1]
    region = region if region in REGIONS else ""
    return PlateText(
        text=text,
        confidence=conf,
        char_confidences=char_conf,
        candidates=tuple(Candidate(t, c, r.kept) for t, c, r in ranked),
        region=region,
        region_name=REGIONS.get(region, ""),
        matches_pattern=True,
        kept=best.kept,
    )


@lru_cache(maxsize=8)
def _class_map(classes: tuple[str, ...], region_prior: float) -> _ClassMap:
    if any(len(c) != 1 for c in classes) or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct single characters, got {classes!r}")
    digits = np.array([i for i, c in enumerate(classes) if c in DIGITS], dtype=np.int64)
    letters = np.array([i for i, c in enumerate(classes) if c in LETTERS], dtype=np.int64)
    pairs = frozenset((classes.index(a), classes.index(b))
                      for a, b in REGIONS if a in classes and b in classes)
    region_weight = np.array([[region_prior if (a, b) in pairs else 1.0 for b in letters]
                              for a in letters]).reshape(len(letters), len(letters))
    return _ClassMap(classes, digits, letters, classes.index(REJECT) if REJECT in classes else None,
                     math.log(region_prior), pairs, region_weight)


def _normalised(probs: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows clipped away from zero and summing to one; quantized models drift a little."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != n_classes:
        raise ValueError(f"probabilities must be (components, {n_classes}), got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("probabilities must be finite and non-negative (softmax, not logits)")
    p = np.clip(p, _EPS, None)
    return p / p.sum(axis=1, keepdims=True)


def _allowed_kinds(rows: Sequence[int] | np.ndarray | None, n: int) -> np.ndarray:
    """(n, 2) booleans: whether each component may be read as a digit, as a letter."""
    allowed = np.ones((n, 2), dtype=bool)
    if rows is None:
        return allowed
    r = np.asarray(rows)
    if r.shape != (n,) or not np.isin(r, (0, 1)).all() or np.any(np.diff(r) < 0):
        raise ValueError(f"rows must be 0 or 1 per component in reading order (top row first), "
                         f"got {r.tolist()} for {n} components")
    if r.size and r[0] != r[-1]:  # two rows: digits over letters
        allowed[:, _DIGIT] = r == 0
        allowed[:, _LETTER] = r == 1
    return allowed


def _as_read(p: np.ndarray, cm: _ClassMap, skip: np.ndarray, reject_min_prob: float) -> PlateText:
    """Each component's best character; sure rejects left out. Never forced into the grammar."""
    dropped = (p.argmax(axis=1) == cm.reject) & (skip >= reject_min_prob)
    kept = tuple(int(i) for i in np.flatnonzero(~dropped))
    chars = p.copy()
    if cm.reject is not None:
        chars[:, cm.reject] = -1.0
    best = chars.argmax(axis=1)
    text = "".join(cm.classes[best[i]] for i in kept)
    char_conf = tuple(float(p[i, best[i]]) for i in kept)
    # The probability of this labelling of all components; an empty text claims nothing.
    conf = float(np.prod(char_conf) * np.prod(skip[dropped])) if text else 0.0
    return PlateText(text, conf, char_conf, (Candidate(text, conf, kept),), "", "", False, kept)


def _pattern_readings(logp: np.ndarray, log_skip: np.ndarray, cm: _ClassMap,
                      allowed: np.ndarray, width: int) -> list[_Partial]:
    """The best grammar readings, best first: a beam over the components in order."""
    n = len(logp)
    # A class whose probability is this far below the best of its kind on the same component
    # can only make readings too far below another to list, whatever the region prior does.
    floor = math.log(_MIN_CANDIDATE_RATIO) - cm.log_prior
    # Scores count from the reading that leaves every component out, so leaving one out adds
    # nothing and a partial reading passes on unchanged; taking one adds its gain over that.
    options = []  # per kind, per component: the most likely classes of that kind, gain
    for idx in (cm.digits, cm.letters):
        best = idx[np.argsort(-logp[:, idx], axis=1, kind="stable")[:, :_CHOICES]]
        options.append([[(int(k), float(logp[i, k] - log_skip[i])) for k in best[i]
                         if logp[i, k] >= logp[i, best[i, 0]] + floor] for i in range(n)])
    # Partial readings (score, classes, components) grouped by characters chosen and, while the
    # region code is half read, by its first letter: the rest of a reading's score depends on
    # nothing else, so keeping the best few of each group loses none of the best readings.
    beams: dict[tuple[int, int], list[tuple[float, tuple[int, ...], tuple[int, ...]]]] = {
        (0, -1): [(0.0, (), ())]}
    for i in range(n):
        left = n - i - 1  # components after this one
        grown: dict[tuple[int, int], list[tuple[float, tuple[int, ...], tuple[int, ...]]]] = {}
        for (c, first), beam in beams.items():
            kind = _DIGIT if c < N_DIGITS else _LETTER
            if PLATE_LEN - c <= left:
                grown.setdefault((c, first), []).extend(beam)
            if c == PLATE_LEN or PLATE_LEN - c - 1 > left or not allowed[i, kind]:
                continue
            for k, gain in options[kind][i]:
                if c == _REGION_SLOT and (first, k) in cm.region_pairs:
                    gain += cm.log_prior
                key = (c + 1, k if c + 1 == _REGION_SLOT else -1)
                grown.setdefault(key, []).extend(
                    (score + gain, (*chosen, k), (*kept, i)) for score, chosen, kept in beam)
        beams = {key: _best(b, width) for key, b in grown.items()}
    base = float(log_skip.sum())
    out = []
    for score, chosen, kept in beams.get((PLATE_LEN, -1), []):
        region = (chosen[N_DIGITS], chosen[_REGION_SLOT]) in cm.region_pairs
        out.append(_Partial(base + score, base + score - cm.log_prior * region, chosen, kept))
    return out


def _best(partials: list[tuple[float, tuple[int, ...], tuple[int, ...]]],
          width: int) -> list[tuple[float, tuple[int, ...], tuple[int, ...]]]:
    """The best few of one group, best first, without those too far below the best to list:
    their completions trail the best one's by as much (the group shares its future)."""
    top = heapq.nlargest(width, partials)
    cut = top[0][0] + math.log(_MIN_CANDIDATE_RATIO)
    return [h for h in top if h[0] >= cut]


def _log_total(p: np.ndarray, skip: np.ndarray, cm: _ClassMap, allowed: np.ndarray) -> float:
    """Log of the summed prior-weighted probability of every reading that fits the grammar.

    A forward pass over the components, by number of characters chosen; after the first
    letter the mass is kept per letter, since the region prior depends on the letter pair.
    """
    digit_mass = p[:, cm.digits].sum(axis=1) * allowed[:, _DIGIT]
    letters = p[:, cm.letters] * allowed[:, _LETTER, None]
    mass = np.zeros(PLATE_LEN + 1)
    mass[0] = 1.0
    first = np.zeros(len(cm.letters))  # readings whose last character is their first letter
    log_scale = 0.0
    for i in range(len(p)):
        new = mass * skip[i]
        new[1:N_DIGITS + 1] += mass[:N_DIGITS] * digit_mass[i]
        new_first = first * skip[i] + mass[N_DIGITS] * letters[i]
        new[_REGION_SLOT + 1] += first @ (cm.region_weight @ letters[i])
        new[_REGION_SLOT + 2:] += mass[_REGION_SLOT + 1:-1] * letters[i].sum()
        scale = max(new.max(), new_first.max())  # rescaled each step against underflow
        mass, first = new / scale, new_first / scale
        log_scale += math.log(scale)
    return log_scale + math.log(mass[PLATE_LEN])


def decode_slots(
    probs: np.ndarray,
    classes: Sequence[str],
    *,
    pattern: PlatePattern = PATTERN,
    top_n: int = TOP_N,
    region_prior: float = REGION_PRIOR,
    min_pattern_ratio: float = MIN_PATTERN_RATIO,
) -> PlateText:
    """Read a plate from a whole-plate recognizer's ``probs`` (slots × classes).

    Each slot holds one character; ``pattern`` says which classes may fill it and which slot
    pair spells the region code (weighted by ``region_prior`` when known). Readings are ranked
    by their probability among the readings that fit the pattern; when the best of them is
    less than ``min_pattern_ratio`` as likely as each slot's best class, the plate is returned
    as read (``matches_pattern=False``), as :func:`decode_plate` does.
    """
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    p = _normalised(probs, len(classes))
    if len(p) != len(pattern):
        raise ValueError(f"expected {len(pattern)} slots, got {len(p)}")
    logp = np.log(p)
    free = p.argmax(axis=1)
    free_text = "".join(classes[k] for k in free)
    slot_ok = pattern.slot_mask(classes)
    a, b = pattern.region_slots
    # Independent factors: every slot alone, but the region pair as one joint factor.
    factors: list[tuple[np.ndarray, list[tuple[int, ...]]]] = []
    for i in range(len(pattern)):
        if i == b:
            continue
        if i == a:
            first, second = np.flatnonzero(slot_ok[a]), np.flatnonzero(slot_ok[b])
            pairs = pattern.region_pairs(classes)
            prior = np.array([[math.log(region_prior) if (f, s) in pairs else 0.0
                               for s in second] for f in first])
            score = (logp[a, first][:, None] + logp[b, second][None, :] + prior).ravel()
            choices = [(int(f), int(s)) for f in first for s in second]
        else:
            allowed = np.flatnonzero(slot_ok[i])
            score, choices = logp[i, allowed], [(int(k),) for k in allowed]
        order = np.argsort(-score, kind="stable")[:top_n]
        factors.append((score[order], [choices[j] for j in order]))
    log_total = sum(float(np.logaddexp.reduce(f[0])) for f in factors)  # not just the top_n
    best = _k_best([f[0] for f in factors], top_n)
    ranked = []
    for score, idx in best:
        chosen = [k for f, j in zip(factors, idx, strict=True) for k in f[1][j]]
        ranked.append(("".join(classes[k] for k in chosen), math.exp(score - log_total), chosen))
    text, conf, chosen = ranked[0]
    pattern_loglik = float(sum(logp[i, k] for i, k in enumerate(chosen)))
    if pattern_loglik < float(logp.max(axis=1).sum()) + math.log(min_pattern_ratio):
        conf = float(np.exp(logp.max(axis=1).sum()))
        return PlateText(free_text, conf, tuple(float(v) for v in p.max(axis=1)),
                         (Candidate(free_text, conf, tuple(range(len(p)))),), "", "", False,
                         tuple(range(len(p))))
    slots = tuple(range(len(p)))
    region = pattern.region_of(text)
    return PlateText(
        text=text,
        confidence=conf,
        char_confidences=tuple(float(p[i, k]) for i, k in enumerate(chosen)),
        candidates=tuple(Candidate(t, c, slots) for t, c, _ in ranked),
        region=region,
        region_name=pattern.regions.get(region, ""),
        matches_pattern=True,
        kept=slots,
    )


def _k_best(factors: Sequence[np.ndarray], k: int) -> list[tuple[float, tuple[int, ...]]]:
    """The ``k`` best sums picking one entry of each factor (each sorted best first), best
    first, with the index picked in each: a best-first search over index tuples."""
    start = (0,) * len(factors)
    heap = [(-float(sum(f[0] for f in factors)), start)]
    seen = {start}
    out = []
    while heap and len(out) < k:
        neg, idx = heapq.heappop(heap)
        out.append((-neg, idx))
        for d, f in enumerate(factors):
            if idx[d] + 1 < len(f):
                nxt = idx[:d] + (idx[d] + 1,) + idx[d + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (neg + float(f[idx[d]] - f[idx[d] + 1]), nxt))
    return out
