"""Fixtures of the store tests: a fresh store per test on every backend.

SQLite always; PostgreSQL when ``PLANTWATCH_TEST_PG_URL`` names a server (``.ci/start-postgres.sh``
starts one and prints the URL). Each PostgreSQL test gets its own schema (named after the xdist
worker and a random suffix, dropped afterwards), so tests are independent and run in parallel.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from plantwatch.drone.synth import synthesize_site
from plantwatch.store import service, users
from plantwatch.store.db import Store
from plantwatch.store.models import ROLES, Plan, User

PG_ENV = "PLANTWATCH_TEST_PG_URL"
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct horse battery"


def _pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(
            f"PostgreSQL backend: set {PG_ENV} (e.g. export {PG_ENV}=$(.ci/start-postgres.sh))"
        )
    return url


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No store settings leak in from the environment."""
    monkeypatch.delenv("PLANTWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLANTWATCH_DATA_DIR", raising=False)


@pytest.fixture
def fast_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with test-sized costs (the default costs ~0.4 s a hash on a busy CI core)."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users, "_hasher", lambda: hasher)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``None`` for SQLite in the data dir, or a PostgreSQL URL whose search_path is a fresh
    schema."""
    if request.param == "sqlite":
        yield None
        return
    base = _pg_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    schema = f"t_{worker}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", BACKENDS, indirect=True)


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[Store]:
    opened = Store.open(tmp_path / "data", url=database_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def people(store: Store, fast_hash: None) -> dict[str, User]:
    """One active user per role (``planner``, ``approver``, …, plus ``approver2``)."""
    made = {}
    with store.session() as s:
        for role in ROLES:
            made[role] = service.create_user(s, role, PASSWORD, role)
        made["approver2"] = service.create_user(s, "approver2", PASSWORD, "approver")
    return made


def small_site_text(n_tanks: int = 1, seed: int = 1) -> str:
    """A one-tank synthetic tank farm: plans in well under a second."""
    return json.dumps(synthesize_site(n_tanks, seed))


@pytest.fixture
def site_id(store: Store, people: dict[str, User]) -> int:
    with store.session() as s:
        return service.import_site(s, small_site_text(), "small farm", people["planner"]).id


@pytest.fixture
def make_plan(store: Store, people: dict[str, User], site_id: int) -> Callable[..., int]:
    def make(name: str = "inspection", **settings: Any) -> int:
        with store.session() as s:
            plan = service.create_plan(
                s, store, site_id, name, {"gsd_mm": 5.0, **settings}, people["planner"]
            )
            return plan.id

    return make


@pytest.fixture
def approved_plan(store: Store, people: dict[str, User], make_plan: Callable[..., int]) -> int:
    plan_id = make_plan()
    with store.session() as s:
        service.submit_plan(s, plan_id, people["planner"])
    with store.session() as s:
        service.approve_plan(s, plan_id, people["approver"], "ok to fly")
    with store.session() as s:
        assert s.get(Plan, plan_id).status == "approved"  # type: ignore[union-attr]
    return plan_id


def drop_trigger_sql(store: Store, table: str) -> list[str]:
    """SQL that removes a table's append-only triggers (what a tamperer would run first)."""
    if store.engine.dialect.name == "sqlite":
        return [
            f"DROP TRIGGER {table}_append_only_update",
            f"DROP TRIGGER {table}_append_only_delete",
        ]
    return [f"DROP TRIGGER {table}_append_only ON {table}"]
