"""Score an analysis of the bundled sample call against its ground truth and print a table.

    .venv/bin/python benchmarks/accuracy_sample_call.py [RESULT_DIR]

Without RESULT_DIR the sample call is analysed first (about half a minute).
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CALL = os.path.join(ROOT, "sample_media", "sample_call.mp4")
TRUTH = os.path.join(ROOT, "sample_media", "sample_call.truth.json")


def overlap_s(a: dict, b: dict) -> float:
    return max(0.0, min(a["end"], b["end"]) - max(a["start"], b["start"]))


def match_events(truth: list[dict], found: list[dict], slack_s: float = 0.5):
    """Pairs (truth, found) that overlap (with ``slack_s``), each used once; and the leftovers."""
    pairs, used = [], set()
    for t in truth:
        grown = {"start": t["start"] - slack_s, "end": t["end"] + slack_s}
        best = max((i for i in range(len(found)) if i not in used
                    and found[i]["participant"] == t.get("participant", found[i]["participant"])
                    and overlap_s(grown, found[i]) > 0),
                   key=lambda i: overlap_s(grown, found[i]), default=None)
        if best is not None:
            used.add(best)
            pairs.append((t, found[best]))
    return pairs, [f for i, f in enumerate(found) if i not in used]


def score(result, truth: dict) -> list[tuple[str, str, str]]:
    seg = result.segments
    rows = []

    def events(kind, participant=None):
        sel = seg[seg["kind"] == kind]
        if participant:
            sel = sel[sel["participant"] == participant]
        return sel.to_dict("records")

    # speech boundaries: each true utterance start/end against the nearest found boundary of the
    # same participant (an utterance with an inner pause is found as two segments)
    errs = []
    for t in truth["speech"]:
        found = events("speech", t["participant"])
        if found:
            errs.append(min(abs(f["start"] - t["start"]) for f in found))
            errs.append(min(abs(f["end"] - t["end"]) for f in found))
    rows.append(("speech boundaries", f"median error {np.median(errs) * 1000:.0f} ms, 90th "
                 f"percentile {np.percentile(errs, 90) * 1000:.0f} ms ({len(errs)} boundaries)",
                 "≤ 150 ms"))
    people = result.summary["participants"]
    share_err = max(abs(people[p].get("talk_share", math.nan) - truth["talk_share"][p])
                    for p in truth["talk_share"])
    rows.append(("talk share", f"max error {share_err * 100:.1f} points", "≤ 3 points"))
    for p, info in truth["participants"].items():
        est = people[p].get("pitch_median_hz", math.nan)
        st = 12 * math.log2(est / info["pitch_ref_hz"]) if est and est > 0 else math.nan
        rows.append((f"pitch {p}", f"{est:.1f} Hz vs {info['pitch_ref_hz']} Hz ({st:+.2f} st)",
                     "within 1 st"))
        rows.append((f"syllables {p}", f"{people[p].get('syllables', math.nan):.0f} "
                     f"vs {info['syllables']}", ""))
    for kind, key in (("nod", "nods"), ("shake", "shakes"), ("gaze_away", "gaze_away")):
        pairs, extra = match_events(truth[key], events(kind))
        still = [e for e in extra if any(overlap_s(e, s) > 0 for s in truth["still"])]
        rows.append((f"{kind} events", f"recall {len(pairs)}/{len(truth[key])}, "
                     f"{len(extra)} extra ({len(still)} in the still stretch)",
                     "recall ≥ 90%" if kind == "nod" else ""))
    for kind, key in (("overlap", "overlaps"), ("interruption", "interruptions"),
                      ("backchannel", "backchannels")):
        truth_ev = [dict(e, participant=e.get("interrupter", e.get("participant")))
                    if kind != "overlap" else e for e in truth[key]]
        found = events(kind)
        if kind == "overlap":
            found = [dict(f, participant=None) for f in found]
            truth_ev = [dict(t, participant=None) for t in truth_ev]
        pairs, extra = match_events(truth_ev, found, slack_s=0.3)
        err = [max(abs(f["start"] - t["start"]), abs(f["end"] - t["end"])) for t, f in pairs]
        rows.append((f"{kind}s", f"found {len(pairs)}/{len(truth_ev)}, {len(extra)} extra"
                     + (f", boundary error ≤ {max(err):.2f} s" if err else ""),
                     "every overlap ≥ 0.5 s, interrupter named" if kind != "backchannel" else ""))
    designed = [p for p in truth["pauses"] if p.get("designed")]
    pairs, _ = match_events(designed, events("pause"), slack_s=0.2)
    rows.append(("designed pause", ", ".join(f"{f['start']:.2f}–{f['end']:.2f} s (truth "
                 f"{t['start']:.2f}–{t['end']:.2f})" for t, f in pairs) or "not found", ""))
    pair = result.summary.get("pairs", {}).get("P1|P2", {})
    sway = truth["sway"]
    num = lambda key: math.nan if pair.get(key) is None else pair[key]  # None: not measured
    rows.append(("mirroring (sway)", f"leader {pair.get('leader') or '-'}, lag "
                 f"{num('lag_s'):.2f} s, synchrony {num('synchrony'):.2f}"
                 f" vs surrogate {num('synchrony_surrogate'):.2f}",
                 f"leader {sway['leader']}, lag {sway['lag_s']} ± 0.2 s"))
    mirrors = events("mirror")
    in_sway = [m for m in mirrors if overlap_s(m, sway) > 0]
    rows.append(("mirror segments", f"{len(mirrors)} in all, {len(in_sway)} inside the sway", ""))
    return rows


def main() -> None:
    sys.path.insert(0, ROOT)
    from cuekit import cueset, session

    truth = json.load(open(TRUTH))
    if len(sys.argv) > 1:
        result = cueset.read(sys.argv[1])
    else:
        result = session.analyze(CALL)
        print(f"analysed in {result.session['provenance']['seconds_total']:.1f} s")
    width = max(len(r[0]) for r in score(result, truth))
    for name, got, target in score(result, truth):
        print(f"{name:{width}}  {got}" + (f"   [target: {target}]" if target else ""))


if __name__ == "__main__":
    main()
