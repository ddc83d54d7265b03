"""The frame pipeline: decode once, track each participant's face (and body), emit cue tables."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import media
from ..cues import StreamResult, concat_samples, empty_segments, series_to_samples
from ..errors import InputError
from ..layout import Participant
from . import face
from .landmarks import FaceDetector, make_face_landmarker, resolve_face_backend
from .track import FaceTrack

N_FACE_POINTS = 478


@dataclass
class _Observations:
    """What one participant's track saw, one entry per sampled frame."""

    t: list[float] = field(default_factory=list)
    points: list[np.ndarray | None] = field(default_factory=list)
    shapes: list[dict[str, float] | None] = field(default_factory=list)

    def face_points(self) -> np.ndarray:
        """(n, 478, 3) landmarks in tile pixels, NaN where no face."""
        out = np.full((len(self.points), N_FACE_POINTS, 3), np.nan)
        for i, p in enumerate(self.points):
            if p is not None:
                out[i] = p
        return out


def _tile(frame: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    if box is None:
        return frame
    x, y, w, h = box
    return frame[y:y + h, x:x + w]


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


def analyze_video(path: str, participants: list[Participant], *, face_fps: float, pose_fps: float,
                  face_backend: str = "auto", models_dir: str | None = None,
                  hook: Callable[[str, int, int], None] | None = None) -> StreamResult:
    """Visual cues of every participant of a recording.

    Decodes once at ``face_fps`` frames per second, crops each participant's tile (``box``; None =
    the whole frame) and runs the face landmarker on every sampled frame and pose on every k-th
    (``pose_fps``; 0 = no pose). ``hook(stage, done, total)`` reports progress about every 1% of
    frames. Returns samples (cue names of ``cuekit.cues.CUES``; NaN where there is no face),
    segments, a per-participant summary and provenance (backends, rates, seconds per stage).
    """
    _check(participants, face_fps, pose_fps)
    backend = resolve_face_backend(face_backend, models_dir)
    info = media.probe(path)
    total = max(1, int(info.duration_s * face_fps))
    every = max(1, total // 100)
    seconds = {"decode": 0.0, "face": 0.0, "cues": 0.0}
    detector = FaceDetector()
    tracks = {p.name: FaceTrack(make_face_landmarker(backend, models_dir), detector)
              for p in participants}
    obs = {p.name: _Observations() for p in participants}
    n = 0
    try:
        clock = time.perf_counter()
        for t, frame in media.iter_frames(path, step_s=1.0 / face_fps):
            seconds["decode"] += time.perf_counter() - clock
            t_ms = int(round(t * 1000))
            for p in participants:
                clock = time.perf_counter()
                found = tracks[p.name].step(_tile(frame, p.box), t_ms)
                seconds["face"] += time.perf_counter() - clock
                o = obs[p.name]
                o.t.append(t)
                o.points.append(None if found is None else found.points)
                o.shapes.append(None if found is None else found.blendshapes)
            n += 1
            if hook is not None and n % every == 0:
                hook("video", min(n, total), total)
            clock = time.perf_counter()
    finally:
        for tr in tracks.values():
            tr.close()
        detector.close()

    clock = time.perf_counter()
    samples = concat_samples([_face_samples(name, o) for name, o in obs.items()])
    seconds["cues"] = time.perf_counter() - clock
    if hook is not None:
        hook("video", total, total)
    summary = {name: {"face_present_share": float(np.mean([p is not None for p in o.points]))
                      if o.points else float("nan")} for name, o in obs.items()}
    provenance = {"face_backend": backend, "pose_backend": None, "face_fps": float(face_fps),
                  "pose_fps": float(pose_fps), "frames": n,
                  "seconds": {k: round(v, 3) for k, v in seconds.items()}}
    return StreamResult(samples=samples, segments=empty_segments(), provenance=provenance,
                        summary=summary)


def _face_samples(name: str, o: _Observations):
    t = np.asarray(o.t, dtype="float64")
    pts = o.face_points()
    present = np.isfinite(pts[:, 0, 0]).astype("float64")
    yaw, pitch, roll = face.head_pose_deg(pts)
    return concat_samples([
        series_to_samples(t, name, "face.present", present),
        series_to_samples(t, name, "head.yaw_deg", yaw, present),
        series_to_samples(t, name, "head.pitch_deg", pitch, present),
        series_to_samples(t, name, "head.roll_deg", roll, present),
    ])
