"""Known-answer tests of windowed lagged cross-correlation, surrogates and lead/lag."""

import numpy as np
import pytest

from cuekit.dynamics import synchrony as sy
from cuekit.errors import InputError

STEP_S = 0.1
TIMING = dict(step_s=STEP_S, window_s=10.0, lag_max_s=3.0)
PAIR = dict(TIMING, win_step_s=1.0, n_surrogates=200, quantile=0.99, quantile_extend=0.95, n_null_pairs=1000,
            min_stretch_s=10.0)


def smooth_noise(rng, n: int, half_width: int = 8) -> np.ndarray:
    """Band-limited noise (a Hann-smoothed random walk step), like a motion-energy trace."""
    x = rng.standard_normal(n + 4 * half_width)
    return np.convolve(x, np.hanning(2 * half_width + 1), "same")[2 * half_width:2 * half_width + n]


def follower(seed: int, *, lag_s: float, duration_s: float = 120.0, noise: float = 0.5):
    """(a, b) where b repeats a ``lag_s`` later plus independent noise."""
    rng = np.random.default_rng(seed)
    n, k = int(duration_s / STEP_S), int(round(lag_s / STEP_S))
    x = smooth_noise(rng, n + k)
    return x[k:], x[:n] + noise * smooth_noise(rng, n)


@pytest.mark.parametrize("seed", range(5))
def test_lag_and_leader_of_a_known_follower(seed):
    a, b = follower(seed, lag_s=1.0)
    ps = sy.pair_synchrony({"motion": a}, {"motion": b}, seed=seed, **PAIR)
    assert ps.lag_s == pytest.approx(1.0, abs=0.2)  # + = b trails a
    swapped = sy.pair_synchrony({"motion": b}, {"motion": a}, seed=seed, **PAIR)
    assert swapped.lag_s == pytest.approx(-1.0, abs=0.2)
    assert ps.test.p < 0.05 and ps.test.real > ps.test.surrogate_p95


def test_anti_phase_counts_as_synchrony():
    a, b = follower(3, lag_s=0.5, noise=0.2)
    z_in, _ = sy.peak_sync(sy.windowed_lagged_xcorr(a, b, win_step_s=1.0, **TIMING))
    z_anti, lag = sy.peak_sync(sy.windowed_lagged_xcorr(a, -b, win_step_s=1.0, **TIMING))
    np.testing.assert_allclose(z_anti, z_in)
    assert np.median(lag) == pytest.approx(0.5, abs=1e-9)


def test_lag_zero_equals_pearson_in_each_window():
    rng = np.random.default_rng(1)
    a, b = rng.random(300), rng.random(300)
    xc = sy.windowed_lagged_xcorr(a, b, win_step_s=5.0, **TIMING)
    zero = int(np.flatnonzero(xc.lag_s == 0)[0])
    for w, t in enumerate(xc.t_s):
        i0 = int(round(t / STEP_S)) - 50
        assert xc.r[w, zero] == pytest.approx(np.corrcoef(a[i0:i0 + 100], b[i0:i0 + 100])[0, 1])
    assert xc.t_s[0] == pytest.approx(5.0)


def test_independent_signals_are_rarely_significant():
    significant = []
    for seed in range(60):
        rng = np.random.default_rng(100 + seed)
        a = {m: smooth_noise(rng, 1200) for m in ("motion", "head")}
        b = {m: smooth_noise(rng, 1200) for m in ("motion", "head")}
        significant.append(sy.pair_synchrony(a, b, seed=seed, **PAIR).test.p < 0.05)
    assert np.mean(significant) <= 0.10  # 0.05 expected; see benchmarks/bench_synchrony.py


def test_missing_and_flat_windows_are_nan_not_zero():
    rng = np.random.default_rng(2)
    a, b = rng.random(400), rng.random(400)
    a[:100] = np.nan  # first window unobserved
    b[200:300] = 0.5  # third window flat
    xc = sy.windowed_lagged_xcorr(a, b, win_step_s=10.0, **TIMING)
    assert np.isnan(xc.r[0]).all() and np.isnan(xc.r[2]).all()
    assert np.isfinite(xc.r[1]).all() and np.isfinite(xc.r[3]).all()
    z, lag = sy.peak_sync(xc)
    assert np.isnan(z[0]) and np.isnan(lag[0]) and np.isfinite(z[1])
    short = sy.windowed_lagged_xcorr(a[:50], b[:50], win_step_s=1.0, **TIMING)
    assert short.r.shape == (0, 61)


def test_no_surrogates_without_two_segments():
    rng = np.random.default_rng(3)
    pairs = sy.segment_pair_peaks(rng.random(150), rng.random(150), **TIMING)
    assert pairs.shape == (1, 1)
    test = sy.surrogate_test([pairs], n_surrogates=100, seed=0)
    assert np.isnan(test.real) and np.isnan(test.p) and np.isnan(test.surrogate_mean)
    ps = sy.pair_synchrony({"motion": np.full(600, np.nan)}, {"motion": rng.random(600)},
                           seed=0, **PAIR)
    assert not ps.modalities and np.isnan(ps.test.real) and np.isnan(ps.lag_s)


def test_shuffles_are_permutations_and_follow_the_seed():
    d = sy.shuffles(7, 500, seed=4)
    assert d.shape == (500, 7)
    assert (np.sort(d, axis=1) == np.arange(7)).all()
    np.testing.assert_array_equal(d, sy.shuffles(7, 500, seed=4))
    assert sy.shuffles(1, 5, seed=0).shape == (0, 1)


def test_segment_pairs_diagonal_is_the_real_pairing():
    a, b = follower(5, lag_s=1.0, duration_s=60.0, noise=0.2)
    pairs = sy.segment_pair_peaks(a, b, **TIMING)
    off = pairs[~np.eye(len(pairs), dtype=bool)]
    assert np.diag(pairs).min() > np.percentile(off, 90)


def test_weighted_median():
    assert sy.weighted_median(np.array([1.0, 2.0, 10.0]), np.array([1.0, 1.0, 5.0])) == 10.0
    assert np.isnan(sy.weighted_median(np.array([1.0]), np.array([0.0])))


@pytest.mark.parametrize("kw", [dict(step_s=0.0), dict(window_s=0.2), dict(lag_max_s=10.0),
                                dict(lag_max_s=-1.0)])
def test_bad_parameters_raise(kw):
    with pytest.raises(InputError):
        sy.windowed_lagged_xcorr(np.zeros(100), np.zeros(100), win_step_s=1.0, **{**TIMING, **kw})


def test_unequal_lengths_raise():
    with pytest.raises(InputError, match="one length"):
        sy.windowed_lagged_xcorr(np.zeros(100), np.zeros(90), win_step_s=1.0, **TIMING)
