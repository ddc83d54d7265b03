"""Overlapped speech in the mixed-track diarization: DER with the overlap model off and at each
overlap threshold (``OverlapParams.min_probability``) on the validation recordings.

    .venv/bin/python benchmarks/overlap_sweep.py [--only ami ...] [--thresholds 0.5 0.3 0.2 0.1]

Runs ``benchmarks/validate.py``'s items (true speaker count given, and estimated) through
``cuekit.session.analyze`` once per setting; the VAD/pitch stage, the speaker embeddings and the
overlap probabilities are computed once per file and reused (each is the same in every
setting), so a setting costs the clustering and the outputs. Prints pooled (time-weighted) DER
per group and mode, the per-file DER, and the CPU seconds of the overlap model per minute of
audio (one thread).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import validate  # noqa: E402
from scoring import pooled_der, speaker_count  # noqa: E402

from cuekit.audio import embeddings, pipeline, segmentation  # noqa: E402
from cuekit.params import OVERLAP  # noqa: E402

OFF = 2.0  # a threshold no probability reaches: the overlap model changes nothing
CPU = {"s": 0.0, "audio_s": 0.0}


def _key(y: np.ndarray, *rest) -> tuple:
    return (hashlib.sha1(np.ascontiguousarray(y).tobytes()).hexdigest(), *rest)


def memoize() -> None:
    """Reuse each file's VAD/pitch track, embeddings and overlap probabilities across settings."""
    tracks: dict = {}
    analyze_track = pipeline._analyze_track

    def track(y, **kw):
        k = _key(y, kw["sr"], kw.get("overlap"))  # a track holds its overlapped speech
        if k not in tracks:
            tracks[k] = analyze_track(y, **kw)
        return tracks[k]
    pipeline._analyze_track = track

    embed = embeddings.SpeakerEncoder.embed_windows
    embedded: dict = {}

    def embed_windows(self, y16, starts, window_s, **kw):
        k = _key(y16, np.asarray(starts).tobytes(), window_s)
        if k not in embedded:
            embedded[k] = embed(self, y16, starts, window_s, **kw)
        return embedded[k]
    embeddings.SpeakerEncoder.embed_windows = embed_windows

    probability = segmentation.frame_probabilities

    @functools.wraps(probability)
    def frame_probabilities(y, *, step_s):
        k = _key(y, step_s)
        if k not in probs:
            t0 = time.process_time()
            probs[k] = probability(y, step_s=step_s)
            CPU["s"] += time.process_time() - t0
            CPU["audio_s"] += len(y) / segmentation.SAMPLE_RATE
        return probs[k]
    probs: dict = {}
    pipeline.frame_probabilities = frame_probabilities


def run(items, threshold: float) -> list[dict]:
    pipeline.OVERLAP = dataclasses.replace(OVERLAP, min_probability=threshold)
    rows = []
    for item in items:
        for n in [speaker_count(item.reference, item.uem), None]:
            rows.append(validate.run_one(item, n))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("ami", "pyaudioanalysis", "spokenwoz"), action="append")
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.5, 0.4, 0.3, 0.2, 0.1])
    args = ap.parse_args()
    memoize()
    settings = [OFF, *args.thresholds]
    with tempfile.TemporaryDirectory(prefix="cuekit-overlap-") as tmp:
        items = [it for g in (args.only or ["ami", "pyaudioanalysis", "spokenwoz"])
                 for it in validate.SOURCES[g](tmp)]
        results = {th: run(items, th) for th in settings}
    print(f"overlap model: {CPU['s']:.1f} CPU-s for {CPU['audio_s']:.0f} s of audio = "
          f"{60 * CPU['s'] / CPU['audio_s']:.2f} CPU-s per minute (step {OVERLAP.step_s} s)")
    groups = sorted({it.group for it in items})
    print("\npooled DER (time-weighted)      " + "  ".join(f"{g + ' ' + m:>24s}" for g in groups + ["ALL"]
                                                       for m in ("given", "estimated")))
    for th, rows in results.items():
        name = "off" if th == OFF else f"p>={th:g}"
        cells = []
        for g in groups + ["ALL"]:
            for m in ("given", "estimated"):
                sel = [r for r in rows if r["mode"] == m and (g == "ALL" or r["group"] == g)]
                p = pooled_der(sel)
                cells.append(f"{100 * p['der']:5.1f}% (miss {100 * p['miss']:4.1f})")
        print(f"{name:30s} " + "  ".join(f"{c:>24s}" for c in cells))
    print("\nper file DER (given / estimated)")
    files = [(it.file_id) for it in items]
    print(f"{'setting':22s} " + " ".join(f"{f[:11]:>11s}" for f in files))
    for th, rows in results.items():
        name = "off" if th == OFF else f"p>={th:g}"
        by = {(r["file"], r["mode"]): r["der"] for r in rows}
        print(f"{name:22s} " + " ".join(f"{100 * by[(f, 'given')]:5.1f}/{100 * by[(f, 'estimated')]:4.1f}"
                                        for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
