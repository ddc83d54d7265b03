"""End-to-end speed and memory of ``cuekit.session.analyze`` on long two-person 720p30 calls.

    .venv/bin/python benchmarks/bench_speed.py [--minutes 1 10] [--long] [--face-fps 10]
                                               [--pose-fps 1] [--cache DIR] [--no-floor]
                                               [--baseline CHECKOUT] [--workers 1 2]

For each length, builds (once, cached in ``--cache``) a two-person gallery call of 1280x720 at
30 fps with AAC audio by re-timing the bundled 60 s sample call to 30 fps (one H.264 encode) and
looping it (packets re-muxed, no re-encode), then, each in a fresh process, times a decode-only
pass (every video frame decoded, nothing converted; the audio track decoded and resampled to
16 kHz as the analysis does) and a full analysis at the default settings (or the rates given),
and prints one table:
video processes (``wk``), wall seconds, real-time factor, CPU seconds (all threads and child
processes) in all and per minute of call (the figure that carries from machine to machine),
ratio to the decode-only pass, peak resident memory (with video processes: of all of them at
once, sampled every 0.2 s), and seconds per stage (the video stages' as CPU seconds of the threads
that ran them, which a busy machine inflates far less than wall seconds); then how peak memory
grows per minute of call.
``--workers 1 2`` analyses each call once per process count, one after the other (so their
ratio is measured under the same load).
``--long`` adds the 30-minute call (several minutes). ``--baseline CHECKOUT`` also analyses each
call with another checkout of cuekit (its own ``.venv/bin/python`` and ``benchmarks/bench_speed.py``,
e.g. a ``git worktree`` of an older commit), its run right after this code's on the same file,
and prints its row beneath, marked ``base``.

Last, the floor (``--no-floor`` skips it): what the two models and the decoder cost per minute
of call at those rates, measured in a fresh process on the first minute's own frames
(CPU seconds of the whole process, one model call at a time, so nothing waits on anything),
and the real-time factor that cost would allow with every core busy and nothing else to do.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from fractions import Fraction

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "sample_media"))

SAMPLE = os.path.join(ROOT, "sample_media", "sample_call.mp4")
BASE_S = 60         # length of the re-timed sample call that is looped
FPS = 30
AUDIO_SR = 48000    # as a recorder writes it; the analysis resamples to 16 kHz
CRF = 23            # libx264 constant quality: ~0.4 Mbit/s for this content


def base_call(cache: str) -> str:
    """The sample call re-timed to 30 fps (frame i shows the sample at i / 30 s), 60 s long."""
    import numpy as np
    import synth

    from cuekit import media

    path = os.path.join(cache, f"call_{BASE_S}s_{FPS}fps.mp4")
    if os.path.exists(path):
        return path
    audio = media.load_audio(SAMPLE, sr=AUDIO_SR)
    audio = np.pad(audio, (0, max(0, BASE_S * AUDIO_SR - len(audio))))[:BASE_S * AUDIO_SR]

    def frames():
        src = media.iter_frames(SAMPLE, step_s=0)
        t_src, img = next(src)
        nxt = next(src, None)
        for i in range(BASE_S * FPS):
            while nxt is not None and nxt[0] <= i / FPS + 1e-6:
                t_src, img = nxt
                nxt = next(src, None)
            yield img

    tmp = path + ".part"
    synth.write_av(tmp, frames(), FPS, audio, AUDIO_SR, crf=CRF, audio_bitrate=96000)
    os.replace(tmp, path)
    return path


def long_call(cache: str, minutes: int) -> str:
    """``minutes`` of the base call looped end to end by re-muxing its packets."""
    import av

    base = base_call(cache)
    if minutes * 60 == BASE_S:
        return base
    path = os.path.join(cache, f"call_{minutes}min_{FPS}fps.mp4")
    if os.path.exists(path):
        return path
    tmp = path + ".part"
    with av.open(base) as src, av.open(tmp, "w", format="mp4") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams}
        last_dts = {i: None for i in streams}
        for loop in range(minutes * 60 // BASE_S):
            src.seek(0)
            for pkt in src.demux():
                if pkt.dts is None or pkt.size == 0:
                    continue
                shift = int(Fraction(loop * BASE_S) / pkt.time_base)
                pkt.dts += shift
                pkt.pts += shift
                if last_dts[pkt.stream.index] is not None and pkt.dts <= last_dts[pkt.stream.index]:
                    continue  # an encoder-delay packet overlapping the previous loop's tail
                last_dts[pkt.stream.index] = pkt.dts
                pkt.stream = streams[pkt.stream.index]
                out.mux(pkt)
    os.replace(tmp, path)
    return path


# ----------------------------------------------------------------------------- measured runs


def _decode_only(path: str) -> dict:
    import av

    from cuekit import media

    start = time.perf_counter()
    with av.open(path) as c:
        vs = c.streams.video[0]
        vs.thread_type = "AUTO"
        frames = sum(1 for _ in c.decode(vs))
    video_s = time.perf_counter() - start
    media.load_audio(path, sr=16000)
    return {"wall_s": time.perf_counter() - start, "video_s": video_s, "frames": frames}


class _TreeRss:
    """Peak resident memory of this process and its child processes together (the video stage's
    processes), sampled every 0.2 s."""

    def __init__(self) -> None:
        import threading

        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _rss_mb(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _tree(self) -> list[int]:
        me, kids = os.getpid(), []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                            kids.append(int(d))
                except (OSError, IndexError, ValueError):
                    pass
        return [me, *kids]

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_mb = max(self.peak_mb, sum(self._rss_mb(p) for p in self._tree()))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def _analysis(path: str, face_fps: float, pose_fps: float, workers: int | None = None) -> dict:
    from cuekit import session
    from cuekit.config import AnalysisConfig

    tree = _TreeRss()
    start = time.perf_counter()
    cs = session.analyze(path, AnalysisConfig(face_fps=face_fps, pose_fps=pose_fps),
                         workers=workers)
    wall = time.perf_counter() - start
    prov = cs.session["provenance"]
    video = prov["stages"].get("video", {})
    # the video stages' CPU seconds (their threads' own), or wall seconds from older code
    stages = video.get("cpu_seconds") or video.get("seconds", {})
    return {"wall_s": wall, "seconds": prov["seconds"], "video_stages": stages,
            "video_stages_cpu": "cpu_seconds" in video,
            "frames": video.get("frames"), "pose_frames": video.get("pose_frames"),
            "tree_rss_mb": max(tree.stop(), 0.0), "processes": video.get("processes", 1)}


def _floor(path: str, face_fps: float, pose_fps: float) -> dict:
    """CPU seconds per minute of call of the work no analysis at these rates can skip:
    decoding the sampled frames of the first minute, the face models (landmarks and blendshapes,
    with the crop of the face region) on every participant's face at ``face_fps`` and the pose
    models on every tile at ``pose_fps``. Per-call costs: each participant's own tracker on the
    regions it found in the first 20 s (found beforehand, so only the crop and the models are
    timed), pose on every other tile of the first 12 s; 10 warm-up calls each first."""
    from cuekit import media
    from cuekit.video.landmarks import FaceDetector, FaceLandmarker, PoseLandmarker
    from cuekit.video.track import FaceTrack

    def cpu_of(fn) -> float:
        start = time.process_time()
        fn()
        return time.process_time() - start

    def timed_calls(call, items: list) -> tuple[float, int]:
        """CPU seconds of ``call`` on each item after the first 10 (warm-up), and how many."""
        for item in items[:10]:
            call(item)
        rest = items[10:]
        start = time.process_time()
        for item in rest:
            call(item)
        return time.process_time() - start, len(rest)

    keep = int(20 * face_fps)
    sampled: list = []  # the first ``keep`` frames, for the models
    count = [0]

    def decode() -> None:
        for _, pic in media.iter_pictures(path, step_s=1.0 / face_fps, end_s=60.0,
                                          decode_threads=1):
            count[0] += 1
            if len(sampled) < keep:
                sampled.append(pic)

    decode_cpu = cpu_of(decode)
    if not sampled:
        raise SystemExit(f"no video frame decoded from {path}")
    minutes = count[0] / face_fps / 60.0
    with open(os.path.join(ROOT, "sample_media", "sample_call.truth.json")) as f:
        boxes = [tuple(p["box"]) for p in json.load(f)["participants"].values()]
    detector = FaceDetector()
    face_cpu, face_calls = 0.0, 0
    for box in boxes:
        track = FaceTrack(FaceLandmarker(), detector)
        regions = []
        for pic in sampled:
            tile, roi = pic.crop(box), track.roi
            if track.step(tile) is not None and roi is not None:
                regions.append((tile, roi))
        cpu, calls = timed_calls(lambda item, lm=track.landmarker: lm.detect(*item), regions)
        face_cpu, face_calls = face_cpu + cpu, face_calls + calls
        track.close()
    detector.close()
    pose_cpu, pose_calls = 0.0, 0
    for box in boxes:
        pose = PoseLandmarker()
        rgb = [pic.crop(box).rgb() for pic in sampled[:int(12 * face_fps):2]]
        cpu, calls = timed_calls(lambda img, model=pose: model.detect(img, 0), rgb)
        pose_cpu, pose_calls = pose_cpu + cpu, pose_calls + calls
        pose.close()
    face_ms, pose_ms = 1000 * face_cpu / face_calls, 1000 * pose_cpu / pose_calls
    n = len(boxes)
    models_cpu = 60 * n * (face_fps * face_ms + pose_fps * pose_ms) / 1000
    return {"face_ms": face_ms, "pose_ms": pose_ms, "participants": n,
            "decode_cpu_per_min": decode_cpu / minutes, "models_cpu_per_min": models_cpu}


def _child(kind: str, path: str, face_fps: float, pose_fps: float, workers: int | None) -> None:
    if kind == "decode":
        out = _decode_only(path)
    elif kind == "analysis":
        out = _analysis(path, face_fps, pose_fps, workers)
    else:
        out = _floor(path, face_fps, pose_fps)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    # this process's peak, or with video processes all of them at once (sampled)
    out["peak_rss_mb"] = max(usage.ru_maxrss / 1024, out.get("tree_rss_mb", 0.0))
    # all threads and child processes, imports included
    out["cpu_s"] = usage.ru_utime + usage.ru_stime + kids.ru_utime + kids.ru_stime
    print(json.dumps(out))


def _run(kind: str, path: str, face_fps: float, pose_fps: float, checkout: str | None = None,
         workers: int | None = None) -> dict:
    """One measured pass in a fresh interpreter, so peak memory is that pass's own; with
    ``checkout``, that checkout's interpreter and copy of this script."""
    python, script = sys.executable, os.path.abspath(__file__)
    if checkout:
        python = os.path.join(checkout, ".venv", "bin", "python")
        script = os.path.join(checkout, "benchmarks", "bench_speed.py")
    cmd = [python, script, "--child", kind, path,
           "--face-fps", str(face_fps), "--pose-fps", str(pose_fps)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{kind} of {path} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    from cuekit.config import DEFAULT_FACE_FPS, DEFAULT_POSE_FPS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, nargs="+", default=[1, 10],
                    help="call lengths in minutes (default: 1 10)")
    ap.add_argument("--long", action="store_true", help="also the 30-minute call")
    ap.add_argument("--face-fps", type=float, default=DEFAULT_FACE_FPS,
                    help=f"face cues per second per participant (default {DEFAULT_FACE_FPS:g})")
    ap.add_argument("--pose-fps", type=float, default=DEFAULT_POSE_FPS,
                    help=f"pose samples per second (default {DEFAULT_POSE_FPS:g})")
    ap.add_argument("--cache", default="/tmp/cuekit_bench", help="where the built calls are kept")
    ap.add_argument("--no-floor", action="store_true", help="skip the cost floor")
    ap.add_argument("--baseline", metavar="CHECKOUT",
                    help="another cuekit checkout (with its .venv) to run beside this code")
    ap.add_argument("--workers", type=int, nargs="+",
                    help="video processes to analyse each call with, one run per count in turn "
                         "(default: cuekit's default); the first is also the one whose memory "
                         "growth is reported")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    rates = (args.face_fps, args.pose_fps)
    if args.child:
        _child(*args.child, *rates, (args.workers or [None])[0])
        return
    os.makedirs(args.cache, exist_ok=True)
    minutes = sorted(set(args.minutes + ([30] if args.long else [])))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; call: 2 tiles, 1280x720, {FPS} fps; face "
          f"{args.face_fps:g} fps, pose {args.pose_fps:g} fps; load average "
          f"{os.getloadavg()[0]:.1f} at start")
    print(f"{'min':>4} {'wk':>2} {'wall s':>7} {'xRT':>6} {'cpu s':>7} {'cpu/min':>7} "
          f"{'decode s':>8} {'x decode':>8} {'RSS MB':>7}  seconds per stage (video stages: "
          "CPU seconds of their threads, summed over threads and processes; the others wall "
          "seconds)", flush=True)
    peaks = {}
    for m in minutes:
        path = long_call(args.cache, m)
        dec = _run("decode", path, *rates)
        runs = [("", None, w) for w in (args.workers or [None])]
        if args.baseline:
            runs.append(("base", args.baseline, None))
        for label, checkout, workers in runs:
            ana = _run("analysis", path, *rates, checkout, workers)
            stages = dict(ana["video_stages"])
            stages.update({k: v for k, v in ana["seconds"].items() if k != "video"})
            per = ("" if ana.get("video_stages_cpu") else "(wall) ") + " ".join(
                f"{k} {v:.1f}" for k, v in stages.items())
            print(f"{m:>4} {ana.get('processes', 1):>2} {ana['wall_s']:7.1f} "
                  f"{m * 60 / ana['wall_s']:6.1f} {ana['cpu_s']:7.1f} {ana['cpu_s'] / m:7.2f} "
                  f"{dec['wall_s']:8.1f} {ana['wall_s'] / dec['wall_s']:8.2f} "
                  f"{ana['peak_rss_mb']:7.0f}  {per} {label}", flush=True)
            if not checkout and m not in peaks:
                peaks[m] = ana["peak_rss_mb"]
    if len(peaks) > 1:  # memory: how peak RSS grows with the call's length (target: flat, <= 1 GB)
        lo, hi = min(peaks), max(peaks)
        slope = (peaks[hi] - peaks[lo]) / (hi - lo)
        print(f"peak RSS growth {slope:+.1f} MB per minute of call ({lo}→{hi} min); straight-line "
              f"extrapolation to 60 min: {peaks[hi] + slope * (60 - hi):.0f} MB", flush=True)
    if not args.no_floor:
        f = _run("floor", long_call(args.cache, 1), *rates)
        need = f["models_cpu_per_min"] + f["decode_cpu_per_min"]
        cores = os.cpu_count() or 1
        print(f"floor per minute of call: face models {f['face_ms']:.1f} ms x "
              f"{args.face_fps:g}/s x {f['participants']} + pose {f['pose_ms']:.1f} ms x "
              f"{args.pose_fps:g}/s x {f['participants']} = "
              f"{f['models_cpu_per_min']:.1f} CPU-s, decoding {f['decode_cpu_per_min']:.1f} "
              f"CPU-s; {need:.1f} CPU-s on {cores} cores allows at most "
              f"{60 * cores / need:.1f}x real time (audio, crops, motion and cues not counted)",
              flush=True)


if __name__ == "__main__":
    main()
