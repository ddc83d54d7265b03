"""Face cues from 478 face landmarks: head pose, eye openness, gaze, expression. Pure numpy.

Every function takes ``points`` of shape (n, 478, 3) — n frames of landmarks in pixels (x right,
y down, z depth in the same scale, smaller = nearer) — with NaN rows for frames without a face,
and returns arrays of shape (n,) that are NaN for those frames (never 0).

Indices follow MediaPipe's Face Mesh topology: "right" is the person's right (image left).
"""

from __future__ import annotations

import numpy as np

from ..intervals import robust_sd

# Face Mesh indices.
FOREHEAD, CHIN, NOSE_TIP = 10, 152, 1
FACE_RIGHT, FACE_LEFT = 234, 454             # face sides (image left, image right)
R_EYE_OUT, R_EYE_IN, L_EYE_IN, L_EYE_OUT = 33, 133, 362, 263
R_EYE_LIDS = ((160, 144), (159, 145), (158, 153))  # (upper, lower) pairs
L_EYE_LIDS = ((385, 380), (386, 374), (387, 373))
R_IRIS, L_IRIS = 468, 473
LIP_UP, LIP_LOW, MOUTH_R, MOUTH_L = 13, 14, 61, 291
R_BROW_MID, L_BROW_MID = 105, 334
R_BROW_IN, L_BROW_IN = 55, 285

_EYE_BALL_GAIN = 1.25  # eyeball radius ~12 mm over eye half-width ~15 mm: sin(angle) = 1.25 * offset


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def face_axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head axes in camera coordinates, each (n, 3) unit vectors: ``ex`` toward the person's
    left (image right when frontal), ``ey`` up the face (chin to forehead), ``ez`` out of the face
    toward the camera. From the 3-D landmarks, so they agree with the Tasks transformation
    matrix within ~2° (measured on the astronaut photo)."""
    p = np.asarray(points, dtype="float64")
    ex = _unit(p[:, FACE_LEFT] - p[:, FACE_RIGHT])
    up = p[:, FOREHEAD] - p[:, CHIN]
    ez = _unit(np.cross(ex, up))
    ey = np.cross(ez, ex)
    return ex, ey, ez


def head_pose_deg(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head ``(yaw, pitch, roll)`` in degrees, each (n,).

    yaw + = the person turns to their left (nose toward image right), pitch + = looks up,
    roll + = head tilts to their left (clockwise on screen). Roll is exact for in-plane rotation;
    yaw and pitch come from the landmark model's depth estimate, which under-reads small
    rotations of a flat picture (a synthetic planar face rotated 15° reads ~1–3°).
    """
    ex, _, ez = face_axes(points)
    yaw = np.degrees(np.arctan2(ez[:, 0], -ez[:, 2]))
    pitch = np.degrees(np.arcsin(np.clip(-ez[:, 1], -1.0, 1.0)))
    roll = np.degrees(np.arctan2(ex[:, 1], ex[:, 0]))
    return yaw, pitch, roll


def interocular_px(points: np.ndarray) -> np.ndarray:
    """3-D distance between the eye centres (mid of each eye's corners), pixels, (n,)."""
    p = np.asarray(points, dtype="float64")
    right = 0.5 * (p[:, R_EYE_OUT] + p[:, R_EYE_IN])
    left = 0.5 * (p[:, L_EYE_OUT] + p[:, L_EYE_IN])
    return np.linalg.norm(left - right, axis=-1)


def face_size_px(points: np.ndarray) -> np.ndarray:
    """3-D face width (side to side), pixels, (n,); nearly independent of head rotation."""
    p = np.asarray(points, dtype="float64")
    return np.linalg.norm(p[:, FACE_LEFT] - p[:, FACE_RIGHT], axis=-1)


def eye_openness(points: np.ndarray) -> np.ndarray:
    """Eye aspect ratio (mean lid gap / eye width), both eyes averaged, (n,); ~0.25–0.35 open,
    < 0.1 closed."""
    p = np.asarray(points, dtype="float64")
    ratios = []
    for (c0, c1), lids in (((R_EYE_OUT, R_EYE_IN), R_EYE_LIDS), ((L_EYE_IN, L_EYE_OUT), L_EYE_LIDS)):
        width = np.linalg.norm(p[:, c1] - p[:, c0], axis=-1)
        gap = np.mean([np.linalg.norm(p[:, u] - p[:, lo], axis=-1) for u, lo in lids], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios.append(gap / width)
    return 0.5 * (ratios[0] + ratios[1])


def iris_offset(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw eye-in-head direction ``(h, v)``, each (n,): the iris centre's offset from the middle
    of the eye corners in half eye widths, averaged over both eyes; h + = toward the person's
    left, v + = up. Uncalibrated (a person's straight-ahead is not exactly 0)."""
    p = np.asarray(points, dtype="float64")
    hs, vs = [], []
    for c0, c1, iris in ((R_EYE_OUT, R_EYE_IN, R_IRIS), (L_EYE_IN, L_EYE_OUT, L_IRIS)):
        axis = p[:, c1] - p[:, c0]
        half = 0.5 * np.linalg.norm(axis, axis=-1)
        ex = _unit(axis)
        ey = np.stack([-ex[:, 1], ex[:, 0]], axis=-1)  # 2-D normal, pointing down the image
        d = (p[:, iris] - 0.5 * (p[:, c0] + p[:, c1]))[:, :2]
        with np.errstate(invalid="ignore", divide="ignore"):
            hs.append(np.sum(d * ex[:, :2], axis=-1) / half)
            vs.append(-np.sum(d * ey, axis=-1) / half)
    return 0.5 * (hs[0] + hs[1]), 0.5 * (vs[0] + vs[1])


def eye_angle_deg(offset: np.ndarray) -> np.ndarray:
    """Eye rotation in degrees for an iris offset in half eye widths (spherical eyeball)."""
    return np.degrees(np.arcsin(np.clip(_EYE_BALL_GAIN * np.asarray(offset, dtype="float64"), -1, 1)))


def mouth_corner_retraction(points: np.ndarray) -> np.ndarray:
    """How far the mouth corners sit *behind* the eye centres along the face's out axis, pixels,
    (n,). Smiling pulls the corners back and up toward the cheekbones (zygomaticus, AU12);
    opening the jaw or shaping vowels barely moves them in depth. Larger = more retracted."""
    p = np.asarray(points, dtype="float64")
    _, _, ez = face_axes(p)
    eyes = 0.25 * (p[:, R_EYE_OUT] + p[:, R_EYE_IN] + p[:, L_EYE_IN] + p[:, L_EYE_OUT])
    corners = 0.5 * (p[:, MOUTH_R] + p[:, MOUTH_L])
    return -np.sum((corners - eyes) * ez, axis=-1)


# Weight of corner retraction against mouth width in the geometry smile. A big grin adds ~0.4
# inter-ocular distances of width and ~0.15 of retraction; 2 makes the two comparable and ranks
# the shared photos like the blendshapes do (neutral < slight smiles < grin).
SMILE_RETRACTION_WEIGHT = 2.0


def expression_geometry(points: np.ndarray) -> dict[str, np.ndarray]:
    """Raw expression measures from landmark geometry, each (n,), in inter-ocular distances
    (3-D, so head rotation changes them little). Larger = more of the expression:

    - ``smile``: mouth width plus 2 x mouth-corner retraction (AU12 pulls the corners out and
      back). Deliberately no term from the lip midpoint or the lip gap: jaw drop while talking
      moves those, and used to read as smiling. Lip spreading on "ee" still adds a little.
    - ``brow_raise``: height of the mid-brow over the eye's centre (the middle of its two
      corners) along the face's up axis (AU1+2). The corners, not the upper lid: the lid moves
      with every blink, squint and downward look, and read as brow movement
    - ``brow_furrow``: minus the distance between the inner brow ends (AU4)
    - ``mouth_open``: inner-lip gap (AU25/26)
    """
    p = np.asarray(points, dtype="float64")
    iod = interocular_px(p)
    _, ey, _ = face_axes(p)
    width = np.linalg.norm(p[:, MOUTH_L] - p[:, MOUTH_R], axis=-1)
    smile = width + SMILE_RETRACTION_WEIGHT * mouth_corner_retraction(p)
    brow = np.mean([np.sum((p[:, b] - 0.5 * (p[:, c0] + p[:, c1])) * ey, axis=-1)
                    for b, c0, c1 in ((R_BROW_MID, R_EYE_OUT, R_EYE_IN),
                                      (L_BROW_MID, L_EYE_IN, L_EYE_OUT))], axis=0)
    inner = np.linalg.norm(p[:, L_BROW_IN] - p[:, R_BROW_IN], axis=-1)
    gap = np.linalg.norm(p[:, LIP_LOW] - p[:, LIP_UP], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"smile": smile / iod, "brow_raise": brow / iod,
                "brow_furrow": -inner / iod, "mouth_open": gap / iod}


EXPRESSION_SOURCES = ("blendshapes", "geometry")

# Blendshape names behind each expression cue. Mouth opening is not among them: it is a
# measure more than an expression, and the lips' gap in inter-ocular distances follows every
# syllable, where jawOpen reads a jaw-only opening weakly; who-speaks-when rests on it, so it is
# the same whatever the expression source.
BLENDSHAPES = {
    "smile": ("mouthSmileLeft", "mouthSmileRight"),
    "brow_raise": ("browInnerUp", "browOuterUpLeft", "browOuterUpRight"),
    "brow_furrow": ("browDownLeft", "browDownRight"),
}

# Geometry: how far above the person's neutral (in inter-ocular distances) counts as 1.0.
GEOMETRY_SPAN = {"smile": 0.4, "brow_raise": 0.12, "brow_furrow": 0.12, "mouth_open": 0.5}


def expression_blendshapes(shapes: list[dict[str, float] | None]) -> dict[str, np.ndarray]:
    """Raw expression scores 0..1 per frame from blendshape dicts (None = no face -> NaN)."""
    out = {}
    for cue, names in BLENDSHAPES.items():
        out[cue] = np.array([np.mean([s[n] for n in names]) if s else np.nan for s in shapes],
                            dtype="float64")
    return out


def raw_expressions(points: np.ndarray, shapes: list[dict[str, float] | None] | None,
                    source: str) -> dict[str, np.ndarray]:
    """Raw expression scores per frame from ``source`` (one of :data:`EXPRESSION_SOURCES`):
    blendshape scores 0..1, or landmark geometry in inter-ocular distances; ``mouth_open`` is
    the geometry's either way (see :data:`BLENDSHAPES`)."""
    geometry = expression_geometry(points)
    if source == "geometry":
        return geometry
    return {**expression_blendshapes(shapes), "mouth_open": geometry["mouth_open"]}


# Where a person's neutral sits in their own series of each raw measure (percentile). Smile and
# brows: the median. People are neutral more often than not, and while they talk the mouth
# corners and brows move both ways around their neutral: a low percentile put the neutral at the
# narrowest mouth or lowest brow of the call, and ordinary talking above it (10-17 smiles a minute
# on the interview's neutral talkers). Mouth opening: the 10th percentile, the closed lips (a
# talker's lips are apart about half the time).
NEUTRAL_PERCENTILE = {"smile": 50.0, "brow_raise": 50.0, "brow_furrow": 50.0, "mouth_open": 10.0}

# A population's neutral, for someone seen too briefly to have their own (a photo, a few
# seconds): the median of the ten GRID speakers' own medians (../shared/media, 3 s each,
# measured with this code; the speakers' medians spread by ~0.05 inter-ocular distances for the
# geometry smile and ~0.03 for the brows). Blendshapes 0..1, geometry in inter-ocular distances.
# Mouth opening has none: its neutral is always the person's own.
POPULATION_NEUTRAL = {
    "blendshapes": {"smile": 0.0, "brow_raise": 0.03, "brow_furrow": 0.07},
    "geometry": {"smile": 0.46, "brow_raise": 0.44, "brow_furrow": -0.42},
}
OWN_NEUTRAL_S = 10.0  # seconds of face after which a person's neutral is their own alone


def over_baseline(raw: np.ndarray, *, span: float, baseline_pct: float = 10.0,
                  population: float | None = None, seen_s: float = np.inf) -> np.ndarray:
    """Scale a raw expression series to 0..1 over the person's neutral.

    The person's own neutral is the ``baseline_pct`` percentile of the finite values (see
    :data:`NEUTRAL_PERCENTILE`). With a ``population`` neutral, the neutral used is a blend of
    the two that trusts the person's own in proportion to ``seen_s`` (seconds of face) up to
    :data:`OWN_NEUTRAL_S`: a single photo is read against the population alone, a call of ten
    seconds or more against the person alone. ``span`` is the rise above the neutral that maps
    to 1. NaN stays NaN; all-NaN input gives all NaN.
    """
    raw = np.asarray(raw, dtype="float64")
    ok = np.isfinite(raw)
    if not ok.any():
        return np.full(raw.shape, np.nan)
    base = float(np.percentile(raw[ok], baseline_pct))
    if population is not None:
        own = float(np.clip(seen_s / OWN_NEUTRAL_S, 0.0, 1.0))
        base = own * base + (1.0 - own) * population
    return np.clip((raw - base) / span, 0.0, 1.0)


# Talking: the spread of the lips' gap (``mouth_open``, inter-ocular distances, the same measure
# whatever the expression source) in a window around each frame. Speech opens and closes the lips
# several times a second; a held smile, even an open toothy one, keeps them still. The ten GRID
# speakers' lip gap spreads by 0.10-0.27 over a second of reading; a closed, still mouth by
# under 0.01.
TALK_WINDOW_S = 1.0          # centred window, seconds
TALK_FULL_RANGE_IOD = 0.2    # 10th-90th percentile range of the lip gap that counts as talking fully
# Visemes ("ee", "s") spread the lips and pull the corners: the blendshape model reads up to
# ~0.8 of mouthSmile on a neutral face while it talks, and the geometry widens the mouth. While
# someone talks fully their smile score is lowered by this much (of 0..1): a smile while talking
# counts only when it is a big one.
TALK_SMILE_DISCOUNT = 0.4
_TALK_CHUNK = 4096  # frames per block when taking window percentiles (bounds memory)


def talking(t: np.ndarray, mouth_open: np.ndarray, *, window_s: float = TALK_WINDOW_S,
            full_range: float = TALK_FULL_RANGE_IOD) -> np.ndarray:
    """How much a person is talking at each frame, 0..1 (NaN where ``mouth_open`` is NaN).

    The 10th-90th percentile range of ``mouth_open`` (inter-ocular distances, as
    :func:`expression_geometry` gives it) over the frames within ``window_s / 2`` seconds of
    each frame (``t``, seconds, increasing), over ``full_range``. A single frame (a photo) has no
    movement: 0.
    """
    t = np.asarray(t, dtype="float64")
    x = np.asarray(mouth_open, dtype="float64")
    out = np.full(x.shape, np.nan)
    if not len(x):
        return out
    lo = np.searchsorted(t, t - window_s / 2, side="left")
    hi = np.searchsorted(t, t + window_s / 2, side="right")
    width = int((hi - lo).max())
    padded = np.append(x, np.nan)  # index len(x) = "nothing there"
    for a in range(0, len(x), _TALK_CHUNK):
        b = min(len(x), a + _TALK_CHUNK)
        idx = lo[a:b, None] + np.arange(width)[None, :]
        idx = np.where(idx < hi[a:b, None], idx, len(x))
        win = np.sort(padded[idx], axis=1)  # NaN sorts last
        n = np.isfinite(win).sum(axis=1)
        out[a:b] = np.clip((_row_percentile(win, n, 90) - _row_percentile(win, n, 10))
                           / full_range, 0.0, 1.0)
    out[~np.isfinite(x)] = np.nan
    return out


def _row_percentile(sorted_rows: np.ndarray, n: np.ndarray, pct: float) -> np.ndarray:
    """``np.percentile(row[:n], pct)`` (linear) of each row sorted ascending with its ``n``
    finite values first; NaN where ``n`` is 0. ``np.nanpercentile`` row by row, ~10 x faster."""
    pos = pct / 100.0 * np.maximum(n - 1, 0)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    rows = np.arange(len(n))
    frac = pos - lo
    out = sorted_rows[rows, lo] * (1 - frac) + sorted_rows[rows, hi] * frac
    return np.where(n > 0, out, np.nan)


def smile_discounted_for_talking(smile: np.ndarray, talk: np.ndarray, *,
                                 discount: float = TALK_SMILE_DISCOUNT) -> np.ndarray:
    """``expr.smile`` (0..1 over the neutral) lowered by ``discount`` x :func:`talking`
    (0..1), clipped to 0..1; NaN stays NaN. A held smile (still lips) keeps its score; the
    lips' shapes of speech no longer read as one."""
    smile = np.asarray(smile, dtype="float64")
    out = np.clip(smile - discount * np.nan_to_num(np.asarray(talk, dtype="float64")), 0.0, 1.0)
    out[~np.isfinite(smile)] = np.nan
    return out


GAZE_FULL_OFFSET = 0.5  # iris offset (half eye widths) that maps to gaze.h/v = ±1 (~40° of eye turn)


def gaze_calibrated(offset: np.ndarray) -> np.ndarray:
    """Eye-in-head direction -1..1 around the person's own straight-ahead (median offset)."""
    offset = np.asarray(offset, dtype="float64")
    ok = np.isfinite(offset)
    if not ok.any():
        return np.full(offset.shape, np.nan)
    return np.clip((offset - np.median(offset[ok])) / GAZE_FULL_OFFSET, -1.0, 1.0)


def _robust_band(x: np.ndarray, *, k: float, lo: float, hi: float) -> tuple[float, float]:
    """(centre, half-width) of a person's usual range: median ± k robust SDs, within lo..hi."""
    return float(np.median(x)), float(np.clip(k * robust_sd(x), lo, hi))


def gaze_on_screen(yaw_deg: np.ndarray, pitch_deg: np.ndarray, h_offset: np.ndarray,
                   v_offset: np.ndarray, *, k: float = 3.0, band_h_deg: tuple[float, float] = (12, 25),
                   band_v_deg: tuple[float, float] = (10, 20)) -> np.ndarray:
    """1 = looking at the screen, 0 = away, NaN = no face, per frame.

    Gaze direction = head pose + eye-in-head angle (from the iris offset). The person's own
    screen direction is the median of their gaze over the call (people mostly look at the
    screen); "on screen" is within ``k`` robust SDs of it, that band clipped to
    ``band_h_deg`` / ``band_v_deg`` (min, max) degrees.
    """
    gh = np.asarray(yaw_deg, dtype="float64") + eye_angle_deg(h_offset)
    gv = np.asarray(pitch_deg, dtype="float64") + eye_angle_deg(v_offset)
    ok = np.isfinite(gh) & np.isfinite(gv)
    out = np.full(gh.shape, np.nan)
    if not ok.any():
        return out
    ch, bh = _robust_band(gh[ok], k=k, lo=band_h_deg[0], hi=band_h_deg[1])
    cv, bv = _robust_band(gv[ok], k=k, lo=band_v_deg[0], hi=band_v_deg[1])
    out[ok] = ((np.abs(gh[ok] - ch) <= bh) & (np.abs(gv[ok] - cv) <= bv)).astype("float64")
    return out
