"""Seconds to compute synchrony for one pair and one modality of a 60-minute call at 10 Hz.

Run: ``python benchmarks/bench_synchrony.py``. Prints one line per step and the total, with
the listening stage's parameters (``cuekit.dynamics.listening.SYNC``). Target: < 2 s.
"""

import time

import numpy as np

from cuekit.dynamics import synchrony as sy
from cuekit.dynamics.listening import SYNC

DURATION_S = 3600.0


def main() -> None:
    rng = np.random.default_rng(0)
    n = int(DURATION_S / SYNC["step_s"])
    a, b = rng.random(n), rng.random(n)
    timing = {k: SYNC[k] for k in ("step_s", "window_s", "lag_max_s")}
    steps = {
        "windowed_lagged_xcorr + peak_sync": lambda: sy.peak_sync(
            sy.windowed_lagged_xcorr(a, b, win_step_s=SYNC["win_step_s"], **timing)),
        "segment_pair_peaks": lambda: sy.segment_pair_peaks(a, b, **timing),
        "null_peaks": lambda: sy.null_peaks(a, b, n_pairs=SYNC["n_null_pairs"], seed=0, **timing),
        "pair_synchrony (all of it)": lambda: sy.pair_synchrony({"motion": a}, {"motion": b},
                                                                seed=0, **SYNC),
    }
    for name, fn in steps.items():
        t0 = time.perf_counter()
        fn()
        print(f"{name:38s} {time.perf_counter() - t0:6.3f} s")
    print(f"60-min call, {n} samples, window {SYNC['window_s']} s every {SYNC['win_step_s']} s, "
          f"lags ±{SYNC['lag_max_s']} s, {SYNC['n_surrogates']} surrogates")


if __name__ == "__main__":
    main()
