import io
import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path
from datetime import date

import numpy as np
import pytest

from conftest import MP4_HEAD

from cuekit import jobs, store
from cuekit.cues import concat_samples, make_segments, series_to_samples
from cuekit.cueset import CueSet
from cuekit.errors import InputError, MediaError

FORK = multiprocessing.get_context("fork")  # as the worker runs analyses


def make_cueset(duration_s: float = 60.0, *, names=("Agent", "Customer"), face_hz: float = 10.0,
                voice_hz: float = 20.0) -> CueSet:
    """A hand-made two-person CueSet: alternating 10 s turns, cues with known values.

    Agent speaks in [0, 10), [20, 30) …, the customer in between; an interruption at 12 s,
    a long pause at 40–43 s, a coaching moment at 25 s, a nod every 15 s.
    """
    a, b = names
    tf = np.arange(0, duration_s, 1 / face_hz)
    tv = np.arange(0, duration_s, 1 / voice_hz)
    agent_speaks = (tv // 10) % 2 == 0
    frames = []
    for name, speaking in ((a, agent_speaks), (b, ~agent_speaks)):
        on_screen = (np.sin(tf / 7.0 + len(name)) > -0.6).astype(float)
        frames += [
            series_to_samples(tf, name, "gaze.on_screen", on_screen),
            series_to_samples(tf, name, "expr.smile", 0.5 + 0.4 * np.sin(tf / 5.0)),
            series_to_samples(tf, name, "head.pitch_deg", 3 * np.sin(tf * 2 * np.pi)),
            series_to_samples(tf, name, "body.lean", 0.1 * np.sin(tf / 30.0)),
            series_to_samples(tv, name, "voice.active", speaking.astype(float)),
            series_to_samples(tv, name, "voice.pitch_st", np.where(speaking, 40.0, np.nan)),
            series_to_samples(tv, name, "voice.loudness_db", np.where(speaking, -20.0, -60.0)),
            series_to_samples(tv, name, "voice.syllable_rate", np.where(speaking, 4.0, np.nan)),
        ]
    rows = []
    for start in np.arange(0, duration_s, 10.0):
        who = a if (start // 10) % 2 == 0 else b
        rows.append({"start": start, "end": min(start + 10, duration_s), "participant": who,
                     "kind": "speech"})
    for t in np.arange(5, duration_s, 15.0):
        rows.append({"start": t, "end": t + 1.2, "participant": b, "kind": "nod"})
    rows += [
        {"start": 12.0, "end": 13.0, "participant": a, "kind": "interruption",
         "label": f"{a} interrupts {b}"},
        {"start": 40.0, "end": 43.0, "participant": a, "kind": "pause"},
        {"start": 50.0, "end": 50.5, "participant": b, "kind": "pause"},  # short: not an event
        {"start": 25.0, "end": 30.0, "participant": a, "kind": "moment",
         "label": "long monologue while the customer looks away"},
    ]
    segments = make_segments([r for r in rows if r["start"] < duration_s])
    summary = {
        "participants": {
            a: {"talk_share": 0.55, "turns": 3, "interruptions_made": 1,
                "eye_contact_listening": 0.8, "nods_per_min_listening": 0.0,
                "response_latency_s": 0.4, "pitch_median_hz": float("nan")},
            b: {"talk_share": 0.45, "turns": 3, "interruptions_made": 0,
                "eye_contact_listening": 0.6, "nods_per_min_listening": 4.0,
                "response_latency_s": 0.7},
        },
        "pairs": {f"{a}|{b}": {"synchrony": 0.3, "synchrony_surrogate": 0.1, "leader": a,
                               "lag_s": 1.0}},
    }
    session = {"media": {"path": "call.mp4", "duration_s": duration_s},
               "layout": {"participants": [{"name": a}, {"name": b}]},
               "provenance": {"seconds_total": 1.0}}
    return CueSet(concat_samples(frames), segments, summary, session)


def fake_analyze(result: CueSet):
    def analyze(path, config, *, hook):
        assert os.path.isfile(path)
        for done in range(3):
            hook("video", done + 1, 3)
        return result
    return analyze


def test_home_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(store.HOME_ENV, str(tmp_path / "h"))
    assert store.default_home() == tmp_path / "h"
    monkeypatch.delenv(store.HOME_ENV)
    assert store.default_home() == Path.home() / ".cuekit"


def test_database_uses_wal(library):
    with sqlite3.connect(library.db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("head, ext", [
    (MP4_HEAD, ".mp4"), (b"\x00\x00\x00\x14ftypqt  ", ".mov"), (b"\x00\x00\x00\x1cftypM4A ", ".m4a"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", ".webm"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska", ".mkv"), (b"RIFF\x24\x00\x00\x00WAVEfmt ", ".wav"),
    (b"ID3\x04\x00", ".mp3"), (b"\xff\xfb\x90\x64", ".mp3"), (b"OggS\x00\x02", ".ogg"),
    (b"fLaC\x00", ".flac"),
])
def test_media_type_is_read_from_content(head, ext):
    assert store.sniff_media(head + bytes(40)) == ext


@pytest.mark.parametrize("head", [b"hello, this is text", b"%PDF-1.7", b"", b"\x89PNG\r\n\x1a\n"])
def test_non_media_is_refused_with_its_first_bytes(head):
    with pytest.raises(InputError, match="not a recording"):
        store.sniff_media(head)


def test_renamed_text_file_is_refused_and_nothing_is_stored(library, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("just some text, not a video")
    with pytest.raises(InputError, match="not a recording"):
        library.add_session(fake, title="x", media_name="notes.mp4")
    assert library.sessions() == []
    assert os.listdir(library.sessions_dir) == []


def test_upload_limit_is_configurable(monkeypatch):
    assert store.max_upload_mb() == store.DEFAULT_MAX_UPLOAD_MB
    monkeypatch.setenv(store.MAX_UPLOAD_ENV, "50")
    assert store.max_upload_mb() == 50
    monkeypatch.setenv(store.MAX_UPLOAD_ENV, "lots")
    with pytest.raises(InputError, match="lots"):
        store.max_upload_mb()


def test_bad_settings_are_refused_before_storing(library, recording):
    with pytest.raises(InputError, match="layout"):
        library.add_session(recording, title="x", media_name="call.mp4", layout="3x7")
    assert library.sessions() == []


def test_session_lifecycle(library, recording):
    sid = library.add_session(recording, title="Weekly call", media_name="call.mp4",
                              names=["Agent", "Customer"], recorded_on=date(2026, 3, 1))
    info = library.session(sid)
    assert (info.status, info.title, info.recorded_on) == ("queued", "Weekly call", "2026-03-01")
    assert info.media_path.read_bytes() == recording.read_bytes()
    assert info.config == {"layout": "auto", "names": ["Agent", "Customer"]}

    assert jobs.run_queue(library, fake_analyze(make_cueset(30))) == 1
    info = library.session(sid)
    assert (info.status, info.progress, info.duration_s) == ("done", 1.0, 30.0)
    assert info.participants == ["Agent", "Customer"]
    assert info.metrics["Agent"]["talk_share"] == pytest.approx(0.55)
    assert "pitch_median_hz" not in info.metrics["Agent"]  # NaN is not stored as a number
    cs = library.load_cueset(sid)
    assert len(cs.samples) == len(make_cueset(30).samples)

    library.rename(sid, "  Renamed  ")
    assert library.session(sid).title == "Renamed"
    library.add_note(sid, 12.5, "good recovery", "Agent")
    library.delete(sid)
    assert library.sessions() == []
    assert not (library.sessions_dir / sid).exists()
    with sqlite3.connect(library.db_path) as db:
        for table in ("sessions", "metrics", "notes"):
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0


def test_unknown_session_names_the_id(library):
    with pytest.raises(InputError, match="nope"):
        library.session("nope")


def test_failed_analysis_keeps_the_message_and_the_queue_goes_on(library, recording):
    first = library.add_session(recording, title="bad", media_name="a.mp4")
    second = library.add_session(recording, title="good", media_name="b.mp4")

    def analyze(path, config, *, hook):
        if first in path:
            raise MediaError(f"{path} is truncated")
        return make_cueset(20)

    assert jobs.run_queue(library, analyze) == 2
    assert library.session(first).status == "failed"
    assert "truncated" in library.session(first).error
    assert library.session(second).status == "done"
    with pytest.raises(InputError, match="failed"):
        library.load_cueset(first)


def test_progress_is_written_while_running(library, recording):
    sid = library.add_session(recording, title="x", media_name="a.mp4")
    seen = FORK.Queue()  # the analysis runs in a child process of the worker

    def analyze(path, config, *, hook):
        hook("audio", 1, 4)
        info = library.session(sid)
        seen.put((info.status, info.stage, info.progress))
        return make_cueset(10)

    jobs.run_queue(library, analyze)
    assert seen.get(timeout=5) == ("running", "audio", 0.25)


def test_only_one_worker_runs_at_a_time(library, recording):
    library.add_session(recording, title="x", media_name="a.mp4")
    started, release = FORK.Event(), FORK.Event()

    def slow(path, config, *, hook):
        started.set()
        release.wait(5)
        return make_cueset(10)

    worker = threading.Thread(target=jobs.run_queue, args=(library, slow))
    worker.start()
    assert started.wait(5)
    assert jobs.worker_alive(library)
    assert jobs.run_queue(library, slow) == 0  # the lock is taken: the second one leaves
    release.set()
    worker.join(5)
    assert not jobs.worker_alive(library)


def test_a_dead_worker_fails_its_session(library, recording):
    sid = library.add_session(recording, title="x", media_name="a.mp4")
    library.claim_next()  # as if a worker claimed it and then died without the lock
    assert jobs.ensure_worker(library) is False
    assert library.session(sid).status == "failed"
    assert "stopped" in library.session(sid).error


def test_notes_are_stored_by_time(library, recording):
    sid = library.add_session(recording, title="x", media_name="a.mp4")
    library.add_note(sid, 30.0, "second")
    nid = library.add_note(sid, 5.0, "first", "Agent")
    assert [(n.t_s, n.text, n.participant) for n in library.notes(sid)] == [
        (5.0, "first", "Agent"), (30.0, "second", "")]
    library.delete_note(nid)
    assert [n.text for n in library.notes(sid)] == ["second"]
    with pytest.raises(InputError, match="text"):
        library.add_note(sid, 1.0, "   ")
    with pytest.raises(InputError, match="-3"):
        library.add_note(sid, -3.0, "before the start")


def test_history_follows_a_participant_across_sessions(library, recording):
    for day, share in ((date(2026, 1, 5), 0.7), (date(2026, 2, 5), 0.5)):
        sid = library.add_session(recording, title=f"call {day}", media_name="a.mp4",
                                  recorded_on=day)
        cs = make_cueset(10)
        cs.summary["participants"]["Agent"]["talk_share"] = share
        jobs.run_queue(library, fake_analyze(cs))
        assert library.session(sid).status == "done"
    assert library.participant_names() == ["Agent", "Customer"]
    h = library.history("Agent")
    talk = h[h["metric"] == "talk_share"]
    assert list(talk["value"]) == [0.7, 0.5]
    assert list(talk["recorded_on"].dt.month) == [1, 2]


def test_a_view_reads_only_the_cues_it_draws(library, recording):
    sid = library.add_session(recording, title="x", media_name="a.mp4")
    jobs.run_queue(library, fake_analyze(make_cueset(20)))
    view = library.load_cueset(sid, cues=["gaze.on_screen", "voice.pitch_st"])
    assert set(view.samples["cue"]) == {"gaze.on_screen", "voice.pitch_st"}
    full = library.load_cueset(sid)
    assert len(view.segments) == len(full.segments) and view.summary == full.summary


VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:03.500\nAgent: Hello, how can I help?\n"
SRT = b"1\r\n00:00:04,000 --> 00:00:06,000\r\nCustomer: My line drops.\r\n"


@pytest.mark.parametrize("content, name", [(VTT, "transcript.vtt"),
                                           (b"\xef\xbb\xbf" + VTT, "transcript.vtt"),
                                           (SRT, "transcript.srt")])
def test_a_transcript_is_stored_beside_the_recording(library, recording, content, name):
    with open(recording, "rb") as upload:
        sid = library.add_session(upload, title="", media_name="call.mp4",
                                  transcript=io.BytesIO(content), transcript_name="../zoom.vtt")
    info = library.session(sid)
    assert info.transcript_path == library.sessions_dir / sid / name  # a server-made name
    assert sorted(os.listdir(library.sessions_dir / sid)) == ["media.mp4", name]
    assert info.transcript_path.read_bytes() == content
    assert info.analysis_args()["transcript"] == str(info.transcript_path)
    assert info.config["transcript"] == name  # relative: the library folder may move


def test_a_session_without_transcript_has_none(library, recording):
    info = library.session(library.add_session(recording, title="", media_name="call.mp4"))
    assert info.transcript_path is None and info.analysis_args()["transcript"] is None


@pytest.mark.parametrize("content", [b"hello, this is not a transcript", MP4_HEAD, b""])
def test_a_bad_transcript_is_refused_and_nothing_is_stored(library, recording, content):
    with pytest.raises(InputError) as refused:
        library.add_session(recording, title="", media_name="call.mp4",
                            transcript=io.BytesIO(content), transcript_name="call.vtt")
    message = str(refused.value)
    assert message.startswith("call.vtt is not a transcript") and "\n" not in message
    assert str(library.home) not in message  # no server path in what the user reads
    assert library.sessions() == [] and os.listdir(library.sessions_dir) == []
