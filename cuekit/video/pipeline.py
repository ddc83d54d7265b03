"""The frame pipeline: decode once, follow each participant's face and body, emit cue tables.

Decoding runs on the calling thread; the models run on worker threads (LiteRT, OpenCV and
FFmpeg release the GIL, so two cores work at once), each worker owning some participants and
their models and seeing every sampled frame in order through a short queue (so at most
``QUEUE_FRAMES`` decoded frames per worker are held at once).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from .. import media
from ..cues import StreamResult, concat_samples, make_segments
from ..errors import InputError
from ..layout import Participant
from . import body
from .assemble import FaceFrames, FaceSeries, PoseSeries, participant_tables
from .face import EXPRESSION_SOURCES
from .landmarks import FACE_BACKEND, POSE_BACKEND, FaceDetector, FaceLandmarker, PoseLandmarker
from .track import FaceTrack

N_POSE_POINTS = 33
POSE_MIN_PX = 256  # tiles smaller than this (height) are upscaled for the pose model
QUEUE_FRAMES = 4   # sampled frames waiting per worker (a 720p YUV 4:2:0 frame is 1.4 MB)


class _Timer:
    """Seconds spent per stage: wall-clock (``seconds``) and CPU of the timing thread
    (``cpu_seconds``; on a shared machine wall time swells with the load, CPU time far less)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + time.thread_time() - cpu

    def add(self, other: _Timer) -> None:
        """Add ``other``'s seconds to this timer's, stage by stage."""
        for mine, theirs in ((self.seconds, other.seconds),
                             (self.cpu_seconds, other.cpu_seconds)):
            for stage, sec in theirs.items():
                mine[stage] = mine.get(stage, 0.0) + sec


class _Recorder:
    """One participant's trackers and what they saw, frame by frame. The face is kept as a
    dozen measures per frame (``FaceFrames``), not as landmarks, so memory barely grows with
    the call's length."""

    def __init__(self, p: Participant, expressions: str, detector: FaceDetector,
                 with_pose: bool) -> None:
        self.name, self.box = p.name, p.box
        self.face = FaceTrack(FaceLandmarker(blendshapes=expressions == "blendshapes"), detector)
        self.pose = PoseLandmarker() if with_pose else None
        self.frames = FaceFrames(expressions)
        self.prev_gray: np.ndarray | None = None
        self.pose_t: list[float] = []
        self.pose_points: list[np.ndarray | None] = []
        self.pose_vis: list[np.ndarray | None] = []

    def step(self, picture: media.Picture, t: float, with_pose: bool, timer: _Timer) -> None:
        """Face, motion and (when ``with_pose``) pose of this participant's tile of a frame."""
        tile = picture.crop(self.box)
        with timer.stage("face"):
            self.face_step(tile, t)
        with timer.stage("motion"):
            self.motion_step(tile)
        if with_pose:
            with timer.stage("pose"):
                self.pose_step(tile, t)

    def face_step(self, tile: media.Picture, t: float) -> None:
        found = self.face.step(tile)
        if found is None:
            self.frames.add(t, None, None)
        else:
            self.frames.add(t, found.points, found.blendshapes)

    def motion_step(self, tile: media.Picture) -> None:
        gray = body.motion_gray(tile.gray(shrink=body.motion_shrink(tile.width)))
        self.frames.motion.append(body.motion_energy(self.prev_gray, gray))
        self.prev_gray = gray

    def pose_step(self, tile: media.Picture, t: float) -> None:
        rgb = tile.rgb()
        scale = max(1.0, POSE_MIN_PX / tile.height)
        if scale > 1:
            rgb = cv2.resize(rgb, None, fx=scale, fy=scale)
        found = self.pose.detect(rgb, int(round(t * 1000)))
        self.pose_t.append(t)
        self.pose_points.append(None if found is None else found.points / scale)
        self.pose_vis.append(None if found is None else found.visibility)

    def series(self) -> tuple[FaceSeries, PoseSeries | None]:
        fs = self.frames.series()
        if self.pose is None:
            return fs, None
        ps = PoseSeries(np.asarray(self.pose_t, dtype="float64"),
                        _stack(self.pose_points, (N_POSE_POINTS, 3)),
                        _stack(self.pose_vis, (N_POSE_POINTS,)))
        return fs, ps

    def close(self) -> None:
        self.face.close()
        if self.pose is not None:
            self.pose.close()


class _Worker(threading.Thread):
    """Runs the models of some participants on every sampled frame, in order, timing each
    stage."""

    def __init__(self, recs: list[_Recorder], pose_every: int) -> None:
        super().__init__(daemon=True)
        self.recs, self.pose_every = recs, pose_every
        self.frames: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self.timer = _Timer()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while (item := self.frames.get()) is not None:
                n, t, frame = item
                with_pose = bool(self.pose_every) and n % self.pose_every == 0
                for rec in self.recs:
                    rec.step(frame, t, with_pose, self.timer)
        except BaseException as e:  # handed to the decoding thread, which raises it
            self.error = e
            while self.frames.get() is not None:  # keep taking frames: the decoder never blocks
                pass

    def close(self) -> None:
        for rec in self.recs:
            rec.close()


def _stack(items: list[np.ndarray | None], shape: tuple[int, ...], dtype: str = "float64",
           ) -> np.ndarray:
    """(n, *shape) array with NaN where an item is None."""
    out = np.full((len(items), *shape), np.nan, dtype=dtype)
    for i, v in enumerate(items):
        if v is not None:
            out[i] = v
    return out


def _check(participants: list[Participant], face_fps: float, pose_fps: float,
           expressions: str) -> None:
    if expressions not in EXPRESSION_SOURCES:
        raise InputError(f"expressions must be one of {', '.join(EXPRESSION_SOURCES)}, "
                         f"got {expressions!r}")
    if not participants:
        raise InputError("participants is empty: give at least one Participant")
    if not (0.5 <= face_fps <= 60):
        raise InputError(f"face_fps must be in 0.5..60 frames per second, got {face_fps!r}")
    if not (0 <= pose_fps <= face_fps):
        raise InputError(f"pose_fps must be in 0..face_fps ({face_fps}), got {pose_fps!r}")
    names = [p.name for p in participants]
    if len(set(names)) != len(names):
        raise InputError(f"participant names must be distinct, got {names}")


def analyze_video(path: str, participants: list[Participant], *, face_fps: float, pose_fps: float,
                  expressions: str = "blendshapes",
                  hook: Callable[[str, int, int], None] | None = None,
                  workers: int | None = None, duration_s: float | None = None,
                  processes: int = 1) -> StreamResult:
    """Visual cues of every participant of a recording.

    Decodes once at ``face_fps`` frames per second, crops each participant's tile (``box``; None =
    the whole frame), runs the face landmarker and motion energy on every sampled frame and pose
    on every k-th (k = round(face_fps / pose_fps); ``pose_fps=0`` = no pose).
    ``expressions``: the ``expr.*`` cues from the Face Landmarker's ``blendshapes`` (default)
    or from landmark ``geometry`` (the blendshape model is then not run). ``workers``: threads
    running the models, each owning whole participants (default: one per participant, at most
    one per CPU core); results do not depend on it.
    ``processes`` > 1: the call is cut into that many stretches of time, each recorded in a
    process of its own (:func:`_record_chunked`; each starts :data:`WARM_S` early so its trackers
    are settled when its stretch begins) and the per-frame measures are joined before any cue
    or event is made, so an event across a cut comes out once and whole; results equal the
    single process's within the face model's own noise (tests/test_speed_equivalence.py).
    ``hook("video", done, total)`` reports progress about every 1% of frames, from the calling
    thread; ``duration_s`` (the recording's, when the caller has probed it) sizes that total.

    Returns samples (cue names of ``cuekit.cues.CUES``; NaN where there is no face or body),
    segments (nod, shake, blink, smile, gaze_away), a per-participant summary and provenance
    (backends, rates, frames, workers, and per stage, summed over the threads: wall
    ``seconds`` and the threads' ``cpu_seconds``).
    """
    _check(participants, face_fps, pose_fps, expressions)
    if duration_s is None:
        duration_s = media.probe(path).duration_s
    total = max(1, int(duration_s * face_fps))
    pose_every = max(1, round(face_fps / pose_fps)) if pose_fps > 0 else 0
    cuts = chunk_bounds(duration_s, processes, face_fps, pose_every)
    if len(cuts) > 2:
        rec = _record_chunked(path, participants, face_fps, pose_every, expressions, cuts,
                              workers, hook, total)
    else:
        rec = _record(path, participants, face_fps, pose_every, expressions, workers,
                      _Progress(hook, total))
    timer = _Timer()
    timer.add(rec.timer)

    with timer.stage("cues"):
        samples, rows, summary = [], [], {}
        for p in participants:
            s, r, summary[p.name] = participant_tables(p.name, *rec.series[p.name], expressions)
            samples.append(s)
            rows += r
        samples = concat_samples(samples)
        segments = make_segments(rows)
    if hook is not None:
        hook("video", total, total)
    provenance = {"face_backend": FACE_BACKEND, "expressions": expressions,
                  "pose_backend": POSE_BACKEND if pose_every else None,
                  "face_fps": float(face_fps), "pose_fps": float(pose_fps), "frames": rec.frames,
                  "pose_frames": sum(len(ps.t) for _, ps in rec.series.values()
                                     if ps is not None),
                  "workers": rec.workers, "processes": len(cuts) - 1,
                  "seconds": {k: round(v, 3) for k, v in timer.seconds.items()},
                  "cpu_seconds": {k: round(v, 3) for k, v in timer.cpu_seconds.items()}}
    return StreamResult(samples=samples, segments=segments, provenance=provenance, summary=summary)


WARM_S = 5.0          # a chunk's trackers start this early (seconds of the stretch before it)
MIN_CHUNK_S = 60.0    # calls are not cut into stretches shorter than this


@dataclass
class _Recording:
    """What the trackers saw: per participant (FaceSeries, PoseSeries or None), frames decoded
    (warm-up frames included), model threads and the stages' seconds summed over threads."""

    series: dict[str, tuple[FaceSeries, PoseSeries | None]]
    frames: int
    workers: int
    timer: _Timer


class _Progress:
    """Calls ``hook("video", done, total)`` about every 1% of frames; in a chunk's process,
    adds its frames to a counter shared with the parent instead."""

    def __init__(self, hook, total: int, counter=None) -> None:
        self.hook, self.total, self.counter = hook, total, counter
        self.every = max(1, total // 100)

    def __call__(self, n: int) -> None:
        if n % self.every:
            return
        if self.counter is not None:
            with self.counter.get_lock():
                self.counter.value += self.every
        elif self.hook is not None:
            self.hook("video", min(n, self.total), self.total)


def chunk_bounds(duration_s: float, processes: int, face_fps: float, pose_every: int,
                 ) -> list[float]:
    """Cut points ``[0, c1, …, duration]`` for ``processes`` stretches of about equal length,
    each at least :data:`MIN_CHUNK_S`; every cut (and every chunk's warm-up start) falls on a
    whole pose period, so each process samples face and pose on the frames one process would.
    ``[0, duration]``: no cut."""
    period = (pose_every or 1) / face_fps
    n = max(1, min(int(processes or 1), int(duration_s // MIN_CHUNK_S)))
    cuts = [0.0]
    for k in range(1, n):
        cuts.append(round(k * duration_s / n / period) * period)
    cuts.append(float(duration_s))
    return cuts


def _record(path: str, participants: list[Participant], face_fps: float, pose_every: int,
            expressions: str, workers: int | None, progress: _Progress,
            start_s: float = 0.0, keep_s: float = 0.0, end_s: float | None = None,
            threads_cap: int | None = None) -> _Recording:
    """Decode ``[start_s, end_s)`` at ``face_fps`` and run every participant's trackers on it;
    keep what they saw from ``keep_s`` on (the frames before only settle the trackers)."""
    cores = threads_cap or os.cpu_count() or 1
    n_workers = max(1, min(len(participants), workers or cores))
    timer = _Timer()
    pool = []
    detector = FaceDetector()  # re-seeds lost faces, rarely: one for all, behind a lock
    try:
        for k in range(n_workers):
            recs = [_Recorder(p, expressions, detector, pose_every > 0)
                    for p in participants[k::n_workers]]
            pool.append(_Worker(recs, pose_every))
        for w in pool:
            w.start()
        n = _feed(path, face_fps, pool, timer, progress, start_s, end_s)
    finally:
        for w in pool:
            if w.is_alive():
                w.frames.put(None)
                w.join()
            w.close()
        detector.close()
    for w in pool:
        if w.error is not None:
            raise w.error
        timer.add(w.timer)
    series = {}
    for w in pool:
        for rec in w.recs:
            fs, ps = rec.series()
            series[rec.name] = (_face_from(fs, keep_s), _pose_from(ps, keep_s))
    return _Recording(series, n, n_workers, timer)


def _face_from(fs: FaceSeries, t0: float) -> FaceSeries:
    keep = fs.t >= t0 - 1e-6
    if keep.all():
        return fs
    return FaceSeries(fs.t[keep], None, None, fs.motion[keep],
                      {k: v[keep] for k, v in fs.features.items()})


def _pose_from(ps: PoseSeries | None, t0: float) -> PoseSeries | None:
    if ps is None:
        return None
    keep = ps.t >= t0 - 1e-6
    return ps if keep.all() else PoseSeries(ps.t[keep], ps.points[keep], ps.visibility[keep])


def _joined(parts: list[tuple[FaceSeries, PoseSeries | None]],
            ) -> tuple[FaceSeries, PoseSeries | None]:
    faces = [f for f, _ in parts]
    fs = FaceSeries(np.concatenate([f.t for f in faces]), None, None,
                    np.concatenate([f.motion for f in faces]),
                    {k: np.concatenate([f.features[k] for f in faces]) for k in faces[0].features})
    poses = [p for _, p in parts]
    if poses[0] is None:
        return fs, None
    return fs, PoseSeries(np.concatenate([p.t for p in poses]),
                          np.concatenate([p.points for p in poses]),
                          np.concatenate([p.visibility for p in poses]))


_CHILD_COUNTER = None


def _child_init(counter) -> None:
    global _CHILD_COUNTER
    _CHILD_COUNTER = counter


def _record_chunk(path, participants, face_fps, pose_every, expressions, workers, total,
                  start_s, keep_s, end_s, threads_cap) -> _Recording:
    """One chunk in a process of its own (see :func:`_record_chunked`)."""
    from ..runtime import blas_single_threaded

    with blas_single_threaded():
        return _record(path, participants, face_fps, pose_every, expressions, workers,
                       _Progress(None, total, _CHILD_COUNTER), start_s, keep_s, end_s,
                       threads_cap)


def _record_chunked(path: str, participants: list[Participant], face_fps: float,
                    pose_every: int, expressions: str, cuts: list[float], workers: int | None,
                    hook, total: int) -> _Recording:
    """The stretches between ``cuts`` recorded at once, one process each (started clean: no
    thread or lock of this process is inherited), each from :data:`WARM_S` before its stretch
    (its frames before the cut are dropped), then joined in time order. The last stretch runs to
    the end of the file, whatever the probed duration said."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

    ctx = mp.get_context("spawn")
    counter = ctx.Value("q", 0)
    n = len(cuts) - 1
    cap = max(1, (os.cpu_count() or 1) // n)  # model threads per process
    with ProcessPoolExecutor(n, mp_context=ctx, initializer=_child_init,
                             initargs=(counter,)) as pool:
        futures = [pool.submit(_record_chunk, path, participants, face_fps, pose_every,
                               expressions, workers, total, max(0.0, a - WARM_S), a,
                               b - 1e-6 if k < n - 1 else None, cap)
                   for k, (a, b) in enumerate(zip(cuts[:-1], cuts[1:], strict=True))]
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            if any(f.exception() for f in done):
                for f in pending:
                    f.cancel()
                raise next(f.exception() for f in done if f.exception())
            if hook is not None:
                hook("video", min(counter.value, total), total)
    parts = [f.result() for f in futures]
    timer = _Timer()
    for r in parts:
        timer.add(r.timer)
    series = {p.name: _joined([r.series[p.name] for r in parts]) for p in participants}
    return _Recording(series, sum(r.frames for r in parts), max(r.workers for r in parts),
                      timer)


def _feed(path: str, face_fps: float, pool: list[_Worker], timer: _Timer,
          progress: _Progress, start_s: float = 0.0, end_s: float | None = None) -> int:
    """Decode the sampled frames of ``[start_s, end_s)`` and hand each to every worker; stops
    early when a worker failed. Returns the number of frames decoded."""
    n = 0
    frames = iter(media.iter_pictures(path, step_s=1.0 / face_fps, start_s=start_s, end_s=end_s,
                                      decode_threads=1, seek=start_s > 0))
    while not any(w.error for w in pool):
        with timer.stage("decode"):
            item = next(frames, None)
        if item is None:
            break
        t, frame = item
        for w in pool:
            w.frames.put((n, t, frame))
        n += 1
        progress(n)
    return n
