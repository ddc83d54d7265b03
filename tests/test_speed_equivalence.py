"""The fast frame pipeline gives the same cues as the plain one, within the plain one's own
measurement noise.

The plain path is written out here from the public building blocks: one thread, every sampled
frame converted whole to BGR, one face track per tile sharing one detector, landmarks kept as
float64, motion from the grey tile, pose on every k-th frame. The fast path is
``analyze_video`` (models on worker threads fed by the decoding thread, only the pixels each
model needs converted from the decoded YUV planes, face crops resampled plane by plane before
conversion, float32 landmarks, motion from the luma plane). Both analyse the first 20 s of the
sample call at the same rates.

The face landmark model answers a change of a grey level or two in its input with landmarks that move by a
fraction of a pixel (head angles by up to ~2 degrees on single frames). So the fast path, whose
face crops differ from the plain path's by ~0.2 grey levels on average, is held to what the
plain path itself gives for frames with +-1 grey level of noise added: the noise floor.
"""

import json

import av
import cv2
import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_CALL, SAMPLE_TRUTH

from cuekit import media
from cuekit.cues import concat_samples, make_segments
from cuekit.layout import Participant
from cuekit.media import Picture
from cuekit.video import body
from cuekit.video.assemble import FaceSeries, PoseSeries, participant_tables
from cuekit.video.landmarks import FaceDetector, FaceLandmarker, PoseLandmarker
from cuekit.video.pipeline import analyze_video
from cuekit.video.track import FaceTrack

CLIP_S = 20.0
FACE_FPS, POSE_FPS = 10.0, 1.0
MOTION_TOL = 0.002   # share of pixels: grey from luma, shrunk, differs by ~1 grey level
VALUE_TOL = 1e-3     # added to every noise-floor bound (cues the noise leaves unchanged)
NOISE_MARGIN = {"median": 1.5, "p95": 1.5, "max": 2.0}  # x the noise floor's, per statistic
EXPRESSIONS = "blendshapes"
POSE_CUES = ("body.shoulder_tilt_deg", "body.slouch", "body.arms_crossed", "body.hand_activity")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """The first 20 s of the sample call, packets copied (no re-encode)."""
    path = str(tmp_path_factory.mktemp("speed") / "clip.mp4")
    with av.open(SAMPLE_CALL) as src, av.open(path, "w", format="mp4") as out:
        vs = src.streams.video[0]
        ovs = out.add_stream_from_template(vs)
        for pkt in src.demux(vs):
            if pkt.dts is None or pkt.size == 0 or pkt.pts * vs.time_base >= CLIP_S:
                continue
            pkt.stream = ovs
            out.mux(pkt)
    return path


@pytest.fixture(scope="module")
def participants():
    with open(SAMPLE_TRUTH, encoding="utf-8") as f:
        truth = json.load(f)
    return [Participant(n, tuple(p["box"])) for n, p in truth["participants"].items()]


def _plain_motion_gray(region_bgr):
    return body.motion_gray(cv2.cvtColor(region_bgr, cv2.COLOR_BGR2GRAY))


def _plain_path(path, participants, noise_seed=None):
    """Cue samples and segments of the plain path; ``noise_seed``: add -1, 0 or +1 grey level
    (at random) to every colour of every frame first."""
    rng = None if noise_seed is None else np.random.default_rng(noise_seed)
    detector = FaceDetector()
    tracks = {p.name: FaceTrack(FaceLandmarker(), detector) for p in participants}
    poses = {p.name: PoseLandmarker() for p in participants}
    seen = {p.name: {"t": [], "pts": [], "shapes": [], "motion": [], "prev": None,
                     "pose_t": [], "pose_pts": [], "pose_vis": []} for p in participants}
    pose_every = round(FACE_FPS / POSE_FPS)
    try:
        for n, (t, picture) in enumerate(media.iter_pictures(path, step_s=1 / FACE_FPS)):
            frame = picture.bgr()
            if rng is not None:
                step = rng.integers(-1, 2, frame.shape).astype(np.int16)
                frame = np.clip(frame + step, 0, 255).astype(np.uint8)
            for p in participants:
                x, y, w, h = p.box
                tile, s = frame[y:y + h, x:x + w], seen[p.name]
                found = tracks[p.name].step(Picture(bgr=tile))
                s["t"].append(t)
                s["pts"].append(np.full((478, 3), np.nan) if found is None else found.points)
                s["shapes"].append(None if found is None else found.blendshapes)
                gray = _plain_motion_gray(tile)
                s["motion"].append(body.motion_energy(s["prev"], gray))
                s["prev"] = gray
                if n % pose_every == 0:
                    pose = poses[p.name].detect(cv2.cvtColor(tile, cv2.COLOR_BGR2RGB),
                                                int(round(t * 1000)))
                    s["pose_t"].append(t)
                    s["pose_pts"].append(np.full((33, 3), np.nan) if pose is None else pose.points)
                    s["pose_vis"].append(np.full(33, np.nan) if pose is None else pose.visibility)
    finally:
        for closer in (*tracks.values(), *poses.values(), detector):
            closer.close()
    samples, rows = [], []
    for name, s in seen.items():
        fs = FaceSeries(np.array(s["t"]), np.array(s["pts"]), s["shapes"],
                        np.array(s["motion"]))
        ps = PoseSeries(np.array(s["pose_t"]), np.array(s["pose_pts"]), np.array(s["pose_vis"]))
        sm, r, _ = participant_tables(name, fs, ps, EXPRESSIONS)
        samples.append(sm)
        rows += r
    return concat_samples(samples), make_segments(rows)


@pytest.fixture(scope="module")
def both(clip, participants):
    fast = analyze_video(clip, participants, face_fps=FACE_FPS, pose_fps=POSE_FPS,
                         workers=2)
    return _plain_path(clip, participants), fast


@pytest.fixture(scope="module")
def noisy(clip, participants):
    samples, _ = _plain_path(clip, participants, noise_seed=0)
    return samples


def _errors(reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Per cue: median, 95th percentile and maximum of |other - reference| over matching
    samples."""
    keys = ["participant", "cue", "t"]
    merged = pd.merge(reference, other, on=keys, how="outer", suffixes=("_ref", "_other"),
                      indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    a, b = merged["value_ref"].to_numpy(), merged["value_other"].to_numpy()
    assert (np.isnan(a) == np.isnan(b)).all(), "a cue is missing on one path only"
    err = pd.Series(np.abs(a - b)).fillna(0.0).groupby(merged["cue"])
    return pd.DataFrame({"median": err.median(), "p95": err.quantile(0.95), "max": err.max()})


def test_same_samples_within_the_noise_floor(both, noisy):
    (plain, _), fast = both
    assert plain["cue"].nunique() >= 15 and len(plain) > 5000
    got, floor = _errors(plain, fast.samples), _errors(plain, noisy)
    assert (floor.loc[["head.pitch_deg", "head.yaw_deg"], "median"] > 0.01).all(), \
        "the noise floor measures no noise: the perturbation did not reach the model"
    tol = floor * pd.Series(NOISE_MARGIN) + np.where(
        floor.index == "body.motion_energy", MOTION_TOL, VALUE_TOL)[:, None]
    face = got.drop(index=list(POSE_CUES))
    over = face[(face > tol.loc[face.index]).any(axis=1)]
    assert over.empty, f"fast path errors above the noise floor's (x{NOISE_MARGIN}):\n" \
        f"{over.join(floor, rsuffix='_floor')}"
    # pose sees the same pixels on both paths (the whole tile converted): no noise allowed
    assert (got.loc[list(POSE_CUES), "max"] <= VALUE_TOL).all(), got.loc[list(POSE_CUES)]


def test_same_events(both):
    (_, plain), fast = both
    cols = ["participant", "kind", "start", "end"]
    a = plain[cols].sort_values(cols).reset_index(drop=True)
    b = fast.segments[cols].sort_values(cols).reset_index(drop=True)
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-6)


def test_worker_count_does_not_change_results(clip, participants, both):
    _, fast = both
    one = analyze_video(clip, participants, face_fps=FACE_FPS, pose_fps=0,
                        workers=1)
    assert one.provenance["workers"] == 1 and fast.provenance["workers"] == 2
    face = fast.samples[fast.samples["cue"].isin(one.samples["cue"].unique())]
    pd.testing.assert_frame_equal(face.reset_index(drop=True), one.samples.reset_index(drop=True))


def test_face_frames_keep_the_same_measures_as_landmarks():
    """The pipeline keeps a dozen measures per frame, reduced a block of frames at a time,
    instead of the landmarks: the same numbers as the measures of all landmarks at once."""
    from cuekit.video.assemble import FaceFrames, frame_features

    rng = np.random.default_rng(0)
    n = 2 * FaceFrames.BLOCK + 37
    pts = rng.normal(300, 40, (n, 478, 3))
    gone = rng.random(n) < 0.2
    ff = FaceFrames("geometry")
    for i in range(n):
        ff.add(i / 10, None if gone[i] else pts[i], None)
        ff.motion.append(0.0)
    whole = pts.astype("float32")
    whole[gone] = np.nan
    want = frame_features(whole, [None] * n, "geometry")
    got = ff.series().features
    assert want.keys() == got.keys()
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)


# --- chunked analysis: stretches of the call in processes of their own, joined -----------------

CUTS = [0.0, 3.0, 8.0, CLIP_S]  # through P2's nod (2.5-3.75 s) and P1's gaze-away (6.9-9.4 s)


@pytest.fixture(scope="module")
def chunked(clip, participants):
    from cuekit.video import pipeline

    mp = pytest.MonkeyPatch()
    # cut where events are, with a short warm-up so each process re-seeds its trackers well
    # after the clip's start (and in the middle of the nod)
    mp.setattr(pipeline, "chunk_bounds", lambda duration_s, *a: [*CUTS[:-1], duration_s])
    mp.setattr(pipeline, "WARM_S", 2.0)
    try:
        return analyze_video(clip, participants, face_fps=FACE_FPS, pose_fps=POSE_FPS,
                             processes=3)
    finally:
        mp.undo()


def test_chunks_give_the_same_samples_within_the_noise_floor(both, noisy, chunked):
    (plain, _), _ = both
    assert chunked.provenance["processes"] == 3
    got, floor = _errors(plain, chunked.samples), _errors(plain, noisy)
    tol = floor * pd.Series(NOISE_MARGIN) + np.where(
        floor.index == "body.motion_energy", MOTION_TOL, VALUE_TOL)[:, None]
    # pose too: each process's pose tracker starts from the detector at its warm-up, so pose is
    # held to the plain path's own noise on pose, as the face is
    over = got[(got > tol.loc[got.index]).any(axis=1)]
    assert over.empty, f"chunked errors above the noise floor's (x{NOISE_MARGIN}):\n" \
        f"{over.join(floor, rsuffix='_floor')}"


def test_chunks_give_each_event_once_and_whole(both, chunked):
    _, fast = both
    cols = ["participant", "kind", "start", "end"]
    a = fast.segments[cols].sort_values(cols).reset_index(drop=True)
    b = chunked.segments[cols].sort_values(cols).reset_index(drop=True)
    spanning = a[(a["start"] < CUTS[1]) & (a["end"] > CUTS[1])
                 | (a["start"] < CUTS[2]) & (a["end"] > CUTS[2])]
    assert {"nod", "gaze_away"} <= set(spanning["kind"]), spanning
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=0.11)  # a frame at 10 fps


def test_chunk_bounds():
    from cuekit.video.pipeline import MIN_CHUNK_S, chunk_bounds

    assert chunk_bounds(3600, 1, 10, 10) == [0.0, 3600.0]
    assert chunk_bounds(MIN_CHUNK_S * 1.5, 4, 10, 10) == [0.0, MIN_CHUNK_S * 1.5]
    cuts = chunk_bounds(3601.3, 3, 10, 20)  # pose every 2 s: cuts on whole 2 s
    assert cuts[0] == 0 and cuts[-1] == 3601.3 and len(cuts) == 4
    assert all(c % 2 == 0 for c in cuts[1:-1])
