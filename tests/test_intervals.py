"""Known answers for cuekit.intervals: runs, mask → intervals, merging, membership, robust SD."""

import numpy as np
import pytest

from cuekit import intervals as iv
from cuekit.errors import InputError


def arr(*pairs):
    return np.array(pairs, dtype="float64").reshape(-1, 2)


# ------------------------------------------------------------------------- true_runs


def test_true_runs_edges():
    assert iv.true_runs(np.zeros(0, bool)) == []
    assert iv.true_runs(np.zeros(4, bool)) == []
    assert iv.true_runs(np.ones(4, bool)) == [(0, 4)]
    assert iv.true_runs(np.array([True])) == [(0, 1)]
    assert iv.true_runs(np.array([1, 1, 0, 1, 0, 0, 1], bool)) == [(0, 2), (3, 4), (6, 7)]
    assert all(type(i) is int for run in iv.true_runs(np.array([0, 1, 1], bool)) for i in run)


def test_true_runs_nan_counts_as_false():
    assert iv.true_runs(np.array([np.nan, 1.0, 2.0, 0.0, np.nan, 3.0])) == [(1, 3), (5, 6)]


# ------------------------------------------------------------------------- short runs, gaps


def test_drop_short_runs():
    m = np.array([1, 0, 1, 1, 0, 1, 1, 1], bool)
    assert iv.drop_short_runs(m, 2).tolist() == [0, 0, 1, 1, 0, 1, 1, 1]
    assert iv.drop_short_runs(m, 3).tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    assert iv.drop_short_runs(m, 0).tolist() == m.tolist()
    assert m.tolist() == [1, 0, 1, 1, 0, 1, 1, 1]  # input untouched
    assert iv.drop_short_runs(np.zeros(0, bool), 3).tolist() == []
    # filling short False runs this way also fills them at the array's ends
    assert (~iv.drop_short_runs(~np.array([0, 1, 1, 0, 0, 1, 0], bool), 2)).tolist() == \
        [1, 1, 1, 0, 0, 1, 1]


def test_close_gaps_only_between_true_runs():
    m = np.array([0, 1, 0, 1, 0, 0, 1, 0], bool)
    assert iv.close_gaps(m, 1).tolist() == [0, 1, 1, 1, 0, 0, 1, 0]
    assert iv.close_gaps(m, 2).tolist() == [0, 1, 1, 1, 1, 1, 1, 0]  # at most: 2 is closed
    assert iv.close_gaps(np.zeros(3, bool), 5).tolist() == [0, 0, 0]
    assert iv.close_gaps(np.ones(3, bool), 5).tolist() == [1, 1, 1]


# ------------------------------------------------------------------------- from_mask


T = np.arange(10) * 0.1  # 0.0 … 0.9 s at 10 Hz
M = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1], bool)


def test_from_mask_start_centre_midpoints():
    np.testing.assert_allclose(iv.from_mask(T, M), arr((0.1, 0.3), (0.4, 0.5), (0.7, 1.0)))
    np.testing.assert_allclose(iv.from_mask(T, M, cover="centre"),
                               arr((0.05, 0.25), (0.35, 0.45), (0.65, 0.95)))
    np.testing.assert_allclose(iv.from_mask(T, M, cover="midpoints"),
                               arr((0.05, 0.25), (0.35, 0.45), (0.65, 0.95)))
    np.testing.assert_allclose(iv.from_mask(T, M, step_s=0.2), arr((0.1, 0.4), (0.4, 0.6),
                                                                        (0.7, 1.1)))


def test_from_mask_empty_and_all_true():
    assert iv.from_mask(np.zeros(0), np.zeros(0, bool)).shape == (0, 2)
    assert iv.from_mask(T, np.zeros(10, bool)).shape == (0, 2)
    np.testing.assert_allclose(iv.from_mask(T, np.ones(10, bool)), arr((0.0, 1.0)))
    np.testing.assert_allclose(iv.from_mask(T, np.ones(10, bool), cover="midpoints"),
                               arr((-0.05, 0.95)))


def test_from_mask_single_sample():
    one, yes = np.array([2.0]), np.array([True])
    assert iv.from_mask(one, yes).shape == (0, 2)  # no step to measure
    np.testing.assert_allclose(iv.from_mask(one, yes, step_s=0.5), arr((2.0, 2.5)))
    np.testing.assert_allclose(iv.from_mask(one, yes, cover="centre", step_s=0.5),
                               arr((1.75, 2.25)))
    np.testing.assert_allclose(iv.from_mask(one, yes, cover="midpoints"), arr((2.0, 2.0)))


def test_from_mask_nan_mask_is_false():
    got = iv.from_mask(T[:4], np.array([np.nan, 1.0, np.nan, 1.0]))
    np.testing.assert_allclose(got, arr((0.1, 0.2), (0.3, 0.4)))


def test_from_mask_split_at_missing_samples():
    t = np.array([0.0, 0.1, 0.2, 0.5, 0.6, 0.7])  # nothing observed between 0.2 and 0.5
    np.testing.assert_allclose(iv.from_mask(t, np.ones(6, bool)), arr((0.0, 0.8)))
    np.testing.assert_allclose(iv.from_mask(t, np.ones(6, bool), max_gap_steps=1.5),
                               arr((0.0, 0.3), (0.5, 0.8)))


def test_from_mask_touching_runs_are_half_open():
    got = iv.from_mask(T[:4], np.array([1, 0, 1, 1], bool))
    np.testing.assert_allclose(got, arr((0.0, 0.1), (0.2, 0.4)))
    assert iv.inside(np.array([0.1, 0.2]), got).tolist() == [False, True]


def test_from_mask_bad_arguments():
    with pytest.raises(InputError):
        iv.from_mask(T, M, cover="edges")
    with pytest.raises(InputError):
        iv.from_mask(T, M, cover="midpoints", max_gap_steps=1.5)
    with pytest.raises(InputError):
        iv.from_mask(T, M[:5])


# ------------------------------------------------------------------------- merge, lengths


def test_merge_sorts_and_bridges():
    np.testing.assert_array_equal(iv.merge(arr((5, 6), (0, 1), (1.5, 2)), bridge_s=0.5),
                                  arr((0, 2), (5, 6)))
    np.testing.assert_array_equal(iv.merge(arr((0, 3), (1, 2))), arr((0, 3)))  # nested
    assert iv.merge(arr()).shape == (0, 2)
    assert iv.merge([]).shape == (0, 2)


def test_merge_touching_inclusive_or_not():
    touching = arr((0, 1), (1, 2))
    np.testing.assert_array_equal(iv.merge(touching), arr((0, 2)))
    np.testing.assert_array_equal(iv.merge(touching, inclusive=False), touching)
    gap = arr((0, 1), (1.5, 2))
    np.testing.assert_array_equal(iv.merge(gap, bridge_s=0.5), arr((0, 2)))
    np.testing.assert_array_equal(iv.merge(gap, bridge_s=0.5, inclusive=False), gap)


def test_keep_lengths_inclusive_bounds():
    x = arr((0, 1), (2, 2.5), (3, 6))
    np.testing.assert_array_equal(iv.keep_lengths(x, min_s=0.5, max_s=3), x)
    np.testing.assert_array_equal(iv.keep_lengths(x, min_s=0.6, max_s=2.9), arr((0, 1)))
    assert iv.keep_lengths(arr()).shape == (0, 2)


# ------------------------------------------------------------------------- inside, robust_sd


def test_inside_half_open_lists_arrays_and_nan():
    x = arr((0, 1), (3, 4))
    t = np.array([-0.1, 0.0, 0.5, 1.0, 2.0, 3.0, 3.99, 4.0, np.nan])
    want = [False, True, True, False, False, True, True, False, False]
    assert iv.inside(t, x).tolist() == want
    assert iv.inside(t, [(0.0, 1.0), (3.0, 4.0)]).tolist() == want
    assert iv.inside(t, []).tolist() == [False] * len(t)
    assert iv.inside(np.zeros(0), x).tolist() == []
    assert iv.inside(np.array([1.0]), arr((0, 1), (1, 2))).tolist() == [True]  # touching


def test_robust_sd():
    assert iv.robust_sd(np.array([1.0, 2.0, 3.0, 4.0, 100.0])) == pytest.approx(1.4826)
    assert iv.robust_sd(np.array([5.0])) == 0.0
    x = np.array([1.0, 2.0, np.nan, 3.0, 4.0, 100.0])
    assert np.isnan(iv.robust_sd(x))
    assert iv.robust_sd(x, ignore_nan=True) == pytest.approx(1.4826)
    rng = np.random.default_rng(1)
    assert iv.robust_sd(rng.normal(0, 2.0, 20000)) == pytest.approx(2.0, rel=0.03)
    with pytest.warns(RuntimeWarning):
        assert np.isnan(iv.robust_sd(np.full(3, np.nan), ignore_nan=True))


def test_balanced_groups_keep_order_and_share_the_length():
    spans = [(0, 1), (2, 3), (4, 10), (11, 12)]
    groups = iv.balanced_groups(spans, 2)
    assert [s for g in groups for s in g] == spans            # every span once, in order
    assert groups == [[(0, 1), (2, 3)], [(4, 10), (11, 12)]]  # 2 + 7 beats 8 + 1
    rng = np.random.default_rng(5)
    starts = np.cumsum(rng.uniform(0.5, 3.0, 200))
    spans = [(float(a), float(a + d)) for a, d in zip(starts, rng.uniform(0.1, 0.4, 200),
                                                            strict=True)]
    for k in (2, 3, 7):
        groups = iv.balanced_groups(spans, k)
        assert len(groups) == k and [s for g in groups for s in g] == spans
        sums = [sum(b - a for a, b in g) for g in groups]
        assert max(sums) - min(sums) <= 2 * 0.4   # within two of the longest spans
    assert iv.balanced_groups([], 2) == []
    assert iv.balanced_groups([(0, 1)], 4) == [[(0, 1)]]
    assert iv.balanced_groups(spans[:3], 1) == [spans[:3]]


# ------------------------------------------------------------------------- between interval sets


def test_subtract_intersect_crop_duration():
    a = [(0.0, 4.0), (6.0, 8.0)]
    b = arr((1.0, 2.0), (3.0, 7.0))
    np.testing.assert_allclose(iv.subtract(a, b), arr((0.0, 1.0), (2.0, 3.0), (7.0, 8.0)))
    np.testing.assert_allclose(iv.intersect(a, b), arr((1.0, 2.0), (3.0, 4.0), (6.0, 7.0)))
    assert iv.subtract(a, np.empty((0, 2))).tolist() == [[0.0, 4.0], [6.0, 8.0]]
    assert iv.intersect([], b).shape == (0, 2)
    np.testing.assert_allclose(iv.crop(a, 1.0, 7.0), arr((1.0, 4.0), (6.0, 7.0)))
    assert iv.crop(a, 4.0, 6.0).shape == (0, 2)  # touching ends are not inside
    np.testing.assert_allclose(iv.crop([(-0.1, 0.5), (2.0, 2.0)], 0.0), arr((0.0, 0.5), (2.0, 2.0)))
    assert iv.duration(a) == 6.0 and iv.duration([]) == 0.0


def test_from_mask_merges_less_than_the_gap_then_keeps_by_length():
    t = np.arange(10) * 0.1
    m = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 1], bool)
    got = iv.from_mask(t, m, step_s=0.1, merge_gap_s=0.25)  # 0.2 s apart: joined
    np.testing.assert_allclose(got, arr((0.0, 0.5), (0.9, 1.0)))
    got = iv.from_mask(t, m, step_s=0.1, merge_gap_s=0.2 + 1e-9, min_s=0.15)
    np.testing.assert_allclose(got, arr((0.0, 0.5)))
    np.testing.assert_allclose(iv.from_mask(t, m, step_s=0.1, max_s=0.15), arr((0.4, 0.5), (0.9, 1.0)))


def test_scored_intervals_keep_a_score_beside_each_interval():
    ev = iv.ScoredIntervals([(0.0, 1.0), (2.0, 2.5)], [0.5, 3])
    assert ev.iv.shape == (2, 2) and ev.iv.dtype == np.float64
    assert ev.score.tolist() == [0.5, 3.0] and len(ev) == 2
    none = iv.ScoredIntervals.empty()
    assert len(none) == 0 and none.iv.shape == (0, 2) and none.score.shape == (0,)
    with pytest.raises(InputError, match="2 intervals but 1 scores"):
        iv.ScoredIntervals([(0.0, 1.0), (2.0, 2.5)], [0.5])
