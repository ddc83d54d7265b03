"""cuekit's face landmarks on the sample call's synthetic head moved in known ways: a 10 degree
roll turns the eye line by 10 degrees, an open mouth parts the inner lips, a yaw moves the nose
toward the turn. (The checks of the sample call's data and of ``synth`` itself are in
``sample_media/test_generated_data.py``.)"""

import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "sample_media")
if SAMPLE not in sys.path:
    sys.path.insert(0, SAMPLE)

import synth  # noqa: E402


@pytest.fixture(scope="module")
def mesh():
    pytest.importorskip("skimage")
    from cuekit.media import Picture
    from cuekit.video.landmarks import FaceDetector, FaceLandmarker
    from cuekit.video.track import FaceTrack

    detector = FaceDetector()

    def landmarks(img):  # a fresh track per picture: single-image mode
        found = FaceTrack(FaceLandmarker(blendshapes=False), detector).step(Picture(bgr=img))
        assert found is not None, "no face found"
        return found.points[:, :2]
    return landmarks


@pytest.fixture(scope="module")
def head():
    pytest.importorskip("skimage")
    return synth.astronaut_head((320, 360))


def _eye_angle_deg(lm):
    d = lm[263] - lm[33]
    return float(np.degrees(np.arctan2(d[1], d[0])))


def test_roll_turns_the_eye_line_by_the_roll(mesh, head):
    rest = _eye_angle_deg(mesh(head))
    rolled = _eye_angle_deg(mesh(synth.warp_head(head, roll_deg=10)))
    assert abs((rolled - rest) - 10) <= 1.5  # roll + = tilt to own left = clockwise on screen


def test_mouth_open_parts_the_inner_lips(mesh, head):
    closed = mesh(synth.warp_head(head, mouth_open=0.0))
    opened = mesh(synth.warp_head(head, mouth_open=1.0))
    gap = [lm[14][1] - lm[13][1] for lm in (closed, opened)]
    mouth_w = closed[291][0] - closed[61][0]
    assert gap[1] > gap[0] + 0.1 * mouth_w  # the lips part by over a tenth of the mouth width


def test_yaw_moves_the_nose_toward_the_turn_and_the_face_is_found(mesh, head):
    def nose_offset(img):
        lm = mesh(img)
        return (lm[1][0] - 0.5 * (lm[234][0] + lm[454][0])) / (lm[454][0] - lm[234][0])
    rest = nose_offset(head)
    assert nose_offset(synth.warp_head(head, yaw_deg=30)) > rest + 0.08  # own left = image right
    assert nose_offset(synth.warp_head(head, yaw_deg=-12)) < rest - 0.03
