"""Security of the web app (issue 7): roles, anonymous access, CSRF, uploads (size, type,
names), sessions, headers. In-process app over a real SQLite store and real JPEG files."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROLES, Client, client_for, password_of, submit_one_tank_plan

JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def _jpeg(size_bytes: int) -> bytes:
    """Bytes that start like a JPEG (the type check looks at the first bytes only)."""
    return JPEG_HEAD + b"\x00" * (size_bytes - len(JPEG_HEAD))


@pytest.fixture(scope="module")
def app(store: Any) -> Any:
    from plantwatch.web.app import create_app

    return create_app(store, max_upload_bytes=256 * 1024, analysis_workers=0)


@pytest.fixture(scope="module")
def clients(app: Any) -> dict[str, Client]:
    return {role: client_for(app, role) for role in ROLES}


@pytest.fixture(scope="module")
def plan_id(store: Any, clients: dict[str, Client]) -> int:
    """A site (one synthetic tank: plans in a fraction of a second) and a submitted plan."""
    return submit_one_tank_plan(clients["planner"], "security")


def _rows(store: Any, model_name: str) -> int:
    from sqlalchemy import func, select

    from plantwatch.store import models

    with store.session() as s:
        return int(
            s.execute(select(func.count()).select_from(getattr(models, model_name))).scalar_one()
        )


def _files(store: Any, *folders: str) -> list[Path]:
    out: list[Path] = []
    for folder in folders:
        root = store.data_dir / "files" / folder
        if root.is_dir():
            out.extend(p for p in root.rglob("*") if p.is_file())
    return out


# ---- roles


def test_pilot_cannot_approve(clients: dict[str, Client], plan_id: int) -> None:
    pilot = clients["pilot"]
    r = pilot.http.post(f"/api/plans/{plan_id}/approve", json={"comment": "x"}, headers=pilot.h)
    assert r.status_code == 403
    assert r.json()["status"] == 403 and "pilot" in r.json()["error"]
    page = pilot.http.post(
        f"/plans/{plan_id}/approve", data={"comment": "x", "csrf_token": pilot.token}
    )
    assert page.status_code == 403
    assert "may not" in page.text
    assert clients["admin"].http.get(f"/api/plans/{plan_id}").json()["status"] == "submitted"


def test_approver_approves_but_cannot_submit_or_import(
    clients: dict[str, Client], plan_id: int
) -> None:
    approver = clients["approver"]
    assert (
        approver.http.post(
            "/api/sites/1/plans", json={"name": "x", "settings": {"gsd_mm": 30}}, headers=approver.h
        ).status_code
        == 403
    )
    r = approver.http.post(
        f"/api/plans/{plan_id}/approve", json={"comment": "ok"}, headers=approver.h
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    # approved is final: approving again is refused by the store
    again = approver.http.post(
        f"/api/plans/{plan_id}/approve", json={"comment": "ok"}, headers=approver.h
    )
    assert again.status_code == 400 and "approved" in again.json()["error"]


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        ("inspector", "post", "/api/checklists", {"table": "4.1"}),
        ("pilot", "get", "/api/users", None),
        ("planner", "get", "/api/audit", None),
        ("approver", "post", "/api/flights", {}),
        (
            "pilot",
            "post",
            "/api/photos/1/findings",
            {"defect": "crack", "severity": 1, "x": 0, "y": 0, "w": 1, "h": 1},
        ),
    ],
)
def test_roles_refused(
    clients: dict[str, Client], role: str, method: str, path: str, body: Any
) -> None:
    c = clients[role]
    r = getattr(c.http, method)(path, headers=c.h, **({"json": body} if body is not None else {}))
    assert r.status_code == 403, r.text


# ---- anonymous


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _all_routes(routes: Any) -> Iterator[Any]:
    """Routes, with included routers flattened (FastAPI wraps them)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _all_routes(inner.routes)
        else:
            yield route


def test_anonymous_sees_nothing(app: Any, plan_id: int) -> None:
    """Every route except the login page, the session probe and the stylesheet: pages redirect
    to the login page, the API answers 401, and no page content or data leaks."""
    from fastapi.testclient import TestClient

    anon = TestClient(app)
    open_paths = {"/login", "/api/session", "/api/login", "/static"}
    checked = 0
    for route in _all_routes(app.routes):
        path = getattr(route, "path", "")
        if path in open_paths or path.startswith("/static"):
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method == "HEAD":
                continue
            r = anon.request(method, _concrete(path), follow_redirects=False)
            checked += 1
            if path.startswith("/api/"):
                assert r.status_code in (401, 403), (method, path, r.status_code)
            else:
                assert r.status_code in (303, 403), (method, path, r.status_code)
                if r.status_code == 303:
                    assert r.headers["location"].startswith("/login")
            assert "security" not in r.text and "tank" not in r.text.lower()
    assert checked > 40


def test_login_wrong_password_and_open_redirect(app: Any) -> None:
    from fastapi.testclient import TestClient

    c = TestClient(app)
    page = c.get("/login?next=//evil.example/x")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert 'value="/"' in page.text  # the foreign "next" was dropped
    bad = c.post(
        "/login", data={"username": "planner", "password": "nope-nope", "csrf_token": token}
    )
    assert bad.status_code == 401 and "wrong user name or password" in bad.text
    good = c.post(
        "/login",
        data={
            "username": "planner",
            "password": password_of("planner"),
            "csrf_token": token,
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/"


# ---- CSRF


def test_post_without_csrf_token_is_refused(
    store: Any, clients: dict[str, Client], plan_id: int
) -> None:
    planner = clients["planner"]
    before = _rows(store, "AuditLog")
    # API without header, and with a wrong one
    r = planner.http.post("/api/sites/1/plans", json={"name": "nocsrf", "settings": {"gsd_mm": 30}})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    r = planner.http.post(
        "/api/sites/1/plans",
        json={"name": "nocsrf", "settings": {"gsd_mm": 30}},
        headers={"X-CSRF-Token": "x" * 43},
    )
    assert r.status_code == 403
    # a form without the hidden field (what a cross-site form would send)
    r = planner.http.post("/sites/1/plans", data={"name": "nocsrf", "gsd_mm": "30"})
    assert r.status_code == 403 and "CSRF" in r.text
    # the login form too
    r = client_for_anonymous(clients).post(
        "/login", data={"username": "planner", "password": password_of("planner")}
    )
    assert r.status_code == 403
    # an upload without the token: refused before any byte is stored
    r = clients["pilot"].http.post(
        "/api/photos", files={"photos": ("a.jpg", _jpeg(2048), "image/jpeg")}
    )
    assert r.status_code == 403
    assert _rows(store, "AuditLog") == before
    assert _rows(store, "Photo") == 0


def client_for_anonymous(clients: dict[str, Client]) -> Any:
    from fastapi.testclient import TestClient

    return TestClient(clients["planner"].http.app)


# ---- uploads


def test_oversize_upload_is_refused_and_nothing_is_stored(
    store: Any, clients: dict[str, Client]
) -> None:
    pilot = clients["pilot"]
    photos_before = _rows(store, "Photo")
    r = pilot.http.post(
        "/api/photos",
        files={"photos": ("big.jpg", _jpeg(300 * 1024), "image/jpeg")},
        headers=pilot.h,
    )
    assert r.status_code == 413
    assert r.json()["error"].startswith("upload too large")
    assert "0.2 MiB allowed" in r.json()["error"] and "nothing was stored" in r.json()["error"]
    # a chunked body (no Content-Length) that grows past the limit is cut off while streaming
    boundary = "pwtestboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f'{pilot.token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
        f'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()

    def body() -> Iterator[bytes]:
        yield head + JPEG_HEAD
        for _ in range(40):
            yield b"\x00" * 16384

    r = pilot.http.post(
        "/api/photos",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413, r.text
    assert _rows(store, "Photo") == photos_before
    assert _files(store, "photos", ".incoming") == []


def test_wrong_type_is_refused_by_content_not_name(store: Any, clients: dict[str, Client]) -> None:
    pilot = clients["pilot"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    r = pilot.http.post(
        "/api/photos", files={"photos": ("photo.jpg", png, "image/jpeg")}, headers=pilot.h
    )
    assert r.status_code == 415
    assert r.json()["error"] == (
        "'photo.jpg' is not a JPEG image (FF D8 FF) (the file's content decides, not its name)"
    )
    inspector = clients["inspector"]
    r = inspector.http.post(
        "/api/gas",
        files={"video": ("clip.mp4", b"GIF89a" + b"\x00" * 64, "video/mp4")},
        headers=inspector.h,
    )
    assert r.status_code == 415 and "MP4" in r.json()["error"]
    assert _rows(store, "Photo") == 0 and _rows(store, "GasVideo") == 0
    assert _files(store, "photos", "gas_videos", ".incoming") == []


def test_path_traversal_in_file_name_is_harmless(store: Any, clients: dict[str, Client]) -> None:
    from plantwatch.drone.photo_synth import SynthShot, write_synthetic_photo

    tmp = store.data_dir / "src"
    tmp.mkdir(exist_ok=True)
    photo = write_synthetic_photo(
        tmp / "x.jpg",
        SynthShot(
            lat_deg=35.5,
            lon_deg=139.78,
            alt_rel_m=30.0,
            gimbal_pitch_deg=-90.0,
            gimbal_yaw_deg=0.0,
            time=datetime(2030, 5, 7, 10, 0, tzinfo=UTC),
        ),
        "dji-phantom4-rtk",
        scale=0.05,
    )
    evil = "../../../../../tmp/evil_plantwatch.jpg"
    pilot = clients["pilot"]
    r = pilot.http.post(
        "/api/photos",
        files={"photos": (evil, photo.read_bytes(), "image/jpeg")},
        data={"site_id": ""},
        headers=pilot.h,
    )
    assert r.status_code == 200, r.text
    (stored,) = r.json()
    assert stored["original_name"] == "evil_plantwatch.jpg"
    assert not Path("/tmp/evil_plantwatch.jpg").exists()
    files = _files(store, "photos")
    assert len(files) == 1 and files[0].name == f"{stored['sha256']}.jpg"
    assert files[0].resolve().is_relative_to((store.data_dir / "files" / "photos").resolve())
    # the label is shown escaped, never as markup
    r = pilot.http.post(
        "/api/photos",
        files={"photos": ("<script>alert(1)<\\script>.jpg", photo.read_bytes(), "image/jpeg")},
        headers=pilot.h,
    )
    assert r.status_code == 200
    page = pilot.http.get(f"/photos/{r.json()[0]['id']}")
    assert "<script>alert(1)" not in page.text


# ---- sessions and headers


def test_session_cookie_flags_and_secret_file(store: Any, app: Any) -> None:
    from fastapi.testclient import TestClient

    c = TestClient(app)
    r = c.get("/api/session")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    mode = stat.S_IMODE(os.stat(store.data_dir / "secret_key").st_mode)
    assert mode == 0o600
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"


def test_deactivated_user_is_out_at_once(store: Any, app: Any) -> None:
    admin = client_for(app, "admin")
    r = admin.http.post(
        "/api/users",
        json={"username": "temp", "password": "temp-pass-1", "role": "inspector"},
        headers=admin.h,
    )
    assert r.status_code == 200, r.text
    from fastapi.testclient import TestClient

    temp = TestClient(app)
    token = temp.get("/api/session").json()["csrf_token"]
    assert (
        temp.post(
            "/api/login",
            json={"username": "temp", "password": "temp-pass-1"},
            headers={"X-CSRF-Token": token},
        ).status_code
        == 200
    )
    assert temp.get("/api/photos").status_code == 200
    r = admin.http.post(
        "/admin/users/temp/active", data={"active": "false", "csrf_token": admin.token}
    )
    assert r.status_code == 200
    assert temp.get("/api/photos").status_code == 401


def test_no_upload_row_without_file(store: Any) -> None:
    """Every stored photo row has its file (nothing half-written by the tests above)."""
    from sqlalchemy import select

    from plantwatch.store.models import Photo

    with store.session() as s:
        for photo in s.scalars(select(Photo)):
            assert store.path(photo.file).is_file()
