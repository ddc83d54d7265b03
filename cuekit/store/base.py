"""What every part of the library shares: its folder, its database, a session's row as the
acting account may see it, and :class:`SessionInfo`, the row as callers get it."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..auth import COACH, AccessDenied, User
from ..errors import InputError
from . import access, db as database
from .intake import AUDIO_ONLY, MEDIA_TYPES


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
    owner_id: int | None = None  # that account's id (None without team mode)

    @property
    def transcript_path(self) -> Path | None:
        """The transcript stored beside the recording, None without one."""
        name = self.config.get("transcript")
        return self.media_path.parent / name if name else None

    @property
    def has_video(self) -> bool:
        """Whether the recording is a video container (an audio file has no stills to show)."""
        return self.media_path.suffix not in AUDIO_ONLY

    @property
    def media_type(self) -> str:
        """The recording's MIME type, for the player and the HTTP route."""
        return MEDIA_TYPES.get(self.media_path.suffix, "application/octet-stream")

    def analysis_args(self) -> dict:
        """``AnalysisConfig`` arguments for this session: the stored config with the transcript
        as a full path (the library stores the file name only, so a moved library still works)."""
        path = self.transcript_path
        return {**self.config, "transcript": str(path) if path else None}


class Base:
    """The library's folder and database (see :mod:`cuekit.store`)."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.home = Path(home) if home is not None else database.default_home()
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            database.migrate(db)

    @property
    def sessions_dir(self) -> Path:
        return self.home / "sessions"

    @property
    def db_path(self) -> Path:
        return self.home / database.DB_NAME

    def cues_dir(self, session_id: str) -> Path:
        return self.sessions_dir / session_id / "cues"

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with database.connect(self.db_path) as db:
            yield db

    @property
    def team_mode(self) -> bool:
        """Whether accounts are on (read each time: the CLI may turn it on while the app runs)."""
        with self._db() as db:
            return database.team_mode(db)

    def _row(self, db: sqlite3.Connection, session_id: str, user: User | None) -> sqlite3.Row:
        """The session's row when ``user`` may see it (:func:`access.may_view`). In team mode a
        session that exists but is not theirs gets the same answer as one that does not: ids
        cannot be probed."""
        acting = database.acting_user(db, user)
        row = db.execute(f"{database.SELECT_SESSIONS} WHERE s.id = ?", (session_id,)).fetchone()
        if row is not None and access.may_view(acting, row["owner_id"],
                                               self._coached_ids(db, acting)):
            return row
        if acting is not None:
            raise AccessDenied(f"session {session_id!r} is not in your library")
        raise InputError(f"no session {session_id!r} in the library at {self.home}")

    @staticmethod
    def _coached_ids(db: sqlite3.Connection, acting: User | None) -> set[int]:
        """The accounts a coach coaches (empty for anyone else)."""
        if acting is None or acting.role != COACH:
            return set()
        return {r["agent_id"] for r in db.execute(
            "SELECT agent_id FROM coaching WHERE coach_id = ?", (acting.id,))}

    def _visible(self, db: sqlite3.Connection, user: User | None) -> tuple[str, tuple]:
        """A condition on ``sessions s`` selecting what ``user`` may see, with its parameters."""
        return access.visible_sql(database.acting_user(db, user))

    def _info(self, row: sqlite3.Row, metrics: dict[str, dict[str, float]]) -> SessionInfo:
        return SessionInfo(
            id=row["id"], title=row["title"], created_at=row["created_at"],
            recorded_on=row["recorded_on"], media_name=row["media_name"],
            media_path=self.sessions_dir / row["id"] / row["media_file"],
            config=json.loads(row["config"]), status=row["status"], stage=row["stage"],
            progress=row["progress"], error=row["error"],
            participants=json.loads(row["participants"]), duration_s=row["duration_s"],
            metrics=metrics, owner=row["owner"] or "", owner_id=row["owner_id"])
