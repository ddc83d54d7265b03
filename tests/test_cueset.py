import json
import os
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cuekit import cueset
from cuekit.cues import (CUES, align, concat_samples, empty_samples, make_segments,
                         series_to_samples)
from cuekit.errors import InputError, MediaError


def _example() -> cueset.CueSet:
    t = np.arange(0, 2, 0.1)
    samples = concat_samples([
        series_to_samples(t, "P1", "face.present", np.ones_like(t)),
        series_to_samples(t, "P1", "head.yaw_deg", np.where(t > 1, np.nan, 5.0), 0.8),
        series_to_samples(t, "Customer", "voice.active", (t > 0.5).astype(float)),
    ])
    segments = make_segments([
        {"start": 0.5, "end": 1.2, "participant": "Customer", "kind": "speech"},
        {"start": 1.0, "end": 1.4, "participant": "P1|Customer", "kind": "mirror",
         "label": "sway", "score": 0.7},
    ])
    summary = {"participants": {"P1": {"talk_share": 0.0, "pitch_median_hz": float("nan")},
                                "Customer": {"talk_share": 1.0}},
               "pairs": {"P1|Customer": {"synchrony": 0.3, "leader": "P1", "lag_s": 1.0}}}
    session = {"media": {"duration_s": 2.0},
               "layout": {"participants": [{"name": "P1"}, {"name": "Customer"}]}}
    return cueset.CueSet(samples, segments, summary, session)


def test_round_trip_is_identical(tmp_path):
    cs = _example()
    cueset.write(cs, tmp_path / "out")
    back = cueset.read(tmp_path / "out")
    pd.testing.assert_frame_equal(back.samples, cs.samples)
    pd.testing.assert_frame_equal(back.segments, cs.segments)
    assert back.session == cs.session
    assert back.summary["pairs"] == cs.summary["pairs"]
    assert back.summary["participants"]["P1"]["pitch_median_hz"] is None  # NaN → null
    assert back.participants == ["P1", "Customer"]
    text = pd.Series(["P1"]).dtype  # pandas' own string dtype: object before pandas 3, str from 3
    assert back.samples.dtypes.to_dict() == {
        "t": np.dtype("float64"), "participant": text, "cue": text,
        "value": np.dtype("float64"), "confidence": np.dtype("float32")}


def test_read_keeps_only_the_cues_asked_for(tmp_path):
    cs = _example()
    cueset.write(cs, tmp_path / "out")
    some = cueset.read(tmp_path / "out", cues=["voice.active"])
    assert set(some.samples["cue"]) == {"voice.active"} and len(some.samples) == 20
    none = cueset.read(tmp_path / "out", cues=())  # the session page without raw signals
    assert none.samples.empty and list(none.samples.columns) == list(cs.samples.columns)
    pd.testing.assert_frame_equal(none.segments, cs.segments)
    assert none.summary == some.summary


def test_files_follow_the_exchange_format(tmp_path):
    cueset.write(_example(), tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == sorted(cueset.FILES)
    s = pd.read_parquet(tmp_path / "out" / "samples.parquet")
    assert list(s.columns) == ["t", "participant", "cue", "value", "confidence"]
    assert not s.duplicated(["participant", "cue", "t"]).any()
    g = pd.read_parquet(tmp_path / "out" / "segments.parquet")
    assert list(g.columns) == ["start", "end", "participant", "kind", "label", "score"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(summary) == {"participants", "pairs"}


def test_write_replaces_atomically_and_leaves_no_temp(tmp_path):
    cs = _example()
    cueset.write(cs, tmp_path / "out")
    cs.summary["participants"]["P1"]["talk_share"] = 0.25
    cueset.write(cs, tmp_path / "out")
    assert cueset.read(tmp_path / "out").summary["participants"]["P1"]["talk_share"] == 0.25
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_failed_write_keeps_previous_result(tmp_path, monkeypatch):
    cs = _example()
    cueset.write(cs, tmp_path / "out")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError, match="disk full"):
        cueset.write(cs, tmp_path / "out")
    assert sorted(os.listdir(tmp_path)) == ["out"]
    monkeypatch.undo()
    assert len(cueset.read(tmp_path / "out").samples) == len(cs.samples)


def test_replacing_a_result_never_loses_it(tmp_path, monkeypatch):
    """Where the kernel swaps folders in one step the old result is never missing; without
    that, a failure between the two renames puts the old result back."""
    cs = _example()
    out = tmp_path / "out"
    cueset.write(cs, out)
    if sys.platform.startswith("linux"):
        seen = []
        real = cueset._exchange

        def watched(a, b):
            done = real(a, b)
            seen.append((done, os.path.isdir(b), sorted(os.listdir(b))))
            return done
        monkeypatch.setattr(cueset, "_exchange", watched)
        cueset.write(cs, out)
        assert seen and seen[0][0], "renameat2 swap not used on Linux"
        assert seen[0][1] and "samples.parquet" in seen[0][2]
        assert sorted(os.listdir(tmp_path)) == ["out"]
    # no atomic swap, and the second rename fails: the old result is back in place
    monkeypatch.setattr(cueset, "_exchange", lambda a, b: False)
    real_replace, calls = os.replace, []

    def second_fails(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError("rename failed")
        return real_replace(src, dst)
    monkeypatch.setattr(os, "replace", second_fails)
    cs.summary["participants"]["P1"]["talk_share"] = 0.99
    with pytest.raises(OSError, match="rename failed"):
        cueset.write(cs, out)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert cueset.read(out).summary["participants"]["P1"]["talk_share"] != 0.99


def test_read_rejects_other_folders(tmp_path):
    with pytest.raises(MediaError, match="not a cuekit result folder"):
        cueset.read(tmp_path)


def test_registry_and_table_checks():
    assert all(c.unit and c.meaning for c in CUES.values())
    with pytest.raises(InputError, match="unknown cue"):
        series_to_samples(np.zeros(2), "P1", "no.such_cue", np.zeros(2))
    with pytest.raises(InputError, match="unknown segment kind"):
        make_segments([{"start": 0, "end": 1, "participant": "P1", "kind": "dance"}])


def test_align_puts_rates_on_one_grid():
    fast = series_to_samples(np.arange(0, 1, 0.01), "P1", "voice.active", np.ones(100))
    slow = series_to_samples(np.array([0.0, 0.5]), "P2", "head.yaw_deg", np.array([2.0, 4.0]))
    grid = align(concat_samples([fast, slow]), 0.25, end_s=1.0)
    assert list(grid.index) == [0.0, 0.25, 0.5, 0.75]
    assert grid["P1/voice.active"].tolist() == [1.0] * 4
    assert grid["P2/head.yaw_deg"].tolist()[0] == 2.0 and np.isnan(grid["P2/head.yaw_deg"][0.25])
    assert align(empty_samples(), 0.5).empty
    with pytest.raises(InputError):
        align(fast, 0)


def test_align_keeps_samples_on_grid_points_in_their_own_bin():
    t = np.round(np.arange(0, 3, 0.1), 10)  # 10 fps samples exactly on a 0.1 s grid
    s = series_to_samples(t, "P1", "face.present", np.ones_like(t))
    grid = align(s, 0.1, end_s=3.0)
    assert len(grid) == 30
    assert not grid["P1/face.present"].isna().any()


@settings(max_examples=150, deadline=None)
@example([[("B", "face.present", 2, False), ("A", "face.present", 1, False)],
          [("A", "head.yaw_deg", 1, False)]])
@example([[("A", "face.present", 2, False)], [("A", "face.present", 1, False)]])
@given(st.lists(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]),
                                   st.sampled_from(["face.present", "head.yaw_deg", "voice.active"]),
                                   st.integers(0, 4), st.booleans()),
                         max_size=5), min_size=1, max_size=4))
def test_concat_samples_equals_dedup_and_sort(tables):
    """Whatever the tables (runs in order or not, keys repeated or not), concat_samples gives
    the de-duplicated (last wins) and sorted table."""
    frames = []
    for k, runs in enumerate(tables):
        parts = []
        for p, c, n, shuffled in runs:
            t = np.arange(n + 1) * 0.5
            parts.append(series_to_samples(t[::-1] if shuffled else t, p, c, t + 10 * k))
        frames.append(pd.concat(parts, ignore_index=True) if parts else empty_samples())
    got = concat_samples(frames)
    every = pd.concat(frames, ignore_index=True)
    want = (every.drop_duplicates(["participant", "cue", "t"], keep="last")
            .sort_values(["participant", "cue", "t"], kind="stable").reset_index(drop=True))
    pd.testing.assert_frame_equal(got, want[got.columns] if len(want) else got)


def test_extra_files_come_in_with_the_result(tmp_path):
    """A batch's key file is written inside the folder before the rename, so a result folder
    with a key is always whole; a killed write leaves only a temporary named after its target."""
    cueset.write(_example(), tmp_path / "out", extra_files={"batch_key.txt": "abc"})
    assert (tmp_path / "out" / "batch_key.txt").read_text() == "abc"
    assert cueset.temp_prefix(tmp_path / "out") == ".cuekit-out-"
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_write_file_is_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "summary.csv"
    cueset.write_file(path, b"old")
    cueset.write_file(path, b"new")
    assert path.read_bytes() == b"new"

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(cueset.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        cueset.write_file(path, b"newer")
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv"]  # no temporary left
