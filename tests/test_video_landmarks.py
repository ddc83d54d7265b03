"""Known answers for the face models as cuekit runs them (LiteRT, MediaPipe's graph logic in
numpy): MediaPipe's own Face Landmarker (Tasks API, mediapipe 0.10.21, recorded once) on the same
picture; a known turn and shift of the picture moves the landmarks the same way; no face, None."""

import cv2
import numpy as np
import pytest

from cuekit.media import Picture
from cuekit.video.landmarks import FaceDetector, FaceLandmarker
from cuekit.video.track import FaceTrack

# MediaPipe FaceLandmarker (IMAGE mode, face_landmarker.task float16 v1) on skimage's astronaut,
# 512 x 512: (x, y) px of nose tip, eye corners 33/263, mouth corners, inner lips, chin, irises
POINTS = [1, 33, 263, 61, 291, 13, 14, 152, 468, 473]
MEDIAPIPE_XY = [[223.5, 131.1], [195.3, 100.6], [255.3, 103.8], [202.3, 139.2], [244.5, 140.6],
                [223.3, 143.2], [223.0, 149.2], [221.4, 177.4], [203.5, 101.1], [246.0, 103.5]]
MEDIAPIPE_SHAPES = {"mouthSmileLeft": 0.899, "mouthSmileRight": 0.904, "jawOpen": 0.013}


@pytest.fixture(scope="module")
def astronaut():
    data = pytest.importorskip("skimage.data")
    return data.astronaut()[:, :, ::-1].copy()  # BGR


def _face(bgr, steps=1):
    """Single-image mode (steps=1: the region from the detector), or the region tracked from
    the landmarks of the step before (steps=2)."""
    track = FaceTrack(FaceLandmarker(), FaceDetector())
    for _ in range(steps):
        found = track.step(Picture(bgr=bgr))
    return found


def test_matches_mediapipes_face_landmarker(astronaut):
    found = _face(astronaut)
    assert found.points.shape == (478, 3)
    # pixels of a 512-px picture whose face is ~70 px wide; MediaPipe seeds with its short-range
    # detector, cuekit with the full-range one, so the first region differs a little
    assert np.abs(found.points[POINTS, :2] - MEDIAPIPE_XY).max() < 2.5
    for name, want in MEDIAPIPE_SHAPES.items():
        assert found.blendshapes[name] == pytest.approx(want, abs=0.08), name


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("angle_deg, shift", [(40, (30, 20)), (-45, (-25, 10)), (0, (40, -30))])
def test_landmarks_follow_a_known_turn_and_shift(astronaut, angle_deg, shift, steps):
    m = cv2.getRotationMatrix2D((256, 256), angle_deg, 1.0)
    m[:, 2] += shift
    moved = _face(cv2.warpAffine(astronaut, m, (512, 512), borderMode=cv2.BORDER_REPLICATE), steps)
    expected = np.asarray(MEDIAPIPE_XY) @ m[:, :2].T + m[:, 2]
    err = np.linalg.norm(moved.points[POINTS, :2] - expected, axis=1)
    assert err.max() < 4.0, err  # the region turns with the face: no loss at 45 degrees


def test_blank_and_noise_have_no_face():
    rng = np.random.default_rng(0)
    for img in (np.zeros((360, 480, 3), np.uint8), rng.integers(0, 256, (360, 480, 3), np.uint8)):
        assert _face(img) is None
