"""Expression cues on real faces: false smiles and brow episodes on neutral talkers, smiles found
on photos, for both expression sources (../shared; evaluation only).

    .venv/bin/python benchmarks/expressions_real.py [--fps 10]

Runs cuekit's frame pipeline (``cuekit.video.pipeline.analyze_video``, pose off) on:

* ``grid_10speakers_30s`` and ``grid_same_speaker_6s`` (../shared/media): real people reading
  GRID command sentences to the camera without smiling: every smile event is false.
* ``interview_splitscreen`` (../shared/validation/video), tiles found by cuekit's layout
  detection as ``cuekit.session.analyze`` finds them. The interviewer (the left tile, the
  anchor in the studio; the guest is the one gesturing with both hands, as the README says)
  is mostly neutral and talks: a target. The guest is reported, not scored (his frames show
  smiling speech at about 1-3.5 s).
* the photos (../shared/images), each as a one-frame video, labelled from the README's
  descriptions only: ``big smile`` (must be found), ``neutral`` (must not), ``slight smile``
  (reported, not scored). A photo has no event (one frame): "found" = ``expr.smile`` at or
  above the smile events' threshold.

Rates are per minute of face time (frames with a face x the frame step). Brow raise and furrow
episodes use the smile events' rule on ``expr.brow_raise`` / ``expr.brow_furrow``.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from cuekit import media, participants  # noqa: E402
from cuekit.config import AnalysisConfig  # noqa: E402
from cuekit.layout import Participant  # noqa: E402
from cuekit.video import events  # noqa: E402
from cuekit.video.face import EXPRESSION_SOURCES  # noqa: E402
from cuekit.video.pipeline import analyze_video  # noqa: E402

SHARED = os.path.join(os.path.dirname(ROOT), "shared")
GRID = [os.path.join(SHARED, "media", f) for f in
        ("grid_10speakers_30s.mp4", "grid_same_speaker_6s.mp4")]
INTERVIEW = os.path.join(SHARED, "validation", "video", "interview_splitscreen.mp4")
INTERVIEW_ROLES = ("interviewer", "guest")  # reading order of the tiles: left, right
PHOTOS = {  # from ../shared/README.md's descriptions
    "grace_hopper.jpg": "neutral",
    "luciano_cc0.png": "slight smile",
    "paul_rudd_smile_ccbysa2.jpeg": "big smile",
    "paul_rudd_turned_ccbysa2.jpeg": "slight smile",
    "chris_pratt_ccby2.jpeg": "slight smile",
}
SMILE_ON = inspect.signature(events.smiles).parameters["on"].default
TARGET_PER_MIN = 1.0


def episodes(t: np.ndarray, x: np.ndarray) -> int:
    """Episodes of a 0..1 expression cue by the smile events' rule (threshold, duration)."""
    return len(events.expression_episodes(t, x))


def cue_series(samples, name: str, cue: str) -> tuple[np.ndarray, np.ndarray]:
    s = samples[(samples["participant"] == name) & (samples["cue"] == cue)].sort_values("t")
    return s["t"].to_numpy("float64"), s["value"].to_numpy("float64")


def talkers(fps: float) -> list[tuple[str, str, bool, str, list[Participant]]]:
    """(file id, path, scored, role, participants) of each talking-face video."""
    out = []
    for path in GRID:
        if os.path.exists(path):
            out.append((os.path.basename(path)[:-4], path, True, "neutral talker",
                        [Participant("P1")]))
    if os.path.exists(INTERVIEW):
        boxes = participants.tile_boxes(INTERVIEW, media.probe(INTERVIEW), AnalysisConfig(face_fps=fps))
        if len(boxes) != 2:
            print(f"interview: layout detection found {len(boxes)} tiles, expected 2: {boxes}")
        parts = [Participant(role, box) for role, box in zip(INTERVIEW_ROLES, boxes, strict=False)]
        out.append(("interview_splitscreen", INTERVIEW, True, "tiles", parts))
    return out


def run_talkers(fps: float) -> list[dict]:
    rows = []
    for file_id, path, _, _, parts in talkers(fps):
        for source in EXPRESSION_SOURCES:
            res = analyze_video(path, parts, face_fps=fps, pose_fps=0, expressions=source)
            for p in parts:
                t, present = cue_series(res.samples, p.name, "face.present")
                minutes = float(np.sum(present > 0)) / fps / 60.0
                segs = res.segments
                smiles = segs[(segs["participant"] == p.name) & (segs["kind"] == "smile")]
                tr, raise_ = cue_series(res.samples, p.name, "expr.brow_raise")
                tf, furrow = cue_series(res.samples, p.name, "expr.brow_furrow")
                scored = p.name != "guest"
                rows.append(dict(file=file_id, who=p.name if file_id.startswith("interview")
                                 else "talker", source=source, scored=scored, minutes=minutes,
                                 smiles=len(smiles), raises=episodes(tr, raise_),
                                 furrows=episodes(tf, furrow),
                                 when=", ".join(f"{a:.1f}-{b:.1f}" for a, b in
                                                zip(smiles["start"], smiles["end"], strict=True))))
    return rows


def run_photos() -> list[dict]:
    rows = []
    for name, label in PHOTOS.items():
        path = os.path.join(SHARED, "images", name)
        if not os.path.exists(path):
            continue
        for source in EXPRESSION_SOURCES:
            res = analyze_video(path, [Participant("P1")], face_fps=10, pose_fps=0,
                                expressions=source)
            _, smile = cue_series(res.samples, "P1", "expr.smile")
            value = float(smile[0]) if len(smile) else float("nan")
            found = bool(value >= SMILE_ON)
            ok = {"big smile": found, "neutral": not found}.get(label)
            rows.append(dict(photo=name, label=label, source=source, smile=value, found=found,
                             ok=ok))
    return rows


def rate(n: float, minutes: float) -> str:
    return f"{n / minutes:6.1f}" if minutes > 0 else "   nan"


def report(rows: list[dict], photos: list[dict]) -> None:
    print(f"\nTalking faces (events per minute of face time; target: smiles <= {TARGET_PER_MIN:g}"
          "/min on scored neutral talkers)")
    print(f"{'file':24s} {'who':12s} {'source':11s} {'face s':>6s} {'smiles':>6s} {'/min':>6s}"
          f" {'raise/min':>9s} {'furrow/min':>10s}  smiles at (s)")
    for r in rows:
        print(f"{r['file']:24s} {r['who'] + ('' if r['scored'] else '*'):12s} {r['source']:11s} "
              f"{60 * r['minutes']:6.1f} {r['smiles']:6d} {rate(r['smiles'], r['minutes'])}"
              f" {rate(r['raises'], r['minutes']):>9s} {rate(r['furrows'], r['minutes']):>10s}"
              f"  {r['when']}")
    print("(* not scored: the guest; his frames show smiling speech at about 1-3.5 s)")
    for source in EXPRESSION_SOURCES:
        sel = [r for r in rows if r["source"] == source and r["scored"]]
        m = sum(r["minutes"] for r in sel)
        n = {k: sum(r[k] for r in sel) for k in ("smiles", "raises", "furrows")}
        print(f"aggregate neutral talkers, {source:11s}: {60 * m:5.1f} s of face, smiles "
              f"{n['smiles']} ({rate(n['smiles'], m).strip()}/min), brow raises "
              f"{rate(n['raises'], m).strip()}/min, furrows {rate(n['furrows'], m).strip()}/min")

    print(f"\nPhotos (found = expr.smile >= {SMILE_ON:g}; labels from ../shared/README.md)")
    print(f"{'photo':32s} {'label':13s} {'source':11s} {'smile':>6s} {'found':>6s}  verdict")
    for r in photos:
        verdict = {True: "ok", False: "WRONG", None: "-"}[r["ok"]]
        print(f"{r['photo']:32s} {r['label']:13s} {r['source']:11s} {r['smile']:6.2f} "
              f"{'yes' if r['found'] else 'no':>6s}  {verdict}")
    for source in EXPRESSION_SOURCES:
        sel = [r for r in photos if r["source"] == source]
        big = [r for r in sel if r["label"] == "big smile"]
        neutral = [r for r in sel if r["label"] == "neutral"]
        print(f"aggregate photos, {source:11s}: big smiles found {sum(r['found'] for r in big)}"
              f"/{len(big)}, neutral photos with a smile {sum(r['found'] for r in neutral)}"
              f"/{len(neutral)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fps", type=float, default=10.0, help="face frames per second (10)")
    args = ap.parse_args()
    if not os.path.isdir(SHARED):
        sys.exit(f"{SHARED} not found: this benchmark needs ../shared")
    report(run_talkers(args.fps), run_photos())


if __name__ == "__main__":
    main()
