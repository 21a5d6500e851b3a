"""Killing the server (SIGKILL: no clean-up code runs) mid-upload or mid-write loses no
committed record and leaves no half-written file where stored files live (issue 7)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import EXAMPLE_SITE, Server, make_store, password_of, start_server


def _login(server: Server, role: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=60)
    token = client.get("/api/session").json()["csrf_token"]
    r = client.post(
        "/api/login",
        json={"username": role, "password": password_of(role)},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


def _counts(data_dir: Path) -> dict[str, int]:
    from plantwatch.store import service
    from plantwatch.store.db import Store

    store = Store.open(data_dir, url=f"sqlite:///{data_dir.resolve()}/plantwatch.db")
    try:
        with store.session() as s:
            counts = service.count_rows(s)
            from plantwatch.store import audit

            result = audit.verify(s)
            assert result.ok, result.message
            counts["audit"] = result.count
        return counts
    finally:
        store.close()


def _store_problems(data_dir: Path) -> list[str]:
    """``plantwatch admin verify``'s findings: rows without files, broken seals, plan folders
    that disagree with their rows (orphan files are not problems: they are reported apart)."""
    from plantwatch.store import service
    from plantwatch.store.db import Store

    store = Store.open(data_dir, url=f"sqlite:///{data_dir.resolve()}/plantwatch.db")
    try:
        with store.session() as s:
            return list(service.verify_store(s, store).problems)
    finally:
        store.close()


def _wait_for(predicate: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def _stored_files(data_dir: Path, folder: str) -> list[Path]:
    root = data_dir / "files" / folder
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def test_kill_mid_upload_and_mid_plan_write(tmp_path: Path) -> None:
    # records committed before the kills (through the store, as the app writes them)
    from plantwatch.store import service

    store = make_store(tmp_path)
    with store.session() as s:
        service.import_site(s, EXAMPLE_SITE.read_text(), None, "planner")
        run_ids = [
            int(service.start_checklist(s, t, None, "en", "pilot").id) for t in ("4.1", "4.2")
        ]
    with store.session() as s:
        assert service.complete_checklist(s, run_ids[0], "pilot").result == "stop"
    store.close()
    before = _counts(tmp_path)
    assert before["sites"] == 1 and before["checklist_runs"] == 2
    server = start_server(tmp_path)
    try:
        pilot = _login(server, "pilot")
        # ---- kill 1: a large upload, half sent
        total = 40 * 2**20
        boundary = "killtestboundary"
        head = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                f'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
            + b"\xff\xd8\xff\xe0"
            + b"\x00" * 60
        )
        cookie = "; ".join(f"{k}={v}" for k, v in pilot.cookies.items())
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(
            (
                f"POST /api/photos HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                f"X-CSRF-Token: {pilot.headers['X-CSRF-Token']}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {total}\r\n\r\n"
            ).encode()
            + head
        )
        chunk = b"\x00" * 65536
        for _ in range(64):  # 4 MiB of the 40
            sock.sendall(chunk)
        incoming = tmp_path / "files" / ".incoming"
        part = _wait_for(lambda: [p for p in incoming.glob("*.part") if p.stat().st_size > 2**20])
        server.kill()
        sock.close()
        assert part[0].exists(), "the kill happened while the upload was being written"

        server = start_server(tmp_path)
        assert not list(incoming.glob("*.part")), "start-up removes partial uploads"
        assert _stored_files(tmp_path, "photos") == []
        after_upload = _counts(tmp_path)
        assert after_upload == before

        # ---- kill 2: while a plan is being written
        planner = _login(server, "planner")
        before = _counts(tmp_path)
        plans_root = tmp_path / "files" / "plans"

        def create() -> None:
            try:
                planner.post(
                    "/api/sites/1/plans",
                    json={"name": "killed", "settings": {"gsd_mm": 10}},
                    timeout=120,
                )
            except httpx.HTTPError:
                pass  # the server died under it

        worker = threading.Thread(target=create, daemon=True)
        worker.start()
        _wait_for(lambda: plans_root.is_dir() and any(plans_root.iterdir()))
        time.sleep(0.3)  # the planner is writing its staging folder
        server.kill()
        worker.join(timeout=30)

        after = _counts(tmp_path)
        # the kill lands while the planner writes its staging folder (seconds); on a machine
        # fast enough to commit first, the plan is whole instead: either way nothing is half
        committed = after["plans"] - before["plans"]
        assert committed in (0, 1)
        expected = dict(before, plans=before["plans"] + committed)
        if committed:
            expected["audit"] = after["audit"]
        assert after == expected, "no committed record lost, nothing half-committed"
        finals = [p.name for p in plans_root.iterdir() if not p.name.startswith(".")]
        assert len(finals) == committed, f"a plan folder exactly for each plan row: {finals}"
        problems = _store_problems(tmp_path)
        assert problems == [], problems
        assert after["checklist_runs"] == 2 and after["sites"] == 1
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
