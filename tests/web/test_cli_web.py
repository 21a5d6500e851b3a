"""``plantwatch serve`` (registered by ``plantwatch.web.cli_web.register``): help and bad input
exit with status 2 and one line, before any server starts."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner


def _app() -> typer.Typer:
    from plantwatch.web.cli_web import register

    app = typer.Typer()
    register(app)

    @app.command("noop", hidden=True)
    def noop() -> None:  # a second command keeps "serve" a sub-command
        pass

    return app


def test_serve_help_and_bad_port(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(_app(), ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert "--data-dir" in result.output and "--port" in result.output
    bad = runner.invoke(_app(), ["serve", "--port", "70000", "--data-dir", str(tmp_path)])
    assert bad.exit_code == 2
    assert "error: --port: must be 1-65535, got 70000" in bad.output
    assert not (tmp_path / "plantwatch.db").exists()  # nothing opened, nothing written


def test_serve_bad_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANTWATCH_DATABASE_URL", "mysql://nowhere/db")
    result = CliRunner().invoke(_app(), ["serve", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "sqlite" in result.output
