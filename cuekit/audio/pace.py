"""Pace: syllable nuclei (de Jong & Wempe 2009) and speaking rates.

A syllable nucleus is a peak of the intensity contour that is (1) above a threshold set
relative to the loud end of the signal, (2) followed by a dip of at least ``min_dip_db`` before
the next peak, and (3) voiced; then (4) of nuclei closer than ``min_gap_s`` only the louder is
kept (12.5 syllables per second is beyond even fast speech: two such peaks are one syllable
whose vowel or diphthong wobbles in level). Times are seconds on the signal's clock.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import find_peaks

from ..errors import InputError
from ..intervals import as_intervals, duration
from .voice import frame_level_db


def syllable_nuclei(y: np.ndarray, *, sr: int, f0_t: np.ndarray, f0_hz: np.ndarray,
                    silence_db: float = -25.0, min_dip_db: float = 2.0,
                    min_gap_s: float = 0.08, frame_s: float = 0.03, hop_s: float = 0.01
                    ) -> np.ndarray:
    """Times in s of syllable nuclei in ``y`` (mono, ``sr`` Hz).

    ``f0_t``/``f0_hz`` is a pitch track of the same signal (NaN = unvoiced), used for the voicing
    criterion. ``silence_db`` sets the intensity threshold below the 99th-percentile level;
    ``min_dip_db`` is the dip required between a peak and the next (de Jong & Wempe's defaults:
    -25 dB, 2 dB); ``min_gap_s`` the least time between two nuclei (0 turns the rule off).
    Returns a sorted 1-D array, empty for silence.
    """
    t, level_db = frame_level_db(y, sr=sr, frame_s=frame_s, hop_s=hop_s)
    if len(t) < 3:
        return np.zeros(0)
    level_db = uniform_filter1d(level_db, 3, mode="nearest")
    threshold = max(float(np.quantile(level_db, 0.99)) + silence_db, float(level_db.min()))
    peaks, _ = find_peaks(level_db, height=threshold)
    if not len(peaks):
        return np.zeros(0)
    keep = []
    for k, p in enumerate(peaks):
        nxt = peaks[k + 1] if k + 1 < len(peaks) else len(level_db)
        dip = float(level_db[p:nxt].min()) if nxt > p + 1 else level_db[p]
        if level_db[p] - dip >= min_dip_db:
            keep.append(p)
    keep = np.asarray(keep, dtype=int)
    voiced = _voiced_at(t[keep], f0_t, f0_hz)
    return _merge_close(t[keep][voiced], level_db[keep][voiced], min_gap_s=min_gap_s)


def _merge_close(times: np.ndarray, level_db: np.ndarray, *, min_gap_s: float) -> np.ndarray:
    """Of peaks closer than ``min_gap_s`` to the last one kept, keep the louder (in time order)."""
    out_t: list[float] = []
    out_db: list[float] = []
    for t, db in zip(times.tolist(), level_db.tolist(), strict=True):
        if out_t and t - out_t[-1] < min_gap_s:
            if db > out_db[-1]:
                out_t[-1], out_db[-1] = t, db
        else:
            out_t.append(t)
            out_db.append(db)
    return np.asarray(out_t, dtype="float64")


def _voiced_at(times: np.ndarray, f0_t: np.ndarray, f0_hz: np.ndarray) -> np.ndarray:
    """Whether the pitch frame nearest each time is voiced."""
    if not len(f0_t):
        return np.zeros(len(times), dtype=bool)
    idx = np.clip(np.searchsorted(f0_t, times), 1, len(f0_t) - 1)
    idx -= (times - f0_t[idx - 1]) < (f0_t[idx] - times)
    return np.isfinite(f0_hz[idx])


def rate_track(nuclei_t: np.ndarray, speech: np.ndarray, *, t: np.ndarray,
               window_s: float, min_speech_s: float) -> np.ndarray:
    """Syllables per second of speech in a centred window of ``window_s`` around each ``t``.

    ``speech`` is the speaker's interval set (``(n, 2)`` s). NaN where the window holds
    less than ``min_speech_s`` of speech (the rate is not observed there).
    """
    if window_s <= 0:
        raise InputError(f"window_s must be > 0, got {window_s!r}")
    t = np.asarray(t, dtype="float64")
    lo, hi = t - window_s / 2, t + window_s / 2
    n_syl = np.searchsorted(nuclei_t, hi) - np.searchsorted(nuclei_t, lo)
    speech_s = np.zeros(len(t))
    for a, b in as_intervals(speech):
        speech_s += np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(speech_s >= min_speech_s, n_syl / speech_s, np.nan)


def rates(nuclei_t: np.ndarray, speech: np.ndarray, *,
          max_pause_s: float) -> tuple[float, float]:
    """``(speech_rate, articulation_rate)`` in syllables per second.

    Articulation rate = syllables / time inside the ``speech`` intervals (a sorted interval set,
    ``(n, 2)`` s: syllables per second of speech). Speech rate = syllables / (that time + the
    pauses between consecutive intervals that are shorter than ``max_pause_s``, i.e. pauses
    within a turn), so it is never above the articulation rate. Both NaN for no speech.
    """
    speech = as_intervals(speech)
    phonation_s = duration(speech)
    if phonation_s <= 0:
        return np.nan, np.nan
    pauses_s = speech[1:, 0] - speech[:-1, 1]
    span_s = phonation_s + float(pauses_s[(pauses_s > 0) & (pauses_s < max_pause_s)].sum())
    n = float(len(nuclei_t))
    return n / span_s, n / phonation_s
