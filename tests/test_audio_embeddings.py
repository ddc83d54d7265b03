"""cuekit.audio.embeddings: the numpy GE2E speaker encoder against Resemblyzer run on torch.

The reference numbers below were made once with the original: a scratch venv with torch 2.13.0
(CPU), ``resemblyzer==0.1.4`` (installed with ``--no-deps``; ``webrtcvad`` replaced by an empty
module, its VAD is not used), librosa 0.11.0, numpy 2.4.6, scipy 1.17.1, by::

    wav = load16k(path)                                  # as _load16k below
    wav = resemblyzer.normalize_volume(wav, -30, increase_only=True)
    VoiceEncoder("cpu").embed_utterance(wav)             # rate 1.3, min_coverage 0.75

(LJ001-0001 and the espeak-ng clips are louder than -30 dBFS, so that step leaves them as they
are; QUIET is the espeak clip at -40 dB, which it raises to -30 dBFS.) The numpy encoder agreed
to 4e-7 on every component.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, shared_path

from cuekit import modelfiles
from cuekit.audio import embeddings as E
from cuekit.errors import InputError

TOL = 1e-4

# first 8 components of Resemblyzer's embed_utterance
REF_LJ = [0.009204617, 0.01281597, 0.08332804, 0.0, 0.0, 0.01203561, 0.0, 0.08722562]
REF_LJ_A = [0.0, 0.004798244, 0.08302395, 0.0, 0.0, 0.0007340427, 0.0, 0.121555]       # 0-4 s
REF_LJ_B = [0.0212597, 0.02088236, 0.09595684, 0.0, 0.0, 0.02654273, 0.0, 0.06803767]   # 5 s-end
REF_COS_LJ_A_B = 0.900777
# the model alone (VoiceEncoder.forward) on frames 100..249 of LJ001-0001's mel spectrogram
REF_FORWARD_150 = [0.0, 0.0, 0.0394021, 0.0, 0.0, 0.0, 0.0, 0.1349802]

ESPEAK = {  # name -> (voice, sentence, sha256 of espeak-ng 1.51's wav, first 8 components)
    "a_us": ("en-us", "The quick brown fox jumps over the lazy dog while the band plays on.",
             "1308451af2e0498c2e1961e6ad26e4bc1933c9194517f94174190b492467a9b8",
             [0.03079029, 0.0, 0.06649985, 0.0, 0.0, 0.05497687, 0.01757125, 0.0228792]),
    "b_us": ("en-us", "Please call Stella and ask her to bring these things with her from the store.",
             "da87697121b2b1969d8ba0871acd57fc1c3d85e4ab43f3e418dc550b53764f1a",
             [0.08310907, 0.0, 0.1092302, 0.0, 0.0, 0.02571554, 0.02208569, 0.0]),
    "c_f3": ("en-us+f3", "Seven bright candles were burning in the narrow window of the old house.",
             "5fd400df34d87ae42e974fc35560cb4764b84f731ee0b67dd96f1b6ed5b0d0cc",
             [0.02684981, 0.01844579, 0.1252329, 0.0, 0.0, 0.03437051, 0.0, 0.1178578]),
}
REF_COS_ESPEAK = {("a_us", "b_us"): 0.801192, ("a_us", "c_f3"): 0.627566, ("b_us", "c_f3"): 0.655898}
REF_QUIET = [0.01775775, 0.0, 0.0, 0.0, 0.0, 0.02976426, 0.00987259, 0.0139075]  # a_us * 0.01


def _load16k(path) -> np.ndarray:
    """A 16-bit PCM wav as float32 at 16 kHz (scipy's polyphase resampler, as for the reference)."""
    from scipy.io import wavfile
    from scipy.signal import resample_poly

    sr, x = wavfile.read(path)
    x = x.astype("float64") / 32768.0
    if sr != 16000:
        g = np.gcd(sr, 16000)
        x = resample_poly(x, 16000 // g, sr // g)
    return x.astype("float32")


@pytest.fixture(scope="module")
def enc():
    return E.SpeakerEncoder()


@pytest.fixture(scope="module")
def lj():
    return _load16k(shared_path("media", "speech_LJ001-0001.wav"))


@pytest.fixture(scope="module")
def espeak(tmp_path_factory):
    """name -> (16 kHz waveform, whether espeak-ng made the reference's exact bytes)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    out = {}
    for name, (voice, text, sha, _) in ESPEAK.items():
        path = tmp_path_factory.mktemp("espeak") / f"{name}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True, capture_output=True)
        out[name] = (_load16k(path), hashlib.sha256(path.read_bytes()).hexdigest() == sha)
    return out


def test_mel_filterbank_and_spectrogram_match_librosa():
    librosa = pytest.importorskip("librosa")  # a test-only dependency
    fb = librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)
    assert E.mel_filterbank().shape == (40, 201)
    np.testing.assert_allclose(E.mel_filterbank(), fb, rtol=1e-5, atol=1e-9)
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 2 + 77) / 16000
    y = (0.3 * np.sin(2 * np.pi * 220 * t * (1 + t)) + 0.05 * rng.standard_normal(len(t))).astype("float32")
    ref = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=400, hop_length=160, n_mels=40).T
    got = E.mel_frames(y)
    assert got.shape == ref.shape == (1 + len(y) // 160, 40) and got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6 * ref.max())


def test_embeddings_match_resemblyzer_on_real_speech(enc, lj):
    e = enc.embed(lj)
    assert e.shape == (256,) and e.dtype == np.float32
    assert abs(np.linalg.norm(e) - 1) < 1e-5 and e.min() >= 0
    np.testing.assert_allclose(e[:8], REF_LJ, atol=TOL)
    a, b = enc.embed(lj[:16000 * 4]), enc.embed(lj[16000 * 5:])
    np.testing.assert_allclose(a[:8], REF_LJ_A, atol=TOL)
    np.testing.assert_allclose(b[:8], REF_LJ_B, atol=TOL)
    assert float(a @ b) == pytest.approx(REF_COS_LJ_A_B, abs=TOL)
    f = enc.forward(E.mel_frames(lj)[None, 100:250])
    np.testing.assert_allclose(f[0, :8], REF_FORWARD_150, atol=TOL)


def test_embeddings_match_resemblyzer_on_espeak(enc, espeak):
    if not all(same for _, same in espeak.values()):
        pytest.skip("this espeak-ng makes other audio than the reference's (espeak-ng 1.51)")
    e = {name: enc.embed(wav) for name, (wav, _) in espeak.items()}
    for name, (*_, ref) in ESPEAK.items():
        np.testing.assert_allclose(e[name][:8], ref, atol=TOL, err_msg=name)
    for (a, b), ref in REF_COS_ESPEAK.items():
        assert float(e[a] @ e[b]) == pytest.approx(ref, abs=TOL)
    quiet = espeak["a_us"][0] * np.float32(0.01)
    np.testing.assert_allclose(enc.embed(E.normalize_volume(quiet))[:8], REF_QUIET, atol=TOL)


def test_two_voices_are_less_alike_than_one_voice_twice(enc, espeak):
    """Known answer: espeak-ng's en-us voice saying two sentences is more alike than en-us and
    en-us+f3 saying different ones; the same holds for 1.5 s windows."""
    a, b, c = (espeak[k][0] for k in ("a_us", "b_us", "c_f3"))
    ea, eb, ec = enc.embed(a), enc.embed(b), enc.embed(c)
    assert ea @ eb > max(ea @ ec, eb @ ec) + 0.05
    gap = np.zeros(len(a) // 4000)
    call = np.concatenate([a, gap, b, gap, c])
    sa, sb, sc = 0.0, (len(a) + len(gap)) / 16000, (len(a) + len(b) + 2 * len(gap)) / 16000
    starts = [sa, sa + 1.5, sb, sb + 1.5, sc, sc + 1.5]
    w = enc.embed_windows(call, starts, 1.5)
    sim = w @ w.T
    same_voice = sim[:4, :4][np.triu_indices(4, 1)]
    other_voice = sim[:4, 4:]
    assert same_voice.mean() > other_voice.mean() + 0.1  # measured: 0.75 and 0.57
    assert same_voice.min() > other_voice.max()          # 0.71 and 0.63


def test_embed_windows_shapes_levels_and_errors(enc, lj):
    starts = np.arange(0, 8, 0.75)
    w = enc.embed_windows(lj, starts, 1.5)
    assert w.shape == (len(starts), 256) and w.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1, atol=1e-5)
    # each window taken to -20 dBFS: the gain of the recording does not matter ...
    np.testing.assert_allclose(enc.embed_windows(lj * np.float32(0.05), starts, 1.5), w, atol=1e-4)
    # ... while as given (level_dbfs=None) it does, and one window is the model on its frames
    raw = enc.embed_windows(lj, starts, 1.5, level_dbfs=None)
    quiet = enc.embed_windows(lj * np.float32(0.05), starts, 1.5, level_dbfs=None)
    assert np.mean(np.sum(raw * quiet, axis=1)) < 0.9
    mel = E.mel_frames(lj)
    np.testing.assert_allclose(raw[2], enc.forward(mel[None, 150:300])[0], atol=1e-5)
    # close to embedding the 1.5 s clip on its own (which Resemblyzer pads to 1.6 s with zeros)
    clip = enc.embed(lj[24000:48000])
    assert float(raw[2] @ clip) > 0.9
    # a window longer than 1.6 s is averaged over partials; batching does not change results
    long = enc.embed_windows(lj, [0.0, 2.0, 5.5], 3.0)
    one = E.SpeakerEncoder(batch=1).embed_windows(lj, [0.0, 2.0, 5.5], 3.0)
    np.testing.assert_allclose(long, one, atol=1e-5)
    assert float(long[0] @ enc.embed(lj[:48000])) > 0.95
    # past the end is silence; nothing asked, nothing returned
    assert np.isfinite(enc.embed_windows(lj, [len(lj) / 16000 - 0.5, 1e3], 1.5)).all()
    assert enc.embed_windows(lj, [], 1.5).shape == (0, 256)
    for bad in ([-1.0], [np.nan]):
        with pytest.raises(InputError, match="starts"):
            enc.embed_windows(lj, bad, 1.5)
    with pytest.raises(InputError, match="window_s"):
        enc.embed_windows(lj, [0.0], 0.001)
    with pytest.raises(InputError, match="mono"):
        enc.embed(np.zeros((2, 16000), dtype="float32"))
    with pytest.raises(InputError, match="float"):
        enc.embed(np.zeros(16000, dtype="int16"))


def test_silence_gives_a_finite_embedding(enc):
    e = enc.embed(np.zeros(16000, dtype="float32"))
    assert e.shape == (256,) and np.isfinite(e).all()


def test_shipped_weights_are_the_checkpoints_arrays():
    path = modelfiles.MODELS_DIR / E.MODEL_FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == modelfiles.shipped_models()[E.MODEL_FILE]
    with np.load(path, allow_pickle=False) as z:
        shapes = {k: z[k].shape for k in z.files}
        assert all(z[k].dtype == np.float32 for k in z.files)
    assert shapes["lstm.weight_ih_l0"] == (1024, 40) and shapes["linear.weight"] == (256, 256)
    assert len(shapes) == 14 and all(k.startswith(("lstm.", "linear.")) for k in shapes)


def _fetch_models():
    spec = importlib.util.spec_from_file_location("fetch_models", Path(ROOT) / "models" / "fetch_models.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_conversion_writes_numpys_npy_and_refuses_other_classes():
    import io
    import pickle

    fm = _fetch_models()
    with np.load(modelfiles.MODELS_DIR / E.MODEL_FILE) as z:
        arrays = {k: z[k] for k in z.files}
    members = {}
    for k, a in arrays.items():
        buf = io.BytesIO()
        np.lib.format.write_array(buf, a, version=(1, 0), allow_pickle=False)
        assert fm.npy_bytes(a.tobytes(), a.shape) == buf.getvalue(), k
        members[k] = buf.getvalue()
    rebuilt = fm.npz_bytes(members)
    assert rebuilt == (modelfiles.MODELS_DIR / E.MODEL_FILE).read_bytes()
    for payload in (pickle.dumps(print), pickle.dumps(np.zeros(2)), b"\x80\x02cos\nsystem\n."):
        with pytest.raises(pickle.UnpicklingError, match="not allowed"):
            fm._RestrictedUnpickler(io.BytesIO(payload)).load()


@pytest.mark.network
def test_fetch_script_rebuilds_the_npz_from_the_wheel(tmp_path):
    """pip downloads resemblyzer 0.1.4 (15 MB) and the script converts its checkpoint."""
    fm = _fetch_models()
    try:
        wheel = fm.download("resemblyzer==0.1.4", tmp_path)
    except (subprocess.CalledProcessError, StopIteration) as e:
        pytest.skip(f"could not download resemblyzer==0.1.4 from the package registry: {e}")
    npz = fm.ge2e_npz(fm.member(wheel, "resemblyzer/pretrained.pt"))
    assert npz == (modelfiles.MODELS_DIR / E.MODEL_FILE).read_bytes()


def test_windows_of_a_long_call_see_the_whole_calls_spectrogram(enc, lj):
    """embed_windows builds the spectrogram a batch's stretch at a time (a whole call's would
    grow with the call): the same frames to the bit as the whole recording's, across the FFT
    blocks' boundaries and past the end, so the windows embed as the model on those frames."""
    rng = np.random.default_rng(3)
    call = np.concatenate([lj, 0.01 * rng.standard_normal(16000 * 50).astype("float32"), lj])
    whole = E.mel_frames(call)
    edge = E._STFT_BLOCK
    for lo, hi in ((0, 10), (edge - 7, edge + 5), (edge - 1, 3 * edge + 2),
                   (len(whole) - 20, len(whole) + 30)):
        want = np.zeros((hi - lo, 40), dtype="float32")
        want[:max(0, min(hi, len(whole)) - lo)] = whole[lo:hi]
        assert np.array_equal(E._mel_span(call, lo, hi), want), (lo, hi)
    starts = [0.3, edge / 100 - 0.7, len(call) / 16000 - 1.0]  # the 2nd across a block edge
    got = E.SpeakerEncoder(batch=1).embed_windows(call, starts, 1.5, level_dbfs=None)
    padded = np.concatenate([whole, np.zeros((200, 40), dtype="float32")])
    for row, s in zip(got, starts, strict=True):
        f = int(round(s * 100))
        np.testing.assert_allclose(row, enc.forward(padded[None, f:f + 150])[0], atol=1e-6)
