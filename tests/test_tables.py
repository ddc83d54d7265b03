"""The dashboard's display tables and the small rules app.py used to keep (cuekit.tables,
cuekit.outcomes' edits, cuekit.cues' pair names, cuekit.store.intake's name list), with known
answers."""

import math
from pathlib import Path

import pandas as pd
import pytest

from cuekit import cues, outcomes, tables
from cuekit.metrics import format_metric, title
from cuekit.errors import InputError
from cuekit.store import SessionInfo, TeamMember, intake


def _info(**changes) -> SessionInfo:
    base = dict(id="abc", title="Renewal", created_at="2026-01-05T10:00:00+00:00",
                recorded_on="2026-01-05", media_name="call.mp4",
                media_path=Path("/lib/sessions/abc/media.mp4"), config={}, status="done",
                stage="done", progress=1.0, error="", participants=["Ann", "Customer"],
                duration_s=125.0, metrics={"Ann": {"talk_share": 0.55, "interruptions_made": 2},
                                           "Customer": {"pitch_median_hz": 180.0}},
                owner="Ann", owner_id=3)
    return SessionInfo(**{**base, **changes})


def test_key_metrics_line():
    line = tables.key_metrics({"Ann": {"talk_share": 0.55, "interruptions_made": 2},
                               "Customer": {"pitch_median_hz": 180.0}})
    assert line.startswith("Ann: ") and "55%" in line and " 2" in line
    assert "Customer" not in line  # none of the key metrics
    assert tables.key_metrics({}) == ""


def test_library_table_rows_and_the_owner_column():
    failed = _info(id="f", title="Broken", status="failed", error="no audio", duration_s=None,
                   metrics={})
    table = tables.library_table([_info(), failed], with_owner=True)
    assert list(table.columns) == ["date", "title", "owner", "participants", "duration",
                                   "status", "key metrics"]
    assert table.iloc[0][["title", "owner", "participants", "duration", "status"]].tolist() == [
        "Renewal", "Ann", "Ann, Customer", "2:05", "done"]
    assert table.iloc[1][["duration", "status", "key metrics"]].tolist() == [
        "", "failed: no audio", ""]
    assert "owner" not in tables.library_table([_info()], with_owner=False).columns
    assert tables.library_table([], with_owner=False).empty


def test_session_info_knows_audio_from_video():
    assert _info().has_video and _info().media_type == "video/mp4"
    audio = _info(media_path=Path("/lib/sessions/abc/media.m4a"))
    assert not audio.has_video and audio.media_type == "audio/mp4"
    assert not _info(media_path=Path("/x/media.wav")).has_video
    assert _info(media_path=Path("/x/media.webm")).has_video


def test_participant_names_from_one_line():
    assert intake.participant_names(" Agent, Customer ,") == ["Agent", "Customer"]
    assert intake.participant_names("  ") is None
    assert intake.participant_names("") is None


def test_pairs_by_name():
    assert cues.is_pair("Ann|Bob") and not cues.is_pair("Ann")
    assert cues.shown_name("Ann|Bob") == "Ann & Bob" and cues.shown_name("Ann") == "Ann"


def test_edited_outcomes_and_what_to_store():
    wanted = outcomes.edited_values([(" satisfaction ", 4.0), ("resolved", math.nan),
                                     ("", 3.0), (None, 1.0), ("complaint", None)])
    assert wanted == {"satisfaction": 4.0, "resolved": None, "complaint": None}
    with pytest.raises(InputError, match="at most"):
        outcomes.edited_values([("x" * 200, 1.0)])
    assert outcomes.changes({"satisfaction": 3.0, "nps": 9.0}, {"satisfaction": 4.0}) == {
        "satisfaction": 4.0, "nps": None}
    assert outcomes.changes({}, {}) == {}


def test_relation_points_join_indicator_and_outcome_by_session():
    indicators = pd.DataFrame({
        "session_id": ["a", "b", "c", "a"], "indicator": ["talk_share"] * 3 + ["other"],
        "value": [0.5, 0.7, 0.6, 9.0], "owner": ["Ann", "", "Bob", "Ann"],
        "participant": ["Ann", "Agent", "Bob", "Ann"]})
    table = pd.DataFrame({"session_id": ["a", "b", "d", "a"],
                          "outcome": ["satisfaction", "satisfaction", "satisfaction", "resolved"],
                          "value": [4.0, 2.0, 5.0, 1.0]})
    points = outcomes.relation_points(indicators, table, "talk_share", "satisfaction")
    assert sorted(points.index) == ["a", "b"]  # c has no outcome, d no indicator
    assert points.loc["a", ["x", "y", "who"]].tolist() == [0.5, 4.0, "Ann"]
    assert points.loc["b", ["x", "y", "who"]].tolist() == [0.7, 2.0, "Agent"]  # no owner


def test_history_table_one_row_per_session_in_date_order():
    history = pd.DataFrame({
        "session_id": ["s1", "s1", "s2"], "title": ["First", "First", "Second"],
        "recorded_on": pd.to_datetime(["2026-01-05", "2026-01-05", "2026-02-01"]),
        "metric": ["talk_share", "turns", "talk_share"], "value": [0.55, 12.0, 0.4]})
    table = tables.history_table(history, ["talk_share", "turns", "nods_per_min_listening"])
    assert list(table.columns) == ["date", "session", title("talk_share"), title("turns")]
    assert table["date"].tolist() == ["2026-01-05", "2026-02-01"]
    assert table["session"].tolist() == ["First", "Second"]
    assert table[title("talk_share")].tolist() == [format_metric("talk_share", 0.55),
                                                   format_metric("talk_share", 0.4)]
    assert table[title("turns")].iloc[0] == format_metric("turns", 12.0)


def test_team_table_rows_trends_and_the_admins_grouping():
    key = "talk_share"
    summary = pd.DataFrame([
        {"agent": "Ann", "sessions": 3, "latest": pd.Timestamp("2026-02-01"),
         "latest_title": "Renewal", key: 0.45, f"{key}:trend": "down", f"{key}:better": True},
        {"agent": "Bob", "sessions": 0, "latest": None, "latest_title": "", key: float("nan"),
         f"{key}:trend": "", f"{key}:better": None}]).set_index("agent")
    members = [TeamMember("Ann", ("Cleo", "Abe")), TeamMember("Bob", ())]
    table = tables.team_table(members, summary, [key], by_coach=False)
    assert table["agent"].tolist() == ["Ann", "Bob"]
    ann = table.iloc[0]
    assert (ann["sessions"], str(ann["latest"]), ann["latest session"]) == (3, "2026-02-01",
                                                                             "Renewal")
    assert ann[tables.value_column(key)] == 0.45
    assert ann[tables.trend_column(key)] == "↓ (better)"
    bob = table.iloc[1]
    assert bob["latest"] is None and pd.isna(bob[tables.value_column(key)])
    assert bob[tables.trend_column(key)] == ""
    grouped = tables.team_table(members, summary, [key], by_coach=True)
    assert list(zip(grouped["coach"], grouped["agent"], strict=True)) == [
        (tables.NO_COACH, "Bob"), ("Abe", "Ann"), ("Cleo", "Ann")]
