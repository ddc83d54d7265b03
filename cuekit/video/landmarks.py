"""Face and pose landmarks from MediaPipe: the only module in cuekit that imports mediapipe.

mediapipe is imported inside the adapters, so ``import cuekit`` stays light. Every adapter takes
an RGB uint8 image and returns landmarks in *pixels of that image* (x right, y down; ``z`` depth
in the same pixel scale, smaller = nearer the camera), or None when it finds nothing.

Backends:

- ``facemesh-legacy``: ``mp.solutions.face_mesh`` with iris (``refine_landmarks=True``), 478
  points, bundled in the mediapipe 0.10.21 wheel, always available.
- ``face-landmarker-task``: the Tasks Face Landmarker, 478 points plus 52 blendshapes, when
  ``face_landmarker.task`` is found (see :func:`find_model`).
- ``pose-full``: ``mp.solutions.pose`` with ``model_complexity=1``, the only pose model inside the
  wheel (0 and 2 try to download and fail offline).
- ``face-detection-full-range``: the full-range face detector, used to seed the face search when
  a face is small in its tile.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import InputError

TASK_FILE = "face_landmarker.task"
TASK_URL = ("https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/"
            "float16/1/face_landmarker.task")
FACEMESH = "facemesh-legacy"
TASK = "face-landmarker-task"
POSE = "pose-full"


@dataclass
class FaceLandmarks:
    """One face: ``points`` (478, 3) float in input-image pixels; ``blendshapes`` name -> 0..1
    (None for Face Mesh)."""

    points: np.ndarray
    blendshapes: dict[str, float] | None = None


@dataclass
class PoseLandmarks:
    """One body: ``points`` (33, 3) in input-image pixels, ``visibility`` (33,) 0..1."""

    points: np.ndarray
    visibility: np.ndarray


class Landmarker(Protocol):
    """A stateful landmark tracker for one participant (one instance per tile keeps identity)."""

    name: str

    def detect(self, rgb: np.ndarray, t_ms: int) -> FaceLandmarks | PoseLandmarks | None:
        """Landmarks in ``rgb`` (H, W, 3 uint8) at media time ``t_ms`` (strictly increasing)."""
        ...

    def close(self) -> None: ...


# A NormalizedLandmark with x, y and z set, as the protobuf wire format writes it inside a
# landmark list: field 1 (tag 0x0a) of 15 bytes, then x, y, z as tagged little-endian floats.
_WIRE_XYZ = np.dtype([("tag", "u1"), ("size", "u1"), ("tx", "u1"), ("x", "<f4"),
                      ("ty", "u1"), ("y", "<f4"), ("tz", "u1"), ("z", "<f4")])


def _to_px(landmarks, width: int, height: int) -> np.ndarray:
    """(n, 3) pixels of normalised landmarks: a protobuf ``NormalizedLandmarkList`` (read from its
    wire bytes when every landmark has just x, y and z: ~8x faster than 478 attribute reads) or
    a sequence of landmark objects."""
    scale = np.array([width, height, width], dtype="float64")
    if hasattr(landmarks, "SerializeToString"):
        raw = landmarks.SerializeToString()
        if len(raw) % _WIRE_XYZ.itemsize == 0:
            w = np.frombuffer(raw, _WIRE_XYZ)
            if ((w["tag"] == 0x0A) & (w["size"] == 15) & (w["tx"] == 0x0D) & (w["ty"] == 0x15)
                    & (w["tz"] == 0x1D)).all():
                return np.stack([w["x"], w["y"], w["z"]], axis=1).astype("float64") * scale
        landmarks = landmarks.landmark
    return np.array([(p.x, p.y, p.z) for p in landmarks], dtype="float64").reshape(-1, 3) * scale


class FaceMeshLandmarker:
    """Legacy Face Mesh with iris, in tracking mode (one face)."""

    name = FACEMESH

    def __init__(self) -> None:
        import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, max_num_faces=1, refine_landmarks=True,
            min_detection_confidence=0.5, min_tracking_confidence=0.5)

    def detect(self, rgb: np.ndarray, t_ms: int) -> FaceLandmarks | None:
        res = self._mesh.process(rgb)
        if not res.multi_face_landmarks:
            return None
        h, w = rgb.shape[:2]
        return FaceLandmarks(_to_px(res.multi_face_landmarks[0], w, h))

    def close(self) -> None:
        self._mesh.close()


class FaceLandmarkerTask:
    """Tasks Face Landmarker (VIDEO mode) with blendshapes (head pose comes from the landmarks,
    as for Face Mesh, so the transformation matrix is not asked for)."""

    name = TASK

    def __init__(self, model_path: str) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        opts = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.VIDEO, num_faces=1,
            output_face_blendshapes=True)
        self._task = vision.FaceLandmarker.create_from_options(opts)
        self._last_ms = -1

    def detect(self, rgb: np.ndarray, t_ms: int) -> FaceLandmarks | None:
        import mediapipe as mp

        t_ms = max(int(t_ms), self._last_ms + 1)  # VIDEO mode needs strictly increasing times
        self._last_ms = t_ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        res = self._task.detect_for_video(image, t_ms)
        if not res.face_landmarks:
            return None
        h, w = rgb.shape[:2]
        shapes = {c.category_name: float(c.score) for c in res.face_blendshapes[0]}
        return FaceLandmarks(_to_px(res.face_landmarks[0], w, h), shapes)

    def close(self) -> None:
        self._task.close()


class PoseLandmarker:
    """Pose (``model_complexity=1``, the model bundled in the wheel) in tracking mode."""

    name = POSE

    def __init__(self) -> None:
        import mediapipe as mp

        self._pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                                            min_detection_confidence=0.5,
                                            min_tracking_confidence=0.5)

    def detect(self, rgb: np.ndarray, t_ms: int) -> PoseLandmarks | None:
        res = self._pose.process(rgb)
        if res.pose_landmarks is None:
            return None
        h, w = rgb.shape[:2]
        lms = res.pose_landmarks.landmark
        vis = np.array([p.visibility for p in lms], dtype="float64")
        return PoseLandmarks(_to_px(res.pose_landmarks, w, h), vis)

    def close(self) -> None:
        self._pose.close()


class FaceDetector:
    """Full-range face detector: finds faces down to a few percent of the image width. Threads
    may share one: a MediaPipe graph serves one call at a time, so calls take turns."""

    name = "face-detection-full-range"

    def __init__(self, min_confidence: float = 0.5) -> None:
        import mediapipe as mp

        self._det = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=min_confidence)
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float, float]]:
        """Faces as ``(x, y, w, h, score)`` in pixels of ``rgb``, best score first."""
        with self._lock:
            res = self._det.process(rgb)
        h, w = rgb.shape[:2]
        out = []
        for d in res.detections or []:
            b = d.location_data.relative_bounding_box
            out.append((b.xmin * w, b.ymin * h, b.width * w, b.height * h, float(d.score[0])))
        return sorted(out, key=lambda f: -f[4])

    def close(self) -> None:
        self._det.close()


def model_dirs(models_dir: str | None = None) -> list[Path]:
    """Where model files are looked for, in order: ``models_dir``, ``$CUEKIT_MODELS``,
    ``./models``, then the ``models/`` folder next to the cuekit package."""
    dirs = []
    if models_dir:
        dirs.append(Path(models_dir))
    if os.environ.get("CUEKIT_MODELS"):
        dirs.append(Path(os.environ["CUEKIT_MODELS"]))
    dirs.append(Path.cwd() / "models")
    dirs.append(Path(__file__).resolve().parents[2] / "models")
    unique: list[Path] = []
    for d in dirs:
        if d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


def find_model(models_dir: str | None = None, filename: str = TASK_FILE) -> Path | None:
    """First existing ``filename`` along :func:`model_dirs`, or None."""
    for d in model_dirs(models_dir):
        if (d / filename).is_file():
            return d / filename
    return None


def available_backends(models_dir: str | None = None) -> dict[str, dict]:
    """Backend name -> ``{"available": bool, "kind": "face"|"pose", "path": str|None, "note"}``."""
    task = find_model(models_dir)
    return {
        FACEMESH: {"available": True, "kind": "face", "path": None,
                   "note": "bundled in mediapipe 0.10.21: 478 landmarks with iris; expression "
                           "from landmark geometry"},
        TASK: {"available": task is not None, "kind": "face",
               "path": str(task) if task else None,
               "note": "needs face_landmarker.task: 478 landmarks + 52 blendshapes; expression "
                       "from blendshapes"},
        POSE: {"available": True, "kind": "pose", "path": None,
               "note": "bundled pose model (model_complexity=1)"},
    }


def resolve_face_backend(face_backend: str, models_dir: str | None = None) -> str:
    """``auto`` -> the task backend when its file is found, else Face Mesh. ``landmarker``
    without the file raises :class:`InputError` saying how to add it."""
    if face_backend not in ("auto", "facemesh", "landmarker"):
        raise InputError(f"face_backend must be auto, facemesh or landmarker, got {face_backend!r}")
    task = find_model(models_dir)
    if face_backend == "facemesh" or (face_backend == "auto" and task is None):
        return FACEMESH
    if task is None:
        searched = ", ".join(str(d) for d in model_dirs(models_dir))
        raise InputError(f"face_backend='landmarker' needs {TASK_FILE}; none in {searched}. "
                         "Run `cuekit models` to see how to add it.")
    return TASK


def make_face_landmarker(backend: str, models_dir: str | None = None) -> Landmarker:
    """A fresh face tracker for a resolved backend name (``facemesh-legacy`` or the task)."""
    if backend == FACEMESH:
        return FaceMeshLandmarker()
    if backend == TASK:
        path = find_model(models_dir)
        if path is None:
            raise InputError(f"{TASK_FILE} not found; run `cuekit models`")
        return FaceLandmarkerTask(str(path))
    raise InputError(f"unknown face backend {backend!r}")


def describe_models(models_dir: str | None = None) -> str:
    """Text for ``cuekit models``: which backends are available and how to add the task file."""
    lines = ["Landmark backends:"]
    for name, b in available_backends(models_dir).items():
        mark = "yes" if b["available"] else "no "
        where = f" ({b['path']})" if b["path"] else ""
        lines.append(f"  [{mark}] {name:22s} {b['note']}{where}")
    lines.append("")
    lines.append("Looked for " + TASK_FILE + " in: " + ", ".join(str(d) for d in model_dirs(models_dir)))
    if find_model(models_dir) is None:
        lines += [
            "",
            "To add the blendshape backend (~3.6 MB, Apache-2.0), on a machine that is online:",
            "  mkdir -p models && curl -L -o models/face_landmarker.task \\",
            f"    {TASK_URL}",
            "or put the file anywhere and set CUEKIT_MODELS=/that/folder (or pass --models-dir).",
            "Without it cuekit uses the bundled Face Mesh; nothing is downloaded at run time.",
        ]
    else:
        lines.append("face_backend='auto' uses the task file.")
    return "\n".join(lines)
