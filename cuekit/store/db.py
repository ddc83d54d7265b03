"""The library's database: where it lives, its schema and migrations, one short connection per
operation, and the acting account as stored now.

Layout under the data folder (``$CUEKIT_HOME``, default ``~/.cuekit``)::

    library.sqlite          sessions, their metrics, coach notes, accounts (WAL mode)
    sessions/<id>/          one folder per recording (``cuekit.store.intake`` fills it)
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, UTC
from pathlib import Path

from ..auth import AccessDenied, User
from ..errors import InputError

HOME_ENV = "CUEKIT_HOME"
DB_NAME = "library.sqlite"

SCHEMA = """
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
NEW_COLUMNS = (
    ("sessions", "owner_id", "INTEGER REFERENCES users(id)"),
    ("notes", "author_id", "INTEGER REFERENCES users(id) ON DELETE SET NULL"),
)
SELECT_SESSIONS = "SELECT s.*, u.name AS owner FROM sessions s LEFT JOIN users u ON u.id = s.owner_id"


def default_home() -> Path:
    """``$CUEKIT_HOME`` when set, else ``~/.cuekit``."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".cuekit").expanduser()


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """One short connection, committed on success: the app's threads and the worker process
    share the file; WAL lets readers proceed while the worker writes progress."""
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.row_factory = sqlite3.Row
        with db:
            yield db
    finally:
        db.close()


def migrate(db: sqlite3.Connection) -> None:
    """Create the tables, then add the columns newer than the file (one process at a time)."""
    db.executescript(SCHEMA)
    db.execute("BEGIN IMMEDIATE")
    for table, column, declaration in NEW_COLUMNS:
        have = {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def now() -> str:
    """The time now, ISO 8601 in UTC to the second (the library's timestamps)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def team_mode(db: sqlite3.Connection) -> bool:
    """Whether accounts are on (the first admin account turns it on)."""
    return db.execute("SELECT 1 FROM settings WHERE key = 'team_mode' AND value = '1'"
                      ).fetchone() is not None


def stored_user(db: sqlite3.Connection, user: User | None) -> User:
    """The account as stored now (a deleted or demoted account loses its rights at once);
    ``AccessDenied`` without one."""
    row = None if user is None else db.execute("SELECT id, name, role FROM users WHERE id = ?",
                                               (user.id,)).fetchone()
    if row is None:
        raise AccessDenied("sign in first")
    return User(row["id"], row["name"], row["role"])


def acting_user(db: sqlite3.Connection, user: User | None) -> User | None:
    """The acting account as stored now: None without team mode; ``AccessDenied`` in team mode
    without a (still existing) account (fail closed)."""
    return stored_user(db, user) if team_mode(db) else None


def acting_user_id(db: sqlite3.Connection, user: User | None) -> int | None:
    """The acting account's id in team mode (checked), None without team mode."""
    acting = acting_user(db, user)
    return acting.id if acting is not None else None


def user_row(db: sqlite3.Connection, name: str) -> sqlite3.Row:
    """The account called ``name`` (``InputError`` when there is none)."""
    row = db.execute("SELECT * FROM users WHERE name = ?", (name.strip(),)).fetchone()
    if row is None:
        raise InputError(f"no account named {name!r}")
    return row
