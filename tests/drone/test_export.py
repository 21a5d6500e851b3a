"""Mission exports read back with real readers: QGC .plan JSON, pymavlink WPL loader, fastkml and
minidom for KML, zipfile + minidom for DJI WPML, json for GeoJSON; atomic writes."""

from __future__ import annotations

import json
import math
import sys
import types
import xml.dom.minidom
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastkml import kml as fastkml_kml
from numpy.typing import NDArray
from pymavlink import mavwp
from pymavlink.dialects.v20 import common as mavlink

from plantwatch.drone.camera import get_camera, standoff_for_gsd_m
from plantwatch.drone.export import (
    OVER_TAKEOFF_TOLERANCE_M,
    normalise_heading_deg,
    sortie_paths,
    sortie_routes,
    write_files_atomic,
)
from plantwatch.drone.export import mavlink_wpl as wpl
from plantwatch.drone.export.dji_wpml import (
    KML_NS,
    TEMPLATE_PATH,
    WAYLINES_PATH,
    WPML_NS,
    build_wpml_kmz,
    template_kml,
    waylines_wpml,
    write_dji_kmz,
)
from plantwatch.drone.export.geojson import build_route_geojson, write_route_geojson
from plantwatch.drone.export.kml import build_kml, write_kml
from plantwatch.drone.export.qgc_plan import build_qgc_plan, qgc_plan_text, write_qgc_plan
from plantwatch.drone.model import (
    Facility,
    Plan,
    PlanOptions,
    Site,
    Sortie,
    Waypoint,
    Zone,
)
from plantwatch.errors import InputError

# --------------------------------------------------------------------------------------------
# Fixtures: a small coastal tank farm and a two-sortie plan around two tanks.

ORIGIN_LAT_DEG, ORIGIN_LON_DEG = 35.45, 139.65  # Tokyo Bay shore
_A_M, _E2 = 6_378_137.0, 6.69437999014e-3  # WGS84 semi-major axis, first eccentricity squared


def _local_enu_to_wgs84(site: Site, points_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Tangent-plane ENU -> WGS84 for tests (meridian and prime-vertical radii at the origin)."""
    points = np.atleast_2d(np.asarray(points_m, dtype=np.float64))
    lat0 = math.radians(site.origin_lat_deg)
    w = 1.0 - _E2 * math.sin(lat0) ** 2
    meridian_m = _A_M * (1.0 - _E2) / w**1.5
    prime_m = _A_M / math.sqrt(w)
    lat = site.origin_lat_deg + np.degrees(points[:, 1] / meridian_m)
    lon = site.origin_lon_deg + np.degrees(points[:, 0] / (prime_m * math.cos(lat0)))
    return np.column_stack([lat, lon, points[:, 2]])


@pytest.fixture(autouse=True)
def _site_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use plantwatch.drone.site when it exists; otherwise a local stand-in for the test."""
    try:
        from plantwatch.drone.site import enu_to_wgs84  # noqa: F401
    except ImportError:
        module = types.ModuleType("plantwatch.drone.site")
        module.enu_to_wgs84 = _local_enu_to_wgs84  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "plantwatch.drone.site", module)


def _square(cx: float, cy: float, half: float) -> tuple[tuple[float, float], ...]:
    """Counter-clockwise square in ENU (x east, y north)."""
    return (
        (cx - half, cy - half),
        (cx + half, cy - half),
        (cx + half, cy + half),
        (cx - half, cy + half),
    )


@pytest.fixture
def site() -> Site:
    tanks = (
        Facility("T-1", "Crude tank", "fixed_roof_tank", (60.0, 40.0, 0.0), 18.0, diameter_m=30.0),
        Facility("T-2", "Naphtha", "floating_roof_tank", (-50.0, 60.0, 0.0), 15.0, diameter_m=24.0),
    )
    no_fly_clockwise = ((-20.0, -80.0), (-20.0, -60.0), (20.0, -60.0), (20.0, -80.0))
    zones = (
        Zone("site", "boundary", _square(0.0, 40.0, 150.0)),
        Zone("road-no-fly", "no_fly", no_fly_clockwise),
        Zone("ex-T-1", "zone2", _square(60.0, 40.0, 18.0), ceiling_m=20.0),
    )
    return Site(
        name="Coastal tank farm",
        origin_lat_deg=ORIGIN_LAT_DEG,
        origin_lon_deg=ORIGIN_LON_DEG,
        origin_alt_m=3.5,
        facilities=tanks,
        zones=zones,
        takeoff_points_m=((0.0, 0.0),),
    )


def _orbit(
    facility: Facility, standoff_m: float, heights_m: list[float], photos: int, speed_m_s: float
) -> list[Waypoint]:
    """Photo waypoints on a circle around a vertical cylinder, camera aimed at the axis."""
    cx, cy, _ = facility.center_m
    radius = (facility.diameter_m or 0.0) / 2.0 + standoff_m
    out = []
    for z in heights_m:
        for k in range(photos):
            bearing = 2.0 * math.pi * k / photos  # from the centre, clockwise from north
            x, y = cx + radius * math.sin(bearing), cy + radius * math.cos(bearing)
            heading = math.degrees(bearing) + 180.0  # look back at the tank
            out.append(Waypoint(x, y, z, heading, 0.0, speed_m_s, "photo", facility.id, "orbit"))
    return out


@pytest.fixture
def plan(site: Site) -> Plan:
    camera = get_camera("dji-phantom4-rtk")
    options = PlanOptions(gsd_mm=2.0, speed_m_s=3.0, transit_speed_m_s=8.0)
    standoff = standoff_for_gsd_m(camera, options.gsd_mm)
    t1, t2 = site.facilities
    transit1 = Waypoint(0.0, 0.0, 30.0, 45.0, 0.0, 8.0, "none", None, "transit")  # over take-off
    roof = [
        Waypoint(60.0 + dx, 40.0, 18.0 + standoff, 90.0, -90.0, 3.0, "photo", "T-1", "roof")
        for dx in (-6.0, 0.0, 6.0)
    ]
    sortie1 = (transit1, *_orbit(t1, standoff, [6.0, 14.0], 8, 3.0), *roof)
    explicit = Waypoint(
        -50.0,
        72.0 + standoff,
        5.0,
        180.0,
        0.0,
        3.0,
        "photo",
        "T-2",
        "orbit",
        lat_deg=35.45063,
        lon_deg=139.64945,
    )
    sortie2 = (*_orbit(t2, standoff, [5.0, 12.0], 6, 3.0)[1:], explicit)
    return Plan(
        site_name=site.name,
        camera=camera,
        options=options,
        standoff_m=standoff,
        sorties=(
            Sortie(0, (0.0, 0.0), sortie1, flight_time_s=540.0, distance_m=900.0),
            Sortie(1, (0.0, 0.0), sortie2, flight_time_s=420.0, distance_m=700.0),
        ),
    )


# --------------------------------------------------------------------------------------------
# The shared route


def test_sortie_routes_add_departure_and_return_only_where_needed(plan: Plan, site: Site) -> None:
    routes = sortie_routes(plan, site)
    assert [r.number for r in routes] == [1, 2]
    first, second = routes
    # Sortie 1 starts over the take-off point (transit1): no departure; ends at the roof: return.
    assert first.points[0].kind == "transit" and first.points[-1].kind == "return"
    assert len(first.points) == len(plan.sorties[0].waypoints) + 1
    # Sortie 2 starts away from the take-off point: departure at the first height.
    assert second.points[0].kind == "departure" and second.points[-1].kind == "return"
    assert second.points[0].height_m == plan.sorties[1].waypoints[0].z_m
    assert second.points[-1].height_m == plan.sorties[1].waypoints[-1].z_m
    for route in routes:
        home = (route.home_lat_deg, route.home_lon_deg)
        for added in (p for p in route.points if p.kind in ("departure", "return")):
            assert (added.lat_deg, added.lon_deg) == home and not added.photo
            assert added.speed_m_s == plan.options.transit_speed_m_s
        numbers = [p.photo_number for p in route.photo_points]
        assert numbers == list(range(1, route.sortie.photo_count + 1))
    assert first.home_amsl_m == pytest.approx(site.origin_alt_m, abs=1e-6)
    assert OVER_TAKEOFF_TOLERANCE_M > 0


def test_sortie_routes_use_waypoint_lat_lon_when_present(plan: Plan, site: Site) -> None:
    route = sortie_routes(plan, site)[1]
    explicit = route.points[-2]
    assert (explicit.lat_deg, explicit.lon_deg) == (35.45063, 139.64945)
    w = plan.sorties[1].waypoints[0]
    expected = site.to_wgs84(np.array([[w.x_m, w.y_m, w.z_m]]))[0]
    assert route.points[1].lat_deg == pytest.approx(expected[0], abs=1e-12)
    assert route.points[1].lon_deg == pytest.approx(expected[1], abs=1e-12)


def test_planner_ground_points_and_vertical_legs(plan: Plan, site: Site) -> None:
    # The planner's sorties start and end on the ground at the take-off point ("takeoff" /
    # "landing" at z = 0) and use speed 0 for vertical legs between orbit layers.
    ground = Waypoint(0.0, 0.0, 0.0, 0.0, 0.0, 1.0, "none", None, "takeoff")
    climb = Waypoint(0.0, 0.0, 6.0, 0.0, 0.0, 8.0, "none", None, "transit")
    orbit = _orbit(site.facilities[0], plan.standoff_m, [6.0], 4, 3.0)
    layer_change = Waypoint(orbit[-1].x_m, orbit[-1].y_m, orbit[-1].z_m, 0.0, 0.0, 0.0, "none")
    above = Waypoint(0.0, 0.0, 14.0, 0.0, 0.0, 8.0, "none", None, "transit")
    landing = Waypoint(0.0, 0.0, 0.0, 0.0, 0.0, 8.0, "none", None, "landing")
    waypoints = (ground, climb, *orbit, layer_change, above, landing)
    sortie = Sortie(0, (0.0, 0.0), waypoints, 100.0, 100.0)
    planned = Plan(plan.site_name, plan.camera, plan.options, plan.standoff_m, (sortie,))
    route = sortie_routes(planned, site)[0]
    assert route.points[0].kind == "transit"  # no departure, no ground point
    assert route.points[-1].kind == "transit"  # no return, no ground point
    assert [p.waypoint_index for p in route.points] == list(range(1, len(waypoints) - 1))
    assert route.points[-2].speed_m_s == 3.0  # the vertical leg keeps the orbit speed
    items = wpl.mission_items(route)
    assert items[0].command == wpl.MAV_CMD_NAV_TAKEOFF and items[0].params[6] == 6.0
    assert items[-1].command == wpl.MAV_CMD_NAV_LAND and items[-2].params[6] == 14.0
    assert all(
        item.params[1] > 0.0 for item in items if item.command == wpl.MAV_CMD_DO_CHANGE_SPEED
    )


def test_max_items_refuses_long_sorties(plan: Plan, site: Site, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"max_items: sortie 1 needs \d+ mission items"):
        write_qgc_plan(plan, site, tmp_path / "mission.plan", max_items=20)
    with pytest.raises(InputError, match="max_items"):
        wpl.write_mavlink_wpl(plan, site, tmp_path / "mission.waypoints", max_items=20)
    assert list(tmp_path.iterdir()) == []
    written = write_qgc_plan(plan, site, tmp_path / "m.plan", max_items=wpl.PX4_MISSION_ITEM_LIMIT)
    assert len(written) == 2


@pytest.mark.parametrize(("heading", "folded"), [(-90.0, 270.0), (360.0, 0.0), (725.0, 5.0)])
def test_normalise_heading(heading: float, folded: float) -> None:
    assert normalise_heading_deg(heading) == pytest.approx(folded)


# --------------------------------------------------------------------------------------------
# QGroundControl .plan


def _strict_json(text: str) -> Any:
    def reject(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=reject)


def test_qgc_plan_file_structure(plan: Plan, site: Site, tmp_path: Path) -> None:
    written = write_qgc_plan(plan, site, tmp_path / "mission.plan")
    assert [p.name for p in written] == ["mission.plan", "mission-2.plan"]
    document = _strict_json((tmp_path / "mission.plan").read_text())
    assert document["fileType"] == "Plan"
    assert document["version"] == 1
    assert document["groundStation"] == "QGroundControl"
    mission = document["mission"]
    assert mission["version"] == 2
    assert mission["firmwareType"] == mavlink.MAV_AUTOPILOT_PX4
    assert mission["vehicleType"] == mavlink.MAV_TYPE_QUADROTOR
    assert mission["hoverSpeed"] == 3.0 and mission["cruiseSpeed"] == 8.0
    assert len(mission["plannedHomePosition"]) == 3
    items = mission["items"]
    assert all(item["type"] in ("SimpleItem", "ComplexItem") for item in items)
    assert [item["doJumpId"] for item in items] == list(range(1, len(items) + 1))
    for item in items:
        assert len(item["params"]) == 7 and item["autoContinue"] is True
        assert item["frame"] in (mavlink.MAV_FRAME_MISSION, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT)
        if item["frame"] == mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT:
            assert item["Altitude"] == item["params"][6] and item["AltitudeMode"] == 1
    commands = [item["command"] for item in items]
    assert commands[0] == mavlink.MAV_CMD_NAV_TAKEOFF
    assert commands[-1] == mavlink.MAV_CMD_NAV_LAND
    assert commands.count(mavlink.MAV_CMD_IMAGE_START_CAPTURE) == plan.sorties[0].photo_count
    # The gimbal is set before the first photo waypoint and again when the pitch changes
    # (0 deg on the orbit, -90 deg on the roof): two commands.
    gimbal = [i for i in items if i["command"] == mavlink.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW]
    assert [g["params"][0] for g in gimbal] == [0.0, -90.0]
    assert gimbal[0]["params"][2] is None  # NaN (unset rate) as JSON null
    first_photo_wp = (
        next(i for i, c in enumerate(commands) if c == mavlink.MAV_CMD_IMAGE_START_CAPTURE) - 1
    )
    assert commands.index(mavlink.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW) < first_photo_wp
    # Yaw (param4) of every NAV_WAYPOINT is the planned heading; heights within 150 m.
    route = sortie_routes(plan, site)[0]
    waypoints = [item for item in items if item["command"] == mavlink.MAV_CMD_NAV_WAYPOINT]
    # The route starts over the take-off point: NAV_TAKEOFF flies that first point.
    assert route.points[0].over_takeoff and items[0]["params"][6] == route.points[0].height_m
    assert len(waypoints) == len(route.points) - 1
    for item, point in zip(waypoints, route.points[1:], strict=True):
        assert item["params"][3] == pytest.approx(point.heading_deg)
        assert item["params"][4:6] == [point.lat_deg, point.lon_deg]
        assert 0.0 < item["params"][6] <= 150.0
        assert item["params"][0] == (wpl.PHOTO_HOLD_S if point.photo else 0.0)
    # Speed: transit (8 m/s) from the take-off column, then 3 m/s for the inspection.
    speeds = [i["params"][1] for i in items if i["command"] == mavlink.MAV_CMD_DO_CHANGE_SPEED]
    assert speeds[:2] == [8.0, 3.0]


def test_qgc_plan_geofence(plan: Plan, site: Site) -> None:
    fence = build_qgc_plan(plan, site)["geoFence"]
    assert fence["version"] == 2 and fence["circles"] == []
    polygons = fence["polygons"]
    assert [p["inclusion"] for p in polygons] == [True, False]  # boundary, no-fly; not zone2
    for polygon in polygons:
        ring = polygon["polygon"]
        assert len(ring) == 4
        signed = sum(
            a[1] * b[0] - b[1] * a[0] for a, b in zip(ring, ring[1:] + ring[:1], strict=True)
        )
        assert signed < 0.0  # clockwise on a north-up map


def test_qgc_plan_second_sortie_and_rtl(plan: Plan, site: Site) -> None:
    items = build_qgc_plan(plan, site, 1, end_action="rtl")["mission"]["items"]
    assert items[0]["command"] == mavlink.MAV_CMD_NAV_TAKEOFF
    assert items[-1]["command"] == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH
    assert items[-1]["frame"] == mavlink.MAV_FRAME_MISSION
    # Take-off (the departure point) climbs to the first waypoint's height.
    assert items[0]["params"][6] == plan.sorties[1].waypoints[0].z_m


@pytest.mark.parametrize("kwargs", [{"end_action": "hover"}, {"photo_hold_s": -1.0}])
def test_qgc_plan_invalid_options(plan: Plan, site: Site, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        qgc_plan_text(plan, site, **kwargs)


def test_qgc_plan_sortie_out_of_range(plan: Plan, site: Site) -> None:
    with pytest.raises(InputError, match=r"sortie: must be in 0\.\.1"):
        build_qgc_plan(plan, site, 2)


def test_write_qgc_plan_removes_stale_sorties(plan: Plan, site: Site, tmp_path: Path) -> None:
    stale = tmp_path / "mission-3.plan"
    stale.write_text("{}")
    keep = tmp_path / "mission-notes.plan"
    keep.write_text("{}")
    write_qgc_plan(plan, site, tmp_path / "mission.plan")
    assert not stale.exists() and keep.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mission-2.plan",
        "mission-notes.plan",
        "mission.plan",
    ]


# --------------------------------------------------------------------------------------------
# MAVLink WPL


def test_mavlink_constants_match_pymavlink() -> None:
    for name in (
        "MAV_CMD_NAV_WAYPOINT",
        "MAV_CMD_NAV_TAKEOFF",
        "MAV_CMD_NAV_LAND",
        "MAV_CMD_NAV_RETURN_TO_LAUNCH",
        "MAV_CMD_DO_CHANGE_SPEED",
        "MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW",
        "MAV_CMD_IMAGE_START_CAPTURE",
        "MAV_FRAME_GLOBAL",
        "MAV_FRAME_MISSION",
        "MAV_FRAME_GLOBAL_RELATIVE_ALT",
        "MAV_AUTOPILOT_PX4",
        "MAV_TYPE_QUADROTOR",
    ):
        assert getattr(wpl, name) == getattr(mavlink, name), name
    flags = mavlink.GIMBAL_MANAGER_FLAGS_ROLL_LOCK | mavlink.GIMBAL_MANAGER_FLAGS_PITCH_LOCK
    assert wpl._GIMBAL_FLAGS_ROLL_PITCH_LOCK == flags


def test_wpl_loads_with_pymavlink(plan: Plan, site: Site, tmp_path: Path) -> None:
    paths = wpl.write_mavlink_wpl(plan, site, tmp_path / "mission.waypoints")
    assert [p.name for p in paths] == ["mission.waypoints", "mission-2.waypoints"]
    route = sortie_routes(plan, site)[0]
    items = wpl.mission_items(route)
    loader = mavwp.MAVWPLoader()
    count = loader.load(str(paths[0]))
    assert count == len(items) + 1 > 10
    home = loader.wp(0)
    assert (home.seq, home.current, home.frame, home.command) == (0, 1, 0, 16)
    assert home.x == pytest.approx(route.home_lat_deg, abs=1e-5)
    assert home.z == pytest.approx(route.home_amsl_m, abs=1e-3)
    loaded = [loader.wp(i) for i in range(1, count)]
    assert [w.command for w in loaded] == [item.command for item in items]
    assert [w.seq for w in loaded] == list(range(1, count))
    assert all(w.autocontinue == 1 and w.current == 0 for w in loaded)
    nav = [w for w in loaded if w.command == mavlink.MAV_CMD_NAV_WAYPOINT]
    assert len(nav) == len(route.points) - 1  # the first point is the take-off item
    for w, point in zip(nav, route.points[1:], strict=True):
        assert w.frame == mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT
        assert 0.0 < w.z <= 150.0
        assert w.z == pytest.approx(point.height_m, abs=1e-4)
        # MISSION_ITEM x/y are float32: ~1e-6 deg at 35 deg latitude.
        assert w.x == pytest.approx(point.lat_deg, abs=5e-6)
        assert w.y == pytest.approx(point.lon_deg, abs=5e-6)
        assert w.param4 == pytest.approx(point.heading_deg, abs=1e-4)


def test_wpl_text_is_tab_separated_with_exact_coordinates(plan: Plan, site: Site) -> None:
    text = wpl.mavlink_wpl_text(plan, site, 1)
    lines = text.splitlines()
    assert lines[0] == "QGC WPL 110"
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(row) == 12 for row in rows)
    route = sortie_routes(plan, site)[1]
    nav = [r for r in rows if r[3] == "16" and r[0] != "0"]
    for row, point in zip(nav, route.points[1:], strict=True):  # points[0] is the take-off
        assert float(row[8]) == pytest.approx(point.lat_deg, abs=1e-7)
        assert float(row[9]) == pytest.approx(point.lon_deg, abs=1e-7)
    gimbal = next(r for r in rows if r[3] == "1000")
    assert gimbal[6:8] == ["nan", "nan"]


# --------------------------------------------------------------------------------------------
# KML


def _kml_placemarks(feature: Any) -> list[Any]:
    found = []
    for child in getattr(feature, "features", []) or []:
        if type(child).__name__ == "Placemark":
            found.append(child)
        found.extend(_kml_placemarks(child))
    return found


def test_kml_reads_back_with_fastkml_and_minidom(plan: Plan, site: Site, tmp_path: Path) -> None:
    path = write_kml(plan, site, tmp_path / "mission.kml")
    content = path.read_bytes()
    dom = xml.dom.minidom.parseString(content)
    assert dom.documentElement.namespaceURI == KML_NS
    assert len(dom.getElementsByTagName("LineString")) == len(plan.sorties)

    document = fastkml_kml.KML.from_string(content)
    placemarks = _kml_placemarks(document)
    routes = sortie_routes(plan, site)
    lines = [p for p in placemarks if type(p.kml_geometry).__name__ == "LineString"]
    points = [p for p in placemarks if type(p.kml_geometry).__name__ == "Point"]
    polygons = [p for p in placemarks if type(p.kml_geometry).__name__ == "Polygon"]
    assert len(lines) == len(routes)
    assert len(points) == plan.photo_count
    assert len(polygons) == len(site.zones)
    for line, route in zip(lines, routes, strict=True):
        assert line.kml_geometry.altitude_mode.value == "relativeToGround"
        coords = list(line.kml_geometry.geometry.coords)
        assert len(coords) == len(route.points)
        for (lon, lat, height), point in zip(coords, route.points, strict=True):
            assert lat == pytest.approx(point.lat_deg, abs=1e-7)
            assert lon == pytest.approx(point.lon_deg, abs=1e-7)
            assert height == pytest.approx(point.height_m, abs=1e-9)
    first_photo = routes[0].photo_points[0]
    data = {d.name: d.value for d in points[0].extended_data.elements}
    assert float(data["heading_deg"]) == pytest.approx(first_photo.heading_deg)
    assert float(data["gimbal_pitch_deg"]) == first_photo.gimbal_pitch_deg
    assert data["facility"] == "T-1" and data["sortie"] == "1" and data["photo"] == "1"
    (lon, lat, height) = points[0].kml_geometry.geometry.coords[0]
    assert (lat, lon, height) == (first_photo.lat_deg, first_photo.lon_deg, first_photo.height_m)


def test_kml_without_zones_and_deterministic(plan: Plan, site: Site) -> None:
    bare = build_kml(plan, site, include_zones=False)
    assert b"Polygon" not in bare
    assert build_kml(plan, site) == build_kml(plan, site)


# --------------------------------------------------------------------------------------------
# DJI WPML (.kmz)


def _wpml_values(dom: xml.dom.minidom.Document, tag: str) -> list[str]:
    return [e.firstChild.data for e in dom.getElementsByTagNameNS(WPML_NS, tag)]  # type: ignore[union-attr]


def test_kmz_structure_and_waylines(plan: Plan, site: Site, tmp_path: Path) -> None:
    paths = write_dji_kmz(plan, site, tmp_path / "mission.kmz")
    assert [p.name for p in paths] == ["mission.kmz", "mission-2.kmz"]
    with zipfile.ZipFile(paths[0]) as archive:
        assert sorted(archive.namelist()) == sorted([TEMPLATE_PATH, WAYLINES_PATH])
        waylines = xml.dom.minidom.parseString(archive.read(WAYLINES_PATH))
        template = xml.dom.minidom.parseString(archive.read(TEMPLATE_PATH))
    route = sortie_routes(plan, site)[0]
    n = len(route.points)
    assert waylines.documentElement.namespaceURI == KML_NS
    assert _wpml_values(waylines, "executeHeightMode") == ["relativeToStartPoint"]
    assert _wpml_values(waylines, "index") == [str(i) for i in range(n)]
    heights = [float(v) for v in _wpml_values(waylines, "executeHeight")]
    assert heights == pytest.approx([p.height_m for p in route.points], abs=1e-3)
    assert [float(v) for v in _wpml_values(waylines, "waypointSpeed")] == pytest.approx(
        [p.speed_m_s for p in route.points]
    )
    angles = [int(v) for v in _wpml_values(waylines, "waypointHeadingAngle")]
    assert all(-180 <= a <= 180 for a in angles)
    expected = [round((p.heading_deg + 180.0) % 360.0 - 180.0) for p in route.points]
    assert angles == expected
    functions = _wpml_values(waylines, "actionActuatorFunc")
    photos = len(route.photo_points)
    assert functions.count("takePhoto") == functions.count("gimbalRotate") == photos
    pitches = [float(v) for v in _wpml_values(waylines, "gimbalPitchRotateAngle")]
    assert pitches == [p.gimbal_pitch_deg for p in route.photo_points]
    group_ids = [int(v) for v in _wpml_values(waylines, "actionGroupId")]
    assert group_ids == list(range(len(route.photo_points)))
    coords = [
        e.firstChild.data  # type: ignore[union-attr]
        for e in waylines.getElementsByTagNameNS(KML_NS, "coordinates")
    ]
    lon, lat = (float(v) for v in coords[1].split(","))
    assert (lat, lon) == (route.points[1].lat_deg, route.points[1].lon_deg)
    assert _wpml_values(waylines, "finishAction") == ["autoLand"]
    assert _wpml_values(waylines, "droneEnumValue") == ["77"]  # P4 RTK plan -> Mavic 3E
    # template.kml: waypoint template, relative heights, same points.
    assert _wpml_values(template, "templateType") == ["waypoint"]
    assert _wpml_values(template, "heightMode") == ["relativeToStartPoint"]
    assert _wpml_values(template, "index") == [str(i) for i in range(n)]
    assert [float(v) for v in _wpml_values(template, "height")] == pytest.approx(heights)


def test_kmz_is_deterministic_and_aircraft_follows_camera(plan: Plan, site: Site) -> None:
    assert build_wpml_kmz(plan, site) == build_wpml_kmz(plan, site)
    m30_plan = Plan(plan.site_name, get_camera("m30"), plan.options, plan.standoff_m, plan.sorties)
    dom = xml.dom.minidom.parseString(waylines_wpml(m30_plan, site, 1))
    assert _wpml_values(dom, "droneEnumValue") == ["67"]
    assert _wpml_values(dom, "payloadEnumValue") == ["52"]
    stamped = xml.dom.minidom.parseString(template_kml(plan, site, created_ms=1_700_000_000_000))
    assert _wpml_values(stamped, "createTime") == ["1700000000000"]


# --------------------------------------------------------------------------------------------
# GeoJSON


def test_route_geojson(plan: Plan, site: Site, tmp_path: Path) -> None:
    path = write_route_geojson(plan, site, tmp_path / "route.geojson")
    collection = _strict_json(path.read_text())
    assert collection == build_route_geojson(plan, site)
    assert collection["type"] == "FeatureCollection"
    lines = [f for f in collection["features"] if f["geometry"]["type"] == "LineString"]
    photos = [f for f in collection["features"] if f["geometry"]["type"] == "Point"]
    assert [f["properties"]["sortie"] for f in lines] == [1, 2]
    assert len(photos) == plan.photo_count
    routes = sortie_routes(plan, site)
    for line, route in zip(lines, routes, strict=True):
        assert line["geometry"]["coordinates"] == [[p.lon_deg, p.lat_deg] for p in route.points]
        assert line["properties"]["height_m"] == [p.height_m for p in route.points]
    properties = photos[-1]["properties"]
    assert properties["facility"] == "T-2" and properties["sortie"] == 2
    assert set(properties) >= {"heading_deg", "gimbal_pitch_deg", "height_m", "facility", "sortie"}


# --------------------------------------------------------------------------------------------
# Bad plans and atomic writes


def test_waypoint_above_150_m_is_refused(plan: Plan, site: Site, tmp_path: Path) -> None:
    high = Waypoint(0.0, 0.0, 151.0, 0.0, 0.0, 3.0, "none")
    sorties = (Sortie(0, (0.0, 0.0), (high,), 10.0, 10.0),)
    bad = Plan(plan.site_name, plan.camera, plan.options, plan.standoff_m, sorties)
    with pytest.raises(InputError, match=r"sorties\[0\]\.waypoints\[0\]\.z_m: height 151"):
        write_qgc_plan(bad, site, tmp_path / "mission.plan")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "change",
    [
        {"sorties": ()},
        {"sorties": (Sortie(0, (0.0, 0.0), (), 0.0, 0.0),)},
        {"sorties": (Sortie(0, (0.0, 0.0), (Waypoint(0, 0, 10, float("nan"), 0, 3),), 1, 1),)},
        {"sorties": (Sortie(0, (0.0, 0.0), (Waypoint(0, 0, 10, 0, 0, -1.0),), 1, 1),)},
        # On the ground away from the take-off point.
        {"sorties": (Sortie(0, (0.0, 0.0), (Waypoint(50, 0, 0, 0, 0, 3),), 1, 1),)},
        # Only the ground take-off point: nothing to fly.
        {"sorties": (Sortie(0, (0.0, 0.0), (Waypoint(0, 0, 0, 0, 0, 1, "none"),), 1, 1),)},
        {"sorties": (Sortie(0, (0.0, 0.0), (Waypoint(0, 0, 10, 0, -120, 3),), 1, 1),)},
    ],
)
def test_bad_plans_are_refused(plan: Plan, site: Site, change: dict[str, Any]) -> None:
    fields = {
        "site_name": plan.site_name,
        "camera": plan.camera,
        "options": plan.options,
        "standoff_m": plan.standoff_m,
        "sorties": plan.sorties,
    }
    fields.update(change)
    with pytest.raises(InputError):
        sortie_routes(Plan(**fields), site)


def test_write_into_missing_folder_fails_cleanly(plan: Plan, site: Site, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(InputError, match="does not exist"):
        write_qgc_plan(plan, site, missing / "mission.plan")
    with pytest.raises(InputError, match="does not exist"):
        write_kml(plan, site, missing / "mission.kml")
    assert not missing.exists() and list(tmp_path.iterdir()) == []


def test_failed_replace_leaves_nothing_behind(
    plan: Plan, site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mission.plan").write_text("old")
    import plantwatch.drone.export as export

    calls = {"n": 0}
    real_replace = export.os.replace

    def failing_replace(src: Any, dst: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(export.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_files_atomic(
            [(tmp_path / "a.txt", b"a"), (tmp_path / "b.txt", b"b"), (tmp_path / "c.txt", b"c")]
        )
    # No temporary file is left; the first target (already replaced) holds complete content.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "mission.plan"]
    assert (tmp_path / "a.txt").read_bytes() == b"a"


def test_sortie_paths() -> None:
    assert [p.name for p in sortie_paths("x/route.kmz", 2)] == ["route.kmz", "route-2.kmz"]


def test_output_path_must_be_a_file(plan: Plan, site: Site, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        write_route_geojson(plan, site, tmp_path)
