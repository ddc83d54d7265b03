"""End-to-end accuracy of the audio pipeline on a synthetic two-voice call and real speech."""

import os

import numpy as np
import pytest
import soundfile as sf
from test_audio_synthcall import (boundary_errors_s, have_espeak, synth_call, talk_shares)

from cuekit.audio.pipeline import analyze_audio
from cuekit.audio.voice import hz_to_st
from cuekit.dynamics.turns import conversation
from cuekit.errors import InputError
from cuekit.intervals import duration, intersect
from cuekit.layout import Participant

SR = 16000
MEDIA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "media")
needs_espeak = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed")


@pytest.fixture(scope="module")
def call():
    return synth_call()


def _speech(result, name):
    seg = result.segments
    sel = seg[(seg["kind"] == "speech") & (seg["participant"] == name)]
    return [tuple(r) for r in sel[["start", "end"]].to_numpy()]


def _reference_pitch_hz(y):
    """Median F0 of a clean voice by Praat's autocorrelation method (Boersma 1993, through
    parselmouth): an estimator independent of cuekit's YIN, so a wrong pitch tracker fails."""
    parselmouth = pytest.importorskip("parselmouth")
    snd = parselmouth.Sound(np.asarray(y, dtype="float64"), sampling_frequency=SR)
    f0 = snd.to_pitch(time_step=0.01, pitch_floor=60, pitch_ceiling=500).selected_array["frequency"]
    return float(np.median(f0[f0 > 0]))  # Praat gives 0 for unvoiced frames


@needs_espeak
def test_one_speaker_per_channel(call, tmp_path):
    path = tmp_path / "call.wav"
    sf.write(path, call["channels"].T, SR)
    people = [Participant("A", audio_channel=0), Participant("B", audio_channel=1)]
    stages = []
    r = analyze_audio(path, people, sr=SR, hook=lambda s, d, n: stages.append((d, n)))
    assert stages[-1][0] == stages[-1][1]
    assert not r.provenance["mixed"]
    found = {w: _speech(r, w) for w in "AB"}
    for w in "AB":
        assert np.median(boundary_errors_s(call["truth"][w], found[w])) < 0.15
        ref = _reference_pitch_hz(call["clean"][w])
        assert abs(hz_to_st(r.summary[w]["pitch_median_hz"]) - hz_to_st(ref)) < 1.0
    truth_share, share = talk_shares(call["truth"]), talk_shares(found)
    assert abs(truth_share["A"] - share["A"]) < 0.03
    turns = conversation(r.samples, ["A", "B"], duration_s=call["duration_s"])
    inter = turns.segments[turns.segments["kind"] == "interruption"]
    (start, end, who), = call["interruptions"]
    assert list(inter["participant"]) == [who]
    assert inter["start"].iloc[0] == pytest.approx(start, abs=0.2)
    assert len(turns.segments[turns.segments["kind"] == "backchannel"]) == 1
    cues = set(r.samples["cue"])
    assert {"voice.active", "voice.pitch_hz", "voice.pitch_st", "voice.loudness_db",
            "voice.syllable_rate"} <= cues
    assert r.summary["A"]["monotone"] in (0.0, 1.0)


@needs_espeak
def test_mixed_track_is_split_into_voices(call, tmp_path):
    path = tmp_path / "mix.wav"
    sf.write(path, call["mix"], SR)
    r = analyze_audio(path, [Participant("P1"), Participant("P2")], sr=SR)
    assert r.provenance["mixed"] and r.provenance["voices"] == ["V1", "V2"]
    found = {"A": _speech(r, "V1"), "B": _speech(r, "V2")}  # A speaks first
    errors = [boundary_errors_s(call["truth"][w], found[w]) for w in "AB"]
    assert np.median(np.concatenate(errors)) < 0.15
    truth_share, share = talk_shares(call["truth"]), talk_shares(found)
    assert abs(truth_share["A"] - share["A"]) < 0.06
    assert r.summary["V1"]["pitch_median_hz"] < 150 < r.summary["V2"]["pitch_median_hz"]
    # where one voice starts before the other ends, the overlap model gives the time to both
    assert call["interruptions"]
    for start, end, _ in call["interruptions"]:
        core = np.array([[start + 0.2, end - 0.2]])
        for v in ("V1", "V2"):
            assert duration(intersect(core, np.array(_speech(r, v)))) > 0.7 * duration(core), v


@pytest.mark.skipif(not os.path.isdir(MEDIA), reason="../shared/media is absent")
def test_real_speech_pause_and_rates():
    path = os.path.join(MEDIA, "speech_LJ001-0001.wav")
    r = analyze_audio(path, [Participant("P1", audio_file=path)], sr=SR)
    speech = _speech(r, "P1")
    gaps = [(b, a2) for (_, b), (a2, _) in zip(speech[:-1], speech[1:], strict=True)]
    assert any(abs(a - 3.96) < 0.2 and abs(b - 4.45) < 0.2 for a, b in gaps)
    s = r.summary["P1"]
    # syllable_rate: per second of speech (DESIGN); speech_rate also counts the < 1 s pause
    assert s["syllable_rate"] == pytest.approx(s["syllables"] / s["speech_s"])
    assert 3.0 < s["speech_rate"] < s["syllable_rate"] < 6.0
    assert "articulation_rate" not in s  # it was the same number as syllable_rate
    assert 34 <= s["syllables"] <= 42
    assert len(r.samples) < 6 * 20 * 10  # 5 cues at 20 Hz for ~10 s


@needs_espeak
@pytest.mark.parametrize("sr", [8000, 16000])
def test_speech_late_in_the_track_is_found_at_both_vad_rates(sr, tmp_path):
    # silence, then speech at 13 s: at 8 kHz a 512-sample gate covered only the first 8 s
    from test_audio_synthcall import espeak

    speech = espeak("I will send the schedule to the whole team today.", voice="en-us",
                    pitch=50, sr=SR)[: int(2.8 * SR)]
    y = (np.random.default_rng(0).normal(0, 1e-3, 16 * SR)).astype("float32")
    y[13 * SR: 13 * SR + len(speech)] += speech
    path = tmp_path / "late.wav"
    sf.write(path, y, SR)
    r = analyze_audio(path, [Participant("P1", audio_file=str(path))], sr=sr)
    found = _speech(r, "P1")
    assert found and found[0][0] == pytest.approx(13.0, abs=0.25)
    covered_s = sum(max(0.0, min(b, 15.8) - max(a, 13.0)) for a, b in found)
    assert covered_s > 2.0


@needs_espeak
@pytest.mark.parametrize("cut", [True, False])
def test_a_short_pause_and_the_end_of_speech_land_on_the_silence(cut, tmp_path):
    # two sentences 0.3 s apart: Silero alone bridges the pause and runs on past the last word;
    # cut to the level, the pause is found and the end lands on the silence (the truth: where the
    # clean voice is within 35 dB of its peak, test_audio_synthcall.speech_intervals)
    import dataclasses

    from test_audio_synthcall import espeak, speech_intervals

    from cuekit.params import VAD

    def said(text):
        y = espeak(text, voice="en-gb", pitch=45, sr=SR)
        (a, b), *_ = speech_intervals(y, sr=SR, bridge_s=1.0)
        return y[int(a * SR): int(b * SR)]

    one, two = said("We can move the meeting to Friday."), said("Does that work for you?")
    clean = np.zeros(8 * SR, "float32")
    k1, k2 = SR, SR + len(one) + int(0.3 * SR)
    clean[k1: k1 + len(one)] += one
    clean[k2: k2 + len(two)] += two
    truth = speech_intervals(clean, sr=SR)
    assert len(truth) == 2
    y = clean + np.random.default_rng(3).normal(0, 1e-3, len(clean)).astype("float32")
    path = tmp_path / "pause.wav"
    sf.write(path, y, SR)
    vad = VAD if cut else dataclasses.replace(VAD, level_floor_share=None)
    found = _speech(analyze_audio(path, [Participant("P1", audio_file=str(path))], sr=SR,
                                  vad=vad), "P1")
    if cut:
        assert len(found) == 2
        np.testing.assert_allclose(found, truth, atol=0.06)
    else:  # what the cut mends
        assert len(found) == 1 or found[-1][1] > truth[-1][1] + 0.06


def _spoken(text, voice):
    """espeak-ng speech of ``text`` (``voice``: espeak's voice and pitch), cut to where it is
    audible."""
    from test_audio_synthcall import espeak, speech_intervals

    y = espeak(text, sr=SR, **voice)
    (a, b), *_ = speech_intervals(y, sr=SR, bridge_s=1.0)
    return y[int(a * SR): int(b * SR)]


def _analyse_exchange(tmp_path, placed, *, seed):
    """Mix clean utterances ``placed`` = [(who, start sample, audio)] over faint noise into one
    track (1 s of it after the last), analyse it for two voices; returns the result and the
    turns [(who, start_s, end_s)]."""
    n = max(k + len(y) for _, k, y in placed) + SR
    mix = np.random.default_rng(seed).normal(0, 1e-3, n).astype("float32")
    turns = []
    for who, k, y in placed:
        mix[k: k + len(y)] += y
        turns.append((who, k / SR, (k + len(y)) / SR))
    path = tmp_path / "exchange.wav"
    sf.write(path, mix, SR)
    return analyze_audio(path, [Participant("P1"), Participant("P2")], sr=SR, speakers=2), turns


@needs_espeak
def test_changes_of_voice_with_hardly_a_gap_land_on_the_gap(tmp_path):
    # two people answer each other after 0.10-0.15 s (under the shortest pause, so no silence
    # the VAD keeps): the window votes alone put such a change up to ~0.6 s off; placed on the
    # level's dip, each voice's end and the other's start are where the clean voices say
    lines = [("A", "We can move the meeting to Friday afternoon.", 0.12),
             ("B", "Friday works, but only after three.", 0.5),
             ("A", "Then let us say half past three in my office.", 0.10),
             ("B", "Good, I will bring the numbers with me.", 0.45),
             ("A", "Thank you, that helps a lot.", 0.15),
             ("B", "See you on Friday then.", 0.0)]
    voices = {"A": dict(voice="en-us", pitch=30), "B": dict(voice="en-us+f3", pitch=70)}
    k, placed = int(0.5 * SR), []
    for who, text, gap_s in lines:
        y = _spoken(text, voices[who])
        placed.append((who, k, y))
        k += len(y) + int(gap_s * SR)
    r, turns = _analyse_exchange(tmp_path, placed, seed=4)
    found = {"A": _speech(r, "V1"), "B": _speech(r, "V2")}  # A speaks first
    for (w1, _, end_s), (w2, start_s, _), (_, _, gap_s) in zip(turns[:-1], turns[1:], lines[:-1],
                                                                  strict=True):
        if gap_s > 0.2:
            continue
        assert min(abs(b - end_s) for _, b in found[w1]) < 0.08, (w1, end_s, found[w1])
        assert min(abs(a - start_s) for a, _ in found[w2]) < 0.08, (w2, start_s, found[w2])


@needs_espeak
@pytest.mark.parametrize("a_voice, b_voice, alone_s, gap_s", [
    (("en-gb", 63), ("en-gb-scotland", 32), 1.2, 0.6),
    (("en-gb", 63), ("en-gb-scotland", 32), 1.5, 0.6),
    (("en-us", 35), ("en-us+f3", 65), 0.7, 0.15)])
def test_an_interrupter_who_goes_on_alone_keeps_the_stretch_after_the_overlap(
        a_voice, b_voice, alone_s, gap_s, tmp_path):
    # A talks; B cuts in 2-3 s before A's end and goes on alone for alone_s; A answers gap_s
    # after B. The speaker windows next to the overlap hear both voices and gave B's stretch
    # after it to A (the first two: B kept 7 and 24 %); with A back after a gap shorter than a
    # pause, A's speech was joined across B's stretch (A's voice in the overlap, then A again:
    # all of it A's). The segmentation model follows B through the overlap and hears B alone
    # after it, so the stretch is B's
    voices = {"A": dict(voice=a_voice[0], pitch=a_voice[1]),
              "B": dict(voice=b_voice[0], pitch=b_voice[1])}
    lines = [("A", "I think we should look at the numbers for the second quarter before we "
                   "decide anything about the budget for next year."),
             ("B", "No, wait, the numbers are already in the report I sent you."),
             ("A", "Then I will read it again tonight and call you in the morning.")]
    k, placed = int(0.5 * SR), []
    for i, (who, text) in enumerate(lines):
        y = _spoken(text, voices[who])
        if i == 1:  # B ends alone_s after A: starts that much less its length after A's end
            k += int((alone_s - len(y) / SR) * SR) - int(0.6 * SR)
        placed.append((who, k, y))
        k += len(y) + int((gap_s if i == 1 else 0.6) * SR)
    r, turns = _analyse_exchange(tmp_path, placed, seed=5)
    found = {"A": _speech(r, "V1"), "B": _speech(r, "V2")}  # A speaks first
    (_, _, a_end), (_, b_start, b_end), _ = turns
    assert b_start < a_end - 1.0 and abs(b_end - a_end - alone_s) < 0.02, turns
    after = [(a_end, b_end)]  # B alone after the overlap
    assert duration(intersect(found["B"], after)) > 0.8 * alone_s, (found, turns)
    assert duration(intersect(found["A"], after)) < 0.3 * alone_s, (found, turns)
    assert min(abs(a - b_start) for a, _ in found["B"]) < 0.25, (found["B"], b_start)
    assert r.provenance["voices_told_apart"]["placed_by_model_s"] > 0  # and says so


def test_no_participants_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="participant"):
        analyze_audio(tmp_path / "x.wav", [], sr=SR)
