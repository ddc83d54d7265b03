"""Turn one participant's per-frame observations into cue samples, event segments and a summary.

Pure: takes arrays (landmarks in tile pixels, blendshapes, pose, motion energy) and returns the
tables of ``cuekit.cues``. NaN marks frames without a face (or body), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cues import concat_samples, series_to_samples
from . import body, events, face
from .landmarks import TASK


@dataclass
class FaceSeries:
    """``t`` (n,) s; ``points`` (n, 478, 3) px, NaN rows = no face; ``shapes`` n blendshape
    dicts or None (Face Mesh, or no face); ``motion`` (n,) motion energy 0..1."""

    t: np.ndarray
    points: np.ndarray
    shapes: list[dict[str, float] | None]
    motion: np.ndarray


@dataclass
class PoseSeries:
    """``t`` (m,) s; ``points`` (m, 33, 3) px and ``visibility`` (m, 33), NaN rows = no body."""

    t: np.ndarray
    points: np.ndarray
    visibility: np.ndarray


def expressions(points: np.ndarray, shapes: list[dict[str, float] | None],
                backend: str) -> dict[str, np.ndarray]:
    """``expr.*`` series 0..1 over the person's own neutral, from blendshapes (task backend)
    or landmark geometry (Face Mesh); same names either way."""
    if backend == TASK:
        raw = face.expression_blendshapes(shapes)
        return {f"expr.{k}": face.over_baseline(v, span=1.0) for k, v in raw.items()}
    raw = face.expression_geometry(points)
    return {f"expr.{k}": face.over_baseline(v, span=face.GEOMETRY_SPAN[k]) for k, v in raw.items()}


def face_cues(fs: FaceSeries, backend: str) -> dict[str, np.ndarray]:
    """Every face-rate cue (name -> (n,) array)."""
    pts = fs.points
    yaw, pitch, roll = face.head_pose_deg(pts)
    h_off, v_off = face.iris_offset(pts)
    cues = {
        "face.present": np.isfinite(pts[:, 0, 0]).astype("float64"),
        "head.yaw_deg": yaw, "head.pitch_deg": pitch, "head.roll_deg": roll,
        "gaze.h": face.gaze_calibrated(h_off), "gaze.v": face.gaze_calibrated(v_off),
        "gaze.on_screen": face.gaze_on_screen(yaw, pitch, h_off, v_off),
        "eye.openness": face.eye_openness(pts),
        "body.lean": body.lean(face.face_size_px(pts)),
        "body.motion_energy": np.asarray(fs.motion, dtype="float64"),
    }
    cues.update(expressions(pts, fs.shapes, backend))
    return cues


def pose_cues(ps: PoseSeries) -> dict[str, np.ndarray]:
    """Every pose-rate cue (name -> (m,) array)."""
    return {
        "body.shoulder_tilt_deg": body.shoulder_tilt_deg(ps.points, ps.visibility),
        "body.slouch": body.slouch(body.neck_ratio(ps.points, ps.visibility)),
        "body.arms_crossed": body.arms_crossed(ps.points, ps.visibility),
        "body.hand_activity": body.hand_activity(ps.t, ps.points, ps.visibility),
    }


def face_events(t: np.ndarray, cues: dict[str, np.ndarray]) -> dict[str, list[tuple[float, float, float]]]:
    """Segment kind -> ``(start, end, score)`` events from the face-rate cues."""
    nods, shakes = events.nods_and_shakes(t, cues["head.pitch_deg"], cues["head.yaw_deg"])
    return {"nod": nods, "shake": shakes,
            "blink": events.blinks(t, cues["eye.openness"]),
            "smile": events.smiles(t, cues["expr.smile"]),
            "gaze_away": events.gaze_aways(t, cues["gaze.on_screen"])}


_LABELS = {"nod": "amplitude deg", "shake": "amplitude deg", "blink": "depth",
           "smile": "peak", "gaze_away": "duration s"}


def participant_tables(name: str, fs: FaceSeries, ps: PoseSeries | None, backend: str,
                       ) -> tuple[pd.DataFrame, list[dict], dict[str, float]]:
    """(samples, segment rows, summary metrics) for one participant."""
    fc = face_cues(fs, backend)
    present = fc["face.present"]
    frames = [series_to_samples(fs.t, name, cue, v, present if cue != "face.present" else 1.0)
              for cue, v in fc.items()]
    if ps is not None and len(ps.t):
        seen = np.isfinite(ps.points[:, 0, 0]).astype("float64")
        frames += [series_to_samples(ps.t, name, cue, v, seen) for cue, v in pose_cues(ps).items()]
    ev = face_events(fs.t, fc)
    rows = [{"start": s, "end": e, "participant": name, "kind": kind, "label": _LABELS[kind],
             "score": score} for kind, evs in ev.items() for s, e, score in evs]
    return concat_samples(frames), rows, summarize(fs.t, fc, ev)


def summarize(t: np.ndarray, cues: dict[str, np.ndarray],
              ev: dict[str, list[tuple[float, float, float]]]) -> dict[str, float]:
    """Per-participant metrics. Rates are per minute of time with the face visible (NaN when the
    face was never seen); shares are over frames with a face."""
    present = cues["face.present"] > 0
    # each sample stands for the time until the next one (sampled frames of a 25 fps source at
    # 10 fps alternate 0.08 / 0.12 s steps, so no single step is right)
    last_s = float(np.mean(np.diff(t))) if len(t) > 1 else 0.0
    covered_s = np.diff(t, append=t[-1] + last_s) if len(t) else np.zeros(0)
    minutes = float(covered_s[present].sum()) / 60.0
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
