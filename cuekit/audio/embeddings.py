"""Speaker embeddings: Resemblyzer's GE2E voice encoder run with numpy (no torch).

The model is the encoder of Resemblyzer 0.1.4 (Apache-2.0, Copyright 2019 Resemble.AI; Corentin
Jemine's implementation of Wan et al. 2018, "Generalized end-to-end loss for speaker
verification"): 40-band mel power frames (16 kHz, 25 ms window, 10 ms hop) -> 3-layer LSTM with
256 units -> the last layer's final hidden state -> linear 256 -> 256 -> ReLU -> L2 norm. Its
weights ship as ``cuekit/models/ge2e_encoder.npz`` (float32 arrays under the checkpoint's own
names, values unchanged; ``models/fetch_models.py`` rebuilds the file byte for byte from the
wheel) and are checked against ``SHA256SUMS`` when first loaded.

An embedding is a float32 vector of shape ``(256,)``, unit length, every component >= 0, so the
cosine similarity of two embeddings (their dot product) is in 0..1. Measured: two 4-5 s
stretches of LJ001-0001 0.90; two sentences of one espeak-ng voice 0.80, of two voices 0.63-0.66;
1.5 s windows of ten GRID speakers, one voice 0.65-0.80, two voices 0.40-0.82 (short windows
overlap a lot: cluster many windows, do not threshold one pair).

Preprocessing is Resemblyzer's ``wav_to_mel_spectrogram`` (librosa's ``melspectrogram`` with its
defaults: periodic Hann window of 400 samples, ``center=True`` with zero padding, power 2, Slaney
mel scale and area normalisation, 0-8 kHz), written here in numpy: librosa is not needed at run
time. Resemblyzer's ``preprocess_wav`` also raises quiet audio to -30 dBFS and cuts silences
longer than ~0.2 s with webrtcvad; neither is done here. The caller gives speech (cuekit's own
VAD decides where it is). The model's input is mel *power*, so level matters (10 dB quieter:
cosine ~0.9 with the same audio, 20 dB: ~0.75); :meth:`SpeakerEncoder.embed` takes the audio as
given, as Resemblyzer does above -30 dBFS (:func:`normalize_volume` is its level step), while
:meth:`SpeakerEncoder.embed_windows` by default scales every window to the same RMS, -20 dBFS,
so that loudness is not taken for a voice.
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import InputError
from ..modelfiles import model_path

SAMPLE_RATE = 16000     # Hz: the only rate the encoder takes
N_FFT = 400             # samples: 25 ms analysis window
HOP = 160               # samples: 10 ms between frames (frame k is centred on sample k * HOP)
N_MELS = 40
PARTIAL_FRAMES = 160    # frames in one of Resemblyzer's partial utterances (1.6 s)
EMBED_DIM = 256
HIDDEN = 256
N_LAYERS = 3
MODEL_FILE = "ge2e_encoder.npz"

DEFAULT_LEVEL_DBFS = -20.0  # embed_windows: each window's RMS taken to this level (see there)
_STFT_BLOCK = 4096      # frames per FFT block in mel_frames (~3.3 MB of complex64 scratch)
_LSTM_BATCH = 64        # sequences per LSTM pass (~42 MB of gate scratch at 160 frames)


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa ``htk=False``): linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype="float64")
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    mel = f / f_sp
    log = f >= min_log_hz
    return np.where(log, min_log_hz / f_sp + np.log(np.maximum(f, min_log_hz) / min_log_hz) / logstep, mel)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype="float64")
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular mel filters, shape ``(n_mels, n_fft // 2 + 1)`` float32: librosa's
    ``filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)`` (0 Hz to sr/2, Slaney scale, each filter
    divided by its width in Hz / 2, i.e. ``norm='slaney'``)."""
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_hz = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), n_mels + 2))
    width = np.diff(mel_hz)
    ramps = mel_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / width[:-1, None]
    upper = ramps[2:] / width[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]
    return weights.astype("float32")


_FILTERS = mel_filterbank()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype("float32")  # periodic Hann


def mel_frames(wav16k: np.ndarray) -> np.ndarray:
    """Mel power spectrogram as the encoder takes it: shape ``(1 + len(wav16k) // 160, 40)``
    float32, frame ``k`` centred on sample ``160 k`` (the signal is zero-padded by 200 samples at
    both ends). Values are linear power of a waveform in -1..1 units, not dB."""
    y = _as_wav(wav16k)
    n_frames = 1 + len(y) // HOP
    out = np.empty((n_frames, N_MELS), dtype="float32")
    for a in range(0, n_frames, _STFT_BLOCK):  # a block at a time: no padded copy of the call
        out[a:a + _STFT_BLOCK] = _mel_block(y, a)
    return out


def _mel_block(y: np.ndarray, a: int) -> np.ndarray:
    """Frames ``a`` to ``a + _STFT_BLOCK`` (fewer at the end) of ``mel_frames(y)``, computed as
    it computes them, so a spectrogram built a block at a time is the same to the bit."""
    half = N_FFT // 2
    b = min(1 + len(y) // HOP, a + _STFT_BLOCK)
    lo, hi = a * HOP - half, (b - 1) * HOP + half
    part = np.pad(y[max(0, lo):min(len(y), hi)], (max(0, -lo), max(0, hi - len(y))))
    frames = np.lib.stride_tricks.sliding_window_view(part, N_FFT)[::HOP][:b - a]
    spec = np.fft.rfft(frames * _WINDOW, axis=1)
    return (spec.real ** 2 + spec.imag ** 2) @ _FILTERS.T


def _mel_span(y: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Frames ``lo`` to ``hi`` of ``mel_frames(y)``, zeros past its end: the blocks of
    :func:`_mel_block` that cover them, so no more than a few blocks are held at once."""
    out = np.zeros((hi - lo, N_MELS), dtype="float32")
    n_frames = 1 + len(y) // HOP
    for a in range(lo - lo % _STFT_BLOCK, min(hi, n_frames), _STFT_BLOCK):
        block = _mel_block(y, a)
        s0, s1 = max(a, lo), min(a + len(block), hi)
        out[s0 - lo:s1 - lo] = block[s0 - a:s1 - a]
    return out


def normalize_volume(wav: np.ndarray, target_dbfs: float = -30.0) -> np.ndarray:
    """Resemblyzer's ``normalize_volume(wav, -30, increase_only=True)``: audio whose RMS is below
    ``target_dbfs`` (dB re full scale 1.0) is scaled up to it; louder audio is returned as is."""
    y = _as_wav(wav)
    rms = float(np.sqrt(np.mean(np.square(y, dtype="float64")))) if len(y) else 0.0
    if rms <= 0.0:
        return y
    change_db = target_dbfs - 20 * np.log10(rms)
    return y if change_db < 0 else (y * np.float32(10 ** (change_db / 20))).astype("float32")


def _as_wav(wav: np.ndarray) -> np.ndarray:
    y = np.asarray(wav)
    if y.ndim != 1:
        raise InputError(f"expected a mono waveform of shape (n,), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.floating):
        raise InputError(f"expected a float waveform in -1..1, got dtype {y.dtype}")
    return y.astype("float32", copy=False)


_WEIGHTS: dict[str, np.ndarray] | None = None
_WEIGHTS_LOCK = threading.Lock()


def _load_weights() -> dict[str, np.ndarray]:
    """The checkpoint's arrays, checked against ``SHA256SUMS`` once per process, with the LSTM
    rearranged for :meth:`SpeakerEncoder.forward`: per layer ``w_ih`` (in, 4H), ``w_hh`` (H, 4H)
    and one bias (4H,) (torch's two added), gates reordered from torch's i, f, g, o to i, f, o, g
    and the rows of the sigmoid gates i, f, o halved: sigmoid(x) = (1 + tanh(x / 2)) / 2 lets one
    tanh serve all four gates."""
    global _WEIGHTS
    with _WEIGHTS_LOCK:
        if _WEIGHTS is None:
            with np.load(model_path(MODEL_FILE, verify=True), allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files}
            H = HIDDEN
            order = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]             # i, f, g, o -> i, f, o, g
            half = np.where(np.arange(4 * H) < 3 * H, 0.5, 1.0).astype("float32")[:, None]
            w = {}
            for layer in range(N_LAYERS):
                w_ih = raw[f"lstm.weight_ih_l{layer}"][order] * half
                w_hh = raw[f"lstm.weight_hh_l{layer}"][order] * half
                bias = (raw[f"lstm.bias_ih_l{layer}"] + raw[f"lstm.bias_hh_l{layer}"])[order] * half[:, 0]
                w[f"w_ih{layer}"] = np.ascontiguousarray(w_ih.T)
                w[f"w_hh{layer}"] = np.ascontiguousarray(w_hh.T)
                w[f"b{layer}"] = bias
            w["linear_w"] = np.ascontiguousarray(raw["linear.weight"].T)
            w["linear_b"] = raw["linear.bias"]
            _WEIGHTS = w
    return _WEIGHTS


class SpeakerEncoder:
    """Resemblyzer's GE2E encoder. All audio is mono float32 at 16 kHz in -1..1; all outputs are
    unit-length float32 embeddings of 256 non-negative components.

    ``batch`` is how many sequences go through the LSTM together (speed and memory: about
    ``batch * frames * 4 kB`` of scratch)."""

    def __init__(self, batch: int = _LSTM_BATCH) -> None:
        if not (isinstance(batch, int) and batch >= 1):
            raise InputError(f"batch must be a positive integer, got {batch!r}")
        self.batch = batch
        self._w = _load_weights()

    def forward(self, mels: np.ndarray) -> np.ndarray:
        """Embeddings of a batch of equally long mel sequences: ``mels`` shape
        ``(n, frames, 40)`` (as :func:`mel_frames` makes them) -> ``(n, 256)``, each row
        unit length (a row whose ReLU output is all zero stays zero)."""
        mels = np.asarray(mels, dtype="float32")
        if mels.ndim != 3 or mels.shape[2] != N_MELS or mels.shape[1] < 1:
            raise InputError(f"mels must have shape (n, frames >= 1, {N_MELS}), got {mels.shape}")
        out = np.empty((len(mels), EMBED_DIM), dtype="float32")
        for a in range(0, len(mels), self.batch):
            out[a:a + self.batch] = self._forward(mels[a:a + self.batch])
        return out

    def _forward(self, mels: np.ndarray) -> np.ndarray:
        w, H = self._w, HIDDEN
        n, T, _ = mels.shape
        x = np.ascontiguousarray(mels.transpose(1, 0, 2))              # (T, n, features), time-major
        g = np.empty((n, 4 * H), dtype="float32")
        c = np.empty((n, H), dtype="float32")
        ig = np.empty((n, H), dtype="float32")
        seq = np.empty((T, n, H), dtype="float32")                       # each layer's h over time
        for layer in range(N_LAYERS):
            gates_x = x.reshape(T * n, -1) @ w[f"w_ih{layer}"]         # input part of all steps at once
            gates_x += w[f"b{layer}"]
            gates_x = gates_x.reshape(T, n, 4 * H)
            w_hh = w[f"w_hh{layer}"]
            sig, i, f, o, gg = g[:, :3 * H], g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
            h = np.zeros((n, H), dtype="float32")
            c[:] = 0.0
            for t in range(T):
                np.matmul(h, w_hh, out=g)
                g += gates_x[t]
                np.tanh(g, out=g)
                sig *= 0.5
                sig += 0.5                                              # sigmoid of i, f, o
                c *= f
                c += np.multiply(i, gg, out=ig)
                h = seq[t]
                np.tanh(c, out=h)
                h *= o
            x = seq if layer < N_LAYERS - 1 else None
            if x is not None:
                seq = np.empty_like(seq)
        e = np.maximum(h @ w["linear_w"] + w["linear_b"], 0.0)
        norm = np.linalg.norm(e, axis=1, keepdims=True)
        return e / np.where(norm > 0, norm, 1.0)

    def embed(self, wav16k: np.ndarray, *, rate: float = 1.3, min_coverage: float = 0.75) -> np.ndarray:
        """Embedding of one utterance, shape ``(256,)``: Resemblyzer's ``embed_utterance`` on the
        waveform as given (partial utterances of 1.6 s, ``rate`` per second; a last partial that
        is at least ``min_coverage`` full is kept, zero-padded; their embeddings' mean,
        renormalised)."""
        y = _as_wav(wav16k)
        if not (0 < min_coverage <= 1):
            raise InputError(f"min_coverage must be in (0, 1], got {min_coverage!r}")
        frame_step = int(np.round((SAMPLE_RATE / rate) / HOP))
        if not (0 < frame_step <= PARTIAL_FRAMES):
            raise InputError(f"rate must give 1..{PARTIAL_FRAMES} frames between partials, got {rate!r}")
        n_frames = int(np.ceil((len(y) + 1) / HOP))
        starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + frame_step + 1), frame_step))
        coverage = (len(y) - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
        if coverage < min_coverage and len(starts) > 1:
            starts.pop()
        end = (starts[-1] + PARTIAL_FRAMES) * HOP
        if end >= len(y):
            y = np.pad(y, (0, end - len(y)))
        mel = mel_frames(y)
        partials = self.forward(np.stack([mel[s:s + PARTIAL_FRAMES] for s in starts]))
        return _unit(partials.mean(axis=0))

    def embed_windows(self, wav16k: np.ndarray, starts_s, window_s: float, *,
                      level_dbfs: float | None = DEFAULT_LEVEL_DBFS,
                      threads: int = 1) -> np.ndarray:
        """Embeddings of many windows of one recording at once: shape ``(len(starts_s), 256)``.

        Window ``i`` covers ``[starts_s[i], starts_s[i] + window_s)`` seconds: the mel frames
        centred there (``round(window_s * 100)`` frames from frame ``round(start * 100)`` of the
        whole recording's spectrogram, so a window's first and last frames see the audio around
        it, not zero padding; past the end of the recording is silence). A window of up to 1.6 s
        is one pass of the LSTM over exactly its frames (Resemblyzer would zero-pad it to 1.6 s);
        a longer one is cut into 1.6 s partials at most ~0.77 s apart, spread evenly from its
        start to its end, whose embeddings are averaged and renormalised. Windows are batched
        through the LSTM together.

        ``level_dbfs``: each window's audio is taken as if scaled so that its RMS over the window
        is this level (dB re full scale 1.0; its mel frames times the gain squared), up or down;
        a silent window is left as it is. The encoder hears mel power, so without this a voice's
        embedding moves with its loudness (10 dB quieter: cosine ~0.9 with itself, as far as two
        stretches of one voice usually are). ``None`` takes the audio as given.

        ``threads``: batches run on that many threads at once (numpy releases the GIL in the
        products; each batch is computed alone, so the numbers do not depend on it)."""
        y = _as_wav(wav16k)
        starts = np.asarray(starts_s, dtype="float64").reshape(-1)
        if not (np.isfinite(window_s) and window_s * SAMPLE_RATE / HOP >= 1):
            raise InputError(f"window_s must be at least {HOP / SAMPLE_RATE} s, got {window_s!r}")
        if not np.all(np.isfinite(starts) & (starts >= 0)):
            raise InputError("window starts must be finite and >= 0 s")
        if not len(starts):
            return np.zeros((0, EMBED_DIM), dtype="float32")
        n_win = int(round(window_s * SAMPLE_RATE / HOP))
        first = np.round(starts * SAMPLE_RATE / HOP).astype("int64")
        if n_win <= PARTIAL_FRAMES:
            offsets = np.array([0])
            part = n_win
        else:
            step = int(np.round((SAMPLE_RATE / 1.3) / HOP))
            n_parts = int(np.ceil((n_win - PARTIAL_FRAMES) / step)) + 1
            offsets = np.round(np.linspace(0, n_win - PARTIAL_FRAMES, n_parts)).astype("int64")
            part = PARTIAL_FRAMES
        need = int(first.max()) + n_win
        heard = y[:need * HOP + N_FFT // 2]                             # every sample a window uses
        power_gain = np.ones(len(starts))
        if level_dbfs is not None:
            if not np.isfinite(level_dbfs):
                raise InputError(f"level_dbfs must be a finite number or None, got {level_dbfs!r}")
            hops = np.zeros(need)                                       # energy of each 10 ms hop
            whole = min(len(y) // HOP, need)
            for h0 in range(0, whole, 1 << 16):  # in blocks: no float64 copy of the call
                h1 = min(whole, h0 + (1 << 16))
                hops[h0:h1] = np.square(y[h0 * HOP:h1 * HOP].reshape(-1, HOP),
                                        dtype="float64").sum(axis=1)
            if whole < need and len(y) > whole * HOP:
                hops[whole] = np.square(y[whole * HOP:], dtype="float64").sum()
            cum = np.concatenate([[0.0], np.cumsum(hops)])
            mean_square = (cum[first + n_win] - cum[first]) / (n_win * HOP)
            loud = mean_square > 0
            power_gain[loud] = 10 ** (level_dbfs / 10) / mean_square[loud]
        idx = (first[:, None] + offsets[None, :]).reshape(-1)          # (windows * partials,)
        out = np.empty((len(starts), EMBED_DIM), dtype="float32")
        per = max(1, self.batch // len(offsets))
        frames = np.arange(part)
        def batch(a: int) -> None:
            rows = idx[a * len(offsets):(a + per) * len(offsets)]
            # the spectrogram of this batch's stretch only: a whole call's would grow with it
            lo = int(rows.min())
            x = _mel_span(heard, lo, int(rows.max()) + part)[rows[:, None] - lo + frames[None, :]]
            x *= np.repeat(power_gain[a:a + per], len(offsets)).astype("float32")[:, None, None]
            e = self._forward(x)
            out[a:a + per] = _unit(e.reshape(-1, len(offsets), EMBED_DIM).mean(axis=1))

        firsts = range(0, len(starts), per)
        if threads <= 1 or len(firsts) < 2:
            for a in firsts:
                batch(a)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(threads, len(firsts))) as pool:
                list(pool.map(batch, firsts))
        return out


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.where(norm > 0, norm, 1.0)).astype("float32")
