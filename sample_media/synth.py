"""Synthetic-media primitives with known ground truth, for the sample call and for tests.

Everything here is a pure function of its arguments (plus a few measured constants), so the
same call always gives the same pixels or samples. Units are in the names: ``_px`` pixels,
``_deg`` degrees, ``_s`` seconds, ``_hz`` hertz, ``sr`` samples per second.

The face is ``skimage.data.astronaut()`` (public domain NASA portrait bundled with
scikit-image). Its landmark positions were measured once with MediaPipe Face Mesh
(``static_image_mode=True, refine_landmarks=True``) on the 512x512 original and are hard-coded
in :data:`ASTRONAUT_LANDMARKS_PX`, so warping frames needs no model (only
:func:`astronaut_person`, the cut-out for new backgrounds, runs one: the person mask of cuekit's
BlazePose landmark model).

Head-pose sign conventions follow cuekit's cue table: yaw + = the person turns to *their* left
(image right), pitch + = looks up, roll + = head tilts to their left (clockwise on screen).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from functools import lru_cache

import cv2
import numpy as np

# Face Mesh landmarks of skimage.data.astronaut() (512x512), (x, y) in source pixels.
ASTRONAUT_LANDMARKS_PX: dict[int, tuple[float, float]] = {
    0: (223.6, 140.5), 1: (223.4, 130.0), 10: (226.3, 71.7), 13: (223.5, 143.2),
    14: (223.0, 150.1), 17: (222.7, 154.6), 33: (195.2, 100.9), 61: (201.8, 139.2),
    78: (203.3, 139.9), 133: (213.3, 103.7), 145: (203.4, 104.3), 152: (221.3, 177.4),
    159: (202.8, 97.6), 234: (179.4, 110.0), 263: (255.8, 104.3), 291: (245.0, 141.0),
    308: (243.4, 141.5), 362: (237.0, 104.9), 374: (246.6, 106.7), 386: (248.3, 99.7),
    454: (270.2, 115.5), 468: (203.5, 101.1), 473: (246.6, 103.5),
}
# Head (hair included) as an ellipse in source pixels: centre, semi-axes. Measured by eye.
_HEAD_ELLIPSE_PX = ((226.0, 104.0), (80.0, 92.0))
# Where the astronaut_head crop is centred and how wide it is, in source pixels.
_CROP_CENTRE_PX = (225.0, 122.0)
_CROP_WIDTH_PX = 250.0
_FACE_CENTRE_FRAC_Y = 0.40  # the face centre sits at 40% of the crop height


# ----------------------------------------------------------------------------- images


def _crop_transform(size_px) -> tuple[float, float, float, int, int]:
    """(scale, x0, y0, w, h): crop pixel (u, v) = ((x - x0) * scale, (y - y0) * scale)."""
    w, h = (size_px, size_px) if np.isscalar(size_px) else (int(size_px[0]), int(size_px[1]))
    scale = w / _CROP_WIDTH_PX
    x0 = _CROP_CENTRE_PX[0] - _CROP_WIDTH_PX / 2
    y0 = _CROP_CENTRE_PX[1] - _FACE_CENTRE_FRAC_Y * h / scale
    return scale, x0, y0, int(w), int(h)


def _crop_source(src: np.ndarray, size_px, interp=cv2.INTER_CUBIC) -> np.ndarray:
    scale, x0, y0, w, h = _crop_transform(size_px)
    m = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], dtype=np.float64)
    return cv2.warpAffine(src, m, (w, h), flags=interp, borderMode=cv2.BORDER_REPLICATE)


def astronaut_head(size_px) -> np.ndarray:
    """Head-and-shoulders crop of ``skimage.data.astronaut()`` as BGR uint8.

    ``size_px`` is ``(width, height)`` or one int for a square. The face is ~36% of the width
    wide (a 628 px wide crop gives a ~230 px face), well above the ~15% the short-range face
    detector needs. Needs scikit-image.
    """
    from skimage import data

    src = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    return _crop_source(src, size_px)


@lru_cache(maxsize=1)
def _astronaut_mask_512() -> np.ndarray:
    from skimage import data

    from cuekit.video.landmarks import PoseLandmarker

    rgb = np.ascontiguousarray(data.astronaut())
    pose = PoseLandmarker()
    if pose.detect(rgb) is None:  # places the body's region from the landmarks, as when tracking
        raise RuntimeError("BlazePose finds no body in skimage.data.astronaut()")
    m = pose.segmentation(rgb)
    # a slightly tight edge, so no backdrop shows as a halo round the hair
    m = np.clip((m.astype(np.float32) - 0.45) / 0.15, 0, 1)
    m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    return cv2.GaussianBlur(m, (0, 0), 0.8)


def astronaut_person_mask(size_px) -> np.ndarray:
    """Soft person mask (float32 0..1, 1 = person) matching ``astronaut_head(size_px)``.

    From the segmentation output of the BlazePose landmark model cuekit ships (run on LiteRT
    by :class:`cuekit.video.landmarks.PoseLandmarker`) once on the original photo, tightened by
    ~1 source pixel. Needs cuekit and scikit-image.
    """
    return np.clip(_crop_source(_astronaut_mask_512(), size_px, cv2.INTER_LINEAR), 0, 1)


def astronaut_person(size_px) -> np.ndarray:
    """The person of ``astronaut_head(size_px)`` cut out: BGRA uint8, alpha = the soft mask.

    Colours in the faint part of the soft edge are replaced by the nearby opaque colours, so
    compositing over a new background leaves no fringe of the original grey backdrop.
    """
    head = astronaut_head(size_px).astype(np.float32)
    alpha = astronaut_person_mask(size_px)
    core = (alpha > 0.97).astype(np.float32)
    sigma = max(1.0, 0.01 * head.shape[1])
    num = cv2.GaussianBlur(head * core[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(core, (0, 0), sigma)[..., None]
    inward = np.where(den > 1e-3, num / np.maximum(den, 1e-3), head)
    k = np.clip((0.9 - alpha) / 0.6, 0, 1)[..., None]  # mostly opaque edge pixels keep theirs
    colour = head * (1 - k) + inward * k
    out = np.dstack([colour, alpha * 255]).round()
    return np.clip(out, 0, 255).astype(np.uint8)


def composite(fg_bgra: np.ndarray, bg_bgr: np.ndarray) -> np.ndarray:
    """``fg`` (BGRA, straight alpha) over ``bg`` (BGR, same size) as BGR uint8."""
    a = fg_bgra[..., 3].astype(np.float32) * (1 / 255.0)
    return cv2.blendLinear(np.ascontiguousarray(fg_bgra[..., :3]), bg_bgr, a, 1.0 - a)


def astronaut_landmarks_px(size_px) -> dict[int, np.ndarray]:
    """The measured landmarks of :data:`ASTRONAUT_LANDMARKS_PX` in ``astronaut_head`` pixels."""
    scale, x0, y0, _, _ = _crop_transform(size_px)
    return {k: np.array([(x - x0) * scale, (y - y0) * scale])
            for k, (x, y) in ASTRONAUT_LANDMARKS_PX.items()}


def _head_ellipse_px(size_px):
    scale, x0, y0, _, _ = _crop_transform(size_px)
    (cx, cy), (ax, ay) = _HEAD_ELLIPSE_PX
    return np.array([(cx - x0) * scale, (cy - y0) * scale]), np.array([ax, ay]) * scale


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def rotation_matrix(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """3x3 head rotation in camera axes (x right, y down, z away from the camera)."""
    a, b, c = np.radians([-yaw_deg, -pitch_deg, roll_deg])
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return ry @ rx @ rz


def head_homography(yaw_deg: float, pitch_deg: float, roll_deg: float,
                    centre_px, focal_px: float) -> np.ndarray:
    """Homography (source px -> moved px) of a planar face rotated about its centre.

    The face is a plane facing the camera at distance ``focal_px`` (so one plane unit is one
    pixel); it rotates about ``centre_px``, which stays put. ``H = K [r1 r2 t] S`` with
    ``K`` the pinhole camera, ``t = (0, 0, focal_px)`` and ``S`` moving the centre to the origin.
    """
    r = rotation_matrix(yaw_deg, pitch_deg, roll_deg)
    return _homography_from_r(r, (float(centre_px[0]), float(centre_px[1])), float(focal_px))


def _apply_h(h: np.ndarray, x: np.ndarray, y: np.ndarray):
    d = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    return (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / d, (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / d


def _lip_geometry(lm: dict[int, np.ndarray]):
    """Mouth corners, mouth width, centre x and the y where upper teeth meet the lower lip."""
    left, right = lm[61], lm[291]
    width = float(np.hypot(*(right - left)))
    centre_x = 0.5 * (left[0] + right[0])
    # the split line passes just above the lower lip's inner edge (landmark 14)
    split_c = lm[14][1] - 0.15 * (lm[14][1] - lm[13][1])
    return left, right, width, centre_x, split_c


def _split_y(x, left, right, centre_x, split_c):
    """y of the split line (corners to centre dip) at column x; parabola between the corners."""
    t = (x - left[0]) / (right[0] - left[0])
    base = left[1] + t * (right[1] - left[1])
    base_c = left[1] + (centre_x - left[0]) / (right[0] - left[0]) * (right[1] - left[1])
    u = (x - centre_x) / (0.5 * (right[0] - left[0]))
    return base + (split_c - base_c) * (1 - np.clip(u, -1, 1) ** 2)


def face_depth_px(x: np.ndarray, y: np.ndarray, lm: dict[int, np.ndarray]) -> np.ndarray:
    """Height of the face surface toward the camera at source pixel (x, y), in pixels.

    A smooth 2.5-D face: a paraboloid cap over the face (0.30 face widths high at the centre,
    0 just outside the face outline) plus a nose ridge (a Gaussian 0.12 face widths high). Its slopes stay
    below ~1, so a rotated face never folds over itself. It makes a yaw or pitch move the nose
    against the face outline the way a real head does, which landmark-based pose estimators
    (solvePnP against a 3-D face) need to see a rotation; a flat photo would barely register.
    """
    c = np.mean([lm[33], lm[263], lm[61], lm[291]], axis=0)
    fw = float(np.hypot(*(lm[454] - lm[234])))
    u, v = (x - c[0]) / (0.6 * fw), (y - c[1]) / (0.85 * fw)
    cap = 0.30 * fw * np.clip(1 - u * u - v * v, 0, None)
    nose = lm[1] - np.array([0.0, 0.08 * fw])
    nx, ny = (x - nose[0]) / (0.08 * fw), (y - nose[1]) / (0.12 * fw)
    return cap + 0.12 * fw * np.exp(-0.5 * (nx * nx + ny * ny))


def _head_forward(sx, sy, r, c, f, lm):
    """Where source pixel (sx, sy) of the 2.5-D face lands after rotation ``r`` about ``c``."""
    xx, yy, zz = sx - c[0], sy - c[1], -face_depth_px(sx, sy, lm)
    px = r[0, 0] * xx + r[0, 1] * yy + r[0, 2] * zz
    py = r[1, 0] * xx + r[1, 1] * yy + r[1, 2] * zz
    pz = r[2, 0] * xx + r[2, 1] * yy + r[2, 2] * zz + f
    return f * px / pz + c[0], f * py / pz + c[1]


def _head_inverse(x, y, r, c, f, lm, *, iters: int = 12, tol_px: float = 0.02):
    """Source pixel for each moved pixel (x, y): solve ``_head_forward(s) = p`` by fixed-point
    iteration ``s <- H^-1(p - parallax(s))``, which contracts while the depth slopes stay < 1."""
    h = _homography_from_r(r, c, f)
    hinv = np.linalg.inv(h)
    sx, sy = _apply_h(hinv, x, y)
    for _ in range(iters):
        fx, fy = _head_forward(sx, sy, r, c, f, lm)
        px, py = _apply_h(h, sx, sy)  # planar part; parallax = forward - planar
        nx, ny = _apply_h(hinv, x - (fx - px), y - (fy - py))
        step = max(float(np.abs(nx - sx).max(initial=0)), float(np.abs(ny - sy).max(initial=0)))
        sx, sy = nx, ny
        if step < tol_px:
            break
    return sx, sy


def _homography_from_r(r, c, f):
    k = np.array([[f, 0, c[0]], [0, f, c[1]], [0, 0, 1.0]])
    rt = np.column_stack([r[:, 0], r[:, 1], [0.0, 0.0, f]])
    s = np.array([[1, 0, -c[0]], [0, 1, -c[1]], [0, 0, 1.0]])
    h = k @ rt @ s
    return h / h[2, 2]


def warp_head(img: np.ndarray, *, yaw_deg: float = 0.0, pitch_deg: float = 0.0,
              roll_deg: float = 0.0, shift_px=(0.0, 0.0), scale: float = 1.0,
              mouth_open: float = 0.0, fill_bgr=None,
              landmarks_px: dict[int, np.ndarray] | None = None,
              focal_px: float | None = None) -> np.ndarray:
    """Move the head of an ``astronaut_head`` image in a known way; returns a new image.

    - ``roll_deg``, ``pitch_deg``, ``yaw_deg``: rotation of the head about the face centre
      (the mean of the eye and mouth corners), seen by a pinhole camera with focal length
      ``focal_px`` (default 4 face widths, a webcam ~60 cm away). Roll is the in-plane
      rotation; pitch and yaw are the 3-D rotation of the face plane (the homography
      ``K [r1 r2 t] S``, :func:`head_homography`) plus the parallax of a smooth face relief
      (:func:`face_depth_px`), so the nose moves against the face outline as on a real head.
      The head (hair to chin) moves rigidly; the deformation fades out over the neck so the
      shoulders stay put, with no tearing.
    - ``shift_px`` (dx, dy) and ``scale`` (about the face centre) move the whole picture
      (sway, leaning in).
    - ``mouth_open`` 0..1 drops the lower lip and jaw (0.25 mouth widths at 1) and paints a dark
      mouth cavity between the upper teeth and the lower lip.
    - ``fill_bgr``: colour for areas uncovered at the frame edge; None repeats the edge pixels.
      ``img`` may be BGRA (e.g. :func:`astronaut_person`): the alpha moves with the picture.
    - ``landmarks_px``: face landmarks of ``img`` (default: the astronaut's, for its size).
    """
    hgt, wid = img.shape[:2]
    lm = landmarks_px if landmarks_px is not None else astronaut_landmarks_px((wid, hgt))
    face_c = np.mean([lm[33], lm[263], lm[61], lm[291]], axis=0)
    face_w = float(np.hypot(*(lm[454] - lm[234])))
    focal = float(focal_px) if focal_px is not None else 4.0 * face_w
    border = cv2.BORDER_REPLICATE if fill_bgr is None else cv2.BORDER_CONSTANT
    value = tuple(float(v) for v in fill_bgr) if fill_bgr is not None else 0

    # 1. the whole picture: dst = scale * (p - c) + c + shift
    dx, dy = float(shift_px[0]), float(shift_px[1])
    a = np.array([[scale, 0, (1 - scale) * face_c[0] + dx],
                  [0, scale, (1 - scale) * face_c[1] + dy]], np.float64)
    if scale == 1.0 and dx == 0.0 and dy == 0.0:
        out = img.copy()
    else:
        out = cv2.warpAffine(img, a, (wid, hgt), flags=cv2.INTER_LINEAR, borderMode=border,
                             borderValue=value)
    rotate = bool(yaw_deg or pitch_deg or roll_deg)
    if not rotate and mouth_open <= 0:
        return out

    # 2. the head region, in output pixels: the head ellipse and its fade-out, plus a margin
    (ecx, ecy), (eax, eay) = _head_ellipse_from(lm, (wid, hgt), landmarks_px is None)
    reach = 1.35
    margin = 0.25 * face_w
    corners = np.array([[ecx - reach * eax - margin, ecy - reach * eay - margin],
                        [ecx + reach * eax + margin, ecy + reach * eay + margin]])
    if not rotate:  # only the mouth moves
        left, right = lm[61], lm[291]
        half = 0.5 * (right[0] - left[0])
        corners = np.array([[left[0] - 1.2 * half, min(left[1], right[1]) - 0.1 * face_w],
                            [right[0] + 1.2 * half, lm[152][1] + 0.55 * face_w]])
    corners = (corners - face_c) * scale + face_c + (dx, dy)
    step = 4  # the head map is smooth: solve it on a coarse grid, then upsample
    c0, r0 = (max(0, int(v) // step * step) for v in np.floor(corners[0]))
    c1, r1 = (min(lim, int(np.ceil(v / step)) * step) for v, lim in zip(corners[1], (wid, hgt), strict=True))
    c1, r1 = c0 + (c1 - c0) // step * step, r0 + (r1 - r0) // step * step
    if c1 <= c0 or r1 <= r0:
        return out

    def to_head(xs, ys):  # output pixels -> head-space pixels (undo the global move)
        return (xs - face_c[0] - dx) / scale + face_c[0], (ys - face_c[1] - dy) / scale + face_c[1]

    if rotate:
        # 3. head rotation on a grid of step-px cells, blended into the identity outside the
        # head ellipse; sample (i, j) sits where cv2.resize puts coarse pixel (i, j)
        gx = c0 + step * np.arange((c1 - c0) // step) + (step - 1) / 2
        gy = r0 + step * np.arange((r1 - r0) // step) + (step - 1) / 2
        x, y = to_head(*np.meshgrid(gx, gy))
        r = rotation_matrix(yaw_deg, pitch_deg, roll_deg)
        hx, hy = _head_inverse(x, y, r, face_c, focal, lm)
        rr = np.sqrt(((x - ecx) / eax) ** 2 + ((y - ecy) / eay) ** 2)
        w = 1.0 - _smoothstep((rr - 1.0) / (reach - 1.0))
        size = (c1 - c0, r1 - r0)
        x = cv2.resize((x + w * (hx - x)).astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
        y = cv2.resize((y + w * (hy - y)).astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    else:
        x, y = to_head(*np.meshgrid(np.arange(c0, c1, dtype=np.float32),
                                    np.arange(r0, r1, dtype=np.float32)))
        x, y = x.astype(np.float32), y.astype(np.float32)

    # 4. mouth: below the split line the source is sampled higher up (the jaw drops)
    cavity = None
    if mouth_open > 0:
        left, right, mw, mcx, split_c = _lip_geometry(lm)
        half = 0.5 * (right[0] - left[0])
        chin_y = lm[152][1]
        # only the pixels whose head-space position is near the mouth and chin
        near = ((np.abs(x - mcx) < 2.0 * half) & (y > min(left[1], right[1]) - 2)
                & (y < chin_y + 0.5 * face_w))
        rows, cols = np.flatnonzero(near.any(axis=1)), np.flatnonzero(near.any(axis=0))
        if len(rows) and len(cols):
            sl = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
            mx, my = x[sl].astype(np.float64), y[sl].astype(np.float64)
            depth = 0.25 * mw * float(np.clip(mouth_open, 0, 1))
            split = _split_y(mx, left, right, mcx, split_c)
            u = (mx - mcx) / half
            lens = np.clip(1 - u**2, 0, 1)  # gap profile along the lip line: 0 at the corners
            below = my - split
            # the drop widens from the lens at the lips to the whole chin, then fades on the neck
            t_down = np.clip(below / max(chin_y - split_c, 1.0), 0, 1)
            wide = np.clip(1 - (u / (1 + 0.9 * t_down)) ** 2, 0, 1)
            prof = np.where(below < 0, 0.0, lens + (wide - lens) * t_down)
            fade = 1 - _smoothstep((my - chin_y) / (0.5 * face_w))
            gap = depth * lens
            # between the split line and the dropped lower lip: the mouth cavity (soft edges)
            inside = np.clip(np.minimum(below + 0.5, gap - below + 0.5), 0, 1)
            cav = inside * np.clip(gap / 1.5, 0, 1)
            shade = np.clip(below / np.maximum(gap, 1e-6), 0, 1)  # 0 at the teeth, 1 at the lip
            y = y.copy()
            y[sl] = (my - depth * prof * fade).astype(np.float32)
            cavity = np.zeros(x.shape, np.float32)
            shading = np.zeros(x.shape, np.float32)
            cavity[sl], shading[sl] = cav, shade

    roi = cv2.remap(img, x, y, cv2.INTER_LINEAR,
                    borderMode=border, borderValue=value)
    if cavity is not None and cavity.max() > 0:
        al = cavity.astype(np.float32)[..., None]
        # dark mouth interior, a little lighter under the teeth and toward the lower lip
        dark = np.array([22, 16, 44], np.float32)
        lift = (np.abs(shading - 0.45)[..., None] * np.array([20, 18, 40], np.float32))
        rgb = roi[..., :3].astype(np.float32) * (1 - al) + (dark + lift) * al
        roi[..., :3] = rgb.round().astype(np.uint8)
    out[r0:r1, c0:c1] = roi
    return out


def _head_ellipse_from(lm, size_px, is_astronaut: bool):
    if is_astronaut:
        return _head_ellipse_px(size_px)
    # generic face: from the landmarks (forehead 10, chin 152, face sides 234 / 454)
    cx = 0.5 * (lm[234][0] + lm[454][0])
    top, chin = lm[10][1], lm[152][1]
    half_w = 0.5 * float(np.hypot(*(lm[454] - lm[234])))
    return (np.array([cx, 0.5 * (top + chin) - 0.1 * (chin - top)]),
            np.array([1.7 * half_w, 0.5 * (chin - top) * 1.6]))


# ----------------------------------------------------------------------------- audio


def espeak(text: str, *, voice: str, pitch: int, rate_wpm: int, sr: int) -> np.ndarray:
    """Speak ``text`` with espeak-ng; float32 mono at ``sr`` Hz (peak about 0.5-0.9).

    ``pitch`` is espeak-ng's 0-99 scale (not Hz), ``rate_wpm`` words per minute. Resampled from
    espeak-ng's 22.05 kHz with soxr (via librosa), which is deterministic.
    """
    import librosa
    import soundfile as sf

    fd, tmp = tempfile.mkstemp(suffix=".wav")
    os.close(fd)
    try:
        subprocess.run(["espeak-ng", "-v", voice, "-p", str(int(pitch)), "-s", str(int(rate_wpm)),
                        "-w", tmp, text], check=True, capture_output=True)
        y, sr0 = sf.read(tmp, dtype="float32", always_2d=True)
    finally:
        os.unlink(tmp)
    y = y.mean(axis=1)
    if sr0 != sr:
        y = librosa.resample(y, orig_sr=sr0, target_sr=sr, res_type="soxr_hq")
    return y.astype(np.float32)


def frame_rms(y: np.ndarray, sr: int, *, frame_s: float = 0.02, hop_s: float = 0.005):
    """(times_s, rms): RMS in centred windows of ``frame_s`` every ``hop_s`` seconds."""
    n, hop = max(1, int(round(frame_s * sr))), max(1, int(round(hop_s * sr)))
    sq = np.concatenate([[0.0], np.cumsum(np.asarray(y, np.float64) ** 2)])
    centres = np.arange(0, len(y), hop)
    lo = np.clip(centres - n // 2, 0, len(y))
    hi = np.clip(centres + n // 2, 0, len(y))
    rms = np.sqrt((sq[hi] - sq[lo]) / np.maximum(hi - lo, 1))
    return centres / sr, rms


def trim_silence(y: np.ndarray, sr: int, *, threshold_db: float = -35.0,
                 frame_s: float = 0.02) -> tuple[float, float]:
    """Voiced extent ``(start_s, end_s)`` of ``y``: first/last window whose RMS is within
    ``threshold_db`` of the loudest window. ``(0.0, 0.0)`` for silence."""
    t, rms = frame_rms(y, sr, frame_s=frame_s)
    if not len(rms) or rms.max() <= 0:
        return 0.0, 0.0
    on = np.flatnonzero(rms >= rms.max() * 10 ** (threshold_db / 20))
    return float(t[on[0]]), float(min(t[on[-1]] + frame_s / 2, len(y) / sr))


def voiced_segments(y: np.ndarray, sr: int, *, threshold_db: float = -35.0,
                    min_gap_s: float = 0.3, frame_s: float = 0.02,
                    ref_rms: float | None = None) -> list[tuple[float, float]]:
    """Voiced stretches ``[(start_s, end_s)]`` split at silences of at least ``min_gap_s``.

    The threshold is relative to ``ref_rms`` (default: the loudest window of ``y``).
    """
    t, rms = frame_rms(y, sr, frame_s=frame_s)
    ref = ref_rms if ref_rms is not None else (rms.max() if len(rms) else 0.0)
    if ref <= 0:
        return []
    on = rms >= ref * 10 ** (threshold_db / 20)
    idx = np.flatnonzero(on)
    if not len(idx):
        return []
    segs, start, prev = [], idx[0], idx[0]
    for i in idx[1:]:
        if t[i] - t[prev] > min_gap_s:
            segs.append((t[start], t[prev]))
            start = i
        prev = i
    segs.append((t[start], t[prev]))
    end_max = len(y) / sr
    return [(float(a), float(min(b + frame_s / 2, end_max))) for a, b in segs]


def speech_envelope(y: np.ndarray, sr: int, times_s: np.ndarray, *, smooth_s: float = 0.05,
                    floor_db: float = -40.0, ref_rms: float | None = None) -> np.ndarray:
    """Mouth-opening drive 0..1 at ``times_s``: RMS over ``smooth_s`` windows on a dB scale
    from ``floor_db`` (0, closed) to the reference RMS (1), default the loudest window."""
    t, rms = frame_rms(y, sr, frame_s=smooth_s, hop_s=0.005)
    ref = ref_rms if ref_rms is not None else max(float(rms.max()), 1e-9)
    db = 20 * np.log10(np.maximum(rms, 1e-9) / ref)
    env = np.clip((db - floor_db) / -floor_db, 0, 1)
    return np.interp(times_s, t, env).astype(np.float32)


# ----------------------------------------------------------------------------- writing


def place_utterances(utts: list[dict], names: Iterable[str], n_samples: int, sr: int,
                     speech_rms: float) -> dict[str, np.ndarray]:
    """One clean track per participant (``names``), ``n_samples`` long: each utterance's
    samples ``u["y"]`` added from ``u["place"]`` seconds, snapped to a sample (``u["k"]``), its
    ``u["start"]`` / ``u["end"]`` set to the exact times of its speech (``u["on"]`` /
    ``u["off"]`` seconds into ``y``); then each track scaled so that its loud level (the 90th
    percentile of the frame RMS above 5 % of the loudest) is ``speech_rms``."""
    tracks = {p: np.zeros(n_samples, np.float32) for p in names}
    for u in utts:
        k = int(round(u["place"] * sr))
        y = u["y"][: n_samples - k]
        tracks[u["participant"]][k:k + len(y)] += y
        u["k"] = k
        u["start"], u["end"] = k / sr + u["on"], k / sr + u["off"]  # exact sample times
    for p, y in tracks.items():
        _, rms = frame_rms(y, sr)
        loud = np.percentile(rms[rms > rms.max() * 0.05], 90)
        tracks[p] = (y * (speech_rms / loud)).astype(np.float32)
    return tracks


def mouth_openings(tracks: dict[str, np.ndarray], sr: int, t: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """Mouth opening 0..1 at times ``t`` for each speaker, from their own clean track's speech
    envelope (referred to the track's loud level: the 90th percentile of 50 ms frame RMS above
    5 % of the loudest)."""
    out = {}
    for p, y in tracks.items():
        _, rms = frame_rms(y, sr, frame_s=0.05)
        ref = float(np.percentile(rms[rms > rms.max() * 0.05], 90))
        out[p] = speech_envelope(y, sr, t, smooth_s=0.05, floor_db=-30.0, ref_rms=ref)
    return out


def pick_video_codec() -> str:
    """The best H.264-ish encoder PyAV's bundled FFmpeg offers: libx264, h264 or mpeg4."""
    import av

    for name in ("libx264", "h264", "mpeg4"):
        if name in av.codecs_available:
            try:
                av.codec.Codec(name, "w")
                return name
            except Exception:  # noqa: BLE001 - a decoder-only name; try the next
                continue
    raise RuntimeError("PyAV has no H.264 or MPEG-4 encoder")


def write_av(path: str, frames_iter: Iterable[np.ndarray], fps: int, audio: np.ndarray,
             sr: int, *, crf: int = 30, preset: str = "medium", audio_bitrate: int = 64000,
             gop_s: float = 10.0) -> str:
    """Write BGR uint8 frames plus mono float audio to an MP4 with PyAV (no ffmpeg binary).

    Video: H.264 (``libx264``, constant quality ``crf``) when available, else ``h264`` /
    ``mpeg4``; yuv420p, frame ``i`` at ``i / fps`` s. Audio: AAC mono at ``sr`` Hz, interleaved
    with the video. Returns the video codec name used.
    """
    import av

    codec = pick_video_codec()
    audio = np.asarray(audio, np.float32)
    chunk = 1024
    with av.open(path, "w", format="mp4") as out:
        vs = None
        ast = out.add_stream("aac", rate=sr)
        ast.layout = "mono"
        ast.bit_rate = audio_bitrate
        ast.time_base = Fraction(1, sr)
        a_pos = 0

        def push_audio(until: int):
            nonlocal a_pos
            while a_pos < min(until, len(audio)):
                piece = audio[a_pos:a_pos + chunk]
                fr = av.AudioFrame.from_ndarray(piece[None, :], format="fltp", layout="mono")
                fr.sample_rate = sr
                fr.pts = a_pos
                fr.time_base = Fraction(1, sr)
                out.mux(ast.encode(fr))
                a_pos += len(piece)

        for i, img in enumerate(frames_iter):
            if vs is None:
                vs = out.add_stream(codec, rate=fps)
                vs.width, vs.height = img.shape[1], img.shape[0]
                vs.pix_fmt = "yuv420p"
                vs.time_base = Fraction(1, fps)
                if codec == "libx264":
                    vs.options = {"crf": str(crf), "preset": preset,
                                  "g": str(int(gop_s * fps)), "bf": "3"}
                else:
                    vs.bit_rate = 1_500_000
            fr = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            fr.pts = i
            out.mux(vs.encode(fr))
            push_audio(int(round((i + 1) / fps * sr)) + chunk)
        push_audio(len(audio))
        out.mux(ast.encode(None))
        if vs is not None:
            out.mux(vs.encode(None))
    return codec
