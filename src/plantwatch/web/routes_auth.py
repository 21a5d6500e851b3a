"""Log in and out (pages and API). Passwords are checked by ``store.service.authenticate``
(Argon2id); a failed login says only "wrong user name or password"."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from plantwatch.web.auth import SessionUser, csrf_token, login_session, logout_session, require
from plantwatch.web.context import WebContext, web

router = APIRouter()

_BAD_LOGIN = "wrong user name or password"


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
    user = _authenticate(ctx, username, password)
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
    user = _authenticate(ctx, body.username, body.password)
    if user is None:
        return JSONResponse({"error": _BAD_LOGIN, "status": 401}, status_code=401)
    login_session(request, user.id)
    return JSONResponse(_session_json(request, user))


@router.post("/api/logout")
def api_logout(request: Request) -> dict[str, Any]:
    logout_session(request)
    return {"ok": True}
