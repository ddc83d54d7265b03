"""Body cues: posture from pose landmarks, lean from face size, motion energy by frame differencing.

Pure numpy/OpenCV (the motion image shrunk with ``cuekit.media.shrink_blocks``). Pose inputs
are ``points`` (m, 33, 3) in pixels and ``visibility`` (m, 33) 0..1, with NaN rows for frames
where no body was found; outputs are (m,) and NaN where the body
parts they need are not visible (never 0).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..media import shrink_blocks

NOSE, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 0, 11, 12, 13, 14, 15, 16
MIN_VISIBILITY = 0.5
MOTION_WIDTH_PX = 160      # regions are compared at about this width (a whole fraction of their
                           # own), so the share barely depends on the tile's size
MOTION_THRESHOLD = 12      # grey levels (of 255) a pixel must change by to count as motion


def _visible(visibility: np.ndarray, *idx: int) -> np.ndarray:
    v = np.nan_to_num(np.asarray(visibility, dtype="float64"), nan=0.0)
    return np.all(v[:, list(idx)] >= MIN_VISIBILITY, axis=1)


def shoulder_width_px(points: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """Distance between the shoulders in pixels (image plane), NaN when one is not visible."""
    p = np.asarray(points, dtype="float64")
    w = np.linalg.norm(p[:, L_SHOULDER, :2] - p[:, R_SHOULDER, :2], axis=-1)
    return np.where(_visible(visibility, L_SHOULDER, R_SHOULDER), w, np.nan)


def shoulder_tilt_deg(points: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """Angle of the shoulder line in degrees; + = the person's left shoulder is higher."""
    p = np.asarray(points, dtype="float64")
    d = p[:, L_SHOULDER, :2] - p[:, R_SHOULDER, :2]  # person's left is image right when facing
    tilt = np.degrees(np.arctan2(-d[:, 1], d[:, 0]))
    return np.where(_visible(visibility, L_SHOULDER, R_SHOULDER), tilt, np.nan)


def neck_ratio(points: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """Height of the nose above the shoulder line, in shoulder widths (NaN if not visible)."""
    p = np.asarray(points, dtype="float64")
    mid = 0.5 * (p[:, L_SHOULDER, :2] + p[:, R_SHOULDER, :2])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (mid[:, 1] - p[:, NOSE, 1]) / shoulder_width_px(p, visibility)
    return np.where(_visible(visibility, NOSE), r, np.nan)


def slouch(neck: np.ndarray, *, upright_pct: float = 90.0) -> np.ndarray:
    """0..1 slouch: how far the neck ratio falls below the person's upright level (its
    ``upright_pct`` percentile), as a share of that level. 0.3 = the head sits 30% lower."""
    neck = np.asarray(neck, dtype="float64")
    ok = np.isfinite(neck)
    if not ok.any():
        return np.full(neck.shape, np.nan)
    upright = np.percentile(neck[ok], upright_pct)
    if upright <= 0:
        return np.full(neck.shape, np.nan)
    return np.clip((upright - neck) / upright, 0.0, 1.0)


def arms_crossed(points: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """1 when each wrist is on the other side of the body's midline, below the shoulders,
    0 when not, NaN when shoulders, elbows and wrists are not all visible."""
    p = np.asarray(points, dtype="float64")
    mid_x = 0.5 * (p[:, L_SHOULDER, 0] + p[:, R_SHOULDER, 0])
    side = np.sign(p[:, L_SHOULDER, 0] - p[:, R_SHOULDER, 0])  # + when the person faces us
    crossed = ((p[:, L_WRIST, 0] - mid_x) * side < 0) & ((p[:, R_WRIST, 0] - mid_x) * side > 0)
    below = (p[:, L_WRIST, 1] > p[:, L_SHOULDER, 1]) & (p[:, R_WRIST, 1] > p[:, R_SHOULDER, 1])
    vis = _visible(visibility, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST)
    return np.where(vis, (crossed & below).astype("float64"), np.nan)


def hand_activity(t: np.ndarray, points: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """Wrist speed in shoulder widths per second between consecutive pose samples, mean of the
    visible wrists; NaN for the first sample and when no wrist is visible in both samples."""
    t = np.asarray(t, dtype="float64")
    p = np.asarray(points, dtype="float64")
    width = shoulder_width_px(p, visibility)
    out = np.full(len(t), np.nan)
    if len(t) < 2:
        return out
    ref = np.where(np.isfinite(width[1:]), width[1:], width[:-1])  # shoulder width, px
    speeds = []
    for w in (L_WRIST, R_WRIST):
        vis = _visible(visibility, w)
        step = np.linalg.norm(np.diff(p[:, w, :2], axis=0), axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            speeds.append(np.where(vis[1:] & vis[:-1], step / np.diff(t) / ref, np.nan))
    s = np.vstack(speeds)
    n = np.isfinite(s).sum(axis=0)
    out[1:] = np.where(n > 0, np.nansum(s, axis=0) / np.maximum(n, 1), np.nan)
    return out


def lean(face_size: np.ndarray) -> np.ndarray:
    """Lean toward (+) or away (-) from the camera: face size over the person's median, minus 1,
    clipped to -1..1 (0.2 = face 20% larger than usual). NaN where there is no face."""
    s = np.asarray(face_size, dtype="float64")
    ok = np.isfinite(s) & (s > 0)
    if not ok.any():
        return np.full(s.shape, np.nan)
    return np.clip(s / np.median(s[ok]) - 1.0, -1.0, 1.0)


def motion_shrink(width_px: int) -> int:
    """The whole factor that brings a region ``width_px`` wide nearest ``MOTION_WIDTH_PX``."""
    return max(1, int(round(width_px / MOTION_WIDTH_PX)))


def motion_gray(region_gray: np.ndarray) -> np.ndarray:
    """A grey region (0..255) prepared for differencing: shrunk by :func:`motion_shrink` of its
    width (whole blocks averaged; a region already about ``MOTION_WIDTH_PX`` wide stays as it
    is), lightly blurred (so compression noise does not count as motion)."""
    g = shrink_blocks(region_gray, motion_shrink(region_gray.shape[1]))
    return cv2.GaussianBlur(g, (5, 5), 0)


def motion_energy(prev_gray: np.ndarray | None, gray: np.ndarray) -> float:
    """Share of pixels (0..1) that changed by more than ``MOTION_THRESHOLD`` grey levels between
    two :func:`motion_gray` images (Motion Energy Analysis); NaN without a previous image."""
    if prev_gray is None or prev_gray.shape != gray.shape:
        return float("nan")
    return float(np.mean(cv2.absdiff(prev_gray, gray) > MOTION_THRESHOLD))
