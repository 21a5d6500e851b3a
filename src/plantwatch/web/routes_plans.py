"""Plans: the plan view (route, coverage, blind spots, compliance, risks, documents) and the
approval workflow draft -> submitted -> approved | rejected (``store.service`` enforces roles,
states and immutability; the routes only say who may press which button)."""

from __future__ import annotations

import mimetypes
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from plantwatch.errors import InputError, NotFound
from plantwatch.web import assess
from plantwatch.web.auth import SessionUser, header_csrf_ok, permission, require, session_csrf
from plantwatch.web.context import WebContext, redirect, web
from plantwatch.web.queries import approvals_of, get_or_404, plan_dict, plans_of
from plantwatch.web.svgmap import ZONE_STYLE
from plantwatch.web.uploads import receive_upload, streamed_upload

router = APIRouter()

ANY = require()
PLANNER = permission("plan.create")
_ACTIONS = {a: permission(f"plan.{a}") for a in ("submit", "approve", "reject", "revise")}
_MAX_OPS_BYTES = 256 * 1024
# files of a plan folder that may be downloaded, with their media types
_DOWNLOADS = {
    ".plan": "application/json",
    ".waypoints": "text/plain",
    ".kml": "application/vnd.google-earth.kml+xml",
    ".kmz": "application/vnd.google-earth.kmz",
    ".geojson": "application/geo+json",
    ".json": "application/json",
    ".png": "image/png",
}


def _plan_and_dir(ctx: WebContext, plan_id: int) -> tuple[Any, Any]:
    from plantwatch.store.models import Plan

    with ctx.store.session() as s:
        plan = get_or_404(s, Plan, plan_id)
        s.expunge(plan)
    if not plan.plan_dir:
        raise NotFound(f"plan {plan_id} has no plan folder")
    return plan, ctx.store.path(plan.plan_dir)


def set_ops(ctx: WebContext, user: SessionUser, plan_id: int, ops_text: str) -> dict[str, Any]:
    """Attach an operation file to a draft plan (validated first), then check compliance and
    build the risk register once (cached by text hash)."""
    from plantwatch.store.service import set_plan_ops

    if len(ops_text.encode("utf-8")) > _MAX_OPS_BYTES:
        raise InputError(f"is larger than {_MAX_OPS_BYTES // 1024} KiB", field="ops")
    plan, _ = _plan_and_dir(ctx, plan_id)
    if plan.status != "draft":  # checked again under the write lock by set_plan_ops
        raise InputError(
            f"plan {plan_id} is {plan.status}; its operation file is fixed, revise the plan "
            "for a new version",
            field="ops",
        )
    assess.load_ops_text(ops_text)  # a clear error before anything is stored
    with ctx.store.session() as s:
        set_plan_ops(s, ctx.store, plan_id, ops_text, user.username)
    _, plan_dir = _plan_and_dir(ctx, plan_id)
    data = assess.assessment(ctx.data_dir, plan_id, plan_dir, ops_text, compute=True)
    assert data is not None
    return data


def plan_action(
    ctx: WebContext, user: SessionUser, plan_id: int, action: str, comment: str
) -> dict[str, Any]:
    """submit / approve / reject / revise through the store (role and state checked there);
    returns the plan acted on (for revise: the new version)."""
    from plantwatch.store import service
    from plantwatch.store.models import Plan, User

    if action not in _ACTIONS:
        raise NotFound(f"no plan action {action!r}")
    if action == "reject" and not comment.strip():
        raise InputError("say why the plan is rejected", field="comment")
    with ctx.store.session() as s:
        acting = get_or_404(s, User, user.id)
        if action == "submit":
            result = service.submit_plan(s, plan_id, acting, comment)
        elif action == "approve":
            result = service.approve_plan(s, plan_id, acting, comment)
        elif action == "reject":
            result = service.reject_plan(s, plan_id, acting, comment)
        else:
            result = service.revise_plan(s, plan_id, acting, comment)
        new_id = result.id if isinstance(result, Plan) else plan_id
    with ctx.store.session() as s:
        return plan_dict(get_or_404(s, Plan, new_id))


def plan_detail(ctx: WebContext, plan_id: int) -> dict[str, Any]:
    """Everything the plan page and ``GET /api/plans/{id}`` show (cached until a write; do not
    change the returned dict)."""
    result: dict[str, Any] = ctx.cached(("plan", plan_id), lambda: _plan_detail(ctx, plan_id))
    return result


def _plan_detail(ctx: WebContext, plan_id: int) -> dict[str, Any]:
    from plantwatch.store.models import Plan, Site

    with ctx.store.session() as s:
        plan = get_or_404(s, Plan, plan_id)
        site = get_or_404(s, Site, plan.site_id)
        out = plan_dict(plan)
        out["site_name"] = site.name
        out["approvals"] = approvals_of(s, plan_id)
        out["ops_yaml"] = plan.ops_yaml
        versions = [
            {"id": p.id, "version": p.version, "status": p.status}
            for p in plans_of(s, plan.site_id)
            if p.name == plan.name
        ]
        out["versions"] = versions
        plan_dir = ctx.store.path(plan.plan_dir) if plan.plan_dir else None
    plan_json = ctx.plan_json(plan_id, "plan.json") or {}
    coverage = ctx.plan_json(plan_id, "coverage.json") or {}
    out["coverage"] = {
        "totals": coverage.get("totals", {}),
        "facilities": [
            {
                k: f.get(k)
                for k in (
                    "facility_id",
                    "name",
                    "facility_type",
                    "coverage_pct",
                    "area_m2",
                    "seen_area_m2",
                )
            }
            | {"blind_spots": len(f.get("blind_spots") or [])}
            for f in coverage.get("facilities", [])
        ],
        "conventional_inspection": coverage.get("conventional_inspection", []),
    }
    out["route"] = {
        k: plan_json.get(k)
        for k in ("camera", "gsd_mm", "standoff_m", "photos", "flight_time_s", "sorties", "skipped")
    }
    out["files"] = (
        sorted(p.name for p in plan_dir.iterdir() if p.is_file() and p.suffix in _DOWNLOADS)
        if plan_dir is not None and plan_dir.is_dir()
        else []
    )
    out["assessment"] = (
        assess.assessment(ctx.data_dir, plan_id, plan_dir, plan.ops_yaml, compute=False)
        if plan.ops_yaml and plan_dir is not None
        else None
    )
    return out


# ---- pages


@router.get("/plans")
def plans_page(
    request: Request,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    from plantwatch.store.models import Site

    def compute() -> tuple[list[dict[str, Any]], dict[int, str]]:
        with ctx.store.session() as s:
            plans = [plan_dict(p) for p in plans_of(s)]
            return plans, {site.id: site.name for site in s.query(Site).all()}

    plans, names = ctx.cached(("plans",), compute)
    return ctx.page(
        request, "plans.html", plans=plans, site_names=names, section="plans", title="Plans"
    )


@router.get("/plans/{plan_id}")
def plan_page(
    request: Request,
    plan_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    detail = plan_detail(ctx, plan_id)
    svg = ctx.site_svg(detail["site_id"], plan_id)
    return ctx.page(
        request,
        "plan.html",
        plan=detail,
        svg=svg,
        zone_style=ZONE_STYLE,
        section="plans",
        title=f"{detail['name']} v{detail['version']}",
    )


@router.post("/plans/{plan_id}/ops")
@streamed_upload
async def plan_ops(
    request: Request,
    plan_id: int,
    user: Annotated[SessionUser, Depends(PLANNER)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    upload = await receive_upload(
        request,
        data_dir=ctx.data_dir,
        max_bytes=_MAX_OPS_BYTES + 64 * 1024,
        allowed={"ops_file": ("text",)},
        csrf_expected=session_csrf(request),
        csrf_header_ok=header_csrf_ok(request),
    )
    try:
        if upload.files:
            text = upload.files[0].path.read_text(encoding="utf-8", errors="replace")
        else:
            text = upload.get("ops_yaml")
    finally:
        upload.cleanup()
    data = await run_in_threadpool(set_ops, ctx, user, plan_id, text)
    verdict = "may proceed" if data["may_proceed"] else "may NOT proceed as planned"
    return redirect(f"/plans/{plan_id}#compliance", request, f"operation checked: {verdict}")


@router.post("/plans/{plan_id}/{action}")
def plan_action_page(
    request: Request,
    plan_id: int,
    action: str,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
    comment: Annotated[str, Form()] = "",
) -> Response:
    if action not in _ACTIONS:
        raise NotFound(f"no plan action {action!r}")
    _ACTIONS[action](request)  # role check (403 with a message)
    plan = plan_action(ctx, user, plan_id, action, comment)
    words = {
        "submit": "submitted",
        "approve": "approved",
        "reject": "rejected",
        "revise": "revised",
    }
    return redirect(
        f"/plans/{plan['id']}", request, f"plan {plan['name']} v{plan['version']} {words[action]}"
    )


@router.get("/plans/{plan_id}/document")
def plan_document(
    request: Request,
    plan_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
    lang: str = "ja",
    fmt: str = "html",
) -> Response:
    plan, plan_dir = _plan_and_dir(ctx, plan_id)
    if not plan.ops_yaml:
        raise InputError("attach an operation file (ops.yaml) to the plan first", field="ops")
    path = assess.document_file(ctx.data_dir, plan_id, plan_dir, plan.ops_yaml, lang, fmt)
    name = f"flight_plan_{plan.id}_v{plan.version}_{lang}.{fmt}"
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    return FileResponse(
        path, media_type=media, filename=name, content_disposition_type="attachment"
    )


@router.get("/plans/{plan_id}/files/{name}")
def plan_file(
    plan_id: int,
    name: str,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    _, plan_dir = _plan_and_dir(ctx, plan_id)
    # only plain names listed in the folder: no path can be smuggled in
    listed = {p.name: p for p in plan_dir.iterdir() if p.is_file()} if plan_dir.is_dir() else {}
    path = listed.get(name)
    if path is None or path.suffix not in _DOWNLOADS:
        raise NotFound(f"plan {plan_id} has no file {name!r}")
    media = (
        _DOWNLOADS.get(path.suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    )
    inline = path.suffix == ".png"
    return FileResponse(
        path,
        media_type=media,
        filename=name,
        content_disposition_type="inline" if inline else "attachment",
    )


# ---- API


class ActionBody(BaseModel):
    comment: str = Field("", max_length=4000)


class OpsBody(BaseModel):
    ops_yaml: str


@router.get("/api/plans")
def api_plans(
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
    site_id: int | None = None,
) -> list[dict[str, Any]]:
    with ctx.store.session() as s:
        return [plan_dict(p) for p in plans_of(s, site_id)]


@router.get("/api/plans/{plan_id}")
def api_plan(
    plan_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return {k: v for k, v in plan_detail(ctx, plan_id).items() if k != "assessment"}


@router.get("/api/plans/{plan_id}/compliance")
def api_plan_compliance(
    plan_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    plan, plan_dir = _plan_and_dir(ctx, plan_id)
    if not plan.ops_yaml:
        raise InputError("the plan has no operation file yet", field="ops")
    data = assess.assessment(ctx.data_dir, plan_id, plan_dir, plan.ops_yaml, compute=True)
    assert data is not None
    return data


@router.post("/api/plans/{plan_id}/ops")
def api_plan_ops(
    plan_id: int,
    body: OpsBody,
    user: Annotated[SessionUser, Depends(PLANNER)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    data = set_ops(ctx, user, plan_id, body.ops_yaml)
    return {k: data[k] for k in ("may_proceed", "exit_status", "counts", "today")}


@router.post("/api/plans/{plan_id}/{action}")
def api_plan_action(
    request: Request,
    plan_id: int,
    action: str,
    body: ActionBody,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    if action not in _ACTIONS:
        raise NotFound(f"no plan action {action!r}")
    _ACTIONS[action](request)
    return plan_action(ctx, user, plan_id, action, body.comment)
