"""The store's database: URL resolution, migrations on both backends, SQLite settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from plantwatch.errors import DataError, InputError
from plantwatch.store.db import Store, head_revision, migrate, resolve_url
from plantwatch.store.models import Base

TABLES = {
    "users",
    "sites",
    "facilities",
    "zones",
    "plans",
    "approvals",
    "checklist_runs",
    "pilots",
    "aircraft",
    "maintenance_records",
    "flights",
    "incidents",
    "photos",
    "findings",
    "gas_videos",
    "gas_analyses",
    "audit_log",
}


def test_resolve_url_env_wins_then_data_dir(monkeypatch, tmp_path):
    assert resolve_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'plantwatch.db'}"
    monkeypatch.setenv("PLANTWATCH_DATA_DIR", str(tmp_path / "env"))
    assert resolve_url() == f"sqlite:///{(tmp_path / 'env').resolve() / 'plantwatch.db'}"
    monkeypatch.setenv("PLANTWATCH_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert resolve_url(tmp_path) == "postgresql+psycopg://u@h/db"


def test_migrations_create_every_table_and_match_the_models(store):
    names = set(inspect(store.engine).get_table_names())
    assert names >= TABLES | {"alembic_version"}
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == head_revision()
        diffs = compare_metadata(context, Base.metadata)
    assert diffs == []  # the migration builds exactly the tables the models declare


def test_append_only_triggers_exist(store):
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            rows = conn.execute(text(sql))
        names = {r[0] for r in rows}
    for table in ("flights", "maintenance_records", "incidents", "approvals", "audit_log",
                  "plans", "checklist_runs"):  # fmt: skip
        assert any(name.startswith(f"{table}_append_only") for name in names), table


def test_migrate_is_idempotent_and_open_without_migrate_checks(store, tmp_path):
    migrate(store.engine)  # again: nothing to do
    assert Store.open(store.data_dir, url=store.url, migrate=False).url == store.url
    with pytest.raises(DataError, match="admin init"):
        Store.open(tmp_path / "empty", migrate=False)


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    store = Store.open(tmp_path / "d")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    assert (tmp_path / "d" / "plantwatch.db").is_file()
    store.close()


@pytest.mark.parametrize(
    "url", ["nonsense", "mysql://u@h/db", "postgresql+psycopg2://u@h/db", "sqlite:///:memory:"]
)
def test_bad_database_urls_are_input_errors(url, tmp_path):
    with pytest.raises(InputError) as err:
        Store.open(tmp_path, url=url)
    assert err.value.field == "PLANTWATCH_DATABASE_URL"


def test_paths_stay_inside_the_data_dir(tmp_path):
    store = Store.open(tmp_path / "d")
    assert store.path("files/x.jpg") == store.data_dir / "files" / "x.jpg"
    for bad in ("/etc/passwd", "../outside", "files/../../x"):
        with pytest.raises(DataError):
            store.path(bad)
    with pytest.raises(InputError):
        store.relative(Path("/tmp"))
    store.close()
