"""The listening stage: how the participants listened to each other, moment by moment and overall.

Reads everything the video, audio and turn-taking stages produced and returns

- samples per pair (participant ``"P1|P2"``, names in participant order), one row per
  synchrony window (centre time): ``sync.motion``, ``sync.head``, ``sync.smile`` (peak ``|r|``
  0..1; NaN where the window is not observed) and ``sync.lag_s`` (lag of the modality furthest
  above chance, ``+`` = the second of the pair follows; NaN where no modality is above chance);
- ``mirror`` segments (:mod:`.mirroring`) and ranked ``moment`` segments (:mod:`.moments`);
- a summary per participant (:func:`.profile.participant_profile`) and per pair: ``synchrony`` (mean
  Fisher z of peak ``|r|`` over matched segments, all modalities), ``synchrony_surrogate`` and
  ``synchrony_surrogate_p95`` (mean and 95th percentile of the same over segment-shuffled
  surrogates), ``synchrony_p``, ``leader`` (a name, or None when nobody leads or it is
  unknown), ``lag_s`` (how long the follower trails, s), and ``synchrony_<modality>`` /
  ``synchrony_<modality>_p`` for ``motion``, ``head`` and ``smile``.

Modalities: ``motion`` = ``body.motion_energy``; ``head`` = head angular speed in deg/s from
yaw, pitch and roll; ``smile`` = ``expr.smile``.
"""

from __future__ import annotations

from dataclasses import asdict
from itertools import combinations

import numpy as np
import pandas as pd

from ..cues import StreamResult, align, concat_samples, concat_segments, make_segments, series_to_samples
from ..errors import InputError
from ..params import LISTENING, SYNC, ListeningParams, SyncParams
from .mirroring import (movement_stretches, nodding_along, posture_mirroring, posture_shifts,
                        smile_reciprocity)
from .moments import coaching_moments
from .profile import Observed, observe, participant_profile
from .synchrony import PairSync, pair_synchrony

SEED = 5  # surrogates and chance levels are drawn from this seed: same input, same result
MODALITIES = ("motion", "head", "smile")
POSTURE = (  # (what, cue, smallest shift in the cue's units, must the answer go the same way)
    ("lean", "body.lean", 0.1, True),
    ("shoulder tilt", "body.shoulder_tilt_deg", 3.0, False),
)
POSTURE_HOLD_S = 2.0
POSTURE_MAX_LAG_S = 5.0
SMILE_MAX_LAG_S = 2.0
_HEAD = ("head.yaw_deg", "head.pitch_deg", "head.roll_deg")


def listening(samples: pd.DataFrame, segments: pd.DataFrame, participants: list[str], *,
              duration_s: float, sync: SyncParams = SYNC,
              params: ListeningParams = LISTENING) -> StreamResult:
    """Synchrony, mirroring, listening profile and coaching moments (see the module doc).

    Works with whatever was measured: without video the synchrony and mirroring values are NaN
    and there are no mirror segments; without voice the listening-time indicators are NaN; with
    one participant only the per-participant indicators exist (mostly NaN). ``sync`` and
    ``params``: see :mod:`cuekit.params` (recorded in the provenance).
    """
    if not duration_s >= 0:
        raise InputError(f"duration_s must be >= 0, got {duration_s!r}")
    obs = observe(samples, segments, participants)
    grid = _movement_grid(samples, participants, duration_s, sync.step_s)
    pair_rows, pair_summary, mirror_rows = [], {}, []
    for a, b in combinations(participants, 2):
        key = f"{a}|{b}"
        ps = pair_synchrony(grid[a], grid[b], seed=SEED, **asdict(sync))
        pair_summary[key] = _pair_summary(ps, (a, b))
        pair_rows.append(_pair_samples(ps, key))
        mirror_rows += _mirrors(obs, ps, (a, b), window_s=sync.window_s)
    summary: dict[str, dict] = {p: participant_profile(obs, p, pairs=pair_summary,
                                                       mirror_rows=mirror_rows, params=params)
                                for p in participants}
    summary.update(pair_summary)
    moments = coaching_moments(obs, mirror_rows)
    return StreamResult(
        samples=concat_samples(pair_rows),
        segments=concat_segments([make_segments(mirror_rows), make_segments(moments)]),
        summary=summary,
        provenance={"listening": dict(asdict(sync), **asdict(params), seed=SEED,
                                      modalities=list(MODALITIES),
                                      smile_max_lag_s=SMILE_MAX_LAG_S,
                                      posture_max_lag_s=POSTURE_MAX_LAG_S)})


def _movement_grid(samples: pd.DataFrame, participants: list[str], duration_s: float,
                   step: float) -> dict[str, dict[str, np.ndarray]]:
    """participant -> modality -> series on the ``step`` s grid from 0 to the end."""
    wanted = samples[samples["cue"].isin(("body.motion_energy", "expr.smile") + _HEAD)
                     & samples["participant"].isin(participants)]
    end_s = max(duration_s, float(wanted["t"].max()) + step if len(wanted) else 0.0)
    wide = align(wanted, step, end_s=end_s)
    col = lambda p, c: wide[f"{p}/{c}"].to_numpy() if f"{p}/{c}" in wide else np.full(len(wide), np.nan)
    out = {}
    for p in participants:
        angles = np.stack([col(p, c) for c in _HEAD])
        speed = np.sqrt((np.diff(angles, axis=1, prepend=np.nan) ** 2).sum(axis=0)) / step
        out[p] = {"motion": col(p, "body.motion_energy"), "head": speed,
                  "smile": col(p, "expr.smile")}
    return out


def _pair_summary(ps: PairSync, names: tuple[str, str]) -> dict:
    lag = ps.lag_s
    leader = None if not np.isfinite(lag) or lag == 0 else names[0] if lag > 0 else names[1]
    out = dict(synchrony=ps.test.real, synchrony_surrogate=ps.test.surrogate_mean,
               synchrony_surrogate_p95=ps.test.surrogate_p95, synchrony_p=ps.test.p,
               leader=leader, lag_s=abs(lag))
    for m in MODALITIES:
        test = ps.modalities[m].test if m in ps.modalities else None
        out[f"synchrony_{m}"] = test.real if test else np.nan
        out[f"synchrony_{m}_p"] = test.p if test else np.nan
    return out


def _pair_samples(ps: PairSync, key: str) -> pd.DataFrame:
    frames = [series_to_samples(ps.t_s, key, f"sync.{m}", np.tanh(s.z_peak))
              for m, s in ps.modalities.items()]
    frames.append(series_to_samples(ps.t_s, key, "sync.lag_s", ps.window_lag_s))
    return concat_samples(frames)


def _mirrors(obs: Observed, ps: PairSync, names: tuple[str, str], *, window_s: float
             ) -> list[dict]:
    rows = movement_stretches(ps.t_s, ps.stretches, ps.window_lag_s, np.tanh(ps.window_z),
                              names=names, window_s=window_s)
    for what, cue, min_change, same_sign in POSTURE:
        shifts = {p: posture_shifts(*tv, hold_s=POSTURE_HOLD_S, min_change=min_change)
                  for p in names if (tv := obs.cue(p, cue)) is not None}
        rows += posture_mirroring(shifts, names=names, what=what, max_lag_s=POSTURE_MAX_LAG_S,
                                  same_sign=same_sign)
    rows += smile_reciprocity({p: obs.event(p, "smile") for p in names}, names=names,
                              max_lag_s=SMILE_MAX_LAG_S)
    rows += nodding_along({p: obs.event(p, "nod") for p in names},
                          {p: obs.floor(p) for p in names}, names=names)
    return rows
