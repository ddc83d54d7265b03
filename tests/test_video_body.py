"""Known-answer tests of body cues (cuekit.video.body): pose geometry and motion energy."""

import numpy as np
import pytest

from cuekit.video import body


def _pose(n: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A person facing the camera: shoulders 100 px apart at y=200, nose 80 px above them,
    arms down at the sides; everything visible."""
    p = np.zeros((33, 3))
    p[body.NOSE] = (150, 120, 0)
    p[body.L_SHOULDER], p[body.R_SHOULDER] = (200, 200, 0), (100, 200, 0)   # left = image right
    p[body.L_ELBOW], p[body.R_ELBOW] = (210, 260, 0), (90, 260, 0)
    p[body.L_WRIST], p[body.R_WRIST] = (212, 320, 0), (88, 320, 0)
    return np.repeat(p[None], n, axis=0), np.ones((n, 33))


def test_shoulder_tilt_sign_and_visibility():
    p, v = _pose(3)
    p[1, body.L_SHOULDER, 1] -= 100 * np.tan(np.radians(10))   # left shoulder up 10 deg
    v[2, body.R_SHOULDER] = 0.1
    tilt = body.shoulder_tilt_deg(p, v)
    assert tilt[:2] == pytest.approx([0.0, 10.0]) and np.isnan(tilt[2])


def test_arms_crossed():
    p, v = _pose(3)
    p[1, body.L_WRIST, 0], p[1, body.R_WRIST, 0] = 120, 180      # wrists swapped sides
    v[2, body.L_WRIST] = 0.0
    assert np.array_equal(body.arms_crossed(p, v)[:2], [0.0, 1.0])
    assert np.isnan(body.arms_crossed(p, v)[2])


def test_slouch_against_own_upright():
    p, v = _pose(10)
    p[8:, body.NOSE, 1] += 24                                   # head sinks 30% of the neck
    s = body.slouch(body.neck_ratio(p, v))
    assert s[:8] == pytest.approx(0.0) and s[8:] == pytest.approx(0.3)


def test_hand_activity_in_shoulder_widths_per_second():
    p, v = _pose(3)
    t = np.array([0.0, 0.5, 1.0])
    p[1, body.L_WRIST, 0] += 50                                  # 0.5 shoulder widths in 0.5 s
    v[2, body.R_WRIST] = 0.0
    a = body.hand_activity(t, p, v)
    assert np.isnan(a[0])
    assert a[1] == pytest.approx((1.0 + 0.0) / 2)                # left 1.0/s, right still
    assert a[2] == pytest.approx(1.0)                            # only the left wrist visible


def test_lean_relative_to_own_median():
    size = np.array([100, 100, 100, 120, 80, np.nan])
    assert body.lean(size)[:5] == pytest.approx([0, 0, 0, 0.2, -0.2])
    assert np.isnan(body.lean(size)[5])


def test_motion_energy_share_of_changed_pixels():
    rng = np.random.default_rng(0)
    a = rng.integers(100, 110, (360, 640), dtype=np.uint8)       # flat with faint noise
    b = a.copy()
    b[:, :160] = 250                                            # a quarter of the region changes
    g0, g1 = body.motion_gray(a), body.motion_gray(b)
    assert g0.shape == (90, body.MOTION_WIDTH_PX)
    assert np.isnan(body.motion_energy(None, g0))
    assert body.motion_energy(g0, g0) == 0.0
    assert body.motion_energy(g0, g1) == pytest.approx(0.25, abs=0.02)
