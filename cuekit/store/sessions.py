"""Sessions as the acting account sees and changes them: adding a recording, listing, renaming,
retrying, deleting; coach notes, marked moments, metrics across sessions, the team, outcomes.

Every method takes the acting ``user`` and asks :mod:`cuekit.store.access` before it reads or
changes anything (see :mod:`cuekit.store`)."""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

import pandas as pd

from .. import cueset
from ..auth import AGENT, AccessDenied, User
from ..errors import InputError
from . import access, intake
from .base import Base, SessionInfo
from .db import SELECT_SESSIONS, acting_user, acting_user_id, now, team_mode


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
    """What :meth:`Sessions.import_outcomes` stored: sessions and values, and the rows skipped
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


class Sessions(Base):
    """The sessions part of :class:`cuekit.store.Library`."""

    def _changeable(self, db: sqlite3.Connection, session_id: str, user: User | None
                    ) -> sqlite3.Row:
        """The row of a session ``user`` may rename, delete or retry (:func:`access.may_change`)."""
        row = self._row(db, session_id, user)
        if not access.may_change(acting_user(db, user), row["owner_id"]):
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
        (:func:`~cuekit.store.intake.sniff_media`) and its size against
        :func:`~cuekit.store.intake.max_upload_mb` while copying; the copy goes to a temporary
        folder, renamed into place when whole. The session belongs to ``user`` in team mode.

        ``transcript`` (optional, a path or a file object; ``transcript_name`` is only shown) is
        a ``.vtt`` or ``.srt`` file: it is read with ``cuekit.transcript.read_transcript``
        before anything is stored (a file without timed cues is refused with ``InputError``),
        then kept as ``sessions/<id>/transcript.vtt`` (or ``.srt``) and given to the analysis.
        ``transcribe``: without a transcript, the analysis writes the words itself
        (``AnalysisConfig.transcribe``).
        """
        from ..config import AnalysisConfig

        AnalysisConfig(layout=layout, names=names, transcribe=transcribe)  # refuse bad settings
        with self._db() as db:
            owner_id = acting_user_id(db, user)
        session_id = uuid.uuid4().hex[:12]
        incoming = self.sessions_dir / f"{intake.INCOMING_PREFIX}{session_id}"
        with intake.open_binary(media) as src:
            incoming.mkdir(parents=True)
            try:
                config = {"layout": layout, "names": names or None}
                if transcribe and transcript is None:
                    config["transcribe"] = True
                if transcript is not None:
                    config["transcript"] = intake.receive_transcript(transcript,
                                                                     transcript_name, incoming)
                media_file = intake.receive_recording(src, incoming)
                with self._db() as db:
                    db.execute(
                        "INSERT INTO sessions (id, title, created_at, recorded_on, media_name, "
                        "media_file, config, status, participants, owner_id) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (session_id, title.strip() or media_name, now(),
                         (recorded_on or date.today()).isoformat(), media_name, media_file,
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
            rows = db.execute(f"{SELECT_SESSIONS} WHERE {condition} "
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
            by_participant: dict[str, dict[str, float]] = {}
            for m in db.execute("SELECT * FROM metrics WHERE session_id = ?", (row["id"],)):
                by_participant.setdefault(m["participant"], {})[m["metric"]] = m["value"]
        return self._info(row, by_participant)

    def load_cueset(self, session_id: str, *, cues: Collection[str] | None = None,
                    user: User | None = None) -> cueset.CueSet:
        """The analysis result of a finished session.

        ``cues`` keeps only those sample cues, filtered while reading the Parquet file: a view
        that draws 8 of 25 cues of an hour-long call reads a third of 1.8 M rows.
        """
        info = self.session(session_id, user=user)
        if info.status != "done":
            raise InputError(f"session {session_id!r} is {info.status}, not analysed yet")
        return cueset.read(self.cues_dir(session_id), cues=cues)

    def rename(self, session_id: str, title: str, *, user: User | None = None) -> None:
        title = title.strip()
        if not title:
            raise InputError("a session title cannot be empty")
        with self._db() as db:
            self._changeable(db, session_id, user)
            db.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, session_id))

    def delete(self, session_id: str, *, user: User | None = None) -> None:
        """Remove a session: its rows (metrics and notes too) and its whole folder. Refused
        while its analysis runs (:func:`access.may_delete`)."""
        with self._db() as db:
            row = self._changeable(db, session_id, user)
            if not access.may_delete(acting_user(db, user), row["owner_id"], row["status"]):
                raise InputError(f"session {session_id!r} is being analysed: delete it when "
                                 "it is done or has failed")
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        shutil.rmtree(self.sessions_dir / session_id, ignore_errors=True)

    def requeue(self, session_id: str, *, user: User | None = None) -> None:
        """Queue a failed session again (after a crash, a time-out or a fix); a session that has
        not failed stays as it is."""
        with self._db() as db:
            self._changeable(db, session_id, user)
            db.execute("UPDATE sessions SET status = 'queued', stage = '', progress = 0, "
                       "error = '' WHERE id = ? AND status = 'failed'", (session_id,))

    # -- coach notes --------------------------------------------------------------------------

    def add_note(self, session_id: str, t_s: float, text: str, participant: str = "", *,
                 user: User | None = None) -> int:
        text = text.strip()
        if not text:
            raise InputError("a note needs some text")
        if not (math.isfinite(t_s) and t_s >= 0):
            raise InputError(f"a note's time must be >= 0 s, got {t_s!r}")
        with self._db() as db:
            self._row(db, session_id, user)  # access.may_note is access.may_view
            cur = db.execute("INSERT INTO notes (session_id, t_s, participant, text, created_at, "
                             "author_id) VALUES (?,?,?,?,?,?)",
                             (session_id, float(t_s), participant, text, now(),
                              acting_user_id(db, user)))
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
            if not access.may_delete_note(acting_user(db, user), note["author_id"]):
                raise AccessDenied("only the note's author or an admin may delete it")
            db.execute("DELETE FROM notes WHERE id = ?", (note_id,))

    # -- moments marked for the coaching conversation ----------------------------------------

    def set_mark(self, session_id: str, moment: Mark, marked: bool = True, *,
                 user: User | None = None) -> None:
        """Mark a moment (or unmark it) for the coaching conversation; anyone who may see the
        session may (:func:`access.may_note`), so the coach and the agent prepare the same
        list."""
        with self._db() as db:
            self._row(db, session_id, user)
            if marked:
                db.execute("INSERT OR IGNORE INTO marks (session_id, start_s, end_s, participant, "
                           "label, created_at, author_id) VALUES (?,?,?,?,?,?,?)",
                           (session_id, float(moment.start_s), float(moment.end_s),
                            moment.participant, moment.label, now(),
                            acting_user_id(db, user)))
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
            if not team_mode(db):
                raise InputError("the team page needs team mode (accounts: docs/teams.md)")
            acting = acting_user(db, user)
            if not access.may_see_team(acting):
                raise AccessDenied("only coaches and admins see the team page")
            rows = db.execute(
                "SELECT a.name AS agent, k.name AS coach FROM users a "
                "LEFT JOIN coaching c ON c.agent_id = a.id LEFT JOIN users k ON k.id = c.coach_id "
                "WHERE a.role = ? AND (? = 'admin' OR c.coach_id = ?) ORDER BY a.name, k.name",
                (AGENT, acting.role, acting.id)).fetchall()
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

    @staticmethod
    def _may_record_outcomes(db: sqlite3.Connection, user: User | None) -> None:
        if not access.may_record_outcomes(acting_user(db, user)):
            raise AccessDenied("only a coach or an admin records outcomes")

    def _outcomes_changeable(self, db: sqlite3.Connection, session_id: str, user: User | None
                             ) -> None:
        self._row(db, session_id, user)
        self._may_record_outcomes(db, user)

    def set_outcome(self, session_id: str, name: str, value: float | bool | None, *,
                    user: User | None = None) -> None:
        """Record (or with ``value=None`` remove) one outcome of a session; yes/no as 1/0."""
        from ..outcomes import check_name

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
                           (session_id, name, value, now(), acting_user_id(db, user)))

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
        from ..outcomes import error_lines, parse_csv

        with self._db() as db:  # refused before the file is even read
            self._may_record_outcomes(db, user)
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
            author = acting_user_id(db, user)
            self._may_record_outcomes(db, user)
            stamp = now()
            db.executemany("INSERT OR REPLACE INTO outcomes VALUES (?,?,?,?,?)",
                           [(sid, name, value, stamp, author)
                            for row, sid in found for name, value in row.values.items()])
        return OutcomeImport(sessions=len(found),
                             values=sum(len(row.values) for row, _ in found), skipped=problems)
