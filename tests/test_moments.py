"""Known-answer tests of the coaching moments."""

import numpy as np
import pytest

from cuekit.cues import concat_samples, make_segments, series_to_samples
from cuekit.dynamics import moments as mo
from cuekit.dynamics.profile import observe


def _obs(speech, extra_segments=(), samples=()):
    rows = [dict(start=a, end=b, participant=p, kind="speech") for p, ivs in speech.items()
            for a, b in ivs] + list(extra_segments)
    return observe(concat_samples(list(samples)), make_segments(rows), list(speech))


def test_monologue_ignores_backchannels_but_not_turns():
    obs = _obs({"A": [(0, 40), (40.5, 90)], "B": [(30, 30.5), (95, 100)]})
    rows = mo.monologues(obs)
    assert [(r["participant"], r["start"], r["end"]) for r in rows] == [("A", 0, 90)]
    assert rows[0]["label"] == "A speaks 90 s without handing over"
    long_pause = _obs({"A": [(0, 30), (35, 70)], "B": [(75, 80)]})  # a 5 s pause is in the turn
    assert [(r["start"], r["end"]) for r in mo.monologues(long_pause)] == [(0, 70)]
    cut = _obs({"A": [(0, 40), (42, 90)], "B": [(40, 41.5)]})
    assert mo.monologues(cut) == []  # B's 1.5 s turn splits A's speech into 40 s and 48 s


def test_monologue_moments_are_the_longest_turns_of_turn_taking():
    from cuekit.dynamics.turns import conversation
    speech = {"A": [(0, 40), (40.5, 75), (90, 100)], "B": [(30, 30.5), (76, 89)]}
    t = np.arange(0, 100, 0.05)
    active = concat_samples([series_to_samples(t, p, "voice.active", np.any(
        [(t >= a - 1e-9) & (t < b - 1e-9) for a, b in iv], axis=0).astype(float))
        for p, iv in speech.items()])
    longest = conversation(active, ["A", "B"], duration_s=100.0).summary["A"]["longest_monologue_s"]
    (row,) = mo.monologues(_obs(speech))
    assert row["end"] - row["start"] == pytest.approx(longest, abs=0.06) and longest > 60


def _pitch(p, end, rise_st):
    t = np.arange(end - 3, end, 0.05)
    return series_to_samples(t, p, "voice.pitch_st", 30 + np.where(t >= end - 0.5, rise_st, 0.0))


def test_silence_after_question_needs_a_rise():
    speech = {"A": [(0, 10)], "B": [(14, 20)]}
    rows = mo.silences_after_questions(_obs(speech, samples=[_pitch("A", 10, 3.0)]))
    assert [(r["participant"], r["start"], r["end"]) for r in rows] == [("B", 10, 14)]
    assert mo.silences_after_questions(_obs(speech, samples=[_pitch("A", 10, 0.0)])) == []
    assert mo.silences_after_questions(_obs(speech)) == []  # no pitch: cannot tell


def test_looking_away_while_voice_is_raised():
    t = np.arange(0, 20, 0.05)
    pitch = series_to_samples(t, "A", "voice.pitch_st", 30 + np.where((t >= 5) & (t < 9), 5, 0))
    raised = dict(start=5, end=9, participant="A", kind="tone_shift")
    away = dict(start=6, end=8, participant="B", kind="gaze_away")
    rows = mo.looking_away_under_pressure(_obs({"A": [(0, 20)], "B": []}, [raised, away],
                                               [pitch]))
    assert len(rows) == 1 and rows[0]["participant"] == "B"
    assert "B looks away while A's voice is raised" in rows[0]["label"]


def test_ranking_puts_interruptions_first():
    inter = dict(start=5, end=6, participant="B", kind="interruption")
    mirror = dict(start=0, end=20, participant="A|B", score=0.9, label="B mirrors A's movement",
                  what="movement")
    rows = mo.coaching_moments(_obs({"A": [(0, 5.5)], "B": [(5, 9)]}, [inter]), [mirror])
    assert [r["label"] for r in rows] == ["B interrupts A", "worth praising: B mirrors A's movement"]
    assert rows[0]["score"] > rows[1]["score"]


def test_no_look_away_moment_across_a_missing_face():
    # B glances away 0.5 s, their face is lost for 14.5 s, glances away 0.5 s; A's voice is
    # raised 12-20 s: B was never seen looking away during it
    t = np.arange(0, 40, 0.05)
    seen = ~((t >= 10.5 - 1e-9) & (t < 25 - 1e-9))
    gaze = np.where(((t >= 10 - 1e-9) & (t < 10.5 - 1e-9)) | ((t >= 25 - 1e-9) & (t < 25.5 - 1e-9)),
                    0.0, 1.0)
    pitch = 30 + np.where((t >= 12) & (t < 20), 5, 0)
    samples = [series_to_samples(t, "A", "voice.pitch_st", pitch),
               series_to_samples(t, "B", "gaze.on_screen", np.where(seen, gaze, np.nan))]
    raised = dict(start=12, end=20, participant="A", kind="tone_shift")
    assert mo.looking_away_under_pressure(_obs({"A": [(0, 40)], "B": []}, [raised],
                                               samples)) == []
