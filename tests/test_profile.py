"""Known-answer tests of the profile's timelines (intervals, listening time, raised tone)."""

import numpy as np
import pytest

from cuekit.audio.pipeline import tone_shifts
from cuekit.cues import concat_samples, make_segments, series_to_samples
from cuekit.dynamics import profile as pf
from cuekit.params import TONE_SHIFT


def iv(*pairs):
    return np.array(pairs, dtype="float64").reshape(-1, 2)


def _observed(pitch_jump_st: float, jump_s=(10, 13)):
    """A speaks 0-20 s with their pitch raised by ``pitch_jump_st`` over ``jump_s``; the
    ``tone_shift`` segments are the audio stage's (the one definition of a raised voice)."""
    t = np.arange(0, 30, 0.05)
    pitch = np.where(t < 20, 30 + np.where((t >= jump_s[0]) & (t < jump_s[1]), pitch_jump_st,
                                           0.0), np.nan)
    samples = concat_samples([
        series_to_samples(t, "A", "voice.active", (t < 20).astype(float)),
        series_to_samples(t, "A", "voice.pitch_st", pitch),
        series_to_samples(t, "B", "voice.active", (t >= 20).astype(float)),
    ])
    shifts = tone_shifts("A", t, pitch, np.full(len(t), np.nan), params=TONE_SHIFT, step_s=0.05)
    segments = make_segments([dict(start=0, end=20, participant="A", kind="speech"),
                              dict(start=20, end=30, participant="B", kind="speech"),
                              dict(start=11, end=11.5, participant="B", kind="tone_shift"),
                              *shifts])
    return pf.observe(samples, segments, ["A", "B"])


def test_raised_tone_is_the_audio_stages_tone_shift():
    obs = _observed(4.0)
    raised = obs.raised_tone("A")
    assert len(raised) == 1
    assert raised[0, 0] == pytest.approx(10.0, abs=0.6) and raised[0, 1] == pytest.approx(13.0, abs=0.6)
    np.testing.assert_array_equal(raised, obs.event("A", "tone_shift"))
    assert obs.raised_tone("B") is None  # no pitch or loudness measured for B
    prof = pf.participant_profile(obs, "B", pairs={}, mirror_rows=[])
    assert prof["other_raised_tone_episodes"] == 1.0
    assert np.isnan(prof["tone_shifts_under_pressure"])  # B's own pitch was not measured
    calm = _observed(1.0)
    assert len(calm.raised_tone("A")) == 0  # measured, no raised tone
    short = _observed(4.0, jump_s=(10, 11.5))  # 1.5 s: shorter than a tone shift
    assert len(short.raised_tone("A")) == 0
    assert pf.participant_profile(short, "B", pairs={}, mirror_rows=[])[
        "other_raised_tone_episodes"] == 0.0


def test_listening_time_needs_voices():
    obs = _observed(0.0)
    np.testing.assert_array_equal(obs.listening("B"), iv((0, 20)))
    assert pf.participant_profile(obs, "B", pairs={}, mirror_rows=[])["listening_s"] == 20.0
    solo = pf.observe(concat_samples([]), make_segments([]), ["A"])
    assert solo.listening("A") is None


def _face_call(*, face_present: bool, away_s=(), smile_s=(), no_face=(), pitch_rises=()):
    """A speaks 0-40 s, B listens; B's gaze, smile and face per the arguments (0.05 s frames)."""
    t = np.arange(0, 40, 0.05)
    seen = np.ones(len(t), dtype=bool)
    for a, b in no_face:
        seen[(t >= a - 1e-9) & (t < b - 1e-9)] = False
    gaze, smile = np.ones(len(t)), np.zeros(len(t))
    for a, b in away_s:
        gaze[(t >= a - 1e-9) & (t < b - 1e-9)] = 0.0
    for a, b in smile_s:
        smile[(t >= a - 1e-9) & (t < b - 1e-9)] = 0.8
    pitch = np.full(len(t), 30.0)
    for a, b in pitch_rises:
        pitch[(t >= a - 1e-9) & (t < b - 1e-9)] += 5.0
    frames = [series_to_samples(t, "A", "voice.active", np.ones(len(t))),
              series_to_samples(t, "A", "voice.pitch_st", pitch),
              series_to_samples(t, "B", "voice.active", np.zeros(len(t))),
              series_to_samples(t, "B", "gaze.on_screen", np.where(seen, gaze, np.nan)),
              series_to_samples(t, "B", "expr.smile", np.where(seen, smile, np.nan)),
              series_to_samples(t, "B", "head.pitch_deg", np.where(seen, 0.0, np.nan))]
    if face_present:
        frames.append(series_to_samples(t, "B", "face.present", seen.astype(float)))
    return concat_samples(frames)


def test_runs_do_not_bridge_missing_samples():
    t = np.concatenate([np.arange(0, 1, 0.1), np.arange(5, 6, 0.1)])  # nothing from 1 s to 5 s
    np.testing.assert_allclose(pf.observed_runs(t, np.ones(len(t), bool)), iv((0, 1), (5, 6)))


def test_look_away_fallback_splits_at_missing_face():
    # 0.5 s away, 14.5 s no face, 0.5 s away: two short glances, not one 15.5 s look-away
    samples = _face_call(face_present=False, away_s=[(10, 10.5), (25, 25.5)], no_face=[(10.5, 25)])
    obs = pf.observe(samples, make_segments([dict(start=0, end=40, participant="A",
                                                  kind="speech")]), ["A", "B"])
    assert obs.event("B", "gaze_away").shape == (0, 2)


def test_smile_fallback_is_the_video_stages_definition():
    # cues from another tool (no face.present): smiles found by cuekit.video.events.smiles
    from cuekit.video import events
    samples = _face_call(face_present=False, smile_s=[(5, 5.4), (20, 20.6)])
    speech = make_segments([dict(start=0, end=40, participant="A", kind="speech")])
    obs = pf.observe(samples, speech, ["A", "B"])
    t, v = pf.on_grid(*obs.cue("B", "expr.smile"))
    expected = events.smiles(t, v).iv
    assert len(expected) == 1  # the 0.4 s smile is too short, the 0.6 s one is a smile
    np.testing.assert_allclose(obs.event("B", "smile"), np.array(expected), atol=1e-9)


def test_no_rederived_events_when_the_video_stage_ran():
    # face.present marks the video stage's output: its (empty) smile / gaze_away lists stand
    samples = _face_call(face_present=True, smile_s=[(20, 21)], away_s=[(5, 8)])
    obs = pf.observe(samples, make_segments([dict(start=0, end=40, participant="A",
                                                  kind="speech")]), ["A", "B"])
    assert obs.event("B", "smile").shape == (0, 2) and obs.event("B", "gaze_away").shape == (0, 2)
    prof = pf.participant_profile(obs, "B", pairs={}, mirror_rows=[])
    assert prof["smiles_per_min_listening"] == 0.0  # measured, none


def test_rates_per_minute_of_face_visible_listening():
    speech = [dict(start=0, end=40, participant="A", kind="speech")]
    nods = [dict(start=s, end=s + 0.8, participant="B", kind="nod") for s in (2.0, 6.0)]
    smiles = [dict(start=3.0, end=4.0, participant="B", kind="smile")]
    samples = _face_call(face_present=True, no_face=[(10, 40)])  # B's face seen 0-10 s only
    obs = pf.observe(samples, make_segments(speech + nods + smiles), ["A", "B"])
    prof = pf.participant_profile(obs, "B", pairs={}, mirror_rows=[])
    assert prof["listening_s"] == 40.0
    assert prof["nods_per_min_listening"] == pytest.approx(2 / 10 * 60)
    assert prof["smiles_per_min_listening"] == pytest.approx(1 / 10 * 60)
    never = pf.observe(_face_call(face_present=True, no_face=[(0, 40)]), make_segments(speech),
                       ["A", "B"])
    prof = pf.participant_profile(never, "B", pairs={}, mirror_rows=[])
    assert np.isnan(prof["nods_per_min_listening"]) and np.isnan(prof["smiles_per_min_listening"])


def test_backchannels_start_inside_the_others_speech():
    speech = [dict(start=0, end=40, participant="A", kind="speech"),
              dict(start=10, end=10.5, participant="B", kind="speech"),
              dict(start=30, end=30.5, participant="B", kind="speech")]
    bc = [dict(start=s, end=s + 0.5, participant="B", kind="backchannel") for s in (10, 30)]
    obs = pf.observe(concat_samples([]), make_segments(speech + bc), ["A", "B"])
    prof = pf.participant_profile(obs, "B", pairs={}, mirror_rows=[])
    assert prof["listening_s"] == 39.0
    assert prof["backchannels_per_min_listening"] == pytest.approx(2 / 39 * 60)
