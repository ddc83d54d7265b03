"""The session library: one SQLite database plus one folder per analysed recording.

Layout under the data folder (``$CUEKIT_HOME``, default ``~/.cuekit``)::

    library.sqlite          sessions, their metrics, coach notes, accounts (WAL mode)
    sessions/<id>/media.mp4 the recording as uploaded (extension from its content)
    sessions/<id>/transcript.vtt  its transcript when one was given (.vtt or .srt, optional)
    sessions/<id>/cues/     the exchange-format folder written by ``cueset.write`` (atomic)

One module per job, composed by :class:`Library`:

- ``db``: the connection, schema and migrations, the acting account as stored now;
- ``access``: who may do what, pure functions (the dashboard uses them for its buttons);
- ``intake``: upload checks, the container sniffed from the content, copying with a size limit,
  transcripts;
- ``sessions``: sessions, notes, marks, metrics across sessions, the team, outcomes;
- ``queue``: the job queue as the background worker (``cuekit.jobs``) sees it;
- ``accounts``: accounts, passwords, sign-in, coaching assignments;
- ``links``: signed short-lived links to a session's recording, stills and exports.

Team mode (docs/teams.md): once the first admin account exists, every method that reads or
changes a session takes the acting ``user`` and refuses (:class:`~cuekit.auth.AccessDenied`)
what :mod:`~cuekit.store.access` says that user may not do. ``user=None`` is refused in team
mode (fail closed). Without team mode there are no accounts and ``user`` is ignored.
"""

from __future__ import annotations

from . import access
from .accounts import Accounts
from .base import SessionInfo
from .db import DB_NAME, HOME_ENV, default_home
from .intake import (DEFAULT_MAX_UPLOAD_MB, MAX_TRANSCRIPT_MB, MAX_UPLOAD_ENV, max_upload_mb,
                     sniff_media)
from .links import MEDIA_TOKEN_TTL_S, Links
from .queue import ORPHAN_AGE_S, Queue
from .sessions import Mark, Note, OutcomeImport, Sessions, TeamMember, agent_rows


class Library(Sessions, Queue, Accounts, Links):
    """The session library under ``home`` (default: :func:`default_home`)."""


__all__ = ["DB_NAME", "DEFAULT_MAX_UPLOAD_MB", "HOME_ENV", "MAX_TRANSCRIPT_MB", "MAX_UPLOAD_ENV",
           "MEDIA_TOKEN_TTL_S", "ORPHAN_AGE_S", "Library", "Mark", "Note", "OutcomeImport",
           "SessionInfo", "TeamMember", "access", "agent_rows", "default_home", "max_upload_mb",
           "sniff_media"]
