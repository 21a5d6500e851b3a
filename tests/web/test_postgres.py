"""The web app on PostgreSQL (issue 7): the same requests as on SQLite, one pass through the
workflow. Runs when ``PLANTWATCH_TEST_PG_URL`` names a server (``.ci/start-postgres.sh``); each
run uses a fresh schema, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROLES, client_for, make_store, submit_one_tank_plan

PG_ENV = "PLANTWATCH_TEST_PG_URL"


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[Any]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL: set {PG_ENV} (export {PG_ENV}=$(.ci/start-postgres.sh))")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"web_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    store = make_store(tmp_path, url.render_as_string(hide_password=False))
    try:
        yield store
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_workflow_on_postgresql(pg_store: Any, tmp_path: Path) -> None:
    from plantwatch.drone.photo_synth import SynthShot, write_synthetic_photo
    from plantwatch.web.app import create_app

    assert pg_store.url.startswith("postgresql")
    app = create_app(pg_store, analysis_workers=0)
    c = {role: client_for(app, role) for role in ROLES}
    planner, approver, pilot = c["planner"], c["approver"], c["pilot"]
    pid = submit_one_tank_plan(planner, "pg")
    assert pilot.http.post(f"/api/plans/{pid}/approve", json={}, headers=pilot.h).status_code == 403
    r = approver.http.post(f"/api/plans/{pid}/approve", json={"comment": "ok"}, headers=approver.h)
    assert r.json()["status"] == "approved"
    run = pilot.http.post(
        "/api/checklists", json={"table": "4.1", "plan_id": pid}, headers=pilot.h
    ).json()["id"]
    assert (
        pilot.http.post(f"/api/checklists/{run}/complete", headers=pilot.h).json()["result"]
        == "stop"
    )
    photo = write_synthetic_photo(
        tmp_path / "p.jpg",
        SynthShot(
            lat_deg=35.5,
            lon_deg=139.78,
            alt_rel_m=30.0,
            gimbal_pitch_deg=-90.0,
            gimbal_yaw_deg=0.0,
            time=datetime(2030, 5, 7, 10, tzinfo=UTC),
        ),
        "dji-phantom4-rtk",
        scale=0.05,
    )
    r = pilot.http.post(
        "/api/photos",
        files={"photos": ("p.jpg", photo.read_bytes(), "image/jpeg")},
        headers=pilot.h,
    )
    assert r.status_code == 200 and r.json()[0]["meta_json"]["lat"] == pytest.approx(35.5)
    for path in ("/sites/1", f"/plans/{pid}", "/checklists", "/photos", "/maintenance"):
        assert pilot.http.get(path).status_code == 200, path
    verify = c["admin"].http.get("/api/audit/verify").json()
    assert verify["ok"] is True
