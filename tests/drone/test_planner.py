"""Tests for plantwatch.drone.planner: patterns against closed forms, constraints, sorties,
ordering, baseline, determinism and speed (issue 5, "Planner")."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose

from plantwatch.drone.camera import footprint_m, standoff_for_gsd_m
from plantwatch.drone.model import (
    CameraModel,
    Facility,
    Plan,
    PlanOptions,
    Site,
    Sortie,
    Waypoint,
    Zone,
)
from plantwatch.drone.planner import (
    CLIMB_SPEED_M_S,
    PHOTO_HOVER_S,
    TAKEOFF_LANDING_S,
    plan_inspection,
    structure_scan_baseline,
    structure_scan_plan,
)
from plantwatch.drone.risk import fall_range_m
from plantwatch.drone.site import facility_primitives, site_from_geojson
from plantwatch.drone.synth import synthesize_site
from plantwatch.errors import InputError

# 1-inch 20 MP camera with an 8.8 mm lens (the GSD check camera).
CAMERA = CameraModel("test-1in-20mp", 13.2, 8.8, 5472, 3648, 8.8)
D_2MM = 2.0 * 8.8 / (13.2 / 5472) / 1000.0  # standoff for 2 mm/px [m] = 7.296
W_2MM = 13.2 * D_2MM / 8.8  # horizontal footprint at that standoff [m]
H_2MM = 8.8 * D_2MM / 8.8  # vertical footprint [m]


def tank(
    fid: str,
    x: float,
    y: float,
    diameter: float = 40.0,
    height: float = 20.0,
    kind: str = "fixed_roof_tank",
) -> Facility:
    return Facility(fid, fid, kind, (x, y, 0.0), height, diameter_m=diameter)  # type: ignore[arg-type]


def square(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def make_site(
    facilities: Sequence[Facility],
    zones: Sequence[Zone] = (),
    takeoffs: Sequence[tuple[float, float]] = ((-80.0, 0.0),),
) -> Site:
    return Site(
        name="test",
        origin_lat_deg=35.5,
        origin_lon_deg=139.8,
        origin_alt_m=0.0,
        facilities=tuple(facilities),
        zones=tuple(zones),
        takeoff_points_m=tuple(takeoffs),
    )


def distance_to_facility(f: Facility, points: np.ndarray) -> np.ndarray:
    """Distance to a facility's solids through plantwatch.geometry (independent of the planner)."""
    best = np.full(len(points), np.inf)
    for primitive in facility_primitives(f):
        surface = primitive.closest_surface_point(points)
        dist = np.linalg.norm(points - surface, axis=1)
        best = np.minimum(best, np.where(primitive.contains(points), 0.0, dist))
    return best


def leg_samples(sortie: Sortie, step_m: float = 0.25) -> np.ndarray:
    """Points every ``step_m`` along a sortie, from the ground at the take-off point."""
    path = np.vstack([[*sortie.takeoff_m, 0.0], [w.position_m for w in sortie.waypoints]])
    out = [path[:1]]
    for a, b in itertools.pairwise(path):
        n = max(int(np.ceil(np.linalg.norm(b - a) / step_m)), 1)
        out.append(a + np.linspace(0.0, 1.0, n + 1)[1:, None] * (b - a))
    return np.vstack(out)


def all_samples(plan: Plan) -> np.ndarray:
    return np.vstack([leg_samples(s) for s in plan.sorties])


def photos(plan: Plan, facility_id: str | None = None, kind: str | None = None) -> list[Waypoint]:
    return [
        w
        for w in plan.waypoints
        if w.action == "photo"
        and (facility_id is None or w.facility_id == facility_id)
        and (kind is None or w.kind == kind)
    ]


# -- standoff and GSD -------------------------------------------------------------------------


def test_standoff_gives_the_target_gsd() -> None:
    plan = plan_inspection(make_site([tank("T-1", 0.0, 0.0)]), CAMERA, PlanOptions(gsd_mm=2.0))
    assert_allclose(plan.standoff_m, D_2MM, rtol=1e-12)
    assert_allclose(plan.standoff_m, standoff_for_gsd_m(CAMERA, 2.0))


def test_gsd_needing_a_standoff_below_the_minimum_distance_is_rejected() -> None:
    with pytest.raises(InputError) as info:
        plan_inspection(make_site([tank("T-1", 0.0, 0.0)]), CAMERA, PlanOptions(gsd_mm=0.5))
    message = str(info.value)
    assert "\n" not in message
    assert message.endswith(
        "target GSD 0.5 mm/px needs a 1.8 m standoff, closer than the 5.0 m minimum distance; "
        "use a longer lens or a coarser GSD"
    )


# -- patterns against closed forms -------------------------------------------------------------


def test_orbit_layers_and_photo_spacing_match_the_closed_form() -> None:
    radius, height = 20.0, 20.0
    options = PlanOptions(gsd_mm=2.0, front_overlap=0.7, side_overlap=0.7)
    plan = plan_inspection(make_site([tank("T-1", 0.0, 0.0, 2 * radius, height)]), CAMERA, options)
    orbit = photos(plan, "T-1", "orbit")
    xyz = np.array([w.position_m for w in orbit])
    layer_z = np.unique(np.round(xyz[:, 2], 6))
    # Layers: bands of H_f spaced H_f (1 - o_s), from H_f / 2 to H - H_f / 2.
    step = H_2MM * (1.0 - 0.7)
    n_layers = math.ceil((height - H_2MM) / step) + 1
    assert len(layer_z) == n_layers == 7
    assert_allclose(layer_z, np.linspace(H_2MM / 2, height - H_2MM / 2, n_layers), atol=1e-9)
    # Photos per layer from the arc on the tank wall: ceil(2 pi R / (W (1 - o_f))).
    n_photos = math.ceil(2 * math.pi * radius / (W_2MM * (1.0 - 0.7)))
    assert n_photos == 39
    assert len(orbit) == n_layers * n_photos
    # ... fewer than the same spacing on the flight circle would need.
    assert n_photos < math.ceil(2 * math.pi * (radius + D_2MM) / (W_2MM * (1.0 - 0.7)))
    first = xyz[np.isclose(xyz[:, 2], layer_z[0])]
    assert_allclose(np.hypot(first[:, 0], first[:, 1]), radius + D_2MM, rtol=1e-9)
    bearings = np.sort(np.degrees(np.arctan2(first[:, 0], first[:, 1])) % 360.0)
    assert_allclose(np.diff(bearings), 360.0 / n_photos, atol=1e-6)
    # Camera level, aimed at the axis.
    for w in orbit:
        assert w.gimbal_pitch_deg == 0.0
        to_centre = math.degrees(math.atan2(-w.x_m, -w.y_m)) % 360.0
        assert_allclose((w.heading_deg - to_centre + 180.0) % 360.0 - 180.0, 0.0, atol=1e-9)


def test_layers_alternate_direction_and_start_where_the_last_ended() -> None:
    plan = plan_inspection(make_site([tank("T-1", 0.0, 0.0)]), CAMERA, PlanOptions())
    orbit = photos(plan, "T-1", "orbit")
    z = np.array([w.z_m for w in orbit])
    ends = np.flatnonzero(np.diff(z) != 0)
    for end in ends:
        a, b = orbit[end], orbit[end + 1]
        assert_allclose([a.x_m, a.y_m], [b.x_m, b.y_m], atol=1e-9)  # straight up


def test_low_band_is_shot_from_the_minimum_height_with_the_gimbal_down() -> None:
    camera = CameraModel("short-sensor", 13.2, 4.0, 5472, 1658, 8.8)  # H_f = 3.3 m at 7.3 m
    plan = plan_inspection(make_site([tank("T-1", 0.0, 0.0)]), camera, PlanOptions(gsd_mm=2.0))
    d = standoff_for_gsd_m(camera, 2.0)
    band_centre = footprint_m(camera, d)[1] / 2.0
    assert band_centre < 2.0
    lowest = min(photos(plan, "T-1", "orbit"), key=lambda w: w.z_m)
    assert_allclose(lowest.z_m, 2.0)
    assert_allclose(lowest.gimbal_pitch_deg, -math.degrees(math.atan2(2.0 - band_centre, d)))


def test_roof_grid_covers_the_roof_disk_looking_down() -> None:
    radius, height = 15.0, 12.0
    plan = plan_inspection(
        make_site([tank("T-1", 0.0, 0.0, 2 * radius, height)]), CAMERA, PlanOptions()
    )
    roof = photos(plan, "T-1", "roof")
    assert roof and all(w.gimbal_pitch_deg == -90.0 for w in roof)
    assert_allclose([w.z_m for w in roof], height + D_2MM)
    # Every point of the roof disk lies in some photo's footprint (heading along the row).
    rng = np.random.default_rng(0)
    r = radius * np.sqrt(rng.uniform(0, 1, 2000))
    a = rng.uniform(0, 2 * np.pi, 2000)
    pts = np.column_stack([r * np.sin(a), r * np.cos(a)])
    centres = np.array([[w.x_m, w.y_m] for w in roof])
    heading = np.radians([w.heading_deg for w in roof])
    along = np.column_stack([np.sin(heading), np.cos(heading)])
    rel = pts[:, None, :] - centres[None, :, :]
    along_d = np.abs(np.sum(rel * along[None], axis=2))
    across_d = np.abs(rel[..., 0] * along[None, :, 1] - rel[..., 1] * along[None, :, 0])
    inside = (along_d <= H_2MM / 2 + 1e-9) & (across_d <= W_2MM / 2 + 1e-9)
    assert inside.any(axis=1).all()


def test_sphere_rings_aim_at_the_centre() -> None:
    sphere = Facility("SP", "SP", "sphere", (0.0, 0.0, 0.0), 20.0, diameter_m=16.0)
    plan = plan_inspection(make_site([sphere]), CAMERA, PlanOptions())
    centre = np.array([0.0, 0.0, 20.0 - 8.0])
    rings = photos(plan, "SP", "sphere")
    assert len({round(w.z_m, 6) for w in rings}) >= 5
    for w in rings:
        offset = centre - w.position_m
        assert np.linalg.norm(offset) >= 8.0 + D_2MM - 1e-9
        pitch, heading = math.radians(w.gimbal_pitch_deg), math.radians(w.heading_deg)
        look = np.array(
            [
                math.cos(pitch) * math.sin(heading),
                math.cos(pitch) * math.cos(heading),
                math.sin(pitch),
            ]
        )
        assert_allclose(look, offset / np.linalg.norm(offset), atol=1e-9)
    assert min(w.gimbal_pitch_deg for w in rings) == -90.0  # the last photo over the top


def test_box_sides_face_the_structure_at_the_standoff() -> None:
    rack = Facility(
        "PR", "PR", "pipe_rack", (0.0, 0.0, 0.0), 9.0, length_m=60.0, width_m=8.0, yaw_deg=30.0
    )
    plan = plan_inspection(make_site([rack]), CAMERA, PlanOptions())
    side = [w for w in photos(plan, "PR", "rack") if w.gimbal_pitch_deg > -90.0]
    top = [w for w in photos(plan, "PR", "rack") if w.gimbal_pitch_deg == -90.0]
    assert side and top
    assert_allclose(distance_to_facility(rack, np.array([w.position_m for w in side])), D_2MM)
    assert_allclose([w.z_m for w in top], 9.0 + D_2MM)
    for w in side:  # the optical axis hits the box square-on at the standoff
        heading = math.radians(w.heading_deg)
        probe = w.position_m + D_2MM * np.array([math.sin(heading), math.cos(heading), 0.0])
        assert_allclose(distance_to_facility(rack, probe[None, :]), 0.0, atol=1e-6)


# -- constraints ------------------------------------------------------------------------------


def mixed_site(zones: Sequence[Zone] = ()) -> Site:
    return make_site(
        [
            tank("T-1", 0.0, 0.0, 30.0, 18.0),
            tank("T-2", 50.0, 0.0, 24.0, 14.0, "floating_roof_tank"),
            Facility("C-1", "C-1", "column", (0.0, 60.0, 0.0), 30.0, diameter_m=3.0),
            Facility("SP-1", "SP-1", "sphere", (60.0, 60.0, 0.0), 18.0, diameter_m=14.0),
            Facility(
                "PR-1",
                "PR-1",
                "pipe_rack",
                (25.0, -45.0, 0.0),
                8.0,
                length_m=70.0,
                width_m=6.0,
                yaw_deg=90.0,
            ),
        ],
        zones,
    )


def test_every_waypoint_and_leg_keeps_the_minimum_distance() -> None:
    site = mixed_site()
    plan = plan_inspection(site, CAMERA, PlanOptions(min_distance_m=5.0))
    samples = all_samples(plan)
    for f in site.facilities:
        assert distance_to_facility(f, samples).min() >= 5.0 - 1e-6, f.id


def test_heights_stay_below_the_limit() -> None:
    stack = Facility("S-1", "S-1", "stack", (0.0, 0.0, 0.0), 160.0, diameter_m=4.0)
    plan = plan_inspection(make_site([stack]), CAMERA, PlanOptions(max_height_m=150.0))
    assert max(w.z_m for w in plan.waypoints) <= 150.0
    assert all_samples(plan)[:, 2].max() <= 150.0
    assert any("150 m height limit" in e["reason"] for e in plan.skipped)


HAZARD = Zone("Z1", "zone1", square(10.0, -40.0, 60.0, 40.0), 0.0, 40.0)


def in_zone(zone: Zone, points: np.ndarray) -> np.ndarray:
    polygon = shapely.Polygon(zone.polygon_m)
    inside = shapely.intersects_xy(polygon, points[:, 0], points[:, 1])
    return inside & (points[:, 2] >= zone.floor_m) & (points[:, 2] <= zone.ceiling_m)


def test_non_explosion_proof_aircraft_stays_out_of_hazardous_zones() -> None:
    site = mixed_site([HAZARD])
    plan = plan_inspection(site, CAMERA, PlanOptions(explosion_proof=False))
    assert not in_zone(HAZARD, all_samples(plan)).any()
    dropped = [e for e in plan.skipped if "inside zone1 zone 'Z1'" in e["reason"]]
    assert dropped and all(e["action"] == "dropped" for e in dropped)
    assert photos(plan, "T-1")  # the tank west of the zone is still flown (partly)


def test_explosion_proof_aircraft_flies_inside_hazardous_zones() -> None:
    site = mixed_site([HAZARD])
    plan = plan_inspection(site, CAMERA, PlanOptions(explosion_proof=True))
    inside = in_zone(HAZARD, np.array([w.position_m for w in photos(plan)]))
    assert inside.sum() > 50
    assert not any("zone1" in e["reason"] for e in plan.skipped)


def test_keep_out_zone_across_an_orbit_is_not_crossed() -> None:
    no_fly = Zone("NF", "no_fly", square(-40.0, 5.0, 40.0, 40.0))  # the north of tank T-1
    site = make_site([tank("T-1", 0.0, 0.0, 30.0, 18.0)], [no_fly])
    plan = plan_inspection(site, CAMERA, PlanOptions())
    samples = all_samples(plan)
    assert not in_zone(no_fly, samples).any()
    assert distance_to_facility(site.facilities[0], samples).min() >= 5.0 - 1e-6
    kept = np.array([w.position_m for w in photos(plan, "T-1", "orbit")])
    assert (kept[:, 1] < 5.0).all() and len(kept) > 50


def two_tanks(zone: Zone) -> Site:
    return make_site(
        [tank("T-1", 0.0, 0.0, 30.0, 18.0), tank("T-2", 100.0, 0.0, 30.0, 18.0)], [zone]
    )


def test_transit_goes_around_a_no_fly_zone() -> None:
    wall = Zone("NF", "no_fly", square(40.0, -200.0, 60.0, 200.0))  # endless ceiling
    plan = plan_inspection(two_tanks(wall), CAMERA, PlanOptions())
    samples = all_samples(plan)
    assert photos(plan, "T-2") and not in_zone(wall, samples).any()
    assert np.abs(samples[:, 1]).max() > 200.0  # around the end of the wall


def test_transit_climbs_over_a_zone_with_a_ceiling() -> None:
    low = Zone("Z2", "zone2", square(40.0, -400.0, 60.0, 400.0), 0.0, 35.0)
    plan = plan_inspection(two_tanks(low), CAMERA, PlanOptions())
    samples = all_samples(plan)
    assert photos(plan, "T-2") and not in_zone(low, samples).any()
    over = samples[(samples[:, 0] > 40.0) & (samples[:, 0] < 60.0)]
    assert over[:, 2].min() > 35.0
    assert np.abs(samples[:, 1]).max() < 100.0  # not around the 800 m long zone


def test_fall_range_keeps_off_a_people_zone() -> None:
    people = Zone("P", "people", square(30.0, -50.0, 60.0, 50.0))  # 15 m east of the wall
    site = make_site([tank("T-1", 0.0, 0.0, 30.0, 18.0)], [people])
    options = PlanOptions(wind_m_s=5.0, speed_m_s=4.0)
    plan = plan_inspection(site, CAMERA, options)
    polygon = shapely.Polygon(people.polygon_m)
    advised = any(
        e["action"] == "advisory" and "people zone 'P'" in e["reason"] for e in plan.skipped
    )
    for s in plan.sorties:
        wps = s.waypoints
        for i, w in enumerate(wps[1:-1], start=1):  # not the take-off and landing points
            speed = max(wps[i - 1].speed_m_s, w.speed_m_s)
            reach = float(fall_range_m(w.z_m, speed, options.wind_m_s))
            clear = polygon.distance(shapely.Point(w.x_m, w.y_m)) >= reach - 1e-6
            # Photo waypoints are dropped or slowed; a connector that cannot be slowed enough
            # (a climb over the tank) is kept and reported as an advisory.
            assert clear or (w.action == "none" and advised)
    reasons = [(e["action"], e["reason"]) for e in plan.skipped if "people zone 'P'" in e["reason"]]
    assert {"dropped", "slowed"} <= {a for a, _ in reasons}
    east = [w for w in photos(plan, "T-1", "orbit") if w.x_m > 0.0]
    assert min(w.speed_m_s for w in east) < options.speed_m_s  # slowed near the people


def test_fall_range_stays_inside_the_boundary() -> None:
    boundary = Zone("B", "boundary", square(-150.0, -150.0, 30.0, 150.0))  # 15 m east of T-1
    site = make_site([tank("T-1", 0.0, 0.0, 30.0, 18.0)], [boundary])
    plan = plan_inspection(site, CAMERA, PlanOptions())
    ring = shapely.Polygon(boundary.polygon_m).exterior
    for w in photos(plan):
        reach = float(fall_range_m(w.z_m, w.speed_m_s, 5.0))
        assert ring.distance(shapely.Point(w.x_m, w.y_m)) >= reach - 1e-6
    assert any("the site boundary" in e["reason"] for e in plan.skipped)


def test_closed_road_is_exempt_but_reported() -> None:
    road = Zone("R-1", "road", square(20.0, -100.0, 28.0, 100.0))  # under the east orbit
    site = make_site([tank("T-1", 0.0, 0.0, 30.0, 18.0)], [road])
    strict = plan_inspection(site, CAMERA, PlanOptions())
    closed = plan_inspection(site, CAMERA, PlanOptions(), closed_zone_ids=["R-1"])
    assert len(photos(closed)) > len(photos(strict))
    notes = [e for e in closed.skipped if e["action"] == "close"]
    assert len(notes) == 1 and "road zone 'R-1'" in notes[0]["reason"]


# -- sorties, ordering, baseline ------------------------------------------------------------------


def recomputed_time_s(sortie: Sortie) -> float:
    """Flight time from the waypoint list with the documented model."""
    xyz = np.array([w.position_m for w in sortie.waypoints])
    total = TAKEOFF_LANDING_S + xyz[0, 2] / CLIMB_SPEED_M_S
    for a, b, w_next in zip(
        sortie.waypoints[:-1], sortie.waypoints[1:], sortie.waypoints[1:], strict=True
    ):
        horizontal = math.hypot(b.x_m - a.x_m, b.y_m - a.y_m)
        total += horizontal / a.speed_m_s if horizontal > 0 else 0.0
        total += abs(b.z_m - a.z_m) / CLIMB_SPEED_M_S
        total += PHOTO_HOVER_S if w_next.action == "photo" else 0.0
    return total


def test_sorties_fit_the_battery_and_keep_every_photo() -> None:
    site = mixed_site()
    unlimited = 10**6  # photos: only the battery cuts sorties here
    long = plan_inspection(
        site,
        CAMERA,
        PlanOptions(battery_endurance_s=10 * 3600.0, max_photos_per_sortie=unlimited),
    )
    short = plan_inspection(
        site, CAMERA, PlanOptions(battery_endurance_s=8 * 60.0, max_photos_per_sortie=unlimited)
    )
    assert len(long.sorties) == 1 and len(short.sorties) > 3
    assert short.photo_count == long.photo_count
    for s in short.sorties:
        assert s.flight_time_s <= 8 * 60.0 + 1e-6
        assert_allclose(s.flight_time_s, recomputed_time_s(s), rtol=1e-9)
        assert s.waypoints[0].kind == "takeoff" and s.waypoints[-1].kind == "landing"
        assert_allclose([s.waypoints[0].x_m, s.waypoints[0].y_m], s.takeoff_m)
        assert_allclose(s.waypoints[-1].position_m, [*s.takeoff_m, 0.0])


def test_each_sortie_takes_off_from_the_nearest_take_off_point() -> None:
    facilities = [tank("W", -300.0, 0.0, 20.0, 12.0), tank("E", 300.0, 0.0, 20.0, 12.0)]
    site = make_site(facilities, takeoffs=[(-350.0, 0.0), (350.0, 0.0)])
    plan = plan_inspection(site, CAMERA, PlanOptions(battery_endurance_s=12 * 60.0))
    assert len(plan.sorties) >= 2
    for s in plan.sorties:
        first = next(w for w in s.waypoints if w.action == "photo")
        nearest = min(site.takeoff_points_m, key=lambda t: math.dist(t, (first.x_m, first.y_m)))
        assert s.takeoff_m == nearest


def shuffled_grid_site(seed: int = 3) -> Site:
    positions = [(60.0 * i, 60.0 * j) for i in range(5) for j in range(4)]
    order = np.random.default_rng(seed).permutation(len(positions))
    return make_site(
        [tank(f"T-{k:02d}", *positions[k], 24.0, 12.0) for k in order],
        takeoffs=[(-60.0, -60.0)],
    )


def test_tour_order_is_shorter_than_the_input_order() -> None:
    site = shuffled_grid_site()
    options = PlanOptions(battery_endurance_s=10 * 3600.0, max_photos_per_sortie=10**6)
    tour = plan_inspection(site, CAMERA, options)
    naive = plan_inspection(site, CAMERA, options, ordering="input")
    tour_total = tour.baseline["planned"]["total"]
    naive_total = naive.baseline["planned"]["total"]
    assert tour.photo_count == naive.photo_count
    assert tour_total["distance_m"] < naive_total["distance_m"]
    assert tour_total["transit_distance_m"] < 0.5 * naive_total["transit_distance_m"]
    visited = [w.facility_id for w in tour.waypoints if w.facility_id]
    firsts = list(dict.fromkeys(visited))
    assert sorted(firsts) == sorted(f.id for f in site.facilities)  # each facility once ...
    assert len(firsts) == len([k for k, v in enumerate(visited) if k == 0 or v != visited[k - 1]])


def test_baseline_is_structure_scans_layer_rule() -> None:
    radius, height = 20.0, 20.0
    t = tank("T-1", 0.0, 0.0, 2 * radius, height)
    options = PlanOptions(front_overlap=0.7, side_overlap=0.6)
    plan = plan_inspection(make_site([t]), CAMERA, options)
    figures = plan.baseline["facilities"]["T-1"]
    layers = math.ceil(height / (H_2MM * (1.0 - 0.6)))
    assert figures["layers"] == layers == 7
    perimeter = 2 * math.pi * (radius + D_2MM)
    assert figures["photos"] == int(perimeter / (W_2MM * (1.0 - 0.7))) * layers
    assert_allclose(figures["distance_m"], perimeter * layers + height)
    assert figures == structure_scan_baseline(t, CAMERA, options)
    assert plan.baseline["total"]["photos"] == figures["photos"]
    planned = plan.baseline["planned"]["facilities"]["T-1"]
    assert planned["side_photos"] < figures["photos"]
    assert planned["side_time_s"] < figures["flight_time_s"]


def test_structure_scan_plan_places_the_baseline_photos() -> None:
    radius, height = 20.0, 20.0
    rack = Facility(
        "PR", "PR", "pipe_rack", (0.0, 120.0, 0.0), 9.0, length_m=60.0, width_m=8.0, yaw_deg=30.0
    )
    site = make_site([tank("T-1", 0.0, 0.0, 2 * radius, height), rack])
    options = PlanOptions()
    plan = structure_scan_plan(site, CAMERA, options)
    for f in site.facilities:
        figures = structure_scan_baseline(f, CAMERA, options)
        wps = [w for w in plan.waypoints if w.facility_id == f.id]
        assert len(wps) == figures["photos"]
        z = np.unique(np.round([w.z_m for w in wps], 9))
        lh = figures["layer_height_m"]
        assert_allclose(z, lh / 2 + lh * np.arange(figures["layers"]))
        pts = np.array([w.position_m for w in wps])
        dist = distance_to_facility(f, np.column_stack([pts[:, :2], np.full(len(pts), 1.0)]))
        assert dist.min() >= D_2MM - 1e-9  # on the outline offset by the standoff
        for w in wps:  # facing the structure
            heading = math.radians(w.heading_deg)
            probe = w.position_m + 2 * D_2MM * np.array([math.sin(heading), math.cos(heading), 0])
            probe[2] = min(probe[2], f.height_m / 2)
            assert (
                distance_to_facility(f, probe[None, :])[0]
                < distance_to_facility(f, np.array([[w.x_m, w.y_m, probe[2]]]))[0]
            )


def test_plan_is_deterministic_and_geolocated() -> None:
    site = mixed_site([HAZARD])
    first = plan_inspection(site, CAMERA, PlanOptions())
    second = plan_inspection(site, CAMERA, PlanOptions())
    assert first == second
    wps = first.waypoints
    assert all(w.lat_deg is not None and w.lon_deg is not None for w in wps)
    back = site.from_wgs84(np.array([[w.lat_deg, w.lon_deg, w.z_m] for w in wps]))
    assert_allclose(back[:, :2], [[w.x_m, w.y_m] for w in wps], atol=1e-3)


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"options": PlanOptions(front_overlap=1.0)}, "options.front_overlap"),
        ({"options": PlanOptions(facility_ids=("T-9",))}, "unknown facility id"),
        ({"ordering": "random"}, "valid: tour, input"),
        ({"closed_zone_ids": ["R-9"]}, "unknown zone id"),
        ({"fall_keepout_kinds": ["office"]}, "fall_keepout_kinds"),
    ],
)
def test_invalid_arguments(kwargs: dict, match: str) -> None:
    args = {"options": PlanOptions(), **kwargs}
    with pytest.raises(InputError, match=match):
        plan_inspection(make_site([tank("T-1", 0.0, 0.0)]), CAMERA, **args)


def test_no_allowed_take_off_point() -> None:
    zone = Zone("Z1", "zone1", square(-100.0, -20.0, -60.0, 20.0))
    site = make_site([tank("T-1", 0.0, 0.0)], [zone], takeoffs=[(-80.0, 0.0)])
    with pytest.raises(InputError, match="every take-off point"):
        plan_inspection(site, CAMERA, PlanOptions())


# -- speed ----------------------------------------------------------------------------------------


def test_fifty_tank_site_plans() -> None:
    """Scale smoke test (its time is benched in bench/drone_planner.py, not asserted here)."""
    site = site_from_geojson(synthesize_site(50, 1))
    roads = [z.id for z in site.zones if z.kind == "road"]
    plan = plan_inspection(site, CAMERA, PlanOptions(gsd_mm=2.0), closed_zone_ids=roads)
    assert plan.photo_count > 5000
    assert all(s.flight_time_s <= PlanOptions().battery_endurance_s + 1e-6 for s in plan.sorties)


def test_sorties_respect_the_photo_cap() -> None:
    """Missions stay small enough for an autopilot's mission store."""
    plan = plan_inspection(
        mixed_site(), CAMERA, PlanOptions(battery_endurance_s=10 * 3600.0, max_photos_per_sortie=50)
    )
    assert len(plan.sorties) > 1
    assert all(s.photo_count <= 50 for s in plan.sorties)


def test_leg_speeds_are_quantised_down() -> None:
    plan = plan_inspection(make_site([tank("T-1", 0.0, 0.0)]), CAMERA, PlanOptions(speed_m_s=3.7))
    speeds = {w.speed_m_s for w in plan.waypoints if w.speed_m_s > 0}
    assert all(abs(v * 2 - round(v * 2)) < 1e-9 for v in speeds)
    assert max(speeds) <= 8.0
