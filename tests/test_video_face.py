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


def test_over_baseline_reads_a_brief_face_against_the_population():
    raw = np.array([0.9])                                  # one frame: a photo
    assert face.over_baseline(raw, span=0.4, population=0.5, seen_s=0.0)[0] == pytest.approx(1.0)
    assert face.over_baseline(raw, span=0.4)[0] == 0.0     # against itself: never anything
    # the person's own neutral takes over with face time, fully from OWN_NEUTRAL_S on
    raw = np.r_[np.full(99, 0.7), 0.9]
    half = face.over_baseline(raw, span=0.4, baseline_pct=50, population=0.5,
                              seen_s=face.OWN_NEUTRAL_S / 2)
    assert half[-1] == pytest.approx((0.9 - 0.6) / 0.4)
    own = face.over_baseline(raw, span=0.4, baseline_pct=50, population=0.5, seen_s=60.0)
    assert own[-1] == pytest.approx(0.5) and own[0] == 0.0


def test_median_neutral_keeps_a_talkers_swings_under_the_smile_threshold():
    """A talker's mouth widens and narrows around its neutral by +-0.15 inter-ocular distances
    (span 0.4): over the median it never reaches 0.5; over the 10th percentile it did."""
    t = np.arange(0, 30, 0.1)
    raw = 0.5 + 0.15 * np.sin(2 * np.pi * 3.1 * t)
    k = face.NEUTRAL_PERCENTILE["smile"]
    assert face.over_baseline(raw, span=0.4, baseline_pct=k).max() < 0.5
    assert face.over_baseline(raw, span=0.4, baseline_pct=10).max() > 0.5


def test_talking_is_moving_lips_not_open_lips():
    t = np.arange(0, 10, 0.1)
    syllables = 0.15 + 0.15 * np.sin(2 * np.pi * 4.0 * t + 0.3)   # lips open and close 4 x a second
    grin = np.full(len(t), 0.3)                                   # a toothy grin, held: lips apart
    assert np.median(face.talking(t, syllables)) > 0.9
    assert np.all(face.talking(t, grin) == 0.0)
    assert face.talking(np.zeros(1), np.array([0.3]))[0] == 0.0   # a photo
    gap = syllables.copy()
    gap[40:60] = np.nan                                           # no face for 2 s
    got = face.talking(t, gap)
    assert np.isnan(got[40:60]).all() and np.isfinite(np.delete(got, range(40, 60))).all()


def test_smile_discount_spares_held_smiles_and_big_smiles_while_talking():
    smile = np.array([0.6, 0.6, 1.0, np.nan])
    talk = np.array([0.0, 1.0, 1.0, 1.0])
    got = face.smile_discounted_for_talking(smile, talk)
    assert got[0] == pytest.approx(0.6)                            # still lips: untouched
    assert got[1] < 0.5 <= got[2]                                  # talking: only a big smile
    assert np.isnan(got[3])
