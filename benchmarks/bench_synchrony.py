"""Seconds to compute synchrony for one pair and one modality of a 60-minute call at 10 Hz.

Run: ``python benchmarks/bench_synchrony.py``. Prints one line per step and the total, with
the listening stage's parameters (``cuekit.params.SYNC``). Target: < 2 s. Then the
accuracy figures: false significance over 1000 independent pairs, lag and leader of known
followers over 200 seeds each (a few minutes).
"""

import time
from dataclasses import asdict

import numpy as np

from cuekit.dynamics import synchrony as sy
from cuekit.params import SYNC

DURATION_S = 3600.0


def main() -> None:
    rng = np.random.default_rng(0)
    n = int(DURATION_S / SYNC.step_s)
    a, b = rng.random(n), rng.random(n)
    timing = {k: getattr(SYNC, k) for k in ("step_s", "window_s", "lag_max_s")}
    steps = {
        "windowed_lagged_xcorr + peak_sync": lambda: sy.peak_sync(
            sy.windowed_lagged_xcorr(a, b, win_step_s=SYNC.win_step_s, **timing)),
        "segment_pair_peaks": lambda: sy.segment_pair_peaks(a, b, **timing),
        "null_peaks": lambda: sy.null_peaks(a, b, n_pairs=SYNC.n_null_pairs, seed=0, **timing),
        "pair_synchrony (all of it)": lambda: sy.pair_synchrony({"motion": a}, {"motion": b},
                                                                seed=0, **asdict(SYNC)),
    }
    for name, fn in steps.items():
        t0 = time.perf_counter()
        fn()
        print(f"{name:38s} {time.perf_counter() - t0:6.3f} s")
    print(f"60-min call, {n} samples, window {SYNC.window_s} s every {SYNC.win_step_s} s, "
          f"lags ±{SYNC.lag_max_s} s, {SYNC.n_surrogates} surrogates")


def smooth_noise(rng, n: int, half_width: int = 8) -> np.ndarray:
    """Band-limited noise, like a motion-energy trace (the same as the tests use)."""
    x = rng.standard_normal(n + 4 * half_width)
    return np.convolve(x, np.hanning(2 * half_width + 1), "same")[2 * half_width:2 * half_width + n]


def accuracy(seeds: int = 1000, duration_s: float = 120.0) -> None:
    """False significance on independent pairs, and lag/leader on known followers."""
    n = int(duration_s / SYNC.step_s)
    significant = 0
    for seed in range(seeds):
        rng = np.random.default_rng(10_000 + seed)
        a = {m: smooth_noise(rng, n) for m in ("motion", "head", "smile")}
        b = {m: smooth_noise(rng, n) for m in ("motion", "head", "smile")}
        significant += sy.pair_synchrony(a, b, seed=seed, **asdict(SYNC)).test.p < 0.05
    rate = significant / seeds
    print(f"independent {duration_s:.0f} s pairs, 3 modalities, {seeds} seeds: p < 0.05 in "
          f"{rate:.1%} (± {np.sqrt(0.05 * 0.95 / seeds):.1%} expected at α = 5 %)")
    for lag_s in (0.5, 1.0):
        errors, right = [], 0
        for seed in range(200):
            rng = np.random.default_rng(seed)
            k = int(round(lag_s / SYNC.step_s))
            x = smooth_noise(rng, n + k)
            a, b = x[k:], x[:n] + 0.5 * smooth_noise(rng, n)
            ps = sy.pair_synchrony({"motion": a}, {"motion": b}, seed=seed, **asdict(SYNC))
            if np.isfinite(ps.lag_s):
                errors.append(abs(ps.lag_s - lag_s))
                right += ps.lag_s > 0  # + = b trails a: a leads
        print(f"B follows A by {lag_s} s, 200 seeds: lag found in {len(errors)}, max error "
              f"{max(errors):.2f} s, leader right in {right}")


if __name__ == "__main__":
    main()
    accuracy()
