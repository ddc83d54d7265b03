"""No data loss: time limits, killed analyses, parallel writers, uploads, leftovers of crashes."""

import io
import os
import signal
import sqlite3
import time

import pytest
from test_store import FORK, MP4_HEAD, fake_analyze, make_cueset

from cuekit import cueset, jobs, store
from cuekit.errors import InputError

WRITERS = 4
SESSIONS_PER_WRITER = 5
NOTES_PER_SESSION = 3
REAL_CALL_S = 30  # a synthetic call for the kill test: ~6 s of real analysis on 2 cores
WAIT_S = 90


def leftovers(library: store.Library) -> list[str]:
    """Everything under sessions/ that is not a whole session's folder."""
    known = {s.id for s in library.sessions()}
    out = [p.name for p in library.sessions_dir.iterdir() if p.name not in known]
    for sid in known:
        out += [f"{sid}/{p.name}" for p in (library.sessions_dir / sid).iterdir()
                if p.name.startswith(".")]
    return out


def wait_for(condition, what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_time_limit_follows_the_recording_length():
    assert jobs.time_limit_s(None) == jobs.MIN_TIME_LIMIT_S == 600
    assert jobs.time_limit_s(60) == 600
    assert jobs.time_limit_s(3600) == 3 * 3600


def test_an_analysis_past_its_time_limit_is_stopped_and_can_run_again(library, recording):
    sid = library.add_session(recording, title="hangs", media_name="call.mp4")

    def hangs(path, config, *, hook):
        hook("video", 1, 100)
        time.sleep(60)

    started_s = time.monotonic()
    assert jobs.run_queue(library, hangs, min_time_limit_s=1.0) == 1
    assert time.monotonic() - started_s < 10
    info = library.session(sid)
    assert info.status == "failed"
    assert "longer than its time limit (1 s)" in info.error
    assert leftovers(library) == [] and not library.cues_dir(sid).exists()

    library.requeue(sid)
    jobs.run_queue(library, fake_analyze(make_cueset(10)))
    assert library.session(sid).status == "done"


def test_an_analysis_killed_while_storing_its_result_leaves_nothing_half_made(
        library, recording, monkeypatch):
    first = library.add_session(recording, title="killed", media_name="a.mp4")
    second = library.add_session(recording, title="next", media_name="b.mp4")
    real_finish = store.Library.finish

    def killed_after_the_cues(self, session_id, result):
        cueset.write(result, self.cues_dir(session_id))
        if session_id == first:
            os.kill(os.getpid(), signal.SIGKILL)  # before the rows: a half-made session
        real_finish(self, session_id, result)

    monkeypatch.setattr(store.Library, "finish", killed_after_the_cues)  # forked: the child too
    assert jobs.run_queue(library, fake_analyze(make_cueset(10))) == 2
    info = library.session(first)
    assert info.status == "failed" and "exit code -9" in info.error
    assert not library.cues_dir(first).exists() and info.media_path.is_file()
    assert library.session(second).status == "done"  # the queue went on
    assert leftovers(library) == []


def test_sigkill_of_the_worker_mid_analysis_loses_nothing(library, tmp_path):
    """The real worker process and the real analysis: kill -9 the worker during the video
    stage, then the library has a failed, retryable session and nothing half-made."""
    from mediagen import write_media

    media = write_media(str(tmp_path / "call.mp4"), seconds=REAL_CALL_S, fps=10,
                        size=(320, 240))
    sid = library.add_session(media, title="killed", media_name="call.mp4")
    assert jobs.ensure_worker(library)
    wait_for(lambda: library.session(sid).stage == "video" and library.session(sid).progress > 0,
             "the video stage")
    worker_pid = int((library.home / jobs.LOCK_NAME).read_text())
    os.kill(worker_pid, signal.SIGKILL)
    wait_for(lambda: not jobs.worker_alive(library), "the analysis child to die with the worker",
             timeout_s=10)

    assert jobs.ensure_worker(library) is False  # finds the dead worker, queues nothing
    info = library.session(sid)
    assert info.status == "failed" and "stopped unexpectedly" in info.error
    assert not library.cues_dir(sid).exists() and leftovers(library) == []
    assert info.media_path.read_bytes() == open(media, "rb").read()

    library.requeue(sid)
    assert jobs.ensure_worker(library)
    wait_for(lambda: library.session(sid).status != "running" and not jobs.worker_alive(library)
             and library.session(sid).status != "queued", "the second analysis")
    assert library.session(sid).status == "done"
    assert library.load_cueset(sid).session["media"]["duration_s"] == pytest.approx(REAL_CALL_S,
                                                                                    abs=0.5)
    assert leftovers(library) == []


def _writer(home: str, media: str, writer: int) -> None:
    lib = store.Library(home)
    for i in range(SESSIONS_PER_WRITER):
        sid = lib.add_session(media, title=f"w{writer} s{i}", media_name="call.mp4")
        for n in range(NOTES_PER_SESSION):
            lib.add_note(sid, float(n), f"note {n} by writer {writer}")
        claimed = lib.claim_next()  # any writer's queued session: the writers race for them
        if claimed is not None:
            lib.set_progress(claimed.id, "video", 0.5)
            lib.finish(claimed.id, make_cueset(5, face_hz=2, voice_hz=2))


def test_parallel_writers_keep_the_library_whole(tmp_path, recording):
    home = tmp_path / "home"  # created by the writers at once
    writers = [FORK.Process(target=_writer, args=(str(home), str(recording), w))
               for w in range(WRITERS)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(WAIT_S)
    assert [w.exitcode for w in writers] == [0] * WRITERS
    library = store.Library(home)
    sessions = library.sessions()
    total = WRITERS * SESSIONS_PER_WRITER
    assert len(sessions) == total and {s.status for s in sessions} == {"done"}
    metrics_per_session = sum(len(m) for m in sessions[0].metrics.values())
    with sqlite3.connect(library.db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == total * NOTES_PER_SESSION
        assert db.execute("SELECT COUNT(*) FROM metrics").fetchone()[0] == (
            total * metrics_per_session)
    assert all(len(library.load_cueset(s.id).samples) for s in sessions)
    assert leftovers(library) == []


def test_delete_removes_every_file_and_row(library, recording):
    sid = library.add_session(recording, title="x", media_name="call.mp4")
    jobs.run_queue(library, fake_analyze(make_cueset(10)))
    library.add_note(sid, 2.0, "note")
    keep = library.add_session(recording, title="kept", media_name="call.mp4")
    library.delete(sid)
    assert os.listdir(library.sessions_dir) == [keep]
    with sqlite3.connect(library.db_path) as db:
        for table, column in (("sessions", "id"), ("metrics", "session_id"),
                              ("notes", "session_id")):
            assert db.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?",
                              (sid,)).fetchone()[0] == 0


def test_an_upload_over_the_size_cap_is_refused_and_nothing_stored(library, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv(store.MAX_UPLOAD_ENV, "1")
    big = tmp_path / "big.mp4"
    big.write_bytes(MP4_HEAD + bytes(1 << 20))
    with pytest.raises(InputError, match="larger than the upload limit of 1 MB"):
        library.add_session(big, title="big", media_name="big.mp4")
    assert library.sessions() == [] and os.listdir(library.sessions_dir) == []


def test_stored_files_get_server_side_names(library, recording):
    with open(recording, "rb") as upload:  # as Streamlit hands it over: a file object
        sid = library.add_session(upload, title="", media_name="../../etc/passwd.mp4")
    info = library.session(sid)
    assert info.media_path == library.sessions_dir / sid / "media.mp4"
    assert info.title == info.media_name == "../../etc/passwd.mp4"  # shown, never a path
    assert [p.name for p in library.home.iterdir()
            if not p.name.startswith(store.DB_NAME)] == ["sessions"]
    assert os.listdir(library.sessions_dir) == [sid]
    assert os.listdir(library.sessions_dir / sid) == ["media.mp4"]


def test_sweep_removes_old_crash_leftovers_only(library, recording):
    sid = library.add_session(recording, title="x", media_name="call.mp4")
    old_s = time.time() - 2 * store.ORPHAN_AGE_S
    for name in (".incoming-0123", "abandoned123"):
        (library.sessions_dir / name).mkdir()
        os.utime(library.sessions_dir / name, (old_s, old_s))
    (library.sessions_dir / ".incoming-now").mkdir()  # an upload in progress
    assert sorted(library.sweep()) == [".incoming-0123", "abandoned123"]
    assert sorted(os.listdir(library.sessions_dir)) == [".incoming-now", sid]


def test_the_worker_gives_the_stored_transcript_to_the_analysis(library, recording):
    from test_store import VTT

    from cuekit.transcript import read_transcript

    def analyze(path, config, *, hook):  # runs in the worker's child: report through the result
        result = make_cueset(20)
        cues = read_transcript(config.transcript)  # AnalysisConfig checked the path exists
        result.summary["transcript"] = {"path": config.transcript, "cues": len(cues)}
        return result

    sid = library.add_session(recording, title="", media_name="call.mp4",
                              transcript=io.BytesIO(VTT), transcript_name="zoom.vtt")
    assert jobs.run_queue(library, analyze) == 1
    info = library.session(sid)
    assert info.status == "done", info.error
    assert library.load_cueset(sid).summary["transcript"] == {
        "path": str(library.sessions_dir / sid / "transcript.vtt"), "cues": 1}


def test_a_forked_analysis_runs_after_the_worker_used_opencv_threads(library, recording):
    """The worker sets OpenCV's threads before forking (cuekit.runtime); a child that changed
    them after the parent had used OpenCV's thread pool would hang."""
    import cv2
    import numpy as np

    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        img = np.random.default_rng(0).random((2000, 2000)).astype("float32")
        cv2.GaussianBlur(img, (31, 31), 5)  # OpenCV's pool now has threads
        sid = library.add_session(recording, title="after OpenCV", media_name="a.mp4")
        jobs.run_queue(library, fake_analyze(make_cueset(5)), min_time_limit_s=20)
        assert library.session(sid).status == "done"
    finally:
        cv2.setNumThreads(before)
