"""Links to what a session shows over HTTP — its recording, the stills of its moments, its
exports — signed, short-lived, and tied to the account and the browser.

:meth:`Links.media_token` makes a token only for a session the account may see;
:meth:`Links.link_session` checks a token on each request (genuine, unexpired, made for this
browser) and that its account may *still* see the session, with the same rule
(:func:`cuekit.store.access.may_view`) as every other read. ``cuekit.web`` serves the routes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from pathlib import Path

from ..auth import AccessDenied, User
from ..errors import InputError
from .base import Base, SessionInfo
from .db import acting_user_id, team_mode

MEDIA_TOKEN_TTL_S = 3600  # a link works this long (the page renews it)


def signature(secret: bytes, session_id: str, user_id: int, expires: int, browser: str) -> str:
    """HMAC-SHA256 of what a token binds: the session, the account, the expiry, the browser."""
    message = f"{session_id}|{user_id}|{expires}|{browser}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


class Links(Base):
    """The signed-links part of :class:`cuekit.store.Library`."""

    @staticmethod
    def _link_secret(db: sqlite3.Connection) -> bytes:
        """The library's key for links, made on first use; read, not written, after that (it is
        asked for on every range request of a playing video)."""
        row = db.execute("SELECT value FROM settings WHERE key = 'media_secret'").fetchone()
        if row is None:
            db.execute("INSERT OR IGNORE INTO settings VALUES ('media_secret', ?)",
                       (secrets.token_hex(32),))
            row = db.execute("SELECT value FROM settings WHERE key = 'media_secret'").fetchone()
        return bytes.fromhex(row[0])

    def media_token(self, session_id: str, browser: str, *, user: User | None = None,
                    ttl_s: float = MEDIA_TOKEN_TTL_S) -> str:
        """A token for the recording, stills and exports of a session ``user`` may see, valid
        ``ttl_s`` for requests from the browser whose id is ``browser`` (an HttpOnly cookie,
        ``cuekit.web``). A token copied into another browser, or used after the account lost
        the session, is refused by :meth:`link_session`."""
        if not browser:
            raise AccessDenied("no browser id")
        with self._db() as db:
            self._row(db, session_id, user)
            user_id = acting_user_id(db, user) or 0
            expires = int(time.time() + ttl_s)
            signed = signature(self._link_secret(db), session_id, user_id, expires, browser)
        return f"{user_id}.{expires}.{signed}"

    def link_session(self, session_id: str, token: str, browser: str
                     ) -> tuple[SessionInfo, User | None]:
        """The session and the account a token (:meth:`media_token`) was made for, when it is
        genuine, unexpired, made for this ``browser``, and its account may still see the
        session; else ``AccessDenied`` (the same for a session that does not exist). The
        account is None without team mode."""
        try:
            user_id_text, expires_text, signed = token.split(".")
            user_id, expires = int(user_id_text), int(expires_text)
        except ValueError:
            raise AccessDenied("not a media token") from None
        with self._db() as db:
            expected = signature(self._link_secret(db), session_id, user_id, expires, browser)
            if not browser or not hmac.compare_digest(expected, signed):
                raise AccessDenied("this link is not yours (made for another browser or account)")
            if expires < time.time():
                raise AccessDenied("this link has expired: reload the page")
            user = None
            if team_mode(db):
                row = db.execute("SELECT id, name, role FROM users WHERE id = ?",
                                 (user_id,)).fetchone()
                if row is None:
                    raise AccessDenied("sign in first")
                user = User(row["id"], row["name"], row["role"])
            try:
                row = self._row(db, session_id, user)
            except InputError:
                raise AccessDenied(f"session {session_id!r} is not in your library") from None
            return self._info(row, {}), user

    def media_file(self, session_id: str, token: str, browser: str) -> Path:
        """The recording's path when :meth:`link_session` accepts the token."""
        return self.link_session(session_id, token, browser)[0].media_path
