"""The session library: one SQLite database plus one folder per analysed recording.

Layout under the data folder (``$CUEKIT_HOME``, default ``~/.cuekit``)::

    library.sqlite          sessions, their metrics and coach notes (WAL mode)
    sessions/<id>/media.mp4 the recording as uploaded (extension from its content)
    sessions/<id>/cues/     the exchange-format folder written by ``cueset.write`` (atomic)

A session moves ``queued → running → done | failed``; the background worker (``cuekit.jobs``)
writes its stage and progress here, so any page (or a reload) reads where an analysis stands.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, UTC
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from . import cueset
from .errors import InputError

HOME_ENV = "CUEKIT_HOME"
MAX_UPLOAD_ENV = "CUEKIT_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 2000
DB_NAME = "library.sqlite"
STATUSES = ("queued", "running", "done", "failed")
_SNIFF_BYTES = 64
_COPY_CHUNK_BYTES = 8 << 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    recorded_on TEXT NOT NULL,
    media_name TEXT NOT NULL,
    media_file TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT '',
    progress REAL NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    participants TEXT NOT NULL DEFAULT '[]',
    duration_s REAL
);
CREATE TABLE IF NOT EXISTS metrics (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    participant TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (session_id, participant, metric)
);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s REAL NOT NULL,
    participant TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_session ON notes(session_id, t_s);
"""


def default_home() -> Path:
    """``$CUEKIT_HOME`` when set, else ``~/.cuekit``."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".cuekit").expanduser()


def max_upload_mb() -> int:
    """Largest accepted upload in MB: ``$CUEKIT_MAX_UPLOAD_MB`` or 2000."""
    raw = os.environ.get(MAX_UPLOAD_ENV, str(DEFAULT_MAX_UPLOAD_MB))
    try:
        mb = int(raw)
    except ValueError:
        raise InputError(f"{MAX_UPLOAD_ENV} must be a whole number of MB, got {raw!r}") from None
    if mb < 1:
        raise InputError(f"{MAX_UPLOAD_ENV} must be at least 1 MB, got {mb}")
    return mb


def sniff_media(head: bytes) -> str:
    """The container of a recording from its first bytes, as a file extension (``.mp4`` …).

    Checks the content, not the name, so a renamed text file is refused before any decoding.
    Raises ``InputError`` for anything that is not a recording cuekit reads.
    """
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return {b"qt  ": ".mov", b"M4A ": ".m4a"}.get(brand, ".mp4")
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska or WebM
        return ".webm" if b"webm" in head[:_SNIFF_BYTES] else ".mkv"
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "):
        return ".wav" if head[8:12] == b"WAVE" else ".avi"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ".mp3"
    if head[:4] == b"OggS":
        return ".ogg"
    if head[:4] == b"fLaC":
        return ".flac"
    raise InputError("not a recording cuekit can read (expected mp4, mov, m4a, mkv, webm, avi, "
                     f"wav, mp3, ogg or flac content; the file starts with {head[:12]!r})")


@dataclass(frozen=True)
class SessionInfo:
    """One row of the library."""

    id: str
    title: str
    created_at: str  # ISO 8601, UTC
    recorded_on: str  # ISO date the call took place, chosen at upload
    media_name: str  # the uploaded file's name, for display only
    media_path: Path
    config: dict  # AnalysisConfig arguments: layout, names
    status: str
    stage: str
    progress: float  # 0..1 within the current stage
    error: str
    participants: list[str]
    duration_s: float | None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # participant -> metric


@dataclass(frozen=True)
class Note:
    """A coach's timestamped comment on a session."""

    id: int
    session_id: str
    t_s: float
    participant: str  # '' when about the whole call
    text: str
    created_at: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Library:
    """The session library under ``home`` (default: :func:`default_home`)."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.home = Path(home) if home is not None else default_home()
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @property
    def sessions_dir(self) -> Path:
        return self.home / "sessions"

    @property
    def db_path(self) -> Path:
        return self.home / DB_NAME

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # One short connection per operation: the app's threads and the worker process share
        # the file; WAL lets readers proceed while the worker writes progress.
        db = sqlite3.connect(self.db_path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.row_factory = sqlite3.Row
            with db:
                yield db
        finally:
            db.close()

    # -- sessions ---------------------------------------------------------------------------

    def add_session(self, media: str | os.PathLike | BinaryIO, *, title: str, media_name: str,
                    names: list[str] | None = None, layout: str = "auto",
                    recorded_on: date | None = None) -> str:
        """Store a recording and queue its analysis; returns the new session id.

        ``media`` is a path or a binary file object (an upload). Its type is checked by
        content (:func:`sniff_media`) before anything is written.
        """
        from .config import AnalysisConfig

        AnalysisConfig(layout=layout, names=names)  # refuse bad settings before storing
        session_id = uuid.uuid4().hex[:12]
        folder = self.sessions_dir / session_id
        with _open_binary(media) as src:
            ext = sniff_media(src.read(_SNIFF_BYTES))
            src.seek(0)
            folder.mkdir(parents=True)
            try:
                with open(folder / f"media{ext}", "wb") as dst:
                    shutil.copyfileobj(src, dst, _COPY_CHUNK_BYTES)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        config = {"layout": layout, "names": names or None}
        with self._db() as db:
            db.execute(
                "INSERT INTO sessions (id, title, created_at, recorded_on, media_name, "
                "media_file, config, status, participants) VALUES (?,?,?,?,?,?,?,?,?)",
                (session_id, title.strip() or media_name, _now(),
                 (recorded_on or date.today()).isoformat(), media_name, f"media{ext}",
                 json.dumps(config), "queued", json.dumps(names or [])))
        return session_id

    def sessions(self) -> list[SessionInfo]:
        """Every session, newest recording first."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM sessions ORDER BY recorded_on DESC, created_at DESC"
                              ).fetchall()
            metrics = db.execute("SELECT * FROM metrics").fetchall()
        by_session: dict[str, dict[str, dict[str, float]]] = {}
        for m in metrics:
            by_session.setdefault(m["session_id"], {}).setdefault(m["participant"], {})[
                m["metric"]] = m["value"]
        return [self._info(r, by_session.get(r["id"], {})) for r in rows]

    def session(self, session_id: str) -> SessionInfo:
        """One session; ``InputError`` when there is none with this id."""
        with self._db() as db:
            row = db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
            metrics = db.execute("SELECT * FROM metrics WHERE session_id = ?",
                                 (session_id,)).fetchall()
        if row is None:
            raise InputError(f"no session {session_id!r} in the library at {self.home}")
        by_participant: dict[str, dict[str, float]] = {}
        for m in metrics:
            by_participant.setdefault(m["participant"], {})[m["metric"]] = m["value"]
        return self._info(row, by_participant)

    def _info(self, row: sqlite3.Row, metrics: dict[str, dict[str, float]]) -> SessionInfo:
        return SessionInfo(
            id=row["id"], title=row["title"], created_at=row["created_at"],
            recorded_on=row["recorded_on"], media_name=row["media_name"],
            media_path=self.sessions_dir / row["id"] / row["media_file"],
            config=json.loads(row["config"]), status=row["status"], stage=row["stage"],
            progress=row["progress"], error=row["error"],
            participants=json.loads(row["participants"]), duration_s=row["duration_s"],
            metrics=metrics)

    def cues_dir(self, session_id: str) -> Path:
        return self.sessions_dir / session_id / "cues"

    def load_cueset(self, session_id: str, *, cues: Collection[str] | None = None
                    ) -> cueset.CueSet:
        """The analysis result of a finished session.

        ``cues`` keeps only those sample cues, filtered while reading the Parquet file: a view
        that draws 8 of 25 cues of an hour-long call reads a third of 1.8 M rows.
        """
        info = self.session(session_id)
        if info.status != "done":
            raise InputError(f"session {session_id!r} is {info.status}, not analysed yet")
        folder = self.cues_dir(session_id)
        return cueset.read(folder) if cues is None else _read_some_cues(folder, cues)

    def rename(self, session_id: str, title: str) -> None:
        title = title.strip()
        if not title:
            raise InputError("a session title cannot be empty")
        self.session(session_id)
        with self._db() as db:
            db.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, session_id))

    def delete(self, session_id: str) -> None:
        """Remove a session: its rows (metrics and notes too) and its whole folder."""
        self.session(session_id)
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        shutil.rmtree(self.sessions_dir / session_id, ignore_errors=True)

    # -- the worker's side --------------------------------------------------------------------

    def claim_next(self) -> SessionInfo | None:
        """Mark the oldest queued session running and return it (None when the queue is empty)."""
        with self._db() as db:
            row = db.execute(
                "UPDATE sessions SET status = 'running', stage = 'starting', progress = 0 "
                "WHERE id = (SELECT id FROM sessions WHERE status = 'queued' "
                "ORDER BY created_at LIMIT 1) RETURNING id").fetchone()
        return self.session(row["id"]) if row else None

    def set_progress(self, session_id: str, stage: str, progress: float) -> None:
        with self._db() as db:
            db.execute("UPDATE sessions SET stage = ?, progress = ? WHERE id = ?",
                       (stage, min(max(float(progress), 0.0), 1.0), session_id))

    def finish(self, session_id: str, result: cueset.CueSet) -> None:
        """Store an analysis result; a session deleted meanwhile is left deleted."""
        if not self._exists(session_id):
            return
        cueset.write(result, self.cues_dir(session_id))
        rows = [(session_id, p, k, float(v))
                for p, metrics in result.summary.get("participants", {}).items()
                for k, v in metrics.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        with self._db() as db:
            db.execute("DELETE FROM metrics WHERE session_id = ?", (session_id,))
            db.executemany("INSERT INTO metrics VALUES (?,?,?,?)", rows)
            db.execute("UPDATE sessions SET status = 'done', stage = 'done', progress = 1, "
                       "error = '', participants = ?, duration_s = ? WHERE id = ?",
                       (json.dumps(result.participants),
                        result.session.get("media", {}).get("duration_s"), session_id))

    def fail(self, session_id: str, message: str) -> None:
        with self._db() as db:
            db.execute("UPDATE sessions SET status = 'failed', error = ? WHERE id = ?",
                       (message, session_id))

    def requeue(self, session_id: str) -> None:
        """Queue a failed session again (after a crash or a fix)."""
        with self._db() as db:
            db.execute("UPDATE sessions SET status = 'queued', stage = '', progress = 0, "
                       "error = '' WHERE id = ?", (session_id,))

    def _exists(self, session_id: str) -> bool:
        with self._db() as db:
            return db.execute("SELECT 1 FROM sessions WHERE id = ?",
                              (session_id,)).fetchone() is not None

    # -- coach notes --------------------------------------------------------------------------

    def add_note(self, session_id: str, t_s: float, text: str, participant: str = "") -> int:
        text = text.strip()
        if not text:
            raise InputError("a note needs some text")
        if not (math.isfinite(t_s) and t_s >= 0):
            raise InputError(f"a note's time must be >= 0 s, got {t_s!r}")
        self.session(session_id)
        with self._db() as db:
            cur = db.execute("INSERT INTO notes (session_id, t_s, participant, text, created_at) "
                             "VALUES (?,?,?,?,?)", (session_id, float(t_s), participant, text,
                                                    _now()))
            return int(cur.lastrowid)

    def notes(self, session_id: str) -> list[Note]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM notes WHERE session_id = ? ORDER BY t_s, id",
                              (session_id,)).fetchall()
        return [Note(**dict(r)) for r in rows]

    def delete_note(self, note_id: int) -> None:
        with self._db() as db:
            db.execute("DELETE FROM notes WHERE id = ?", (note_id,))

    # -- across sessions ----------------------------------------------------------------------

    def participant_names(self) -> list[str]:
        """Everyone with metrics in at least one finished session, alphabetically."""
        with self._db() as db:
            rows = db.execute("SELECT DISTINCT participant FROM metrics ORDER BY participant"
                              ).fetchall()
        return [r["participant"] for r in rows]

    def history(self, participant: str) -> pd.DataFrame:
        """One participant's metrics over sessions: columns ``session_id``, ``title``,
        ``recorded_on`` (datetime64), ``metric``, ``value``; ordered by date."""
        with self._db() as db:
            rows = db.execute(
                "SELECT s.id AS session_id, s.title, s.recorded_on, m.metric, m.value "
                "FROM metrics m JOIN sessions s ON s.id = m.session_id "
                "WHERE m.participant = ? ORDER BY s.recorded_on, s.created_at",
                (participant,)).fetchall()
        df = pd.DataFrame([dict(r) for r in rows],
                          columns=["session_id", "title", "recorded_on", "metric", "value"])
        df["recorded_on"] = pd.to_datetime(df["recorded_on"])
        return df


def _read_some_cues(folder: Path, cues: Collection[str]) -> cueset.CueSet:
    """``cueset.read`` with only some sample cues (pyarrow skips the other rows while reading)."""
    samples = pd.read_parquet(folder / "samples.parquet", filters=[("cue", "in", sorted(cues))])
    segments = pd.read_parquet(folder / "segments.parquet")
    summary, session = (json.loads((folder / name).read_text(encoding="utf-8"))
                        for name in ("summary.json", "session.json"))
    return cueset.CueSet(samples, segments, summary, session)


@contextmanager
def _open_binary(media: str | os.PathLike | BinaryIO) -> Iterator[BinaryIO]:
    if isinstance(media, (str, os.PathLike)):
        if not os.path.isfile(media):
            raise InputError(f"recording not found: {media}")
        with open(media, "rb") as f:
            yield f
    else:
        yield media
