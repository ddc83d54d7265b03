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


MFCC_BLOCK_FRAMES = 4096  # MFCC frames (10 ms each) taken at once: ~25 MB of scratch at most


def voice_features(y: np.ndarray, *, sr: int, windows: np.ndarray, f0_t: np.ndarray,
                   f0_hz: np.ndarray) -> np.ndarray:
    """One feature row per window: MFCC means and standard deviations (``2 * N_MFCC``) and the
    window's median log2 F0 (NaN F0 → the recording's median). Shape ``(n, 2 * N_MFCC + 1)``."""
    if not len(windows):
        return np.zeros((0, 2 * N_MFCC + 1))
    hop = int(round(0.01 * sr))
    mfcc = _mfcc(np.asarray(y, dtype="float32"), sr=sr, hop=hop,
                 n_fft=int(2 ** np.ceil(np.log2(0.025 * sr))))
    mfcc_t = np.arange(mfcc.shape[1]) * hop / sr
    log_f0 = np.log2(f0_hz)
    fallback = np.nanmedian(log_f0) if np.isfinite(log_f0).any() else 0.0
    # both time axes are sorted: [a, b) is one slice of each (the same frames as a mask)
    m0, m1 = np.searchsorted(mfcc_t, windows[:, 0]), np.searchsorted(mfcc_t, windows[:, 1])
    f0, f1 = np.searchsorted(f0_t, windows[:, 0]), np.searchsorted(f0_t, windows[:, 1])
    rows = []
    for i in range(len(windows)):
        m = mfcc[:, np.arange(m0[i], m1[i])]  # a copy laid out as a mask's: same float32 sums
        f = log_f0[f0[i]:f1[i]]
        f = f[np.isfinite(f)]
        rows.append(np.concatenate([m.mean(axis=1), m.std(axis=1),
                                    [np.median(f) if len(f) else fallback]]))
    return np.asarray(rows)


def _mfcc(y: np.ndarray, *, sr: int, hop: int, n_fft: int) -> np.ndarray:
    """``librosa.feature.mfcc(y=y, sr=sr, n_mfcc=N_MFCC, n_fft=n_fft, hop_length=hop)``, the
    same frames and numbers (within float32 rounding; a test holds the two side by side), in
    numpy: importing librosa would cost ~130 MB and ~1.6 s (numba) for two formulas.

    A block of ``MFCC_BLOCK_FRAMES`` frames at a time, cut from ``y`` with its zero padding,
    so neither the spectra nor a padded copy of a long call are ever all in memory. Two passes:
    the dB scale is clipped at 80 dB below the loudest mel cell of the whole call (librosa's
    ``top_db``), so that maximum comes first."""
    import scipy.fft

    pad = n_fft // 2  # center=True, pad_mode="constant": frame j is centred on sample j * hop
    n = 1 + (len(y) + 2 * pad - n_fft) // hop
    window = np.hanning(n_fft + 1)[:-1].astype("float32")  # periodic Hann, as librosa's stft
    basis = mel_filters(sr=sr, n_fft=n_fft)

    def blocks():
        for j0 in range(0, n, MFCC_BLOCK_FRAMES):
            j1 = min(n, j0 + MFCC_BLOCK_FRAMES)
            seg = _zero_padded(y, j0 * hop - pad, (j1 - 1) * hop + n_fft - pad)
            frames = np.lib.stride_tricks.sliding_window_view(seg, n_fft)[::hop] * window
            power = np.abs(scipy.fft.rfft(frames, axis=-1)) ** 2  # float32 in, complex64 out
            mel = basis @ power.T  # (n_mels, frames)
            yield j0, j1, 10.0 * np.log10(np.maximum(mel, 1e-10))

    floor = max(db.max() for _, _, db in blocks()) - 80.0
    out = np.empty((N_MFCC, n), dtype="float32")
    for j0, j1, db in blocks():
        out[:, j0:j1] = scipy.fft.dct(np.maximum(db, floor), axis=-2, type=2,
                                      norm="ortho")[:N_MFCC]
    return out


def _zero_padded(y: np.ndarray, a: int, b: int) -> np.ndarray:
    """``y[a:b]`` where samples outside ``y`` are zeros (a copy only at the ends)."""
    if a >= 0 and b <= len(y):
        return y[a:b]
    out = np.zeros(b - a, dtype=y.dtype)
    lo, hi = max(a, 0), min(b, len(y))
    if hi > lo:
        out[lo - a:hi - a] = y[lo:hi]
    return out


def mel_filters(*, sr: int, n_fft: int, n_mels: int = 128) -> np.ndarray:
    """Slaney-style mel filterbank, ``(n_mels, 1 + n_fft // 2)`` float32: triangles spaced on
    the Slaney mel scale (linear below 1 kHz, logarithmic above) from 0 Hz to ``sr / 2``, each of
    unit area (``librosa.filters.mel(sr=sr, n_fft=n_fft)``'s defaults)."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0

    def hz_to_mel(f):
        f = np.asarray(f, dtype="float64")
        return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz)
                        / logstep, f / f_sp)

    def mel_to_hz(m):
        return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)),
                        f_sp * m)

    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2))
    gaps = np.diff(mel_hz)
    ramps = mel_hz[:, None] - fft_hz[None, :]
    lower, upper = -ramps[:-2] / gaps[:-1, None], ramps[2:] / gaps[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]
    return weights.astype("float32")


def cluster_voices(features: np.ndarray, *, speakers: int | None, max_speakers: int = 6
                   ) -> np.ndarray:
    """Voice label per feature row, 0..N-1 numbered in row order of first appearance.

    ``speakers`` fixes N; ``None`` estimates it by silhouette (Ward clustering).
    """
    if speakers is not None and speakers < 1:
        raise InputError(f"speakers must be >= 1, got {speakers!r}")
    n = len(features)
    if n == 0:
        return np.zeros(0, dtype=int)
    x = (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-9)
    merges = _ward_merges(x) if n > 1 else np.zeros((0, 2), dtype=int)
    if speakers is not None:
        labels = _cut(merges, n, min(speakers, n))
    else:
        labels, best = np.zeros(n, dtype=int), _MIN_SILHOUETTE
        for k in range(2, min(max_speakers, n - 1) + 1):
            cand = _cut(merges, n, k)
            score = silhouette(x, cand)
            if score > best:
                labels, best = cand, score
    return _first_appearance_order(labels)


def _ward_merges(x: np.ndarray) -> np.ndarray:
    """The Ward tree's merges, ``(n - 1, 2)`` node ids (scipy's numbering: leaves 0..n-1,
    merge i makes node n + i), the tree scikit-learn's Ward clustering builds too."""
    from scipy.cluster.hierarchy import ward

    return ward(np.require(x, dtype="float64", requirements="W"))[:, :2].astype(np.intp)


def _cut(merges: np.ndarray, n: int, k: int) -> np.ndarray:
    """Cluster per leaf when the tree is cut into ``k`` clusters: the first ``n - k`` merges
    done, the last ``k - 1`` undone (as scikit-learn's ``AgglomerativeClustering``)."""
    if k <= 1:
        return np.zeros(n, dtype=int)
    parent = np.arange(2 * n - 1)
    for i, (a, b) in enumerate(merges[: n - k]):
        parent[a] = parent[b] = n + i
    root = parent.copy()
    for node in range(2 * n - 2, -1, -1):  # parents have larger ids: one pass from the top
        root[node] = root[parent[node]] if parent[node] != node else node
    return np.unique(root[:n], return_inverse=True)[1].astype(int)


def silhouette(x: np.ndarray, labels: np.ndarray, *, block: int = 1024) -> float:
    """Mean silhouette coefficient over the rows of ``x`` (Euclidean), as
    ``sklearn.metrics.silhouette_score``: 0 for rows alone in their cluster; distances taken
    ``block`` rows at a time."""
    from scipy.spatial.distance import cdist

    labels = np.asarray(labels)
    ids, lab = np.unique(labels, return_inverse=True)
    if not 2 <= len(ids) <= len(x) - 1:
        raise InputError(f"silhouette needs 2..n-1 clusters, got {len(ids)} for {len(x)} rows")
    sizes = np.bincount(lab, minlength=len(ids)).astype("float64")
    onehot = np.eye(len(ids))[lab]
    s = np.zeros(len(x))
    for r0 in range(0, len(x), block):
        r1 = min(len(x), r0 + block)
        sums = cdist(x[r0:r1], x) @ onehot  # (rows, clusters): summed distance to each cluster
        own = lab[r0:r1]
        rows = np.arange(r1 - r0)
        with np.errstate(invalid="ignore", divide="ignore"):
            a = sums[rows, own] / (sizes[own] - 1)
            other = sums / sizes
            other[rows, own] = np.inf
            b = other.min(axis=1)
            s[r0:r1] = np.nan_to_num((b - a) / np.maximum(a, b))
        s[r0:r1][sizes[own] <= 1] = 0.0
    return float(s.mean())


def _first_appearance_order(labels: np.ndarray) -> np.ndarray:
    order = {lab: i for i, lab in enumerate(dict.fromkeys(labels.tolist()))}
    return np.array([order[lab] for lab in labels.tolist()], dtype=int)


def label_frames(t: np.ndarray, windows: np.ndarray, labels: np.ndarray, *, n_voices: int,
                 smooth_s: float) -> np.ndarray:
    """Voice label at each time ``t`` (-1 outside every window): the majority of the windows
    covering it, smoothed by a running vote over ``smooth_s`` seconds."""
    votes = np.zeros((len(t), max(n_voices, 1)))
    # t is sorted: [a, b) is one slice of it (linear time in the call's length, not quadratic)
    i0, i1 = np.searchsorted(t, windows[:, 0]), np.searchsorted(t, windows[:, 1])
    for a, b, lab in zip(i0.tolist(), i1.tolist(), np.asarray(labels).tolist(), strict=True):
        votes[a:b, lab] += 1
    inside = votes.sum(axis=1) > 0
    if len(t) > 1:
        # a running vote over smooth_s: a mode filter, so three or more voices stay categorical
        width = max(1, int(round(smooth_s / (t[1] - t[0]))))
        votes = uniform_filter1d(votes / np.maximum(votes.sum(axis=1, keepdims=True), 1), width,
                                 axis=0, mode="nearest")
    return np.where(inside, votes.argmax(axis=1), -1)
