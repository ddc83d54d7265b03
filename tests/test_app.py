"""The dashboard's pages, run headless with Streamlit's AppTest against a hand-made session."""

import json
import os
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_store import MP4_HEAD, VTT, fake_analyze, make_cueset

from cuekit import jobs, store
from cuekit.cues import concat_segments, make_segments
from cuekit.transcript import transcript_segments

APP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "app.py")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv(store.HOME_ENV, str(tmp_path / "home"))
    return tmp_path / "home"


TRANSCRIPT_CUES = [{"start": 1.0, "end": 3.5, "speaker": "Agent", "text": "How can I help?"},
                   {"start": 10.5, "end": 14.0, "speaker": "Customer", "text": "My line drops."}]


def analysed_session(home, *, title="Renewal call", recorded_on=date(2026, 1, 5), share=0.55,
                     transcript=False):
    lib = store.Library(home)
    media = home.parent / "call.mp4"
    media.write_bytes(MP4_HEAD + bytes(2000))
    sid = lib.add_session(media, title=title, media_name="call.mp4", recorded_on=recorded_on)
    cs = make_cueset(60)
    cs.summary["participants"]["Agent"]["talk_share"] = share
    if transcript:  # and a head shake
        lines = transcript_segments(TRANSCRIPT_CUES, {"Agent": "Agent", "Customer": "Customer"})
        shake = make_segments([{"start": 33.0, "end": 34.0, "participant": "Customer",
                                "kind": "shake", "label": "head shake"}])
        cs.segments = concat_segments([cs.segments, lines, shake])
    jobs.run_queue(lib, fake_analyze(cs))
    return lib, sid


def by_label(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def table_with(at: AppTest, column: str):
    """The first data frame on the page with this column (the page shows several)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def run(query: dict | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if page:
        at.session_state["page"] = page
    return at.run()


def test_empty_library_offers_the_sample_call(home):
    at = run()
    assert not at.exception
    assert at.title[0].value == "cuekit"
    assert "No sessions yet" in at.info[0].value
    labels = [b.label for b in at.button]
    assert labels.count("Analyse the sample call") == (2 if Path(
        "sample_media/sample_call.mp4").is_file() else 0)


def test_library_lists_sessions_with_key_metrics(home):
    analysed_session(home)
    at = run()
    assert not at.exception
    table = at.dataframe[0].value
    row = table.iloc[0]
    assert (row["title"], row["date"], row["duration"], row["status"]) == (
        "Renewal call", "2026-01-05", "1:00", "done")
    assert row["participants"] == "Agent, Customer"
    assert "Agent: talk 55%, interrupts 1, eye contact 80%" in row["key metrics"]


def test_failed_session_shows_why(home):
    lib = store.Library(home)
    media = home.parent / "x.mp4"
    media.write_bytes(MP4_HEAD)
    sid = lib.add_session(media, title="broken", media_name="x.mp4")
    lib.claim_next()
    lib.fail(sid, "x.mp4 is truncated")
    at = run()
    assert "failed: x.mp4 is truncated" in at.dataframe[0].value.iloc[0]["status"]


def test_session_view_shows_video_timeline_events_and_scorecard(home):
    _, sid = analysed_session(home)
    at = run({"session": sid})
    assert not at.exception
    assert at.session_state["page"] == "Session"
    assert at.header[0].value == "Renewal call"
    assert at.get("video")
    events = table_with(at, "kind")
    assert list(events["kind"]) == ["interruption", "moment", "pause"]  # short pause left out
    assert list(events["at"]) == ["0:12", "0:25", "0:40"]
    lanes = {lane["title"]: lane for lane in timeline_data(at)["lanes"]}
    assert [r["bars"] for r in lanes["Who speaks"]["rows"]] == [
        [[0.0, 10.0, ""], [20.0, 30.0, ""], [40.0, 50.0, ""]],
        [[10.0, 20.0, ""], [30.0, 40.0, ""], [50.0, 60.0, ""]]]  # make_cueset's turns
    indicators = table_with(at, "indicator").set_index("indicator")
    assert indicators.loc["Talk share", "this call"] == "55%"  # the Agent: first in order
    assert indicators.loc["Talk share", "target"] == "35–55%"
    metrics = {m.label: m.value for m in at.metric}  # the details, one click away
    assert metrics["Talk share"] in ("55%", "45%")
    assert [t.label for t in at.tabs] == ["All metrics (details)", "Outcomes", "Exports"]
    assert len(at.get("download_button")) == 7


def test_unknown_session_is_an_error_not_a_crash(home):
    at = run({"session": "doesnotexist"})
    assert not at.exception
    assert "doesnotexist" in at.error[0].value


def test_coach_note_is_stored_and_listed(home):
    lib, sid = analysed_session(home)
    at = run({"session": sid})
    by_label(at.number_input, "At (s)").set_value(33.0)
    by_label(at.selectbox, "About").set_value("Customer")
    by_label(at.text_area, "Note").input("asks an open question")
    by_label(at.button, "Add note").click().run()
    assert not at.exception
    [note] = lib.notes(sid)
    assert (note.t_s, note.participant, note.text) == (33.0, "Customer", "asks an open question")
    assert "0:33" in table_with(at, "kind")["at"].tolist()  # the note is an event now
    assert any("asks an open question" in m.value for m in at.markdown)


def test_rename_and_delete_from_the_library(home):
    lib, sid = analysed_session(home)
    at = run()
    at.dataframe[0]  # selection is not scriptable in AppTest: drive the actions directly
    lib.rename(sid, "Q1 review")
    at = run()
    assert at.dataframe[0].value.iloc[0]["title"] == "Q1 review"
    lib.delete(sid)
    at = run()
    assert "No sessions yet" in at.info[0].value


def test_compare_shows_a_participant_over_time(home):
    analysed_session(home, title="January", recorded_on=date(2026, 1, 5), share=0.7)
    analysed_session(home, title="February", recorded_on=date(2026, 2, 5), share=0.5)
    at = run(page="Compare")
    assert not at.exception
    assert by_label(at.selectbox, "Participant").value == "Agent"
    assert at.get("plotly_chart")
    wide = at.dataframe[0].value
    assert list(wide["Talk share"]) == ["70%", "50%"]
    assert list(wide["date"]) == ["2026-01-05", "2026-02-05"]


def test_running_analysis_shows_its_progress_after_a_reload(home, monkeypatch):
    monkeypatch.setattr(jobs, "ensure_worker", lambda lib: False)  # no real worker here
    lib = store.Library(home)
    media = home.parent / "x.mp4"
    media.write_bytes(MP4_HEAD)
    sid = lib.add_session(media, title="Long call", media_name="x.mp4")
    lib.claim_next()
    lib.set_progress(sid, "video", 0.4)
    at = run()  # a fresh browser session: nothing in session_state, all from the library
    assert not at.exception
    [bar] = at.sidebar.get("progress")
    assert bar.proto.text == "Long call — video 40%"
    assert at.dataframe[0].value.iloc[0]["status"] == "running"


def test_a_transcript_shows_as_a_lane_and_as_clickable_lines(home):
    _, sid = analysed_session(home, transcript=True)
    at = run({"session": sid})
    assert not at.exception
    [expander] = [e for e in at.expander if e.label.startswith("Transcript")]
    assert expander.label == "Transcript (2 lines)"
    lines = expander.dataframe[0].value
    assert lines.to_dict("list") == {"at": ["0:01", "0:10"], "who": ["Agent", "Customer"],
                                     "text": ["How can I help?", "My line drops."]}
    lanes = {lane["title"]: lane for lane in timeline_data(at)["lanes"]}
    assert [r["bars"] for r in lanes["Transcript"]["rows"]] == [
        [[1.0, 3.5, "How can I help?"]], [[10.5, 14.0, "My line drops."]]]  # TRANSCRIPT_CUES
    rows = {r["name"] for r in lanes["Nods and head shakes"]["rows"]}
    assert {"Customer nods", "Customer head shakes"} <= rows  # a shake is not drawn as a nod


def test_the_raw_signals_are_one_click_away(home):
    _, sid = analysed_session(home)
    at = run({"session": sid})
    titles = [lane["title"] for lane in timeline_data(at)["lanes"]]
    assert titles[-1] == "Notes" and not any(t.startswith("Pitch") for t in titles)
    by_label(at.toggle, "Show the raw signals too (eye contact, smile intensity, posture, "
                        "pitch, loudness, pace, synchrony)").set_value(True).run()
    assert not at.exception
    lanes = {lane["key"]: lane for lane in timeline_data(at)["lanes"]}
    pitch = lanes["pitch"]  # make_cueset: 40 st while speaking, nothing otherwise
    assert pitch["kind"] == "lines" and pitch["range"] == [40.0, 40.0]
    assert {s["name"] for s in pitch["series"]} == {"Agent", "Customer"}
    assert lanes["eye-contact"]["range"] == [0.0, 1.0]


def test_no_transcript_no_transcript_lines(home):
    _, sid = analysed_session(home)
    at = run({"session": sid})
    assert not [e for e in at.expander if e.label.startswith("Transcript")]
    assert "Transcript" not in [lane["title"] for lane in timeline_data(at)["lanes"]]


def test_the_note_time_follows_the_player(home):
    """The page mounts the component that reports the player's position (the browser side is
    checked end to end in test_e2e); its report moves the note's time."""
    lib, sid = analysed_session(home)
    at = run({"session": sid})
    [clock] = [e for e in at.get("bidi_component") if "video_clock" in e.proto.id]
    assert by_label(at.number_input, "At (s)").value == 0.0
    at = player_reports(at, clock.proto.id, 23.4)  # as when the coach pauses the video there
    assert not at.exception
    assert by_label(at.number_input, "At (s)").value == 23.4
    assert any("Position 0:23" in c.value for c in at.caption)
    by_label(at.text_area, "Note").input("paused here")
    by_label(at.button, "Add note").click().run()
    assert [(n.t_s, n.text) for n in lib.notes(sid)] == [(23.4, "paused here")]


def timeline_data(at: AppTest) -> dict:
    """What the page hands the in-page timeline (``cuekit.charts.timeline_lanes`` and ids)."""
    [timeline] = [e for e in at.get("bidi_component") if e.proto.component_name ==
                  "cuekit_timeline"]
    return json.loads(timeline.proto.json)


def player_reports(at: AppTest, component_id: str, t_s: float) -> AppTest:
    """Send what the component's ``setTriggerValue('time', t_s)`` sends from the browser
    (AppTest cannot drive a v2 component: its widget state is added by hand)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    states = at._tree.get_widget_states()
    states.widgets.append(WidgetState(
        id=f"$$STREAMLIT_INTERNAL_KEY_{component_id}__events",
        json_trigger_value=json.dumps([{"event": "time", "value": t_s}])))
    return at._run(states)


def upload(at: AppTest, transcript: tuple[str, bytes] | None) -> AppTest:
    at.sidebar.get("file_uploader")[0].set_value(("call.mp4", MP4_HEAD + bytes(500),
                                                  "video/mp4"))
    if transcript is not None:
        at.sidebar.get("file_uploader")[1].set_value((*transcript, "text/vtt"))
    by_label(at.sidebar.button, "Analyse").click()
    return at.run()


def test_upload_with_a_transcript_stores_it_for_the_analysis(home, monkeypatch):
    monkeypatch.setattr(jobs, "ensure_worker", lambda lib: False)  # no real worker here
    at = upload(run(), ("zoom export.vtt", VTT))
    assert not at.exception and not at.error
    [info] = store.Library(home).sessions()
    assert info.transcript_path.name == "transcript.vtt"
    assert info.transcript_path.read_bytes() == VTT


def test_a_bad_transcript_is_refused_with_one_line(home, monkeypatch):
    monkeypatch.setattr(jobs, "ensure_worker", lambda lib: False)
    at = upload(run(), ("notes.vtt", b"these are my notes, no times"))
    [error] = at.error
    assert error.value.startswith("notes.vtt is not a transcript") and "\n" not in error.value
    assert store.Library(home).sessions() == []


def test_the_sample_call_comes_with_its_transcript(home, monkeypatch):
    from cuekit.cli import SAMPLE_CALL
    if not SAMPLE_CALL.is_file():
        pytest.skip("the sample call is not built")
    monkeypatch.setattr(jobs, "ensure_worker", lambda lib: False)
    at = run()
    at.button(key="sample_welcome").click().run()
    assert not at.exception
    [info] = store.Library(home).sessions()
    [bar] = at.sidebar.get("progress")  # the page follows the analysis it started
    assert bar.proto.text == "Sample call — waiting in the queue 0%"
    assert info.config["names"] == ["Agent", "Customer"]
    assert info.transcript_path.read_bytes() == SAMPLE_CALL.with_suffix(".vtt").read_bytes()
