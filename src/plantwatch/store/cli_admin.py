"""``plantwatch admin init|verify|create-user``: set up and check the shared store.

Thin: parse, call :mod:`plantwatch.store`, format. Library errors become one line and exit
status 2 (:func:`plantwatch.cli.handle_errors`); ``verify`` exits 1 when the store is corrupt
(broken audit chain, a sealed row changed or deleted, a file missing). ``cli.py`` wires these in
with :func:`register`.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from plantwatch.store.db import Store

__all__ = ["register"]

admin_app = typer.Typer(
    help="The shared store (database + files): initialise, verify, add users.",
    no_args_is_help=True,
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="PLANTWATCH_DATA_DIR",
        help="Data directory (default ./plantwatch-data): SQLite database and stored files.",
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PLANTWATCH_DATABASE_URL",
        help="Database URL instead of SQLite in the data directory "
        "(postgresql+psycopg://user@host/db).",
        show_envvar=True,
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``admin`` command group to the top-level ``plantwatch`` app."""
    app.add_typer(admin_app, name="admin")


F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """:func:`plantwatch.cli.handle_errors`, looked up when the command runs (so that
    ``plantwatch.cli`` may import this module at any point of its own import)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from plantwatch.cli import handle_errors as cli_handle_errors

        return cli_handle_errors(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _open(data_dir: Path | None, database_url: str | None, migrate: bool) -> Store:
    from plantwatch.store.db import Store

    return Store.open(data_dir, url=database_url or None, migrate=migrate)


@admin_app.command("init")
@handle_errors
def init(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Create the store (or upgrade it to this version's schema); safe to run again."""
    from plantwatch.store.db import _safe, current_revision
    from plantwatch.store.service import count_rows

    store = _open(data_dir, database_url, migrate=True)
    try:
        with store.session() as s:
            rows = count_rows(s)
        typer.echo(
            f"store ready: {_safe(store.url)} at migration {current_revision(store.engine)}; "
            f"files in {store.files_dir}"
        )
        typer.echo("  " + ", ".join(f"{name} {count}" for name, count in rows.items()))
        if rows["users"] == 0:
            typer.echo("  no users yet: plantwatch admin create-user NAME --role admin")
    finally:
        store.close()


@admin_app.command("verify")
@handle_errors
def verify(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    fix_orphans: Annotated[
        bool,
        typer.Option("--fix-orphans", help="Delete files no row refers to (older than --grace-s)."),
    ] = False,
    grace_s: Annotated[
        float,
        typer.Option(
            "--grace-s", min=0.0, help="Leave orphans younger than this (uploads in progress) [s]."
        ),
    ] = 300.0,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also recompute every stored file's SHA-256.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the audit hash chain, sealed rows, stored files and plan folders; exit 1 if broken."""
    from plantwatch.store.service import remove_orphans, verify_store

    store = _open(data_dir, database_url, migrate=False)
    try:
        with store.session() as s:
            report = verify_store(s, store, deep=deep)
        removed = remove_orphans(store, report.orphans, grace_s=grace_s) if fix_orphans else []
    finally:
        store.close()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "audit": {
                        "ok": report.audit.ok,
                        "count": report.audit.count,
                        "first_bad_id": report.audit.first_bad_id,
                        "message": report.audit.message,
                        "head_hash": report.audit.head_hash,
                    },
                    "problems": report.problems,
                    "orphans": [str(o.path) for o in report.orphans],
                    "removed": [str(p) for p in removed],
                },
                indent=1,
            )
        )
    else:
        for line in report.lines():
            typer.echo(line)
        for path in removed:
            typer.echo(f"removed orphan: {path}")
        typer.echo(f"head hash: {report.audit.head_hash}")
        typer.echo("store ok" if report.ok else "STORE BROKEN")
    if not report.ok:
        raise typer.Exit(code=1)


@admin_app.command("create-user")
@handle_errors
def create_user(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, _ . @ -).")],
    role: Annotated[
        str, typer.Option("--role", help="planner, approver, pilot, inspector or admin.")
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user; the password comes from a prompt (typed twice) or --password-stdin."""
    from plantwatch.store import service

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = _open(data_dir, database_url, migrate=True)
    try:
        with store.session() as s:
            user = service.create_user(s, username, password, role, by=None)
            user_id, name = user.id, user.username
    finally:
        store.close()
    typer.echo(f"created user {name} (id {user_id}, role {role})")
