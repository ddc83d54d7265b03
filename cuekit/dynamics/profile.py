"""The active-listening profile: measured indicators per participant.

What each indicator means (title, unit, definition) is in the metric registry,
:data:`cuekit.metrics.METRICS` (stage ``listening``). There is no single overall score: each
indicator stands on its own. Every indicator is NaN when what it needs was not measured (no video
for nods, no voice for listening time, nobody else in the call …); 0 always means "measured,
none".

The timelines under them, each defined once elsewhere and read here: *speech* is a participant's
``speech`` segments; a participant *listens* while someone else speaks and they do not; the
*floor* is their turns (:func:`cuekit.dynamics.turns.turns`); a *raised tone* is one of their
``tone_shift`` segments (the audio stage's, :class:`cuekit.params.ToneShiftParams`); smiles and
look-aways are the video stage's ``smile`` / ``gaze_away`` segments (or, for cues from another
tool, the video stage's own event functions run on them). A participant's *face time* is when the
video stage saw their face (``face.present == 1``); rates of facial events are per minute of
listening *and* face time, as the video stage's own rates are per minute of face time.
Intervals are ``(n, 2)`` float arrays of ``[start, end)`` seconds, sorted and disjoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..cues import pair_members
from ..intervals import duration, from_mask, inside, intersect, merge, subtract
from ..params import LISTENING, ListeningParams
from ..video import events as video_events
from .turns import turns

MAX_GAP_STEPS = 1.5  # samples further apart than this many median steps leave a gap in a run
_NONE = np.empty((0, 2))

def observed_runs(t: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Intervals where ``mask`` holds on the sorted sample times ``t``: each sample covers one
    median step, and samples further apart than ``MAX_GAP_STEPS`` steps leave a gap (nothing
    observed) that ends a run (:func:`cuekit.intervals.from_mask`)."""
    return from_mask(t, mask, max_gap_steps=MAX_GAP_STEPS)


def on_grid(t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted samples ``(t, v)`` on a regular grid of their median step from ``t[0]``,
    NaN where no sample falls (so a window of n points is always n steps of time)."""
    if len(t) < 2 or not (step_s := float(np.median(np.diff(t)))) > 0:
        return t, v
    k = np.rint((t - t[0]) / step_s).astype(int)
    grid_v = np.full(k[-1] + 1, np.nan)
    grid_v[k] = v
    return t[0] + step_s * np.arange(k[-1] + 1), grid_v


# ------------------------------------------------------------------------- observations


def _by_start(iv: np.ndarray) -> np.ndarray:
    return iv[np.argsort(iv[:, 0], kind="stable")]


@dataclass
class Observed:
    """What the profile and the coaching moments read, per participant.

    ``cues`` (participant, cue) -> (t, value) with NaN rows dropped (absent = never observed;
    a time gap = not observed then, see :func:`observed_runs`); ``events`` (participant, kind) ->
    intervals; ``speech`` participant -> speech intervals (present only for participants with
    ``voice.active`` or speech segments).
    """

    participants: list[str]
    cues: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]
    events: dict[tuple[str, str], np.ndarray]
    speech: dict[str, np.ndarray]
    _turns: dict[str, np.ndarray] | None = field(default=None, repr=False)

    def cue(self, p: str, cue: str) -> tuple[np.ndarray, np.ndarray] | None:
        return self.cues.get((p, cue))

    def event(self, p: str, kind: str) -> np.ndarray:
        return self.events.get((p, kind), _NONE)

    def others(self, p: str) -> list[str]:
        return [q for q in self.participants if q != p]

    def floor(self, p: str) -> np.ndarray:
        """``p``'s turns: when they hold the floor (:func:`cuekit.dynamics.turns.turns`)."""
        if self._turns is None:
            self._turns = turns(self.speech)
        return self._turns.get(p, _NONE)

    def floor_holder(self, t: float) -> str | None:
        """Who holds the floor at ``t``: the one whose turn began last at or before ``t`` (they
        keep it through overlaps and silences until another's turn begins), None before any."""
        started = [(a, q) for q in self.speech for a, _ in self.floor(q) if a <= t]
        return max(started)[1] if started else None

    def listening(self, p: str) -> np.ndarray | None:
        """When the others speak and ``p`` does not; None when voices were not measured."""
        if p not in self.speech or not any(q in self.speech for q in self.others(p)):
            return None
        return subtract(self.others_speech(p), self.speech[p])

    def others_speech(self, p: str) -> np.ndarray:
        """When anyone but ``p`` speaks (whether or not ``p`` speaks too)."""
        heard = [self.speech[q] for q in self.others(p) if q in self.speech]
        return merge(np.concatenate(heard), bridge_s=0.0) if heard else _NONE

    def face_time(self, p: str, cue: str) -> np.ndarray | None:
        """When ``p``'s face was seen: ``face.present == 1`` (the video stage), else when
        ``cue`` was observed; None when neither was measured."""
        tv = self.cue(p, "face.present")
        if tv is not None:
            return observed_runs(tv[0], tv[1] >= 0.5)
        tv = self.cue(p, cue)
        return observed_runs(tv[0], np.ones(len(tv[0]), dtype=bool)) if tv is not None else None

    def raised_tone(self, p: str) -> np.ndarray | None:
        """``p``'s raised-tone stretches: their ``tone_shift`` segments; None when neither pitch
        nor loudness was measured for them."""
        if self.cue(p, "voice.pitch_st") is None and self.cue(p, "voice.loudness_db") is None:
            return None
        return merge(self.event(p, "tone_shift"), bridge_s=0.0)


def observe(samples: pd.DataFrame, segments: pd.DataFrame, participants: list[str]) -> Observed:
    """Read the stage tables into :class:`Observed`.

    Smile and look-away episodes are the video stage's segments; none of a kind means it found
    none. Only when the video stage did not run for a participant (no ``face.present`` cue, e.g.
    cues from another tool) are they found from the ``expr.smile`` / ``gaze.on_screen`` cues by
    the video stage's own functions (``cuekit.video.events.smiles`` / ``gaze_aways``), on the
    cue's regular grid so that a stretch with no samples ends an episode.
    """
    cues = {}
    for (p, c), g in samples[samples["participant"].isin(participants)].groupby(
            ["participant", "cue"], sort=False):
        g = g[np.isfinite(g["value"].to_numpy(dtype="float64"))].sort_values("t")
        if len(g):
            cues[(p, c)] = (g["t"].to_numpy("float64"), g["value"].to_numpy("float64"))
    events = {(p, k): _by_start(g[["start", "end"]].to_numpy("float64"))
              for (p, k), g in segments.groupby(["participant", "kind"], sort=False)}
    for p in participants:
        if (p, "face.present") in cues:
            continue  # the video stage ran: its episode lists stand, even when empty
        for kind, cue, find in (("smile", "expr.smile", video_events.smiles),
                                ("gaze_away", "gaze.on_screen", video_events.gaze_aways)):
            if (p, kind) not in events and (p, cue) in cues:
                events[(p, kind)] = find(*on_grid(*cues[(p, cue)])).iv
    speech = {p: events.get((p, "speech"), _NONE) for p in participants
              if (p, "voice.active") in cues or (p, "speech") in events}
    return Observed(list(participants), cues, events, speech)


# ------------------------------------------------------------------------- indicators


def _per_min(events: np.ndarray, listen: np.ndarray | None, measured: bool, *,
             min_listening_s: float, face: np.ndarray | None = None,
             starts_in: np.ndarray | None = None) -> float:
    """Events starting inside ``starts_in`` (default: the time counted) per minute of listening
    time, restricted to ``face`` time when given; NaN below ``min_listening_s`` of it."""
    if listen is None or not measured:
        return np.nan
    counted = intersect(listen, face) if face is not None else listen
    if duration(counted) < min_listening_s:
        return np.nan
    starts_in = counted if starts_in is None else starts_in
    return float(inside(events[:, 0], starts_in).sum() / (duration(counted) / 60.0))


def _mean_inside(tv: tuple[np.ndarray, np.ndarray] | None, within: np.ndarray | None) -> float:
    if tv is None or within is None:
        return np.nan
    sel = inside(tv[0], within)
    return float(tv[1][sel].mean()) if sel.any() else np.nan


def participant_profile(obs: Observed, p: str, *, pairs: dict[str, dict],
                        mirror_rows: list[dict], params: ListeningParams = LISTENING
                        ) -> dict[str, float]:
    """The listening-stage metrics of :data:`cuekit.metrics.METRICS`, for participant ``p``.

    ``pairs``: pair key -> pair summary (``synchrony``, ``leader``, ``lag_s``);
    ``mirror_rows``: mirror rows with a ``follower`` key.
    Turn-taking indicators (interruptions, response latency) come from that stage.
    """
    listen = obs.listening(p)
    has = lambda cue: obs.cue(p, cue) is not None
    least = params.min_listening_s
    out = dict(
        listening_s=duration(listen) if listen is not None else np.nan,
        eye_contact_listening=_mean_inside(obs.cue(p, "gaze.on_screen"), listen),
        nods_per_min_listening=_per_min(obs.event(p, "nod"), listen, has("head.pitch_deg"),
                                        min_listening_s=least,
                                        face=obs.face_time(p, "head.pitch_deg")),
        smiles_per_min_listening=_per_min(obs.event(p, "smile"), listen,
                                          has("expr.smile") or (p, "smile") in obs.events,
                                          min_listening_s=least,
                                          face=obs.face_time(p, "expr.smile")),
        # a backchannel starts where the listener's listening ends (they speak from then on)
        backchannels_per_min_listening=_per_min(obs.event(p, "backchannel"), listen, True,
                                                min_listening_s=least,
                                                starts_in=obs.others_speech(p)),
        pause_median_s=_median_length(obs.event(p, "pause")),
    )
    out.update(_mirroring(p, pairs, mirror_rows))
    out.update(_tone_under_pressure(obs, p, params.tone_response_s))
    out["pace_difference_syl_s"] = _pace_difference(obs, p)
    return out


def _median_length(iv: np.ndarray) -> float:
    return float(np.median(iv[:, 1] - iv[:, 0])) if len(iv) else np.nan


def _mirroring(p: str, pairs: dict[str, dict], mirror_rows: list[dict]) -> dict[str, float]:
    sync, follows = [], []
    for key, s in pairs.items():
        if p not in pair_members(key):
            continue
        sync.append(s["synchrony"])
        lag, leader = s["lag_s"], s["leader"]
        follows.append(-lag if leader == p else lag)
    sync, follows = [x for x in sync if np.isfinite(x)], [x for x in follows if np.isfinite(x)]
    return dict(
        synchrony_with_others=float(np.mean(sync)) if sync else np.nan,
        follows_by_s=float(np.mean(follows)) if follows else np.nan,
        mirror_answers=float(sum(r.get("follower") == p for r in mirror_rows)) if pairs else np.nan,
    )


def _tone_under_pressure(obs: Observed, p: str, response_s: float) -> dict[str, float]:
    raised = [r for q in obs.others(p) if (r := obs.raised_tone(q)) is not None]
    if not raised:
        return dict(other_raised_tone_episodes=np.nan, tone_shifts_under_pressure=np.nan)
    raised_iv = merge(np.concatenate(raised), bridge_s=0.0)
    if not _has_pitch(obs, p):
        shifts = np.nan
    else:
        window = raised_iv + np.array([0.0, response_s])
        shifts = float(inside(obs.event(p, "tone_shift")[:, 0], merge(window, bridge_s=0.0)).sum())
    return dict(other_raised_tone_episodes=float(len(raised_iv)), tone_shifts_under_pressure=shifts)


def _has_pitch(obs: Observed, p: str) -> bool:
    return obs.cue(p, "voice.pitch_st") is not None or obs.cue(p, "voice.pitch_hz") is not None


def _pace_difference(obs: Observed, p: str) -> float:
    def rate(q: str) -> float:
        return _mean_inside(obs.cue(q, "voice.syllable_rate"), obs.speech.get(q))

    others = [r for q in obs.others(p) if np.isfinite(r := rate(q))]
    own = rate(p)
    return float(own - np.mean(others)) if others and np.isfinite(own) else np.nan
