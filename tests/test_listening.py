"""Known-answer tests of the listening stage on a hand-made two-person call."""

import math

import numpy as np
import pandas as pd
import pytest

from cuekit.cues import CUES, concat_samples, concat_segments, make_segments, series_to_samples
from cuekit.dynamics.listening import listening
from cuekit.dynamics.turns import conversation
from cuekit.metrics import METRICS

DURATION_S = 120.0
SPEECH = {"P1": [(0.0, 50.0), (80.0, 120.0)], "P2": [(55.0, 82.0)]}  # P1 cuts in at 80 s
SWAY = (30.0, 45.0)  # P1 sways; P2 repeats it 1.0 s later


def _smooth(rng, n, k=8):
    x = rng.standard_normal(n + 4 * k)
    return np.convolve(x, np.hanning(2 * k + 1), "same")[2 * k:2 * k + n]


def _voice(rng) -> list[pd.DataFrame]:
    t = np.arange(0.0, DURATION_S, 0.05)
    frames = []
    for p, spans in SPEECH.items():
        on = np.zeros(len(t))
        for a, b in spans:
            on[(t >= a) & (t < b)] = 1.0
        pitch = np.where(on > 0, 30.0 + rng.normal(0, 0.3, len(t)), np.nan)
        rate = np.where(on > 0, 4.0 if p == "P1" else 5.0, np.nan)
        if p == "P1":
            pitch[(t >= 49.5) & (t < 50.0)] += 4.0  # P1's turn ends in a question
        frames += [series_to_samples(t, p, "voice.active", on),
                   series_to_samples(t, p, "voice.pitch_st", pitch),
                   series_to_samples(t, p, "voice.syllable_rate", rate)]
    return frames


def _video(rng) -> list[pd.DataFrame]:
    t = np.arange(0.0, DURATION_S, 0.1)
    t_pose = np.arange(0.0, DURATION_S, 0.5)
    sway = 0.06 * _smooth(rng, len(t), 10)
    frames = []
    for p, lag_n in (("P1", 0), ("P2", 10)):
        motion = 0.05 + 0.005 * _smooth(rng, len(t))
        inside = (t >= SWAY[0] + lag_n / 10) & (t < SWAY[1] + lag_n / 10)
        motion[inside] += sway[np.flatnonzero(inside) - lag_n]
        gaze = np.ones(len(t))
        if p == "P2":
            gaze[(t >= 10.0) & (t < 20.0)] = 0.0  # looks away for 10 of P1's 50 s
        lean = np.where(t_pose >= (60.0 if p == "P1" else 62.0), 0.3, 0.0)
        frames += [series_to_samples(t, p, "body.motion_energy", motion),
                   series_to_samples(t, p, "gaze.on_screen", gaze),
                   series_to_samples(t, p, "expr.smile", 0.1 * rng.random(len(t))),
                   series_to_samples(t_pose, p, "body.lean", lean + rng.normal(0, 0.01, len(t_pose)))]
        frames += [series_to_samples(t, p, c, rng.normal(0, 0.5, len(t)))
                   for c in ("head.yaw_deg", "head.pitch_deg", "head.roll_deg")]
    return frames


def _call(seed=0):
    rng = np.random.default_rng(seed)
    samples = concat_samples(_voice(rng) + _video(rng))
    rows = [dict(start=a, end=b, participant=p, kind="speech") for p, iv in SPEECH.items()
            for a, b in iv]
    rows += [dict(start=s, end=s + 0.8, participant="P2", kind="nod") for s in (5.0, 25.0, 35.0)]
    rows += [dict(start=20.0, end=22.0, participant="P1", kind="smile"),
             dict(start=21.0, end=23.0, participant="P2", kind="smile")]
    turns = conversation(samples[samples["cue"] == "voice.active"], ["P1", "P2"],
                         duration_s=DURATION_S)
    return samples, concat_segments([make_segments(rows), turns.segments])


@pytest.fixture(scope="module")
def result():
    samples, segments = _call()
    return listening(samples, segments, ["P1", "P2"], duration_s=DURATION_S)


def _kind(r, kind):
    return r.segments[r.segments["kind"] == kind].reset_index(drop=True)


def test_pair_synchrony_finds_the_follower(result):
    pair = result.summary["P1|P2"]
    assert pair["leader"] == "P1" and pair["lag_s"] == pytest.approx(1.0, abs=0.2)
    assert pair["synchrony_motion"] > pair["synchrony_head"]
    for key in ("synchrony", "synchrony_surrogate", "synchrony_p", "synchrony_smile"):
        assert math.isfinite(pair[key])


def test_mirror_events(result):
    labels = list(_kind(result, "mirror")["label"])
    move = _kind(result, "mirror").query("label.str.contains('movement')")
    assert len(move) == 1 and "P2 mirrors P1's movement (1.0 s later)" == move.iloc[0]["label"]
    assert move.iloc[0]["start"] < SWAY[0] + 5 and move.iloc[0]["end"] > SWAY[1] - 5
    assert "P2 answers P1's smile (1.0 s later)" in labels
    assert "P2 follows P1's lean the same way (2.0 s later)" in labels
    assert "P2 nods along while P1 speaks (3 nods)" in labels
    assert set(_kind(result, "mirror")["participant"]) == {"P1|P2"}


def test_moments_ranked_with_reasons(result):
    m = _kind(result, "moment")
    assert list(m.sort_values("score", ascending=False)["label"][:1]) == ["P1 interrupts P2"]
    labels = list(m["label"])
    assert "5.0 s silence after P1's question before P2 answers" in labels
    assert any(lbl.startswith("worth praising: P2 mirrors P1's movement") for lbl in labels)
    first = m[m["label"] == "P1 interrupts P2"].iloc[0]
    assert first["participant"] == "P1" and first["start"] == pytest.approx(80.0, abs=0.1)


def test_profile_numbers(result):
    p1, p2 = result.summary["P1"], result.summary["P2"]
    assert p2["listening_s"] == pytest.approx(50.0 + 38.0, abs=0.2)  # P1 speaks, P2 does not
    assert p2["eye_contact_listening"] == pytest.approx(78.0 / 88.0, abs=0.01)
    assert p2["nods_per_min_listening"] == pytest.approx(3 / 88.0 * 60, abs=0.05)
    assert p2["smiles_per_min_listening"] == pytest.approx(1 / 88.0 * 60, abs=0.05)
    assert p1["nods_per_min_listening"] == 0.0  # measured (head pose present), none
    assert p1["pace_difference_syl_s"] == pytest.approx(-1.0)
    assert p2["follows_by_s"] == pytest.approx(1.0, abs=0.2)
    assert p1["follows_by_s"] == pytest.approx(-1.0, abs=0.2)
    assert p2["mirror_answers"] == 4.0  # movement, smile, lean, nods


def test_samples_are_per_pair_cues(result):
    s = result.samples
    assert set(s["participant"]) == {"P1|P2"}
    assert set(s["cue"]) == {"sync.motion", "sync.head", "sync.smile", "sync.lag_s"}
    assert set(s["cue"]) <= set(CUES)
    lag = s[s["cue"] == "sync.lag_s"]
    in_sway = lag[(lag["t"] > SWAY[0] + 5) & (lag["t"] < SWAY[1] - 5)]["value"]
    assert in_sway.notna().all() and (in_sway - 1.0).abs().max() <= 0.2
    motion = s[s["cue"] == "sync.motion"]["value"]
    assert motion.dropna().between(0, 1).all()


def test_the_profile_writes_exactly_the_registered_listening_metrics():
    keys = {k for k, m in METRICS.items() if m.stage == "listening" and m.scope == "participant"}
    samples, segments = _call()
    r = listening(samples, segments, ["P1", "P2"], duration_s=DURATION_S)
    assert set(r.summary["P1"]) == keys
    pair_keys = {k for k, m in METRICS.items() if m.stage == "listening" and m.scope == "pair"}
    assert set(r.summary["P1|P2"]) == pair_keys


def test_audio_only_gives_nan_not_zero_for_video_indicators():
    samples, segments = _call()
    audio = samples[samples["cue"].str.startswith("voice.")]
    segs = segments[~segments["kind"].isin(["nod", "smile"])]
    r = listening(audio, segs, ["P1", "P2"], duration_s=DURATION_S)
    p2, pair = r.summary["P2"], r.summary["P1|P2"]
    for key in ("eye_contact_listening", "nods_per_min_listening", "smiles_per_min_listening"):
        assert math.isnan(p2[key]), key
    assert p2["backchannels_per_min_listening"] == 0.0
    assert math.isnan(pair["synchrony"]) and pair["leader"] is None and math.isnan(pair["lag_s"])
    assert (_kind(r, "mirror").empty and "P1 interrupts P2" in set(_kind(r, "moment")["label"]))


def test_backchannels_per_minute_of_listening():
    speech = {"P1": [(0.0, 60.0)], "P2": [(10.0, 10.5), (30.0, 30.5), (65.0, 80.0)]}
    t = np.arange(0.0, 80.0, 0.05)
    samples = concat_samples([series_to_samples(t, p, "voice.active", np.any(
        [(t >= a - 1e-9) & (t < b - 1e-9) for a, b in iv], axis=0).astype(float))
        for p, iv in speech.items()])
    turns = conversation(samples, ["P1", "P2"], duration_s=80.0)
    rows = [dict(start=a, end=b, participant=p, kind="speech") for p, iv in speech.items()
            for a, b in iv]
    segments = concat_segments([make_segments(rows), turns.segments])
    assert (segments["kind"] == "backchannel").sum() == 2
    p2 = listening(samples, segments, ["P1", "P2"], duration_s=80.0).summary["P2"]
    assert p2["listening_s"] == pytest.approx(59.0)
    assert p2["backchannels_per_min_listening"] == pytest.approx(2 / 59.0 * 60)


def test_video_only_gives_nan_for_listening_time():
    samples, segments = _call()
    video = samples[~samples["cue"].str.startswith("voice.")]
    r = listening(video, segments[segments["kind"].isin(["nod", "smile"])], ["P1", "P2"],
                  duration_s=DURATION_S)
    for key in ("listening_s", "eye_contact_listening", "nods_per_min_listening",
                "pace_difference_syl_s", "tone_shifts_under_pressure"):
        assert math.isnan(r.summary["P2"][key]), key
    assert r.summary["P1|P2"]["leader"] == "P1"


def test_one_participant_and_empty_input():
    samples, segments = _call()
    r = listening(samples[samples["participant"] == "P1"],
                  segments[segments["participant"] == "P1"], ["P1"], duration_s=DURATION_S)
    assert list(r.summary) == ["P1"] and r.samples.empty
    assert all(math.isnan(v) for k, v in r.summary["P1"].items()
               if k not in ("pause_median_s",)), r.summary["P1"]
    empty = listening(samples.iloc[0:0], segments.iloc[0:0], ["P1", "P2"], duration_s=0.0)
    assert empty.samples.empty and empty.segments.empty
    assert math.isnan(empty.summary["P1|P2"]["synchrony"])


def test_nan_heavy_series_do_not_raise():
    samples, segments = _call()
    rng = np.random.default_rng(9)
    holes = samples.assign(value=np.where(rng.random(len(samples)) < 0.7, np.nan,
                                          samples["value"]))
    r = listening(holes, segments, ["P1", "P2"], duration_s=DURATION_S)
    pair = r.summary["P1|P2"]
    assert math.isnan(pair["synchrony_motion"])  # < half of each window observed
    assert r.summary["P2"]["nods_per_min_listening"] > 0


def test_same_input_same_result():
    samples, segments = _call(seed=3)
    a = listening(samples, segments, ["P1", "P2"], duration_s=DURATION_S)
    b = listening(samples, segments, ["P1", "P2"], duration_s=DURATION_S)
    assert a.summary["P1|P2"]["synchrony_p"] == b.summary["P1|P2"]["synchrony_p"]
    pd.testing.assert_frame_equal(a.segments, b.segments)
