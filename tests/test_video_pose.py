"""Known-answer tests of the pose landmarks (BlazePose on LiteRT, as MediaPipe's pose graphs run
it): a real person moved by a known rotation and shift gives landmarks moved the same way; anatomy
the right way round; the legacy MediaPipe Pose's recorded output on the same picture; images
without a person give None."""

import cv2
import numpy as np
import pytest

from cuekit.video.landmarks import PoseLandmarker, roi_from_circle, ssd_anchors

FACE = list(range(11))  # nose, eyes, ears, mouth
KEY = [0, 2, 5, 7, 8, 11, 12]  # nose, eyes, ears, shoulders
# Legacy mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1), mediapipe 0.10.21, on
# skimage.data.astronaut() (x, y pixels of KEY), and on it pasted at x = 250 into a black 900x512 image.
LEGACY_ASTRONAUT = [[222.7, 128.0], [248.9, 112.5], [205.0, 103.3], [268.0, 122.8], [190.4, 107.4],
                    [306.2, 256.6], [112.7, 240.0]]
LEGACY_WIDE = [[474.1, 124.7], [499.6, 108.7], [454.8, 102.3], [520.3, 121.1], [434.8, 110.0],
               [530.0, 221.7], [391.6, 182.1]]


@pytest.fixture(scope="module")
def astronaut():
    data = pytest.importorskip("skimage.data")
    return data.astronaut()  # 512x512 RGB, head and shoulders, facing the camera


def _single(rgb):
    return PoseLandmarker().detect(rgb)  # a fresh tracker: single-image mode


def test_anchors_and_roi_geometry():
    a = ssd_anchors(224, (8, 16, 32), (2, 2, 6))
    assert a.shape == (2254, 2)
    assert np.allclose(a[0], 0.5 / 28) and np.allclose(a[-1], 6.5 / 7)
    roi = roi_from_circle(np.array([100.0, 300.0]), np.array([100.0, 200.0]), 1.25)  # upright
    assert (roi.cx, roi.cy) == (100, 300) and roi.side == pytest.approx(250)
    assert roi.angle == pytest.approx(0)
    # rim to the right of the hips: the body lies along +x, turn by +90 deg to stand it up
    assert roi_from_circle(np.zeros(2), np.array([50.0, 0.0]), 1.25).angle == pytest.approx(np.pi / 2)


def test_anatomy_on_a_real_person(astronaut):
    found = _single(astronaut)
    assert found is not None, "no body found on the astronaut"
    p, vis = found.points, found.visibility
    assert p.shape == (33, 3) and vis.shape == (33,) and p.dtype == np.float64
    assert ((vis >= 0) & (vis <= 1)).all() and (vis[FACE] > 0.9).all()
    nose = p[0]
    assert 185 < nose[0] < 260 and 95 < nose[1] < 160  # inside her face
    assert p[2, 0] > nose[0] > p[5, 0]  # her left eye on the image's right
    assert p[11, 0] > nose[0] > p[12, 0]  # shoulders on the correct sides
    assert min(p[11, 1], p[12, 1]) > nose[1] + 50  # shoulders below the nose
    assert min(p[23, 1], p[24, 1]) > max(p[11, 1], p[12, 1]) + 100  # hips below the shoulders


def test_matches_legacy_mediapipe(astronaut):
    wide = np.zeros((512, 900, 3), np.uint8)
    wide[:, 250:762] = astronaut  # letterboxed for the detector; the body region crosses the edges
    for rgb, legacy in ((astronaut, LEGACY_ASTRONAUT), (wide, LEGACY_WIDE)):
        found = _single(rgb)
        assert found is not None, "no body found"
        assert np.abs(found.points[KEY, :2] - legacy).max() < 6  # pixels (measured <= 2.4)


@pytest.mark.parametrize("angle_deg, shift", [(15, (30, 20)), (-20, (-25, 10)), (0, (40, -30)), (30, (0, 0))])
def test_landmarks_follow_a_known_transform(astronaut, angle_deg, shift):
    base = _single(astronaut)
    m = cv2.getRotationMatrix2D((256, 256), angle_deg, 1.0)
    m[:, 2] += shift
    moved = _single(cv2.warpAffine(astronaut, m, (512, 512), borderMode=cv2.BORDER_REPLICATE))
    assert base is not None and moved is not None
    expected = base.points[:, :2] @ m[:, :2].T + m[:, 2]
    err = np.linalg.norm(moved.points[:, :2] - expected, axis=1)
    assert err[FACE].max() < 12  # pixels of a 512-pixel image (measured <= 7.2)
    assert err[[11, 12]].max() < 60  # shoulders on an orange suit are less sharp (measured <= 39)


def test_tracking_follows_the_same_person(astronaut):
    pl = PoseLandmarker()
    first = pl.detect(astronaut)
    shifted = np.roll(astronaut, (8, -12), axis=(0, 1))  # 12 px left, 8 px down
    second = pl.detect(shifted)  # from the tracked region, no detector
    assert first is not None and second is not None
    moved = first.points[FACE, :2] + [-12, 8]
    # the tracked region moves with smoothing, the landmarks themselves are not smoothed
    assert np.linalg.norm(second.points[FACE, :2] - moved, axis=1).max() < 8


@pytest.mark.parametrize("kind", ["grey", "black", "noise"])
def test_no_person_gives_none(kind):
    rng = np.random.default_rng(0)
    img = {"grey": np.full((480, 640, 3), 128, np.uint8), "black": np.zeros((360, 360, 3), np.uint8),
           "noise": rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)}[kind]
    assert _single(img) is None


def test_heatmap_refinement_moves_points_to_the_peak_in_their_window():
    """MediaPipe's RefineLandmarksFromHeatmap on known heatmaps (logits: 10 on the peak cells,
    -10 elsewhere): a point moves to its window's peak, a point whose window has no peak stays,
    a point past the right edge stays, and a point just past the bottom (MediaPipe checks the
    column twice, never the row) still uses the rows of its window inside the map."""
    from cuekit.video.landmarks import _refine_from_heatmap

    hs = 64
    heat = np.full((hs, hs, 4), -10.0, dtype="float32")
    heat[30, 20:22, 0] = 10.0          # point 0 at cell (22, 32): peak two cells up and left
    heat[5, 5, 1] = 10.0               # point 1 at (40, 40): its window holds no peak
    heat[10, 62:64, 2] = 10.0          # point 2 past the right edge, beside a peak
    heat[62:64, 30, 3] = 10.0          # point 3 one row past the bottom
    xy = np.array([[22.5, 32.5], [40.5, 40.5], [64.5, 10.5], [30.5, 64.5]]) / hs
    out = _refine_from_heatmap(xy, heat)
    np.testing.assert_allclose(out[0] * hs, [20.5, 30.0], atol=0.01)
    np.testing.assert_array_equal(out[1:3], xy[1:3])
    np.testing.assert_allclose(out[3] * hs, [30.0, 62.5], atol=0.01)
