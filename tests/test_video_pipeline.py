"""End-to-end tests of the frame pipeline on synthetic video with known motion and on real media.

The synthetic gallery is made here from ``skimage.data.astronaut()`` (via sample_media/synth.py);
the real clips, photos and the Face Landmarker task file come from ../shared and are skipped,
with a reason, when absent. Nothing is downloaded.
"""

import json
import os

import cv2
import numpy as np
import pytest
import synth
from conftest import SAMPLE_CALL, SAMPLE_TRUTH, shared_path

from cuekit.cues import CUES, SEGMENT_KINDS, series
from cuekit.errors import InputError, MediaError
from cuekit.layout import Participant
from cuekit.media import Picture
from cuekit import modelfiles
from cuekit.video import face, landmarks
from cuekit.video.pipeline import analyze_video
from cuekit.video.track import FaceTrack

FPS = 10
DURATION_S = 9.0
TILES = {"P1": (0, 0, 640, 360), "P2": (640, 0, 640, 360), "P3": (0, 360, 640, 360),
         "P4": (640, 360, 640, 360)}
NODS_P2 = (2.0, 6.0)          # start s; 2.5 cycles at 2 Hz, 9 deg
VANISH_P3 = (4.0, 5.5)        # P3's tile is empty


def _roll_truth(t):
    return 25.0 * np.sin(2 * np.pi * t / DURATION_S)


def _pitch_p2(t):
    out = 0.0
    for t0 in NODS_P2:
        if t0 <= t < t0 + 1.25:
            out += -9.0 * np.sin(2 * np.pi * 2.0 * (t - t0))
    return out


def _paste(frame, box, img):
    x, y, w, h = box
    ih, iw = img.shape[:2]
    ox, oy = x + (w - iw) // 2, y + h - ih
    frame[oy:oy + ih, ox:ox + iw] = img


def _gallery_frames():
    """2x2 gallery, 1280x720: P1 a ~110 px face rolling +-25 deg, P2 a ~60 px face nodding,
    P3 a ~60 px still face that leaves for 1.5 s, P4 an empty tile."""
    big = synth.astronaut_head((300, 340))
    small = synth.astronaut_head((170, 190))
    for i in range(int(DURATION_S * FPS)):
        t = i / FPS
        frame = np.full((720, 1280, 3), 30, np.uint8)
        _paste(frame, TILES["P1"], synth.warp_head(big, roll_deg=float(_roll_truth(t))))
        _paste(frame, TILES["P2"], synth.warp_head(small, pitch_deg=float(_pitch_p2(t))))
        if not (VANISH_P3[0] <= t < VANISH_P3[1]):
            _paste(frame, TILES["P3"], small)
        yield frame


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("video") / "gallery.mp4")
    synth.write_av(path, _gallery_frames(), FPS, np.zeros(int(DURATION_S * 16000), np.float32), 16000,
                   crf=20)
    calls = []
    res = analyze_video(path, [Participant(n, b) for n, b in TILES.items()], face_fps=FPS, pose_fps=1,
                        hook=lambda *a: calls.append(a))
    return res, calls


def test_gallery_tables_follow_the_contract(gallery):
    res, calls = gallery
    assert set(res.samples["cue"]) <= set(CUES)
    assert set(res.segments["kind"]) <= set(SEGMENT_KINDS)
    assert not res.samples.duplicated(["participant", "cue", "t"]).any()
    prov = res.provenance
    assert prov["face_backend"] == landmarks.FACE_BACKEND and prov["pose_backend"] == landmarks.POSE_BACKEND
    assert prov["frames"] == DURATION_S * FPS
    assert {"decode", "face", "pose", "motion", "cues"} <= set(prov["seconds"])
    # CPU seconds per stage, each thread's own: never more than the stage's wall seconds summed
    # over the threads (one thread runs one stage at a time), and the models cost some
    cpu = prov["cpu_seconds"]
    assert cpu.keys() == prov["seconds"].keys()
    assert all(0 <= cpu[k] <= prov["seconds"][k] + 0.01 for k in cpu), (cpu, prov["seconds"])
    assert cpu["face"] > 0 and cpu["pose"] > 0
    assert set(res.summary) == set(TILES)
    assert len(calls) <= 102 and calls[-1] == ("video", calls[-1][2], calls[-1][2])


def test_roll_within_3_degrees(gallery):
    res, _ = gallery
    t, roll = series(res.samples, "P1", "head.roll_deg")
    own = roll[0] - _roll_truth(t[0])             # the astronaut's own head tilt in the photo
    err = np.abs(roll - own - _roll_truth(t))
    assert np.isfinite(roll).all()
    msg = f"roll error median {np.median(err):.2f} max {err.max():.2f} deg"
    assert np.median(err) < 1.5 and err.max() < 3.0, msg


def test_small_faces_found_and_nods_attributed(gallery):
    res, _ = gallery
    _, present = series(res.samples, "P2", "face.present")
    assert present.mean() >= 0.98
    nods = res.segments[res.segments["kind"] == "nod"]
    assert set(nods["participant"]) == {"P2"}, nods
    for t0 in NODS_P2:
        assert ((nods["start"] < t0 + 1.25) & (nods["end"] > t0)).sum() == 1


def test_no_face_is_nan_and_identity_is_stable(gallery):
    res, _ = gallery
    t, present = series(res.samples, "P3", "face.present")
    _, yaw = series(res.samples, "P3", "head.yaw_deg")
    gone = (t >= VANISH_P3[0] + 0.05) & (t < VANISH_P3[1] - 0.05)
    assert present[gone].sum() == 0 and np.isnan(yaw[gone]).all()
    assert present[(t < VANISH_P3[0] - 0.05) | (t > VANISH_P3[1] + 0.3)].min() == 1
    _, present4 = series(res.samples, "P4", "face.present")
    assert present4.max() == 0
    s4 = res.samples[(res.samples["participant"] == "P4") & (res.samples["cue"] != "face.present")]
    assert s4.loc[s4["cue"].str.startswith(("head.", "gaze.", "expr.", "eye.")), "value"].isna().all()
    assert np.isnan(res.summary["P4"]["blinks_per_min"])
    # no swaps: only P1's roll sweeps, only P2's pitch nods
    for name, rolls in (("P1", True), ("P2", False), ("P3", False)):
        _, r = series(res.samples, name, "head.roll_deg")
        assert (np.nanstd(r) > 10) == rolls


@pytest.fixture(scope="module")
def sample_call():
    if not (os.path.exists(SAMPLE_CALL) and os.path.exists(SAMPLE_TRUTH)):
        pytest.skip("sample_media/sample_call.mp4 not built (python sample_media/make_sample_call.py)")
    truth = json.load(open(SAMPLE_TRUTH))
    parts = [Participant(n, tuple(p["box"])) for n, p in truth["participants"].items()]
    return analyze_video(SAMPLE_CALL, parts, face_fps=10, pose_fps=0.5), truth


def _overlaps(segs, participant, start, end):
    return ((segs["participant"] == participant) & (segs["start"] < end) & (segs["end"] > start)).sum()


def test_sample_call_events_match_truth(sample_call):
    res, truth = sample_call
    segs = res.segments
    for kind in ("nod", "shake", "gaze_away"):
        found = segs[segs["kind"] == kind]
        for e in truth[{"nod": "nods", "shake": "shakes", "gaze_away": "gaze_away"}[kind]]:
            assert _overlaps(found, e["participant"], e["start"], e["end"]) == 1, (kind, e)
    true_moves = len(truth["nods"]) + len(truth["shakes"])
    assert len(segs[segs["kind"].isin(["nod", "shake"])]) == true_moves
    for p in truth["participants"]:
        _, present = series(res.samples, p, "face.present")
        assert present.mean() == 1.0


def test_real_talking_heads_face_found_98_percent():
    res = analyze_video(shared_path("media", "grid_10speakers_30s.mp4"), [Participant("P1")],
                        face_fps=10, pose_fps=0)
    assert res.summary["P1"]["face_present_share"] >= 0.98
    assert res.provenance["pose_backend"] is None


def _photo(name):
    return cv2.imread(shared_path("images", name))


SMILING = "paul_rudd_smile_ccbysa2.jpeg"
NOT_SMILING = ("grace_hopper.jpg", "luciano_cc0.png", "chris_pratt_ccby2.jpeg",
               "paul_rudd_turned_ccbysa2.jpeg")


def _landmarks(img, blendshapes=True):
    return FaceTrack(landmarks.FaceLandmarker(blendshapes), landmarks.FaceDetector()).step(
        Picture(bgr=img))


def test_smile_geometry_is_higher_on_the_smiling_photo():
    raw = {n: face.expression_geometry(_landmarks(_photo(n), False).points[None])["smile"][0]
           for n in (SMILING, *NOT_SMILING)}
    assert raw[SMILING] > max(raw[n] for n in NOT_SMILING) + face.GEOMETRY_SPAN["smile"], raw


def test_smile_blendshapes_are_higher_on_the_smiling_photo():
    got = {n: face.expression_blendshapes([_landmarks(_photo(n)).blendshapes])["smile"][0]
           for n in (SMILING, *NOT_SMILING)}
    neutral, slight = NOT_SMILING[:2], NOT_SMILING[2:]   # the closed smiles score in between
    assert got[SMILING] > 0.8 and max(got[n] for n in neutral) < 0.1, got
    assert all(0.1 < got[n] < 0.6 for n in slight), got


def _photo_clip(path):
    """A 'real' clip from the five photos: each held 2 s with a slow 1-px-per-frame drift."""
    frames = []
    for n in (SMILING, *NOT_SMILING):
        img = cv2.resize(_photo(n), (400, 480))
        for k in range(20):
            m = np.float32([[1, 0, k - 10], [0, 1, 0]])
            frames.append(cv2.warpAffine(img, m, (400, 480), borderMode=cv2.BORDER_REPLICATE))
    synth.write_av(path, frames, FPS, np.zeros(16000 * 10, np.float32), 16000, crf=18)


def test_expression_sources_agree_on_smile(tmp_path):
    clip = str(tmp_path / "photos.mp4")
    _photo_clip(clip)
    smile = {s: series(analyze_video(clip, [Participant("P1")], face_fps=FPS, pose_fps=0,
                                     expressions=s).samples, "P1", "expr.smile")[1]
             for s in face.EXPRESSION_SOURCES}
    assert np.corrcoef(smile["geometry"], smile["blendshapes"])[0, 1] >= 0.7


def test_shipped_models_are_intact_and_described():
    sums = modelfiles.shipped_models()
    assert {landmarks.FACE_DETECTOR_FILE, landmarks.FACE_LANDMARKS_FILE, landmarks.BLENDSHAPES_FILE,
            landmarks.POSE_DETECTOR_FILE, landmarks.POSE_LANDMARKS_FILE} <= set(sums)
    for name, digest in sums.items():
        assert modelfiles.file_sha256(modelfiles.model_path(name)) == digest, name
    text = modelfiles.describe_models()
    shipped = text.split("Speech recogniser")[0]  # the words extra's model is listed after
    assert shipped.count("[ok]") == len(sums) and "Apache-2.0" in shipped


def test_missing_or_damaged_model_file_is_a_clear_error(tmp_path, monkeypatch):
    shipped = modelfiles.MODELS_DIR
    (tmp_path / "SHA256SUMS").write_text((shipped / "SHA256SUMS").read_text())
    (tmp_path / landmarks.BLENDSHAPES_FILE).write_bytes(b"not a model")
    monkeypatch.setattr(modelfiles, "MODELS_DIR", tmp_path)
    with pytest.raises(modelfiles.ModelError, match="reinstall cuekit"):
        landmarks.FaceLandmarker()
    with pytest.raises(modelfiles.ModelError, match="damaged"):
        modelfiles.model_path(landmarks.BLENDSHAPES_FILE, verify=True)
    text = modelfiles.describe_models()
    n = len(modelfiles.shipped_models())
    assert text.count("[MISSING]") == n - 1 and text.count("[DAMAGED]") == 1


def test_bad_arguments_raise_before_work(tmp_path):
    with pytest.raises(InputError, match="participants"):
        analyze_video("x.mp4", [], face_fps=10, pose_fps=2)
    with pytest.raises(InputError, match="pose_fps"):
        analyze_video("x.mp4", [Participant("P1")], face_fps=10, pose_fps=20)
    with pytest.raises(InputError, match="distinct"):
        analyze_video("x.mp4", [Participant("P1"), Participant("P1")], face_fps=10, pose_fps=2)


def test_the_pipeline_leaves_opencv_threads_alone_and_the_entry_points_set_one():
    """Process-wide tuning belongs to the entry points (cuekit.runtime): the video stage leaves
    OpenCV's thread count as it finds it, also when it fails; tune_for_analysis sets one."""
    from cuekit.runtime import tune_for_analysis

    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        analyze_video(SAMPLE_CALL, [Participant("P1", (8, 8, 628, 704))], face_fps=2, pose_fps=0)
        assert cv2.getNumThreads() == 3
        with pytest.raises(MediaError):
            analyze_video(__file__, [Participant("P1")], face_fps=2, pose_fps=0,
                          duration_s=1.0)  # fails while decoding
        assert cv2.getNumThreads() == 3
        tune_for_analysis()
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)
