"""Known-answer tests of the pure face geometry (cuekit.video.face): no models, no video."""

import numpy as np
import pytest
import synth

from cuekit.video import face


def _face_points(n: int = 1) -> np.ndarray:
    """A frontal face (n, 478, 3) in pixels with the landmarks the functions use; the rest 0."""
    p = np.zeros((478, 3))
    p[face.FACE_RIGHT], p[face.FACE_LEFT] = (-70, 0, 20), (70, 0, 20)
    p[face.FOREHEAD], p[face.CHIN] = (0, -90, 0), (0, 90, 0)
    # eyes 30 px wide, centres at x = +-32, lids 9 px apart (openness 0.3)
    for out_, in_, lids, iris, cx in ((face.R_EYE_OUT, face.R_EYE_IN, face.R_EYE_LIDS, face.R_IRIS, -32),
                                      (face.L_EYE_IN, face.L_EYE_OUT, face.L_EYE_LIDS, face.L_IRIS, 32)):
        p[out_], p[in_] = (cx - 15, -20, 0), (cx + 15, -20, 0)
        for k, (u, lo) in enumerate(lids):
            x = cx - 5 + 5 * k
            p[u], p[lo] = (x, -24.5, 0), (x, -15.5, 0)
        p[iris] = (cx, -20, 0)
    p[face.LIP_UP], p[face.LIP_LOW] = (0, 40, 0), (0, 44, 0)
    p[face.MOUTH_R], p[face.MOUTH_L] = (-25, 42, 0), (25, 42, 0)
    p[face.R_BROW_MID], p[face.L_BROW_MID] = (-32, -35, 0), (32, -35, 0)
    p[159], p[386] = (-32, -24.5, 0), (32, -24.5, 0)
    p[face.R_BROW_IN], p[face.L_BROW_IN] = (-12, -33, 0), (12, -33, 0)
    return np.repeat(p[None], n, axis=0)


@pytest.mark.parametrize("yaw,pitch,roll", [(0, 0, 0), (25, 0, 0), (-30, 0, 0), (0, 15, 0),
                                            (0, -20, 0), (0, 0, 12), (0, 0, -8)])
def test_head_pose_recovers_known_rotation(yaw, pitch, roll):
    r = synth.rotation_matrix(yaw, pitch, roll)  # cuekit's sign conventions
    pts = _face_points() @ r.T
    got = np.array(face.head_pose_deg(pts)).ravel()
    assert got == pytest.approx([yaw, pitch, roll], abs=0.01)


def test_no_face_gives_nan_not_zero():
    pts = np.full((3, 478, 3), np.nan)
    pts[1] = _face_points()[0]
    for series in (*face.head_pose_deg(pts), face.eye_openness(pts), *face.iris_offset(pts),
                   *face.expression_geometry(pts).values()):
        assert np.isnan(series[0]) and np.isnan(series[2]) and np.isfinite(series[1])


def test_eye_openness_and_iris_offset():
    pts = _face_points(2)
    assert face.eye_openness(pts)[0] == pytest.approx(0.3)
    pts[1, face.R_IRIS, 0] += 6   # both irises 6 px toward image right = the person's left
    pts[1, face.L_IRIS, 0] += 6
    pts[1, face.R_IRIS, 1] -= 3   # and 3 px up
    pts[1, face.L_IRIS, 1] -= 3
    h, v = face.iris_offset(pts)
    assert h == pytest.approx([0, 0.4])  # 6 px of a 15 px half-width
    assert v == pytest.approx([0, 0.2])
    assert face.eye_angle_deg(0.4) == pytest.approx(30.0, abs=0.01)


def test_expression_geometry_moves_the_right_way():
    pts = _face_points(2)
    pts[1, face.LIP_LOW, 1] += 20                      # jaw drops
    pts[1, face.MOUTH_R] += (-6, 0, 5)                # corners out and back (AU12)
    pts[1, face.MOUTH_L] += (6, 0, 5)
    pts[1, face.R_BROW_MID, 1] -= 6                    # brows up
    pts[1, face.L_BROW_MID, 1] -= 6
    pts[1, face.R_BROW_IN, 0] += 4                     # inner brows together
    pts[1, face.L_BROW_IN, 0] -= 4
    e = face.expression_geometry(pts)
    iod = 64.0
    assert e["mouth_open"][1] - e["mouth_open"][0] == pytest.approx(20 / iod)
    assert e["brow_raise"][1] - e["brow_raise"][0] == pytest.approx(6 / iod)
    assert e["brow_furrow"][1] - e["brow_furrow"][0] == pytest.approx(8 / iod)
    # width +12 px, retraction +5 px weighted 2
    assert e["smile"][1] - e["smile"][0] == pytest.approx((12 + 2 * 5) / iod)


@pytest.mark.parametrize("corner_drop_px", [0, 3, 8])
def test_jaw_drop_alone_is_not_a_smile(corner_drop_px):
    """Talking: the lower lip and the corners go down, the lip midpoint moves a lot. The old
    measure (corner lift over the lip midpoint) read that as a smile; the new one must not."""
    pts = _face_points(2)
    pts[1, face.LIP_LOW, 1] += 24
    pts[1, face.MOUTH_R, 1] += corner_drop_px
    pts[1, face.MOUTH_L, 1] += corner_drop_px
    e = face.expression_geometry(pts)
    assert e["mouth_open"][1] > e["mouth_open"][0] + 0.3
    assert e["smile"][1] == pytest.approx(e["smile"][0], abs=1e-9)


def test_corner_retraction_and_smile_ignore_head_rotation():
    pts = _face_points(2)
    pts[1, face.MOUTH_R] += (-5, -3, 6)
    pts[1, face.MOUTH_L] += (5, -3, 6)
    front = face.expression_geometry(pts)["smile"]
    assert face.mouth_corner_retraction(pts)[1] - face.mouth_corner_retraction(pts)[0] \
        == pytest.approx(6.0)
    for yaw, pitch, roll in ((30, 0, 0), (0, -20, 10), (-25, 15, -8)):
        turned = pts @ synth.rotation_matrix(yaw, pitch, roll).T
        assert face.expression_geometry(turned)["smile"] == pytest.approx(front)


def test_over_baseline_and_blendshapes():
    raw = np.array([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.35, np.nan])
    out = face.over_baseline(raw, span=0.25)
    assert out[:9] == pytest.approx(0.0) and out[9] == pytest.approx(1.0) and np.isnan(out[10])
    assert np.isnan(face.over_baseline(np.full(4, np.nan), span=1.0)).all()
    shapes = [{"mouthSmileLeft": 0.6, "mouthSmileRight": 0.8, "browInnerUp": 0, "browOuterUpLeft": 0,
               "browOuterUpRight": 0.3, "browDownLeft": 0.1, "browDownRight": 0.3, "jawOpen": 0.5}, None]
    e = face.expression_blendshapes(shapes)
    assert e["smile"][0] == pytest.approx(0.7) and e["brow_raise"][0] == pytest.approx(0.1)
    assert e["brow_furrow"][0] == pytest.approx(0.2) and "mouth_open" not in e
    assert all(np.isnan(v[1]) for v in e.values())
    # mouth opening is the lips' gap whatever the source: the same for both
    pts = np.full((2, 478, 3), np.nan)
    both = {s: face.raw_expressions(pts, shapes, s)["mouth_open"] for s in face.EXPRESSION_SOURCES}
    np.testing.assert_array_equal(both["blendshapes"], both["geometry"])
    assert face.raw_expressions(pts, shapes, "blendshapes")["smile"][0] == pytest.approx(0.7)


def test_gaze_on_screen_is_calibrated_per_person():
    rng = np.random.default_rng(1)
    n = 300
    # this person's "screen" is 10 deg to their left of the camera; jitter 2 deg
    yaw = 10 + rng.normal(0, 2, n)
    pitch = -5 + rng.normal(0, 2, n)
    h = np.zeros(n)
    v = np.zeros(n)
    yaw[100:130] += 35          # turns away for 3 s at 10 fps
    h[200:220] = 0.45           # eyes only, ~34 deg
    yaw[250] = np.nan
    on = face.gaze_on_screen(yaw, pitch, h, v)
    assert np.isnan(on[250])
    assert on[100:130].sum() == 0 and on[200:220].sum() == 0
    rest = np.r_[0:100, 130:200, 220:250, 251:300]
    assert on[rest].mean() > 0.97
    g = face.gaze_calibrated(h)
    assert g[0] == 0 and g[210] == pytest.approx(0.9)
