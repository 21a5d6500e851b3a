"""Who is asking, and may they: sessions, roles and CSRF tokens for pages and the API.

* Sessions are Starlette's signed cookies (itsdangerous, HMAC-SHA1 timestamp signer), HttpOnly
  and SameSite=Lax; they hold only the user id and the CSRF token. The user row is read on every
  request, so a deactivated user is out at once.
* The signing secret comes from ``PLANTWATCH_SECRET_KEY`` or a random key created once in the
  data folder with mode 0600 (:func:`load_secret_key`), so sessions survive restarts.
* Roles: ``planner``, ``approver``, ``pilot``, ``inspector``, ``admin``; ``admin`` may do
  everything. Pages redirect anonymous users to the login page, the API answers 401.
* CSRF: a random per-session token; every POST must carry it in the ``X-CSRF-Token`` header or
  a ``csrf_token`` form field (synchroniser-token pattern, OWASP CSRF cheat sheet).
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

__all__ = [
    "ROLES",
    "CsrfError",
    "Forbidden",
    "NotLoggedIn",
    "SessionUser",
    "csrf_token",
    "load_secret_key",
    "login_session",
    "logout_session",
    "permission",
    "require",
    "verify_csrf",
]

ROLES: tuple[str, ...] = ("planner", "approver", "pilot", "inspector", "admin")
SECRET_KEY_ENV = "PLANTWATCH_SECRET_KEY"
SECRET_KEY_FILE = "secret_key"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_SESSION_USER = "uid"
_SESSION_CSRF = "csrf"


class NotLoggedIn(Exception):
    """No valid session: pages redirect to the login page, the API answers 401."""


class Forbidden(Exception):
    """Logged in, but the role may not do this (403)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token (403)."""


@dataclass(frozen=True)
class SessionUser:
    """The logged-in user as the web layer sees it."""

    id: int
    username: str
    role: str

    def has(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles

    def may(self, permission_name: str) -> bool:
        """Holds the store permission (``plantwatch.store.service.PERMISSIONS``)."""
        from plantwatch.store.service import PERMISSIONS

        return self.role == "admin" or self.role in PERMISSIONS[permission_name]


def load_secret_key(data_dir: Path, explicit: str | None = None) -> str:
    """The session signing secret: ``explicit``, ``$PLANTWATCH_SECRET_KEY``, or a random key
    kept in ``data_dir/secret_key`` (created with mode 0600 on first use)."""
    if explicit:
        return explicit
    env = os.environ.get(SECRET_KEY_ENV)
    if env:
        return env
    path = data_dir / SECRET_KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (also for anonymous sessions, so the
    login form is protected too)."""
    token = request.session.get(_SESSION_CSRF)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[_SESSION_CSRF] = token
    return token


def session_csrf(request: Request) -> str | None:
    token = request.session.get(_SESSION_CSRF)
    return token if isinstance(token, str) else None


def header_csrf_ok(request: Request) -> bool:
    expected = session_csrf(request)
    sent = request.headers.get(CSRF_HEADER)
    return bool(expected and sent and hmac.compare_digest(sent, expected))


async def verify_csrf(request: Request) -> None:
    """Check the token of a state-changing request from the header or an urlencoded form.

    Multipart uploads are checked by :func:`plantwatch.web.uploads.receive_upload` while the
    body streams in (the token field precedes the files), so they are not read here.
    """
    if header_csrf_ok(request):
        return
    expected = session_csrf(request)
    ctype = request.headers.get("content-type", "")
    if expected and ctype.startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        sent = form.get(CSRF_FIELD)
        if isinstance(sent, str) and hmac.compare_digest(sent, expected):
            return
    raise CsrfError()


def login_session(request: Request, user_id: int) -> None:
    """Start a fresh session for ``user_id`` (new CSRF token: no session fixation)."""
    request.session.clear()
    request.session[_SESSION_USER] = int(user_id)
    request.session[_SESSION_CSRF] = secrets.token_urlsafe(32)


def logout_session(request: Request) -> None:
    request.session.clear()


def session_user_id(request: Request) -> int | None:
    uid = request.session.get(_SESSION_USER)
    return uid if isinstance(uid, int) else None


def require(*roles: str) -> Callable[[Request], Any]:
    """FastAPI dependency: the logged-in :class:`SessionUser`, whose role is one of ``roles``
    (any role when none are given; ``admin`` always passes)."""
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; valid: {', '.join(ROLES)}")

    def dependency(request: Request) -> SessionUser:
        user: SessionUser | None = getattr(request.state, "user", None)
        if user is None:
            raise NotLoggedIn()
        if roles and not user.has(*roles):
            raise Forbidden(
                f"{user.username} ({user.role}) may not do this; needs role "
                + " or ".join(roles)
                + (" or admin" if "admin" not in roles else "")
            )
        return user

    return dependency


def permission(name: str) -> Callable[[Request], Any]:
    """FastAPI dependency: the user must hold the store's permission ``name``
    (``plantwatch.store.service.PERMISSIONS``, the one table of who may do what; the store
    checks it again when it writes)."""
    from plantwatch.store.service import PERMISSIONS

    if name not in PERMISSIONS:
        raise ValueError(f"unknown permission {name!r}")
    roles = tuple(r for r in PERMISSIONS[name] if r != "admin") or ("admin",)
    dependency = require(*roles)
    return dependency


def may(user: SessionUser | None, name: str) -> bool:
    """Whether the user holds the permission (templates show only the buttons that work)."""
    from plantwatch.store.service import PERMISSIONS

    return user is not None and (user.role in PERMISSIONS[name] or user.role == "admin")
