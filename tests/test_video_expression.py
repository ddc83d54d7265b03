"""Known answers for the expression cues on real faces: the blendshape smile (the default) and
the geometry fallback, with the blendshapes as the reference for the geometry.

- Talking is not smiling: the ten GRID speakers read sentences without smiling, and the sample
  call's faces only drop their jaw while talking; the geometry smile used to rise with mouth
  opening and gave ~14 false smile events per minute on both.
- Real smiles still score: a big grin far above a neutral face, slight smiles in between, and
  the geometry follows the blendshape smile on a clip cutting between the shared photos.

Media come from ../shared (skipped, with a reason, when absent); frames go straight to the face
tracker, and the cues are made by the production code (``assemble.face_cues``).
"""

import inspect
import json

import cv2
import numpy as np
import pytest
from conftest import SAMPLE_CALL, SAMPLE_TRUTH, shared_path

from cuekit import media
from cuekit.video import events, face, landmarks
from cuekit.media import Picture
from cuekit.video.assemble import FaceSeries, face_cues
from cuekit.video.track import FaceTrack

GRID = ("media", "grid_10speakers_30s.mp4")
PHOTOS = {"grace_hopper.jpg": "neutral", "luciano_cc0.png": "neutral",
          "chris_pratt_ccby2.jpeg": "slight", "paul_rudd_turned_ccbysa2.jpeg": "slight",
          "paul_rudd_smile_ccbysa2.jpeg": "grin"}
MAX_FALSE_SMILES_PER_MIN = 1.0


def _track(frames: list[np.ndarray]) -> tuple[np.ndarray, list]:
    """(points (n, 478, 3) with NaN rows, blendshape dicts or None) for BGR frames, one track."""
    track = FaceTrack(landmarks.FaceLandmarker(), landmarks.FaceDetector())
    points = np.full((len(frames), 478, 3), np.nan)
    shapes = []
    for i, frame in enumerate(frames):
        found = track.step(Picture(bgr=frame))
        if found is not None:
            points[i] = found.points
        shapes.append(None if found is None else found.blendshapes)
    return points, shapes


def expressions(points: np.ndarray, shapes: list, source: str) -> dict[str, np.ndarray]:
    """The ``expr.*`` cues production makes from these frames with ``source``."""
    fs = FaceSeries(np.arange(len(points)) / 10.0, points, shapes, np.zeros(len(points)))
    return {k: v for k, v in face_cues(fs, source).items() if k.startswith("expr.")}


def _smile_events_per_min(t: np.ndarray, points: np.ndarray, shapes: list, source: str) -> float:
    smile = expressions(points, shapes, source)["expr.smile"]
    minutes = np.isfinite(smile).sum() * (t[-1] - t[0]) / (len(t) - 1) / 60.0
    return len(events.smiles(t, smile)) / minutes


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


@pytest.fixture(scope="module")
def grid():
    """GRID at the pipeline's 10 frames per second: t, points, shapes."""
    decoded = list(media.iter_frames(shared_path(*GRID), step_s=0.1))
    t = np.array([t for t, _ in decoded])
    return t, *_track([f for _, f in decoded])


def test_talking_without_smiling_gives_no_smiles_on_grid(grid):
    t, points, shapes = grid
    assert np.isfinite(points[:, 0, 0]).mean() > 0.95
    for source in face.EXPRESSION_SOURCES:
        assert _smile_events_per_min(t, points, shapes, source) <= MAX_FALSE_SMILES_PER_MIN, source
        # the smile stays under the event threshold (0.5) while people talk
        assert np.percentile(expressions(points, shapes, source)["expr.smile"], 90) < 0.5, source


def test_mouth_open_agrees_between_sources_on_grid(grid):
    _, points, shapes = grid
    geo = face.expression_geometry(points)["mouth_open"]
    blend = np.array([s["jawOpen"] if s else np.nan for s in shapes])
    assert _corr(geo, blend) >= 0.7


def test_jaw_only_talking_gives_no_smiles_on_sample_call():
    """The sample call's faces smile throughout and open only the jaw while talking (first 30 s,
    5 frames per second, each participant's tile from the truth file)."""
    with open(SAMPLE_TRUTH, encoding="utf-8") as f:
        boxes = [p["box"] for p in json.load(f)["participants"].values()]
    decoded = list(media.iter_frames(SAMPLE_CALL, step_s=0.2, end_s=30.0))
    t = np.array([t for t, _ in decoded])
    for x, y, w, h in boxes:
        points, shapes = _track([f[y:y + h, x:x + w] for _, f in decoded])
        mouth = face.expression_geometry(points)["mouth_open"]
        assert np.nanpercentile(mouth, 90) - np.nanpercentile(mouth, 10) > 0.1  # it does talk
        for source in face.EXPRESSION_SOURCES:
            assert _smile_events_per_min(t, points, shapes, source) <= MAX_FALSE_SMILES_PER_MIN


@pytest.fixture(scope="module")
def photos():
    """Raw geometry smile (inter-ocular distances) and blendshape smile of each shared photo."""
    out = {}
    for name in PHOTOS:
        img = cv2.imread(shared_path("images", name))
        points, _ = _track([img])
        out[name] = float(face.expression_geometry(points)["smile"][0])
    return out


def test_photo_smiles_rank_neutral_slight_grin(photos):
    span = face.GEOMETRY_SPAN["smile"]
    by_kind = {k: [photos[n] for n, kind in PHOTOS.items() if kind == k]
               for k in ("neutral", "slight", "grin")}
    neutral = max(by_kind["neutral"])
    assert max(by_kind["neutral"]) - min(by_kind["neutral"]) < 0.15 * span
    assert min(by_kind["slight"]) > neutral + 0.15 * span      # slight smiles show
    assert max(by_kind["slight"]) < neutral + 0.8 * span       # ...but are not grins
    assert by_kind["grin"][0] > max(by_kind["slight"]) + 0.5 * span
    assert by_kind["grin"][0] > neutral + 1.0 * span           # a grin reads 1.0 over a neutral


def _cut_between_photos(seconds_each: float = 1.2, fps: float = 10.0) -> list[np.ndarray]:
    """Frames cutting between the shared photos (the grin every other shot), each shot with a
    slow zoom and a little drift and tilt, like a person moving in front of a webcam."""
    size = 360
    imgs = []
    for name in PHOTOS:
        img = cv2.imread(shared_path("images", name))
        s = size / img.shape[0]
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        x = max(0, (img.shape[1] - size) // 2)
        imgs.append(cv2.copyMakeBorder(img[:, x:x + size], 0, 0, 0, max(0, size - img.shape[1]),
                                       cv2.BORDER_REPLICATE))
    order = [0, 4, 2, 4, 1, 4, 3, 0, 4, 2, 1, 4]
    n = int(seconds_each * fps)
    frames = []
    for k, i in enumerate(order):
        for j in range(n):
            m = cv2.getRotationMatrix2D((size / 2, size / 2), 3.0 * np.sin(k + j / n), 1 + 0.05 * j / n)
            m[:, 2] += (4 * np.sin(k), 2 * np.cos(j / 3))
            frames.append(cv2.warpAffine(imgs[i], m, (size, size), borderMode=cv2.BORDER_REFLECT))
    return frames


def test_geometry_smile_follows_blendshapes_on_real_smiles():
    frames = _cut_between_photos()
    points, shapes = _track(frames)
    geo = expressions(points, shapes, "geometry")["expr.smile"]
    blend = expressions(points, shapes, "blendshapes")["expr.smile"]
    assert _corr(geo, blend) >= 0.7
    t = np.arange(len(frames)) / 10.0
    for smile in (geo, blend):  # five grin shots, one smile each (cuts may merge two)
        assert 4 <= len(events.smiles(t, smile)) <= 5


# --- through the frame pipeline (analyze_video): the interview, the photos, brows ------------

INTERVIEW = ("validation", "video", "interview_splitscreen.mp4")
INTERVIEWER_TILE = (0, 0, 640, 720)  # the left half: the anchor (the guest gestures, right)
BIG_SMILE, NEUTRAL_PHOTO = "paul_rudd_smile_ccbysa2.jpeg", "grace_hopper.jpg"  # ../shared/README


def _pipeline(path: str, box, source: str):
    from cuekit.layout import Participant
    from cuekit.video.pipeline import analyze_video

    return analyze_video(path, [Participant("P1", box)], face_fps=10, pose_fps=0,
                         expressions=source)


def _cue(res, cue: str) -> tuple[np.ndarray, np.ndarray]:
    s = res.samples[res.samples["cue"] == cue].sort_values("t")
    return s["t"].to_numpy("float64"), s["value"].to_numpy("float64")


@pytest.mark.parametrize("source", face.EXPRESSION_SOURCES)
def test_interviewer_talking_is_not_smiling(source):
    """The interview's anchor talks with a mostly neutral face: the old baseline (10th
    percentile, no talking discount) read 10-14 smiles a minute on him, both sources."""
    res = _pipeline(shared_path(*INTERVIEW), INTERVIEWER_TILE, source)
    summary = res.summary["P1"]
    assert summary["face_present_share"] > 0.95
    _, mouth = _cue(res, "expr.mouth_open")
    assert np.nanpercentile(mouth, 90) > 0.3  # he does talk
    assert summary["smiles_per_min"] <= MAX_FALSE_SMILES_PER_MIN


@pytest.mark.parametrize("source", face.EXPRESSION_SOURCES)
@pytest.mark.parametrize("clip", [INTERVIEW, ("media", "grid_same_speaker_6s.mp4")])
def test_neutral_talkers_raise_and_furrow_their_brows_rarely(clip, source):
    """Brow raise and furrow episodes (the smile events' rule) on one neutral talker a track.
    Not the ten-speaker GRID clip: ten people in one track, and one woman's higher resting brow
    reads as a 3 s raise against the others' median (geometry)."""
    box = INTERVIEWER_TILE if clip == INTERVIEW else None
    res = _pipeline(shared_path(*clip), box, source)
    minutes = res.summary["P1"]["face_present_share"] * res.provenance["frames"] / 10 / 60
    for cue in ("expr.brow_raise", "expr.brow_furrow"):
        t, x = _cue(res, cue)
        assert len(events.expression_episodes(t, x)) / minutes <= MAX_FALSE_SMILES_PER_MIN, cue


@pytest.mark.parametrize("source", face.EXPRESSION_SOURCES)
def test_big_smile_photo_smiles_and_neutral_photo_does_not(source):
    """A photo is a one-frame video: read against the population's neutral (the old code read it
    against itself, and a big grin scored 0)."""
    on = inspect.signature(events.smiles).parameters["on"].default
    big = _cue(_pipeline(shared_path("images", BIG_SMILE), None, source), "expr.smile")[1]
    neutral = _cue(_pipeline(shared_path("images", NEUTRAL_PHOTO), None, source), "expr.smile")[1]
    assert len(big) == len(neutral) == 1
    assert big[0] >= on + 0.3
    assert neutral[0] < on - 0.2
