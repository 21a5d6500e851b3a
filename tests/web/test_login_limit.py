"""Log-in brute-force protection (:mod:`plantwatch.web.ratelimit`): per-account and per-client
limits in a sliding window, 429 with Retry-After on the form and the API, reset on success, no
password check while locked, lock-outs in the audit log. A fake clock: no sleeping."""

from __future__ import annotations

import re
from typing import Any

import pytest

from plantwatch.web.ratelimit import (
    ACCOUNT_MAX_FAILURES,
    CLIENT_MAX_FAILURES,
    WINDOW_S,
    LoginLimiter,
)

from .conftest import password_of


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(store: Any, clock: FakeClock) -> Any:
    from plantwatch.web.app import create_app

    return create_app(store, analysis_workers=0, login_limiter=LoginLimiter(clock=clock))


def _client(app: Any, ip: str = "192.0.2.1") -> Any:
    from fastapi.testclient import TestClient

    return TestClient(app, client=(ip, 50000))


def _api_login(http: Any, username: str, password: str) -> Any:
    token = http.get("/api/session").json()["csrf_token"]
    return http.post(
        "/api/login",
        json={"username": username, "password": password},
        headers={"X-CSRF-Token": token},
    )


def _form_login(http: Any, username: str, password: str) -> Any:
    page = http.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return http.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def _lockouts(store: Any) -> list[tuple[str, str, dict[str, Any]]]:
    from sqlalchemy import select

    from plantwatch.store.models import AuditLog

    with store.session() as s:
        rows = s.scalars(
            select(AuditLog).where(AuditLog.action == "login.lockout").order_by(AuditLog.id)
        )
        return [(r.username, r.entity_id, dict(r.payload_json)) for r in rows]


def test_limits_are_the_documented_ones() -> None:
    assert (ACCOUNT_MAX_FAILURES, CLIENT_MAX_FAILURES, WINDOW_S) == (5, 20, 900.0)


def test_sixth_failure_is_429_with_retry_after_and_audited(
    app: Any, store: Any, clock: FakeClock
) -> None:
    http = _client(app)
    before = len(_lockouts(store))
    for _ in range(ACCOUNT_MAX_FAILURES):
        r = _api_login(http, "planner", "wrong-password")
        assert r.status_code == 401, r.text
        clock.advance(10)
    r = _api_login(http, "planner", "wrong-password")
    assert r.status_code == 429
    # the first failure (at t=0) leaves the window at t=900; now is t=50
    assert r.headers["retry-after"] == "850"
    assert r.json() == {
        "error": "too many failed log-ins for this user name: try again in 15 minutes",
        "status": 429,
        "retry_after_s": 850,
    }
    # one audit entry for the lock-out, none for the refused attempts
    _api_login(http, "planner", "wrong-password")
    entries = _lockouts(store)[before:]
    assert len(entries) == 1
    by, entity_id, payload = entries[0]
    assert (by, entity_id) == ("system", "planner")
    assert payload == {
        "scope": "account",
        "username": "planner",
        "client_ip": "192.0.2.1",
        "window_s": 900.0,
    }
    # the user name is case-folded: no fresh budget for "PLANNER"
    assert _api_login(http, " PLANNER", "wrong-password").status_code == 429
    # another account from the same address is not affected
    assert _api_login(http, "pilot", password_of("pilot")).status_code == 200


def test_right_password_during_lockout_gets_the_same_429(app: Any, clock: FakeClock) -> None:
    http = _client(app)
    for _ in range(ACCOUNT_MAX_FAILURES):
        assert _api_login(http, "approver", "wrong-password").status_code == 401
    wrong = _api_login(http, "approver", "wrong-password")
    right = _api_login(http, "approver", password_of("approver"))
    assert wrong.status_code == right.status_code == 429
    assert wrong.json() == right.json()
    assert wrong.headers["retry-after"] == right.headers["retry-after"] == "900"
    assert right.json()["retry_after_s"] == 900
    # not logged in by the refused attempt
    assert http.get("/api/session").json()["user"] is None
    # the form answers 429 too, with the message on the page and Retry-After
    page = _form_login(http, "approver", password_of("approver"))
    assert page.status_code == 429 and page.headers["retry-after"] == "900"
    assert "too many failed log-ins for this user name: try again in 15 minutes" in page.text
    assert 'role="alert"' in page.text and "location" not in page.headers


def test_login_works_again_when_the_window_has_passed(app: Any, clock: FakeClock) -> None:
    http = _client(app)
    for _ in range(ACCOUNT_MAX_FAILURES):
        assert _form_login(http, "inspector", "wrong-password").status_code == 401
        clock.advance(10)
    clock.advance(WINDOW_S - 51)  # 1 s before the first failure leaves the window
    late = _api_login(http, "inspector", password_of("inspector"))
    assert late.status_code == 429 and late.headers["retry-after"] == "1"
    clock.advance(1)
    ok = _form_login(http, "inspector", password_of("inspector"))
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert http.get("/api/session").json()["user"]["username"] == "inspector"


def test_sliding_window_frees_one_attempt_at_a_time(clock: FakeClock) -> None:
    limiter = LoginLimiter(clock=clock)
    for _ in range(ACCOUNT_MAX_FAILURES):
        assert limiter.begin("planner", "a").allowed  # a failure (never marked succeeded)
        clock.advance(10)
    assert limiter.begin("planner", "a").retry_after_s == WINDOW_S - 50
    clock.advance(WINDOW_S - 50)  # the first failure leaves the window: one more try
    attempt = limiter.begin("planner", "a")
    assert attempt.allowed and attempt.locks == ("account",)
    assert limiter.begin("planner", "a").retry_after_s == 10  # until the second one leaves


def test_success_resets_the_account_but_not_the_address(app: Any, clock: FakeClock) -> None:
    http = _client(app, "198.51.100.7")
    for _ in range(ACCOUNT_MAX_FAILURES - 1):
        assert _api_login(http, "pilot", "wrong-password").status_code == 401
    assert _api_login(http, "pilot", password_of("pilot")).status_code == 200
    for _ in range(ACCOUNT_MAX_FAILURES):  # a full budget again
        assert _api_login(http, "pilot", "wrong-password").status_code == 401
    assert _api_login(http, "pilot", "wrong-password").status_code == 429
    # the address still holds all 9 failures: 11 more reach its limit of 20
    for i in range(CLIENT_MAX_FAILURES - 2 * ACCOUNT_MAX_FAILURES + 1):
        assert _api_login(http, f"nobody-{i}", "wrong-password").status_code == 401
    r = _api_login(http, "admin", password_of("admin"))
    assert r.status_code == 429
    assert r.json()["error"].startswith("too many failed log-ins from this address")


def test_per_address_limit_across_user_names(app: Any, store: Any, clock: FakeClock) -> None:
    attacker, other = _client(app, "203.0.113.9"), _client(app, "203.0.113.10")
    before = len(_lockouts(store))
    for i in range(CLIENT_MAX_FAILURES):
        r = _api_login(attacker, f"guess-{i}", "wrong-password")
        assert r.status_code == 401, (i, r.text)
        clock.advance(1)
    r = _api_login(attacker, "guess-new", "wrong-password")
    assert r.status_code == 429 and r.headers["retry-after"] == str(int(WINDOW_S) - 20)
    # the right password of a real user from that address is refused as well
    assert _api_login(attacker, "admin", password_of("admin")).status_code == 429
    # every guessed name had one failure only; another address logs in as usual
    assert _api_login(other, "admin", password_of("admin")).status_code == 200
    entries = _lockouts(store)[before:]
    assert [(e[1], e[2]["scope"]) for e in entries] == [("203.0.113.9", "client")]


def test_parallel_attempts_cannot_overrun_the_limit(clock: FakeClock) -> None:
    """The slot is taken before the password is checked: five in flight, the sixth waits."""
    limiter = LoginLimiter(clock=clock)
    in_flight = [limiter.begin("admin", "a") for _ in range(ACCOUNT_MAX_FAILURES)]
    assert all(a.allowed for a in in_flight)
    assert in_flight[-1].locks == ("account",)
    assert not limiter.begin("admin", "a").allowed
    limiter.succeeded(in_flight[0])  # one of them had the right password
    assert limiter.begin("admin", "a").allowed
    limiter.abandoned(limiter.begin("other", "a"))  # a database error does not count
    assert limiter.tracked() == (1, 1)


def test_memory_is_bounded_and_expired_entries_go(clock: FakeClock) -> None:
    limiter = LoginLimiter(clock=clock, max_keys=3)
    for i in range(10):
        limiter.begin(f"user-{i}", f"10.0.0.{i}")
    assert limiter.tracked() == (3, 3)
    assert limiter.begin("user-9", "x").retry_after_s == 0
    clock.advance(WINDOW_S + 1)
    limiter.begin("late", "10.9.9.9")
    assert limiter.tracked() == (1, 1)
    with pytest.raises(ValueError):
        LoginLimiter(account_max_failures=0)
