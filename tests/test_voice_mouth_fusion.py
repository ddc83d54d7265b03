"""Voices split with the mouths' help: two voices too alike for the embeddings alone are told
apart by whose mouth moves, a listener's moving mouth does not steal a voice that differs, and
without faces nothing is fused. Known answers from made-up windows and mouths; the generated
call family (``benchmarks/call_family.py``) measures it on whole calls."""

import numpy as np
import pandas as pd
import pytest

from cuekit.audio.speakers import cluster_embeddings, fuse_with_mouths
from cuekit.cues import StreamResult
from cuekit.dynamics.attribution import fuse_voices, window_mouth_movement
from cuekit.layout import Participant


def _turns(rng, n):
    """A window's speaker (0/1) in turns of 4-12 windows."""
    out, who = [], 0
    while len(out) < n:
        out += [who] * int(rng.integers(4, 13))
        who = 1 - who
    return np.array(out[:n])


def _embeddings(rng, truth, *, apart, spread=0.08, dim=64):
    """Non-negative unit vectors: both voices share most of their direction; ``apart`` is the
    weight of each voice's own dimensions (0: the same voice)."""
    base = np.abs(rng.standard_normal(dim))
    own = np.zeros((2, dim))
    own[0, :4], own[1, 4:8] = 1.0, 1.0
    x = np.abs(base / np.linalg.norm(base) + apart * own[truth]
               + spread * rng.standard_normal((len(truth), dim)))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _movement(rng, truth, *, speaking=1.0, listening=0.1, noise=0.15):
    """Mouth movement per window: the speaker's mouth moves, the listener's barely."""
    m = np.where(np.eye(2, dtype=bool)[truth], speaking, listening)
    return np.abs(m + noise * rng.standard_normal(m.shape))


def _agreement(labels, truth):
    return max(np.mean(labels == truth), np.mean(labels == 1 - truth))


@pytest.mark.parametrize("seed", range(4))
def test_same_voice_twice_is_split_by_the_mouths(seed):
    rng = np.random.default_rng(seed)
    truth = _turns(rng, 120)
    emb = _embeddings(rng, truth, apart=0.0)  # nothing in the voice tells them apart
    alone = cluster_embeddings(emb, speakers=2)
    assert _agreement(alone, truth) < 0.8  # the embeddings alone cannot
    labels, how = fuse_with_mouths(emb, _movement(rng, truth))
    assert how["fused"] and np.mean(labels == truth) >= 0.95  # named by the mouths: no swap


@pytest.mark.parametrize("seed", range(4))
def test_a_listener_chewing_does_not_take_a_distinct_voice(seed):
    rng = np.random.default_rng(10 + seed)
    truth = _turns(rng, 120)
    emb = _embeddings(rng, truth, apart=0.6)
    move = _movement(rng, truth)
    chew = np.flatnonzero(truth == 0)[5:20]  # participant 1 moves their mouth while listening
    move[chew, 1] = 1.2 + 0.1 * rng.random(len(chew))
    labels, _ = fuse_with_mouths(emb, move)
    assert np.mean(labels[chew] == 0) >= 0.9 and np.mean(labels == truth) >= 0.95


def test_without_faces_or_with_a_still_mouth_nothing_is_fused():
    rng = np.random.default_rng(3)
    truth = _turns(rng, 80)
    emb = _embeddings(rng, truth, apart=0.6)
    move = _movement(rng, truth)
    hidden = move.copy()
    hidden[:60, 1] = np.nan  # the second face is seen in a quarter of the windows
    assert fuse_with_mouths(emb, hidden)[0] is None
    still = move.copy()
    still[:, 1] = 0.1  # a photo: the mouth never moves more than the other one's
    assert fuse_with_mouths(emb, still)[0] is None
    assert fuse_with_mouths(emb, move[:, :1])[0] is None  # one participant: nothing to split


def test_window_movement_is_mean_mouth_speed_and_nan_without_a_face():
    t = np.arange(0, 10, 0.1)
    mouth = np.where(t < 5, 0.0, 0.2 * (np.arange(len(t)) % 2))  # still, then 2 per second
    rows = [dict(t=ti, participant="P1", cue="expr.mouth_open", value=v, confidence=1.0)
            for ti, v in zip(t, mouth, strict=True) if not 7 <= ti < 8.5]
    video = pd.DataFrame(rows)
    w = np.array([[1.0, 2.5], [5.0, 6.5], [7.0, 8.5]])
    got = window_mouth_movement(w, video, ["P1", "P2"])
    assert got[0, 0] == pytest.approx(0.0)
    assert got[1, 0] == pytest.approx(2.0, rel=0.01)  # |0.2| every 0.1 s
    assert np.isnan(got[2, 0])  # the face was not seen
    assert np.isnan(got[:, 1]).all()  # nobody called P2


def test_attribution_splits_a_mixed_track_by_the_tiles_mouths():
    """``fuse_voices``: the audio stage's windows, the faces' mouth samples (10 fps), one
    voice for two people; the split goes back to the audio stage named after the tiles."""
    rng = np.random.default_rng(5)
    truth = _turns(rng, 100)
    windows = np.stack([np.arange(100) * 0.5, np.arange(100) * 0.5 + 0.5], axis=1)
    t = np.arange(0, 50, 0.1)
    who = truth[np.minimum((t / 0.5).astype(int), 99)]
    rows = []
    for j, name in enumerate(["Left", "Right"]):
        talking = who == j
        m = np.where(talking, 0.3 + 0.25 * np.sin(2 * np.pi * 4 * t) ** 2, 0.05)
        m = m + 0.01 * rng.standard_normal(len(t))
        rows += [dict(t=ti, participant=name, cue="expr.mouth_open", value=v, confidence=1.0)
                 for ti, v in zip(t, m, strict=True)]
    video = pd.DataFrame(rows)
    got = {}

    def relabel(labels, names, how):
        got.update(labels=labels, names=names, how=how)
        return StreamResult(video.iloc[:0], video.iloc[:0])

    audio = StreamResult(video.iloc[:0], video.iloc[:0], state=dict(
        windows=windows, emb=_embeddings(rng, truth, apart=0.0), relabel=relabel))
    people = [Participant("Left", (0, 0, 10, 10)), Participant("Right", (10, 0, 10, 10))]
    assert fuse_voices(audio, video, people) is not None
    assert got["names"] == ["Left", "Right"] and got["how"]["fused"]
    assert np.mean(got["labels"] == truth) >= 0.95
    # no tiles (audio only) or no video: the voices stay as the audio stage split them
    assert fuse_voices(audio, video, [Participant("Left"), Participant("Right")]) is None
    assert fuse_voices(audio, None, people) is None
