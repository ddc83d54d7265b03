"""A synthetic two-voice call with known turns (espeak-ng), and accuracy measures on it.

``synth_call`` is also used by ``benchmarks/bench_audio.py``. Truth speech intervals are
measured on each clean voice before mixing (frame level within 35 dB of the voice's peak,
silences shorter than 0.2 s bridged — the same pause definition the pipeline uses).
"""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

SR = 16000
VOICES = {"A": ("en-us", 50), "B": ("en-us+f3", 50)}  # ~102 Hz and ~212 Hz
# (speaker, text, rule, seconds): "gap" starts after the previous utterance ends (+gap);
# "overlap" starts that many seconds before the previous utterance ends (an interruption:
# the newcomer keeps the floor); "during" starts that long after the previous one started.
SCRIPT = [
    ("A", "Thanks for joining. I wanted to talk about the launch plan for next month.", "gap", 0.5),
    ("B", "Sure, I have looked at the draft and I have a few questions.", "gap", 0.7),
    ("A", "Great. The main risk is the supplier, because they have been late twice, and "
          "we need the parts before the end of the quarter.", "gap", 0.4),
    ("B", "Wait, have you asked them for a written schedule?", "overlap", 1.2),
    ("A", "Not yet. I will do that today and send it round to the team.", "gap", 0.6),
    ("B", "Yeah.", "during", 1.5),
    ("B", "Good. Then I think we are ready to go ahead with the plan.", "gap", 1.3),
]


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def espeak(text: str, *, voice: str, pitch: int, sr: int) -> np.ndarray:
    """espeak-ng speech as float32 mono at ``sr`` Hz (espeak's native rate is 22 050 Hz)."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "165", "--stdout",
                          text], check=True, capture_output=True).stdout
    y, sr0 = sf.read(io.BytesIO(wav), dtype="float32")
    return resample_poly(y, sr, sr0).astype("float32") if sr0 != sr else y


def speech_intervals(y: np.ndarray, *, sr: int, offset_s: float = 0.0,
                     bridge_s: float = 0.2) -> list[tuple[float, float]]:
    """Where a clean voice is audible: 20 ms frames within 35 dB of its peak level."""
    hop = int(0.01 * sr)
    n = len(y) // hop
    level = 10 * np.log10(np.mean(y[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    on = level > level.max() - 35
    out: list[tuple[float, float]] = []
    edges = np.diff(np.concatenate([[0], on.astype(int), [0]]))
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        a_s, b_s = offset_s + a * hop / sr, offset_s + b * hop / sr
        if out and a_s - out[-1][1] < bridge_s:
            out[-1] = (out[-1][0], b_s)
        else:
            out.append((a_s, b_s))
    return out


def synth_call(*, sr: int = SR, repeats: int = 1, noise_db: float = -60.0,
               crosstalk_db: float = -30.0) -> dict:
    """Render ``SCRIPT`` (``repeats`` times back to back).

    Returns ``mix`` (n,), ``channels`` (2, n: each voice plus the other's crosstalk),
    ``clean`` {speaker: (n,)}, ``truth`` {speaker: [(start_s, end_s)]} and ``interruptions``
    [(start_s, end_s, interrupter)] where an utterance begins before the previous one ends.
    """
    utter = {}
    placed = []  # (speaker, start sample, audio)
    t_end = 0
    for _ in range(repeats):
        prev_start = t_end
        for who, text, rule, sec in SCRIPT:
            voice, pitch = VOICES[who]
            y = utter.setdefault((who, text), espeak(text, voice=voice, pitch=pitch, sr=sr))
            y = y[_first_sound(y):]
            if rule == "gap":
                start = t_end + int(sec * sr)
            elif rule == "overlap":
                start = t_end - int(sec * sr)
            else:
                start = prev_start + int(sec * sr)
            placed.append((who, start, y))
            prev_start = start
            t_end = max(t_end, start + _last_sound(y))
    n = t_end + sr
    clean = {w: np.zeros(n, dtype="float32") for w in VOICES}
    truth: dict[str, list] = {w: [] for w in VOICES}
    for who, start, y in placed:
        clean[who][start: start + len(y)] += y[: n - start]
        truth[who] += speech_intervals(y, sr=sr, offset_s=start / sr)
    interruptions = []
    ends = {}
    for who, start, y in placed:
        other = next(w for w in VOICES if w != who)
        if other in ends and ends[other] > start / sr and ends[other] < (start + len(y)) / sr:
            interruptions.append((start / sr, ends[other], who))
        ends[who] = (start + _last_sound(y)) / sr
    rng = np.random.default_rng(0)
    noise = [rng.normal(0, 10 ** (noise_db / 20), n).astype("float32") for _ in range(3)]
    a, b = clean["A"], clean["B"]
    k = 10 ** (crosstalk_db / 20)
    return dict(sr=sr, mix=a + b + noise[0], channels=np.stack([a + k * b + noise[1],
                                                                b + k * a + noise[2]]),
                clean=clean, truth=truth, interruptions=interruptions, duration_s=n / sr)


def _first_sound(y: np.ndarray) -> int:
    loud = np.flatnonzero(np.abs(y) > 0.01 * np.abs(y).max())
    return int(loud[0]) if len(loud) else 0


def _last_sound(y: np.ndarray) -> int:
    loud = np.flatnonzero(np.abs(y) > 0.01 * np.abs(y).max())
    return int(loud[-1]) + 1 if len(loud) else len(y)


def boundary_errors_s(truth: list[tuple[float, float]], found: list[tuple[float, float]]
                      ) -> np.ndarray:
    """For every truth start (end), the distance to the nearest found start (end), seconds."""
    if len(found) == 0:  # a list of pairs or an (n, 2) interval array
        return np.full(2 * len(truth), np.inf)
    fs, fe = np.array(found).T
    return np.array([np.min(np.abs(fs - a)) for a, _ in truth]
                    + [np.min(np.abs(fe - b)) for _, b in truth])


def talk_shares(speech: dict[str, list[tuple[float, float]]]) -> dict[str, float]:
    total = {w: sum(b - a for a, b in iv) for w, iv in speech.items()}
    return {w: v / sum(total.values()) for w, v in total.items()}
