"""Can a mixed track tell overlapped speech from one voice? Candidate cues on the AMI excerpts.

    .venv/bin/python benchmarks/overlap_cues.py

For every 10 ms frame of ``../shared/validation/ami`` (0-30 s) that cuekit's voice activity
calls speech and the reference gives to at least one speaker, the reference says whether two or
more people speak (overlap). Each cue's ROC AUC for overlap is printed per excerpt and pooled
(0.5: no better than chance; a cue that ranks overlap lower shows below 0.5):

* ``level``: the frame's level (50 ms) above the excerpt's median level in speech (two voices
  add up);
* ``aperiodicity``: YIN's deepest dip of the cumulative mean normalised difference, 70-400 Hz
  (two voices make the mixture less periodic);
* ``second_f0``: the same after cancelling the strongest period (``x[n] - x[n - T]``, de
  Cheveigné's cancellation), taken as ``1 - dip``: a second voice leaves a periodic residue;
* ``mixture``: per speaker-embedding window (``cuekit.audio.speakers``, the count given), how
  much nearer the window is to the normalised mean of two voices' centroids than to its nearest
  voice's, the largest of the windows covering the frame.

A usable overlap detector needs a cue well above 0.5; none of these was (README, "On real
recordings").
"""

from __future__ import annotations

import os
import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from scoring import speaker_count  # noqa: E402
from validate import AMI_UEM, ami_items  # noqa: E402

from cuekit.audio import pipeline, speakers  # noqa: E402
from cuekit.audio.embeddings import SpeakerEncoder  # noqa: E402
from cuekit.intervals import inside  # noqa: E402
from cuekit.layout import Participant  # noqa: E402
from cuekit.params import PITCH, VAD  # noqa: E402

SR = 16000
HOP_S = 0.01
FRAME_S = 0.05
FMIN_HZ, FMAX_HZ = 70.0, 400.0
CUES = ("level", "aperiodicity", "second_f0", "mixture")


def _cmndf(frames: np.ndarray, max_lag: int) -> np.ndarray:
    """YIN's cumulative mean normalised difference of each row, lags 0..max_lag."""
    width = frames.shape[1] - max_lag
    d = np.zeros((len(frames), max_lag + 1))
    for lag in range(1, max_lag + 1):
        d[:, lag] = ((frames[:, :width] - frames[:, lag:lag + width]) ** 2).sum(axis=1)
    out = np.ones_like(d)
    out[:, 1:] = d[:, 1:] * np.arange(1, max_lag + 1) / np.maximum(np.cumsum(d[:, 1:], axis=1),
                                                                   1e-12)
    return out


def signal_cues(y: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Frame centres (s) and the level, aperiodicity and second-f0 cues per frame."""
    min_lag, max_lag = int(SR / FMAX_HZ), int(SR / FMIN_HZ)
    width = int(FRAME_S * SR)
    frames = sliding_window_view(y, width + max_lag)[::int(HOP_S * SR)].astype("float64")
    c = _cmndf(frames, max_lag)
    lag = min_lag + np.argmin(c[:, min_lag:], axis=1)
    residue = np.stack([f[k:k + width] - f[:width] for f, k in zip(frames, lag, strict=True)])
    c2 = _cmndf(residue, width // 2)
    level = 10 * np.log10((frames[:, :width] ** 2).mean(axis=1) + 1e-12)
    t = np.arange(len(frames)) * HOP_S + (width + max_lag) / SR / 2
    return t, {"level": level, "aperiodicity": c[np.arange(len(c)), lag],
               "second_f0": 1.0 - c2[:, min_lag:].min(axis=1)}


def mixture_cue(t: np.ndarray, windows: np.ndarray, emb: np.ndarray, n: int) -> np.ndarray:
    labels = speakers.cluster_embeddings(emb, speakers=n)
    ids, c = speakers._centroids(emb, labels)
    sim = emb @ c.T
    gain = np.full(len(emb), -1.0)
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            m = (c[i] + c[j]) / np.linalg.norm(c[i] + c[j])
            gain = np.maximum(gain, emb @ m - sim.max(axis=1))
    out = np.full(len(t), -1.0)
    for (a, b), g in zip(windows, gain, strict=True):
        on = (t >= a) & (t < b)
        out[on] = np.maximum(out[on], g)
    return out


def auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by ranks (ties share their mean rank)."""
    from scipy.stats import rankdata

    r = rankdata(score)
    n1, n0 = positive.sum(), (~positive).sum()
    return float((r[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)) if n1 and n0 else np.nan


def main() -> int:
    encoder = SpeakerEncoder()
    pooled = {k: [] for k in (*CUES, "overlap")}
    print(f"{'file':8s} {'overlap':>8s} " + " ".join(f"{c:>13s}" for c in CUES))
    for item in ami_items():
        y = pipeline.load_signals(item.path, [Participant("P1")], sr=SR)["mix"]
        gate = pipeline._vad_gate({"mix": y}, sr=SR)["mix"]
        track = pipeline._analyze_track(y, sr=SR, gate=gate, vad=VAD, pitch=PITCH)
        t, cues = signal_cues(y)
        windows = speakers.voice_windows(track.speech)
        emb = encoder.embed_windows(y, windows[:, 0], speakers.WINDOW_S, threads=os.cpu_count())
        cues["mixture"] = mixture_cue(t, windows, emb, speaker_count(item.reference, item.uem))
        n_ref = sum(inside(t, [(a, b) for a, b, s in item.reference if s == who]).astype(int)
                    for who in {s for _, _, s in item.reference})
        scored = inside(t, track.speech) & (n_ref > 0) & (t >= AMI_UEM[0]) & (t < AMI_UEM[1])
        overlap = n_ref[scored] >= 2
        cues["level"] = cues["level"] - np.median(cues["level"][scored])
        row = {c: auc(overlap, cues[c][scored]) for c in CUES}
        for c in CUES:
            pooled[c].append(cues[c][scored])
        pooled["overlap"].append(overlap)
        print(f"{item.file_id:8s} {overlap.mean():8.2f} " + " ".join(f"{row[c]:13.2f}" for c in CUES))
    overlap = np.concatenate(pooled["overlap"])
    print(f"{'ALL':8s} {overlap.mean():8.2f} "
          + " ".join(f"{auc(overlap, np.concatenate(pooled[c])):13.2f}" for c in CUES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
