"""``plantwatch serve``: the web app under uvicorn; :func:`demo_serve` for ``demo --serve``.

``plantwatch.cli`` wires these in with :func:`register`. The store is opened (and migrated)
before the server starts, so a bad database URL is one line and exit status 2, not a traceback
in a worker.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "demo_serve", "register", "serve"]

DEFAULT_HOST = "127.0.0.1"  # loopback: exposing the app is a deliberate choice (--host 0.0.0.0)
DEFAULT_PORT = 8000
F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """:func:`plantwatch.cli.handle_errors`, looked up when the command runs (so that
    ``plantwatch.cli`` may import this module while it is itself being imported)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from plantwatch.cli import handle_errors as cli_handle_errors

        return cli_handle_errors(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _check_port(port: int) -> None:
    from plantwatch.errors import InputError

    if not 1 <= port <= 65535:
        raise InputError(f"must be 1-65535, got {port}", field="--port")


def serve(
    data_dir: Path | None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    max_upload_mib: float | None = None,
    log_level: str = "info",
    on_ready: Callable[[Any], None] | None = None,
    preload_detector: bool = True,
    analysis_workers: int = 1,
    page_cache_ttl_s: float | None = None,
) -> None:
    """Open the store in ``data_dir`` (or ``$PLANTWATCH_DATABASE_URL``) and serve the app."""
    import uvicorn

    from plantwatch.errors import InputError
    from plantwatch.store.db import Store
    from plantwatch.web.app import create_app
    from plantwatch.web.cache import TTL_S
    from plantwatch.web.context import DEFAULT_MAX_UPLOAD_BYTES

    _check_port(port)
    limit = DEFAULT_MAX_UPLOAD_BYTES
    if max_upload_mib is not None:
        if not max_upload_mib > 0:
            raise InputError(f"must be > 0, got {max_upload_mib}", field="--max-upload-mib")
        limit = int(max_upload_mib * 2**20)
    store = Store.open(data_dir)
    if on_ready is not None:
        on_ready(store)
    app = create_app(
        store,
        max_upload_bytes=limit,
        preload_detector=preload_detector,
        analysis_workers=analysis_workers,
        page_cache_ttl_s=TTL_S if page_cache_ttl_s is None else page_cache_ttl_s,
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=log_level in ("debug", "info"),
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )


def demo_serve(
    data_dir: Path | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    password: str | None = None,
    echo: Callable[[str], None] = typer.echo,
) -> None:
    """Seed the demo (:func:`plantwatch.web.demo_seed.seed_demo`) into ``data_dir`` (default
    ``./plantwatch-demo``), print the logins once, and serve it."""
    from plantwatch.web.demo_seed import DEMO_PASSWORD, DEMO_USERS, seed_demo

    folder = data_dir if data_dir is not None else Path("plantwatch-demo")
    secret = password or DEMO_PASSWORD

    def seed(store: Any) -> None:
        echo(f"seeding the demo into {folder} (first time: about a minute) ...")
        info = seed_demo(store, password=secret, progress=lambda line: echo(f"  {line}"))
        echo(f"open http://{host}:{port}/ and log in as one of:")
        for user in DEMO_USERS:
            echo(f"  {user:<10} password {info.password}")
        echo("(a demo store: do not reuse these passwords)")

    serve(folder, host, port, on_ready=seed)


def register(app: typer.Typer) -> None:
    """Add ``plantwatch serve`` to the top-level typer app."""
    app.command("serve")(serve_command)


@handle_errors
def serve_command(
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on (0.0.0.0: every interface).")
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = DEFAULT_PORT,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Store folder (database, files); default $PLANTWATCH_DATA_DIR or "
            "./plantwatch-data. PLANTWATCH_DATABASE_URL puts the tables in PostgreSQL.",
        ),
    ] = None,
    max_upload_mib: Annotated[
        float | None, typer.Option("--max-upload-mib", help="Largest upload [MiB] (default 512).")
    ] = None,
) -> None:
    """Serve the web app (pages and the JSON API under /api/). Create users first with
    `plantwatch admin create-user`, or try `plantwatch demo --serve`."""
    serve(data_dir, host, port, max_upload_mib=max_upload_mib)
