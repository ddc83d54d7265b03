"""Mirroring events: one person answering the other's movement, posture, smile or speech.

Each detector returns rows for ``mirror`` segments (see :func:`cuekit.cues.make_segments`):
``participant`` is the pair (``"P1|P2"`` in participant order), ``label`` says who answered
whom and how, ``score`` is a strength in 0..1:

- *movement*: a stretch where movement synchrony stays above chance (``|r|`` at the peak lag,
  mean over the stretch); the lag says who follows.
- *posture*: one takes the same lean or shoulder tilt as the other within ``max_lag_s``
  (``1 - latency / max_lag_s``).
- *smile*: a smile answered by a smile within ``max_lag_s`` (``1 - latency / max_lag_s``).
- *nod*: nods while the other holds the floor (``min(1, nods / 3)``: three nods in a turn is
  full nodding along).

Intervals are ``(n, 2)`` float arrays of ``[start, end)`` in seconds, sorted by start.
"""

from __future__ import annotations

import numpy as np

from ..cues import pair_name
from ..intervals import robust_sd

NODS_FOR_FULL_SCORE = 3


def _row(pair: str, start: float, end: float, label: str, score: float, *, what: str,
         follower: str | None) -> dict:
    """A mirror row; ``what`` and ``follower`` are extra keys for the profile and the moments
    (``make_segments`` drops them)."""
    return dict(start=float(start), end=float(end), participant=pair, kind="mirror", label=label,
                score=float(np.clip(score, 0.0, 1.0)), what=what, follower=follower)


def movement_stretches(t_s: np.ndarray, stretches: list[tuple[int, int]],
                       window_lag_s: np.ndarray, strength: np.ndarray, *, names: tuple[str, str],
                       window_s: float) -> list[dict]:
    """One row per stretch of above-chance movement synchrony.

    ``t_s`` window centres (s); ``stretches`` ``(first, last + 1)`` window indices;
    ``window_lag_s`` lag per window (``+`` = the second name follows); ``strength`` peak
    ``|r|`` per window. A row covers its windows: first centre − ``window_s``/2 to last
    centre + ``window_s``/2.
    """
    rows = []
    for i0, i1 in stretches:
        lag = float(np.median(window_lag_s[i0:i1]))
        follow = None
        if lag == 0:
            label = f"{names[0]} and {names[1]} move in step"
        else:
            lead, follow = names if lag > 0 else names[::-1]
            label = f"{follow} mirrors {lead}'s movement ({abs(lag):.1f} s later)"
        rows.append(_row(pair_name(names), t_s[i0] - window_s / 2, t_s[i1 - 1] + window_s / 2,
                         label, float(np.mean(strength[i0:i1])), what="movement",
                         follower=follow))
    return rows


def posture_shifts(t: np.ndarray, value: np.ndarray, *, hold_s: float, min_change: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and sizes of posture changes in one series (lean or tilt).

    The change at ``t`` is the mean over the next ``hold_s`` minus the mean over the previous
    ``hold_s``; a shift is a local peak of its size at least ``min_change`` (in the series'
    units) and at least four robust SDs of the change (so a fidgety person needs a clearer
    shift). NaN samples are ignored; returns empty arrays when nothing is observed.
    """
    ok = np.isfinite(value)
    t, value = t[ok], value[ok]
    if len(t) < 3:
        return np.empty(0), np.empty(0)
    csum, cnt = np.concatenate([[0.0], np.cumsum(value)]), np.arange(len(t) + 1)
    lo = np.searchsorted(t, t - hold_s, side="left")
    hi = np.searchsorted(t, t + hold_s, side="right")
    mid = np.arange(len(t))
    with np.errstate(invalid="ignore", divide="ignore"):
        before = (csum[mid] - csum[lo]) / (cnt[mid] - cnt[lo])
        after = (csum[hi] - csum[mid]) / (cnt[hi] - cnt[mid])
    change = np.where((mid > lo) & (hi > mid), after - before, np.nan)
    mag = np.abs(change)
    spread = robust_sd(change, ignore_nan=True)
    floor = max(min_change, 4 * spread) if np.isfinite(spread) else min_change
    peak = np.zeros(len(t), dtype=bool)
    peak[1:-1] = (mag[1:-1] >= floor) & (mag[1:-1] >= mag[:-2]) & (mag[1:-1] > mag[2:])
    keep: list[int] = []
    for i in np.flatnonzero(peak):  # one shift per hold_s: the largest of a cluster
        if keep and t[i] - t[keep[-1]] < hold_s:
            if mag[i] > mag[keep[-1]]:
                keep[-1] = i
        else:
            keep.append(i)
    return t[keep], change[keep]


def posture_mirroring(shifts: dict[str, tuple[np.ndarray, np.ndarray]], *, names: tuple[str, str],
                      what: str, max_lag_s: float, same_sign: bool) -> list[dict]:
    """A shift answered by the other's shift within ``max_lag_s``.

    ``shifts`` name -> (times, sizes) from :func:`posture_shifts` for one posture series
    (``what``, e.g. "lean"). With ``same_sign`` the answer must go the same way (leaning in
    answered by leaning in); otherwise either way counts (a shoulder tilt mirrored or matched).
    Each answering shift is used once.
    """
    rows = []
    for lead, follow in (names, names[::-1]):
        t_lead, d_lead = shifts.get(lead, (np.empty(0), np.empty(0)))
        t_fol, d_fol = shifts.get(follow, (np.empty(0), np.empty(0)))
        used = np.zeros(len(t_fol), dtype=bool)
        for t0, d0 in zip(t_lead, d_lead, strict=True):
            lat = t_fol - t0
            ok = (lat > 0) & (lat <= max_lag_s) & ~used
            if same_sign:
                ok &= np.sign(d_fol) == np.sign(d0)
            if not ok.any():
                continue
            k = int(np.flatnonzero(ok)[0])
            used[k] = True
            way = "the same way" if np.sign(d_fol[k]) == np.sign(d0) else "mirror-wise"
            rows.append(_row(pair_name(names), t0, t_fol[k],
                             f"{follow} follows {lead}'s {what} {way} ({lat[k]:.1f} s later)",
                             1 - lat[k] / max_lag_s, what=what, follower=follow))
    return rows


def smile_reciprocity(smiles: dict[str, np.ndarray], *, names: tuple[str, str], max_lag_s: float
                      ) -> list[dict]:
    """A smile starting while the other is not smiling, answered within ``max_lag_s``.

    ``smiles`` name -> smile intervals. The event runs from the first smile's start to the end
    of the answering smile.
    """
    rows = []
    for lead, follow in (names, names[::-1]):
        a = smiles.get(lead, np.empty((0, 2)))
        b = smiles.get(follow, np.empty((0, 2)))
        for s0, _ in a:
            already = ((b[:, 0] <= s0) & (b[:, 1] > s0)).any()
            lat = b[:, 0] - s0
            ok = (lat > 0) & (lat <= max_lag_s)
            if already or not ok.any():
                continue
            k = int(np.flatnonzero(ok)[0])
            rows.append(_row(pair_name(names), s0, b[k, 1],
                             f"{follow} answers {lead}'s smile ({lat[k]:.1f} s later)",
                             1 - lat[k] / max_lag_s, what="smile", follower=follow))
    return rows


def nodding_along(nods: dict[str, np.ndarray], floor: dict[str, np.ndarray], *,
                  names: tuple[str, str]) -> list[dict]:
    """Nods of one person that start while the other holds the floor, one event per turn.

    ``nods`` name -> nod intervals; ``floor`` name -> turn intervals (the person's speech with
    short pauses bridged).
    """
    rows = []
    for listener, speaker in (names[::-1], names):
        n = nods.get(listener, np.empty((0, 2)))
        for a, b in floor.get(speaker, np.empty((0, 2))):
            inside = n[(n[:, 0] >= a) & (n[:, 0] < b)]
            if not len(inside):
                continue
            count = len(inside)
            rows.append(_row(pair_name(names), inside[0, 0], inside[-1, 1],
                             f"{listener} nods along while {speaker} speaks ({count} nod"
                             f"{'s' if count > 1 else ''})", count / NODS_FOR_FULL_SCORE,
                             what="nod", follower=listener))
    return rows
