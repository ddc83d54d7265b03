"""Telling voices apart in one mixed track: voice features per window, then clustering.

Speech is cut into windows of ``window_s`` (hop ``window_s / 2``); each window is described by
the mean and standard deviation of its MFCCs plus its median log F0, standardised over the
recording. Windows are clustered into N voices (N given, or the N in 2..``max_speakers`` with the
best silhouette when that is clearly separated, else 1), and labels are numbered in order of
first speech (0 = the first voice heard).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from ..errors import InputError

N_MFCC = 20
_MIN_SILHOUETTE = 0.15  # below this, splitting into several voices is not better than one


def voice_windows(speech: list[tuple[float, float]], *, window_s: float,
                  min_window_s: float) -> np.ndarray:
    """Analysis windows ``(start_s, end_s)``, shape ``(n, 2)``, tiling each speech interval
    with hop ``window_s / 2``; intervals shorter than ``window_s`` (but at least
    ``min_window_s``) give one window of their own length."""
    out = []
    for a, b in speech:
        if b - a < min_window_s:
            continue
        starts = np.arange(a, max(a, b - window_s) + 1e-9, window_s / 2)
        out.extend((s, min(s + window_s, b)) for s in starts)
    return np.asarray(out, dtype="float64").reshape(-1, 2)


def voice_features(y: np.ndarray, *, sr: int, windows: np.ndarray, f0_t: np.ndarray,
                   f0_hz: np.ndarray) -> np.ndarray:
    """One feature row per window: MFCC means and standard deviations (``2 * N_MFCC``) and the
    window's median log2 F0 (NaN F0 → the recording's median). Shape ``(n, 2 * N_MFCC + 1)``."""
    import librosa

    if not len(windows):
        return np.zeros((0, 2 * N_MFCC + 1))
    hop = int(round(0.01 * sr))
    mfcc = librosa.feature.mfcc(y=np.asarray(y, dtype="float32"), sr=sr, n_mfcc=N_MFCC,
                                n_fft=int(2 ** np.ceil(np.log2(0.025 * sr))), hop_length=hop)
    mfcc_t = np.arange(mfcc.shape[1]) * hop / sr
    log_f0 = np.log2(f0_hz)
    fallback = np.nanmedian(log_f0) if np.isfinite(log_f0).any() else 0.0
    rows = []
    for a, b in windows:
        m = mfcc[:, (mfcc_t >= a) & (mfcc_t < b)]
        f = log_f0[(f0_t >= a) & (f0_t < b)]
        f = f[np.isfinite(f)]
        rows.append(np.concatenate([m.mean(axis=1), m.std(axis=1),
                                    [np.median(f) if len(f) else fallback]]))
    return np.asarray(rows)


def cluster_voices(features: np.ndarray, *, speakers: int | None, max_speakers: int = 6
                   ) -> np.ndarray:
    """Voice label per feature row, 0..N-1 numbered in row order of first appearance.

    ``speakers`` fixes N; ``None`` estimates it by silhouette (Ward clustering).
    """
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    if speakers is not None and speakers < 1:
        raise InputError(f"speakers must be >= 1, got {speakers!r}")
    n = len(features)
    if n == 0:
        return np.zeros(0, dtype=int)
    x = (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-9)
    if speakers is not None:
        k = min(speakers, n)
        labels = _ward(x, k, AgglomerativeClustering)
    else:
        labels, best = np.zeros(n, dtype=int), _MIN_SILHOUETTE
        for k in range(2, min(max_speakers, n - 1) + 1):
            cand = _ward(x, k, AgglomerativeClustering)
            score = silhouette_score(x, cand)
            if score > best:
                labels, best = cand, score
    return _first_appearance_order(labels)


def _ward(x: np.ndarray, k: int, algo) -> np.ndarray:
    if k <= 1:
        return np.zeros(len(x), dtype=int)
    return algo(n_clusters=k, linkage="ward").fit_predict(x)


def _first_appearance_order(labels: np.ndarray) -> np.ndarray:
    order = {lab: i for i, lab in enumerate(dict.fromkeys(labels.tolist()))}
    return np.array([order[lab] for lab in labels.tolist()], dtype=int)


def label_frames(t: np.ndarray, windows: np.ndarray, labels: np.ndarray, *, n_voices: int,
                 smooth_s: float) -> np.ndarray:
    """Voice label at each time ``t`` (-1 outside every window): the majority of the windows
    covering it, smoothed by a running vote over ``smooth_s`` seconds."""
    votes = np.zeros((len(t), max(n_voices, 1)))
    for (a, b), lab in zip(windows, labels, strict=True):
        votes[(t >= a) & (t < b), lab] += 1
    inside = votes.sum(axis=1) > 0
    if len(t) > 1:
        # a running vote over smooth_s: a mode filter, so three or more voices stay categorical
        width = max(1, int(round(smooth_s / (t[1] - t[0]))))
        votes = uniform_filter1d(votes / np.maximum(votes.sum(axis=1, keepdims=True), 1), width,
                                 axis=0, mode="nearest")
    return np.where(inside, votes.argmax(axis=1), -1)
