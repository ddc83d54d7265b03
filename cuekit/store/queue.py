"""The job queue, the worker's side: claim the oldest queued session, report progress, store
a result or a failure, and clean up what a crash left. No acting user: the worker
(``cuekit.jobs``) serves every account.

A session moves ``queued → running → done | failed``; the worker writes its stage and progress
here, so any page (or a reload) reads where an analysis stands.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from contextlib import suppress

from .. import cueset
from .base import Base, SessionInfo
from .db import SELECT_SESSIONS

ORPHAN_AGE_S = 3600  # folders without a session row older than this are crash leftovers


class Queue(Base):
    """The worker's part of :class:`cuekit.store.Library`."""

    def claim_next(self) -> SessionInfo | None:
        """Mark the oldest queued session running and return it (None when the queue is empty)."""
        with self._db() as db:
            claimed = db.execute(
                "UPDATE sessions SET status = 'running', stage = 'starting', progress = 0 "
                "WHERE id = (SELECT id FROM sessions WHERE status = 'queued' "
                "ORDER BY created_at LIMIT 1) RETURNING id").fetchone()
            if claimed is None:
                return None
            row = db.execute(f"{SELECT_SESSIONS} WHERE s.id = ?", (claimed["id"],)).fetchone()
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
