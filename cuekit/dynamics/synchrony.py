"""Movement synchrony of two people: windowed lagged cross-correlation against surrogates.

The time course follows rMEA (Kleinbub & Ramseyer 2020): both series, sampled on one grid of
``step_s`` seconds, are cut into windows of ``window_s`` seconds every ``win_step_s``; within a
window, ``a(t)`` is correlated with ``b(t + lag)`` for every lag in ``±lag_max_s`` the way R's
``ccf`` does it (window mean and SD, products summed over the overlapping part and divided by
the number of observed samples). Absolute values make in-phase and anti-phase coupling count
alike; Fisher's z makes them averageable. A window's synchrony is its peak ``|z|`` over the lags
(peak picking) and the lag of that peak says who follows whom: ``+`` = ``b`` trails ``a``.

Significance follows SUSY (Tschacher & Meier 2020): cut both series into non-overlapping segments
of ``window_s``; pairing ``a``'s segment *i* with ``b``'s segment *j* keeps each person's own
way of moving but breaks any coupling. One surrogate is one uniform shuffle of ``b``'s segments
(SUSY uses derangements; see :func:`shuffles` for why not here); the real synchrony (mean peak
``|z|`` of matched segments) is set beside the means of many surrogates, and its p value is the
share of surrogates at least as synchronous.

Missing samples are NaN throughout: they are left out of means, SDs and products. A window with
less than ``MIN_VALID_SHARE`` observed samples in either series, or a flat one, gives NaN.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import InputError
from ..intervals import true_runs

MIN_VALID_SHARE = 0.5  # a window needs half its samples observed in both series
R_MAX = 0.999  # |r| is capped here before Fisher's z so a perfect match stays finite
_FLAT_SD = 1e-9  # a window whose SD is below this has no movement to correlate


@dataclass(frozen=True)
class LaggedXCorr:
    """Windowed lagged cross-correlation of ``a`` and ``b``.

    ``t_s`` (n_windows,) window centres in seconds from the first sample; ``lag_s`` (n_lags,)
    lags in seconds, ``+`` = ``b`` trails ``a``; ``r`` (n_windows, n_lags) Pearson-type
    correlation in -1..1, NaN for windows without enough observed, non-flat samples.
    """

    t_s: np.ndarray
    lag_s: np.ndarray
    r: np.ndarray


@dataclass(frozen=True)
class SurrogateTest:
    """The real synchrony beside its surrogate distribution (all in Fisher z of peak ``|r|``).

    ``real``: mean over matched segments; ``surrogates`` (n_surrogates,): the same mean for each
    shuffle of ``b``'s segments; ``p``: share of surrogates ≥ ``real`` (with the real one counted,
    so never 0). Every field is NaN (``surrogates`` empty) when fewer than two segments are
    observed in both series.
    """

    real: float
    surrogates: np.ndarray
    p: float

    @property
    def surrogate_mean(self) -> float:
        return float(np.mean(self.surrogates)) if len(self.surrogates) else np.nan

    @property
    def surrogate_p95(self) -> float:
        return float(np.percentile(self.surrogates, 95)) if len(self.surrogates) else np.nan


def fisher_z(r: np.ndarray) -> np.ndarray:
    """Fisher z of ``|r|`` (absolute: anti-phase counts as synchrony); NaN stays NaN."""
    return np.arctanh(np.minimum(np.abs(r), R_MAX))


def _check(step_s: float, window_s: float, lag_max_s: float) -> tuple[int, int]:
    if not step_s > 0:
        raise InputError(f"step_s must be > 0, got {step_s!r}")
    if not window_s >= 3 * step_s:
        raise InputError(f"window_s must span at least 3 samples of {step_s} s, got {window_s!r}")
    if not 0 <= lag_max_s < window_s:
        raise InputError(f"lag_max_s must be in 0..window_s ({window_s}), got {lag_max_s!r}")
    return int(round(window_s / step_s)), int(round(lag_max_s / step_s))


def _standardize(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-score each row of ``w`` (m, W) over its observed samples.

    Returns the z-scores with 0 where NaN, the observed mask, and which rows are usable (enough
    observed samples and not flat).
    """
    seen = np.isfinite(w)
    n = seen.sum(axis=1)
    filled = np.where(seen, w, 0.0)
    mean = filled.sum(axis=1) / np.maximum(n, 1)
    dev = np.where(seen, w - mean[:, None], 0.0)
    sd = np.sqrt((dev * dev).sum(axis=1) / np.maximum(n, 1))
    ok = (n >= MIN_VALID_SHARE * w.shape[1]) & (sd > _FLAT_SD)
    return dev / np.where(ok, sd, 1.0)[:, None], seen, ok


def _nfft(width: int, lag_n: int) -> int:
    return 1 << int(np.ceil(np.log2(width + lag_n + 1)))


def _lags(spectrum_product: np.ndarray, nfft: int, lag_n: int) -> np.ndarray:
    """Cross-correlation sums at lags -lag_n..lag_n from the product ``conj(X) * Y``."""
    c = np.fft.irfft(spectrum_product, nfft, axis=-1)
    return np.concatenate([c[..., nfft - lag_n:], c[..., :lag_n + 1]], axis=-1)


def windowed_lagged_xcorr(a: np.ndarray, b: np.ndarray, *, step_s: float, window_s: float,
                          lag_max_s: float, win_step_s: float) -> LaggedXCorr:
    """rMEA-style windowed lagged cross-correlation of two series on one grid.

    ``a``, ``b``: 1-D float arrays of equal length sampled every ``step_s`` seconds (NaN = not
    observed). Windows of ``window_s`` s start every ``win_step_s`` s; lags run over
    ``±lag_max_s`` in steps of ``step_s``. Returns a :class:`LaggedXCorr`; a series shorter
    than one window gives zero windows.
    """
    width, lag_n = _check(step_s, window_s, lag_max_s)
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    if a.shape != b.shape or a.ndim != 1:
        raise InputError(f"a and b must be 1-D of one length, got {a.shape} and {b.shape}")
    hop = max(1, int(round(win_step_s / step_s)))
    lag_s = np.arange(-lag_n, lag_n + 1) * step_s
    if len(a) < width:
        return LaggedXCorr(np.empty(0), lag_s, np.empty((0, len(lag_s))))
    wa, wb = sliding_window_view(a, width)[::hop], sliding_window_view(b, width)[::hop]
    za, seen_a, ok_a = _standardize(wa)
    zb, seen_b, ok_b = _standardize(wb)
    nfft = _nfft(width, lag_n)
    prod = np.conj(np.fft.rfft(za, nfft)) * np.fft.rfft(zb, nfft)
    n_both = (seen_a & seen_b).sum(axis=1)
    r = _lags(prod, nfft, lag_n) / np.maximum(n_both, 1)[:, None]
    r[~(ok_a & ok_b)] = np.nan
    t_s = (np.arange(len(wa)) * hop + width / 2) * step_s
    return LaggedXCorr(t_s, lag_s, r)


def peak_sync(xc: LaggedXCorr) -> tuple[np.ndarray, np.ndarray]:
    """Per window: peak Fisher z of ``|r|`` over the lags and the lag of that peak in seconds.

    Both are NaN for windows whose correlation is NaN. On ties the smallest ``|lag|`` wins.
    """
    z = fisher_z(xc.r)
    if not z.size:
        return np.empty(0), np.empty(0)
    order = np.argsort(np.abs(xc.lag_s), kind="stable")  # ties go to the shortest lag
    zo = np.where(np.isfinite(z[:, order]), z[:, order], -np.inf)
    best = order[np.argmax(zo, axis=1)]
    rows = np.arange(len(z))
    z_peak = z[rows, best]
    lag = np.where(np.isfinite(z_peak), xc.lag_s[best], np.nan)
    return z_peak, lag


def segment_pair_peaks(a: np.ndarray, b: np.ndarray, *, step_s: float, window_s: float,
                       lag_max_s: float) -> np.ndarray:
    """Peak Fisher z of ``a``'s segment *i* against ``b``'s segment *j*, for every *i*, *j*.

    Segments are the non-overlapping ``window_s`` pieces from the start (a trailing remainder is
    dropped). Returns an (n_segments, n_segments) array: the diagonal holds the real pairs, the
    rest SUSY's surrogates. NaN where either segment is unusable.
    """
    width, lag_n = _check(step_s, window_s, lag_max_s)
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    n_seg = min(len(a), len(b)) // width
    za, seen_a, ok_a = _standardize(a[:n_seg * width].reshape(n_seg, width))
    zb, seen_b, ok_b = _standardize(b[:n_seg * width].reshape(n_seg, width))
    best = np.zeros((n_seg, n_seg))
    for k in range(-lag_n, lag_n + 1):  # one matrix product per lag: BLAS beats FFT here
        r = za[:, max(0, -k):width - max(0, k)] @ zb[:, max(0, k):width - max(0, -k)].T
        np.maximum(best, np.abs(r), out=best)
    n_both = seen_a.astype("float64") @ seen_b.T.astype("float64")
    out = fisher_z(best / np.maximum(n_both, 1))
    out[~ok_a] = np.nan
    out[:, ~ok_b] = np.nan
    return out


def shuffles(n: int, count: int, *, seed: int) -> np.ndarray:
    """``count`` uniformly random permutations of ``range(n)``, shape (count, n); empty when
    ``n < 2`` (nothing to shuffle).

    Uniform, not derangements: a permutation test is exact only over the whole group of
    shuffles. Leaving out the ones that keep a segment in place (SUSY's derangements) made 7 %
    of independent pairs "significant" at p < 0.05 over 1000 seeds; uniform shuffles give 5 %.
    """
    if n < 2:
        return np.empty((0, n), dtype=int)
    rng = np.random.default_rng(seed)
    return rng.permuted(np.tile(np.arange(n), (count, 1)), axis=1)


def surrogate_test(pair_peaks: list[np.ndarray], *, n_surrogates: int, seed: int) -> SurrogateTest:
    """Real synchrony against segment-shuffled surrogates, pooled over modalities.

    ``pair_peaks``: one :func:`segment_pair_peaks` matrix per modality (all the same size, from
    one grid). Each statistic is the mean over modalities of the mean over segments; the same
    shuffles serve every modality, so a modality that is missing in some segments weighs the
    same in the real value and in its surrogates.
    """
    if not pair_peaks or pair_peaks[0].shape[0] < 2:
        return SurrogateTest(np.nan, np.empty(0), np.nan)
    n = pair_peaks[0].shape[0]
    perms = shuffles(n, n_surrogates, seed=seed)
    diag = np.arange(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN mean is NaN by design
        real = np.nanmean([np.nanmean(m[diag, diag]) for m in pair_peaks])
        surr = np.nanmean([np.nanmean(m[diag[None, :], perms], axis=1) for m in pair_peaks],
                          axis=0)
    surr = surr[np.isfinite(surr)]
    if not np.isfinite(real) or not len(surr):
        return SurrogateTest(np.nan, np.empty(0), np.nan)
    p = (1 + np.count_nonzero(surr >= real)) / (len(surr) + 1)
    return SurrogateTest(float(real), surr, float(p))


def null_peaks(a: np.ndarray, b: np.ndarray, *, step_s: float, window_s: float,
               lag_max_s: float, n_pairs: int, seed: int) -> np.ndarray:
    """Peak Fisher z between windows of ``a`` and ``b`` far apart in time: the chance level.

    Windows are paired at random (``seed``) among those more than ``window_s + lag_max_s``
    apart, so no real coupling enters. Returns the usable pairs' peaks (possibly empty).
    """
    width, lag_n = _check(step_s, window_s, lag_max_s)
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    starts = np.arange(0, len(a) - width + 1)
    if len(starts) < 2:
        return np.empty(0)
    rng = np.random.default_rng(seed)
    i, j = rng.choice(starts, n_pairs), rng.choice(starts, n_pairs)
    far = np.abs(i - j) > width + lag_n
    idx = np.arange(width)
    za, seen_a, ok_a = _standardize(a[i[far, None] + idx].reshape(-1, width))
    zb, seen_b, ok_b = _standardize(b[j[far, None] + idx].reshape(-1, width))
    nfft = _nfft(width, lag_n)
    prod = np.conj(np.fft.rfft(za, nfft)) * np.fft.rfft(zb, nfft)
    r = _lags(prod, nfft, lag_n) / np.maximum((seen_a & seen_b).sum(axis=1), 1)[:, None]
    ok = ok_a & ok_b
    return fisher_z(r[ok]).max(axis=1) if ok.any() else np.empty(0)


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Median of ``values`` weighted by non-negative ``weights``; NaN if nothing weighs."""
    keep = np.isfinite(values) & np.isfinite(weights) & (weights > 0)
    if not keep.any():
        return np.nan
    v, w = values[keep], weights[keep]
    order = np.argsort(v)
    cum = np.cumsum(w[order])
    return float(v[order][np.searchsorted(cum, cum[-1] / 2)])



@dataclass(frozen=True)
class ModalitySync:
    """One modality of a pair: per-window peak z and lag, the chance levels and the test.

    ``z_peak``, ``lag_s`` (n_windows,) as from :func:`peak_sync`; ``threshold_z`` and
    ``extend_z``: the ``quantile`` and ``quantile_extend`` of :func:`null_peaks` (NaN if not
    estimable).
    """

    z_peak: np.ndarray
    lag_s: np.ndarray
    threshold_z: float
    extend_z: float
    test: SurrogateTest

    def above(self, level_z: float) -> np.ndarray:
        """Windows more synchronous than ``level_z`` (False where unknown)."""
        with np.errstate(invalid="ignore"):
            return self.z_peak > level_z


@dataclass(frozen=True)
class PairSync:
    """Synchrony of one pair over every modality both people have.

    ``t_s`` (n_windows,) window centres in s; ``modalities`` name -> :class:`ModalitySync`;
    ``test`` pooled over modalities; ``stretches`` list of ``(first, last + 1)`` window indices
    of runs of windows in which some modality is above its ``extend_z`` level, with at least one
    window above its ``threshold_z`` (hysteresis, so one dip does not split a stretch), spanning
    at least ``min_stretch_s`` between first and last centre; ``window_lag_s`` and ``window_z``
    (n_windows,) the lag and peak z of the modality furthest above ``extend_z`` in each window
    of a stretch (NaN outside stretches); ``lag_s`` the median of those lags weighted by how far
    above that level they are (``+`` = ``b`` trails ``a``; NaN without a stretch).
    """

    t_s: np.ndarray
    modalities: dict[str, ModalitySync]
    test: SurrogateTest
    stretches: list[tuple[int, int]]
    window_lag_s: np.ndarray
    window_z: np.ndarray
    lag_s: float


def pair_synchrony(a: dict[str, np.ndarray], b: dict[str, np.ndarray], *, step_s: float,
                   window_s: float, lag_max_s: float, win_step_s: float, n_surrogates: int,
                   quantile: float, quantile_extend: float, n_null_pairs: int,
                   min_stretch_s: float, seed: int) -> PairSync:
    """Synchrony of ``a`` and ``b``, each a dict modality -> series on one ``step_s`` grid.

    Modalities missing on either side, or never observed, are left out. Window timing,
    surrogates and chance levels are as in :func:`windowed_lagged_xcorr`,
    :func:`surrogate_test` and :func:`null_peaks` (``seed`` makes them repeatable).
    A lead or lag is only claimed inside stretches (see :class:`PairSync`), because single
    windows above a chance level are, by construction, sometimes chance.
    """
    names = [m for m in a if m in b and np.isfinite(a[m]).any() and np.isfinite(b[m]).any()]
    mods: dict[str, ModalitySync] = {}
    peaks: list[np.ndarray] = []
    t_s = np.empty(0)
    for k, m in enumerate(names):
        timing = dict(step_s=step_s, window_s=window_s, lag_max_s=lag_max_s)
        xc = windowed_lagged_xcorr(a[m], b[m], win_step_s=win_step_s, **timing)
        z_peak, lag = peak_sync(xc)
        pairs = segment_pair_peaks(a[m], b[m], **timing)
        null = null_peaks(a[m], b[m], n_pairs=n_null_pairs, seed=seed + k, **timing)
        thr, ext = np.quantile(null, [quantile, quantile_extend]) if len(null) else (np.nan,) * 2
        mods[m] = ModalitySync(z_peak, lag, float(thr), float(ext),
                               surrogate_test([pairs], n_surrogates=n_surrogates, seed=seed))
        peaks.append(pairs)
        t_s = xc.t_s
    pooled = surrogate_test(peaks, n_surrogates=n_surrogates, seed=seed)
    excess, lag, z = _above_chance(list(mods.values()), len(t_s))
    strong = np.zeros(len(t_s), dtype=bool)
    for m in mods.values():
        strong |= m.above(m.threshold_z)
    stretches = _stretches(t_s, excess > 0, strong, min_stretch_s)
    keep = np.zeros(len(t_s), dtype=bool)
    for i0, i1 in stretches:
        keep[i0:i1] = True
    window_lag, window_z = np.where(keep, lag, np.nan), np.where(keep, z, np.nan)
    return PairSync(t_s, mods, pooled, stretches, window_lag, window_z,
                    weighted_median(window_lag, np.where(keep, excess, 0.0)))


def _above_chance(mods: list[ModalitySync], n_windows: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window: how far the best modality is above its ``extend_z`` (0 if none), its lag
    and its z."""
    if not mods or not n_windows:
        return np.zeros(n_windows), np.full(n_windows, np.nan), np.full(n_windows, np.nan)
    excess = np.stack([np.where(m.above(m.extend_z), m.z_peak - m.extend_z, 0.0) for m in mods])
    best = np.argmax(excess, axis=0)
    cols = np.arange(n_windows)
    return (excess[best, cols], np.stack([m.lag_s for m in mods])[best, cols],
            np.stack([m.z_peak for m in mods])[best, cols])


def _stretches(t_s: np.ndarray, on: np.ndarray, strong: np.ndarray, min_span_s: float
               ) -> list[tuple[int, int]]:
    """Index runs ``(i0, i1)`` (``i1`` exclusive) of ``on`` whose window times span at least
    ``min_span_s`` seconds and that hold a ``strong`` window."""
    return [(i0, i1) for i0, i1 in true_runs(on)
            if t_s[i1 - 1] - t_s[i0] >= min_span_s and strong[i0:i1].any()]
