"""Where the AMI excerpts' missed speech goes: overlap, pauses inside coarse reference
segments, or speech the voice activity detector did not hear.

    .venv/bin/python benchmarks/ami_misses.py

Runs cuekit's voice activity stage (the mixed track's Silero VAD joined with the segmentation
model's speech, as ``analyze`` does) on each
AMI excerpt of ``../shared/validation/ami`` and splits the reference's speaker time (0-30 s,
10 ms frames, overlap counted per speaker as in the DER) that no hypothesis speaker can cover:

* overlap: frames where VAD found speech but more than one reference speaker talks (a mixed
  track gives each moment to one voice, so all but one are missed);
* VAD miss, quiet: frames VAD called silence whose level is within ``QUIET_DB`` of the file's
  quiet floor (10th percentile of 30 ms frame levels): pauses the reference segments run
  through (its segments are coarse: few long ones);
* VAD miss, loud: the other frames VAD called silence, with the Silero probability there
  (how many a lower threshold would recover).

Percentages are of the reference speaker time, so they add up to the miss part of the DER
that the VAD sets (the diarization's own miss is only what it leaves out of these).
"""

from __future__ import annotations

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from validate import AMI_UEM, ami_items  # noqa: E402

from cuekit.audio import pipeline, voice  # noqa: E402
from cuekit.layout import Participant  # noqa: E402
from cuekit.params import OVERLAP, PITCH, VAD  # noqa: E402

SR = 16000
STEP_S = 0.01
QUIET_DB = 10.0


def _on(t: np.ndarray, intervals) -> np.ndarray:
    m = np.zeros(len(t), bool)
    for a, b in intervals:
        m |= (t >= a) & (t < b)
    return m


def main() -> int:
    keys = ("ref", "overlap", "quiet", "loud", "loud_p35")
    total = dict.fromkeys(keys, 0.0)
    print(f"{'file':8s} {'ref s':>6s} {'overlap':>8s} {'pauses':>8s} {'VAD miss':>9s} "
          f"{'of which p>=0.35':>17s}")
    for item in ami_items():
        y = pipeline.load_signals(item.path, [Participant("P1")], sr=SR)["mix"]
        gate = pipeline._vad_gate({"mix": y}, sr=SR)["mix"]
        track = pipeline._analyze_track(y, sr=SR, gate=gate, vad=VAD, pitch=PITCH, overlap=OVERLAP)
        t = np.arange(*AMI_UEM, STEP_S) + STEP_S / 2
        n_ref = sum(_on(t, [(a, b) for a, b, s in item.reference if s == who]).astype(int)
                    for who in {s for _, _, s in item.reference})
        heard = _on(t, track.speech)
        ft, level = voice.frame_level_db(y, sr=SR, frame_s=0.03, hop_s=STEP_S)
        level = np.interp(t, np.arange(len(level)) * STEP_S + 0.015, level)
        quiet = level < np.percentile(level, 10) + QUIET_DB
        prob = np.interp(t, track.vad_t, track.vad_prob)
        row = dict(ref=n_ref.sum(), overlap=np.where(heard, np.maximum(n_ref - 1, 0), 0).sum(),
                   quiet=np.where(~heard & quiet, n_ref, 0).sum(),
                   loud=np.where(~heard & ~quiet, n_ref, 0).sum(),
                   loud_p35=np.where(~heard & ~quiet & (prob >= 0.35), n_ref, 0).sum())
        row = {k: v * STEP_S for k, v in row.items()}
        for k in keys:
            total[k] += row[k]
        _print(item.file_id, row)
    _print("ALL", total)
    return 0


def _print(name: str, r: dict) -> None:
    pct = lambda k: f"{100 * r[k] / r['ref']:7.1f}%"  # noqa: E731
    print(f"{name:8s} {r['ref']:6.1f} {pct('overlap')} {pct('quiet')} {pct('loud'):>9s} "
          f"{pct('loud_p35'):>17s}")


if __name__ == "__main__":
    sys.exit(main())
