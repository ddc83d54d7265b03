"""Intervals: the one convention every stage uses for "when something holds", and the helpers
over it. numpy only, so every layer (audio, video, dynamics) may use it.

Conventions:

- A *time array* ``t`` is sample times in seconds, increasing.
- A *mask* is a boolean array beside ``t`` (or any array: non-zero and not NaN counts as True).
- An *index run* ``(i0, i1)`` is a maximal stretch of True samples ``mask[i0:i1]``: half-open,
  ``i1`` is one past the last True sample (:func:`true_runs`).
- An *interval* is ``[start, end)`` in seconds, half-open: ``start`` belongs to it, ``end`` does
  not, so two intervals that touch (``end == next start``) do not overlap. An *interval set* is
  an ``(n, 2)`` float64 array, sorted by start and disjoint unless said otherwise. Every function
  here takes a list of ``(start, end)`` pairs too (:func:`as_intervals`) and returns arrays.
  Per-interval data (a score, a label) goes beside the array, or in a ``segments`` table
  (:mod:`cuekit.cues`), never in a third column.
- *Scored intervals* (events: nods, blinks, smiles …) are :class:`ScoredIntervals`: an interval
  set ``iv`` and a parallel ``(n,)`` float64 ``score``, whose meaning and unit the function that
  returns them says.

Every stage passes intervals in this shape: the audio stage's speech, the video stage's events,
the turns, the floor; tables (``segments``) are made from them only at a stage's output.

From samples to intervals: :func:`from_mask` (what one sample covers: ``cover``; runs joined
across short gaps, kept by length). Between interval sets: :func:`merge`, :func:`subtract`,
:func:`intersect`, :func:`crop`, :func:`keep_lengths`, :func:`duration`, :func:`inside`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .errors import InputError

MAD_TO_SD = 1.4826  # median absolute deviation × this = SD, for normally distributed data

Cover = Literal["start", "centre", "midpoints"]


@dataclass(frozen=True)
class ScoredIntervals:
    """Intervals with one score each: ``iv`` an ``(n, 2)`` float64 interval set (seconds,
    ``[start, end)``), ``score`` ``(n,)`` float64 beside it. ``len()`` is the number of
    intervals. Built from anything :func:`as_intervals` takes and any sequence of numbers; raises
    ``InputError`` when the two lengths differ."""

    iv: np.ndarray
    score: np.ndarray

    def __post_init__(self) -> None:
        iv, score = as_intervals(self.iv), np.asarray(self.score, dtype="float64").reshape(-1)
        if len(iv) != len(score):
            raise InputError(f"{len(iv)} intervals but {len(score)} scores")
        object.__setattr__(self, "iv", iv)
        object.__setattr__(self, "score", score)

    def __len__(self) -> int:
        return len(self.iv)

    @classmethod
    def empty(cls) -> ScoredIntervals:
        return cls(np.empty((0, 2)), np.empty(0))


def _as_mask(mask: np.ndarray) -> np.ndarray:
    m = np.asarray(mask)
    if m.dtype == bool:
        return m
    return np.nan_to_num(m.astype("float64"), nan=0.0) != 0


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Index runs ``[(i0, i1), …]`` of the consecutive True values of ``mask``, ``i1``
    exclusive (``mask[i0:i1]`` is all True), as Python ints in order. Empty for an empty or
    all-False mask; ``[(0, len(mask))]`` for an all-True one."""
    edges = np.diff(np.concatenate([[0], _as_mask(mask).astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


def balanced_groups(spans: list[tuple[float, float]], k: int) -> list[list[tuple[float, float]]]:
    """``spans`` (in order) cut into at most ``k`` groups of consecutive spans whose summed
    lengths (``end - start``) are about equal, for ``k`` workers; no group is empty."""
    if k <= 1 or len(spans) <= 1:
        return [list(spans)] if spans else []
    lengths = np.array([max(0.0, b - a) for a, b in spans], dtype="float64")
    cum = np.cumsum(lengths)
    # a group ends after the span whose running total is nearest each k-th of the whole
    targets = cum[-1] * np.arange(1, k) / k
    cuts = np.abs(cum[None, :] - targets[:, None]).argmin(axis=1) + 1
    bounds = np.unique(np.clip(np.concatenate([[0], cuts, [len(spans)]]), 0, len(spans)))
    return [list(spans[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=False) if b > a]


def drop_short_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    """A copy of the boolean ``mask`` with runs of True shorter than ``min_len`` samples set to
    False (a run of exactly ``min_len`` stays). To fill short runs of False instead, use
    ``~drop_short_runs(~mask, n)``: that also fills them at the ends of the array."""
    mask = np.asarray(mask, dtype=bool)
    out = mask.copy()
    for i0, i1 in true_runs(mask):
        if i1 - i0 < min_len:
            out[i0:i1] = False
    return out


def close_gaps(mask: np.ndarray, max_len: int) -> np.ndarray:
    """A copy of the boolean ``mask`` with runs of False of at most ``max_len`` samples set to
    True where they lie between two True runs (False at either end of the array stays)."""
    mask = np.asarray(mask, dtype=bool)
    out = mask.copy()
    for i0, i1 in true_runs(~mask):
        if i0 > 0 and i1 < len(mask) and i1 - i0 <= max_len:
            out[i0:i1] = True
    return out


def from_mask(t: np.ndarray, mask: np.ndarray, *, cover: Cover = "start",
              step_s: float | None = None, max_gap_steps: float | None = None,
              merge_gap_s: float = 0.0, min_s: float = 0.0, max_s: float = np.inf
              ) -> np.ndarray:
    """The ``[start, end)`` intervals (seconds, ``(n, 2)`` array) where ``mask`` holds on the
    sample times ``t``, one per run of True samples; then runs less than ``merge_gap_s`` apart
    joined, and those shorter than ``min_s`` or longer than ``max_s`` dropped.

    What one sample covers, so where an interval starts and ends:

    - ``"start"``: a sample at ``t`` covers ``[t, t + step_s)``: a run of samples ``i0..i1-1``
      gives ``[t[i0], t[i1-1] + step_s)``;
    - ``"centre"``: a sample covers ``t ± step_s/2`` (frame centres);
    - ``"midpoints"``: a sample reaches halfway to its neighbours (the first and last sample as
      far out as to their one neighbour); needs no ``step_s``. One lone sample gives
      ``[t, t)``.

    ``step_s`` defaults to the median spacing of ``t``; with fewer than two samples there is
    none, and ``"start"``/``"centre"`` give no intervals unless ``step_s`` is passed. With
    ``max_gap_steps``, samples further apart than that many steps have a gap between them
    (nothing observed) that ends a run: a run never bridges missing samples.
    """
    if cover not in ("start", "centre", "midpoints"):
        raise InputError(f"cover must be 'start', 'centre' or 'midpoints', got {cover!r}")
    if cover == "midpoints" and max_gap_steps is not None:
        raise InputError("max_gap_steps needs cover='start' or 'centre'")
    t = np.asarray(t, dtype="float64")
    mask = _as_mask(mask)
    n = len(t)
    if n == 0 or (cover != "midpoints" and step_s is None and n < 2):
        return np.empty((0, 2))
    if len(mask) != n:
        raise InputError(f"mask has {len(mask)} values for {n} times")
    iv = _runs(t, mask, cover, step_s, max_gap_steps)
    if merge_gap_s > 0:
        iv = merge(iv, bridge_s=merge_gap_s, inclusive=False)
    if min_s > 0 or max_s < np.inf:
        iv = keep_lengths(iv, min_s=min_s, max_s=max_s)
    return iv


def _runs(t: np.ndarray, mask: np.ndarray, cover: Cover, step_s: float | None,
          max_gap_steps: float | None) -> np.ndarray:
    n = len(t)
    if step_s is None and cover != "midpoints":
        step_s = float(np.median(np.diff(t)))
    if max_gap_steps is None:
        gap_after = np.zeros(n, dtype=bool)
        gap_after[-1] = True
    else:
        gap_after = np.append(np.diff(t) > max_gap_steps * step_s, True)
    gap_before = np.concatenate([[True], gap_after[:-1]])
    first = np.flatnonzero(mask & (gap_before | ~np.concatenate([[False], mask[:-1]])))
    last = np.flatnonzero(mask & (gap_after | ~np.append(mask[1:], False)))
    if cover == "start":
        return np.column_stack([t[first], t[last] + step_s])
    if cover == "centre":
        return np.column_stack([t[first] - step_s / 2, t[last] + step_s / 2])
    edges = np.concatenate([[t[0] - (t[1] - t[0]) / 2 if n > 1 else t[0]],
                            (t[1:] + t[:-1]) / 2,
                            [t[-1] + (t[-1] - t[-2]) / 2 if n > 1 else t[0]]])
    return np.column_stack([edges[first], edges[last + 1]])


def merge(iv: np.ndarray, *, bridge_s: float = 0.0, inclusive: bool = True) -> np.ndarray:
    """Sort intervals by start and join those that overlap or are separated by a gap of at most
    ``bridge_s`` seconds (less than ``bridge_s`` when ``inclusive`` is False: then, with
    ``bridge_s=0``, touching intervals stay apart). Returns an ``(n, 2)`` float64 array."""
    iv = np.asarray(iv, dtype="float64").reshape(-1, 2)
    if not len(iv):
        return np.empty((0, 2))
    iv = iv[np.argsort(iv[:, 0])]
    out = [list(iv[0])]
    for a, b in iv[1:]:
        gap = a - out[-1][1]
        if gap <= bridge_s if inclusive else gap < bridge_s:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return np.array(out, dtype="float64")


def keep_lengths(iv: np.ndarray, *, min_s: float = 0.0, max_s: float = np.inf) -> np.ndarray:
    """The intervals whose length ``end - start`` lies in ``[min_s, max_s]`` (both inclusive)."""
    iv = np.asarray(iv, dtype="float64").reshape(-1, 2)
    length = iv[:, 1] - iv[:, 0]
    return iv[(length >= min_s) & (length <= max_s)]


def as_intervals(iv) -> np.ndarray:
    """``iv`` (an ``(n, 2)`` array, a list of ``(start, end)`` pairs, or empty) as an ``(n, 2)``
    float64 array."""
    return np.asarray(iv, dtype="float64").reshape(-1, 2)


def subtract(a, b) -> np.ndarray:
    """The parts of intervals ``a`` not covered by the sorted intervals ``b``."""
    a, b = as_intervals(a), as_intervals(b)
    out = []
    for s, e in a:
        cur = s
        for bs, be in b[(b[:, 1] > s) & (b[:, 0] < e)] if len(b) else []:
            if bs > cur:
                out.append((cur, bs))
            cur = max(cur, be)
        if cur < e:
            out.append((cur, e))
    return as_intervals(out)


def intersect(a, b) -> np.ndarray:
    """The parts of intervals ``a`` covered by the sorted intervals ``b``."""
    return subtract(a, subtract(a, b))


def crop(iv, start_s: float = -np.inf, end_s: float = np.inf) -> np.ndarray:
    """The intervals cut to ``[start_s, end_s)``; those left empty (``end <= start``) dropped,
    except an interval that was already empty (a lone sample's ``[t, t)``) inside the window."""
    iv = as_intervals(iv)
    out = np.column_stack([np.maximum(iv[:, 0], start_s), np.minimum(iv[:, 1], end_s)])
    return out[(out[:, 1] > out[:, 0]) | ((iv[:, 1] == iv[:, 0]) & (out[:, 1] == out[:, 0]))]


def duration(iv) -> float:
    """Total length ``sum(end - start)`` of the intervals in seconds (0 for none)."""
    iv = as_intervals(iv)
    return float((iv[:, 1] - iv[:, 0]).sum()) if len(iv) else 0.0


def inside(t: np.ndarray, iv: np.ndarray | list[tuple[float, float]]) -> np.ndarray:
    """Whether each time in ``t`` lies in one of the sorted, disjoint ``[start, end)``
    intervals ``iv`` (an ``(n, 2)`` array or a list of pairs). A start is inside, an end is not;
    a NaN time is never inside."""
    t = np.asarray(t, dtype="float64")
    iv = np.asarray(iv, dtype="float64").reshape(-1, 2)
    if not len(iv):
        return np.zeros(len(t), dtype=bool)
    k = np.searchsorted(iv[:, 0], t, side="right") - 1
    return (k >= 0) & (t < iv[np.maximum(k, 0), 1])


def robust_sd(x: np.ndarray, *, ignore_nan: bool = False) -> float:
    """Robust standard deviation: ``MAD_TO_SD`` × the median absolute deviation from the
    median, in the units of ``x``. A NaN in ``x`` makes it NaN unless ``ignore_nan`` (then NaN
    values are left out, and all-NaN or empty gives NaN)."""
    median = np.nanmedian if ignore_nan else np.median
    x = np.asarray(x)
    centre = float(median(x))
    return MAD_TO_SD * float(median(np.abs(x - centre)))
