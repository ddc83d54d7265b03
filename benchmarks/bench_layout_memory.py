"""Peak memory and CPU of finding the tiles on a long call's probe frames.

    .venv/bin/python benchmarks/bench_layout_memory.py [--frames 125] [--width 1280]

``layout.detect_tiles`` on as many frames as ``participants.tile_boxes`` samples from a call
(125 for 60 minutes: every 4 s of the first 20 s, then one every 30 s), here a broadcast split
screen of real photos (``tests/layoutgen.py``) at the layout probe's width, 16:9. Prints the
process's peak RSS before and after the call, and the call's CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import layoutgen  # noqa: E402

from cuekit import layout  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=125)
    ap.add_argument("--width", type=int, default=1280)
    args = ap.parse_args()
    size = (args.width, args.width * 9 // 16)
    shared = os.path.join(os.path.dirname(ROOT), "shared", "images")
    case = layoutgen.broadcast(layoutgen.people(shared if os.path.isdir(shared) else None),
                               n=5, size=size)
    frames = [case.frames[i % 5].copy() for i in range(args.frames)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.process_time()
    guess = layout.detect_tiles(frames, [4.0 * i for i in range(args.frames)])
    cpu = time.process_time() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.frames} frames {size[0]}x{size[1]}: {len(guess.boxes)} tiles; peak RSS "
          f"{peak:.0f} MB ({before:.0f} MB before the call: +{peak - before:.0f} MB), {cpu:.1f} CPU-s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
