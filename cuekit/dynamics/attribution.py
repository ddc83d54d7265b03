"""Audio-visual speaker attribution: which participant's mouth moves when each voice speaks.

Each voice's ``voice.active`` is correlated with each participant's mouth movement (the
absolute frame-to-frame change of ``expr.mouth_open``, smoothed over ``SMOOTH_S``) on one grid
of ``STEP_S`` seconds; the voice → participant assignment maximising the total correlation is
solved with the Hungarian method. Without video (or with no usable mouth data) voices map to
participants in order of first speech.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import uniform_filter1d
from scipy.optimize import linear_sum_assignment

from ..cues import align
from ..layout import Participant

STEP_S = 0.1     # the video pipeline samples faces at ~10 fps
SMOOTH_S = 0.5   # mouth movement is bursty; a syllable lasts ~0.2 s


def attribute_voices(voice_samples: pd.DataFrame, voices: list[str],
                     video_samples: pd.DataFrame | None,
                     participants: list[Participant]) -> dict[str, str]:
    """Map each voice label (e.g. ``V1``) to a participant name.

    Voices beyond the number of participants keep their own label (nothing to attribute them
    to). NaN mouth values (no face) are left out of each correlation.
    """
    names = [p.name for p in participants]
    order = _first_speech_order(voice_samples, voices)
    fallback = {v: (names[i] if i < len(names) else v) for i, v in enumerate(order)}
    if video_samples is None or not len(video_samples) or not names:
        return fallback
    corr = correlation_matrix(voice_samples, voices, video_samples, names)
    if not np.isfinite(corr).any():
        return fallback
    rows, cols = linear_sum_assignment(-np.nan_to_num(corr, nan=-1.0))
    mapping = {voices[r]: names[c] for r, c in zip(rows, cols, strict=True)}
    return {v: mapping.get(v, v) for v in voices}


def correlation_matrix(voice_samples: pd.DataFrame, voices: list[str],
                       video_samples: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Pearson r between each voice's activity (rows) and each participant's mouth movement
    (columns), shape ``(len(voices), len(names))``; NaN where either series is flat or absent."""
    sel_v = voice_samples[(voice_samples["cue"] == "voice.active")
                          & voice_samples["participant"].isin(voices)]
    sel_m = video_samples[(video_samples["cue"] == "expr.mouth_open")
                          & video_samples["participant"].isin(names)]
    both = pd.concat([sel_v, sel_m], ignore_index=True)
    if not len(both):
        return np.full((len(voices), len(names)), np.nan)
    grid = align(both, STEP_S, start_s=0.0)
    width = max(1, int(round(SMOOTH_S / STEP_S)))
    out = np.full((len(voices), len(names)), np.nan)
    for j, n in enumerate(names):
        col = f"{n}/expr.mouth_open"
        if col not in grid:
            continue
        mouth = grid[col].to_numpy()
        moving = _nan_smooth(np.abs(np.diff(mouth, prepend=np.nan)), width)
        for i, v in enumerate(voices):
            col_v = f"{v}/voice.active"
            if col_v in grid:
                out[i, j] = _pearson(grid[col_v].to_numpy(), moving)
    return out


def _nan_smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Running mean over ``width`` points that skips NaN (NaN only where all are NaN)."""
    ok = np.isfinite(x)
    num = uniform_filter1d(np.where(ok, x, 0.0), width, mode="nearest")
    den = uniform_filter1d(ok.astype(float), width, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return np.nan
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def _first_speech_order(voice_samples: pd.DataFrame, voices: list[str]) -> list[str]:
    first = {}
    for v in voices:
        sel = voice_samples[(voice_samples["participant"] == v)
                            & (voice_samples["cue"] == "voice.active")
                            & (voice_samples["value"] >= 0.5)]
        first[v] = float(sel["t"].min()) if len(sel) else np.inf
    return sorted(voices, key=lambda v: (first[v], voices.index(v)))
