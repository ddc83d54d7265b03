"""How long an analysed 60-minute session takes to open in the dashboard.

Builds a synthetic two-person hour at the pipelines' rates (face cues at 10 Hz, voice cues at
20 Hz: ~1.7 M sample rows), stores it in a throw-away library with a media file of realistic size,
then times the session page the way Streamlit runs it (AppTest: the whole script, cold and warm
cache) and its parts: reading the cues, building the timeline, serialising it for the browser.

    .venv/bin/python benchmarks/bench_dashboard.py [--minutes 60] [--media-mb 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from test_store import MP4_HEAD, fake_analyze, make_cueset  # noqa: E402

from cuekit import charts, jobs, store  # noqa: E402

BUDGET_S = 2.0


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--media-mb", type=int, default=300,
                    help="size of the stand-in media file (st.video reads it whole)")
    args = ap.parse_args()

    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        os.environ[store.HOME_ENV] = tmp
        media = Path(tmp) / "call.mp4"
        with open(media, "wb") as f:
            f.write(MP4_HEAD)
            f.write(os.urandom(1 << 20) * args.media_mb)
        cs, build_s = _timed(lambda: make_cueset(args.minutes * 60))
        lib = store.Library(tmp)
        sid = lib.add_session(media, title="An hour", media_name="call.mp4")
        jobs.run_queue(lib, fake_analyze(cs))
        print(f"session: {args.minutes:.0f} min, {len(cs.samples):,} sample rows, "
              f"{len(cs.segments):,} segments, media {args.media_mb} MB "
              f"(synthesised in {build_s:.1f} s)")

        loaded, read_s = _timed(lambda: lib.load_cueset(sid))
        fig, figure_s = _timed(lambda: charts.timeline_figure(loaded, lib.notes(sid)))
        fig_json, json_s = _timed(fig.to_json)
        points = sum(len(tr.x) for tr in fig.data)
        print(f"  read cues        {read_s:6.2f} s")
        print(f"  timeline figure  {figure_s:6.2f} s  ({len(fig.data)} traces, {points:,} points, "
              f"{len(fig_json) / 1e6:.1f} MB JSON)")
        print(f"  figure to JSON   {json_s:6.2f} s")

        app = str(ROOT / "app.py")
        times = []
        for label in ("cold (first open)", "warm (cached cues)"):
            at = AppTest.from_file(app, default_timeout=120)
            at.query_params["session"] = sid
            _, page_s = _timed(at.run)
            if at.exception:
                print(at.exception[0].message)
                return 1
            times.append(page_s)
            print(f"  session page, {label:19s} {page_s:6.2f} s")
        verdict = "within" if times[0] <= BUDGET_S else "OVER"
        print(f"open time {times[0]:.2f} s cold, {times[1]:.2f} s warm: {verdict} the "
              f"{BUDGET_S:.0f} s budget")
    return 0 if times[0] <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
