"""Who-speaks-when scoring for the validation harness (benchmark-side code, not the product).

The diarization error rate as NIST's md-eval computes it, on frames of ``step_s`` (10 ms):
per scored frame with ``n_ref`` reference and ``n_hyp`` hypothesis speakers active,

    miss        = max(0, n_ref - n_hyp)
    false alarm = max(0, n_hyp - n_ref)
    confusion   = min(n_ref, n_hyp) - (mapped pairs both active in that frame)

under the one-to-one mapping of hypothesis to reference speakers that maximises the matched
frames over the whole file (Hungarian assignment on the co-occurrence matrix). Each is summed
over frames and divided by the reference speech time (speaker-frames, so overlap counts twice).
With a collar, frames within ``collar_s`` of any reference speaker boundary are not scored
(md-eval's ``-c``), which is the only convention difference from the collar-free figure.

A frame ``i`` covers ``[uem0 + i*step, uem0 + (i+1)*step)``; a segment ``[start, end)`` is
active on frames ``round((start-uem0)/step)`` to ``round((end-uem0)/step)`` (exclusive), so
times on the 10 ms grid are scored exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment

Segment = tuple[float, float, str]  # (start_s, end_s, speaker)


def read_rttm(path: str) -> dict[str, list[Segment]]:
    """``{file_id: [(start, end, speaker), …]}`` from an RTTM file's ``SPEAKER`` lines.

    Lines with no duration or no speaker name (some files end with an empty placeholder line)
    are skipped; speaker names are kept as written (UTF-8)."""
    out: dict[str, list[Segment]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) < 8 or fields[0] != "SPEAKER":
                continue
            file_id, start, dur, speaker = fields[1], float(fields[3]), float(fields[4]), fields[7]
            if dur <= 0 or speaker == "<NA>":
                continue
            out.setdefault(file_id, []).append((start, start + dur, speaker))
    return out


def write_rttm(path: str, segments: Mapping[str, Iterable[Segment]]) -> None:
    """The inverse of :func:`read_rttm` (for looking at a hypothesis with other tools)."""
    with open(path, "w", encoding="utf-8") as f:
        for file_id, segs in segments.items():
            for start, end, speaker in sorted(segs):
                f.write(f"SPEAKER {file_id} 1 {start:.3f} {end - start:.3f} <NA> <NA> "
                        f"{speaker} <NA> <NA>\n")


def speakers(segments: Iterable[Segment], uem: tuple[float, float] | None = None) -> list[str]:
    """The speakers with some speech (inside ``uem`` when given), sorted by name."""
    lo, hi = uem if uem is not None else (-math.inf, math.inf)
    return sorted({s for a, b, s in segments if b > a and min(b, hi) > max(a, lo)})


def speaker_count(segments: Iterable[Segment], uem: tuple[float, float] | None = None) -> int:
    """How many speakers have some speech (inside ``uem`` when given)."""
    return len(speakers(segments, uem))


def speaker_seconds(segments: Iterable[Segment]) -> dict[str, float]:
    """Speech seconds per speaker (a speaker's own overlapping segments counted once)."""
    by: dict[str, list[tuple[float, float]]] = {}
    for a, b, s in segments:
        if b > a:
            by.setdefault(s, []).append((a, b))
    return {s: sum(b - a for a, b in merge(iv)) for s, iv in by.items()}


def merge(intervals: Iterable[tuple[float, float]], gap_s: float = 0.0
          ) -> list[tuple[float, float]]:
    """Sorted union of intervals; intervals closer than ``gap_s`` are joined too."""
    out: list[list[float]] = []
    for a, b in sorted(intervals):
        if out and (a <= out[-1][1] or a - out[-1][1] < gap_s):
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _activity(segments: Iterable[Segment], names: list[str], n: int, uem0: float, step_s: float
              ) -> np.ndarray:
    """Bool matrix (speaker × frame) of who is active on each frame."""
    act = np.zeros((len(names), n), bool)
    row = {s: i for i, s in enumerate(names)}
    for a, b, s in segments:
        i0 = max(0, int(round((a - uem0) / step_s)))
        i1 = min(n, int(round((b - uem0) / step_s)))
        if i1 > i0:
            act[row[s], i0:i1] = True
    return act


def _scored_frames(reference: list[Segment], n: int, uem0: float, step_s: float,
                   collar_s: float) -> np.ndarray:
    """Bool per frame: False within ``collar_s`` of a reference speaker's boundary."""
    scored = np.ones(n, bool)
    if collar_s <= 0:
        return scored
    by: dict[str, list[tuple[float, float]]] = {}
    for a, b, s in reference:
        by.setdefault(s, []).append((a, b))
    for iv in by.values():
        for a, b in merge(iv):  # a speaker's own touching segments make no boundary
            for t in (a, b):
                i0 = max(0, int(round((t - collar_s - uem0) / step_s)))
                i1 = min(n, int(round((t + collar_s - uem0) / step_s)))
                scored[i0:i1] = False
    return scored


def der(reference: Iterable[Segment], hypothesis: Iterable[Segment], *, collar_s: float = 0.0,
        step_s: float = 0.01, uem: tuple[float, float] | None = None) -> dict:
    """Diarization error rate of ``hypothesis`` against ``reference`` (lists of
    ``(start, end, speaker)``; speaker names of the two need not match).

    ``uem`` = (start, end) of the scored region; default: from 0 to the last segment's end.
    Returns seconds (``reference_s``, ``miss_s``, ``false_alarm_s``, ``confusion_s``,
    ``scored_s``: time scored after the collar), fractions of reference speech (``miss``,
    ``false_alarm``, ``confusion``, ``der``; NaN when the reference has no speech), the
    ``mapping`` {hypothesis speaker: reference speaker} and the speaker counts in the region.
    """
    reference = [(float(a), float(b), str(s)) for a, b, s in reference]
    hypothesis = [(float(a), float(b), str(s)) for a, b, s in hypothesis]
    if uem is None:
        uem = (0.0, max([b for _, b, _ in reference + hypothesis], default=0.0))
    uem0, uem1 = float(uem[0]), float(uem[1])
    n = max(0, int(round((uem1 - uem0) / step_s)))
    ref_names, hyp_names = speakers(reference, uem), speakers(hypothesis, uem)
    ref = _activity(reference, ref_names, n, uem0, step_s)
    hyp = _activity(hypothesis, hyp_names, n, uem0, step_s)
    scored = _scored_frames(reference, n, uem0, step_s, collar_s)
    ref, hyp = ref[:, scored], hyp[:, scored]

    n_ref, n_hyp = ref.sum(0), hyp.sum(0)
    miss = np.maximum(0, n_ref - n_hyp).sum()
    fa = np.maximum(0, n_hyp - n_ref).sum()
    mapping: dict[str, str] = {}
    matched = 0
    if ref_names and hyp_names:
        co = ref.astype(np.int64) @ hyp.T.astype(np.int64)  # frames ref r and hyp h share
        rows, cols = linear_sum_assignment(co, maximize=True)
        matched = int(co[rows, cols].sum())
        mapping = {hyp_names[c]: ref_names[r] for r, c in zip(rows, cols, strict=True)
                   if co[r, c] > 0}
    confusion = int(np.minimum(n_ref, n_hyp).sum()) - matched
    total = int(n_ref.sum())
    frac = (lambda x: x / total) if total else (lambda x: math.nan)
    return {
        "reference_s": total * step_s,
        "scored_s": int(scored.sum()) * step_s,
        "miss_s": int(miss) * step_s,
        "false_alarm_s": int(fa) * step_s,
        "confusion_s": confusion * step_s,
        "miss": frac(int(miss)),
        "false_alarm": frac(int(fa)),
        "confusion": frac(confusion),
        "der": frac(int(miss) + int(fa) + confusion),
        "mapping": mapping,
        "ref_speakers": len(ref_names),
        "hyp_speakers": len(hyp_names),
    }


def pooled_der(results: Iterable[Mapping]) -> dict:
    """Total-time-weighted DER over files: the errors summed over reference speech summed."""
    results = list(results)
    total = sum(r["reference_s"] for r in results)
    out = {"reference_s": total}
    for key in ("miss", "false_alarm", "confusion"):
        out[key + "_s"] = sum(r[key + "_s"] for r in results)
        out[key] = out[key + "_s"] / total if total else math.nan
    out["der"] = out["miss"] + out["false_alarm"] + out["confusion"] if total else math.nan
    return out


__all__ = ["Segment", "der", "merge", "pooled_der", "read_rttm", "speaker_count",
           "speaker_seconds", "speakers", "write_rttm"]
