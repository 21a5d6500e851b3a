"""Sites: list, import (GeoJSON), the site map, and creating a plan from a site."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from plantwatch.errors import InputError, NotFound
from plantwatch.web.auth import SessionUser, header_csrf_ok, permission, require, session_csrf
from plantwatch.web.context import WebContext, redirect, web
from plantwatch.web.queries import facility_keys, get_or_404, plan_dict, plans_of, site_dicts
from plantwatch.web.svgmap import ZONE_STYLE
from plantwatch.web.uploads import receive_upload, streamed_upload

router = APIRouter()

ANY = require()
IMPORT = permission("site.import")
CREATE = permission("plan.create")
_MAX_SITE_BYTES = 20 * 2**20


# ---- plan settings: one declaration used by the form, the API and the store


class PlanSettings(BaseModel):
    """What a planner chooses for a plan (the options of ``plantwatch drone plan``)."""

    gsd_mm: float = Field(10.0, gt=0, le=100, description="required GSD on the surface [mm/px]")
    camera_name: str | None = Field(None, description="camera preset (drone cameras)")
    overlap: float = Field(0.7, ge=0, lt=0.95, description="front and side overlap")
    wind_m_s: float = Field(5.0, ge=0, le=30, description="forecast wind [m/s]")
    min_distance_m: float = Field(5.0, gt=0, le=100, description="minimum distance [m]")
    battery_s: float = Field(1200.0, gt=0, le=7200, description="usable flight time [s]")
    explosion_proof: bool = False
    close: list[str] = Field(default_factory=lambda: ["controlled"])


class NewPlan(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    settings: PlanSettings = Field(default_factory=PlanSettings)
    ops_yaml: str | None = None


def camera_names() -> list[str]:
    from plantwatch.drone.camera import CAMERA_PRESETS

    return list(CAMERA_PRESETS)


def create_plan(ctx: WebContext, user: SessionUser, site_id: int, body: NewPlan) -> dict[str, Any]:
    """Plan the site (the store runs the planner into its plan folder, with the operation file
    when one is given), then check compliance once and cache it."""
    from plantwatch.store import service
    from plantwatch.store.models import Plan, Site
    from plantwatch.web import assess

    if body.settings.camera_name and body.settings.camera_name not in camera_names():
        raise InputError(
            f"unknown camera {body.settings.camera_name!r}; valid: {', '.join(camera_names())}",
            field="camera_name",
        )
    ops = body.ops_yaml if body.ops_yaml and body.ops_yaml.strip() else None
    if ops is not None:
        assess.load_ops_text(ops)  # a clear error before seconds of planning
    with ctx.store.session() as s:
        get_or_404(s, Site, site_id)
        plan = service.create_plan(
            s,
            ctx.store,
            site_id,
            body.name.strip(),
            body.settings.model_dump(),
            user.username,
            ops_yaml=ops,
        )
        plan_id = plan.id
    with ctx.store.session() as s:
        row = get_or_404(s, Plan, plan_id)
        out = plan_dict(row)
        plan_dir = ctx.store.path(row.plan_dir)
    if ops is not None:
        assess.assessment(ctx.data_dir, plan_id, plan_dir, ops, compute=True)
    return out


# ---- pages


@router.get("/sites")
def sites_page(
    request: Request,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    return ctx.page(request, "sites.html", sites=_site_list(ctx), section="sites", title="Sites")


def _site_list(ctx: WebContext) -> list[dict[str, Any]]:
    def compute() -> list[dict[str, Any]]:
        with ctx.store.session() as s:
            return site_dicts(s)

    result: list[dict[str, Any]] = ctx.cached(("sites",), compute)
    return result


@router.post("/sites")
@streamed_upload
async def sites_import(
    request: Request,
    user: Annotated[SessionUser, Depends(IMPORT)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    site_id = await _import_site(request, ctx, user)
    return redirect(f"/sites/{site_id}", request, "site imported")


async def _import_site(request: Request, ctx: WebContext, user: SessionUser) -> int:
    """A site GeoJSON from a file field ``geojson`` or a pasted ``geojson_text`` field."""
    from plantwatch.store import service

    upload = await receive_upload(
        request,
        data_dir=ctx.data_dir,
        max_bytes=min(ctx.max_upload_bytes, _MAX_SITE_BYTES),
        allowed={"geojson": ("json",)},
        csrf_expected=session_csrf(request),
        csrf_header_ok=header_csrf_ok(request),
    )
    try:
        if upload.files:
            raw = upload.files[0].path.read_bytes()
            default_name = upload.files[0].original_name.rsplit(".", 1)[0]
        else:
            raw = upload.get("geojson_text").encode("utf-8")
            default_name = ""
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError("must be UTF-8 text", field="geojson") from None
        if not text.strip():
            raise InputError("choose a GeoJSON file or paste one", field="geojson")
        name = upload.get("name").strip() or _geojson_name(text) or default_name or "site"

        def work() -> int:
            with ctx.store.session() as s:
                return service.import_site(s, text, name, user.username).id

        return await run_in_threadpool(work)
    finally:
        upload.cleanup()


def _geojson_name(text: str) -> str:
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return ""
    props = data.get("properties") if isinstance(data, dict) else None
    name = (props or {}).get("name") if isinstance(props, dict) else None
    return str(name or (data.get("name") if isinstance(data, dict) else "") or "")


@router.get("/sites/{site_id}")
def site_page(
    request: Request,
    site_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
    plan: int | None = None,
    highlight: str | None = None,
) -> Response:
    from plantwatch.store.models import Site

    def compute() -> tuple[str, list[dict[str, Any]], list[tuple[str, str]]]:
        with ctx.store.session() as s:
            site = get_or_404(s, Site, site_id)
            return (
                site.name,
                [plan_dict(p) for p in plans_of(s, site_id)],
                facility_keys(s, site_id),
            )

    site_name, plans, facilities = ctx.cached(("site", site_id), compute)
    model = ctx.site_model(site_id)
    shown_plan = plan if plan is not None and any(p["id"] == plan for p in plans) else None
    svg = ctx.site_svg(site_id, shown_plan, (highlight,) if highlight else ())
    coverage = ctx.plan_json(shown_plan, "coverage.json") if shown_plan else None
    cov_by_facility = {f["facility_id"]: f for f in (coverage or {}).get("facilities", [])}
    return ctx.page(
        request,
        "site.html",
        site_id=site_id,
        site_name=site_name,
        model=model,
        svg=svg,
        plans=plans,
        facilities=facilities,
        shown_plan=shown_plan,
        coverage=cov_by_facility,
        zone_style=ZONE_STYLE,
        cameras=camera_names(),
        defaults=PlanSettings(),
        close_zones=[z for z in model.zones if z.kind in ("road", "people")],
        section="sites",
        title=site_name,
    )


@router.post("/sites/{site_id}/plans")
def site_plan_create(
    request: Request,
    site_id: int,
    user: Annotated[SessionUser, Depends(CREATE)],
    ctx: Annotated[WebContext, Depends(web)],
    name: Annotated[str, Form()],
    gsd_mm: Annotated[float, Form()] = 10.0,
    camera_name: Annotated[str, Form()] = "",
    overlap: Annotated[float, Form()] = 0.7,
    wind_m_s: Annotated[float, Form()] = 5.0,
    min_distance_m: Annotated[float, Form()] = 5.0,
    battery_min: Annotated[float, Form()] = 20.0,
    explosion_proof: Annotated[bool, Form()] = False,
    close: Annotated[list[str] | None, Form()] = None,
    ops_yaml: Annotated[str, Form()] = "",
) -> Response:
    try:
        settings = PlanSettings(
            gsd_mm=gsd_mm,
            camera_name=camera_name or None,
            overlap=overlap,
            wind_m_s=wind_m_s,
            min_distance_m=min_distance_m,
            battery_s=battery_min * 60.0,
            explosion_proof=explosion_proof,
            close=[c for c in (close or ["controlled"]) if c != "none"],
        )
    except ValueError as exc:
        raise InputError(_pydantic_message(exc), field="settings") from None
    plan = create_plan(ctx, user, site_id, NewPlan(name=name, settings=settings, ops_yaml=ops_yaml))
    return redirect(
        f"/plans/{plan['id']}", request, f"plan {plan['name']} v{plan['version']} created"
    )


def _pydantic_message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


# ---- API


@router.get("/api/sites")
def api_sites(
    user: Annotated[SessionUser, Depends(ANY)], ctx: Annotated[WebContext, Depends(web)]
) -> list[dict[str, Any]]:
    return _site_list(ctx)


@router.post("/api/sites")
@streamed_upload
async def api_sites_import(
    request: Request,
    user: Annotated[SessionUser, Depends(IMPORT)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    site_id = await _import_site(request, ctx, user)
    return {"id": site_id}


@router.get("/api/sites/{site_id}")
def api_site(
    site_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    from plantwatch.store.models import Site

    with ctx.store.session() as s:
        site = get_or_404(s, Site, site_id)
        out = {"id": site.id, "name": site.name, "plans": [p.id for p in plans_of(s, site_id)]}
    model = ctx.site_model(site_id)
    out["facilities"] = [
        {"id": f.id, "name": f.name, "type": f.type, "height_m": f.height_m}
        for f in model.facilities
    ]
    out["zones"] = [{"id": z.id, "kind": z.kind} for z in model.zones]
    return out


@router.get("/api/sites/{site_id}/map.svg")
def api_site_svg(
    site_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
    plan: int | None = None,
) -> Response:
    from plantwatch.store.models import Plan, Site

    with ctx.store.session() as s:
        get_or_404(s, Site, site_id)
        if plan is not None and get_or_404(s, Plan, plan).site_id != site_id:
            raise NotFound(f"plan {plan} is not a plan of site {site_id}")
    return Response(ctx.site_svg(site_id, plan), media_type="image/svg+xml")


@router.post("/api/sites/{site_id}/plans")
def api_plan_create(
    site_id: int,
    body: NewPlan,
    user: Annotated[SessionUser, Depends(CREATE)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return create_plan(ctx, user, site_id, body)
