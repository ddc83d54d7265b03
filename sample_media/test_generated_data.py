"""Checks of the generated test data and of the generators, not of cuekit.

The sample call (``sample_media/``: ``synth``, ``make_sample_call``), the synthetic two-voice call
(``tests/test_audio_synthcall.py``) and the composite call frames (``tests/layoutgen.py``) are the
truth cuekit's accuracy tests score against. These tests hold the truth to its promises (the
committed file matches its truth file, the generators do what they say); a wrong cuekit cannot
fail them, so they live beside the data rather than in ``tests/``. They run with the suite
(``testpaths`` in ``pyproject.toml``).
"""

import json
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
for _path in (HERE, os.path.join(ROOT, "tests")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import synth  # noqa: E402
from test_audio_synthcall import have_espeak, synth_call  # noqa: E402

from cuekit.media import load_audio, probe  # noqa: E402  (to read the files back)

MP4 = os.path.join(HERE, "sample_call.mp4")
TRUTH = os.path.join(HERE, "sample_call.truth.json")
SR = 16000


@pytest.fixture(scope="module")
def truth():
    with open(TRUTH) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def info():
    return probe(MP4)


def _per(truth, key="speech"):
    out = {p: [] for p in truth["participants"]}
    for s in truth[key]:
        out[s["participant"]].append((s["start"], s["end"]))
    return {p: sorted(v) for p, v in out.items()}


def _inside(a, b, tol=1e-3):
    return b[0] - tol <= a[0] and a[1] <= b[1] + tol


# ----------------------------------------------------------------------------- the file


def test_file_matches_truth(truth, info):
    assert abs(info.duration_s - truth["duration_s"]) <= 0.1
    assert (info.width, info.height) == tuple(truth["size"]) == (1280, 720)
    assert abs(info.fps_avg - truth["fps"]) < 0.01 and not info.fps_variable
    assert info.has_audio and info.audio_channels == 1
    assert info.size_bytes <= 6 * 1024 * 1024


def test_audio_lines_up_with_speech_segments(truth):
    y = load_audio(MP4, sr=SR)
    assert abs(len(y) / SR - truth["duration_s"]) <= 0.1
    t, rms = synth.frame_rms(y, SR, frame_s=0.03, hop_s=0.01)
    speaking = np.zeros(len(t), bool)
    for s in truth["speech"]:
        speaking |= (t >= s["start"]) & (t <= s["end"])
    silent_db = 20 * np.log10(np.median(rms[~speaking]))
    assert abs(silent_db - truth["audio"]["noise_dbfs"]) < 6  # the -60 dBFS room noise
    loud = rms > 10 ** ((silent_db + 10) / 20)
    per = _per(truth)
    for s in truth["speech"]:  # every segment is loud, and starts/ends where the truth says
        m = (t >= s["start"]) & (t <= s["end"])
        assert 20 * np.log10(np.percentile(rms[m], 90)) > silent_db + 30, s
        other = per["P1" if s["participant"] == "P2" else "P2"]
        if not any(a < s["start"] + 0.05 and b > s["start"] - 0.3 for a, b in other):
            on = t[loud & (t > s["start"] - 0.3)][0]
            assert abs(on - s["start"]) < 0.05, (s, on)
        if not any(a < s["end"] + 0.3 and b > s["end"] - 0.05 for a, b in other):
            off = t[loud & (t < s["end"] + 0.3)][-1]
            assert abs(off - s["end"]) < 0.12, (s, off)


# ----------------------------------------------------------------------------- the truth


def test_speech_segments_are_well_formed(truth):
    dur = truth["duration_s"]
    assert set(truth["participants"]) == {"P1", "P2"}
    for s in truth["speech"]:
        assert 0 <= s["start"] < s["end"] <= dur and s["text"]
    for p, segs in _per(truth).items():
        for (_, a1), (b0, _) in zip(segs[:-1], segs[1:], strict=True):
            assert a1 <= b0, f"{p} speech overlaps itself at {b0}"


def test_overlaps_interruption_and_backchannel_are_consistent(truth):
    per = _per(truth)
    both = sorted((max(a0, b0), min(a1, b1)) for a0, a1 in per["P1"] for b0, b1 in per["P2"]
                  if min(a1, b1) > max(a0, b0))
    got = [(o["start"], o["end"]) for o in truth["overlaps"]]
    assert np.allclose(both, got, atol=2e-3)
    (intr,) = truth["interruptions"]
    assert (intr["interrupter"], intr["interrupted"]) == ("P2", "P1")
    assert any(_inside((intr["start"], intr["end"]), o) for o in got)
    assert 0.8 <= intr["end"] - intr["start"] <= 1.2
    # the interrupter keeps the floor: P2 goes on after P1 stops, and P1 was cut mid-turn
    p2 = next(s for s in per["P2"] if abs(s[0] - intr["start"]) < 1e-3)
    assert p2[1] > intr["end"] + 1.0
    (bc,) = truth["backchannels"]
    assert bc["end"] - bc["start"] < 1.0
    assert any(_inside((bc["start"], bc["end"]), s) for s in per["P1"])  # no floor taken
    assert any(_inside((bc["start"], bc["end"]), o) for o in got)


def test_gaps_pauses_and_shares(truth):
    gaps = [g["end"] - g["start"] for g in truth["gaps"]]
    assert len(gaps) >= 8 and min(gaps) >= 0.15 and max(gaps) <= 1.55
    assert max(gaps) - min(gaps) > 1.0  # varied response latencies
    designed = [p for p in truth["pauses"] if p["designed"]]
    assert designed and all(p["end"] - p["start"] >= 1.0 for p in designed)
    share = truth["talk_share"]
    assert abs(sum(share.values()) - 1) < 1e-3
    speech_s = {p: sum(b - a for a, b in v) for p, v in _per(truth).items()}
    assert abs(share["P1"] - speech_s["P1"] / sum(speech_s.values())) < 1e-3
    pitch = {p: v["pitch_ref_hz"] for p, v in truth["participants"].items()}
    assert 70 < pitch["P1"] < 130 and 170 < pitch["P2"] < 260


def test_head_events_keep_their_promises(truth):
    per = _per(truth)
    for n in truth["nods"]:  # listener nods: while the other one speaks
        other = "P1" if n["participant"] == "P2" else "P2"
        assert any(_inside((n["start"], n["end"]), s, tol=0.3) for s in per[other]), n
        assert abs((n["end"] - n["start"]) * n["hz"] - n["cycles"]) < 0.01
    assert sum(n["participant"] == "P2" for n in truth["nods"]) == 3
    assert sum(n["participant"] == "P1" for n in truth["nods"]) == 1
    assert len(truth["shakes"]) == 1 and len(truth["gaze_away"]) == 1
    (still,) = truth["still"]
    assert still["end"] - still["start"] >= 10.0
    sway = truth["sway"]
    assert (sway["leader"], sway["follower"], sway["lag_s"]) == ("P1", "P2", 1.0)
    moves = truth["nods"] + truth["shakes"] + truth["gaze_away"]
    for m in moves:
        for a, b in ((still["start"], still["end"]), (sway["start"], sway["end"])):
            assert m["end"] <= a or m["start"] >= b, (m, a, b)


# ----------------------------------------------------------------------------- synth itself


def test_head_homography_fixes_the_face_centre_and_is_identity_at_rest():
    c = (300.0, 250.0)
    assert np.allclose(synth.head_homography(0, 0, 0, c, 900.0), np.eye(3))
    for yaw, pitch in ((20, 0), (0, -10), (12, 8)):
        h = synth.head_homography(yaw, pitch, 0, c, 900.0)
        p = h @ np.array([c[0], c[1], 1.0])
        assert np.allclose(p[:2] / p[2], c)


def test_trim_silence_finds_a_tone_in_silence():
    sr = 16000
    y = np.zeros(sr * 2, np.float32)
    t = np.arange(int(0.8 * sr)) / sr
    y[int(0.5 * sr):int(1.3 * sr)] = 0.3 * np.sin(2 * np.pi * 220 * t)
    start, end = synth.trim_silence(y, sr)
    assert abs(start - 0.5) < 0.015 and abs(end - 1.3) < 0.015
    assert synth.trim_silence(np.zeros(100, np.float32), sr) == (0.0, 0.0)


def test_write_av_round_trip(tmp_path):
    path = str(tmp_path / "tiny.mp4")
    frames = (np.full((64, 96, 3), 40 + 10 * i, np.uint8) for i in range(10))
    synth.write_av(path, frames, 25, np.zeros(6400, np.float32), 16000)
    got = probe(path)
    assert (got.width, got.height) == (96, 64) and got.has_audio
    assert abs(got.duration_s - 0.4) < 0.1


def test_person_mask_covers_the_face_and_leaves_the_backdrop_out():
    pytest.importorskip("skimage")
    size = (320, 360)
    mask = synth.astronaut_person_mask(size)
    assert mask.shape == (360, 320) and 0 <= mask.min() and mask.max() <= 1
    face = [mask[int(round(y)), int(round(x))] for x, y in synth.astronaut_landmarks_px(size).values()]
    assert min(face) > 0.9
    # the top corners are backdrop (the bottom ones are the suit's shoulders)
    assert mask[:16, :16].max() < 0.1 and mask[:16, -16:].max() < 0.1


# ----------------------------------------------------------------------------- other generators


@pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed")
def test_synth_call_truth_is_consistent():
    call = synth_call()
    assert set(call["truth"]) == {"A", "B"}
    assert len(call["interruptions"]) == 1 and call["interruptions"][0][2] == "B"
    start, end, _ = call["interruptions"][0]
    assert 1.0 <= end - start <= 1.3
    assert all(b > a for iv in call["truth"].values() for a, b in iv)


def test_shared_images_are_optional():
    pytest.importorskip("skimage")
    import layoutgen as gen

    assert [type(p) for p in gen.people(None)] == [gen.Person]
    if not os.path.isdir(os.path.join(SHARED, "images")):
        pytest.skip("../shared/images not present")
    assert len(gen.people(os.path.join(SHARED, "images"))) > 1
