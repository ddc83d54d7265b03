"""The frame pipeline: decode once, follow each participant's face and body, emit cue tables."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

from .. import media
from ..cues import StreamResult, concat_samples, make_segments
from ..errors import InputError
from ..layout import Participant
from . import body
from .assemble import FaceSeries, PoseSeries, participant_tables
from .landmarks import (POSE, FaceDetector, PoseLandmarker, make_face_landmarker,
                        resolve_face_backend)
from .track import FaceTrack

N_FACE_POINTS, N_POSE_POINTS = 478, 33
POSE_MIN_PX = 256  # tiles smaller than this (height) are upscaled for the pose model


class _Recorder:
    """One participant's trackers and what they saw, frame by frame."""

    def __init__(self, p: Participant, backend: str, models_dir: str | None,
                 detector: FaceDetector, with_pose: bool) -> None:
        self.box = p.box
        self.face = FaceTrack(make_face_landmarker(backend, models_dir), detector)
        self.pose = PoseLandmarker() if with_pose else None
        self.t: list[float] = []
        self.points: list[np.ndarray | None] = []
        self.shapes: list[dict[str, float] | None] = []
        self.motion: list[float] = []
        self.prev_gray: np.ndarray | None = None
        self.pose_t: list[float] = []
        self.pose_points: list[np.ndarray | None] = []
        self.pose_vis: list[np.ndarray | None] = []

    def tile(self, frame: np.ndarray) -> np.ndarray:
        if self.box is None:
            return frame
        x, y, w, h = self.box
        return frame[y:y + h, x:x + w]

    def face_step(self, tile: np.ndarray, t: float) -> None:
        found = self.face.step(tile, int(round(t * 1000)))
        self.t.append(t)
        self.points.append(None if found is None else found.points)
        self.shapes.append(None if found is None else found.blendshapes)

    def motion_step(self, tile: np.ndarray) -> None:
        gray = body.motion_gray(tile)
        self.motion.append(body.motion_energy(self.prev_gray, gray))
        self.prev_gray = gray

    def pose_step(self, tile: np.ndarray, t: float) -> None:
        import cv2

        h = tile.shape[0]
        scale = max(1.0, POSE_MIN_PX / h)
        img = cv2.resize(tile, None, fx=scale, fy=scale) if scale > 1 else tile
        found = self.pose.detect(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), int(round(t * 1000)))
        self.pose_t.append(t)
        self.pose_points.append(None if found is None else found.points / scale)
        self.pose_vis.append(None if found is None else found.visibility)

    def series(self) -> tuple[FaceSeries, PoseSeries | None]:
        fs = FaceSeries(np.asarray(self.t, dtype="float64"), _stack(self.points, (N_FACE_POINTS, 3)),
                        self.shapes, np.asarray(self.motion, dtype="float64"))
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


def _stack(items: list[np.ndarray | None], shape: tuple[int, ...]) -> np.ndarray:
    """(n, *shape) array with NaN where an item is None."""
    out = np.full((len(items), *shape), np.nan)
    for i, v in enumerate(items):
        if v is not None:
            out[i] = v
    return out


def _check(participants: list[Participant], face_fps: float, pose_fps: float) -> None:
    if not participants:
        raise InputError("participants is empty: give at least one Participant")
    if not (0.5 <= face_fps <= 60):
        raise InputError(f"face_fps must be in 0.5..60 frames per second, got {face_fps!r}")
    if not (0 <= pose_fps <= face_fps):
        raise InputError(f"pose_fps must be in 0..face_fps ({face_fps}), got {pose_fps!r}")
    names = [p.name for p in participants]
    if len(set(names)) != len(names):
        raise InputError(f"participant names must be distinct, got {names}")


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


def analyze_video(path: str, participants: list[Participant], *, face_fps: float, pose_fps: float,
                  face_backend: str = "auto", models_dir: str | None = None,
                  hook: Callable[[str, int, int], None] | None = None) -> StreamResult:
    """Visual cues of every participant of a recording.

    Decodes once at ``face_fps`` frames per second, crops each participant's tile (``box``; None =
    the whole frame), runs the face landmarker and motion energy on every sampled frame and pose
    on every k-th (k = round(face_fps / pose_fps); ``pose_fps=0`` = no pose).
    ``face_backend``: ``auto`` (the task file when found, else Face Mesh), ``facemesh`` or
    ``landmarker``. ``hook("video", done, total)`` reports progress about every 1% of frames.

    Returns samples (cue names of ``cuekit.cues.CUES``; NaN where there is no face or body),
    segments (nod, shake, blink, smile, gaze_away), a per-participant summary and provenance
    (backends, rates, frames, seconds per stage).
    """
    _check(participants, face_fps, pose_fps)
    backend = resolve_face_backend(face_backend, models_dir)
    total = max(1, int(media.probe(path).duration_s * face_fps))
    every = max(1, total // 100)
    pose_every = max(1, round(face_fps / pose_fps)) if pose_fps > 0 else 0
    timer = _Timer()
    detector = FaceDetector()
    recs = {p.name: _Recorder(p, backend, models_dir, detector, pose_every > 0) for p in participants}
    n = 0
    try:
        frames = iter(media.iter_frames(path, step_s=1.0 / face_fps))
        while True:
            with timer.stage("decode"):
                item = next(frames, None)
            if item is None:
                break
            t, frame = item
            for rec in recs.values():
                tile = rec.tile(frame)
                with timer.stage("face"):
                    rec.face_step(tile, t)
                with timer.stage("motion"):
                    rec.motion_step(tile)
                if pose_every and n % pose_every == 0:
                    with timer.stage("pose"):
                        rec.pose_step(tile, t)
            n += 1
            if hook is not None and n % every == 0:
                hook("video", min(n, total), total)
    finally:
        for rec in recs.values():
            rec.close()
        detector.close()

    with timer.stage("cues"):
        samples, rows, summary = [], [], {}
        for name, rec in recs.items():
            s, r, summary[name] = participant_tables(name, *rec.series(), backend)
            samples.append(s)
            rows += r
        samples = concat_samples(samples)
        segments = make_segments(rows)
    if hook is not None:
        hook("video", total, total)
    provenance = {"face_backend": backend, "pose_backend": POSE if pose_every else None,
                  "face_fps": float(face_fps), "pose_fps": float(pose_fps), "frames": n,
                  "pose_frames": sum(len(r.pose_t) for r in recs.values()),
                  "seconds": {k: round(v, 3) for k, v in timer.seconds.items()}}
    return StreamResult(samples=samples, segments=segments, provenance=provenance, summary=summary)
