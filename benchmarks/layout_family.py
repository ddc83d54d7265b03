"""Tile finding on a seeded family of generated call composites with known tiles (issue 14).

    .venv/bin/python benchmarks/layout_family.py [--seeds 6] [--only broadcast,pip,…]
                                                 [--draw /tmp/layout_family]

Each case is a pure function of its kind and seed (and of the photos present in
``../shared/images``), made by ``tests/layoutgen.py`` from real faces and written as an H.264
clip in a temporary folder (never in the repository):

* ``broadcast``: side by side, divider 1-8 px, logo, clock and lower-third caption on or off;
* ``gallery2x2`` / ``gallery3x3``: 2-4 / 2-8 people, the other cells camera-off, gaps 2-10 px;
* ``speaker``: one large tile and 2-3 thumbnails in a strip at the bottom or 2-4 on the right;
* ``pip``: one person fills the frame, an inset at the bottom right with a 0, 2 or 4 px frame;
* ``one_camera``: two people in one picture, no border between them;
* ``switch``: side by side, then speaker view, mid-call (8-12 s) or after the first 20 s
  (62-78 s of 120 s).

The faces rotate through the astronaut and the photos with the seed; the frames are 640x360,
1280x720 or 1920x1080. Each clip goes through ``cuekit.participants.tile_boxes`` with
``--layout auto``'s config, the layout stage of ``cuekit analyze`` (frames every 4 s of the
first 20 s, then a key frame every 30 s, found on 640-px frames, given in full-frame pixels).

Scoring per case: participants found / true; each true tile matched to the found tile that
overlaps it most, its error the largest of its four edges' distances as a share of the frame's
width (left, right) or height (top, bottom), right when <= 5 %; a layout change must be noted
(``layout changes`` in the notes) exactly when there is one, with the new layout starting within
a probe step of the true switch. A case is right when its count, every box and the change are.
Prints one line per case, then per kind and overall; CPU seconds of the whole run at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (ROOT, os.path.join(ROOT, "sample_media"), os.path.join(ROOT, "tests")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import layoutgen as gen  # noqa: E402

from cuekit import media, participants  # noqa: E402
from cuekit.config import AnalysisConfig  # noqa: E402

SHARED = os.path.join(os.path.dirname(ROOT), "shared")
SIZES = [(1280, 720), (640, 360), (1920, 1080)]
TOL = 0.05  # of the frame's width / height
KINDS = ["broadcast", "gallery2x2", "gallery3x3", "speaker", "pip", "one_camera", "switch"]
FPS = 1  # each picture is held to the next one's time: one frame a second is enough


@dataclass
class Truth:
    case: gen.Case
    end_s: float  # the clip's length; each picture is held from its time to the next one's
    change_s: float | None = None  # when the layout switches (None: it never does)
    late: bool = False  # the switch comes after the probe's first 20 s


def make_case(kind: str, seed: int, people: list[gen.Person]) -> Truth:
    rng = np.random.default_rng(1000 * KINDS.index(kind) + seed)
    k = seed % len(people)
    ps = people[k:] + people[:k]
    size = SIZES[seed % len(SIZES)]
    times = [4.0 * i for i in range(5)]  # what the probe samples in the first 20 s
    if kind == "broadcast":
        case = gen.broadcast(ps, n=5, divider=1 + seed % 8, seed=seed, size=size,
                             overlays=seed % 2 == 0)
    elif kind in ("gallery2x2", "gallery3x3"):
        side = 2 if kind == "gallery2x2" else 3
        cells = side * side
        filled = sorted(rng.choice(cells, int(rng.integers(2, cells + 1 - (side == 3))),
                                   replace=False).tolist())
        case = gen.gallery(ps, side, side, filled, n=5, gap=int(rng.integers(2, 11)), seed=seed,
                           size=size)
    elif kind == "speaker":
        strip = ("bottom", "right")[seed % 2]  # a bottom strip of 16:9 thumbnails holds 3
        thumbs = 2 + seed // 2 % (2 if strip == "bottom" else 3)
        case = gen.speaker(ps, strip=strip, thumbs=thumbs, n=5, gap=int(rng.integers(2, 7)),
                           seed=seed, size=size)
    elif kind == "pip":
        case = gen.pip(ps, n=5, border=(0, 2, 4)[seed % 3], seed=seed, size=size)
    elif kind == "one_camera":
        case = gen.one_camera(ps, n=5, seed=seed, size=size)
    else:
        return _switch(seed, ps, size)
    case.times = times
    return Truth(case, 20.0)


def _switch(seed: int, ps: list[gen.Person], size) -> Truth:
    """Side by side, then speaker view: mid-call (the switch at 8 or 12 s of 40 s) or late (at
    62-78 s of 120 s); the longer stretch is the one the tiles must come from."""
    late = seed % 2 == 1
    if late:
        change_s = (62.0, 70.0, 78.0)[seed // 2 % 3]
        before = [0.0, 30.0, 50.0]
        after = [change_s, 100.0]
        end_s = 120.0
    else:
        change_s = (8.0, 12.0)[seed // 2 % 2]
        before = [t for t in (0.0, 4.0, 8.0) if t < change_s]
        after = [change_s, change_s + 8.0, 30.0]
        end_s = 40.0
    case = gen.switch(ps, before=len(before), after=len(after), size=size)
    case.times = before + after
    a, b = case.segments[0][2], case.segments[1][2]
    case.segments = [(0.0, change_s, a), (change_s, end_s, b)]
    case.people = a if change_s > end_s - change_s else b
    return Truth(case, end_s, change_s, late)


def write(truth: Truth, path: str) -> None:
    """The case as a clip with a silent track: each picture held to the next one's time."""
    import synth

    times = np.asarray(truth.case.times)
    frames = [truth.case.frames[int(np.searchsorted(times, t, side="right")) - 1]
              for t in np.arange(0.0, truth.end_s, 1 / FPS)]
    synth.write_av(path, frames, FPS, np.zeros(int(truth.end_s * 16000), np.float32), 16000)


def box_error(found, true, W: int, H: int) -> float:
    """The largest distance of an edge, as a share of the frame's width or height."""
    fx0, fy0, fx1, fy1 = found[0], found[1], found[0] + found[2], found[1] + found[3]
    tx0, ty0, tx1, ty1 = true[0], true[1], true[0] + true[2], true[1] + true[3]
    return max(abs(fx0 - tx0) / W, abs(fx1 - tx1) / W, abs(fy0 - ty0) / H, abs(fy1 - ty1) / H)


def _iou(a, b) -> float:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def match(found: list, true: list) -> list[tuple[int, int | None]]:
    """Each true tile with the found tile that overlaps it most (each found tile used once)."""
    pairs = sorted(((_iou(f, t), i, j) for j, t in enumerate(true) for i, f in enumerate(found)),
                   reverse=True)
    used_f, out = set(), {}
    for iou, i, j in pairs:
        if iou > 0 and i not in used_f and j not in out:
            used_f.add(i)
            out[j] = i
    return [(j, out.get(j)) for j in range(len(true))]


def change_ok(truth: Truth, notes: list[str]) -> tuple[bool, str]:
    """Whether a layout change is noted exactly when there is one, starting near the truth."""
    changes = [n for n in notes if "layout changes" in n]
    if truth.change_s is None:
        return not changes, "spurious change" if changes else ""
    if len(changes) != 1:
        return False, "no change noted"
    starts = [float(a) for a in re.findall(r"(\d+(?:\.\d+)?)-\d+(?:\.\d+)? s:", changes[0])]
    slack = (-10.0, 35.0) if truth.late else (-4.0, 4.0)  # the probe's step there
    ok = len(starts) == 2 and truth.change_s + slack[0] <= starts[1] <= truth.change_s + slack[1]
    return ok, f"change at {starts[1:] or '?'} s"


def run_case(truth: Truth, path: str, draw: str | None, label: str) -> dict:
    case = truth.case
    write(truth, path)
    info = media.probe(path)
    notes: list[str] = []
    found = participants.tile_boxes(path, info, AnalysisConfig(layout="auto"), notes)
    W, H = info.width, info.height
    pairs = match(found, case.people)
    errors = [box_error(found[i], case.people[j], W, H) if i is not None else 1.0 for j, i in pairs]
    count_ok = len(found) == len(case.people)
    boxes_ok = count_ok and all(e <= TOL for e in errors)
    ch_ok, ch_text = change_ok(truth, notes)
    if draw and not (boxes_ok and ch_ok):
        _draw(case, found, os.path.join(draw, f"{label}.png"))
    return {"count_ok": count_ok, "boxes_ok": boxes_ok, "change_ok": ch_ok,
            "right": boxes_ok and ch_ok, "errors": errors, "found": len(found),
            "true": len(case.people), "change": ch_text}


def _draw(case: gen.Case, found: list, path: str) -> None:
    """The frame whose tiles are the truth, true tiles green, found tiles red."""
    import cv2

    later = bool(case.segments) and case.people is case.segments[1][2]
    img = case.frames[-1 if later else 0].copy()
    for x, y, w, h in case.people:
        cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), (0, 255, 0), 3)
    for x, y, w, h in found:
        cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), (0, 0, 255), 1)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cv2.imwrite(path, img)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=6, help="cases per kind (default 6)")
    ap.add_argument("--only", default=",".join(KINDS), help="kinds, comma-separated")
    ap.add_argument("--draw", help="folder for PNGs of the wrong cases (truth green, found red)")
    args = ap.parse_args()
    kinds = [k for k in args.only.split(",") if k]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        ap.error(f"unknown kinds {sorted(unknown)}; use {', '.join(KINDS)}")
    people = gen.people(os.path.join(SHARED, "images") if os.path.isdir(SHARED) else None)
    print(f"faces: {len(people)}; tolerance {TOL:.0%} of the frame")
    cpu0, wall0 = time.process_time(), time.time()
    results: dict[str, list[dict]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="layout_family_") as tmp:
        for kind in kinds:
            for seed in range(args.seeds):
                truth = make_case(kind, seed, people)
                label = f"{kind}_{seed}"
                r = run_case(truth, os.path.join(tmp, label + ".mp4"), args.draw, label)
                results[kind].append(r)
                h, w = truth.case.frames[0].shape[:2]
                errs = " ".join(f"{e:.3f}" for e in r["errors"])
                print(f"{kind:11s} seed {seed}  {w}x{h}  participants {r['found']}/{r['true']}  "
                      f"box errors [{errs}]  {r['change']:<18s} "
                      f"{'right' if r['right'] else 'WRONG'}", flush=True)
    print("\nkind        cases  count right  boxes right  change right  all right  "
          "median / worst box error")
    every = []
    for kind, rs in results.items():
        every += rs
        _summary(kind, rs)
    _summary("overall", every)
    print(f"\nCPU {time.process_time() - cpu0:.0f} s (this process), wall "
          f"{time.time() - wall0:.0f} s")


def _summary(name: str, rs: list[dict]) -> None:
    errs = [e for r in rs for e in r["errors"]]
    n = len(rs)
    print(f"{name:11s} {n:5d}  {sum(r['count_ok'] for r in rs):11d}  "
          f"{sum(r['boxes_ok'] for r in rs):11d}  {sum(r['change_ok'] for r in rs):12d}  "
          f"{sum(r['right'] for r in rs):9d}  {np.median(errs):.3f} / {max(errs):.3f}")


if __name__ == "__main__":
    main()
