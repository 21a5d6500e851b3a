"""What every route needs: the store, templates, caches of parsed sites and plan folders, and
the helpers that render a page or answer JSON. One :class:`WebContext` per app."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from plantwatch.web.auth import SessionUser, csrf_token
from plantwatch.web.cache import PageCache
from plantwatch.web.ratelimit import LoginLimiter

if TYPE_CHECKING:
    from plantwatch.drone.model import Site as SiteModel
    from plantwatch.store.db import Store
    from plantwatch.web.jobs import AnalysisRunner
    from plantwatch.web.svgmap import MapOverlay

__all__ = ["WebContext", "flash", "templates_dir", "web"]

DEFAULT_MAX_UPLOAD_BYTES = 512 * 2**20  # a few minutes of gas-camera video or ~50 drone photos
_FLASH_KEY = "flash"


def templates_dir() -> Path:
    return Path(str(resources.files("plantwatch") / "templates" / "web"))


def _fmt_time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _fmt_num(value: Any, digits: int = 1) -> str:
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)


@dataclass
class WebContext:
    """The app's shared state (``app.state.web``)."""

    store: Store
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    runner: AnalysisRunner | None = None
    cache: PageCache = field(default_factory=PageCache)
    login_limiter: LoginLimiter = field(default_factory=LoginLimiter)
    templates: Jinja2Templates = field(
        default_factory=lambda: Jinja2Templates(directory=str(templates_dir()))
    )

    def __post_init__(self) -> None:
        env = self.templates.env
        env.auto_reload = False  # templates ship with the package: no stat() per render
        env.filters["time"] = _fmt_time
        env.filters["num"] = _fmt_num
        env.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=1)
        env.globals["ROLES"] = ("planner", "approver", "pilot", "inspector", "admin")
        # parsed sites and plan folders never change once stored: cache them by id
        self.site_model = functools.lru_cache(maxsize=32)(self._site_model)
        self.plan_json = functools.lru_cache(maxsize=64)(self._plan_json)
        self.site_svg = functools.lru_cache(maxsize=256)(self._site_svg)

    @property
    def data_dir(self) -> Path:
        return self.store.data_dir

    # ---- cached library objects

    def _site_model(self, site_id: int) -> SiteModel:
        from plantwatch.drone.site import site_from_geojson
        from plantwatch.store.models import Site
        from plantwatch.web.queries import get_or_404

        with self.store.session() as s:
            row = get_or_404(s, Site, site_id)
            data = json.loads(row.geojson)
            name = row.name
        return site_from_geojson(data, name=name)

    def _plan_json(self, plan_id: int, name: str) -> dict[str, Any] | None:
        """``plan.json`` / ``coverage.json`` of a stored plan's folder (None when missing)."""
        from plantwatch.store.models import Plan
        from plantwatch.web.queries import get_or_404

        with self.store.session() as s:
            plan_dir = get_or_404(s, Plan, plan_id).plan_dir
        if not plan_dir:
            return None
        path = self.store.path(plan_dir) / name
        if not path.is_file():
            return None
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    def _site_svg(self, site_id: int, plan_id: int | None, highlight: tuple[str, ...] = ()) -> str:
        from plantwatch.web.svgmap import MapOverlay, overlay_from_plan, render_site_svg

        site = self.site_model(site_id)
        overlay: MapOverlay = MapOverlay()
        if plan_id is not None:
            overlay = overlay_from_plan(
                self.plan_json(plan_id, "plan.json"), self.plan_json(plan_id, "coverage.json")
            )
        if highlight:
            overlay = _with(overlay, highlight=frozenset(highlight))
        return render_site_svg(site, overlay)

    def map_svg(self, site_id: int, overlay: MapOverlay) -> str:
        """An uncached map with an arbitrary overlay (photo and gas markers)."""
        from plantwatch.web.svgmap import render_site_svg

        return render_site_svg(self.site_model(site_id), overlay)

    def cached(self, key: Any, compute: Any) -> Any:
        """Page data from :class:`~plantwatch.web.cache.PageCache` (valid until a write)."""
        return self.cache.get(key, compute)

    # ---- responses

    def page(
        self,
        request: Request,
        name: str,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        user: SessionUser | None = getattr(request.state, "user", None)
        flashes = request.session.pop(_FLASH_KEY, []) if "session" in request.scope else []
        base = {
            "user": user,
            "csrf": csrf_token(request),
            "flashes": flashes,
        }
        return self.templates.TemplateResponse(
            request, name, base | context, status_code=status_code
        )


def _with(overlay: MapOverlay, **changes: Any) -> MapOverlay:
    import dataclasses

    return dataclasses.replace(overlay, **changes)


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A one-time message shown on the next page (``ok`` or ``error``)."""
    items = list(request.session.get(_FLASH_KEY, []))
    items.append((kind, message))
    request.session[_FLASH_KEY] = items[-5:]


def redirect(url: str, request: Request | None = None, message: str | None = None) -> Any:
    if request is not None and message:
        flash(request, message)
    return RedirectResponse(url, status_code=303)


def web(request: Request) -> WebContext:
    """The app's :class:`WebContext` (a FastAPI dependency)."""
    ctx: WebContext = request.app.state.web
    return ctx
