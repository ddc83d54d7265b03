"""Who may do what: the library's access rules as pure functions, the only place they live.

The library calls them (and raises :class:`~cuekit.auth.AccessDenied` when one says no); the
dashboard calls the same functions to show, hide or disable its buttons, so a button is never
offered for what the library would refuse.

``user`` is the acting account as stored now, or None **without team mode** (one local user,
or the ``cuekit`` commands run by whoever owns the library's files: everything is allowed).
Team mode without a signed-in account never reaches these functions: the library refuses it
first (:func:`cuekit.store.db.acting_user`, fail closed). Sessions are named by their owner's
account id (``owner_id``; None for one stored before team mode).
"""

from __future__ import annotations

from collections.abc import Collection

from ..auth import ADMIN, AGENT, COACH, User

LIBRARY, SESSION, COMPARE, OUTCOMES, TEAM, ACCOUNTS = (
    "Library", "Session", "Compare", "Outcomes", "Team", "Accounts")


def may_view(user: User | None, owner_id: int | None,
             coached_ids: Collection[int] = ()) -> bool:
    """Open a session, read its cues, notes, marks and outcomes, play its recording, see its
    stills and exports: an agent their own, a coach also their agents' (``coached_ids``: the
    accounts they coach), an admin all."""
    if user is None or user.role == ADMIN:
        return True
    if owner_id == user.id:
        return True
    return user.role == COACH and owner_id in coached_ids


def may_change(user: User | None, owner_id: int | None) -> bool:
    """Rename, retry or delete a session: its owner or an admin. A coach reviews and annotates
    their agents' calls but does not remove them."""
    return user is None or user.role == ADMIN or owner_id == user.id


def may_rename(user: User | None, owner_id: int | None) -> bool:
    """Give a session a new title (:func:`may_change`)."""
    return may_change(user, owner_id)


def may_retry(user: User | None, owner_id: int | None, status: str) -> bool:
    """Queue a failed analysis again (:func:`may_change`; only a failed one)."""
    return status == "failed" and may_change(user, owner_id)


def may_delete(user: User | None, owner_id: int | None, status: str) -> bool:
    """Delete a session with its recording, cues and notes (:func:`may_change`), but not while
    its analysis runs: wait for it to finish or fail."""
    return status != "running" and may_change(user, owner_id)


def may_note(user: User | None, owner_id: int | None, coached_ids: Collection[int] = ()
             ) -> bool:
    """Add a note or mark a moment: whoever may see the session (:func:`may_view`), so the
    coach and the agent prepare the same coaching conversation."""
    return may_view(user, owner_id, coached_ids)


def may_delete_note(user: User | None, author_id: int | None) -> bool:
    """Delete a note: its author or an admin."""
    return user is None or user.role == ADMIN or author_id == user.id


def may_record_outcomes(user: User | None) -> bool:
    """Record a session's outcomes (satisfaction, resolved …): coaches and admins. Agents read
    their own but do not score their calls."""
    return user is None or user.role != AGENT


def may_see_team(user: User | None) -> bool:
    """The team page, the team's usual values and other accounts' sessions by owner: coaches and
    admins, in team mode only (without it there is no team)."""
    return user is not None and user.role in (COACH, ADMIN)


def may_manage_accounts(user: User | None) -> bool:
    """Add, delete and reset accounts and assign agents to coaches: an admin, or the library's
    operator (``cuekit users``, ``user=None``)."""
    return user is None or user.role == ADMIN


def pages(user: User | None) -> tuple[str, ...]:
    """The dashboard's pages for an account: the team page when :func:`may_see_team`, accounts
    when :func:`may_manage_accounts` in team mode."""
    shown = [LIBRARY, SESSION, COMPARE, OUTCOMES]
    if may_see_team(user):
        shown.append(TEAM)
        if may_manage_accounts(user):
            shown.append(ACCOUNTS)
    return tuple(shown)


def visible_sql(user: User | None) -> tuple[str, tuple]:
    """:func:`may_view` as a condition on ``sessions s`` (with its parameters), for the queries
    that list sessions; ``tests/test_access.py`` checks that both say the same."""
    if user is None or user.role == ADMIN:
        return "1", ()
    if user.role == COACH:
        return ("(s.owner_id = ? OR s.owner_id IN "
                "(SELECT agent_id FROM coaching WHERE coach_id = ?))", (user.id, user.id))
    return "s.owner_id = ?", (user.id,)
