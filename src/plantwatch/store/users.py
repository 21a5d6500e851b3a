"""Users: Argon2id password hashes (argon2-cffi), roles, sign-in."""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantwatch.errors import InputError, PermissionDenied
from plantwatch.errors import require as require_module
from plantwatch.store import audit
from plantwatch.store.access import (
    SYSTEM,
    Actor,
    actor_of,
    clean_text,
    require,
    resolve_user,
)
from plantwatch.store.db import write_lock
from plantwatch.store.models import (
    ROLES,
    User,
)

__all__ = ["MIN_PASSWORD_LENGTH", "authenticate", "create_user", "set_password", "set_user_active"]

MIN_PASSWORD_LENGTH = 8
_USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def _hasher() -> Any:
    """Argon2id with argon2-cffi's default costs (RFC 9106 low-memory profile)."""
    argon2 = require_module("argon2", "web")
    return argon2.PasswordHasher()  # type: ignore[attr-defined]


def _check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if len(password) > 1024:
        raise InputError("is longer than 1024 characters", field="password")
    return password


def create_user(s: Session, username: str, password: str, role: str, by: Actor = None) -> User:
    """Add a user with an Argon2id password hash.

    Parameters
    ----------
    username
        Letters, digits, ``_ . @ -`` (max 64), unique.
    password
        At least :data:`MIN_PASSWORD_LENGTH` characters.
    role
        One of :data:`~plantwatch.store.models.ROLES`.
    by
        An admin, or ``None`` (local ``plantwatch admin create-user``).
    """
    actor, _ = actor_of(s, by, "user.manage")
    name = clean_text(username, "username", max_len=64, required=True)
    if not _USERNAME_PATTERN.match(name):
        raise InputError(
            f"{name!r}: use letters, digits, '_', '.', '@', '-' (max 64)", field="username"
        )
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; valid: {', '.join(ROLES)}", field="role")
    password_hash = _hasher().hash(_check_password(password))
    write_lock(s)
    if s.execute(select(User.id).where(User.username == name)).first() is not None:
        raise InputError(f"user {name!r} already exists", field="username")
    user = User(username=name, password_hash=password_hash, role=role, active=True)
    s.add(user)
    s.flush()
    audit.record(s, actor, "user.create", "user", user.id, {"username": name, "role": role})
    return user


def authenticate(s: Session, username: str, password: str) -> User | None:
    """The active user with this password, or ``None`` (unknown user, wrong password, inactive).

    Takes the same time for unknown users (a dummy hash is checked) so that the answer does not
    tell which usernames exist. Rehashes the password when the Argon2 parameters changed.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
    stored = user.password_hash if user is not None else _DUMMY_HASH.get(hasher)
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        write_lock(s)
        user.password_hash = hasher.hash(password)
        s.flush()
    return user


class _DummyHash:
    """A hash of a random password, made once, for timing-safe misses."""

    _value: str | None = None

    def get(self, hasher: Any) -> str:
        if self._value is None:
            self._value = hasher.hash(secrets.token_hex(16))
        return self._value


_DUMMY_HASH = _DummyHash()


def set_password(s: Session, username: str, password: str, by: Actor = None) -> User:
    """Replace a user's password (an admin, the local CLI, or the user themself)."""
    target = resolve_user(s, username)
    if by is None:
        actor = SYSTEM
    else:
        acting = resolve_user(s, by)
        if acting.id != target.id:
            require(acting, "user.manage")
        elif not acting.active:
            raise PermissionDenied(f"{acting.username} is deactivated")
        actor = acting.username
    password_hash = _hasher().hash(_check_password(password))
    write_lock(s)
    target.password_hash = password_hash
    s.flush()
    audit.record(s, actor, "user.password", "user", target.id, {"username": target.username})
    return target


def set_user_active(s: Session, username: str, active: bool, by: Actor = None) -> User:
    """Deactivate (or reactivate) a user; a deactivated user cannot sign in or act."""
    actor, _ = actor_of(s, by, "user.manage")
    target = resolve_user(s, username)
    write_lock(s)
    target.active = bool(active)
    s.flush()
    audit.record(
        s, actor, "user.active", "user", target.id, {"username": target.username, "active": active}
    )
    return target
