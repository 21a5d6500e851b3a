"""The plantwatch web app: FastAPI + Jinja over the store, thin like datasette.

:func:`create_app` is the factory: the CLI (``plantwatch serve``), the tests (in-process and
under a real uvicorn) and the benchmark all build the app the same way. Pages and the JSON API
(``/api/...``) share the same routes modules, role checks and CSRF rule; the library does the
work (planner, coverage, compliance, documents, records, photos, gas detection).

Security in one place:

* every route depends on :func:`_load_user` (session -> user row) and :func:`_csrf_guard`
  (every POST carries the session's token); routes name the roles they allow with
  :func:`plantwatch.web.auth.require`; anonymous page requests are redirected to ``/login``,
  anonymous API requests get 401;
* library errors map to HTTP codes: InputError 400, PermissionDenied 403, NotFound 404,
  ImmutableError 409; upload errors carry their own (403/413/415);
* responses carry a strict Content-Security-Policy (no external origins at all: the app works
  offline and nothing can be pulled in; scripts only from ``/static/*.js``, never inline),
  ``X-Frame-Options: DENY`` and ``nosniff``;
* log-ins are rate-limited per account and per client address (:mod:`plantwatch.web.ratelimit`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plantwatch.errors import (
    DataError,
    ImmutableError,
    InputError,
    NotFound,
    PermissionDenied,
    PlantwatchError,
)
from plantwatch.web.auth import (
    CsrfError,
    Forbidden,
    NotLoggedIn,
    SessionUser,
    load_secret_key,
    session_user_id,
    verify_csrf,
)
from plantwatch.web.cache import TTL_S, PageCache
from plantwatch.web.context import DEFAULT_MAX_UPLOAD_BYTES, WebContext, templates_dir
from plantwatch.web.ratelimit import LoginLimiter
from plantwatch.web.uploads import UploadError, clean_incoming

if TYPE_CHECKING:
    from plantwatch.store.db import Store

__all__ = ["create_app"]

log = logging.getLogger("plantwatch.web")
SESSION_COOKIE = "plantwatch_session"
SESSION_MAX_AGE_S = 12 * 3600  # one working day; log in again the next
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Scripts only from the app's own files (/static/app.js): no inline <script>, no on*= handlers,
# no eval. Inline styles stay allowed: the report documents carry their own <style> (they are
# also saved and printed to PDF standalone) and a few pages use style= attributes.
_CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self' "
    "'unsafe-inline'; script-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def _load_user(request: Request) -> None:
    """Put the session's user (re-read from the database: deactivation is immediate) on
    ``request.state.user``; ``None`` when anonymous."""
    from plantwatch.store.models import User

    request.state.user = None
    uid = session_user_id(request)
    if uid is None:
        return
    ctx: WebContext = request.app.state.web
    with ctx.store.session() as s:
        row = s.get(User, uid)
        if row is not None and row.active:
            request.state.user = SessionUser(id=row.id, username=row.username, role=row.role)


async def _csrf_guard(request: Request) -> None:
    """Every state-changing request carries the session's CSRF token. Streamed uploads check
    it themselves while the body arrives (:mod:`plantwatch.web.uploads`)."""
    if request.method in _SAFE_METHODS:
        return
    endpoint = request.scope.get("endpoint")
    if getattr(endpoint, "streamed_upload", False):
        return
    await verify_csrf(request)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str, heading: str | None = None) -> Response:
    if _is_api(request):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    ctx: WebContext = request.app.state.web
    if not hasattr(request.state, "user"):
        request.state.user = None
    return ctx.page(
        request,
        "error.html",
        status_code=status,
        heading=heading or _HEADINGS.get(status, "Error"),
        message=message,
        title=heading or _HEADINGS.get(status, "Error"),
    )


_HEADINGS = {
    400: "Cannot do that",
    401: "Login required",
    403: "Not allowed",
    404: "Not found",
    409: "Cannot change a sealed record",
    413: "Upload too large",
    415: "Wrong file type",
    500: "Server error",
}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedIn)
    async def _not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if _is_api(request):
            return JSONResponse({"error": "login required", "status": 401}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, exc.message)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        return _error(
            request, 403, "CSRF token missing or wrong: reload the page and send the form again"
        )

    @app.exception_handler(UploadError)
    async def _upload(request: Request, exc: UploadError) -> Response:
        return _error(request, exc.status_code, exc.message)

    @app.exception_handler(PlantwatchError)
    async def _library(request: Request, exc: PlantwatchError) -> Response:
        status = 400
        if isinstance(exc, PermissionDenied):
            status = 403
        elif isinstance(exc, NotFound):
            status = 404
        elif isinstance(exc, ImmutableError):
            status = 409
        elif isinstance(exc, DataError):
            status = 500
            log.error("data error on %s: %s", request.url.path, exc)
        elif not isinstance(exc, InputError):
            status = 400
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return _error(request, status, text)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return _error(request, exc.status_code, detail)

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        message = f"{where}: {first.get('msg', 'invalid input')}" if where else "invalid input"
        return _error(request, 400, message)


class _SecurityHeaders:
    """Pure ASGI middleware (no body buffering, so uploads still stream)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                for key, value in (
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ):
                    if key not in names:
                        headers.append((key, value))
                if b"cache-control" not in names:
                    # pages hold per-user data: never cached; the stylesheet may be
                    static = scope.get("path", "").startswith("/static/")
                    headers.append((b"cache-control", b"max-age=3600" if static else b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _WriteGeneration:
    """Bump the page cache's generation around every state-changing request (pure ASGI, so
    uploads still stream): before it runs, and after it wrote but before the client can see
    the response (so the redirected GET never meets a page computed before the write)."""

    def __init__(self, app: ASGIApp, ctx: WebContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method", "GET") in _SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        cache = self.ctx.cache
        cache.bump()

        async def send_after_bump(message: Message) -> None:
            if message["type"] == "http.response.start":
                cache.bump()
            await send(message)

        try:
            await self.app(scope, receive, send_after_bump)
        finally:
            cache.bump()


def create_app(
    store: Store,
    *,
    secret_key: str | None = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    analysis_workers: int = 1,
    preload_detector: bool = False,
    https_only: bool = False,
    page_cache_ttl_s: float = TTL_S,
    login_limiter: LoginLimiter | None = None,
) -> FastAPI:
    """Build the web app over an opened store.

    Parameters
    ----------
    store
        The store (:meth:`plantwatch.store.db.Store.open`).
    secret_key
        Session signing secret; default ``$PLANTWATCH_SECRET_KEY`` or a random key kept in
        ``store.data_dir/secret_key`` (mode 0600).
    max_upload_bytes
        Largest upload request accepted [bytes]; larger ones get 413 and store nothing.
    analysis_workers
        Threads running gas-video analyses in the background (0: queue only, nothing runs;
        used by tests that check the queue itself).
    preload_detector
        Import the gas detector (PyTorch) on the worker thread at start-up, so the first
        analysis does not wait for it (``plantwatch serve`` does).
    https_only
        Mark the session cookie ``Secure`` (behind an HTTPS proxy).
    page_cache_ttl_s
        How long page data computed from the database is reused at most
        (:mod:`plantwatch.web.cache`; 0 turns the cache off).
    login_limiter
        Failed-log-in counters (:mod:`plantwatch.web.ratelimit`); default the standard limits
        on the real clock (tests pass one with a fake clock).
    """
    from plantwatch.web import (
        routes_admin,
        routes_auth,
        routes_gas,
        routes_photos,
        routes_plans,
        routes_records,
        routes_sites,
    )
    from plantwatch.web.jobs import AnalysisRunner

    if max_upload_bytes < 1:
        raise InputError(f"must be >= 1, got {max_upload_bytes}", field="max_upload_bytes")
    removed = clean_incoming(store.data_dir)
    if removed:
        log.warning("removed %d partial upload(s) left by an interrupted server", removed)
    ctx = WebContext(
        store=store,
        max_upload_bytes=max_upload_bytes,
        cache=PageCache(ttl_s=page_cache_ttl_s),
        login_limiter=login_limiter or LoginLimiter(),
    )
    ctx.runner = AnalysisRunner(store, workers=analysis_workers, on_change=ctx.cache.bump)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if ctx.runner is not None:
            if preload_detector:
                ctx.runner.warm_up()
            ctx.runner.resume()
        yield
        if ctx.runner is not None:
            ctx.runner.shutdown()

    app = FastAPI(
        title="plantwatch",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the API is documented in docs/web.md; nothing is public
        lifespan=lifespan,
        dependencies=[Depends(_load_user), Depends(_csrf_guard)],
    )
    app.state.web = ctx
    app.add_middleware(_WriteGeneration, ctx=ctx)
    app.add_middleware(_SecurityHeaders)
    app.add_middleware(
        SessionMiddleware,
        secret_key=load_secret_key(store.data_dir, secret_key),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=https_only,
    )
    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(templates_dir() / "static")), name="static")
    for module in (
        routes_auth,
        routes_sites,
        routes_plans,
        routes_records,
        routes_photos,
        routes_gas,
        routes_admin,
    ):
        app.include_router(module.router)
    return app
