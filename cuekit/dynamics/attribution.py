"""Audio-visual speaker attribution: which participant's mouth moves when each voice speaks.

Each voice's ``voice.active`` is correlated with each participant's mouth movement (the
absolute frame-to-frame change of ``expr.mouth_open``, smoothed over ``SMOOTH_S``) on one grid
of ``STEP_S`` seconds; the voice → participant assignment maximising the total correlation is
solved with the Hungarian method. Without video (or with no usable mouth data) voices map to
participants in order of first speech.

A mixed track gives each moment to one voice, so overlaps never show in it;
:func:`visual_overlaps` finds them on the faces instead (a participant's mouth moving like
speech while someone else's voice is heard) and :func:`add_visual_overlaps` marks them in
``voice.active`` so that turn-taking sees both speakers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import uniform_filter1d
from scipy.optimize import linear_sum_assignment

from ..cues import StreamResult, align, concat_segments, make_segments, series
from ..intervals import ScoredIntervals, close_gaps, robust_sd, true_runs
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


# ------------------------------------------------------------------ overlaps seen on the face
#
# A mixed track gives each moment to one voice, so two people speaking at once show up as one
# voice only. Where video is available, the other participant's mouth tells: if it moves like
# speech (well above that person's own listening baseline) while the track's voice is given to
# someone else, that participant is speaking too.

MOUTH_WINDOW_S = 0.3       # mouth movement is averaged over this window (about one syllable)
MOUTH_MAX_DT_S = 0.25      # frames further apart than this are not differenced (dropped faces)
MOVING_FRACTION = 0.35     # speaking-like movement: this far from listening to speaking median
MOVING_MIN_SIGMAS = 8.0    # … and at least this many robust SDs above the listening median
OPEN_FRACTION = 0.3        # speaking-like opening: this far from listening to speaking median
OPEN_MIN_SIGMAS = 3.0      # a person's opening must tell speaking apart by this many SDs
HOLDER_FRACTION = 0.2      # the voice's owner must move at least this speaking-like …
HOLDER_MIN_SHARE = 0.5     # … over at least this share of the stretch, when their face is seen
GAP_CLOSE_S = 0.3          # bridges dips between syllables in the speaking-like mask
MIN_MOVING_SHARE = 0.5     # share of a stretch's frame pairs above the movement floor (not a
                           # single open-and-close, as a brief smile)
MIN_BASELINE_S = 2.0       # seconds of own listening and own speech needed to calibrate a person


def visual_overlaps(active_samples: pd.DataFrame, video_samples: pd.DataFrame | None,
                    names: list[str], *, min_duration_s: float = 0.25
                    ) -> dict[str, ScoredIntervals]:
    """Stretches of at least ``min_duration_s`` where a participant's mouth moves like speech
    while ``voice.active`` (already named after participants) has someone else speaking and
    not them: overlaps that the audio alone cannot see. Participant -> their stretches (only
    those with one), each scored by the median mouth movement there (0 = their own listening
    median, 1 = their own speaking median).

    Two mouth measures, each averaged over ``MOUTH_WINDOW_S``: *movement*
    ``|Δ expr.mouth_open| / Δt`` between consecutive face frames (per s) and *opening*
    ``expr.mouth_open``. Each person is calibrated against themselves: *listening* is when
    someone else's voice is active and theirs is not, *speaking* when theirs is. A moment is
    speaking-like when movement is ``MOVING_FRACTION`` of the way from their listening median to
    their speaking median and ``MOVING_MIN_SIGMAS`` robust SDs above the listening median, and
    the mouth is ``OPEN_FRACTION`` of the way open: a nod with closed lips (small movement, no
    opening) or a held smile (open, no movement) is not speech. Dips up to ``GAP_CLOSE_S`` are
    bridged; edges made by the mouth are then placed at the first and last frame pair moving
    clearly more than when listening, undoing the window's spread. A stretch is kept only if
    the voice's owner moves their mouth there too (when their face is seen): that rejects a
    voice boundary the audio placed late at a turn change. People without ``MIN_BASELINE_S`` of
    both states, or whose mouth movement does not tell speaking from listening, are skipped; for
    someone whose mouth rests open (its opening does not tell), movement alone decides.
    """
    if video_samples is None or not len(video_samples) or len(names) < 2:
        return {}
    grid_t, step_s, active = _active_grid(active_samples, names)
    if not len(grid_t):
        return {}
    mid_t = grid_t + step_s / 2
    mouths = {n: _Mouth.fit(video_samples, n, mid_t, active, step_s) for n in names}
    out: dict[str, ScoredIntervals] = {}
    for n, mouth in mouths.items():
        if mouth is None:
            continue
        others_on = np.any([active[o] for o in names if o != n], axis=0)
        like = close_gaps(mouth.speaking_like(), int(round(GAP_CLOSE_S / step_s)))
        allowed = others_on & ~active[n]
        iv, score = [], []
        for i0, i1 in true_runs(like & allowed):
            i0, i1 = _place_edges(i0, i1, like, allowed, mid_t, mouth)
            if i1 <= i0 or (i1 - i0) * step_s < min_duration_s - 1e-9:
                continue
            if mouth.moving_share(mid_t[i0] - step_s / 2, mid_t[i1 - 1] + step_s / 2) \
                    < MIN_MOVING_SHARE:
                continue
            if not _holder_moves(active, mouths, n, i0, i1):
                continue
            iv.append((round(float(grid_t[i0]), 3), round(float(grid_t[i1 - 1] + step_s), 3)))
            score.append(float(np.nanmedian(mouth.moving_score()[i0:i1])))
        if iv:
            out[n] = ScoredIntervals(iv, score)
    return out


def add_visual_overlaps(audio: StreamResult, video_samples: pd.DataFrame | None,
                        names: list[str], *, min_duration_s: float = 0.25) -> StreamResult:
    """``audio`` (a mixed track, voices already renamed to ``names``) with the
    :func:`visual_overlaps` marked: ``voice.active`` = 1 there (confidence = the stretch's
    score, at most 1) and a ``speech`` segment labelled ``seen``. Provenance gains
    ``seen_speech`` (the stretches and the parameters); the summary is left as heard."""
    found = visual_overlaps(audio.samples, video_samples, names, min_duration_s=min_duration_s)
    seen = sorted(((a, b, n, score) for n, ev in found.items()
                   for (a, b), score in zip(ev.iv.tolist(), ev.score.tolist(), strict=True)),
                  key=lambda s: (s[0], s[2]))  # in time order, as the stretches are listed
    samples = audio.samples.copy()
    is_active = samples["cue"] == "voice.active"
    for start_s, end_s, n, score in seen:
        at = (is_active & (samples["participant"] == n)
              & (samples["t"] >= start_s - 1e-9) & (samples["t"] < end_s - 1e-9))
        samples.loc[at, "value"] = 1.0
        samples.loc[at, "confidence"] = np.float32(min(1.0, score))
    rows = [dict(start=a, end=b, participant=n, kind="speech", label="seen", score=score)
            for a, b, n, score in seen]
    segments = concat_segments([audio.segments, make_segments(rows)])
    provenance = dict(audio.provenance, seen_speech=dict(
        stretches=[dict(participant=n, start_s=round(a, 3), end_s=round(b, 3),
                        score=round(score, 3)) for a, b, n, score in seen],
        min_duration_s=min_duration_s, mouth_window_s=MOUTH_WINDOW_S,
        moving_fraction=MOVING_FRACTION, moving_min_sigmas=MOVING_MIN_SIGMAS,
        open_fraction=OPEN_FRACTION))
    return StreamResult(samples, segments, provenance, audio.summary)


@dataclass(frozen=True)
class _Calibration:
    """One person's measure when listening (median, robust SD) and when speaking (median)."""

    listen_median: float
    listen_sigma: float  # robust SD: 1.4826 × median absolute deviation
    speak_median: float

    @classmethod
    def fit(cls, values: np.ndarray, listening: np.ndarray, speaking: np.ndarray,
            min_sigmas: float) -> _Calibration | None:
        """None if speaking is not ``min_sigmas`` robust SDs above listening."""
        heard, spoke = values[listening], values[speaking]
        med = float(np.median(heard))
        cal = cls(med, robust_sd(heard), float(np.median(spoke)))
        return cal if cal.speak_median > cal.floor(min_sigmas) else None

    def floor(self, sigmas: float) -> float:
        return self.listen_median + sigmas * self.listen_sigma

    def score(self, values: np.ndarray) -> np.ndarray:
        """0 at the listening median, 1 at the speaking median."""
        return (values - self.listen_median) / (self.speak_median - self.listen_median)


@dataclass(frozen=True)
class _Mouth:
    """One person's mouth on the voice grid, calibrated on their own listening and speaking."""

    speed_t: np.ndarray  # midpoints of consecutive face frames
    speed: np.ndarray    # |Δ mouth_open| / Δt there, per s
    moving: np.ndarray   # speed averaged over MOUTH_WINDOW_S, on the grid
    opening: np.ndarray  # mouth_open averaged over MOUTH_WINDOW_S, on the grid
    moving_cal: _Calibration
    opening_cal: _Calibration | None  # None: the opening does not tell speaking from listening

    @classmethod
    def fit(cls, video_samples: pd.DataFrame, name: str, mid_t: np.ndarray,
            active: dict[str, np.ndarray], step_s: float) -> _Mouth | None:
        t, m = series(video_samples, name, "expr.mouth_open")
        ok = np.isfinite(m)
        t, m = t[ok], m[ok]
        dt = np.diff(t)
        keep = (dt > 0) & (dt <= MOUTH_MAX_DT_S)
        speed_t = (t[:-1] + dt / 2)[keep]
        speed = (np.abs(np.diff(m)) / np.where(dt > 0, dt, 1.0))[keep]
        moving = _window_mean(speed_t, speed, mid_t, MOUTH_WINDOW_S)
        opening = _window_mean(t, m, mid_t, MOUTH_WINDOW_S)
        seen = np.isfinite(moving) & np.isfinite(opening)
        others_on = np.any([v for o, v in active.items() if o != name], axis=0)
        listening, speaking = seen & others_on & ~active[name], seen & active[name]
        if min(listening.sum(), speaking.sum()) < MIN_BASELINE_S / step_s:
            return None
        moving_cal = _Calibration.fit(moving, listening, speaking, MOVING_MIN_SIGMAS)
        if moving_cal is None:
            return None
        # a mouth that rests open (lips apart while listening, as open as when speaking) does
        # not tell speaking by its opening: its movement alone must then
        opening_cal = _Calibration.fit(opening, listening, speaking, OPEN_MIN_SIGMAS)
        return cls(speed_t, speed, moving, opening, moving_cal, opening_cal)

    def moving_share(self, start_s: float, end_s: float) -> float:
        """Share of the frame pairs in ``[start_s, end_s)`` that move above the floor."""
        inside = (self.speed_t >= start_s) & (self.speed_t < end_s)
        strong = self.speed[inside] >= self.moving_cal.floor(MOVING_MIN_SIGMAS)
        return float(strong.mean()) if len(strong) else 0.0

    def moving_score(self) -> np.ndarray:
        return self.moving_cal.score(self.moving)

    def speaking_like(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            moving = ((self.moving_score() >= MOVING_FRACTION)
                      & (self.moving >= self.moving_cal.floor(MOVING_MIN_SIGMAS)))
            if self.opening_cal is None:
                return moving
            return moving & (self.opening_cal.score(self.opening) >= OPEN_FRACTION)


def _active_grid(samples: pd.DataFrame, names: list[str]
                 ) -> tuple[np.ndarray, float, dict[str, np.ndarray]]:
    """The ``voice.active`` grid (start times), its step and each name's activity (bool)."""
    sel = samples[(samples["cue"] == "voice.active") & samples["participant"].isin(names)]
    t = np.unique(sel["t"].to_numpy(dtype="float64"))
    if len(t) < 2:
        return np.empty(0), 0.0, {}
    step_s = float(np.median(np.diff(t)))
    k0, k1 = int(round(t[0] / step_s)), int(round(t[-1] / step_s))
    active = {}
    for n in names:
        tn, v = series(sel, n, "voice.active")
        idx = np.round(tn / step_s).astype(int) - k0
        on = np.zeros(k1 - k0 + 1, dtype=bool)
        ok = (idx >= 0) & (idx < len(on))
        on[idx[ok]] = v[ok] >= 0.5
        active[n] = on
    return np.arange(k0, k1 + 1) * step_s, step_s, active


def _window_mean(t: np.ndarray, x: np.ndarray, at_t: np.ndarray, window_s: float) -> np.ndarray:
    """Mean of the ``x`` whose ``t`` lie within ``window_s / 2`` of each of ``at_t`` (sorted
    ``t``); NaN where none do."""
    csum = np.concatenate([[0.0], np.cumsum(x)])
    lo = np.searchsorted(t, at_t - window_s / 2, side="left")
    hi = np.searchsorted(t, at_t + window_s / 2, side="right")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(hi > lo, (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1), np.nan)


def _place_edges(i0: int, i1: int, like: np.ndarray, allowed: np.ndarray, mid_t: np.ndarray,
                 mouth: _Mouth) -> tuple[int, int]:
    """Move the edges of the grid run ``[i0, i1)`` that the mouth made (not the voice) to the
    first / last frame pair moving above the floor within half a window of them (the window
    spreads and the opening gate delays), staying where ``allowed``."""
    step_s = float(mid_t[1] - mid_t[0])
    half = int(round(MOUTH_WINDOW_S / 2 / step_s))
    mouth_start = i0 == 0 or not like[i0 - 1]
    mouth_end = i1 == len(like) or not like[i1]
    lo, hi = i0, i1
    while mouth_start and lo > max(0, i0 - half) and allowed[lo - 1]:
        lo -= 1
    while mouth_end and hi < min(len(like), i1 + half) and allowed[hi]:
        hi += 1
    t = mouth.speed_t
    inside = (t >= mid_t[lo] - step_s / 2) & (t < mid_t[hi - 1] + step_s / 2)
    hits = t[inside & (mouth.speed >= mouth.moving_cal.floor(MOVING_MIN_SIGMAS))]
    if not len(hits):
        return i0, i0
    if mouth_start:
        i0 = max(lo, int(np.searchsorted(mid_t + step_s / 2, hits[0], side="right")))
    if mouth_end:
        i1 = min(hi, int(np.searchsorted(mid_t - step_s / 2, hits[-1], side="right")))
    return i0, i1


def _holder_moves(active: dict[str, np.ndarray], mouths: dict[str, _Mouth | None], name: str,
                  i0: int, i1: int) -> bool:
    """Whether whoever holds the voice over ``[i0, i1)`` moves their mouth there too (true when
    their face is not seen or cannot be calibrated: nothing speaks against them)."""
    for other, on in active.items():
        span = on[i0:i1]
        if other == name or not span.any():
            continue
        mouth = mouths.get(other)
        if mouth is None:
            return True
        score = mouth.moving_score()[i0:i1][span]
        score = score[np.isfinite(score)]
        if not len(score) or np.mean(score >= HOLDER_FRACTION) >= HOLDER_MIN_SHARE:
            return True
    return False


# ------------------------------------------------------------------ voices split with the mouths

MIN_PAIRS_IN_WINDOW = 3  # face frame pairs a window needs for its mouth movement to count


def window_mouth_movement(windows: np.ndarray, video_samples: pd.DataFrame,
                          names: list[str]) -> np.ndarray:
    """Each participant's mouth movement in each analysis window, ``(len(windows), len(names))``:
    the mean of ``|Δ expr.mouth_open| / Δt`` over the consecutive face frames (at most
    ``MOUTH_MAX_DT_S`` apart) whose midpoint falls in ``[start, end)``; NaN where fewer than
    ``MIN_PAIRS_IN_WINDOW`` do (no face)."""
    out = np.full((len(windows), len(names)), np.nan)
    for j, n in enumerate(names):
        t, m = series(video_samples, n, "expr.mouth_open")
        ok = np.isfinite(m)
        t, m = t[ok], m[ok]
        if len(t) < 2:
            continue
        dt = np.diff(t)
        keep = (dt > 0) & (dt <= MOUTH_MAX_DT_S)
        mid = (t[:-1] + dt / 2)[keep]
        speed = (np.abs(np.diff(m)) / np.where(dt > 0, dt, 1.0))[keep]
        csum = np.concatenate([[0.0], np.cumsum(speed)])
        lo = np.searchsorted(mid, windows[:, 0], side="left")
        hi = np.searchsorted(mid, windows[:, 1], side="left")
        count = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = np.where(count >= MIN_PAIRS_IN_WINDOW,
                                 (csum[hi] - csum[lo]) / np.maximum(count, 1), np.nan)
    return out


def fuse_voices(audio: StreamResult, video_samples: pd.DataFrame | None,
                participants: list[Participant]) -> StreamResult | None:
    """``audio`` (a mixed track) split again into one voice per participant with the mouths'
    help (:func:`cuekit.audio.speakers.fuse_with_mouths`), voices named after the participants;
    None when it cannot be done (no video, one participant, faces too rarely seen, or an audio
    stage that kept no windows)."""
    from ..audio.speakers import fuse_with_mouths

    state = getattr(audio, "state", None) or {}
    names = [p.name for p in participants if p.box]
    if video_samples is None or not len(video_samples) or len(names) < 2 \
            or "windows" not in state or len(names) != len(participants):
        return None
    movement = window_mouth_movement(state["windows"], video_samples, names)
    labels, how = fuse_with_mouths(state["emb"], movement)
    if labels is None:
        return None
    how = dict(how, method="GE2E speaker embeddings of sliding windows and each participant's "
                           "mouth movement, one classifier learnt on the call (where the voices "
                           "are alike the mouths decide)", count="given: tiles with faces")
    return state["relabel"](labels, names, how)
