"""Log in and out (pages and API). Passwords are checked by ``store.service.authenticate``
(Argon2id); a failed login says only "wrong user name or password". Both log-in routes go
through :class:`plantwatch.web.ratelimit.LoginLimiter` first: too many failures answer 429 with
``Retry-After`` without checking the password, and each lock-out is an audit entry."""

from __future__ import annotations

import logging
import math
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from plantwatch.web.auth import SessionUser, csrf_token, login_session, logout_session, require
from plantwatch.web.context import WebContext, web
from plantwatch.web.ratelimit import Attempt

router = APIRouter()
log = logging.getLogger("plantwatch.web")

_BAD_LOGIN = "wrong user name or password"
_TOO_MANY = {
    "account": "too many failed log-ins for this user name",
    "client": "too many failed log-ins from this address",
}


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect to another site would help phishing."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _authenticate(ctx: WebContext, username: str, password: str) -> SessionUser | None:
    from plantwatch.store import service

    with ctx.store.session() as s:
        user = service.authenticate(s, username.strip(), password)
        if user is None or not user.active:
            return None
        return SessionUser(id=user.id, username=user.username, role=user.role)


def _limited_login(
    request: Request, ctx: WebContext, username: str, password: str
) -> tuple[Attempt, SessionUser | None]:
    """Authenticate through the limiter: a refused attempt (``not attempt.allowed``) never
    checks the password, so its answer cannot depend on it."""
    limiter = ctx.login_limiter
    attempt = limiter.begin(username, request.client.host if request.client else None)
    if not attempt.allowed:
        return attempt, None
    try:
        user = _authenticate(ctx, username, password)
    except BaseException:
        limiter.abandoned(attempt)
        raise
    if user is not None:
        limiter.succeeded(attempt)
    elif attempt.locks:
        _record_lockout(ctx, attempt, limiter.window_s)
    return attempt, user


def _record_lockout(ctx: WebContext, attempt: Attempt, window_s: float) -> None:
    """One audit entry per lock-out (not per refused attempt, so a flood cannot fill the log)."""
    from plantwatch.store import audit
    from plantwatch.store.access import SYSTEM

    for scope in attempt.locks:
        target = attempt.account if scope == "account" else attempt.client
        log.warning("login lock-out (%s) for %r for %.0f s", scope, target, window_s)
        try:
            with ctx.store.session() as s:
                audit.record(
                    s,
                    SYSTEM,
                    "login.lockout",
                    "login",
                    target[:64],
                    {
                        "scope": scope,
                        "username": attempt.account,
                        "client_ip": attempt.client,
                        "window_s": window_s,
                    },
                )
        except Exception:  # the lock-out holds in memory; a failed audit write must not undo it
            log.exception("could not write the login lock-out to the audit log")


def _too_many(attempt: Attempt) -> str:
    wait_min = math.ceil(attempt.retry_after_s / 60)
    when = f"{wait_min} minute{'s' if wait_min != 1 else ''}"
    reason = _TOO_MANY[attempt.blocked_by[0]]
    return f"{reason}: try again in {when}"


def _retry_after(attempt: Attempt) -> dict[str, str]:
    return {"Retry-After": str(attempt.retry_after_s)}


@router.get("/")
def home(user: Annotated[SessionUser, Depends(require())]) -> Response:
    return RedirectResponse("/sites", status_code=303)


@router.get("/login")
def login_page(
    request: Request, ctx: Annotated[WebContext, Depends(web)], next: str = "/"
) -> Response:
    return ctx.page(request, "login.html", next=_safe_next(next), title="Log in")


@router.post("/login")
def login_submit(
    request: Request,
    ctx: Annotated[WebContext, Depends(web)],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    attempt, user = _limited_login(request, ctx, username, password)
    if not attempt.allowed:
        page = ctx.page(
            request,
            "login.html",
            status_code=429,
            next=_safe_next(next),
            error=_too_many(attempt),
            username=username,
            title="Log in",
        )
        page.headers.update(_retry_after(attempt))
        return page
    if user is None:
        return ctx.page(
            request,
            "login.html",
            status_code=401,
            next=_safe_next(next),
            error=_BAD_LOGIN,
            username=username,
            title="Log in",
        )
    login_session(request, user.id)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    logout_session(request)
    return RedirectResponse("/login", status_code=303)


# ---- API


class LoginBody(BaseModel):
    username: str
    password: str


def _session_json(request: Request, user: SessionUser | None) -> dict[str, Any]:
    return {
        "user": None
        if user is None
        else {"id": user.id, "username": user.username, "role": user.role},
        "csrf_token": csrf_token(request),
    }


@router.get("/api/session")
def api_session(request: Request) -> dict[str, Any]:
    """The CSRF token for this session (anonymous too: needed to log in) and who is logged in."""
    return _session_json(request, request.state.user)


@router.post("/api/login")
def api_login(
    request: Request, body: LoginBody, ctx: Annotated[WebContext, Depends(web)]
) -> Response:
    attempt, user = _limited_login(request, ctx, body.username, body.password)
    if not attempt.allowed:
        return JSONResponse(
            {"error": _too_many(attempt), "status": 429, "retry_after_s": attempt.retry_after_s},
            status_code=429,
            headers=_retry_after(attempt),
        )
    if user is None:
        return JSONResponse({"error": _BAD_LOGIN, "status": 401}, status_code=401)
    login_session(request, user.id)
    return JSONResponse(_session_json(request, user))


@router.post("/api/logout")
def api_logout(request: Request) -> dict[str, Any]:
    logout_session(request)
    return {"ok": True}
