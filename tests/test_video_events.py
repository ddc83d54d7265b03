"""Known-answer tests of event detection (cuekit.video.events) on synthetic series."""

import numpy as np
import pytest

from cuekit.intervals import ScoredIntervals
from cuekit.video import events

FPS = 10.0


def _still(seconds: float, jitter_deg: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(0, seconds, 1 / FPS)
    return t, np.random.default_rng(seed).normal(0, jitter_deg, len(t))


def _inject(t, x, t0, hz, cycles, amp):
    sel = (t >= t0) & (t < t0 + cycles / hz)
    x = x.copy()
    x[sel] += -amp * np.sin(2 * np.pi * hz * (t[sel] - t0))
    return x


def _rounded(evs):
    """``[(start, end), …]`` to 0.01 s of an interval set or of scored intervals' ``iv``."""
    return [(round(a, 2), round(b, 2)) for a, b in getattr(evs, "iv", evs).tolist()]


def test_episodes_of_a_mask_edges_merge_and_limits():
    """The events' convention: a sample reaches halfway to its neighbours; episodes less than
    ``merge_gap_s`` apart are joined, then kept by length."""
    from cuekit.intervals import from_mask

    t = np.arange(10) * 0.1
    m = np.array([0, 1, 1, 0, 1, 0, 0, 0, 1, 1], bool)
    mid = dict(cover="midpoints")
    assert _rounded(from_mask(t, m, **mid)) == [(0.05, 0.25), (0.35, 0.45), (0.75, 0.95)]
    assert _rounded(from_mask(t, m, merge_gap_s=0.15, **mid)) == [(0.05, 0.45), (0.75, 0.95)]
    assert _rounded(from_mask(t, m, min_s=0.15, **mid)) == [(0.05, 0.25), (0.75, 0.95)]
    assert from_mask(t, np.zeros(10, bool), **mid).shape == (0, 2)


def test_zigzag_ignores_small_wiggles():
    x = np.array([0, 1, 3, 2.5, 3.2, 0, -1, 0, 2, 3, 1.0])
    assert events.zigzag_pivots(x, 2.0) == [0, 4, 6, 9, 10]
    assert events.zigzag_pivots(np.zeros(5), 1.0) == []


def test_nod_recall_and_false_nods_on_a_still_face():
    """40 injected nods (2-3 cycles, 0.8-3 Hz, 4-10 deg) on a jittery track: recall >= 90%;
    10 minutes of the same still track: <= 1 false nod per minute."""
    rng = np.random.default_rng(7)
    found = 0
    for k in range(40):
        t, x = _still(12, 0.3, seed=k)
        hz, cycles, amp = rng.uniform(0.8, 3.0), rng.choice([2, 2.5, 3]), rng.uniform(4, 10)
        x = _inject(t, x, 5.0, hz, cycles, amp)
        nods, shakes = events.nods_and_shakes(t, x, _still(12, 0.3, seed=100 + k)[1])
        found += any(s < 5.0 + cycles / hz and e > 5.0 for s, e in nods.iv)
        assert len(shakes) == 0
    assert found / 40 >= 0.9
    t, x = _still(600, 0.3, seed=99)
    t2, y = _still(600, 0.3, seed=98)
    nods, _ = events.nods_and_shakes(t, x, y)
    assert len(nods) / 10.0 <= 1.0


def test_a_shake_is_not_a_nod_and_a_turn_away_is_not_a_shake():
    t, pitch = _still(20, 0.3, seed=1)
    _, yaw = _still(20, 0.3, seed=2)
    yaw = _inject(t, yaw, 3.0, 2.0, 2, 12)            # shake
    pitch = pitch + 0.2 * (yaw - yaw.mean())          # a little cross-talk
    turn = np.clip((t - 10) / 0.25, 0, 1) * np.clip((12.5 - t) / 0.25, 0, 1) * 30
    nods, shakes = events.nods_and_shakes(t, pitch, yaw + turn)
    assert len(nods) == 0
    assert len(shakes) == 1 and shakes.iv[0, 0] == pytest.approx(3.0, abs=0.5)
    assert shakes.score[0] == pytest.approx(24.0, rel=0.3)  # the amplitude: 12 deg each way


def test_noise_floor_scales_the_threshold():
    t, x = _still(30, 1.5, seed=3)                   # a very jittery track
    x = _inject(x=x, t=t, t0=10, hz=2, cycles=2, amp=3)   # 6 deg p-p: within its noise
    assert len(events.oscillations(t, x, min_amp=3.0)) == 0
    assert events.noise_floor(x) == pytest.approx(1.5, rel=0.25)


def test_nan_gaps_split_series():
    t, x = _still(12, 0.2, seed=4)
    x = _inject(t, x, 4.0, 2.0, 2, 8)
    x[45] = np.nan                                     # 0.1 s dropout inside the nod: bridged
    assert len(events.oscillations(t, x, min_amp=3)) == 1
    x[42:48] = np.nan                                  # 0.6 s: the nod is cut in two short halves
    assert len(events.oscillations(t, x, min_amp=3)) == 0


def test_blinks():
    t = np.arange(0, 10, 0.1)
    o = np.full(len(t), 0.3)
    o[20] = 0.05                                       # blink, one frame
    o[50:52] = 0.1                                     # blink, two frames
    o[70:85] = 0.05                                    # eyes closed 1.5 s: not a blink
    o[90] = np.nan
    b = events.blinks(t, o)
    assert _rounded(b) == [(1.95, 2.05), (4.95, 5.15)]
    assert b.score[0] == pytest.approx(1 - 0.05 / 0.3)


def test_smiles_and_gaze_aways():
    t = np.arange(0, 10, 0.1)
    s = np.zeros(len(t))
    s[10:20] = 0.8                                     # 1 s smile
    s[40:43] = 0.9                                     # 0.3 s: too short
    s[60:70] = 0.7
    s[70:72] = 0.2                                     # 0.2 s dip: merged
    s[72:80] = 0.6
    sm = events.smiles(t, s)
    assert _rounded(sm) == [(0.95, 1.95), (5.95, 7.95)]
    assert sm.score.tolist() == pytest.approx([0.8, 0.7])
    on = np.ones(len(t))
    on[30:45] = 0
    on[60:65] = 0                                      # 0.5 s: a glance, not an aversion
    on[80:95] = np.nan                                 # no face: unknown, not away
    away = events.gaze_aways(t, on)
    assert _rounded(away) == [(2.95, 4.45)]
    assert away.score.tolist() == pytest.approx([1.5])  # its duration, s


def test_rates_are_per_minute_of_face_time_whatever_the_frame_pattern():
    from cuekit.video.assemble import summarize

    # 10 samples a second taken from a 25 fps source: steps alternate 0.08 s and 0.12 s
    t = np.round(np.cumsum(np.r_[0.0, np.tile([0.08, 0.12], 300)])[:600], 3)  # 60 s
    present = np.where(t < 30.0, 1.0, 0.0)  # face seen for the first half minute only
    cues = {"face.present": present, "gaze.on_screen": present,
            "expr.smile": np.zeros_like(t), "body.motion_energy": np.zeros_like(t)}
    none = ScoredIntervals.empty()
    ev = {"nod": ScoredIntervals([(1.0, 2.0)] * 3, [1.0] * 3), "blink": none, "smile": none,
          "shake": none, "gaze_away": none}
    out = summarize(t, cues, ev)
    assert out["nods_per_min"] == pytest.approx(6.0, rel=0.01)  # 3 nods in 0.5 min of face
    assert out["face_present_share"] == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("source", ["blendshapes", "geometry"])
def test_talking_mouth_is_not_a_smile_but_a_held_smile_is(source):
    """A person talks for 20 s, the smile measure jumping on every "ee" (as the blendshape
    model's mouthSmile does on a neutral talker), then listens and smiles with still lips for
    2 s: one smile event, the held one (from raw per-frame measures, through face_cues)."""
    from cuekit.video import face
    from cuekit.video.assemble import FaceSeries, face_cues, face_events

    t = np.arange(0, 30, 0.1)
    talk = t < 20
    rng = np.random.default_rng(3)
    lips = np.where(talk, 0.15 + 0.15 * np.sin(2 * np.pi * 4.0 * t), 0.01)   # inter-ocular d.
    neutral, big = (0.02, 0.7) if source == "blendshapes" else (0.5, 0.5 + 0.7 * 0.4)
    smile = np.full(len(t), neutral)
    vowels = talk & (rng.random(len(t)) < 0.4)
    smile[vowels] = big                                 # spikes while talking
    smile[(t >= 25) & (t < 27)] = big                   # the held smile, lips still
    smile[(t >= 12) & (t < 13.5)] = big                 # a sustained "smile" mid-speech
    feats = {"present": np.ones(len(t)), "yaw": np.zeros(len(t)), "pitch": np.zeros(len(t)),
             "roll": np.zeros(len(t)), "h_off": np.zeros(len(t)), "v_off": np.zeros(len(t)),
             "eye_openness": np.full(len(t), 0.3), "face_size": np.full(len(t), 200.0),
             "expr.smile": smile, "expr.mouth_open": lips,
             "expr.brow_raise": np.full(len(t), face.POPULATION_NEUTRAL[source]["brow_raise"]),
             "expr.brow_furrow": np.full(len(t), face.POPULATION_NEUTRAL[source]["brow_furrow"])}
    fs = FaceSeries(t, None, None, np.zeros(len(t)), feats)
    got = face_events(t, face_cues(fs, source))["smile"]
    assert [(round(a, 1), round(b, 1)) for a, b in got.iv.tolist()] == [(25.0, 27.0)]
