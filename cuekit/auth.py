"""Accounts for team mode: roles, password hashing (Argon2id), sign-in throttling.

The rules of who may see what are enforced by the library (``cuekit.store``), which takes the
acting :class:`User` in every call that reads or changes a session; this module holds what those
rules are made of. Passwords are stored only as Argon2id hashes (``argon2-cffi``'s defaults,
RFC 9106's low-memory profile: 64 MiB, 3 passes), never in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import CuekitError, InputError

ADMIN, COACH, AGENT = "admin", "coach", "agent"
ROLES = (ADMIN, COACH, AGENT)
MIN_PASSWORD_CHARS = 8
MAX_FAILED_SIGN_INS = 5  # in a row; then the account waits LOCKOUT_S before the next try
LOCKOUT_S = 60

_hasher = PasswordHasher()


class AccessDenied(CuekitError, PermissionError):
    """The acting user may not see or change this (or must sign in first)."""


@dataclass(frozen=True)
class User:
    """A signed-in account. Hashable: the dashboard keys per-user caches on it."""

    id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    return role


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise InputError("a user name must be 1 to 64 printable characters")
    return name


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InputError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; ``None`` (unknown user) takes as long and is False."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """Verified when the name is unknown, so a wrong name costs as long as a wrong password."""
    return _hasher.hash("not the password of anyone")


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
