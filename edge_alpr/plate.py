"""Plate text from per-character probabilities, decoded with the Mongolian plate grammar.

A standard plate fits :data:`edge_alpr.grammar.PATTERN`: four digits then three letters
(``4253УБГ``), on one row or on two (digits over letters); its first two letters are a region
code. Every component found on a
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

from .alphabet import REJECT
from .grammar import PATTERN, PlatePattern

log = logging.getLogger(__name__)

PLATE_LEN: int = len(PATTERN)
# REJECT must be a component's best class with at least this probability to leave the
# as-read text (a less sure reject is read as its best character).
REJECT_MIN_PROB: float = 0.5
# Prior factor for grammar readings whose first two letters are a known region code.
REGION_PRIOR: float = 4.0
# The grammar's best reading is used when it is at least this fraction as likely as the free
# reading (every component's best class); below that the plate is returned as read.
MIN_PATTERN_RATIO: float = 1e-2
TOP_N: int = 5

# The slots that spell the region code; the decoders below need them side by side.
_REGION_A, _REGION_B = PATTERN.region_slots
assert _REGION_B == _REGION_A + 1, "the component decoder reads the region code as a pair"
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
    kind_classes: dict[str, np.ndarray]  # per slot kind of PATTERN: the class indices it allows
    reject: int | None  # class index of REJECT; None if the model has no such class
    log_prior: float  # of a known region code
    region_pairs: frozenset[tuple[int, int]]  # class indices of the known region codes
    # Prior factor per (first, second) region letter, as in the region slots' kind_classes.
    region_weight: np.ndarray


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
    and 1 for the bottom; on a two-row plate each slot of the pattern must come from its row
    (digits over letters). Plates that do not fit the grammar are returned as read, with
    ``matches_pattern=False``.
    """
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    if region_prior <= 0 or not 0 < min_pattern_ratio <= 1 or not 0 < reject_min_prob <= 1:
        raise ValueError(f"need region_prior > 0 and min_pattern_ratio, reject_min_prob in "
                         f"(0, 1], got {region_prior}, {min_pattern_ratio}, {reject_min_prob}")
    cm = _class_map(tuple(classes), float(region_prior))
    p = _normalised(probs, len(cm.classes))
    allowed = _allowed_slots(rows, len(p))
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
    region = PATTERN.region_of(text)
    return PlateText(
        text=text,
        confidence=conf,
        char_confidences=char_conf,
        candidates=tuple(Candidate(t, c, r.kept) for t, c, r in ranked),
        region=region,
        region_name=PATTERN.regions.get(region, ""),
        matches_pattern=True,
        kept=best.kept,
    )


@lru_cache(maxsize=8)
def _class_map(classes: tuple[str, ...], region_prior: float) -> _ClassMap:
    if any(len(c) != 1 for c in classes) or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct single characters, got {classes!r}")
    kinds = {k: np.flatnonzero(m) for k, m in PATTERN.kind_mask(classes).items()}
    pairs = PATTERN.region_pairs(classes)
    first, second = (kinds[PATTERN.slots[s]] for s in PATTERN.region_slots)
    region_weight = np.array([[region_prior if (a, b) in pairs else 1.0 for b in second]
                              for a in first]).reshape(len(first), len(second))
    return _ClassMap(classes, kinds, classes.index(REJECT) if REJECT in classes else None,
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


def _allowed_slots(rows: Sequence[int] | np.ndarray | None, n: int) -> np.ndarray:
    """(n, slots) booleans: whether each component may fill each slot of the pattern."""
    if rows is None:
        return np.ones((n, PLATE_LEN), dtype=bool)
    r = np.asarray(rows)
    if r.shape != (n,) or not np.isin(r, (0, 1)).all() or np.any(np.diff(r) < 0):
        raise ValueError(f"rows must be 0 or 1 per component in reading order (top row first), "
                         f"got {r.tolist()} for {n} components")
    if r.size and r[0] != r[-1]:  # two rows: each slot from its own row
        return r[:, None] == PATTERN.slot_rows()[None, :]
    return np.ones((n, PLATE_LEN), dtype=bool)


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
    options = {}  # per slot kind, per component: the most likely classes of that kind, gain
    for kind, idx in cm.kind_classes.items():
        best = idx[np.argsort(-logp[:, idx], axis=1, kind="stable")[:, :_CHOICES]]
        options[kind] = [[(int(k), float(logp[i, k] - log_skip[i])) for k in best[i]
                          if logp[i, k] >= logp[i, best[i, 0]] + floor] for i in range(n)]
    # Partial readings (score, classes, components) grouped by characters chosen and, while the
    # region code is half read, by its first letter: the rest of a reading's score depends on
    # nothing else, so keeping the best few of each group loses none of the best readings.
    beams: dict[tuple[int, int], list[tuple[float, tuple[int, ...], tuple[int, ...]]]] = {
        (0, -1): [(0.0, (), ())]}
    for i in range(n):
        left = n - i - 1  # components after this one
        grown: dict[tuple[int, int], list[tuple[float, tuple[int, ...], tuple[int, ...]]]] = {}
        for (c, first), beam in beams.items():
            if PLATE_LEN - c <= left:
                grown.setdefault((c, first), []).extend(beam)
            if c == PLATE_LEN or PLATE_LEN - c - 1 > left or not allowed[i, c]:
                continue
            for k, gain in options[PATTERN.slots[c]][i]:
                if c == _REGION_B and (first, k) in cm.region_pairs:
                    gain += cm.log_prior
                key = (c + 1, k if c == _REGION_A else -1)
                grown.setdefault(key, []).extend(
                    (score + gain, (*chosen, k), (*kept, i)) for score, chosen, kept in beam)
        beams = {key: _best(b, width) for key, b in grown.items()}
    base = float(log_skip.sum())
    out = []
    for score, chosen, kept in beams.get((PLATE_LEN, -1), []):
        region = (chosen[_REGION_A], chosen[_REGION_B]) in cm.region_pairs
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

    A forward pass over the components, by number of characters chosen; after the region
    code's first letter the mass is kept per letter, since the prior depends on the pair.
    """
    kind_mass = {k: p[:, idx].sum(axis=1) for k, idx in cm.kind_classes.items()}
    slot_mass = np.stack([kind_mass[k] for k in PATTERN.slots], axis=1) * allowed
    slot_mass[:, [_REGION_A, _REGION_B]] = 0.0  # the region pair is summed on its own below
    first_idx, second_idx = (cm.kind_classes[PATTERN.slots[s]] for s in PATTERN.region_slots)
    mass = np.zeros(PLATE_LEN + 1)
    mass[0] = 1.0
    first = np.zeros(len(first_idx))  # readings whose last character is the region's first
    log_scale = 0.0
    for i in range(len(p)):
        new = mass * skip[i]
        new[1:] += mass[:-1] * slot_mass[i]
        new_first = first * skip[i] + mass[_REGION_A] * p[i, first_idx] * allowed[i, _REGION_A]
        new[_REGION_B + 1] += first @ (cm.region_weight @ (p[i, second_idx]
                                                           * allowed[i, _REGION_B]))
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
    groups = _slot_factors(pattern, tuple(classes), float(region_prior))
    # (best scores, their class indices) per factor in reading order, independent of one
    # another; plain lists, which the best-first search below indexes faster than arrays
    factors: list[tuple[list[float], list[list[int]]]] = [None] * sum(len(g[3]) for g in groups)
    log_total = 0.0  # of every reading that fits, prior-weighted: the factors' sums multiplied
    for slots, cols, prior, positions in groups:
        score = logp[slots[:, None, :], cols[None, :, :]].sum(axis=2) + prior  # (factors, choices)
        log_total += float(np.logaddexp.reduce(score, axis=1).sum())
        order = np.argsort(-score, axis=1, kind="stable")[:, :top_n]
        best_scores = np.take_along_axis(score, order, axis=1).tolist()
        best_cols = cols[order].tolist()  # (factors, top_n, k)
        for row, pos in enumerate(positions):
            factors[pos] = (best_scores[row], best_cols[row])
    best = _k_best([f[0] for f in factors], top_n)
    ranked = []
    for score, idx in best:
        chosen = [k for f, j in zip(factors, idx, strict=True) for k in f[1][j]]
        ranked.append(("".join(classes[k] for k in chosen), math.exp(score - log_total), chosen))
    text, conf, chosen = ranked[0]
    pattern_loglik = float(sum(logp[i, k] for i, k in enumerate(chosen)))
    free_loglik = float(logp.max(axis=1).sum())
    if pattern_loglik < free_loglik + math.log(min_pattern_ratio):
        conf = math.exp(free_loglik)
        free_text = "".join(classes[k] for k in p.argmax(axis=1))
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


@lru_cache(maxsize=8)
def _slot_factors(pattern: PlatePattern, classes: tuple[str, ...], region_prior: float
                  ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]], ...]:
    """The slot decoder's independent factors: every slot alone, but the region pair as one
    joint factor. Factors with the same choices are grouped, to be scored in one array
    operation: each group is (slots (factors, k), class indices (choices, k), log prior
    (choices,), each factor's position in reading order). A reading's score is the sum of its
    choices' log-probabilities and priors."""
    a, b = pattern.region_slots
    ok = pattern.slot_mask(classes)
    pairs = pattern.region_pairs(classes)
    groups: dict[bytes, tuple[np.ndarray, np.ndarray, list[list[int]], list[int]]] = {}
    position = 0
    for i in range(len(pattern)):
        if i == b:
            continue
        if i == a:
            cols = np.array([(f, s) for f in np.flatnonzero(ok[a]) for s in np.flatnonzero(ok[b])])
            prior = np.array([math.log(region_prior) if (f, s) in pairs else 0.0
                              for f, s in cols])
            slots = [a, b]
        else:
            cols = np.flatnonzero(ok[i])[:, None]
            prior = np.zeros(len(cols))
            slots = [i]
        key = cols.tobytes() + prior.tobytes()
        group = groups.setdefault(key, (cols, prior, [], []))
        group[2].append(slots)
        group[3].append(position)
        position += 1
    return tuple((np.array(slots), cols, prior, tuple(positions))
                 for cols, prior, slots, positions in groups.values())


def _k_best(factors: Sequence[Sequence[float]], k: int) -> list[tuple[float, tuple[int, ...]]]:
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
