"""Shared fixtures for the web tests: a real store (SQLite, or PostgreSQL when
``PLANTWATCH_DATABASE_URL`` is set), users of every role, login helpers, and a real uvicorn
server in a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Starlette's TestClient nags about httpx2; the tests use httpx as pinned in pyproject.
    config.addinivalue_line("filterwarnings", "ignore:.*httpx2.*")


ROLES = ("planner", "approver", "pilot", "inspector", "admin")
REPO = Path(__file__).resolve().parents[2]
EXAMPLE_SITE = REPO / "src" / "plantwatch" / "data" / "sites" / "tank_farm.geojson"
ROUTINE_OPS = REPO / "examples" / "ops" / "routine.yaml"


def password_of(role: str) -> str:
    return f"{role}-password-1"


def make_store(data_dir: Path, url: str | None = None) -> Any:
    """A fresh store with one user per role (named after the role); SQLite in ``data_dir``
    unless ``url`` names another database."""
    from plantwatch.store import service
    from plantwatch.store.db import Store

    store = Store.open(data_dir, url=url or f"sqlite:///{data_dir.resolve()}/plantwatch.db")
    with store.session() as s:
        for role in ROLES:
            service.create_user(s, role, password_of(role), role, None)
    return store


@pytest.fixture(scope="session", autouse=True)
def _test_sized_argon2() -> Iterator[None]:
    """Argon2id with test-sized costs in this process (the default costs ~0.4 s a hash on a
    busy core); server subprocesses use the same costs (``SERVER_CODE``)."""
    from argon2 import PasswordHasher

    from plantwatch.store import users

    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    patch = pytest.MonkeyPatch()
    patch.setattr(users, "_hasher", lambda: hasher)
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No store settings leak in from the environment."""
    monkeypatch.delenv("PLANTWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("PLANTWATCH_DATA_DIR", raising=False)
    monkeypatch.delenv("PLANTWATCH_SECRET_KEY", raising=False)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    st = make_store(tmp_path_factory.mktemp("store"))
    yield st
    st.close()


def api_login(client: Any, role: str, password: str | None = None) -> str:
    """Log ``client`` in as the user ``role``; return the session's CSRF token."""
    token = client.get("/api/session").json()["csrf_token"]
    response = client.post(
        "/api/login",
        json={"username": role, "password": password or password_of(role)},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


@dataclass
class Client:
    """A TestClient logged in as one role, with its CSRF header at hand."""

    http: Any
    token: str

    @property
    def h(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.token}


def client_for(app: Any, role: str | None, password: str | None = None) -> Client:
    from fastapi.testclient import TestClient

    http = TestClient(app)
    token = (
        api_login(http, role, password) if role else http.get("/api/session").json()["csrf_token"]
    )
    return Client(http, token)


def submit_one_tank_plan(planner: Client, name: str) -> int:
    """Upload a one-tank synthetic site (plans in a fraction of a second), plan it and submit the
    plan as ``planner``; the plan's id."""
    import json

    from plantwatch.drone.synth import synthesize_site

    site = json.dumps(synthesize_site(1, 1)).encode()
    r = planner.http.post(
        "/api/sites",
        files={"geojson": ("site.geojson", site, "application/json")},
        headers=planner.h,
    )
    assert r.status_code == 200, r.text
    r = planner.http.post(
        f"/api/sites/{r.json()['id']}/plans",
        json={"name": name, "settings": {"gsd_mm": 5}},
        headers=planner.h,
    )
    assert r.status_code == 200, r.text
    pid = int(r.json()["id"])
    r = planner.http.post(f"/api/plans/{pid}/submit", json={"comment": ""}, headers=planner.h)
    assert r.json()["status"] == "submitted"
    return pid


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ``plantwatch serve``'s own function, with the test-sized Argon2 costs of this suite (the
# users' hashes carry them; the default costs would rehash each password at first login)
SERVER_CODE = (
    "import sys; from pathlib import Path; from argon2 import PasswordHasher; "
    "from plantwatch.store import users; "
    "users._hasher = lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1); "
    "from plantwatch.web.cli_web import serve; "
    "serve(Path(sys.argv[1]), '127.0.0.1', int(sys.argv[2]), log_level='warning', "
    "max_upload_mib=float(sys.argv[3]), preload_detector=sys.argv[4] == '1')"
)


@dataclass
class Server:
    """A ``plantwatch serve`` process (the CLI's own code path) on a loopback port."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs (a power cut, an OOM kill)."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(
    data_dir: Path,
    *,
    max_upload_mib: float = 64,
    preload: bool = False,
    timeout_s: float = 60,
    database_url: str | None = None,
) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PLANTWATCH_DATABASE_URL"}
    env["PYTHONUNBUFFERED"] = "1"
    if database_url:
        env["PLANTWATCH_DATABASE_URL"] = database_url
    log = open(data_dir / f"server-{port}.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVER_CODE,
            str(data_dir),
            str(port),
            str(max_upload_mib),
            "1" if preload else "0",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}: "
                + (data_dir / f"server-{port}.log").read_text(errors="replace")[-2000:]
            )
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Server(process, port, data_dir)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not listen on port {port} within {timeout_s} s")
