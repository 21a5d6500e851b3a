"""Locust user for ``bench/web_load.py``: a plant team clicking through the web app.

Not run directly: ``web_load.py`` starts the server, logs one session in per role (Argon2 costs
are paid before the measured window) and passes the cookies and ids in the environment
variable ``PLANTWATCH_BENCH`` (JSON). Every request is named after its page, so the statistics
are per page; a wrong status or a page without its marker text counts as a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from typing import Any

from locust import FastHttpUser, between, task

CONFIG: dict[str, Any] = json.loads(os.environ.get("PLANTWATCH_BENCH", "{}"))
_ROLES = itertools.cycle(CONFIG.get("roles", ["planner", "approver", "pilot", "inspector"]))


class PlantTeamMember(FastHttpUser):
    """Reads the pages a team member opens during a day; pilots also answer checklist items."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.role = next(_ROLES)
        session = CONFIG["sessions"][self.role]
        self.cookie = f"{CONFIG['cookie_name']}={session['cookie']}"
        self.csrf = session["csrf"]
        self.plan = CONFIG["plan_id"]
        self.site = CONFIG["site_id"]
        self.photo = CONFIG["photo_id"]
        self.items = CONFIG["checklist_items"]
        self.run_id: int | None = None
        if self.role == "pilot":
            with self.client.post(
                "/api/checklists",
                json={"table": "4.1", "lang": "en"},
                headers=self._headers(write=True),
                name="/api/checklists",
                catch_response=True,
            ) as r:
                if r.status_code == 200:
                    self.run_id = int(r.json()["id"])
                else:
                    r.failure(f"{r.status_code}: {r.text[:200]}")

    def _headers(self, write: bool = False) -> dict[str, str]:
        """The session cookie (one signed session per role, made before the run)."""
        headers = {"Cookie": self.cookie}
        if write:
            headers["X-CSRF-Token"] = self.csrf
        return headers

    def _page(self, path: str, name: str, marker: str) -> None:
        with self.client.get(path, name=name, headers=self._headers(), catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
            elif marker not in (r.text or ""):
                r.failure(f"marker {marker!r} missing")

    @task(3)
    def sites(self) -> None:
        self._page("/sites", "/sites", 'data-testid="sites"')

    @task(2)
    def site_map(self) -> None:
        self._page(f"/sites/{self.site}", "/sites/{id}", "svg")

    @task(3)
    def plans(self) -> None:
        self._page("/plans", "/plans", 'data-testid="plans"')

    @task(3)
    def plan(self) -> None:
        self._page(f"/plans/{self.plan}", "/plans/{id}", 'data-testid="coverage"')

    @task(1)
    def plan_api(self) -> None:
        self._page(f"/api/plans/{self.plan}", "/api/plans/{id}", '"coverage"')

    @task(2)
    def checklists(self) -> None:
        self._page("/checklists", "/checklists", 'data-testid="checklist-runs"')

    @task(2)
    def flights(self) -> None:
        self._page("/flights", "/flights", 'data-testid="flights"')

    @task(2)
    def maintenance(self) -> None:
        self._page("/maintenance", "/maintenance", 'data-testid="maintenance"')

    @task(2)
    def photos(self) -> None:
        self._page("/photos", "/photos", 'data-testid="photos"')

    @task(1)
    def photo(self) -> None:
        self._page(f"/photos/{self.photo}", "/photos/{id}", 'data-testid="photo-meta"')

    @task(1)
    def gas(self) -> None:
        self._page("/gas", "/gas", 'data-testid="gas-videos"')

    @task(2)
    def answer_item(self) -> None:
        """A pilot ticks a checklist item (a write: lock, row update, audit entry)."""
        if self.run_id is None:
            self.sites()
            return
        with self.client.post(
            f"/api/checklists/{self.run_id}/items",
            json={"item_id": random.choice(self.items), "status": "ok", "note": "bench"},
            headers=self._headers(write=True),
            name="/api/checklists/{id}/items",
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {r.text[:200]}")
