"""Events from per-participant cue series: nods, head shakes, blinks, smiles, gaze aversion.

Pure functions over ``t`` (seconds, increasing) and value arrays (NaN = not observed). Each
returns its events as :class:`~cuekit.intervals.ScoredIntervals` (``[start, end)`` s and a
score each, in order of time), the rows of the stage's segments; the episodes of a mask are
found by :func:`cuekit.intervals.from_mask` (a sample reaches halfway to its neighbours:
``cover="midpoints"``).
"""

from __future__ import annotations

import numpy as np

from ..intervals import ScoredIntervals, from_mask, robust_sd

MAX_FILL_S = 0.3  # NaN gaps up to this long are interpolated; longer ones split a series


def _chunks(t: np.ndarray, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split at NaN gaps longer than MAX_FILL_S; interpolate the shorter ones."""
    ok = np.isfinite(x)
    out = []
    idx = np.flatnonzero(ok)
    if not len(idx):
        return out
    breaks = np.flatnonzero(np.diff(t[idx]) > MAX_FILL_S + 1e-9)
    for part in np.split(idx, breaks + 1):
        lo, hi = part[0], part[-1] + 1
        tt = t[lo:hi]
        out.append((tt, np.interp(tt, t[part], x[part])))
    return out


def zigzag_pivots(x: np.ndarray, threshold: float) -> list[int]:
    """Indices of turning points where ``x`` (NaN-free) reverses by at least ``threshold``.

    The classic zig-zag: an extreme is confirmed once the series has come back from it by
    ``threshold``; wiggles smaller than that are ignored. Consecutive pivots differ by at least
    ``threshold`` (the last one is the running extreme). Fewer than two pivots = no swing.
    """
    if len(x) < 2:
        return []
    hi = lo = 0
    for i in range(1, len(x)):
        hi = i if x[i] > x[hi] else hi
        lo = i if x[i] < x[lo] else lo
        if x[hi] - x[lo] >= threshold:
            break
    else:
        return []
    pivots, ext, rising = [min(hi, lo)], max(hi, lo), hi > lo
    for i in range(ext + 1, len(x)):
        if (x[i] > x[ext]) == rising and x[i] != x[ext]:
            ext = i
        elif abs(x[ext] - x[i]) >= threshold:
            pivots.append(ext)
            ext, rising = i, not rising
    pivots.append(ext)
    return pivots


def noise_floor(x: np.ndarray) -> float:
    """Sample-to-sample jitter of a series: robust SD (1.4826 MAD) of its first differences over
    sqrt(2), i.e. the SD of independent measurement noise. NaN-safe; 0 when too short."""
    d = np.diff(np.asarray(x, dtype="float64"))
    d = d[np.isfinite(d)]
    if not len(d):
        return 0.0
    return float(robust_sd(d) / np.sqrt(2))


def oscillations(t: np.ndarray, x: np.ndarray, *, min_amp: float, noise_k: float = 8.0,
                 fmin_hz: float = 0.5, fmax_hz: float = 4.0, min_swings: int = 3,
                 ) -> ScoredIntervals:
    """Oscillation episodes of a series (nods in pitch, shakes in yaw), scored by ``amp``.

    A swing is a zig-zag reversal of at least ``max(min_amp, noise_k * noise_floor)`` peak to
    peak lasting a half period of ``fmin_hz``..``fmax_hz`` (+25% at the slow end); an episode is
    ``min_swings`` or more consecutive swings (3 = one and a half cycles, so a single turn away
    and back is not a shake). ``amp`` is the median swing in the units of ``x``. The noise floor
    is the person's own (their track's jitter), so a jittery track needs larger swings. The raw
    series is used, not a band-passed one: filtering turns a held head turn into ringing that
    looks like oscillation.
    """
    t = np.asarray(t, dtype="float64")
    thr = max(min_amp, noise_k * noise_floor(x))
    short, long = 0.5 / fmax_hz, 0.5 / fmin_hz * 1.25
    out = []
    for tt, xx in _chunks(t, np.asarray(x, dtype="float64")):
        piv = zigzag_pivots(xx, thr)
        run: list[int] = []
        for a, b in zip(piv[:-1], piv[1:], strict=False):
            if short <= tt[b] - tt[a] <= long:
                run = run + [b] if run else [a, b]
                continue
            out += _episode(tt, xx, run, min_swings)
            run = []
        out += _episode(tt, xx, run, min_swings)
    return ScoredIntervals([e[:2] for e in out], [e[2] for e in out])


def _episode(tt, xx, run: list[int], min_swings: int) -> list[tuple[float, float, float]]:
    """``[(start, end, amp)]`` of a run of swings long enough to be an episode, else ``[]``."""
    if len(run) - 1 < min_swings:
        return []
    swings = np.abs(np.diff(xx[run]))
    return [(float(tt[run[0]]), float(tt[run[-1]]), float(np.median(swings)))]


def _spread(t: np.ndarray, x: np.ndarray, start_s: float, end_s: float) -> float:
    sel = (t >= start_s) & (t <= end_s) & np.isfinite(x)
    return float(np.std(x[sel])) if sel.any() else 0.0


def nods_and_shakes(t: np.ndarray, pitch_deg: np.ndarray, yaw_deg: np.ndarray, *,
                    min_amp_deg: float = 3.0, fmin_hz: float = 0.5, fmax_hz: float = 4.0,
                    ) -> tuple[ScoredIntervals, ScoredIntervals]:
    """Nods (pitch oscillations) and shakes (yaw oscillations), each scored by ``amp_deg``.

    An episode found in both series is kept only in the one that moves more during it (SD), so
    a shake is not also a nod.
    """
    t = np.asarray(t, dtype="float64")
    p = np.asarray(pitch_deg, dtype="float64")
    y = np.asarray(yaw_deg, dtype="float64")
    kw = dict(min_amp=min_amp_deg, fmin_hz=fmin_hz, fmax_hz=fmax_hz)
    nods, shakes = oscillations(t, p, **kw), oscillations(t, y, **kw)
    nod = [_spread(t, p, a, b) >= _spread(t, y, a, b) for a, b in nods.iv]
    shake = [_spread(t, y, a, b) > _spread(t, p, a, b) for a, b in shakes.iv]
    return _some(nods, nod), _some(shakes, shake)


def _some(events: ScoredIntervals, keep: list[bool]) -> ScoredIntervals:
    keep = np.asarray(keep, dtype=bool)
    return ScoredIntervals(events.iv[keep], events.score[keep])


def blinks(t: np.ndarray, openness: np.ndarray, *, closed_frac: float = 0.6,
           max_s: float = 0.5) -> ScoredIntervals:
    """Blinks from eye openness: dips below ``closed_frac`` of the person's median openness
    lasting at most ``max_s`` (longer closures are not blinks). Score = depth of the dip, 0..1."""
    o = np.asarray(openness, dtype="float64")
    ok = np.isfinite(o)
    if ok.sum() < 3:
        return ScoredIntervals.empty()
    open_level = float(np.median(o[ok]))
    closed = ok & (o < closed_frac * open_level)
    iv = from_mask(t, closed, cover="midpoints", max_s=max_s)
    depth = []
    for s, e in iv:
        sel = (t >= s) & (t <= e) & ok
        depth.append(1.0 - float(np.min(o[sel])) / open_level if sel.any() else np.nan)
    return ScoredIntervals(iv, depth)


def expression_episodes(t: np.ndarray, x: np.ndarray, *, on: float = 0.5, min_s: float = 0.5,
                        merge_gap_s: float = 0.3) -> ScoredIntervals:
    """Episodes of a 0..1 expression cue (``expr.smile``, ``expr.brow_raise``, …): at or above
    ``on`` for at least ``min_s`` seconds, stretches less than ``merge_gap_s`` apart merged
    (NaN, no face, is below); score = the peak 0..1."""
    s = np.asarray(x, dtype="float64")
    iv = from_mask(t, np.nan_to_num(s) >= on, cover="midpoints", min_s=min_s,
                   merge_gap_s=merge_gap_s)
    return ScoredIntervals(iv, [np.nanmax(s[(t >= a) & (t <= b)]) for a, b in iv])


def smiles(t: np.ndarray, smile: np.ndarray, *, on: float = 0.5, min_s: float = 0.5,
           merge_gap_s: float = 0.3) -> ScoredIntervals:
    """Smiles: :func:`expression_episodes` of ``expr.smile``."""
    return expression_episodes(t, smile, on=on, min_s=min_s, merge_gap_s=merge_gap_s)


def gaze_aways(t: np.ndarray, on_screen: np.ndarray, *, min_s: float = 1.0,
               merge_gap_s: float = 0.3) -> ScoredIntervals:
    """Looking away: ``gaze.on_screen == 0`` for at least ``min_s`` (NaN, no face, is not
    counted as away). Score = the duration in seconds."""
    away = np.asarray(on_screen, dtype="float64") == 0
    iv = from_mask(t, away, cover="midpoints", min_s=min_s, merge_gap_s=merge_gap_s)
    return ScoredIntervals(iv, iv[:, 1] - iv[:, 0])
