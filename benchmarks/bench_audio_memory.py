"""Peak memory and CPU of the audio stage alone on long audio-only calls (issue 18: memory that
stops growing with the call's length).

    .venv/bin/python benchmarks/bench_audio_memory.py [--minutes 10 30 60 120] [--baseline CHECKOUT]

Each call is the sample call's audio (60 s, two voices) looped, AAC at 48 kHz as a recorder
writes it (built once into ``--cache``). Each analysis (``analyze_audio``, two speakers given)
runs in a process of its own, which prints its peak RSS (``ru_maxrss``, imports included) and
its CPU seconds. ``--baseline`` also runs another cuekit checkout beside this one, length by
length; ``--agree`` also reports how many of the call's windows the capped clustering tree
(``speakers.TREE_WINDOWS``) labels as a tree on all of them would.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "sample_media", "sample_call.mp4")
SR = 48000
BASE_S = 60


def audio_call(cache: str, minutes: int) -> str:
    """``minutes`` of the sample call's audio looped, as an AAC .m4a."""
    import av
    import numpy as np

    from cuekit import media

    path = os.path.join(cache, f"audio_call_{minutes}min.m4a")
    if os.path.exists(path):
        return path
    base = media.load_audio(SAMPLE, sr=SR)
    base = np.pad(base, (0, max(0, BASE_S * SR - len(base))))[:BASE_S * SR][None]
    tmp = path + ".part"
    with av.open(tmp, "w", format="mp4") as out:
        st = out.add_stream("aac", rate=SR)
        st.bit_rate, st.layout = 96000, "mono"
        for _ in range(minutes * 60 // BASE_S):
            for k in range(0, base.shape[1], 1024 * 50):
                frame = av.AudioFrame.from_ndarray(base[:, k:k + 1024 * 50], format="fltp",
                                                   layout="mono")
                frame.sample_rate = SR
                for pkt in st.encode(frame):
                    out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)
    os.replace(tmp, path)
    return path


def _child(path: str, agree: bool) -> None:
    from cuekit.audio.pipeline import analyze_audio
    from cuekit.layout import Participant

    cpu, wall = time.process_time(), time.perf_counter()
    r = analyze_audio(path, [Participant("A"), Participant("B")], sr=16000, speakers=2)
    out = {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "windows": r.provenance.get("voices_told_apart", {}).get("windows", 0)}
    if agree and getattr(r, "state", None):
        from cuekit.audio.speakers import cluster_embeddings

        emb = r.state["emb"]
        capped = cluster_embeddings(emb, speakers=2)
        out["agree"] = float((capped == cluster_embeddings(emb, speakers=2,
                                                           tree_windows=len(emb))).mean())
    print(json.dumps(out))


def _run(checkout: str, path: str, agree: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=checkout)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", path] + (["--agree"] * agree)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=int, nargs="+", default=[10, 30, 60, 120],
                    help="call lengths in minutes (whole minutes; default: 10 30 60 120)")
    ap.add_argument("--baseline", metavar="CHECKOUT", help="another cuekit checkout to run beside")
    ap.add_argument("--cache", default="/tmp/cuekit_bench",
                    help="where the built calls are kept")
    ap.add_argument("--agree", action="store_true",
                    help="also compare the capped clustering tree with a tree on all windows")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        sys.path.insert(0, os.environ.get("PYTHONPATH", ROOT))
        return _child(args.child, args.agree)
    sys.path.insert(0, ROOT)
    os.makedirs(args.cache, exist_ok=True)
    runs = [("this", ROOT)] + ([("baseline", args.baseline)] if args.baseline else [])
    print(f"{'call':>7} {'code':>8} {'windows':>7} {'peak RSS MB':>11} {'CPU s':>7} "
          f"{'CPU-s/min':>9} {'wall s':>7}" + ("  windows as the full tree" * args.agree))
    for m in args.minutes:
        path = audio_call(args.cache, m)
        for label, checkout in runs:
            r = _run(checkout, path, args.agree and label == "this")
            extra = f"  {r['agree']:.4f}" if "agree" in r else ""
            print(f"{m:>4} min {label:>8} {r['windows']:>7} {r['peak_rss_mb']:>11.0f} "
                  f"{r['cpu_s']:>7.1f} {r['cpu_s'] / m:>9.2f} {r['wall_s']:>7.1f}{extra}",
                  flush=True)


if __name__ == "__main__":
    main()
