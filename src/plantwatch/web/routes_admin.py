"""Administration: users (create, deactivate) and the audit log with its hash-chain check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from plantwatch.web.auth import ROLES, SessionUser, permission
from plantwatch.web.context import WebContext, redirect, web
from plantwatch.web.queries import audit_entries, row_dict, users

router = APIRouter()

ADMIN = permission("user.manage")


def _user_rows(ctx: WebContext) -> list[dict[str, Any]]:
    with ctx.store.session() as s:
        return [row_dict(u, ("id", "username", "role", "active", "created_at")) for u in users(s)]


def _verify(ctx: WebContext) -> dict[str, Any]:
    from plantwatch.store import audit

    with ctx.store.session() as s:
        result = audit.verify(s)
    return {
        "ok": result.ok,
        "count": result.count,
        "first_bad_id": result.first_bad_id,
        "message": result.message,
    }


@router.get("/admin/users")
def users_page(
    request: Request,
    user: Annotated[SessionUser, Depends(ADMIN)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    return ctx.page(
        request, "users.html", users=_user_rows(ctx), roles=ROLES, section="users", title="Users"
    )


class NewUser(BaseModel):
    username: str
    password: str
    role: str


def create_user(ctx: WebContext, user: SessionUser, body: NewUser) -> dict[str, Any]:
    from plantwatch.store import service

    with ctx.store.session() as s:
        created = service.create_user(s, body.username, body.password, body.role, user.username)
        return row_dict(created, ("id", "username", "role", "active", "created_at"))


@router.post("/admin/users")
def users_create_page(
    request: Request,
    user: Annotated[SessionUser, Depends(ADMIN)],
    ctx: Annotated[WebContext, Depends(web)],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()],
) -> Response:
    created = create_user(ctx, user, NewUser(username=username, password=password, role=role))
    return redirect("/admin/users", request, f"user {created['username']} ({role}) created")


@router.post("/admin/users/{username}/active")
def users_active_page(
    request: Request,
    username: str,
    user: Annotated[SessionUser, Depends(ADMIN)],
    ctx: Annotated[WebContext, Depends(web)],
    active: Annotated[bool, Form()] = False,
) -> Response:
    from plantwatch.store import service

    with ctx.store.session() as s:
        service.set_user_active(s, username, active, user.username)
    state = "activated" if active else "deactivated"
    return redirect("/admin/users", request, f"user {username} {state}")


@router.get("/admin/audit")
def audit_page(
    request: Request,
    user: Annotated[SessionUser, Depends(ADMIN)],
    ctx: Annotated[WebContext, Depends(web)],
    before: int | None = None,
) -> Response:
    with ctx.store.session() as s:
        entries = [row_dict(e) for e in audit_entries(s, 200, before)]
    return ctx.page(
        request,
        "audit.html",
        entries=entries,
        verify=_verify(ctx),
        section="audit",
        title="Audit log",
    )


@router.get("/api/users")
def api_users(
    user: Annotated[SessionUser, Depends(ADMIN)], ctx: Annotated[WebContext, Depends(web)]
) -> list[dict[str, Any]]:
    return _user_rows(ctx)


@router.post("/api/users")
def api_users_create(
    body: NewUser,
    user: Annotated[SessionUser, Depends(ADMIN)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return create_user(ctx, user, body)


@router.get("/api/audit")
def api_audit(
    user: Annotated[SessionUser, Depends(ADMIN)],
    ctx: Annotated[WebContext, Depends(web)],
    before: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    with ctx.store.session() as s:
        return [row_dict(e) for e in audit_entries(s, max(1, min(limit, 1000)), before)]


@router.get("/api/audit/verify")
def api_audit_verify(
    user: Annotated[SessionUser, Depends(ADMIN)], ctx: Annotated[WebContext, Depends(web)]
) -> dict[str, Any]:
    return _verify(ctx)
