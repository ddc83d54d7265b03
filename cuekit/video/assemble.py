"""Turn one participant's per-frame observations into cue samples, event segments and a summary.

Pure: takes arrays (landmarks in tile pixels, blendshapes, pose, motion energy) and returns the
tables of ``cuekit.cues``. NaN marks frames without a face (or body), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cues import concat_samples, series_to_samples
from ..intervals import ScoredIntervals
from . import body, events, face

N_FACE_POINTS = 478


@dataclass
class FaceSeries:
    """``t`` (n,) s; ``points`` (n, 478, 3) px, NaN rows = no face; ``shapes`` n blendshape
    dicts or None (Face Mesh, or no face); ``motion`` (n,) motion energy 0..1.

    ``features``: the per-frame measures of :func:`frame_features` already taken (then
    ``points`` and ``shapes`` may be None): what the frame pipeline keeps instead of the
    landmarks, a few floats per frame (see :class:`FaceFrames`)."""

    t: np.ndarray
    points: np.ndarray | None
    shapes: list[dict[str, float] | None] | None
    motion: np.ndarray
    features: dict[str, np.ndarray] | None = None


def frame_features(points: np.ndarray, shapes: list[dict[str, float] | None] | None,
                   expressions: str) -> dict[str, np.ndarray]:
    """Raw per-frame face measures, each (n,): presence, head pose, iris offsets, eye openness,
    face size and the raw ``expr.*`` scores (from blendshapes or landmark geometry, as
    ``expressions`` says: one of ``face.EXPRESSION_SOURCES``). Row by row: frame i depends
    on frame i only, so taking them a block of frames at a time gives the same numbers as all
    at once."""
    yaw, pitch, roll = face.head_pose_deg(points)
    h_off, v_off = face.iris_offset(points)
    out = {"present": np.isfinite(points[:, 0, 0]).astype("float64"),
           "yaw": yaw, "pitch": pitch, "roll": roll, "h_off": h_off, "v_off": v_off,
           "eye_openness": face.eye_openness(points), "face_size": face.face_size_px(points)}
    raw = face.raw_expressions(points, shapes, expressions)
    out.update({f"expr.{k}": v for k, v in raw.items()})
    return out


class FaceFrames:
    """A participant's face, frame by frame, kept as :func:`frame_features` (a dozen floats a
    frame) instead of landmarks (478 x 3): landmarks wait in a block of ``BLOCK`` frames, stored
    as float32 (sub-pixel to 1e-4 px) as before, and are reduced when the block is full."""

    BLOCK = 256

    def __init__(self, expressions: str) -> None:
        self.expressions = expressions
        self.t: list[float] = []
        self.motion: list[float] = []
        self._points = np.full((self.BLOCK, N_FACE_POINTS, 3), np.nan, dtype="float32")
        self._shapes: list[dict[str, float] | None] = []
        self._parts: list[dict[str, np.ndarray]] = []

    def add(self, t: float, points: np.ndarray | None,
            shapes: dict[str, float] | None) -> None:
        """One frame: landmarks in tile px (None = no face) and blendshapes (or None)."""
        i = len(self._shapes)
        self._points[i] = np.nan if points is None else points
        self._shapes.append(None if points is None else shapes)
        self.t.append(t)
        if i + 1 == self.BLOCK:
            self._reduce()

    def _reduce(self) -> None:
        n = len(self._shapes)
        if n:
            self._parts.append(frame_features(self._points[:n], self._shapes, self.expressions))
            self._shapes = []

    def series(self) -> FaceSeries:
        self._reduce()
        keys = self._parts[0].keys() if self._parts else frame_features(
            self._points[:0], [], self.expressions).keys()
        feats = {k: np.concatenate([p[k] for p in self._parts]) if self._parts
                 else np.zeros(0) for k in keys}
        return FaceSeries(np.asarray(self.t, dtype="float64"), None, None,
                          np.asarray(self.motion, dtype="float64"), feats)


@dataclass
class PoseSeries:
    """``t`` (m,) s; ``points`` (m, 33, 3) px and ``visibility`` (m, 33), NaN rows = no body."""

    t: np.ndarray
    points: np.ndarray
    visibility: np.ndarray


def _over_baseline(raw: dict[str, np.ndarray], expressions: str, seen_s: float,
                   ) -> dict[str, np.ndarray]:
    """``expr.*`` raw scores -> 0..1 over the person's neutral (``face.over_baseline`` with each
    cue's :data:`face.NEUTRAL_PERCENTILE` and population neutral, ``seen_s`` seconds of face)."""
    out = {}
    for key, v in raw.items():
        k = key.removeprefix("expr.")
        blend = expressions == "blendshapes" and k in face.BLENDSHAPES
        span = 1.0 if blend else face.GEOMETRY_SPAN[k]  # blendshape scores are 0..1 already
        out[key] = face.over_baseline(v, span=span, baseline_pct=face.NEUTRAL_PERCENTILE[k],
                                      population=face.POPULATION_NEUTRAL[expressions].get(k),
                                      seen_s=seen_s)
    return out


def face_seconds(t: np.ndarray, present: np.ndarray) -> float:
    """Seconds with the face seen: each sample stands for the time until the next one (sampled
    frames of a 25 fps source at 10 fps alternate 0.08 / 0.12 s steps), the last for the mean
    step; a single frame (a photo) for 0 s."""
    t = np.asarray(t, dtype="float64")
    if len(t) < 2:
        return 0.0
    covered = np.diff(t, append=t[-1] + float(np.mean(np.diff(t))))
    return float(covered[np.asarray(present) > 0].sum())


def face_cues(fs: FaceSeries, expressions: str) -> dict[str, np.ndarray]:
    """Every face-rate cue (name -> (n,) array); ``expr.*`` 0..1 over the person's neutral,
    ``expr.smile`` lowered while the person talks (``face.smile_discounted_for_talking``)."""
    f = (fs.features if fs.features is not None
         else frame_features(fs.points, fs.shapes, expressions))
    yaw, pitch, h_off, v_off = f["yaw"], f["pitch"], f["h_off"], f["v_off"]
    cues = {
        "face.present": f["present"],
        "head.yaw_deg": yaw, "head.pitch_deg": pitch, "head.roll_deg": f["roll"],
        "gaze.h": face.gaze_calibrated(h_off), "gaze.v": face.gaze_calibrated(v_off),
        "gaze.on_screen": face.gaze_on_screen(yaw, pitch, h_off, v_off),
        "eye.openness": f["eye_openness"],
        "body.lean": body.lean(f["face_size"]),
        "body.motion_energy": np.asarray(fs.motion, dtype="float64"),
    }
    cues.update(_over_baseline({k: v for k, v in f.items() if k.startswith("expr.")},
                               expressions, face_seconds(fs.t, f["present"])))
    cues["expr.smile"] = face.smile_discounted_for_talking(
        cues["expr.smile"], face.talking(fs.t, f["expr.mouth_open"]))
    return cues


def pose_cues(ps: PoseSeries) -> dict[str, np.ndarray]:
    """Every pose-rate cue (name -> (m,) array)."""
    return {
        "body.shoulder_tilt_deg": body.shoulder_tilt_deg(ps.points, ps.visibility),
        "body.slouch": body.slouch(body.neck_ratio(ps.points, ps.visibility)),
        "body.arms_crossed": body.arms_crossed(ps.points, ps.visibility),
        "body.hand_activity": body.hand_activity(ps.t, ps.points, ps.visibility),
    }


def face_events(t: np.ndarray, cues: dict[str, np.ndarray]) -> dict[str, ScoredIntervals]:
    """Segment kind -> its events from the face-rate cues (scores: see ``_LABELS``)."""
    nods, shakes = events.nods_and_shakes(t, cues["head.pitch_deg"], cues["head.yaw_deg"])
    return {"nod": nods, "shake": shakes,
            "blink": events.blinks(t, cues["eye.openness"]),
            "smile": events.smiles(t, cues["expr.smile"]),
            "gaze_away": events.gaze_aways(t, cues["gaze.on_screen"])}


_LABELS = {"nod": "amplitude deg", "shake": "amplitude deg", "blink": "depth",
           "smile": "peak", "gaze_away": "duration s"}


def participant_tables(name: str, fs: FaceSeries, ps: PoseSeries | None, expressions: str,
                       ) -> tuple[pd.DataFrame, list[dict], dict[str, float]]:
    """(samples, segment rows, summary metrics) for one participant."""
    fc = face_cues(fs, expressions)
    present = fc["face.present"]
    frames = [series_to_samples(fs.t, name, cue, v, present if cue != "face.present" else 1.0)
              for cue, v in fc.items()]
    if ps is not None and len(ps.t):
        seen = np.isfinite(ps.points[:, 0, 0]).astype("float64")
        frames += [series_to_samples(ps.t, name, cue, v, seen) for cue, v in pose_cues(ps).items()]
    ev = face_events(fs.t, fc)
    rows = [{"start": s, "end": e, "participant": name, "kind": kind, "label": _LABELS[kind],
             "score": score} for kind, evs in ev.items()
            for (s, e), score in zip(evs.iv.tolist(), evs.score.tolist(), strict=True)]
    return concat_samples(frames), rows, summarize(fs.t, fc, ev)


def summarize(t: np.ndarray, cues: dict[str, np.ndarray],
              ev: dict[str, ScoredIntervals]) -> dict[str, float]:
    """Per-participant metrics. Rates are per minute of time with the face visible (NaN when the
    face was never seen); shares are over frames with a face."""
    present = cues["face.present"] > 0
    minutes = face_seconds(t, present) / 60.0
    per_min = (lambda k: len(ev[k]) / minutes) if minutes > 0 else (lambda k: float("nan"))

    def mean(cue: str) -> float:
        v = cues[cue][np.isfinite(cues[cue])]
        return float(v.mean()) if len(v) else float("nan")

    return {
        "face_present_share": float(present.mean()) if len(t) else float("nan"),
        "gaze_on_screen_share": mean("gaze.on_screen"),
        "blinks": len(ev["blink"]), "blinks_per_min": per_min("blink"),
        "smiles": len(ev["smile"]), "smiles_per_min": per_min("smile"),
        "nods": len(ev["nod"]), "nods_per_min": per_min("nod"),
        "shakes": len(ev["shake"]), "shakes_per_min": per_min("shake"),
        "gaze_aways": len(ev["gaze_away"]),
        "smile_mean": mean("expr.smile"), "motion_energy_mean": mean("body.motion_energy"),
    }
