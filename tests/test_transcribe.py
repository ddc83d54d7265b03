"""Transcription (the words extra): word error rate on real speech with known texts, the words of
generated calls with scripted verbal cues, the model's integrity, and bad input."""

import os
import sys

import numpy as np
import pytest

from conftest import shared_path
from cuekit import cli, cueset, media, session
from cuekit.audio import transcribe
from cuekit.config import AnalysisConfig
from cuekit.errors import InputError

pytest.importorskip("faster_whisper", reason="the words extra is not installed")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
import verbal_calls  # noqa: E402

# the texts in ../shared/README.md
JFK = ("And so my fellow Americans, ask not what your country can do for you, ask what you can "
       "do for your country.")
LJ = ("Printing, in the only sense with which we are at present concerned, differs from most if "
      "not from all the arts and crafts represented in the Exhibition")


@pytest.fixture(scope="module")
def recogniser():
    return transcribe.Transcriber()


@pytest.mark.parametrize("name, text", [("speech_jfk_inaugural.flac", JFK),
                                        ("speech_LJ001-0001.wav", LJ)])
def test_word_error_rate_on_real_speech_with_known_text(recogniser, name, text):
    y = media.load_audio(shared_path("media", name), sr=transcribe.WHISPER_SR)
    words = recogniser.words(y)
    hyp = [w for x in words["word"] for w in verbal_calls._norm_words(x)]
    assert verbal_calls.wer(verbal_calls._norm_words(text), hyp) <= 0.10
    assert (np.diff(words["start"]) >= 0).all() and (words["end"] >= words["start"]).all()
    assert 0 <= words["start"].min() and words["end"].max() <= len(y) / transcribe.WHISPER_SR


def test_word_times_land_on_the_recording_clock(recogniser):
    """Speech placed at known times in silence: each word's time falls inside its stretch."""
    y = media.load_audio(shared_path("media", "speech_jfk_inaugural.flac"),
                         sr=transcribe.WHISPER_SR)
    sr = transcribe.WHISPER_SR
    call = np.concatenate([np.zeros(20 * sr), y, np.zeros(15 * sr), y, np.zeros(sr)])
    one = len(y) / sr
    spans = [(20.0, 20.0 + one), (35.0 + one, 35.0 + 2 * one)]
    words = recogniser.words(call.astype("float32"), speech=spans)
    mids = 0.5 * (words["start"] + words["end"])
    inside = [(a - 0.3 <= m <= b + 0.3) for m in mids for a, b in spans if a - 0.3 <= m <= b + 0.3]
    assert len(inside) == len(words) >= 40  # both copies, every word inside a copy
    assert recogniser.words(call.astype("float32"), speech=[]).empty  # nobody speaks: no words


def test_speech_clips_are_padded_joined_and_kept_in_the_recording():
    speech = [(0.1, 1.0), (1.5, 2.0), (5.0, 6.0), (9.9, 12.0), (10.5, 11.0)]
    clips = transcribe.speech_clips(speech, 10.0)  # pad 0.2 s, join gaps < 1 s
    np.testing.assert_allclose(clips, [(0.0, 2.2), (4.8, 6.2), (9.7, 10.0)], atol=1e-12)
    assert transcribe.speech_clips([], 10.0).shape == (0, 2)


@pytest.fixture(scope="module")
def verbal_call(tmp_path_factory):
    pytest.importorskip("soundfile")
    if not verbal_calls.synth_available():
        pytest.skip("espeak-ng is not installed (scripts/test.sh installs it as root)")
    folder = tmp_path_factory.mktemp("verbal")
    return verbal_calls.write_call(1, str(folder))


@pytest.mark.parametrize("which", ["stereo", "mono"])
def test_scripted_verbal_cues_are_found_in_a_generated_call(verbal_call, which):
    stereo, mono, timed = verbal_call
    cs = verbal_calls.analyse(stereo if which == "stereo" else mono, "Agent,Customer")
    r = verbal_calls.score(cs, timed)
    for kind in ("question", "paraphrase", "empathy"):
        assert r[kind]["truth"] > 0
        assert r[kind]["hit_truth"] / r[kind]["truth"] >= 0.75, (kind, r[kind])
        assert r[kind]["hit_found"] == r[kind]["found"], (kind, r[kind])  # no false ones
    assert r["wer"]["wer"] <= 0.2
    assert r["attribution"]["wrong"] <= 0.02 * (r["attribution"]["right"] + 1)
    assert r["wpm"]["within_10"] == 2  # words per minute within 10 % for both people


def test_the_cli_transcribes_and_writes_the_words(tmp_path, capsys):
    out = tmp_path / "jfk.cuekit"
    assert cli.main(["analyze", shared_path("media", "speech_jfk_inaugural.flac"), "--transcribe",
                     "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "words: " in text and "from whisper tiny.en" in text
    cs = cueset.read(out)
    assert len(cs.words) >= 20 and set(cs.words["participant"]) == {"P1"}
    assert cs.summary["participants"]["P1"]["words"] == len(cs.words)


def test_an_uploaded_transcript_wins_over_transcription(tmp_path):
    vtt = tmp_path / "t.vtt"
    vtt.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:10.000\nSpeaker: hello world\n")
    cs = session.analyze(shared_path("media", "speech_jfk_inaugural.flac"),
                         AnalysisConfig(transcript=str(vtt), transcribe=True))
    assert cs.words["word"].tolist() == ["hello", "world"]
    assert cs.session["provenance"]["stages"]["words"]["words_from"] == "transcript"


def test_silence_gives_no_words_and_no_error(tmp_path):
    import soundfile as sf

    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16000 * 5, dtype="float32"), 16000)
    cs = session.analyze(str(path), AnalysisConfig(transcribe=True))
    assert cs.words.empty


def test_the_bundled_model_is_the_listed_one():
    path = transcribe.model_dir(verify=True)
    assert (path / "model.bin").is_file()


def test_a_folder_without_a_model_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="no Whisper model"):
        transcribe.Transcriber(str(tmp_path))


def test_without_the_extra_transcription_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # import fails
    with pytest.raises(InputError, match=r"cuekit\[words\]"):
        transcribe.Transcriber()
    assert not transcribe.words_available()
