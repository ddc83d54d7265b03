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
    """Seconds spent per stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


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
                  workers: int | None = None, duration_s: float | None = None) -> StreamResult:
    """Visual cues of every participant of a recording.

    Decodes once at ``face_fps`` frames per second, crops each participant's tile (``box``; None =
    the whole frame), runs the face landmarker and motion energy on every sampled frame and pose
    on every k-th (k = round(face_fps / pose_fps); ``pose_fps=0`` = no pose).
    ``expressions``: the ``expr.*`` cues from the Face Landmarker's ``blendshapes`` (default)
    or from landmark ``geometry`` (the blendshape model is then not run). ``workers``: threads
    running the models, each owning whole participants (default: one per participant, at most
    one per CPU core); results do not depend on it.
    ``hook("video", done, total)`` reports progress about every 1% of frames, from the calling
    thread; ``duration_s`` (the recording's, when the caller has probed it) sizes that total.

    Returns samples (cue names of ``cuekit.cues.CUES``; NaN where there is no face or body),
    segments (nod, shake, blink, smile, gaze_away), a per-participant summary and provenance
    (backends, rates, frames, workers, seconds per stage summed over the threads).
    """
    _check(participants, face_fps, pose_fps, expressions)
    if duration_s is None:
        duration_s = media.probe(path).duration_s
    total = max(1, int(duration_s * face_fps))
    every = max(1, total // 100)
    pose_every = max(1, round(face_fps / pose_fps)) if pose_fps > 0 else 0
    n_workers = max(1, min(len(participants), workers or os.cpu_count() or 1))
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
        n = _feed(path, face_fps, pool, timer, hook, total, every)
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
        for stage, sec in w.timer.seconds.items():
            timer.seconds[stage] = timer.seconds.get(stage, 0.0) + sec
    recs = {rec.name: rec for w in pool for rec in w.recs}

    with timer.stage("cues"):
        samples, rows, summary = [], [], {}
        for p in participants:
            s, r, summary[p.name] = participant_tables(p.name, *recs[p.name].series(),
                                                       expressions)
            samples.append(s)
            rows += r
        samples = concat_samples(samples)
        segments = make_segments(rows)
    if hook is not None:
        hook("video", total, total)
    provenance = {"face_backend": FACE_BACKEND, "expressions": expressions,
                  "pose_backend": POSE_BACKEND if pose_every else None,
                  "face_fps": float(face_fps), "pose_fps": float(pose_fps), "frames": n,
                  "pose_frames": sum(len(r.pose_t) for r in recs.values()),
                  "workers": n_workers,
                  "seconds": {k: round(v, 3) for k, v in timer.seconds.items()}}
    return StreamResult(samples=samples, segments=segments, provenance=provenance, summary=summary)


def _feed(path: str, face_fps: float, pool: list[_Worker], timer: _Timer,
          hook: Callable[[str, int, int], None] | None, total: int, every: int) -> int:
    """Decode the sampled frames and hand each to every worker; stops early when a worker
    failed. Returns the number of frames decoded."""
    n = 0
    frames = iter(media.iter_pictures(path, step_s=1.0 / face_fps, decode_threads=1))
    while not any(w.error for w in pool):
        with timer.stage("decode"):
            item = next(frames, None)
        if item is None:
            break
        t, frame = item
        for w in pool:
            w.frames.put((n, t, frame))
        n += 1
        if hook is not None and n % every == 0:
            hook("video", min(n, total), total)
    return n
