"""The session library: one SQLite database plus one folder per analysed recording.

Layout under the data folder (``$CUEKIT_HOME``, default ``~/.cuekit``)::

    library.sqlite          sessions, their metrics, coach notes, accounts (WAL mode)
    sessions/<id>/media.mp4 the recording as uploaded (extension from its content)
    sessions/<id>/transcript.vtt  its transcript when one was given (.vtt or .srt, optional)
    sessions/<id>/cues/     the exchange-format folder written by ``cueset.write`` (atomic)

A session moves ``queued → running → done | failed``; the background worker (``cuekit.jobs``)
writes its stage and progress here, so any page (or a reload) reads where an analysis stands.

Team mode (docs/teams.md): once the first admin account exists, every method that reads or
changes a session takes the acting ``user`` and refuses (:class:`~cuekit.auth.AccessDenied`)
what that user may not see: an agent sees their own sessions, a coach also those of the agents
assigned to them, an admin everything. ``user=None`` is refused in team mode (fail closed).
Without team mode there are no accounts and ``user`` is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import shutil
import sqlite3
import time
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, UTC
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from . import auth, cueset
from .auth import ADMIN, AGENT, COACH, AccessDenied, User
from .errors import InputError

HOME_ENV = "CUEKIT_HOME"
MAX_UPLOAD_ENV = "CUEKIT_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 2000
MAX_TRANSCRIPT_MB = 20  # an hour of captions is well under 1 MB
DB_NAME = "library.sqlite"
STATUSES = ("queued", "running", "done", "failed")
_SNIFF_BYTES = 64
_COPY_CHUNK_BYTES = 8 << 20
_INCOMING_PREFIX = ".incoming-"  # an upload being copied, renamed to its session id when whole
MEDIA_TOKEN_TTL_S = 3600  # a link to a recording works this long (the page renews it)
ORPHAN_AGE_S = 3600  # folders without a session row older than this are crash leftovers

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
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failed_sign_ins INTEGER NOT NULL DEFAULT 0,
    locked_until_s REAL NOT NULL DEFAULT 0,  -- Unix time
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS coaching (
    coach_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    agent_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (coach_id, agent_id)
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outcomes (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    updated_at TEXT NOT NULL,
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    PRIMARY KEY (session_id, name)
);
CREATE TABLE IF NOT EXISTS marks (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    participant TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    PRIMARY KEY (session_id, start_s, label)
);
"""
# Columns added after the first release: (table, column, declaration), added when missing.
_NEW_COLUMNS = (
    ("sessions", "owner_id", "INTEGER REFERENCES users(id)"),
    ("notes", "author_id", "INTEGER REFERENCES users(id) ON DELETE SET NULL"),
)
_SELECT_SESSIONS = "SELECT s.*, u.name AS owner FROM sessions s LEFT JOIN users u ON u.id = s.owner_id"


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
    config: dict  # AnalysisConfig arguments: layout, names, transcript (file name in the folder)
    status: str
    stage: str
    progress: float  # 0..1 within the current stage
    error: str
    participants: list[str]
    duration_s: float | None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # participant -> metric
    owner: str = ""  # the account it belongs to in team mode ('' without)

    @property
    def transcript_path(self) -> Path | None:
        """The transcript stored beside the recording, None without one."""
        name = self.config.get("transcript")
        return self.media_path.parent / name if name else None

    def analysis_args(self) -> dict:
        """``AnalysisConfig`` arguments for this session: the stored config with the transcript
        as a full path (the library stores the file name only, so a moved library still works)."""
        path = self.transcript_path
        return {**self.config, "transcript": str(path) if path else None}


@dataclass(frozen=True)
class Note:
    """A coach's timestamped comment on a session."""

    id: int
    session_id: str
    t_s: float
    participant: str  # '' when about the whole call
    text: str
    created_at: str
    author_id: int | None = None  # the account that wrote it in team mode


@dataclass(frozen=True)
class Mark:
    """A moment marked for the coaching conversation (a coaching moment or a finding's)."""

    start_s: float
    end_s: float
    participant: str
    label: str


@dataclass(frozen=True)
class TeamMember:
    """An agent on a coach's (or the admin's) team page, with their coaches."""

    agent: str
    coaches: tuple[str, ...]


@dataclass(frozen=True)
class OutcomeImport:
    """What :meth:`Library.import_outcomes` stored: sessions and values, and the rows skipped
    (one line each, with their row number)."""

    sessions: int
    values: int
    skipped: list[str]


def agent_rows(metric_rows: pd.DataFrame) -> pd.DataFrame:
    """Of each session's rows (``Library.metric_table``), only the agent's: the participant named
    like the session's owner (case ignored), else the first in the reading order (slot 0)."""
    if metric_rows.empty:
        return metric_rows
    named = metric_rows["participant"].str.casefold() == metric_rows["owner"].str.casefold()
    has_named = named.groupby(metric_rows["session_id"]).transform("any")
    return metric_rows[named | (~has_named & (metric_rows["slot"] == 0))]


def _media_signature(secret: bytes, session_id: str, user_id: int, expires: int,
                     browser: str) -> str:
    message = f"{session_id}|{user_id}|{expires}|{browser}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Library:
    """The session library under ``home`` (default: :func:`default_home`)."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.home = Path(home) if home is not None else default_home()
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)
            db.execute("BEGIN IMMEDIATE")  # one process at a time adds missing columns
            for table, column, declaration in _NEW_COLUMNS:
                have = {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

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

    # -- who may see what ---------------------------------------------------------------------

    @property
    def team_mode(self) -> bool:
        """Whether accounts are on (read each time: the CLI may turn it on while the app runs)."""
        with self._db() as db:
            return _team_mode(db)

    def _visible(self, db: sqlite3.Connection, user: User | None) -> tuple[str, tuple]:
        """A condition on ``sessions s`` selecting what ``user`` may see, with its parameters."""
        if not _team_mode(db):
            return "1", ()
        role = _current_role(db, user)
        if role == ADMIN:
            return "1", ()
        if role == COACH:
            return ("(s.owner_id = ? OR s.owner_id IN "
                    "(SELECT agent_id FROM coaching WHERE coach_id = ?))", (user.id, user.id))
        return "s.owner_id = ?", (user.id,)

    def _row(self, db: sqlite3.Connection, session_id: str, user: User | None) -> sqlite3.Row:
        """The session's row when ``user`` may see it. In team mode a session that exists but is
        not theirs gets the same answer as one that does not: ids cannot be probed."""
        condition, params = self._visible(db, user)
        row = db.execute(f"{_SELECT_SESSIONS} WHERE s.id = ? AND {condition}",
                         (session_id, *params)).fetchone()
        if row is not None:
            return row
        if _team_mode(db):
            raise AccessDenied(f"session {session_id!r} is not in your library")
        raise InputError(f"no session {session_id!r} in the library at {self.home}")

    def _changeable(self, db: sqlite3.Connection, session_id: str, user: User | None
                    ) -> sqlite3.Row:
        """The row of a session ``user`` may rename, delete or retry: their own (or any, for an
        admin). A coach reviews and annotates their agents' calls but does not remove them."""
        row = self._row(db, session_id, user)
        if _team_mode(db) and _current_role(db, user) != ADMIN and row["owner_id"] != user.id:
            raise AccessDenied(f"only {row['owner'] or 'an admin'} or an admin may change "
                               f"session {session_id!r}")
        return row

    # -- sessions ---------------------------------------------------------------------------

    def add_session(self, media: str | os.PathLike | BinaryIO, *, title: str, media_name: str,
                    names: list[str] | None = None, layout: str = "auto",
                    recorded_on: date | None = None, user: User | None = None,
                    analysed: cueset.CueSet | None = None,
                    transcript: str | os.PathLike | BinaryIO | None = None,
                    transcript_name: str = "", transcribe: bool = False) -> str:
        """Store a recording and queue its analysis; returns the new session id.

        With ``analysed`` (a result made elsewhere, e.g. by ``cuekit batch``) nothing is queued:
        the session is stored as running, so no worker claims it, then finished with that result.

        ``media`` is a path or a binary file object (an upload); ``media_name`` is only shown,
        the file is stored as ``sessions/<new id>/media<ext>``. Its type is checked by content
        (:func:`sniff_media`) and its size against :func:`max_upload_mb` while copying; the
        copy goes to a temporary folder, renamed into place when whole. The session belongs to
        ``user`` in team mode.

        ``transcript`` (optional, a path or a file object; ``transcript_name`` is only shown) is
        a ``.vtt`` or ``.srt`` file: it is read with ``cuekit.transcript.read_transcript``
        before anything is stored (a file without timed cues is refused with ``InputError``),
        then kept as ``sessions/<id>/transcript.vtt`` (or ``.srt``) and given to the analysis.
        ``transcribe``: without a transcript, the analysis writes the words itself
        (``AnalysisConfig.transcribe``).
        """
        from .config import AnalysisConfig

        AnalysisConfig(layout=layout, names=names, transcribe=transcribe)  # refuse bad settings
        with self._db() as db:
            owner_id = _current_user_id(db, user)
        limit_bytes = max_upload_mb() << 20
        session_id = uuid.uuid4().hex[:12]
        incoming = self.sessions_dir / f"{_INCOMING_PREFIX}{session_id}"
        with _open_binary(media) as src:
            ext = sniff_media(src.read(_SNIFF_BYTES))
            src.seek(0)
            incoming.mkdir(parents=True)
            try:
                config = {"layout": layout, "names": names or None}
                if transcribe and transcript is None:
                    config["transcribe"] = True
                if transcript is not None:
                    config["transcript"] = _store_transcript(transcript, transcript_name,
                                                             incoming)
                _copy_at_most(src, incoming / f"media{ext}", limit_bytes)
                with self._db() as db:
                    db.execute(
                        "INSERT INTO sessions (id, title, created_at, recorded_on, media_name, "
                        "media_file, config, status, participants, owner_id) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (session_id, title.strip() or media_name, _now(),
                         (recorded_on or date.today()).isoformat(), media_name, f"media{ext}",
                         json.dumps(config), "queued" if analysed is None else "running",
                         json.dumps(names or []), owner_id))
                    os.replace(incoming, self.sessions_dir / session_id)  # before the commit
            except BaseException:
                shutil.rmtree(incoming, ignore_errors=True)
                raise
        if analysed is not None:
            self.finish(session_id, analysed)
        return session_id

    def sessions(self, *, user: User | None = None) -> list[SessionInfo]:
        """Every session ``user`` may see, newest recording first."""
        with self._db() as db:
            condition, params = self._visible(db, user)
            rows = db.execute(f"{_SELECT_SESSIONS} WHERE {condition} "
                              "ORDER BY s.recorded_on DESC, s.created_at DESC", params).fetchall()
            metrics = db.execute(f"SELECT m.* FROM metrics m JOIN sessions s "
                                 f"ON s.id = m.session_id WHERE {condition}", params).fetchall()
        by_session: dict[str, dict[str, dict[str, float]]] = {}
        for m in metrics:
            by_session.setdefault(m["session_id"], {}).setdefault(m["participant"], {})[
                m["metric"]] = m["value"]
        return [self._info(r, by_session.get(r["id"], {})) for r in rows]

    def session(self, session_id: str, *, user: User | None = None) -> SessionInfo:
        """One session; ``InputError`` when there is none with this id, ``AccessDenied`` in team
        mode when ``user`` may not see it (or it does not exist)."""
        with self._db() as db:
            row = self._row(db, session_id, user)
            return self._info_with_metrics(db, row)

    def _info_with_metrics(self, db: sqlite3.Connection, row: sqlite3.Row) -> SessionInfo:
        by_participant: dict[str, dict[str, float]] = {}
        for m in db.execute("SELECT * FROM metrics WHERE session_id = ?", (row["id"],)):
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
            metrics=metrics, owner=row["owner"] or "")

    def cues_dir(self, session_id: str) -> Path:
        return self.sessions_dir / session_id / "cues"

    def load_cueset(self, session_id: str, *, cues: Collection[str] | None = None,
                    user: User | None = None) -> cueset.CueSet:
        """The analysis result of a finished session.

        ``cues`` keeps only those sample cues, filtered while reading the Parquet file: a view
        that draws 8 of 25 cues of an hour-long call reads a third of 1.8 M rows.
        """
        info = self.session(session_id, user=user)
        if info.status != "done":
            raise InputError(f"session {session_id!r} is {info.status}, not analysed yet")
        folder = self.cues_dir(session_id)
        return cueset.read(folder, cues=cues)

    def rename(self, session_id: str, title: str, *, user: User | None = None) -> None:
        title = title.strip()
        if not title:
            raise InputError("a session title cannot be empty")
        with self._db() as db:
            self._changeable(db, session_id, user)
            db.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, session_id))

    def delete(self, session_id: str, *, user: User | None = None) -> None:
        """Remove a session: its rows (metrics and notes too) and its whole folder."""
        with self._db() as db:
            self._changeable(db, session_id, user)
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        shutil.rmtree(self.sessions_dir / session_id, ignore_errors=True)

    def requeue(self, session_id: str, *, user: User | None = None) -> None:
        """Queue a failed session again (after a crash, a time-out or a fix)."""
        with self._db() as db:
            self._changeable(db, session_id, user)
            db.execute("UPDATE sessions SET status = 'queued', stage = '', progress = 0, "
                       "error = '' WHERE id = ? AND status = 'failed'", (session_id,))

    # -- the worker's side (no acting user: the worker serves every account) -----------------

    def claim_next(self) -> SessionInfo | None:
        """Mark the oldest queued session running and return it (None when the queue is empty)."""
        with self._db() as db:
            claimed = db.execute(
                "UPDATE sessions SET status = 'running', stage = 'starting', progress = 0 "
                "WHERE id = (SELECT id FROM sessions WHERE status = 'queued' "
                "ORDER BY created_at LIMIT 1) RETURNING id").fetchone()
            if claimed is None:
                return None
            row = db.execute(f"{_SELECT_SESSIONS} WHERE s.id = ?", (claimed["id"],)).fetchone()
            return self._info(row, {})

    def statuses(self) -> set[str]:
        """The statuses present in the library: is anything queued or running?"""
        with self._db() as db:
            return {r["status"] for r in db.execute("SELECT DISTINCT status FROM sessions")}

    def fail_running(self, message: str) -> None:
        """Fail every running session (their worker is known to be gone)."""
        with self._db() as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM sessions WHERE status = 'running'")]
        for session_id in ids:
            self.fail(session_id, message)

    def status(self, session_id: str) -> str | None:
        """The session's status, None when it is gone."""
        with self._db() as db:
            row = db.execute("SELECT status FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row["status"] if row else None

    def set_progress(self, session_id: str, stage: str, progress: float) -> None:
        with self._db() as db:
            db.execute("UPDATE sessions SET stage = ?, progress = ? WHERE id = ?",
                       (stage, min(max(float(progress), 0.0), 1.0), session_id))

    def set_duration(self, session_id: str, duration_s: float) -> None:
        """The recording's length, known once probed (the worker's time limit follows it)."""
        with self._db() as db:
            db.execute("UPDATE sessions SET duration_s = ? WHERE id = ?",
                       (float(duration_s), session_id))

    def duration_s(self, session_id: str) -> float | None:
        with self._db() as db:
            row = db.execute("SELECT duration_s FROM sessions WHERE id = ?",
                             (session_id,)).fetchone()
        return row["duration_s"] if row else None

    def finish(self, session_id: str, result: cueset.CueSet) -> None:
        """Store an analysis result. The cues folder is written atomically first, then the rows
        in one transaction; a session deleted or failed meanwhile gets no result."""
        cueset.write(result, self.cues_dir(session_id))
        rows = [(session_id, p, k, float(v))
                for p, metrics in result.summary.get("participants", {}).items()
                for k, v in metrics.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        with self._db() as db:
            updated = db.execute(
                "UPDATE sessions SET status = 'done', stage = 'done', progress = 1, error = '', "
                "participants = ?, duration_s = ? WHERE id = ? AND status = 'running'",
                (json.dumps(result.participants),
                 result.session.get("media", {}).get("duration_s"), session_id)).rowcount
            if updated:
                db.execute("DELETE FROM metrics WHERE session_id = ?", (session_id,))
                db.executemany("INSERT INTO metrics VALUES (?,?,?,?)", rows)
        if not updated:
            self._discard_partial(session_id)

    def fail(self, session_id: str, message: str) -> None:
        """Mark a running session failed and remove whatever its analysis left half-written
        (a session that finished meanwhile stays done)."""
        with self._db() as db:
            db.execute("UPDATE sessions SET status = 'failed', error = ? "
                       "WHERE id = ? AND status = 'running'", (message, session_id))
        self._discard_partial(session_id)

    def _discard_partial(self, session_id: str) -> None:
        """Remove an unfinished session's cues (or the whole folder when its row is gone)."""
        folder = self.sessions_dir / session_id
        status = self.status(session_id)
        if status is None:
            shutil.rmtree(folder, ignore_errors=True)
        elif status != "done":
            for path in [*folder.glob(".cuekit-*"), self.cues_dir(session_id)]:
                shutil.rmtree(path, ignore_errors=True)  # .cuekit-*: cueset.write's temporaries

    def sweep(self, min_age_s: float = ORPHAN_AGE_S) -> list[str]:
        """Remove folders a crash left behind: uploads never registered and session folders
        without a row, older than ``min_age_s`` (younger ones may be in the making).
        Returns the names removed."""
        with self._db() as db:
            known = {r["id"] for r in db.execute("SELECT id FROM sessions")}
        removed = []
        for path in self.sessions_dir.iterdir():
            with suppress(FileNotFoundError):  # deleted meanwhile
                if path.name not in known and time.time() - path.stat().st_mtime >= min_age_s:
                    shutil.rmtree(path)
                    removed.append(path.name)
        return removed

    # -- coach notes --------------------------------------------------------------------------

    def add_note(self, session_id: str, t_s: float, text: str, participant: str = "", *,
                 user: User | None = None) -> int:
        text = text.strip()
        if not text:
            raise InputError("a note needs some text")
        if not (math.isfinite(t_s) and t_s >= 0):
            raise InputError(f"a note's time must be >= 0 s, got {t_s!r}")
        with self._db() as db:
            self._row(db, session_id, user)
            cur = db.execute("INSERT INTO notes (session_id, t_s, participant, text, created_at, "
                             "author_id) VALUES (?,?,?,?,?,?)",
                             (session_id, float(t_s), participant, text, _now(),
                              _current_user_id(db, user)))
            return int(cur.lastrowid)

    def notes(self, session_id: str, *, user: User | None = None) -> list[Note]:
        with self._db() as db:
            self._row(db, session_id, user)
            rows = db.execute("SELECT id, session_id, t_s, participant, text, created_at, "
                              "author_id FROM notes WHERE session_id = ? ORDER BY t_s, id",
                              (session_id,)).fetchall()
        return [Note(**dict(r)) for r in rows]

    def delete_note(self, note_id: int, *, user: User | None = None) -> None:
        """Delete a note: in team mode only its author or an admin may."""
        with self._db() as db:
            note = db.execute("SELECT session_id, author_id FROM notes WHERE id = ?",
                              (note_id,)).fetchone()
            if note is None:
                return
            self._row(db, note["session_id"], user)
            if (_team_mode(db) and _current_role(db, user) != ADMIN
                    and note["author_id"] != user.id):
                raise AccessDenied("only the note's author or an admin may delete it")
            db.execute("DELETE FROM notes WHERE id = ?", (note_id,))

    # -- moments marked for the coaching conversation ----------------------------------------

    def set_mark(self, session_id: str, moment: Mark, marked: bool = True, *,
                 user: User | None = None) -> None:
        """Mark a moment (or unmark it) for the coaching conversation; anyone who may see the
        session may, so the coach and the agent prepare the same list."""
        with self._db() as db:
            self._row(db, session_id, user)
            if marked:
                db.execute("INSERT OR IGNORE INTO marks (session_id, start_s, end_s, participant, "
                           "label, created_at, author_id) VALUES (?,?,?,?,?,?,?)",
                           (session_id, float(moment.start_s), float(moment.end_s),
                            moment.participant, moment.label, _now(),
                            _current_user_id(db, user)))
            else:
                db.execute("DELETE FROM marks WHERE session_id = ? AND start_s = ? AND label = ?",
                           (session_id, float(moment.start_s), moment.label))

    def marks(self, session_id: str, *, user: User | None = None) -> list[Mark]:
        """The moments marked for the coaching conversation, by time."""
        with self._db() as db:
            self._row(db, session_id, user)
            rows = db.execute("SELECT start_s, end_s, participant, label FROM marks "
                              "WHERE session_id = ? ORDER BY start_s, label",
                              (session_id,)).fetchall()
        return [Mark(**dict(r)) for r in rows]

    # -- across sessions ----------------------------------------------------------------------

    def participant_names(self, *, user: User | None = None) -> list[str]:
        """Everyone with metrics in at least one finished session ``user`` may see."""
        with self._db() as db:
            condition, params = self._visible(db, user)
            rows = db.execute(f"SELECT DISTINCT m.participant FROM metrics m JOIN sessions s "
                              f"ON s.id = m.session_id WHERE {condition} ORDER BY m.participant",
                              params).fetchall()
        return [r["participant"] for r in rows]

    def metric_table(self, *, user: User | None = None) -> pd.DataFrame:
        """Every metric of every finished session ``user`` may see, one row each: columns
        ``session_id``, ``title``, ``recorded_on`` (datetime64), ``owner``, ``participant``,
        ``slot`` (the participant's place in the session's reading order, 0 first; -1 when not
        listed), ``metric``, ``value``, ``duration_s``."""
        with self._db() as db:
            condition, params = self._visible(db, user)
            rows = db.execute(
                "SELECT s.id AS session_id, s.title, s.recorded_on, u.name AS owner, "
                "s.participants, s.duration_s, m.participant, m.metric, m.value "
                "FROM metrics m JOIN sessions s ON s.id = m.session_id "
                "LEFT JOIN users u ON u.id = s.owner_id "
                f"WHERE {condition} ORDER BY s.recorded_on, s.created_at", params).fetchall()
        columns = ["session_id", "title", "recorded_on", "owner", "participant", "slot",
                   "metric", "value", "duration_s"]
        records, names_of = [], {}  # a session's participant list, decoded once
        for r in rows:
            names = names_of.get(r["session_id"])
            if names is None:
                names = names_of[r["session_id"]] = json.loads(r["participants"])
            records.append({**{k: r[k] for k in columns if k != "slot"},
                            "owner": r["owner"] or "",
                            "slot": names.index(r["participant"])
                            if r["participant"] in names else -1})
        df = pd.DataFrame(records, columns=columns)
        df["recorded_on"] = pd.to_datetime(df["recorded_on"])
        return df

    def history(self, participant: str, *, user: User | None = None) -> pd.DataFrame:
        """One participant's metrics over the sessions ``user`` may see: columns
        ``session_id``, ``title``, ``recorded_on`` (datetime64), ``metric``, ``value``."""
        with self._db() as db:
            condition, params = self._visible(db, user)
            rows = db.execute(
                "SELECT s.id AS session_id, s.title, s.recorded_on, m.metric, m.value "
                "FROM metrics m JOIN sessions s ON s.id = m.session_id "
                f"WHERE m.participant = ? AND {condition} ORDER BY s.recorded_on, s.created_at",
                (participant, *params)).fetchall()
        df = pd.DataFrame([dict(r) for r in rows],
                          columns=["session_id", "title", "recorded_on", "metric", "value"])
        df["recorded_on"] = pd.to_datetime(df["recorded_on"])
        return df

    # -- the team (coaches and admins) -------------------------------------------------------

    def team(self, *, user: User | None = None) -> list[TeamMember]:
        """The agents ``user`` coaches (an admin: every agent), each with their coaches (for a
        coach: only themselves). Agents are refused: they see their own person page only."""
        with self._db() as db:
            if not _team_mode(db):
                raise InputError("the team page needs team mode (accounts: docs/teams.md)")
            role = _current_role(db, user)
            if role not in (COACH, ADMIN):
                raise AccessDenied("only coaches and admins see the team page")
            rows = db.execute(
                "SELECT a.name AS agent, k.name AS coach FROM users a "
                "LEFT JOIN coaching c ON c.agent_id = a.id LEFT JOIN users k ON k.id = c.coach_id "
                "WHERE a.role = ? AND (? = 'admin' OR c.coach_id = ?) ORDER BY a.name, k.name",
                (AGENT, role, user.id)).fetchall()
        coaches: dict[str, list[str]] = {}
        for r in rows:
            coaches.setdefault(r["agent"], [])
            if r["coach"]:
                coaches[r["agent"]].append(r["coach"])
        return [TeamMember(a, tuple(c)) for a, c in coaches.items()]

    def team_metric_table(self, *, user: User | None = None) -> pd.DataFrame:
        """:meth:`metric_table` of the agents in :meth:`team` only, and of each session only the
        agent's own participant (:func:`agent_rows`). Refused for agents."""
        members = {m.agent for m in self.team(user=user)}
        table = self.metric_table(user=user)
        return agent_rows(table[table["owner"].isin(members)])

    # -- outcomes (satisfaction, resolved, complaint …) --------------------------------------
    # Anyone who may see a session sees its outcomes; coaches (of their agents' sessions) and
    # admins record them. Agents do not score their own calls.

    def _outcomes_changeable(self, db: sqlite3.Connection, session_id: str, user: User | None
                             ) -> None:
        self._row(db, session_id, user)
        _may_record_outcomes(db, user)

    def set_outcome(self, session_id: str, name: str, value: float | bool | None, *,
                    user: User | None = None) -> None:
        """Record (or with ``value=None`` remove) one outcome of a session; yes/no as 1/0."""
        from .outcomes import check_name

        name = check_name(name)
        if value is not None:
            value = float(value)
            if not math.isfinite(value):
                raise InputError(f"outcome {name!r} must be a finite number, got {value!r}")
        with self._db() as db:
            self._outcomes_changeable(db, session_id, user)
            if value is None:
                db.execute("DELETE FROM outcomes WHERE session_id = ? AND name = ?",
                           (session_id, name))
            else:
                db.execute("INSERT OR REPLACE INTO outcomes VALUES (?,?,?,?,?)",
                           (session_id, name, value, _now(), _current_user_id(db, user)))

    def outcomes(self, session_id: str, *, user: User | None = None) -> dict[str, float]:
        """One session's outcomes by name."""
        with self._db() as db:
            self._row(db, session_id, user)
            rows = db.execute("SELECT name, value FROM outcomes WHERE session_id = ? "
                              "ORDER BY name", (session_id,)).fetchall()
        return {r["name"]: r["value"] for r in rows}

    def outcome_table(self, *, user: User | None = None) -> pd.DataFrame:
        """Every outcome of the sessions ``user`` may see: columns ``session_id``, ``title``,
        ``recorded_on`` (datetime64), ``owner``, ``outcome``, ``value``."""
        with self._db() as db:
            condition, params = self._visible(db, user)
            rows = db.execute(
                "SELECT s.id AS session_id, s.title, s.recorded_on, u.name AS owner, "
                "o.name AS outcome, o.value FROM outcomes o JOIN sessions s ON s.id = o.session_id "
                f"LEFT JOIN users u ON u.id = s.owner_id WHERE {condition} "
                "ORDER BY s.recorded_on, s.created_at, o.name", params).fetchall()
        df = pd.DataFrame([dict(r) for r in rows], columns=["session_id", "title", "recorded_on",
                                                            "owner", "outcome", "value"])
        df["owner"] = df["owner"].fillna("")
        df["recorded_on"] = pd.to_datetime(df["recorded_on"])
        return df

    def import_outcomes(self, data: str | bytes, *, user: User | None = None,
                        skip_unknown: bool = False) -> OutcomeImport:
        """Store the outcomes of a CSV file (:func:`cuekit.outcomes.parse_csv`), each row's
        session found by id, else by title, among the sessions ``user`` may see.

        A bad file (a value that is no number or yes/no, a row of the wrong length …) is refused
        whole with one line per problem. A row whose session is not in the user's library (or
        whose title names several) is refused the same way, unless ``skip_unknown``: then the
        rest is stored and those rows are listed in the result's ``skipped``. Nothing is stored
        for a refused file. Coaches and admins only (in team mode)."""
        from .outcomes import error_lines, parse_csv

        with self._db() as db:  # refused before the file is even read
            _may_record_outcomes(db, user)
        _, rows = parse_csv(data)
        sessions = self.sessions(user=user)
        ids = {s.id for s in sessions}
        by_title: dict[str, list[str]] = {}
        for s in sessions:
            by_title.setdefault(s.title.strip().casefold(), []).append(s.id)
        found, problems = [], []
        for row in rows:
            sid = row.session if row.session in ids else None
            titled = by_title.get(row.session.casefold(), [])
            if sid is None and len(titled) == 1:
                sid = titled[0]
            if sid is not None:
                found.append((row, sid))
            elif titled:
                problems.append(f"row {row.line}: {len(titled)} sessions are titled "
                                f"{row.session!r}: use the session id")
            else:
                problems.append(f"row {row.line}: no session {row.session!r} in your library")
        if problems and not skip_unknown:
            raise InputError(error_lines("some rows name no session of your library (nothing "
                                         "was imported)", problems))
        with self._db() as db:
            author = _current_user_id(db, user)
            _may_record_outcomes(db, user)
            now = _now()
            db.executemany("INSERT OR REPLACE INTO outcomes VALUES (?,?,?,?,?)",
                           [(sid, name, value, now, author)
                            for row, sid in found for name, value in row.values.items()])
        return OutcomeImport(sessions=len(found),
                             values=sum(len(row.values) for row, _ in found), skipped=problems)

    # -- the recordings over HTTP (signed, short-lived, tied to the account and the browser) --

    def _media_secret(self, db: sqlite3.Connection) -> bytes:
        """The library's key for media links, made on first use; read, not written, after that
        (it is asked for on every range request of a playing video)."""
        row = db.execute("SELECT value FROM settings WHERE key = 'media_secret'").fetchone()
        if row is None:
            db.execute("INSERT OR IGNORE INTO settings VALUES ('media_secret', ?)",
                       (secrets.token_hex(32),))
            row = db.execute("SELECT value FROM settings WHERE key = 'media_secret'").fetchone()
        return bytes.fromhex(row[0])

    def media_token(self, session_id: str, browser: str, *, user: User | None = None,
                    ttl_s: float = MEDIA_TOKEN_TTL_S) -> str:
        """A token for the recording of a session ``user`` may see, valid ``ttl_s`` for requests
        from the browser whose id is ``browser`` (an HttpOnly cookie, ``cuekit.web``). A token
        copied into another browser, or used after the account lost the session, is refused by
        :meth:`media_file`."""
        if not browser:
            raise AccessDenied("no browser id")
        with self._db() as db:
            self._row(db, session_id, user)
            user_id = _current_user_id(db, user) or 0
            expires = int(time.time() + ttl_s)
            signature = _media_signature(self._media_secret(db), session_id, user_id, expires,
                                         browser)
        return f"{user_id}.{expires}.{signature}"

    def media_file(self, session_id: str, token: str, browser: str) -> Path:
        """The recording's path when ``token`` (:meth:`media_token`) is genuine, unexpired, made
        for this ``browser``, and its account may still see the session; else ``AccessDenied``
        (the same for a session that does not exist)."""
        try:
            user_id_text, expires_text, signature = token.split(".")
            user_id, expires = int(user_id_text), int(expires_text)
        except ValueError:
            raise AccessDenied("not a media token") from None
        with self._db() as db:
            expected = _media_signature(self._media_secret(db), session_id, user_id, expires,
                                        browser)
            if not browser or not hmac.compare_digest(expected, signature):
                raise AccessDenied("this link to the recording is not yours")
            if expires < time.time():
                raise AccessDenied("this link to the recording has expired: reload the page")
            user = None
            if _team_mode(db):
                row = db.execute("SELECT id, name, role FROM users WHERE id = ?",
                                 (user_id,)).fetchone()
                if row is None:
                    raise AccessDenied("sign in first")
                user = User(row["id"], row["name"], row["role"])
            try:
                row = self._row(db, session_id, user)
            except InputError:
                raise AccessDenied(f"session {session_id!r} is not in your library") from None
            return self.sessions_dir / row["id"] / row["media_file"]

    # -- accounts (team mode) -----------------------------------------------------------------
    # ``by`` is the acting account, which must be an admin; None is the local operator (the
    # ``cuekit users`` command, run by whoever owns the library's files).

    def add_user(self, name: str, role: str, password: str, *, by: User | None = None) -> User:
        """Create an account. The first one must be an admin; creating it turns team mode on."""
        name, role = auth.check_name(name), auth.check_role(role)
        password_hash = auth.hash_password(password)
        with self._db() as db:
            _require_admin(db, by)
            if not _team_mode(db) and role != ADMIN:
                raise InputError("the first account must be an admin (it turns team mode on)")
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise InputError(f"there is already an account named {name!r}")
            user_id = db.execute("INSERT INTO users (name, role, password_hash, created_at) "
                                 "VALUES (?,?,?,?)", (name, role, password_hash, _now())).lastrowid
            db.execute("INSERT OR REPLACE INTO settings VALUES ('team_mode', '1')")
        return User(int(user_id), name, role)

    def users(self, *, by: User | None = None) -> list[User]:
        with self._db() as db:
            _require_admin(db, by)
            rows = db.execute("SELECT id, name, role FROM users ORDER BY name").fetchall()
        return [User(r["id"], r["name"], r["role"]) for r in rows]

    def user_named(self, name: str) -> User:
        """The account called ``name`` (``InputError`` when there is none)."""
        with self._db() as db:
            row = _user_row(db, name)
        return User(row["id"], row["name"], row["role"])

    def user(self, user_id: int) -> User | None:
        """The account as it is now (None when deleted): the app re-reads it on every run."""
        with self._db() as db:
            row = db.execute("SELECT id, name, role FROM users WHERE id = ?",
                             (user_id,)).fetchone()
        return User(row["id"], row["name"], row["role"]) if row else None

    def set_password(self, name: str, password: str, *, by: User | None = None) -> None:
        """A new password (and an end to any lockout); an admin's or the operator's task."""
        password_hash = auth.hash_password(password)
        with self._db() as db:
            _require_admin(db, by)
            target = _user_row(db, name)
            db.execute("UPDATE users SET password_hash = ?, failed_sign_ins = 0, "
                       "locked_until_s = 0 WHERE id = ?", (password_hash, target["id"]))

    def delete_user(self, name: str, *, by: User | None = None) -> None:
        """Delete an account. Refused while it owns sessions (nothing is lost by accident), for
        the last admin, and for the admin doing it."""
        with self._db() as db:
            _require_admin(db, by)
            target = _user_row(db, name)
            owned = db.execute("SELECT COUNT(*) FROM sessions WHERE owner_id = ?",
                               (target["id"],)).fetchone()[0]
            if owned:
                raise InputError(f"{target['name']} owns {owned} session(s): delete them first")
            if by is not None and target["id"] == by.id:
                raise InputError("you cannot delete your own account")
            if target["role"] == ADMIN and db.execute(
                    "SELECT COUNT(*) FROM users WHERE role = ?", (ADMIN,)).fetchone()[0] == 1:
                raise InputError("the last admin cannot be deleted")
            db.execute("DELETE FROM users WHERE id = ?", (target["id"],))

    def agents_of(self, coach: str) -> list[str]:
        """The agents assigned to a coach, by name."""
        with self._db() as db:
            rows = db.execute("SELECT a.name FROM coaching c JOIN users a ON a.id = c.agent_id "
                              "JOIN users k ON k.id = c.coach_id WHERE k.name = ? ORDER BY a.name",
                              (coach,)).fetchall()
        return [r["name"] for r in rows]

    def set_agents(self, coach: str, agents: Collection[str], *, by: User | None = None) -> None:
        """Assign exactly these agents to a coach (an agent may have several coaches)."""
        with self._db() as db:
            _require_admin(db, by)
            coach_row = _user_row(db, coach)
            if coach_row["role"] != COACH:
                raise InputError(f"{coach} is not a coach")
            agent_rows = [_user_row(db, a) for a in agents]
            not_agents = [a["name"] for a in agent_rows if a["role"] != AGENT]
            if not_agents:
                raise InputError(f"not agents: {', '.join(not_agents)}")
            db.execute("DELETE FROM coaching WHERE coach_id = ?", (coach_row["id"],))
            db.executemany("INSERT INTO coaching VALUES (?, ?)",
                           [(coach_row["id"], a["id"]) for a in agent_rows])

    def sign_in(self, name: str, password: str) -> User:
        """The account for these credentials, or ``AccessDenied``. After
        ``auth.MAX_FAILED_SIGN_INS`` wrong passwords in a row the account refuses every try
        (even a right one) for ``auth.LOCKOUT_S``."""
        with self._db() as db:
            row = db.execute("SELECT * FROM users WHERE name = ?", (name.strip(),)).fetchone()
            now_s = time.time()
            if row is not None and row["locked_until_s"] > now_s:
                wait_s = math.ceil(row["locked_until_s"] - now_s)
                raise AccessDenied(f"too many failed sign-ins: try again in {wait_s} s")
            accepted = auth.verify_password(row["password_hash"] if row else None, password)
            if row is not None and not accepted:  # counted here, refused after the commit
                failed = row["failed_sign_ins"] + 1
                locked = failed >= auth.MAX_FAILED_SIGN_INS
                db.execute("UPDATE users SET failed_sign_ins = ?, locked_until_s = ? "
                           "WHERE id = ?", (0 if locked else failed,
                                            now_s + auth.LOCKOUT_S if locked else 0, row["id"]))
            elif accepted:
                new_hash = (auth.hash_password(password)
                            if auth.needs_rehash(row["password_hash"]) else row["password_hash"])
                db.execute("UPDATE users SET failed_sign_ins = 0, password_hash = ? WHERE id = ?",
                           (new_hash, row["id"]))
        if not accepted:
            raise AccessDenied("wrong name or password")
        return User(row["id"], row["name"], row["role"])


def _team_mode(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM settings WHERE key = 'team_mode' AND value = '1'"
                      ).fetchone() is not None


def _may_record_outcomes(db: sqlite3.Connection, user: User | None) -> None:
    """Coaches and admins record outcomes (in team mode); agents only read their own."""
    if _team_mode(db) and _current_role(db, user) == AGENT:
        raise AccessDenied("only a coach or an admin records outcomes")


def _current_role(db: sqlite3.Connection, user: User | None) -> str:
    """The acting account's role as stored now (a deleted or demoted account loses its rights
    at once); ``AccessDenied`` without one."""
    row = None if user is None else db.execute("SELECT role FROM users WHERE id = ?",
                                               (user.id,)).fetchone()
    if row is None:
        raise AccessDenied("sign in first")
    return row["role"]


def _current_user_id(db: sqlite3.Connection, user: User | None) -> int | None:
    """The acting account's id in team mode (checked), None without team mode."""
    if not _team_mode(db):
        return None
    _current_role(db, user)
    return user.id


def _require_admin(db: sqlite3.Connection, by: User | None) -> None:
    if by is not None and _current_role(db, by) != ADMIN:
        raise AccessDenied("only an admin manages accounts")


def _user_row(db: sqlite3.Connection, name: str) -> sqlite3.Row:
    row = db.execute("SELECT * FROM users WHERE name = ?", (name.strip(),)).fetchone()
    if row is None:
        raise InputError(f"no account named {name!r}")
    return row


def _store_transcript(transcript: str | os.PathLike | BinaryIO, shown_name: str,
                      folder: Path) -> str:
    """Copy a transcript into ``folder`` as ``transcript.vtt`` or ``.srt`` (WebVTT files start
    with ``WEBVTT``), check that it has timed cues, and return the file name."""
    from .transcript import read_transcript

    shown = shown_name or (os.path.basename(transcript)
                           if isinstance(transcript, (str, os.PathLike)) else "the transcript")
    staged = folder / "transcript.tmp"
    with _open_binary(transcript, "transcript") as src:
        _copy_at_most(src, staged, MAX_TRANSCRIPT_MB << 20, what="transcript",
                      limit_name="cuekit's transcript limit")
    with open(staged, "rb") as f:
        head = f.read(16).removeprefix(b"\xef\xbb\xbf").lstrip()
    name = "transcript.vtt" if head.startswith(b"WEBVTT") else "transcript.srt"
    try:
        read_transcript(staged)
    except InputError:
        raise InputError(f"{shown} is not a transcript cuekit can read: no timed lines such as "
                         "'00:00:01.000 --> 00:00:02.000' (expected WebVTT .vtt or SubRip "
                         ".srt)") from None
    staged.rename(folder / name)
    return name


def _copy_at_most(src: BinaryIO, dst_path: Path, limit_bytes: int, *, what: str = "recording",
                  limit_name: str = MAX_UPLOAD_ENV) -> None:
    """Copy ``src`` to a new file, refusing (``InputError``) past ``limit_bytes``."""
    copied_bytes = 0
    with open(dst_path, "wb") as dst:
        while chunk := src.read(_COPY_CHUNK_BYTES):
            copied_bytes += len(chunk)
            if copied_bytes > limit_bytes:
                raise InputError(f"the {what} is larger than the upload limit of "
                                 f"{limit_bytes >> 20} MB ({limit_name})")
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())


@contextmanager
def _open_binary(media: str | os.PathLike | BinaryIO, what: str = "recording"
                 ) -> Iterator[BinaryIO]:
    if isinstance(media, (str, os.PathLike)):
        if not os.path.isfile(media):
            raise InputError(f"{what} not found: {media}")
        with open(media, "rb") as f:
            yield f
    else:
        yield media
