"""Seed a store with a demo a new user can click through at once (``plantwatch demo --serve``).

What it adds (each step skipped when already there, so seeding twice is harmless):

* five users, one per role (``planner``, ``approver``, ``pilot``, ``inspector``, ``admin``),
  all with the documented demo password :data:`DEMO_PASSWORD` unless one is given;
* the packaged example tank farm (``plantwatch/data/sites/tank_farm.geojson``);
* a plan of it at a coarse GSD (quick to compute) with the routine operation file, so the plan
  page shows compliance findings, the risk register and the documents;
* a pilot with 50 h and an aircraft close to its 20-hour maintenance (the dashboard shows
  "due soon");
* a few synthetic drone photos of the plan's shots (:mod:`plantwatch.drone.photo_synth`: full
  EXIF and DJI XMP), each matched to its facility, and one finding.

Everything goes through ``store.service`` (audited), as a user would do it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "DemoInfo", "seed_demo"]

DEMO_PASSWORD = "plantwatch-demo"  # documented in the README: a demo store only
DEMO_USERS: tuple[str, ...] = ("planner", "approver", "pilot", "inspector", "admin")
DEMO_PLAN = "routine inspection (demo)"
DEMO_GSD_MM = 10.0  # coarse: the demo plan takes seconds
DEMO_PHOTO_SHOTS = (5, 40, 90, 120)  # shot numbers of the demo plan to render
DEMO_PHOTO_SCALE = 0.15  # fraction of the camera's pixels: small JPEGs


@dataclass
class DemoInfo:
    """What the seeding made (ids and the password, to print once)."""

    password: str
    users: list[str] = field(default_factory=list)
    site_id: int | None = None
    plan_id: int | None = None
    photo_ids: list[int] = field(default_factory=list)


def _data_path(*parts: str) -> Path:
    return Path(str(resources.files("plantwatch").joinpath("data", *parts)))


_ROUTINE_OPS = """\
# Routine daytime inspection of the demo tank farm (fictitious aircraft, people and registration;
# as examples/ops/routine.yaml, with the date set when the demo was seeded).
date: {date}
start_time: "09:30"
end_time: "15:30"
purpose: Periodic voluntary inspection of tank shells and roofs
capture: [visible, infrared]
visual_line_of_sight: true
tethered: false
third_party_area_closed: true
wind_forecast_m_s: 3.0
wind_stop_m_s: 5.0
aircraft:
  id: UAV-01
  model: "Inspection quadcopter X4 (fictitious)"
  registration: "JU0000000001"
  remote_id: "RID-X4-000001"
  explosion_proof: false
  mass_kg: 6.3
  max_wind_m_s: 12.0
  flight_hours: 185.5
  hours_since_maintenance: 6.0
  radios:
    - {{name: "control and telemetry link", band_ghz: 2.4, certified: true}}
pilot:
  name: "Sato Hanako"
  flight_hours: 50
crew:
  role.pilot: "Sato Hanako"
  role.observer: "Suzuki Ichiro"
  role.route_watch: "Takahashi Jiro"
  role.flight_planner: "Tanaka Yuki"
  role.plan_approver: "Ito Kenji (plant manager)"
  role.safety_manager: "Watanabe Mai"
  role.abort_authority: "Ito Kenji (plant manager)"
  role.equipment_expert: "Yamamoto Sho (tank maintenance)"
confirmations:
  internal.flight_plan_approved: true
  internal.plant_procedures: true
  hazardous_area.zone_classification: true
  hazardous_area.fall_range_separation: true
"""


def demo_ops_yaml(today: dt.date | None = None) -> str:
    """The demo operation file, dated a week ahead on a weekday (never "in the past")."""
    day = (today or dt.date.today()) + dt.timedelta(days=7)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return _ROUTINE_OPS.format(date=day.isoformat())


def seed_demo(
    store: Any,
    *,
    password: str = DEMO_PASSWORD,
    photos: bool = True,
    progress: Callable[[str], None] = lambda _line: None,
) -> DemoInfo:
    """Fill ``store`` with the demo (see the module notes); return what was made."""
    from plantwatch.drone.records import Aircraft, Pilot
    from plantwatch.store import models as m
    from plantwatch.store import service
    from plantwatch.web.assess import assessment

    info = DemoInfo(password=password)
    with store.session() as s:
        existing = set(s.scalars(select(m.User.username)))
        for role in DEMO_USERS:
            if role not in existing:
                service.create_user(s, role, password, role, None)
                info.users.append(role)
    progress(f"users: {', '.join(DEMO_USERS)}")
    site_text = _data_path("sites", "tank_farm.geojson").read_text(encoding="utf-8")
    with store.session() as s:
        site = s.scalars(select(m.Site).order_by(m.Site.id)).first()
        if site is None:
            site = service.import_site(s, site_text, None, "planner")
        info.site_id = int(site.id)
    progress(f"site {info.site_id}: the example tank farm")
    with store.session() as s:
        plan = s.scalars(select(m.Plan).where(m.Plan.name == DEMO_PLAN)).first()
        if plan is None:
            plan = service.create_plan(
                s,
                store,
                info.site_id,
                DEMO_PLAN,
                {"gsd_mm": DEMO_GSD_MM},
                "planner",
                ops_yaml=demo_ops_yaml(),
            )
        info.plan_id = int(plan.id)
        plan_dir = store.path(plan.plan_dir)
        ops = plan.ops_yaml or ""
    if ops:
        assessment(store.data_dir, info.plan_id, plan_dir, ops, compute=True)
    progress(f"plan {info.plan_id}: {DEMO_PLAN} (GSD {DEMO_GSD_MM:g} mm/px, compliance checked)")
    with store.session() as s:
        repo = service.SqlRecords(s, by="pilot")
        known = {p.id for p in repo.pilots()}
        if "p-sato" not in known:
            repo.add_pilot(
                Pilot.from_dict({"id": "p-sato", "name": "Sato Hanako", "flight_hours": 50})
            )
            repo.add_aircraft(
                Aircraft.from_dict(
                    {
                        "id": "UAV-01",
                        "model": "Inspection quadcopter X4 (fictitious)",
                        "registration": "JU0000000001",
                        "mass_kg": 6.3,
                        "flight_hours": 203.0,
                        "last_maintenance_hours": 185.0,
                        "last_maintenance_date": "2025-04-01",
                    }
                )
            )
    progress("records: pilot p-sato (50 h), aircraft UAV-01 (maintenance due soon)")
    if photos:
        info.photo_ids = _seed_photos(store, info.site_id, info.plan_id, plan_dir)
        progress(f"photos: {len(info.photo_ids)} synthetic drone photos with EXIF/XMP")
    return info


def _seed_photos(store: Any, site_id: int, plan_id: int, plan_dir: Path) -> list[int]:
    import json

    from plantwatch.drone.photo_synth import write_plan_photos
    from plantwatch.drone.site import load_site, site_primitives
    from plantwatch.store import models as m
    from plantwatch.store import service
    from plantwatch.web.routes_photos import read_photo_meta

    with store.session() as s:
        if s.scalars(select(m.Photo.id).where(m.Photo.plan_id == plan_id)).first() is not None:
            return []
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    action = list(plan["waypoint_fields"]).index("action")
    shots = sum(1 for w in plan["waypoints"] if w[action] == "photo")
    keep = {n for n in DEMO_PHOTO_SHOTS if n <= shots}
    site = load_site(plan_dir / "site.geojson")
    scene = site_primitives(site)
    ids: list[int] = []
    with tempfile.TemporaryDirectory(prefix="plantwatch-demo-") as tmp:
        paths = write_plan_photos(
            plan_dir, tmp, skip=set(range(1, shots + 1)) - keep, scale=DEMO_PHOTO_SCALE
        )
        with store.session() as s:
            for path in paths:
                meta, facility, taken = read_photo_meta(path, path.name, site, scene)
                photo = service.add_photo(
                    s,
                    store,
                    path,
                    path.name,
                    "pilot",
                    site_id=site_id,
                    plan_id=plan_id,
                    meta=meta,
                    facility_key=facility,
                    taken_at=taken,
                )
                ids.append(int(photo.id))
            if ids:
                service.add_finding(
                    s,
                    ids[0],
                    "corrosion",
                    2,
                    {"x": 120, "y": 150, "w": 90, "h": 60},
                    "rust streaks below the weld seam (demo)",
                    "inspector",
                )
    return ids
