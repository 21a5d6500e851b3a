"""Brute-force protection for the log-in routes: failed attempts counted per account and per
client address in a sliding window (OWASP Authentication cheat sheet, "account lockout").

* **Limits** (the constants below, the one place they are set): 5 failures per user name and
  20 failures per client IP within 15 minutes. The next attempt is refused with 429 and a
  ``Retry-After`` header until the oldest counted failure leaves the window. Refused attempts
  are not counted (so ``Retry-After`` is exact) and their password is **not checked**: the answer
  is the same whether it was right or wrong, and a locked-out attacker costs no Argon2 hash.
* **Who is counted**: the user name is stripped and case-folded (``Admin`` and ``admin`` share a
  counter); unknown names are counted like real ones, so a lock-out does not tell which names
  exist. The client is the TCP peer address (``plantwatch serve`` does not trust
  ``X-Forwarded-For``): behind a reverse proxy every client shares the proxy's address and the
  per-IP limit applies to all of them together.
* **Success** resets the account's counter, not the address's: a valid account of one's own
  must not reset the per-IP budget for guessing others.
* **Concurrency**: :meth:`LoginLimiter.begin` checks and reserves a failure slot in one step
  under a lock, before the password is checked (Argon2 takes tens of milliseconds; checking
  first and counting afterwards would let parallel requests run far past the limit); a success
  gives the slot back.
* **State** is in this server process's memory: counts are per process and a restart forgets
  them. The app already assumes one ``plantwatch serve`` process per data folder
  (docs/web.md). Memory is bounded: at most :data:`MAX_TRACKED_KEYS` names and addresses each,
  expired ones dropped first, then the least recently failed.

Known limit: anyone can lock a named account for 15 minutes with 5 wrong passwords (the price of
per-account counting); an admin sees every lock-out in the audit log (``login.lockout``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "ACCOUNT_MAX_FAILURES",
    "CLIENT_MAX_FAILURES",
    "MAX_TRACKED_KEYS",
    "WINDOW_S",
    "Attempt",
    "LoginLimiter",
    "account_key",
]

ACCOUNT_MAX_FAILURES = 5  # failed log-ins per user name within WINDOW_S
CLIENT_MAX_FAILURES = 20  # failed log-ins per client IP within WINDOW_S (several users per IP)
WINDOW_S = 15 * 60.0  # sliding window [s]
MAX_TRACKED_KEYS = 10_000  # user names and addresses kept each (bounded memory under a flood)

SCOPES: tuple[str, ...] = ("account", "client")


def account_key(username: str) -> str:
    """The counter key of a user name (stripped, case-folded, at most 200 characters)."""
    return username.strip().casefold()[:200]


@dataclass(frozen=True)
class Attempt:
    """One log-in attempt as the limiter saw it.

    Attributes
    ----------
    account, client
        Counter keys (case-folded user name, client IP).
    at
        Limiter clock reading when it began [s].
    retry_after_s
        0 when the attempt may go ahead; otherwise whole seconds until it may [s].
    blocked_by
        The scopes (``account``, ``client``) over their limit; empty when allowed.
    locks
        The scopes this attempt locks if its password turns out wrong (it is the last failure
        the limit allows).
    """

    account: str
    client: str
    at: float
    retry_after_s: int = 0
    blocked_by: tuple[str, ...] = ()
    locks: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.blocked_by


class _Counter:
    """Failure times per key in a sliding window; keys ordered by their latest failure."""

    def __init__(self, limit: int, window_s: float, max_keys: int) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self.times: OrderedDict[str, deque[float]] = OrderedDict()

    def _live(self, key: str, now: float) -> deque[float] | None:
        times = self.times.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self.times[key]
            return None
        return times

    def retry_after_s(self, key: str, now: float) -> float:
        """Seconds until ``key`` is under its limit again (0: it is) [s]."""
        times = self._live(key, now)
        if times is None or len(times) < self.limit:
            return 0.0
        return times[len(times) - self.limit] + self.window_s - now

    def add(self, key: str, now: float) -> bool:
        """Count one failure; ``True`` when it reaches the limit."""
        self._sweep(now)
        times = self._live(key, now)
        if times is None:
            times = self.times[key] = deque()
        times.append(now)
        self.times.move_to_end(key)
        while len(self.times) > self.max_keys:
            self.times.popitem(last=False)
        return len(times) >= self.limit

    def discard(self, key: str, at: float) -> None:
        times = self.times.get(key)
        if times is not None and at in times:
            times.remove(at)
            if not times:
                del self.times[key]

    def clear(self, key: str) -> None:
        self.times.pop(key, None)

    def _sweep(self, now: float) -> None:
        """Drop keys whose latest failure has left the window (they sit at the front)."""
        while self.times:
            key, times = next(iter(self.times.items()))
            if times and times[-1] > now - self.window_s:
                return
            del self.times[key]


class LoginLimiter:
    """Per-account and per-client failed-log-in counters (see the module doc).

    Parameters
    ----------
    account_max_failures, client_max_failures
        Failures allowed per user name and per client address within the window.
    window_s
        Sliding window [s].
    max_keys
        Names and addresses tracked each at most.
    clock
        Monotonic clock [s]; tests pass a fake one instead of sleeping.
    """

    def __init__(
        self,
        *,
        account_max_failures: int = ACCOUNT_MAX_FAILURES,
        client_max_failures: int = CLIENT_MAX_FAILURES,
        window_s: float = WINDOW_S,
        max_keys: int = MAX_TRACKED_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if account_max_failures < 1 or client_max_failures < 1:
            raise ValueError("failure limits must be >= 1")
        if not window_s > 0 or max_keys < 1:
            raise ValueError("window_s must be > 0 and max_keys >= 1")
        self.window_s = float(window_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._counters = {
            "account": _Counter(account_max_failures, self.window_s, max_keys),
            "client": _Counter(client_max_failures, self.window_s, max_keys),
        }

    def begin(self, username: str, client_ip: str | None) -> Attempt:
        """Check both limits and, when allowed, count the attempt as failed until
        :meth:`succeeded` (one atomic step, so parallel attempts cannot overrun the limit)."""
        keys = {"account": account_key(username), "client": client_ip or "unknown"}
        with self._lock:
            now = self._clock()
            waits = {
                scope: self._counters[scope].retry_after_s(keys[scope], now) for scope in SCOPES
            }
            blocked = tuple(scope for scope in SCOPES if waits[scope] > 0)
            if blocked:
                wait_s = max(1, math.ceil(max(waits.values())))
                return Attempt(keys["account"], keys["client"], now, wait_s, blocked)
            locks = tuple(scope for scope in SCOPES if self._counters[scope].add(keys[scope], now))
        return Attempt(keys["account"], keys["client"], now, locks=locks)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the account starts afresh; the address gets its slot back."""
        if not attempt.allowed:
            return
        with self._lock:
            self._counters["account"].clear(attempt.account)
            self._counters["client"].discard(attempt.client, attempt.at)

    def abandoned(self, attempt: Attempt) -> None:
        """The check itself failed (a database error): the attempt does not count."""
        if not attempt.allowed:
            return
        with self._lock:
            self._counters["account"].discard(attempt.account, attempt.at)
            self._counters["client"].discard(attempt.client, attempt.at)

    def tracked(self) -> tuple[int, int]:
        """How many user names and addresses are tracked now (memory check)."""
        with self._lock:
            return len(self._counters["account"].times), len(self._counters["client"].times)
