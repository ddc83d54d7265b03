"""Accounts for team mode: adding, listing, deleting, passwords, sign-in with lockout, and which
agents each coach coaches.

``by`` is the acting account, which must be an admin (:func:`access.may_manage_accounts`); None
is the local operator (the ``cuekit users`` command, run by whoever owns the library's files).
Passwords and roles are :mod:`cuekit.auth`'s.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Collection

from .. import auth
from ..auth import ADMIN, AGENT, COACH, AccessDenied, User
from ..errors import InputError
from . import access
from .base import Base
from .db import now, stored_user, team_mode, user_row


class Accounts(Base):
    """The accounts part of :class:`cuekit.store.Library`."""

    @staticmethod
    def _require_admin(db: sqlite3.Connection, by: User | None) -> None:
        """``AccessDenied`` unless :func:`access.may_manage_accounts` (the account as stored
        now; None is the operator)."""
        if not access.may_manage_accounts(None if by is None else stored_user(db, by)):
            raise AccessDenied("only an admin manages accounts")

    def add_user(self, name: str, role: str, password: str, *, by: User | None = None) -> User:
        """Create an account. The first one must be an admin; creating it turns team mode on."""
        name, role = auth.check_name(name), auth.check_role(role)
        password_hash = auth.hash_password(password)
        with self._db() as db:
            self._require_admin(db, by)
            if not team_mode(db) and role != ADMIN:
                raise InputError("the first account must be an admin (it turns team mode on)")
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise InputError(f"there is already an account named {name!r}")
            user_id = db.execute("INSERT INTO users (name, role, password_hash, created_at) "
                                 "VALUES (?,?,?,?)", (name, role, password_hash, now())).lastrowid
            db.execute("INSERT OR REPLACE INTO settings VALUES ('team_mode', '1')")
        return User(int(user_id), name, role)

    def users(self, *, by: User | None = None) -> list[User]:
        with self._db() as db:
            self._require_admin(db, by)
            rows = db.execute("SELECT id, name, role FROM users ORDER BY name").fetchall()
        return [User(r["id"], r["name"], r["role"]) for r in rows]

    def user_named(self, name: str) -> User:
        """The account called ``name`` (``InputError`` when there is none)."""
        with self._db() as db:
            row = user_row(db, name)
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
            self._require_admin(db, by)
            target = user_row(db, name)
            db.execute("UPDATE users SET password_hash = ?, failed_sign_ins = 0, "
                       "locked_until_s = 0 WHERE id = ?", (password_hash, target["id"]))

    def delete_user(self, name: str, *, by: User | None = None) -> None:
        """Delete an account. Refused while it owns sessions (nothing is lost by accident), for
        the last admin, and for the admin doing it."""
        with self._db() as db:
            self._require_admin(db, by)
            target = user_row(db, name)
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
            self._require_admin(db, by)
            coach_row = user_row(db, coach)
            if coach_row["role"] != COACH:
                raise InputError(f"{coach} is not a coach")
            agent_rows = [user_row(db, a) for a in agents]
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
