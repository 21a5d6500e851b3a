"""Plan, prove and export one inspection mission: the job behind ``plantwatch drone plan``.

Site GeoJSON -> ``Site`` -> ``plan_inspection`` -> ``compute_coverage`` -> mission files. Every
file is written into a staging folder first and moved into the output folder only when all of
them succeeded, so bad input or a failure leaves nothing half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plantwatch.drone.camera import DEFAULT_CAMERA, get_camera
from plantwatch.drone.coverage import compute_coverage, coverage_to_json, render_coverage_map
from plantwatch.drone.export.dji_wpml import write_dji_kmz
from plantwatch.drone.export.geojson import write_route_geojson
from plantwatch.drone.export.kml import write_kml
from plantwatch.drone.export.mavlink_wpl import write_mavlink_wpl
from plantwatch.drone.export.qgc_plan import write_qgc_plan
from plantwatch.drone.model import CoverageReport, Plan, PlanOptions, Site
from plantwatch.drone.planner import plan_inspection
from plantwatch.drone.site import load_site
from plantwatch.errors import InputError
from plantwatch.jsonutil import dumps_pretty

__all__ = ["CONTROLLED", "MissionResult", "closed_zone_ids", "plan_and_export"]

CONTROLLED = "controlled"  # --close value: every zone the site marks ``controlled: true``


@dataclass(frozen=True)
class MissionResult:
    site: Site
    plan: Plan
    coverage: CoverageReport
    files: tuple[Path, ...]
    site_path: Path


def closed_zone_ids(site: Site, close: tuple[str, ...]) -> tuple[str, ...]:
    """Zone ids the operation closes to third parties (MHLW-2022 Table 3.2 a1).

    ``controlled`` expands to every zone whose GeoJSON properties say ``controlled: true``
    (plant-internal roads and work areas whose access the plant controls during the flight).
    """
    ids: list[str] = []
    known = {z.id for z in site.zones}
    for item in close:
        if item == CONTROLLED:
            ids.extend(z.id for z in site.zones if z.properties.get(CONTROLLED) is True)
        elif item in known:
            ids.append(item)
        else:
            raise InputError(
                f"unknown zone id {item!r}; give a zone id of the site or {CONTROLLED!r}",
                field="--close",
            )
    return tuple(dict.fromkeys(ids))


def plan_and_export(site_path: str | Path, out_dir: str | Path, **options: Any) -> str:
    """Plan the site's inspection, compute coverage, write every output; return a summary line.

    ``options`` are those of :func:`plan_mission`.
    """
    result = plan_mission(site_path, **options)
    files = write_mission(result, out_dir)
    plan, cov = result.plan, result.coverage
    tanks = [f for f in cov.facilities if f.facility_type.endswith("_tank")]
    worst = min((f.coverage_pct for f in tanks), default=float("nan"))
    unflown = [f.facility_id for f in cov.facilities if f.coverage_pct == 0.0]
    return (
        f"{result.site.name}: {len(plan.sorties)} sorties, {plan.photo_count} photos, "
        f"{plan.flight_time_s / 60:.1f} min flight, standoff {plan.standoff_m:.1f} m; coverage "
        f"{cov.coverage_pct:.1f} % of the inspectable surface, worst tank shell+roof "
        f"{worst:.1f} %; not flown: {', '.join(unflown) or 'none'} (see plan.json skipped); "
        f"{len(cov.conventional_inspection)} spots for conventional inspection -> {out_dir} "
        f"({len(files)} files)"
    )


def plan_mission(
    site_path: str | Path,
    *,
    gsd_mm: float,
    camera_name: str | None = None,
    overlap: float = 0.7,
    wind_m_s: float = 5.0,
    min_distance_m: float = 5.0,
    battery_s: float = 1200.0,
    explosion_proof: bool = False,
    close: tuple[str, ...] = (CONTROLLED,),
) -> MissionResult:
    """Load, plan and compute coverage (no files written)."""
    if not 0.0 <= overlap < 0.95:
        raise InputError(f"must be within [0, 0.95), got {overlap}", field="--overlap")
    if not gsd_mm > 0:
        raise InputError(f"must be > 0, got {gsd_mm}", field="--gsd-mm")
    if not wind_m_s >= 0:
        raise InputError(f"must be >= 0, got {wind_m_s}", field="--wind-m-s")
    if not battery_s > 0:
        raise InputError(f"must be > 0, got {battery_s / 60:g} min", field="--battery-min")
    site = load_site(site_path)
    camera = get_camera(camera_name or DEFAULT_CAMERA)
    options = PlanOptions(
        gsd_mm=gsd_mm,
        front_overlap=overlap,
        side_overlap=overlap,
        wind_m_s=wind_m_s,
        min_distance_m=min_distance_m,
        battery_endurance_s=battery_s,
        explosion_proof=explosion_proof,
    )
    plan = plan_inspection(site, camera, options, closed_zone_ids=closed_zone_ids(site, close))
    coverage = compute_coverage(site, plan)
    return MissionResult(
        site=site, plan=plan, coverage=coverage, files=(), site_path=Path(site_path)
    )


def _plan_summary(result: MissionResult) -> dict[str, Any]:
    plan = result.plan
    return {
        "site": result.site.name,
        "camera": plan.camera.name,
        "gsd_mm": plan.options.gsd_mm,
        "standoff_m": plan.standoff_m,
        "sorties": [
            {
                "index": s.index,
                "photos": s.photo_count,
                "flight_time_s": s.flight_time_s,
                "distance_m": s.distance_m,
                "waypoints": len(s.waypoints),
            }
            for s in plan.sorties
        ],
        "photos": plan.photo_count,
        "flight_time_s": plan.flight_time_s,
        "skipped": list(plan.skipped),
        "baseline": plan.baseline,
        # every waypoint, ENU [m] (z above take-off) and WGS84, in flying order
        "waypoint_fields": [
            "sortie",
            "x_m",
            "y_m",
            "z_m",
            "lat_deg",
            "lon_deg",
            "heading_deg",
            "gimbal_pitch_deg",
            "speed_m_s",
            "action",
            "kind",
            "facility_id",
        ],
        "waypoints": [
            [
                s.index,
                round(w.x_m, 3),
                round(w.y_m, 3),
                round(w.z_m, 3),
                w.lat_deg,
                w.lon_deg,
                round(w.heading_deg, 2),
                round(w.gimbal_pitch_deg, 2),
                w.speed_m_s,
                w.action,
                w.kind,
                w.facility_id,
            ]
            for s in plan.sorties
            for w in s.waypoints
        ],
    }


def write_mission(result: MissionResult, out_dir: str | Path) -> tuple[Path, ...]:
    """Write the mission files into ``out_dir`` (all or nothing)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{str(out)!r} exists and is not a folder", field="--out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    site, plan = result.site, result.plan
    try:
        write_qgc_plan(plan, site, staging / "mission.plan")
        write_mavlink_wpl(plan, site, staging / "mission.waypoints")
        write_kml(plan, site, staging / "mission.kml")
        write_dji_kmz(plan, site, staging / "mission.kmz")
        write_route_geojson(plan, site, staging / "route.geojson")
        cov = coverage_to_json(result.coverage)
        (staging / "coverage.json").write_text(dumps_pretty(cov, indent=1, depth=3) + "\n")
        (staging / "plan.json").write_text(
            dumps_pretty(_plan_summary(result), indent=1, depth=2, default=str) + "\n"
        )
        render_coverage_map(site, plan, result.coverage, staging / "coverage.png")
        # the site as planned: what `drone check` / `drone document` read next to the route
        shutil.copyfile(result.site_path, staging / "site.geojson")
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for item in sorted(staging.iterdir()):
            os.replace(item, out / item.name)
            written.append(out / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return tuple(written)
