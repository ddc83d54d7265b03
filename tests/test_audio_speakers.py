"""Known answers for telling voices apart from embeddings: windows over speech, clustering with
the count given or estimated, the separation reported, and votes turned into a voice per
moment."""

import numpy as np
import pytest

from cuekit.audio.speakers import (HOP_S, cluster_embeddings, estimate_voice_count,
                                   follow_local_speakers, join_overlap,
                                   label_frames, second_voice_in_time, separation, snap_changes,
                                   voice_windows, window_margins)
from cuekit.errors import InputError


def _voices(rng, centres, counts, spread):
    """Unit vectors scattered around unit ``centres`` (non-negative, as GE2E embeddings are)."""
    rows = []
    for c, n in zip(centres, counts, strict=True):
        x = np.abs(c + spread * rng.standard_normal((n, len(c))))
        rows.append(x / np.linalg.norm(x, axis=1, keepdims=True))
    return np.concatenate(rows)


def _centres(rng, k, dim=64, similarity=0.5):
    """``k`` non-negative unit vectors whose pairwise cosine is ``similarity``: a shared part
    and a part of their own on separate dimensions."""
    common = np.abs(rng.standard_normal(dim // 2))
    c = np.zeros((k, dim + k * 8))
    c[:, :dim // 2] = np.sqrt(similarity) * common / np.linalg.norm(common)
    for i in range(k):
        c[i, dim + 8 * i: dim + 8 * (i + 1)] = np.sqrt(1 - similarity) / np.sqrt(8)
    return c


def test_windows_tile_speech_and_keep_short_stretches_whole():
    w = voice_windows([(0.0, 4.0), (5.0, 5.3), (6.0, 7.0)], window_s=1.5, hop_s=0.5,
                      min_window_s=0.4)
    assert w[0].tolist() == [0.0, 1.5] and w[-2].tolist() == [2.5, 4.0]  # ends at the end
    assert np.all(np.diff(w[:-1, 0]) <= 0.5 + 1e-9)
    assert [6.0, 7.0] in w.tolist() and not any(a == 5.0 for a, _ in w)  # 0.3 s: too short


@pytest.mark.parametrize("k", [2, 3, 5])
def test_clusters_found_given_or_estimated(k):
    rng = np.random.default_rng(k)
    counts = [30 + 7 * i for i in range(k)]
    emb = _voices(rng, _centres(rng, k), counts, spread=0.05)
    truth = np.repeat(np.arange(k), counts)
    for speakers in (k, None):
        got = cluster_embeddings(emb, speakers=speakers)
        assert got.max() + 1 == k, speakers
        assert (got == truth).all()  # numbered in order of first appearance, like the truth
    # the voices' centroids are ~0.3 apart (0.5 by design, less the noise's shared part);
    # the same windows shuffled between the voices are not apart at all
    assert separation(emb, truth) > 0.25 and separation(emb, rng.permutation(truth)) < 0.05


@pytest.mark.parametrize("k", [2, 3])
def test_a_tree_on_some_windows_labels_them_all(k):
    # a long call: the tree sees every 10th window (the cap forced small); every window still
    # gets its own voice, turns interleaved, whether the count is given or estimated
    rng = np.random.default_rng(10 + k)
    emb = _voices(rng, _centres(rng, k), [200] * k, spread=0.05)
    turns = np.arange(len(emb)).reshape(k, -1, 25).transpose(1, 0, 2).reshape(-1)
    truth = np.repeat(np.arange(k), 200)[turns]
    for speakers in (k, None):
        got = cluster_embeddings(emb[turns], speakers=speakers, tree_windows=len(emb) // 10)
        assert (got == truth).all(), speakers


def test_one_voice_stays_one_and_interleaved_turns_are_followed():
    rng = np.random.default_rng(7)
    one = _voices(rng, _centres(rng, 1), [80], spread=0.05)
    assert cluster_embeddings(one, speakers=None).max() == 0
    assert np.isnan(separation(one, np.zeros(80, int)))
    two = _voices(rng, _centres(rng, 2), [20, 20], spread=0.05)
    order = np.r_[0:10, 20:30, 10:20, 30:40]  # A, B, A, B turns
    got = cluster_embeddings(two[order], speakers=2)
    assert got.tolist() == [0] * 10 + [1] * 10 + [0] * 10 + [1] * 10
    with pytest.raises(InputError):
        cluster_embeddings(two, speakers=0)


def test_the_estimated_count_leaves_out_stray_windows_and_heeds_the_segmentation_model():
    rng = np.random.default_rng(11)
    c = _centres(rng, 3, similarity=0.2)
    two = _voices(rng, c[:2], [40, 40], spread=0.05)
    assert estimate_voice_count(two) == 2
    # four windows (2 s) of a third voice: too little speech to be a person
    stray = _voices(rng, c, [40, 40, 4], spread=0.05)
    assert cluster_embeddings(stray, speakers=None).max() == 2 and 4 * HOP_S < 3.0
    assert estimate_voice_count(stray) == 2
    assert estimate_voice_count(stray, min_voice_s=1.5) == 3
    # two voices so alike that the embeddings merge them, told apart by the model in a window
    alike = _voices(rng, _centres(rng, 2, similarity=0.97), [40, 40], spread=0.05)
    assert estimate_voice_count(alike) == 1
    heard = np.zeros((12, 3))
    heard[:, 0] = 6.0
    assert estimate_voice_count(alike, alone_s=heard) == 1
    heard[5, 1] = 1.2        # one window of 12 where a second local speaker talks alone 1.2 s
    assert estimate_voice_count(alike, alone_s=heard) == 1
    heard[7, 1] = 1.2        # two of 12: a share of 0.17
    assert estimate_voice_count(alike, alone_s=heard) == 2
    assert estimate_voice_count(alike, alone_s=heard, local_share=0.2) == 1
    heard[[5, 7], 1] = 0.6   # 0.6 s: not enough
    assert estimate_voice_count(alike, alone_s=heard) == 1
    assert estimate_voice_count(np.zeros((0, 64))) == 1


def test_votes_become_a_voice_per_moment():
    t = np.arange(0, 6, 0.01) + 0.005
    windows = np.array([[0.0, 1.5], [0.5, 2.0], [1.0, 2.5], [3.0, 4.5], [3.5, 5.0]])
    lab = label_frames(t, windows, np.array([0, 0, 0, 1, 1]), n_voices=2, smooth_s=0.2)
    assert (lab[(t > 0.1) & (t < 2.4)] == 0).all() and (lab[(t > 3.1) & (t < 4.9)] == 1).all()
    assert (lab[(t > 2.6) & (t < 2.9)] == -1).all() and (lab[t > 5.1] == -1).all()


def test_margins_say_how_surely_a_window_is_its_voice():
    rng = np.random.default_rng(3)
    far = _voices(rng, _centres(rng, 2, similarity=0.3), [20, 20], spread=0.05)
    near = _voices(rng, _centres(rng, 2, similarity=0.9), [20, 20], spread=0.05)
    truth = np.repeat([0, 1], 20)
    m_far, m_near = window_margins(far, truth), window_margins(near, truth)
    assert (m_far > 0).all() and np.median(m_far) > 3 * np.median(m_near) > 0
    wrong = truth.copy()
    wrong[:3] = 1  # three windows of the first voice given to the second
    m = window_margins(far, wrong)
    assert (m[:3] < 0).all() and (m[3:] > 0).all()
    assert np.isnan(window_margins(far, np.zeros(40, int))).all()


def test_second_voice_in_time_is_the_nearest_other_voice():
    lab = np.array([0, 0, 0, -1, 1, 1, -1, -1, 0, 2, 2, 2, 2])
    # frames of voice 1 are nearer voice 0 before (ties go to the earlier one); the lone 0 at
    # frame 8 is nearer voice 2 after it than voice 1 before it; -1 keeps no second voice
    assert second_voice_in_time(lab).tolist() == [1, 1, 1, -1, 0, 0, -1, -1, 2, 0, 0, 0, 0]
    assert second_voice_in_time(np.array([0, 0, -1])).tolist() == [-1, -1, -1]  # one voice
    assert second_voice_in_time(np.array([-1, -1])).tolist() == [-1, -1]



def test_a_voices_own_speech_and_its_overlapped_speech_are_joined_across_a_short_gap():
    """B talks 0-60, the votes hand the floor to A at 50 while B really goes on to 95 with A
    over it from 70: B's overlap (70-95) is 10 frames after its own speech, so 50-70 is B's too.
    A gap longer than max_gap, or one with silence in it, stays."""
    n = 120
    heard = np.ones(n, bool)
    own = np.zeros(n, bool)
    own[:50] = True
    second = np.zeros(n, bool)
    second[70:95] = True
    got = join_overlap(own, second, heard, max_gap=20)
    assert got[:95].all() and not got[95:].any()
    assert (join_overlap(own, second, heard, max_gap=19) == (own | second)).all()
    quiet = heard.copy()
    quiet[60] = False            # a real pause in the gap: B did stop
    assert (join_overlap(own, second, quiet, max_gap=20) == (own | second)).all()
    # two stretches of a voice's own speech are not joined by this (only own + overlap)
    own2 = own.copy()
    own2[60:80] = True
    assert (join_overlap(own2, np.zeros(n, bool), heard, max_gap=20) == own2).all()


def _change_at(i, n=240):
    lab = np.zeros(n, int)
    lab[i:] = 1
    return lab


def _dips(n, *runs):
    d = np.zeros(n, bool)
    for a, b in runs:
        d[a:b] = True
    return d


def test_a_change_of_voice_moves_into_the_brief_silence_near_it():
    """The votes change A -> B at 120; the level dips at 90-102 (B's first word starts at 102):
    A's last frames are before the dip, the dip is a gap, B starts after it. Same with the dip
    after the change (the votes early)."""
    heard = np.ones(240, bool)
    lab, sp = snap_changes(_change_at(120), heard, _dips(240, (90, 102)), max_shift=75)
    assert (lab[:90] == 0).all() and (lab[102:] == 1).all() and not sp[90:102].any()
    assert sp[:90].all() and sp[102:].all()
    lab, sp = snap_changes(_change_at(120), heard, _dips(240, (150, 160)), max_shift=75)
    assert (lab[:150] == 0).all() and (lab[160:] == 1).all() and not sp[150:160].any()


def test_the_longest_dip_in_reach_is_the_gap_and_far_ones_are_not():
    heard = np.ones(240, bool)
    lab, sp = snap_changes(_change_at(120), heard, _dips(240, (112, 118), (140, 155)),
                           max_shift=75)
    assert (lab[:140] == 0).all() and not sp[140:155].any() and sp[112:118].all()
    lab, sp = snap_changes(_change_at(120), heard, _dips(240, (20, 40)), max_shift=75)
    assert (lab == _change_at(120)).all() and sp.all()


def test_a_change_is_left_where_the_way_to_the_dip_crosses_silence_a_third_voice_or_an_overlap():
    heard = np.ones(240, bool)
    heard[130:140] = False  # a real pause between the change and the dip
    dips = _dips(240, (150, 160))
    lab, sp = snap_changes(_change_at(120), heard, dips, max_shift=75)
    assert (lab == _change_at(120)).all() and (sp == heard).all()
    third = _change_at(120)
    third[135:145] = 2
    lab, _ = snap_changes(third, np.ones(240, bool), dips, max_shift=75)
    assert (lab[:135] == third[:135]).all()  # A -> B is not carried across C to the dip
    both = _dips(240, (125, 135))  # overlapped speech next to the change
    lab, sp = snap_changes(_change_at(120), np.ones(240, bool), dips, max_shift=75, both=both)
    assert (lab == _change_at(120)).all() and sp.all()


def test_one_voices_dips_stay_speech():
    lab = np.zeros(240, int)
    got, sp = snap_changes(lab, np.ones(240, bool), _dips(240, (90, 102)), max_shift=75)
    assert (got == lab).all() and sp.all()


def test_a_dip_where_the_model_hears_the_change_beats_a_longer_one():
    """B's comma pause (140-155) is longer than the gap between A and B (90-102); the
    segmentation model hears the change of speaker in the gap, so the change goes there."""
    dips = _dips(240, (90, 102), (140, 155))
    lab, sp = snap_changes(_change_at(120), np.ones(240, bool), dips, max_shift=75,
                           heard_change=_dips(240, (92, 100)))
    assert (lab[:90] == 0).all() and (lab[102:] == 1).all() and not sp[90:102].any()
    assert sp[140:155].all()
    lab, _ = snap_changes(_change_at(120), np.ones(240, bool), dips, max_shift=75)
    assert (lab[:140] == 0).all()  # without it: the longest


# the segmentation model's local speakers: its classes, frames of 270 samples at 16 kHz
def _model_window(spans):
    """One model window from 0 s: class per frame, ``spans`` = [(start_s, end_s, class)]."""
    from cuekit.audio import segmentation as S

    centre_s = (np.arange(S.FRAMES_PER_WINDOW) * S.FRAME_HOP + S.FRAME_SPAN / 2) / S.SAMPLE_RATE
    cls = np.zeros(S.FRAMES_PER_WINDOW, np.int8)
    for a, b, c in spans:
        cls[(centre_s >= a) & (centre_s < b)] = c
    return cls


def _follow(lab, heard, windows, near=None):
    from cuekit.audio.segmentation import LocalSpeakers

    t = np.arange(len(lab)) * 0.01 + 0.005
    local = LocalSpeakers(np.zeros(len(windows)), np.stack(windows))
    return follow_local_speakers(t, lab, heard, local, n_voices=2, near=near)[0]


def test_the_interrupters_stretch_after_an_overlap_goes_to_the_interrupter():
    """A speaks alone 0-4 s, B cuts in (4-6 s both), A stops and B goes on alone to 7 s. The
    1.5-s speaker windows give B's last second to A (they straddle the overlap). The model
    hears its local speaker 2 start in the overlap and go on alone: two people heard at once
    cannot both be A, so local 2 is B, and B's second after the overlap becomes B's."""
    heard = np.zeros(1000, bool)
    heard[:700] = True
    lab = np.where(heard, 0, -1)
    window = _model_window([(0, 4, 1), (4, 6, 4), (6, 7.1, 2)])  # frames of 17 ms: past 7 s
    got = _follow(lab, heard, [window, window])
    assert (got[:600] == 0).all() and (got[605:700] == 1).all() and (got[700:] == -1).all()
    # only where told to look (near overlapped speech)
    assert (_follow(lab, heard, [window], near=np.zeros(1000, bool)) == lab).all()


def test_a_local_speaker_that_merges_two_voices_changes_nothing():
    """The model hears one local speaker through A's 8 s and B's 1 s (two alike voices): the
    window labels, which told B apart, stand."""
    heard = np.zeros(1000, bool)
    heard[:900] = True
    lab = np.where(heard, 0, -1)
    lab[800:900] = 1
    got = _follow(lab, heard, [_model_window([(0, 9, 1)])] * 3)
    assert (got == lab).all()


def test_the_model_moves_a_change_of_voice_but_makes_no_short_islands():
    """Window labels change from A to B at 5.0 s; the model's two local speakers change at
    4.6 s: the change moves to 4.6 s. A flicker of local 1 inside B's speech (0.1 s) does not
    make a 0.1-s island of A."""
    heard = np.zeros(1000, bool)
    heard[:900] = True
    lab = np.where(heard, 0, -1)
    lab[500:900] = 1
    window = _model_window([(0, 4.6, 1), (4.6, 7.0, 2), (7.0, 7.1, 1), (7.1, 9, 2)])
    got = _follow(lab, heard, [window, window])
    assert (got[:460] == 0).all() and (got[462:900] == 1).all()
