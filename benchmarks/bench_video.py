"""Speed of the frame pipeline: milliseconds per sampled frame for each stage and expression source.

Usage: python benchmarks/bench_video.py [VIDEO] [--face-fps 10] [--pose-fps 2]
Default VIDEO is sample_media/sample_call.mp4 with its two tiles (from the truth file); any
other video is analysed as one participant (whole frame). Prints one table per expression
source (blendshapes: the blendshape model runs too; geometry: landmarks only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from cuekit.layout import Participant  # noqa: E402
from cuekit.video.face import EXPRESSION_SOURCES  # noqa: E402
from cuekit.video.pipeline import analyze_video  # noqa: E402

SAMPLE = os.path.join(ROOT, "sample_media", "sample_call.mp4")


def participants_for(path: str) -> list[Participant]:
    truth = os.path.splitext(path)[0] + ".truth.json"
    if os.path.exists(truth):
        parts = json.load(open(truth))["participants"]
        return [Participant(n, tuple(p["box"])) for n, p in parts.items()]
    return [Participant("P1")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", nargs="?", default=SAMPLE)
    ap.add_argument("--face-fps", type=float, default=10.0)
    ap.add_argument("--pose-fps", type=float, default=2.0)
    args = ap.parse_args()
    parts = participants_for(args.video)
    print(f"{args.video}: {len(parts)} participant(s), face {args.face_fps} fps, "
          f"pose {args.pose_fps} fps")
    for source in EXPRESSION_SOURCES:
        start = time.perf_counter()
        res = analyze_video(args.video, parts, face_fps=args.face_fps, pose_fps=args.pose_fps,
                            expressions=source)
        wall = time.perf_counter() - start
        prov = res.provenance
        frames = prov["frames"]
        tile_frames = frames * len(parts)
        per = {"decode": frames, "face": tile_frames, "motion": tile_frames,
               "pose": max(prov["pose_frames"], 1), "cues": tile_frames}
        print(f"\n{prov['face_backend']} ({source}) + {prov['pose_backend']}: {frames} frames, "
              f"wall {wall:.1f} s")
        print(f"  {'stage':8s} {'total s':>8s} {'ms/frame':>9s}  (per)")
        for stage, sec in prov["seconds"].items():
            unit = "frame" if stage == "decode" else "tile-frame"
            print(f"  {stage:8s} {sec:8.2f} {1000 * sec / per[stage]:9.2f}  ({unit})")


if __name__ == "__main__":
    main()
