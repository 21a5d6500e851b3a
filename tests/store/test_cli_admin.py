"""``plantwatch admin init|verify|create-user`` through typer's runner on a local app."""

from __future__ import annotations

import json

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from plantwatch.store.cli_admin import register
from plantwatch.store.db import Store

from .conftest import PASSWORD, drop_trigger_sql

runner = CliRunner()
app = typer.Typer()
register(app)


@pytest.fixture
def cli(tmp_path, database_url, fast_hash):
    data_dir = tmp_path / "data"

    def invoke(*args: str, stdin: str | None = None):
        extra = ["--data-dir", str(data_dir)]
        if database_url:
            extra += ["--database-url", database_url]
        return runner.invoke(app, ["admin", *args, *extra], input=stdin)

    invoke.data_dir = data_dir  # type: ignore[attr-defined]
    invoke.url = database_url  # type: ignore[attr-defined]
    return invoke


def test_init_create_user_verify(cli):
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert "store ready" in result.output and "no users yet" in result.output
    result = cli(
        "create-user", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "created user boss" in result.output
    result = cli("verify")
    assert result.exit_code == 0, result.output
    assert "audit chain ok: 1 entries" in result.output and "store ok" in result.output
    report = json.loads(cli("verify", "--json").output)
    assert (
        report["ok"] and report["audit"]["count"] == 1 and len(report["audit"]["head_hash"]) == 64
    )


def test_create_user_errors_are_one_line_exit_2(cli):
    assert cli("init").exit_code == 0
    result = cli("create-user", "x", "--role", "captain", "--password-stdin", stdin=PASSWORD)
    assert result.exit_code == 2 and result.output.strip().startswith("error: role:")
    result = cli("create-user", "x", "--role", "pilot", "--password-stdin", stdin="short\n")
    assert result.exit_code == 2 and "password" in result.output
    assert "Traceback" not in result.output
    # the prompt path: typed twice
    result = cli("create-user", "y", "--role", "pilot", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output


def test_verify_names_the_tampered_entry_and_exits_1(cli):
    assert cli("init").exit_code == 0
    for name in ("a", "b", "c"):
        args = ("create-user", name, "--role", "pilot", "--password-stdin")
        assert cli(*args, stdin=PASSWORD).exit_code == 0
    store = Store.open(cli.data_dir, url=cli.url, migrate=False)
    with store.engine.begin() as conn:
        for sql in drop_trigger_sql(store, "audit_log"):
            conn.execute(text(sql))
        conn.execute(text("UPDATE audit_log SET payload_json = '{}' WHERE id = 2"))
    store.close()
    result = cli("verify")
    assert result.exit_code == 1, result.output
    assert "audit entry 2" in result.output and "STORE BROKEN" in result.output


def test_verify_fixes_orphans(cli):
    assert cli("init").exit_code == 0
    stray = cli.data_dir / "files" / "photos" / "ab" / "stray.jpg"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"\xff\xd8\xff")
    result = cli("verify")
    assert result.exit_code == 0 and f"orphan: {stray}" in result.output
    result = cli("verify", "--fix-orphans", "--grace-s", "0")
    assert result.exit_code == 0 and f"removed orphan: {stray}" in result.output
    assert not stray.exists()


def test_verify_on_an_uninitialised_store_says_how_to_fix(cli):
    result = cli("verify")
    assert result.exit_code == 2 and "plantwatch admin init" in result.output
