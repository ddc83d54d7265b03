"""Face and pose landmarks: MediaPipe's model files run on LiteRT. The only module in cuekit that
runs a neural network on pictures.

The models ship inside the cuekit package (``cuekit/models``, Apache-2.0; where each byte came
from: ``models/fetch_models.py``), so nothing is downloaded. MediaPipe's own Python API is not
used: its legacy ``mp.solutions`` that carried these files was removed upstream, and its Tasks
API costs about twice the CPU a face (see the README). What MediaPipe's graphs do around the
models (anchors, regions of interest, turning a crop upright) is done here with numpy, as its
graph files define it.

Coordinates: every function takes and returns pixels of the picture it was given (x right,
y down; ``z`` depth in the same pixel scale as x, smaller = nearer the camera). A region of
interest (:class:`Roi`) is a square turned by an angle about its centre.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..media import Picture
from ..modelfiles import model_path

FACE_DETECTOR_FILE = "face_detection_full_range_sparse.tflite"
FACE_LANDMARKS_FILE = "face_landmarks_detector.tflite"
BLENDSHAPES_FILE = "face_blendshapes.tflite"
POSE_DETECTOR_FILE = "pose_detection.tflite"
POSE_LANDMARKS_FILE = "pose_landmark_full.tflite"

FACE_BACKEND = "face-landmarker-litert"  # 478 landmarks (iris included) + 52 blendshapes
POSE_BACKEND = "pose-full-litert"        # BlazePose full: 33 landmarks
FACE_ROI_SCALE = 1.5   # MediaPipe's face region: 1.5 x the face's extent (face_landmarker_graph)
POSE_ROI_SCALE = 1.25  # and 1.25 x the body circle (pose_landmark_by_roi)
MIN_PRESENCE = 0.5     # a landmark model's presence score below this = the face/body is lost

# The 146 landmarks the blendshape model reads and its 52 outputs, in order: the constants
# kLandmarksSubsetIdxs and kBlendshapeNames of MediaPipe's face_blendshapes_graph.cc (Apache-2.0).
BLENDSHAPE_POINTS = np.array([
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63, 65,
    66, 67, 70, 78, 80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133, 136,
    144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163, 168,
    172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246, 249, 251, 263, 267, 269, 270, 276,
    282, 283, 284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312, 314, 317, 318,
    321, 323, 324, 332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380,
    381, 382, 384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454, 466,
    468, 469, 470, 471, 472, 473, 474, 475, 476, 477])
BLENDSHAPE_NAMES = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft",
    "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight")


@dataclass
class FaceLandmarks:
    """One face: ``points`` (478, 3) in picture pixels (468-477: the irises); ``blendshapes``
    name -> 0..1, or None when not asked for."""

    points: np.ndarray
    blendshapes: dict[str, float] | None = None


@dataclass
class PoseLandmarks:
    """One body: ``points`` (33, 3) in picture pixels, ``visibility`` (33,) 0..1."""

    points: np.ndarray
    visibility: np.ndarray


class Roi(NamedTuple):
    """A square region of interest: centre (``cx``, ``cy``) and ``side`` in picture pixels,
    turned clockwise on screen by ``angle`` radians about its centre."""

    cx: float
    cy: float
    side: float
    angle: float = 0.0


class _Model:
    """One .tflite model on LiteRT's CPU (XNNPACK), one thread: the frame pipeline keeps the
    cores busy with its own threads. An interpreter serves one call at a time."""

    def __init__(self, filename: str, outputs: tuple[str, ...] | None = None) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._it = Interpreter(model_path=str(model_path(filename)), num_threads=1)
        self._it.allocate_tensors()
        inp = self._it.get_input_details()[0]
        self._in, self.input_shape = inp["index"], tuple(inp["shape"])
        self._index = {d["name"]: d["index"] for d in self._it.get_output_details()}
        self._out = [self._index[n] for n in outputs] if outputs else list(self._index.values())

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        self._it.set_tensor(self._in, x.reshape(self.input_shape).astype("float32", copy=False))
        self._it.invoke()
        return [self._it.get_tensor(i) for i in self._out]

    def output(self, name: str) -> np.ndarray:
        """The output tensor ``name`` of the last call (any output, not only those chosen)."""
        return self._it.get_tensor(self._index[name])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


def roi_affine(roi: Roi, out_px: int) -> np.ndarray:
    """The 2 x 3 affine map from the pixels of an ``out_px`` crop of ``roi`` to picture pixels
    (``p = m[:, :2] @ (u, v) + m[:, 2]``): the crop's corners are the turned square's."""
    c, s = np.cos(roi.angle), np.sin(roi.angle)
    a = roi.side / out_px * np.array([[c, -s], [s, c]])
    b = np.array([roi.cx, roi.cy]) - a @ np.array([out_px / 2, out_px / 2])
    return np.hstack([a, b[:, None]])


def roi_crop(picture: Picture, roi: Roi, out_px: int) -> tuple[np.ndarray, np.ndarray]:
    """RGB ``out_px`` square of ``roi`` (black outside the picture) and :func:`roi_affine`."""
    m = roi_affine(roi, out_px)
    return picture.rgb_affine(m, out_px), m


def to_picture(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(n, 3) crop pixels -> picture pixels through :func:`roi_crop`'s map (z scaled as x)."""
    out = np.empty_like(points, dtype="float64")
    out[:, :2] = points[:, :2] @ m[:, :2].T + m[:, 2]
    out[:, 2] = points[:, 2] * np.hypot(m[0, 0], m[1, 0])
    return out


def roi_from_points(points: np.ndarray, start: int, end: int, scale: float,
                    target_angle: float = 0.0) -> Roi:
    """MediaPipe's region from landmarks (DetectionsToRects + RectTransformation, square long
    side): the landmarks' bounding box scaled by ``scale``, turned so that the vector from point
    ``start`` to point ``end`` lies at ``target_angle`` (radians, counter-clockwise on screen)."""
    xy = points[:, :2]
    lo, hi = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
    dx, dy = xy[end] - xy[start]
    angle = target_angle - np.arctan2(-dy, dx)
    angle = (angle + np.pi) % (2 * np.pi) - np.pi
    return Roi(float((lo[0] + hi[0]) / 2), float((lo[1] + hi[1]) / 2),
               float(scale * max(hi - lo)), float(angle))


def roi_from_circle(centre: np.ndarray, rim: np.ndarray, scale: float,
                    target_angle: float = np.pi / 2) -> Roi:
    """MediaPipe's AlignmentPointsRects: a square of side 2 x |rim - centre| about ``centre``,
    turned so that centre -> rim lies at ``target_angle`` (pose: upright), scaled by ``scale``."""
    dx, dy = rim - centre
    angle = (target_angle - np.arctan2(-dy, dx) + np.pi) % (2 * np.pi) - np.pi
    return Roi(float(centre[0]), float(centre[1]), float(scale * 2 * np.hypot(dx, dy)),
               float(angle))


# --- SSD detectors (BlazeFace full range, BlazePose) -----------------------------------------

def ssd_anchors(input_px: int, strides: tuple[int, ...], per_cell: tuple[int, ...]) -> np.ndarray:
    """(n, 2) anchor centres 0..1 of MediaPipe's SsdAnchorsCalculator with fixed anchor size
    (every anchor 1 x 1): for each stride, a grid of cells with ``per_cell`` anchors each."""
    out = []
    for stride, k in zip(strides, per_cell, strict=True):
        n = int(np.ceil(input_px / stride))
        c = (np.arange(n) + 0.5) / n
        yy, xx = np.meshgrid(c, c, indexing="ij")
        out.append(np.repeat(np.stack([xx.ravel(), yy.ravel()], axis=1), k, axis=0))
    return np.concatenate(out)


def _letterbox(rgb: np.ndarray, input_px: int) -> tuple[np.ndarray, float, float, float]:
    """``rgb`` scaled bilinearly to fit an ``input_px`` square, centred, black bars, values
    -1..1 (as MediaPipe's ImageToTensor); returns (tensor, scale, pad_x, pad_y) with picture
    px = (tensor px - pad) / scale."""
    import cv2

    h, w = rgb.shape[:2]
    scale = input_px / max(h, w)
    px, py = (max(h, w) - w) / 2 * scale, (max(h, w) - h) / 2 * scale
    m = np.array([[scale, 0, px], [0, scale, py]])
    img = cv2.warpAffine(rgb, m, (input_px, input_px), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    return img.astype("float32") * (2 / 255) - 1, scale, px, py


def _decode(boxes: np.ndarray, logits: np.ndarray, anchors: np.ndarray, input_px: int,
            min_score: float) -> tuple[np.ndarray, np.ndarray]:
    """Detections of MediaPipe's TensorsToDetections (fixed anchors, x/y/w/h scale = input):
    (k, 4 + 2 m) rows ``xmin, ymin, w, h, kx0, ky0, …`` in tensor pixels, and their scores."""
    scores = _sigmoid(logits.reshape(-1))
    keep = scores >= min_score
    raw, anc = boxes.reshape(len(anchors), -1)[keep], anchors[keep] * input_px
    out = raw.astype("float64")
    out[:, 0:2] = raw[:, 0:2] + anc - raw[:, 2:4] / 2  # centre offset -> corner
    out[:, 4::2] += anc[:, :1]
    out[:, 5::2] += anc[:, 1:]
    return out, scores[keep]


def _weighted_nms(dets: np.ndarray, scores: np.ndarray, min_iou: float = 0.3) -> list[np.ndarray]:
    """MediaPipe's weighted non-max suppression: each cluster of boxes overlapping the best
    remaining one by ``min_iou`` or more becomes their score-weighted mean. Best first."""
    order = np.argsort(-scores)
    dets, scores = dets[order], scores[order]
    out = []
    while len(dets):
        x0 = np.maximum(dets[0, 0], dets[:, 0])
        y0 = np.maximum(dets[0, 1], dets[:, 1])
        x1 = np.minimum(dets[0, 0] + dets[0, 2], dets[:, 0] + dets[:, 2])
        y1 = np.minimum(dets[0, 1] + dets[0, 3], dets[:, 1] + dets[:, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        iou = inter / (dets[0, 2] * dets[0, 3] + dets[:, 2] * dets[:, 3] - inter + 1e-9)
        near = iou >= min_iou
        w = scores[near][:, None]
        out.append(np.append((dets[near] * w).sum(axis=0) / w.sum(), scores[0]))
        dets, scores = dets[~near], scores[~near]
    return out


class _SsdDetector:
    """A BlazeFace/BlazePose-style detector: letterbox, anchors, decode, weighted NMS."""

    def __init__(self, filename: str, strides: tuple[int, ...], per_cell: tuple[int, ...],
                 min_score: float, outputs: tuple[str, str]) -> None:
        self._model = _Model(filename, outputs)  # box regressors, score logits
        self.input_px = self._model.input_shape[1]
        self._anchors = ssd_anchors(self.input_px, strides, per_cell)
        self._min_score = min_score

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Rows ``xmin, ymin, w, h, kx0, ky0, …, score`` in pixels of ``rgb``, best first."""
        tensor, scale, px, py = _letterbox(rgb, self.input_px)
        boxes, logits = self._model(tensor)
        dets, scores = _decode(boxes, logits, self._anchors, self.input_px, self._min_score)
        out = []
        for d in _weighted_nms(dets, scores):
            d[[0, *range(4, len(d) - 1, 2)]] -= px  # xmin and every keypoint x (not w)
            d[[1, *range(5, len(d) - 1, 2)]] -= py
            d[:-1] /= scale
            out.append(d)
        return out


class FaceDetector:
    """BlazeFace full range (MediaPipe's ``model_selection=1``): finds faces down to a few
    percent of the picture's width. Threads may share one: calls take turns."""

    name = "face-detection-full-range"

    def __init__(self, min_confidence: float = 0.5) -> None:
        # face_detection_full_range.pbtxt: one 48 x 48 layer, one anchor a cell
        self._ssd = _SsdDetector(FACE_DETECTOR_FILE, (4,), (1,), min_confidence,
                                 ("Identity", "Identity_1"))
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float, float, float]]:
        """Faces as ``(x, y, w, h, score, angle)`` in pixels of ``rgb`` (``angle``: the eye line's
        turn, radians, as :class:`Roi`), best score first."""
        with self._lock:
            dets = self._ssd.detect(rgb)
        out = []
        for d in dets:
            # keypoints 0 and 1: the right and left eye (on screen: left, right)
            angle = -np.arctan2(-(d[7] - d[5]), d[6] - d[4])
            out.append((*map(float, d[:4]), float(d[-1]), float(angle)))
        return out

    def close(self) -> None:
        pass


class FaceLandmarker:
    """MediaPipe Face Landmarker's landmark model (478 points with irises, 256 px input) and,
    when ``blendshapes``, its blendshape model (52 scores from 146 of the points)."""

    name = FACE_BACKEND
    INPUT_PX = 256

    def __init__(self, blendshapes: bool = True) -> None:
        self._mesh = _Model(FACE_LANDMARKS_FILE, ("Identity", "Identity_1"))  # points, presence
        self._shapes = _Model(BLENDSHAPES_FILE) if blendshapes else None

    def detect(self, picture: Picture, roi: Roi) -> FaceLandmarks | None:
        """The face in ``roi`` of ``picture``, or None when the model finds none there."""
        crop, m = roi_crop(picture, roi, self.INPUT_PX)
        points, presence = self._mesh(np.multiply(crop, 1 / 255, dtype="float32"))
        if _sigmoid(float(presence.ravel()[0])) < MIN_PRESENCE:
            return None
        pts = to_picture(points.reshape(-1, 3).astype("float64"), m)
        shapes = None
        if self._shapes is not None:
            scores = self._shapes(pts[BLENDSHAPE_POINTS, :2].astype("float32"))[0].ravel()
            shapes = dict(zip(BLENDSHAPE_NAMES, map(float, scores), strict=True))
        return FaceLandmarks(pts, shapes)

    def roi(self, points: np.ndarray) -> Roi:
        """The next frame's region from this frame's landmarks: eye corners 33 -> 263 level."""
        return roi_from_points(points, 33, 263, FACE_ROI_SCALE)

    def close(self) -> None:
        pass


def face_roi_from_detection(x: float, y: float, w: float, h: float, angle: float) -> Roi:
    """The landmark model's region for a detected face box (MediaPipe: 1.5 x, square)."""
    return Roi(x + w / 2, y + h / 2, FACE_ROI_SCALE * max(w, h), angle)


class _OneEuro:
    """MediaPipe's One Euro filter (LandmarksSmoothingCalculator) of (n, 3) points in pixels at a
    fixed ``rate`` (calls per second); speeds in object sizes per second, the object size being
    the mean of the points' bounding-box width and height."""

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float = 1.0,
                 rate: float = 30.0) -> None:
        self.min_cutoff, self.beta, self.d_cutoff, self.rate = min_cutoff, beta, d_cutoff, rate
        self.raw = self.s = self.ds = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        size = np.ptp(x[:, :2], axis=0).mean()
        if size < 1e-6:
            return x
        if self.s is None:
            self.raw, self.s, self.ds = x.copy(), x.copy(), np.zeros_like(x)
            return x.copy()
        alpha = lambda cutoff: 1.0 / (1.0 + self.rate / (2 * np.pi * cutoff))
        self.ds += alpha(self.d_cutoff) * ((x - self.raw) / size * self.rate - self.ds)
        self.s += alpha(self.min_cutoff + self.beta * np.abs(self.ds)) * (x - self.s)
        self.raw = x.copy()
        return self.s.copy()


def _refine_from_heatmap(xy: np.ndarray, heat: np.ndarray, kernel: int = 7,
                         min_peak: float = 0.5) -> np.ndarray:
    """MediaPipe's RefineLandmarksFromHeatmap: each point (0..1 of the crop) moved to the
    heatmap-weighted mean of the ``kernel`` window around it when the window's peak (a
    sigmoid) reaches ``min_peak`` (with MediaPipe's bound test, which checks the column twice:
    a row past the bottom keeps the part of its window still inside). All points at once."""
    hs, half = heat.shape[0], kernel // 2
    col, row = np.trunc(xy * hs).astype(int).T
    offsets = np.arange(-half, half + 1)
    rows, cols = row[:, None] + offsets, col[:, None] + offsets       # (n, kernel) each
    inside = ((rows >= 0) & (rows < hs))[:, :, None] & ((cols >= 0) & (cols < hs))[:, None, :]
    points = np.arange(len(xy))[:, None, None]
    win = _sigmoid(heat[np.clip(rows, 0, hs - 1)[:, :, None], np.clip(cols, 0, hs - 1)[:, None, :],
                        points].astype("float64")) * inside               # (n, kernel, kernel)
    ok = (col >= 0) & (col < hs) & (row >= 0) & (win.max(axis=(1, 2)) >= min_peak)
    total = win.sum(axis=(1, 2))
    out = xy.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out[ok, 0] = ((win * cols[:, None, :]).sum(axis=(1, 2)) / total / hs)[ok]
        out[ok, 1] = ((win * rows[:, :, None]).sum(axis=(1, 2)) / total / hs)[ok]
    return out


class PoseLandmarker:
    """BlazePose full (MediaPipe's ``model_complexity=1``) for one person in tracking mode, as
    MediaPipe's pose graphs run it: the detector gives the hip centre and a point on the body's
    circle, which place a turned square (x 1.25) that the landmark model reads at 256 px (39
    points, refined with its heatmaps); the next call's square comes from the model's own two
    auxiliary points, smoothed as MediaPipe always smooths them; the detector runs again only
    when the presence flag drops below :data:`MIN_PRESENCE`.

    The 33 landmarks themselves are not smoothed over time (MediaPipe's default smooths them
    assuming 30 calls a second; cuekit calls pose about once a second)."""

    name = POSE_BACKEND
    INPUT_PX = 256

    def __init__(self) -> None:
        # pose_detection_cpu.pbtxt: strides 8, 16, 32, 32, 32 (the last three share one grid),
        # two anchors a layer and cell
        self._ssd = _SsdDetector(POSE_DETECTOR_FILE, (8, 16, 32), (2, 2, 6), MIN_PRESENCE,
                                 ("Identity", "Identity_1"))
        # 39 x (x, y, z, visibility, presence), presence flag 0..1, heatmaps 64 x 64 x 39
        self._mesh = _Model(POSE_LANDMARKS_FILE, ("Identity", "Identity_1", "Identity_3"))
        self._roi: Roi | None = None
        self._aux = _OneEuro(0.01, 1.0)  # pose_landmark_filtering.pbtxt, the auxiliary points

    def detect(self, rgb: np.ndarray, t_ms: int | None = None) -> PoseLandmarks | None:
        """The body in ``rgb`` (H, W, 3 uint8 RGB, one participant's tile), or None. ``t_ms`` is
        not used (the auxiliary filter assumes 30 calls a second, as MediaPipe's does)."""
        roi = self._roi if self._roi is not None else self._detect(rgb)
        found = None if roi is None else self._landmarks(rgb, roi)
        if found is None:
            self._roi, self._aux = None, _OneEuro(0.01, 1.0)
            return None
        points, visibility = found
        aux = self._aux(points[33:35])
        self._roi = roi_from_circle(aux[0, :2], aux[1, :2], POSE_ROI_SCALE)
        return PoseLandmarks(points[:33], visibility[:33])

    def _detect(self, rgb: np.ndarray) -> Roi | None:
        dets = self._ssd.detect(rgb)
        if not dets:
            return None
        d = dets[0]  # keypoint 0: hip centre, 1: a point on the full-body circle
        return roi_from_circle(d[4:6], d[6:8], POSE_ROI_SCALE)

    def segmentation(self, rgb: np.ndarray) -> np.ndarray | None:
        """The landmark model's person mask of ``rgb`` (as :meth:`detect` takes): (H, W) float32
        0..1 in picture pixels, or None when no body is found. The model's 256 x 256
        segmentation logits, read in the region the next :meth:`detect` would use (the
        detector's when not tracking), through a sigmoid and mapped back to the picture; 0
        outside that region. The tracking is left as it was: for a still, :meth:`detect` the
        same picture first to place the region from the landmarks."""
        import cv2

        roi = self._roi if self._roi is not None else self._detect(rgb)
        if roi is None:
            return None
        crop, m = self._crop(rgb, roi)
        flag = self._mesh(crop)[1]
        if float(flag.ravel()[0]) < MIN_PRESENCE:
            return None
        n = self.INPUT_PX
        mask = _sigmoid(self._mesh.output("Identity_2").reshape(n, n)).astype("float32")
        h, w = rgb.shape[:2]
        return cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def _crop(self, rgb: np.ndarray, roi: Roi) -> tuple[np.ndarray, np.ndarray]:
        """The landmark model's input for ``roi`` (float32 0..1) and the 2 x 3 map crop px ->
        picture px (as :func:`roi_crop`'s)."""
        import cv2

        n = self.INPUT_PX
        m = roi_affine(roi, n)
        # beyond the picture the edge pixels repeat, as MediaPipe's crop does for pose (black
        # there moves the landmarks by tens of pixels)
        crop = cv2.warpAffine(rgb, m, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
        return crop.astype("float32") * (1 / 255), m

    def _landmarks(self, rgb: np.ndarray, roi: Roi) -> tuple[np.ndarray, np.ndarray] | None:
        n = self.INPUT_PX
        crop, m = self._crop(rgb, roi)
        raw, flag, heat = self._mesh(crop)
        if float(flag.ravel()[0]) < MIN_PRESENCE:
            return None
        raw = raw.reshape(39, 5).astype("float64")
        xy = _refine_from_heatmap(raw[:, :2] / n, heat[0]) * n
        points = to_picture(np.column_stack([xy, raw[:, 2]]), m)
        return points, _sigmoid(raw[:, 3])

    def close(self) -> None:
        pass
