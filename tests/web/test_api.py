"""The JSON API and the pages over a real store seeded as ``plantwatch demo --serve`` seeds it:
plans with compliance, checklists (go/stop), the flight log and maintenance (blocked flights),
photos with EXIF and findings, gas uploads queued for analysis, the audit log. Issue 7."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from .conftest import EXAMPLE_SITE, ROLES, ROUTINE_OPS, Client, client_for


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """A store seeded by the demo seeding (users with the role's password, site, plan with its
    operation and compliance, pilot and aircraft, four photos with a finding)."""
    from plantwatch.store.db import Store
    from plantwatch.web.demo_seed import DEMO_USERS, seed_demo

    data_dir = tmp_path_factory.mktemp("demo")
    store = Store.open(data_dir, url=f"sqlite:///{data_dir.resolve()}/plantwatch.db")
    info = seed_demo(store, password="role-password")
    assert info.users == list(DEMO_USERS) and len(info.photo_ids) == 4
    again = seed_demo(store, password="role-password")  # seeding twice adds nothing
    assert again.users == [] and again.photo_ids == [] and again.plan_id == info.plan_id
    yield store, info
    store.close()


@pytest.fixture(scope="module")
def app(demo: tuple[Any, Any]) -> Any:
    from plantwatch.web.app import create_app

    return create_app(demo[0], analysis_workers=0)


@pytest.fixture(scope="module")
def store(demo: tuple[Any, Any]) -> Any:
    return demo[0]


@pytest.fixture(scope="module")
def c(app: Any) -> dict[str, Client]:
    return {role: client_for(app, role, password="role-password") for role in ROLES}


@pytest.fixture(scope="module")
def site_id(demo: tuple[Any, Any]) -> int:
    return int(demo[1].site_id)


@pytest.fixture(scope="module")
def plan(c: dict[str, Client], demo: tuple[Any, Any]) -> dict[str, Any]:
    """The demo plan (draft, with the routine operation; compliance checked and cached)."""
    return dict(c["admin"].http.get(f"/api/plans/{demo[1].plan_id}").json())


def test_site_import_by_pasted_geojson(c: dict[str, Client]) -> None:
    planner = c["planner"]
    text = EXAMPLE_SITE.read_text().replace("Tokyo Bay coastal tank farm (example)", "Second")
    r = planner.http.post(
        "/sites",
        data={"name": "", "geojson_text": text, "csrf_token": planner.token},
        files={"geojson": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/sites/2"
    dup = planner.http.post(
        "/sites",
        data={"name": "Second", "geojson_text": text, "csrf_token": planner.token},
        files={"geojson": ("", b"", "application/octet-stream")},
    )
    assert dup.status_code == 400 and "exists" in dup.text


def test_session_json_exact(app: Any) -> None:
    from fastapi.testclient import TestClient

    data = TestClient(app).get("/api/session").json()
    assert set(data) == {"user", "csrf_token"}
    assert data["user"] is None and len(data["csrf_token"]) >= 40


def test_site_api_and_map(c: dict[str, Client], site_id: int, demo: tuple[Any, Any]) -> None:
    sites = c["pilot"].http.get("/api/sites").json()
    first = next(s for s in sites if s["id"] == site_id)
    assert (first["name"], first["facilities"]) == ("Tokyo Bay coastal tank farm (example)", 17)
    detail = c["pilot"].http.get(f"/api/sites/{site_id}").json()
    assert len(detail["facilities"]) == 17
    assert {"zone0", "zone1", "zone2", "fire_restricted", "no_fly", "people"} <= {
        z["kind"] for z in detail["zones"]
    }
    svg = c["pilot"].http.get(f"/api/sites/{site_id}/map.svg?plan={demo[1].plan_id}")
    assert svg.headers["content-type"] == "image/svg+xml" and 'class="route"' in svg.text
    other = c["pilot"].http.get(f"/api/sites/2/map.svg?plan={demo[1].plan_id}")
    assert other.status_code == 404  # a plan of another site
    page = c["inspector"].http.get(f"/sites/{site_id}")
    assert page.status_code == 200
    assert page.text.count('class="facility') == 17
    assert 'data-kind="zone0"' in page.text and 'data-kind="no_fly"' in page.text


def test_plan_view_shows_route_coverage_blind_spots_compliance_risks(
    c: dict[str, Client], plan: dict[str, Any]
) -> None:
    detail = c["approver"].http.get(f"/api/plans/{plan['id']}").json()
    assert detail["status"] == "draft" and detail["version"] == 1
    assert detail["coverage"]["totals"]["coverage_pct"] > 50
    assert len(detail["coverage"]["facilities"]) == 17
    assert detail["coverage"]["conventional_inspection"], "the example has blind spots"
    assert {"mission.plan", "mission.kml", "route.geojson", "coverage.png"} <= set(detail["files"])
    compliance = c["approver"].http.get(f"/api/plans/{plan['id']}/compliance").json()
    assert compliance["may_proceed"] is True and compliance["exit_status"] == 0
    assert compliance["counts"]["ok"] > 10 and compliance["risk"]["items"]
    page = c["approver"].http.get(f"/plans/{plan['id']}").text
    for marker in (
        'data-testid="coverage"',
        'data-testid="conventional"',
        'data-testid="findings"',
        'data-testid="risks"',
        'class="route"',
        'class="blindspot"',
        "日本語 PDF",
    ):
        assert marker in page, marker
    mission = c["pilot"].http.get(f"/plans/{plan['id']}/files/mission.plan")
    assert mission.status_code == 200 and json.loads(mission.content)["fileType"] == "Plan"
    assert c["pilot"].http.get(f"/plans/{plan['id']}/files/..%2Fplan.json").status_code == 404


def test_flight_plan_document_html(c: dict[str, Client], plan: dict[str, Any]) -> None:
    r = c["planner"].http.get(f"/plans/{plan['id']}/document?lang=en&fmt=html")
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    assert "<svg" in r.text and "Table 3.2" in r.text
    bad = c["planner"].http.get(f"/plans/{plan['id']}/document?lang=fr")
    assert bad.status_code == 400


def test_approval_workflow_with_history(c: dict[str, Client], plan: dict[str, Any]) -> None:
    pid = plan["id"]
    planner, approver = c["planner"], c["approver"]
    assert (
        planner.http.post(f"/api/plans/{pid}/submit", json={}, headers=planner.h).json()["status"]
        == "submitted"
    )
    no_reason = approver.http.post(f"/api/plans/{pid}/reject", json={}, headers=approver.h)
    assert no_reason.status_code == 400 and "why" in no_reason.json()["error"]
    r = approver.http.post(
        f"/api/plans/{pid}/reject", json={"comment": "close R-5 too"}, headers=approver.h
    )
    assert r.json()["status"] == "rejected"
    v2 = planner.http.post(f"/api/plans/{pid}/revise", json={"comment": "R-5"}, headers=planner.h)
    assert v2.status_code == 200, v2.text
    v2id = v2.json()["id"]
    assert v2.json()["version"] == 2 and v2.json()["previous_id"] == pid
    planner.http.post(f"/api/plans/{v2id}/submit", json={}, headers=planner.h)
    assert (
        approver.http.post(
            f"/api/plans/{v2id}/approve", json={"comment": "ok"}, headers=approver.h
        ).json()["status"]
        == "approved"
    )
    history = c["admin"].http.get(f"/api/plans/{pid}").json()["approvals"]
    assert [(a["action"], a["username"], a["comment"]) for a in history] == [
        ("submit", "planner", ""),
        ("reject", "approver", "close R-5 too"),
    ]
    assert [a["action"] for a in c["admin"].http.get(f"/api/plans/{v2id}").json()["approvals"]] == [
        "revise",
        "submit",
        "approve",
    ]
    # checklists run for the approved version only
    pilot = c["pilot"]
    assert (
        pilot.http.post(
            "/api/checklists", json={"table": "4.1", "plan_id": pid}, headers=pilot.h
        ).status_code
        == 400
    )
    run = pilot.http.post(
        "/api/checklists", json={"table": "4.1", "plan_id": v2id}, headers=pilot.h
    )
    assert run.status_code == 200, run.text
    # an approved plan's operation file is fixed (a change is a new version)
    fixed = planner.http.post(
        f"/api/plans/{v2id}/ops", json={"ops_yaml": "date: 2030-01-01"}, headers=planner.h
    )
    assert fixed.status_code == 400 and "revise" in fixed.json()["error"]


def test_checklist_go_and_stop(c: dict[str, Client], plan: dict[str, Any]) -> None:
    pilot = c["pilot"]
    run = pilot.http.post(
        "/api/checklists",
        json={"table": "4.1", "lang": "en"},
        headers=pilot.h,
    ).json()["id"]
    items = pilot.http.get(f"/api/checklists/{run}").json()["items"]
    form = {f"status-{i['id']}": "ok" for i in items} | {"csrf_token": pilot.token, "complete": "1"}
    r = pilot.http.post(f"/checklists/{run}", data=form)
    assert r.status_code == 200 and "GO" in r.text
    assert pilot.http.get(f"/api/checklists/{run}").json()["result"] == "go"
    # a completed run is sealed
    sealed = pilot.http.post(
        f"/api/checklists/{run}/items",
        json={"item_id": items[0]["id"], "status": "ng"},
        headers=pilot.h,
    )
    assert sealed.status_code == 409
    # one stop-flight item NG -> stop
    run2 = pilot.http.post("/api/checklists", json={"table": "4.1"}, headers=pilot.h).json()["id"]
    stop_item = next(i["id"] for i in items if i["stops_flight"])
    pilot.http.post(
        f"/api/checklists/{run2}/items",
        json={"item_id": stop_item, "status": "ng", "note": "prop chipped"},
        headers=pilot.h,
    )
    done = pilot.http.post(f"/api/checklists/{run2}/complete", headers=pilot.h).json()
    assert done["result"] == "stop"


def test_flight_log_and_maintenance_block(c: dict[str, Client]) -> None:
    admin, pilot = c["admin"], c["pilot"]
    assert (
        admin.http.post(
            "/api/pilots", json={"id": "p-1", "name": "Sato", "flight_hours": 50}, headers=admin.h
        ).status_code
        == 200
    )
    assert (
        admin.http.post(
            "/api/aircraft",
            json={
                "id": "ac-1",
                "model": "X4",
                "mass_kg": 6.3,
                "flight_hours": 19.0,
                "last_maintenance_hours": 0.0,
            },
            headers=admin.h,
        ).status_code
        == 200
    )
    flight = {
        "date": "2025-05-01",
        "pilot_id": "p-1",
        "aircraft_id": "ac-1",
        "takeoff_time": "09:00",
        "landing_time": "10:30",
        "place": "tank farm",
    }
    r = pilot.http.post("/api/flights", json=flight, headers=pilot.h)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == "F00001"
    status = pilot.http.get("/api/maintenance").json()
    by_id = {a["id"]: a for a in status["aircraft"]}
    assert by_id["UAV-01"]["state"] == "due_soon"  # the demo's aircraft: 18 h of 20 flown
    ac = by_id["ac-1"]
    assert ac["state"] == "overdue" and ac["hours_since"] == 20.5 and ac["blocked"] is True
    assert "p-1/ac-1" in status["blocked"]
    refused = pilot.http.post("/api/flights", json=flight | {"date": "2025-05-02"}, headers=pilot.h)
    assert refused.status_code == 400 and "maintenance overdue" in refused.json()["error"]
    page = pilot.http.get("/maintenance").text
    assert "flight blocked" in page and "overdue" in page
    assert (
        pilot.http.post(
            "/api/maintenance", json={"aircraft_id": "ac-1", "date": "2025-05-03"}, headers=pilot.h
        ).status_code
        == 200
    )
    states = {a["id"]: a["state"] for a in pilot.http.get("/api/maintenance").json()["aircraft"]}
    assert states["ac-1"] == "ok"


def test_photo_upload_reads_exif_matches_facility_and_records_finding(
    store: Any, c: dict[str, Client], plan: dict[str, Any], tmp_path: Any
) -> None:
    from plantwatch.drone.photo_synth import write_plan_photos
    from plantwatch.store.models import Plan

    with store.session() as s:
        plan_dir = store.path(s.get(Plan, plan["id"]).plan_dir)
    shots = json.loads((plan_dir / "plan.json").read_text())["photos"]
    paths = write_plan_photos(
        plan_dir, tmp_path, skip=set(range(1, shots + 1)) - {5, 40}, scale=0.1
    )
    inspector = c["inspector"]
    files = [("photos", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
    r = inspector.http.post(
        "/api/photos", files=files, data={"plan_id": str(plan["id"])}, headers=inspector.h
    )
    assert r.status_code == 200, r.text
    photos = r.json()
    assert [p["original_name"] for p in photos] == ["DJI_0005.JPG", "DJI_0040.JPG"]
    for p in photos:
        meta = p["meta_json"]
        assert {
            "lat",
            "lon",
            "alt_rel_m",
            "gimbal_pitch_deg",
            "gimbal_yaw_deg",
            "time",
            "camera",
            "gsd_cm",
        } <= set(meta)
        assert p["facility_key"] and p["facility_key"] == meta["facility"]
        assert p["site_id"] == plan["site_id"]
    pid = photos[0]["id"]
    w = photos[0]["meta_json"]["width_px"]
    outside = inspector.http.post(
        f"/api/photos/{pid}/findings",
        json={"defect": "corrosion", "severity": 2, "x": w - 5, "y": 0, "w": 10, "h": 10},
        headers=inspector.h,
    )
    assert outside.status_code == 400 and "leaves the photo" in outside.json()["error"]
    r = inspector.http.post(
        f"/photos/{pid}/findings",
        data={
            "defect": "coating_damage",
            "severity": "3",
            "x": "10",
            "y": "20",
            "w": "30",
            "h": "15",
            "note": "blistering",
            "csrf_token": inspector.token,
        },
    )
    assert r.status_code == 200 and "blistering" in r.text
    finding = c["admin"].http.get(f"/api/photos/{pid}").json()["findings"][0]
    assert (
        finding["defect"],
        finding["severity"],
        finding["region_json"],
        finding["created_by"],
    ) == ("coating_damage", 3, {"x": 10.0, "y": 20.0, "w": 30.0, "h": 15.0}, "inspector")
    assert finding["facility_key"] == photos[0]["facility_key"]
    thumb = inspector.http.get(f"/photos/{pid}/thumb")
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    report = inspector.http.get(f"/reports/inspection?plan_id={plan['id']}&lang=en")
    assert report.status_code == 200, report.text[:500]
    assert "blistering" in report.text and "Image-based inspection report" in report.text


def test_gas_upload_is_queued(store: Any, c: dict[str, Client], tmp_path: Any) -> None:
    import numpy as np

    clip = tmp_path / "clip.npy"
    np.save(clip, np.full((4, 8, 8), 300.0, dtype=np.float32))
    inspector = c["inspector"]
    r = inspector.http.post(
        "/api/gas",
        files={"video": ("clip.npy", clip.read_bytes(), "application/octet-stream")},
        data={"facility_key": "T-101", "site_id": "1"},
        headers=inspector.h,
    )
    assert r.status_code == 200, r.text
    video = r.json()
    assert video["facility_key"] == "T-101" and video["media_type"] == "application/x-npy"
    assert video["analysis"]["status"] == "queued"
    page = inspector.http.get(f"/gas/{video['id']}")
    assert 'http-equiv="refresh"' in page.text and "queued" in page.text
    # a pilot may upload but not start analyses (store permission analysis.queue)
    pilot = c["pilot"]
    r = pilot.http.post(
        "/api/gas",
        files={"video": ("c.npy", clip.read_bytes(), "application/octet-stream")},
        headers=pilot.h,
    )
    assert r.status_code == 200 and r.json()["analysis"] is None
    assert pilot.http.post(f"/api/gas/{r.json()['id']}/analyse", headers=pilot.h).status_code == 403


def test_audit_log_admin_only_and_chain_intact(c: dict[str, Client]) -> None:
    assert c["planner"].http.get("/admin/audit").status_code == 403
    verify = c["admin"].http.get("/api/audit/verify").json()
    assert verify["ok"] is True and verify["count"] > 10
    actions = {e["action"] for e in c["admin"].http.get("/api/audit?limit=1000").json()}
    # what the demo seeding did, every step audited
    assert {
        "user.create",
        "site.import",
        "plan.create",
        "pilot.create",
        "aircraft.create",
        "photo.add",
        "finding.add",
    } <= actions
    page = c["admin"].http.get("/admin/audit")
    assert page.status_code == 200 and 'data-testid="audit-verify"' in page.text


def test_every_page_renders_for_every_role(
    c: dict[str, Client], plan: dict[str, Any], tmp_path: Any
) -> None:
    import numpy as np

    pilot, inspector = c["pilot"], c["inspector"]
    run = pilot.http.post("/api/checklists", json={"table": "3.3"}, headers=pilot.h).json()["id"]
    clip = tmp_path / "c.npy"
    np.save(clip, np.zeros((2, 4, 4), dtype=np.float32))
    video = inspector.http.post(
        "/api/gas",
        files={"video": ("c.npy", clip.read_bytes(), "application/octet-stream")},
        headers=inspector.h,
    ).json()["id"]
    photo = c["admin"].http.get("/api/photos").json()[-1]["id"]
    pages = [
        "/sites",
        "/sites/1",
        f"/sites/1?plan={plan['id']}",
        "/plans",
        f"/plans/{plan['id']}",
        "/checklists",
        f"/checklists/{run}",
        "/flights",
        "/maintenance",
        "/photos",
        f"/photos/{photo}",
        "/gas",
        f"/gas/{video}",
    ]
    for role in ROLES:
        for path in pages:
            r = c[role].http.get(path)
            assert r.status_code == 200, (role, path, r.text[:300])
            assert f"{role} · {role}" in r.text
            assert inline_script(r.text) == [], (role, path)


class _InlineScript(HTMLParser):
    """Collects what a ``script-src 'self'`` policy would block: ``<script>`` without ``src``,
    ``on*=`` event-handler attributes and ``javascript:`` URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not values.get("src"):
            self.found.append(f"<script> without src at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")


def _all_routes(routes: Any) -> Iterator[Any]:
    """Routes, with included routers flattened (FastAPI wraps them)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _all_routes(inner.routes)
        else:
            yield route


def inline_script(html: str) -> list[str]:
    parser = _InlineScript()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ('<script src="/static/app.js" defer></script><p onclick2>', ["<p onclick2=...>"]),
        ("<div><script>alert(1)</script></div>", ["<script> without src at line 1"]),
        ('<svg><rect onload="x()"/></svg>', ["<rect onload=...>"]),
        ('<a href=" JavaScript:history.back()">', ["<a href=' JavaScript:history.back()'>"]),
        ('<button data-action="x" class="one">', []),
    ],
)
def test_inline_script_finder(html: str, found: list[str]) -> None:
    assert inline_script(html) == found


def test_csp_forbids_inline_script_and_no_page_has_any(
    app: Any, c: dict[str, Client], plan: dict[str, Any], tmp_path: Any
) -> None:
    """Every HTML page route is rendered (the role-independent ones by admin; the pages common
    to all roles are checked for every role in test_every_page_renders_for_every_role) and
    carries no inline script, while the policy allows scripts from the app only. A new page
    route fails here until it is added to the list."""
    import numpy as np
    from fastapi.testclient import TestClient

    admin, pilot, inspector = c["admin"].http, c["pilot"], c["inspector"]
    photo = admin.get("/api/photos").json()[-1]["id"]
    run = pilot.http.post("/api/checklists", json={"table": "3.3"}, headers=pilot.h).json()["id"]
    clip = tmp_path / "c.npy"
    np.save(clip, np.zeros((2, 4, 4), dtype=np.float32))
    video = inspector.http.post(
        "/api/gas",
        files={"video": ("c.npy", clip.read_bytes(), "application/octet-stream")},
        headers=inspector.h,
    ).json()["id"]
    pages = {
        "/login": "/login",
        "/admin/users": "/admin/users",
        "/admin/audit": "/admin/audit",
        "/sites": "/sites",
        "/sites/{site_id}": f"/sites/{plan['site_id']}?plan={plan['id']}",
        "/plans": "/plans",
        "/plans/{plan_id}": f"/plans/{plan['id']}",
        "/plans/{plan_id}/document": f"/plans/{plan['id']}/document?lang=en&fmt=html",
        "/checklists": "/checklists",
        "/checklists/{run_id}": f"/checklists/{run}",
        "/flights": "/flights",
        "/maintenance": "/maintenance",
        "/photos": "/photos",
        "/photos/{photo_id}": f"/photos/{photo}",
        "/reports/inspection": f"/reports/inspection?plan_id={plan['id']}",
        "/gas": "/gas",
        "/gas/{video_id}": f"/gas/{video}",
    }
    binary = {"image", "thumb", "overlay.mp4", "heatmap.png", "{name}"}
    page_routes = {
        route.path
        for route in _all_routes(app.routes)
        if "GET" in (getattr(route, "methods", None) or ())
        and not route.path.startswith(("/api/", "/static"))
        and route.path != "/"
        and route.path.rsplit("/", 1)[-1] not in binary
    }
    assert page_routes == set(pages), page_routes ^ set(pages)
    anon = TestClient(app)
    for route, url in pages.items():
        http = anon if route == "/login" else admin
        r = http.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        assert r.headers["content-type"].startswith("text/html"), url
        assert inline_script(r.text) == [], (url, inline_script(r.text))
    # error pages (404, 403) are HTML too
    for http, url, status in (
        (admin, "/plans/999999", 404),
        (c["pilot"].http, "/admin/users", 403),
    ):
        r = http.get(url)
        assert r.status_code == status and inline_script(r.text) == [], url
    # the policy: scripts from the app only, nothing inline, no eval
    header = r.headers["content-security-policy"]
    policy = {k: v for k, _, v in (part.strip().partition(" ") for part in header.split(";"))}
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    script = admin.get("/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert re.search(r'<script src="[^"]*/static/app\.js" defer>', admin.get("/sites").text)


def test_operation_file_on_a_draft(c: dict[str, Client]) -> None:
    """Attach ops.yaml to a draft (upload form): compliance is checked and shown; a folder
    path in ``airspace`` is refused on the server."""
    from plantwatch.drone.synth import synthesize_site

    planner = c["planner"]
    site = json.dumps(synthesize_site(1, 3)).encode()
    site_id = planner.http.post(
        "/api/sites",
        files={"geojson": ("one.geojson", site, "application/json")},
        headers=planner.h,
    ).json()["id"]
    pid = planner.http.post(
        f"/api/sites/{site_id}/plans",
        json={"name": "ops", "settings": {"gsd_mm": 5}},
        headers=planner.h,
    ).json()["id"]
    page = planner.http.get(f"/plans/{pid}").text
    assert "No operation file yet" in page and 'data-testid="ops-form"' in page
    bad = planner.http.post(
        f"/plans/{pid}/ops",
        data={"csrf_token": planner.token, "ops_yaml": "airspace: /etc\n"},
        files={"ops_file": ("", b"", "application/octet-stream")},
    )
    assert bad.status_code == 400 and "packaged airspace set" in bad.text
    r = planner.http.post(
        f"/plans/{pid}/ops",
        data={"csrf_token": planner.token},
        files={"ops_file": ("ops.yaml", ROUTINE_OPS.read_bytes(), "application/x-yaml")},
    )
    assert r.status_code == 200, r.text[:500]
    assert "operation checked" in r.text and 'data-testid="verdict"' in r.text
    actions = [e["action"] for e in c["admin"].http.get("/api/audit?limit=5").json()]
    assert "plan.ops" in actions
