"""Known-answer tests of the profile's timelines (intervals, listening time, raised tone)."""

import numpy as np
import pytest

from cuekit.cues import concat_samples, make_segments, series_to_samples
from cuekit.dynamics import profile as pf


def iv(*pairs):
    return np.array(pairs, dtype="float64").reshape(-1, 2)


def test_interval_arithmetic():
    np.testing.assert_array_equal(pf.merge(iv((5, 6), (0, 1), (1.5, 2)), bridge_s=0.5),
                                  iv((0, 2), (5, 6)))
    np.testing.assert_array_equal(pf.subtract(iv((0, 10)), iv((2, 3), (5, 6))),
                                  iv((0, 2), (3, 5), (6, 10)))
    np.testing.assert_array_equal(pf.intersect(iv((0, 10)), iv((2, 3), (9, 12))),
                                  iv((2, 3), (9, 10)))
    assert pf.total_s(iv((0, 2), (3, 5))) == 4.0 and pf.total_s(iv()) == 0.0
    assert list(pf.inside(np.array([0.5, 2.0, 3.0]), iv((0, 1), (3, 4)))) == [True, False, True]
    t = np.arange(0, 10, 0.5)
    np.testing.assert_array_equal(pf.runs(t, (t >= 2) & (t < 4), min_s=1.0), iv((2, 4)))
    assert pf.runs(t, (t >= 2) & (t < 2.5), min_s=1.0).shape == (0, 2)


def _observed(pitch_jump_st: float):
    t = np.arange(0, 30, 0.05)
    pitch = 30 + np.where((t >= 10) & (t < 12), pitch_jump_st, 0.0)
    samples = concat_samples([
        series_to_samples(t, "A", "voice.active", (t < 20).astype(float)),
        series_to_samples(t, "A", "voice.pitch_st", np.where(t < 20, pitch, np.nan)),
        series_to_samples(t, "B", "voice.active", (t >= 20).astype(float)),
    ])
    segments = make_segments([dict(start=0, end=20, participant="A", kind="speech"),
                              dict(start=20, end=30, participant="B", kind="speech"),
                              dict(start=11, end=11.5, participant="B", kind="tone_shift")])
    return pf.observe(samples, segments, ["A", "B"])


def test_raised_tone_and_tone_under_pressure():
    obs = _observed(4.0)
    raised = obs.raised_tone("A")
    assert len(raised) == 1
    assert raised[0, 0] == pytest.approx(10.0, abs=0.6) and raised[0, 1] == pytest.approx(12.0, abs=0.6)
    assert obs.raised_tone("B") is None  # no pitch or loudness measured for B
    prof = pf.participant_profile(obs, "B", pairs={}, mirror_rows=[])
    assert prof["other_raised_tone_episodes"] == 1.0
    assert np.isnan(prof["tone_shifts_under_pressure"])  # B's own pitch was not measured
    calm = _observed(1.0)
    assert len(calm.raised_tone("A")) == 0


def test_listening_time_needs_voices():
    obs = _observed(0.0)
    np.testing.assert_array_equal(obs.listening("B"), iv((0, 20)))
    assert pf.participant_profile(obs, "B", pairs={}, mirror_rows=[])["listening_s"] == 20.0
    solo = pf.observe(concat_samples([]), make_segments([]), ["A"])
    assert solo.listening("A") is None
