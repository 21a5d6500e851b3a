"""Tests for plantwatch.drone.site: GeoJSON loading and validation, ENU <-> WGS84, derived
Ex zones, footprints, primitives and meshes (issue 5, "Site model")."""

from __future__ import annotations

import copy
import json
import math
from collections import Counter
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trimesh
from numpy.testing import assert_allclose
from shapely.geometry import Point

from plantwatch.drone.model import Facility, Site, Zone
from plantwatch.drone.site import (
    FLOATING_ROOF_ZONE2_MARGIN_M,
    enu_to_wgs84,
    facility_footprint,
    facility_mesh,
    facility_primitives,
    load_site,
    site_footprint_union,
    site_from_geojson,
    site_meshes,
    site_primitives,
    wgs84_to_enu,
    zone_contains,
    zone_polygon,
)
from plantwatch.errors import InputError
from plantwatch.geometry import Box, Cylinder, Sphere, cast_rays

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sites" / "tank_farm.geojson"
LAT0, LON0 = 35.5, 139.78
ORIGIN = Site("origin", LAT0, LON0, 0.0, (), (), ())

# WGS84 (NIMA TR8350.2, Table 3.1): semi-major axis and first eccentricity squared.
WGS84_A_M = 6_378_137.0
WGS84_E2 = 6.694_379_990_14e-3


@pytest.fixture(scope="module")
def example() -> Site:
    return load_site(EXAMPLE)


# -- building GeoJSON from ENU metres -----------------------------------------------------------


def lonlat(x_m: float, y_m: float) -> list[float]:
    lat, lon, _ = enu_to_wgs84(ORIGIN, [x_m, y_m, 0.0])[0]
    return [float(lon), float(lat)]


def point(x_m: float, y_m: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": lonlat(x_m, y_m)}


def polygon(*xy_m: tuple[float, float]) -> dict[str, Any]:
    ring = [lonlat(x, y) for x, y in (*xy_m, xy_m[0])]
    return {"type": "Polygon", "coordinates": [ring]}


def square(cx: float, cy: float, half: float) -> dict[str, Any]:
    return polygon(
        (cx - half, cy - half),
        (cx + half, cy - half),
        (cx + half, cy + half),
        (cx - half, cy + half),
    )


def feature(geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def minimal_site() -> dict[str, Any]:
    """A valid small site: two tanks, a pipe rack, a Zone 1, a road, a take-off point."""
    return {
        "type": "FeatureCollection",
        "properties": {"name": "mini", "origin_lat_deg": LAT0, "origin_lon_deg": LON0},
        "features": [
            feature(
                point(0, 0),
                kind="facility",
                type="fixed_roof_tank",
                id="T-1",
                diameter_m=20,
                height_m=15,
            ),
            feature(
                point(50, 0),
                kind="facility",
                type="floating_roof_tank",
                id="T-2",
                diameter_m=30,
                height_m=18,
            ),
            feature(square(100, 0, 10), kind="zone1", id="Z-1", ceiling_m=5),
            feature(
                {"type": "LineString", "coordinates": [lonlat(-50, -40), lonlat(150, -40)]},
                kind="road",
                id="R-1",
                width_m=8,
            ),
            feature(point(-60, 0), kind="takeoff", id="TO-1"),
        ],
    }


# -- load_site / site_from_geojson --------------------------------------------------------------


def test_load_site(example: Site) -> None:
    types = Counter(f.type for f in example.facilities)
    assert types == {
        "fixed_roof_tank": 6,
        "floating_roof_tank": 5,
        "sphere": 1,
        "column": 2,
        "pipe_rack": 2,
        "building": 1,
    }
    kinds = Counter(z.kind for z in example.zones)
    assert kinds == {
        "zone0": 1,
        "zone1": 3,
        "zone2": 1 + 5,  # one drawn, five derived around the floating-roof tanks
        "fire_restricted": 1,
        "no_fly": 1,
        "people": 2,
        "road": 5,
        "boundary": 1,
    }
    assert len(example.takeoff_points_m) == 2
    assert example.properties["takeoff_ids"] == ["TO-1", "TO-2"]
    assert example.name == "Tokyo Bay coastal tank farm (example)"
    assert (example.origin_lat_deg, example.origin_lon_deg, example.origin_alt_m) == (
        35.5,
        139.78,
        0.0,
    )
    tank_types = ("fixed_roof_tank", "floating_roof_tank")
    diameters = [f.diameter_m or 0.0 for f in example.facilities if f.type in tank_types]
    assert min(diameters) == pytest.approx(12.0, abs=1e-3)
    assert max(diameters) == 60.0


@pytest.mark.parametrize(
    ("facility_id", "center_xy_m", "expected"),
    [
        ("T-101", (-250.0, 150.0), {"diameter_m": 60.0, "height_m": 22.0}),
        ("T-110", (-215.0, -20.0), {"diameter_m": 12.0, "height_m": 10.0}),  # polygon footprint
        ("SP-201", (90.0, 40.0), {"diameter_m": 16.0, "height_m": 20.0}),
        ("PR-401", (30.0, -5.0), {"length_m": 180.0, "width_m": 8.0, "yaw_deg": 90.0}),  # polygon
        ("PR-402", (170.0, 30.0), {"length_m": 100.0, "width_m": 6.0, "yaw_deg": 0.0}),  # line
        ("OF-1", (-330.0, -60.0), {"length_m": 40.0, "width_m": 20.0, "yaw_deg": 90.0}),
    ],
)
def test_load_site_geometry(
    example: Site, facility_id: str, center_xy_m: tuple[float, float], expected: dict[str, float]
) -> None:
    facility = example.facility(facility_id)
    assert_allclose(facility.center_m, (*center_xy_m, 0.0), atol=1e-3)  # 9 decimals ~ 0.1 mm
    for name, value in expected.items():
        got = getattr(facility, name)
        if name == "yaw_deg":  # an axis: 0 and 180 deg are the same
            assert 0.0 <= got < 180.0
            got = value + (got - value + 90.0) % 180.0 - 90.0
        assert got == pytest.approx(value, abs=1e-3), name


def test_load_site_package_copy() -> None:
    packaged = resources.files("plantwatch") / "data" / "sites" / "tank_farm.geojson"
    assert json.loads(packaged.read_text(encoding="utf-8")) == json.loads(EXAMPLE.read_text())
    assert EXAMPLE.is_symlink() and not Path(str(EXAMPLE.readlink())).is_absolute()


def test_load_site_name_from_file(tmp_path: Path) -> None:
    data = minimal_site()
    del data["properties"]["name"]
    path = tmp_path / "my_plant.geojson"
    path.write_text(json.dumps(data))
    assert load_site(path).name == "my_plant"
    assert load_site(path, name="given").name == "given"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(None, "no such file"), ("{not json", "not valid JSON: Expecting property name")],
)
def test_load_site_invalid(tmp_path: Path, content: str | None, fragment: str) -> None:
    path = tmp_path / "site.geojson"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=fragment):
        load_site(path)


def test_site_from_geojson_default_origin() -> None:
    data = minimal_site()
    data["properties"] = {}
    site = site_from_geojson(data)
    # Centre of the bounding box of the geometries as drawn (points, lines, polygons):
    # x in [-60 (take-off), 150 (road end)] -> 45, y in [-40 (road), 10 (zone)] -> -15.
    assert site.name == "site"
    center = wgs84_to_enu(ORIGIN, [site.origin_lat_deg, site.origin_lon_deg, 0.0])[0]
    assert_allclose(center[:2], (45.0, -15.0), atol=0.01)
    assert site.origin_alt_m == 0.0
    assert_allclose(site.facility("T-1").center_m[:2], (-45.0, 15.0), atol=0.01)


# Each row: what to break, and fragments the one-line message must contain.
Mutation = Callable[[dict[str, Any]], Any]


def _set(path: tuple[Any, ...], value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return mutate


_DELETE = object()
T1 = ("features", 0, "properties")  # the fixed-roof tank T-1
T1_COORDS = ("features", 0, "geometry", "coordinates")
BOWTIE = polygon((90, -10), (110, 10), (110, -10), (90, 10))  # self-intersecting ring


def _add(new_feature: dict[str, Any]) -> Mutation:
    return lambda data: data["features"].append(new_feature)


def _replace_takeoff(new_feature: dict[str, Any] | None) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["features"].pop()
        if new_feature is not None:
            data["features"].append(new_feature)

    return mutate


INVALID_CASES: list[tuple[str, Mutation | Any, tuple[str, ...]]] = [
    ("not a collection", {"type": "Feature"}, ("FeatureCollection", "'Feature'")),
    ("list", [], ("FeatureCollection", "'list'")),
    ("no features", _set(("features",), []), ("features: must be a non-empty list",)),
    ("not a feature", _set(("features", 1), [1, 2]), ("features[1]", "GeoJSON Feature")),
    ("no properties", _set(("features", 1, "properties"), None), ("features[1]", "properties")),
    ("unknown kind", _set((*T1, "kind"), "tank"),
     ("features[0] (id 'T-1')", "properties.kind", "unknown kind 'tank'", "valid: facility")),
    ("unknown type", _set((*T1, "type"), "silo"),
     ("features[0] (id 'T-1')", "properties.type", "'silo'", "floating_roof_tank")),
    ("missing type", _set((*T1, "type"), _DELETE), ("properties.type: is required",)),
    ("no geometry", _set(("features", 0, "geometry"), None), ("(id 'T-1'): geometry: is missing",)),
    ("missing coordinates", _set(T1_COORDS, _DELETE), ("(id 'T-1')", "geometry.coordinates")),
    ("swapped lat lon", _set(T1_COORDS, [35.5, 139.78]), ("geometry.coordinates", "latitude")),
    ("string coordinate", _set(T1_COORDS, ["139.78", 35.5]), ("geometry.coordinates", "numbers")),
    ("nan coordinate", _set(T1_COORDS, [math.nan, 35.5]), ("geometry.coordinates", "finite")),
    ("short position", _set(T1_COORDS, [139.78]), ("geometry.coordinates", "[lon, lat]")),
    ("self-intersecting", _set(("features", 2, "geometry"), BOWTIE),
     ("features[2] (id 'Z-1')", "geometry.coordinates", "Self-intersection")),
    ("polygon with hole", _set(("features", 2, "geometry", "coordinates"),
                               [square(100, 0, 10)["coordinates"][0]] * 2),
     ("(id 'Z-1')", "holes")),
    ("tank as a line", _set(("features", 0, "geometry"),
                            {"type": "LineString", "coordinates": [lonlat(0, 0), lonlat(9, 9)]}),
     ("(id 'T-1')", "geometry.type", "Point, Polygon")),
    ("missing height", _set((*T1, "height_m"), _DELETE),
     ("features[0] (id 'T-1')", "properties.height_m", "required")),
    ("missing diameter", _set((*T1, "diameter_m"), _DELETE),
     ("(id 'T-1')", "properties.diameter_m", "required")),
    ("negative height", _set((*T1, "height_m"), -5), ("properties.height_m", "> 0 m, got -5")),
    ("zero diameter", _set((*T1, "diameter_m"), 0), ("properties.diameter_m", "> 0 m, got 0")),
    ("nan height", _set((*T1, "height_m"), math.nan), ("properties.height_m", "finite")),
    ("string height", _set((*T1, "height_m"), "15"), ("properties.height_m", "a number")),
    ("bool diameter", _set((*T1, "diameter_m"), True), ("properties.diameter_m", "a number")),
    ("sphere too tall", _add(feature(point(0, 60), kind="facility", type="sphere", id="S-1",
                                     diameter_m=16, height_m=10)),
     ("features[5] (id 'S-1')", "properties.height_m", "diameter")),
    ("square tank", _set(("features", 0, "geometry"), square(0, 0, 10)),
     ("(id 'T-1')", "geometry", "circle-like")),
    ("rack without width", _add(feature(point(0, 100), kind="facility", type="pipe_rack",
                                        id="PR-1", length_m=50, height_m=8)),
     ("(id 'PR-1')", "properties.width_m", "required")),
    ("overlapping tanks", _set(("features", 1, "geometry"), point(20, 0)),
     ("features[1] (id 'T-2')", "geometry", "overlaps facility 'T-1'")),
    ("duplicate id", _set(("features", 1, "properties", "id"), "T-1"),
     ("features[1] (id 'T-1')", "duplicate id", "features[0]")),
    ("ceiling below floor", _set(("features", 2, "properties", "floor_m"), 10),
     ("(id 'Z-1')", "properties.ceiling_m", "above floor_m")),
    ("road without width", _set(("features", 3, "properties", "width_m"), _DELETE),
     ("features[3] (id 'R-1')", "properties.width_m")),
    ("people point without radius", _add(feature(point(0, -80), kind="people", id="P-1")),
     ("(id 'P-1')", "properties.radius_m")),
    ("no take-off point", _replace_takeoff(None), ("no take-off point",)),
    ("take-off polygon", _replace_takeoff(feature(square(-60, 0, 2), kind="takeoff", id="TO-1")),
     ("features[4] (id 'TO-1')", "geometry.type", "Point")),
    ("take-off in zone", _replace_takeoff(feature(point(100, 0), kind="takeoff", id="TO-1")),
     ("every take-off point", "features[4] 'TO-1' inside zone1 'Z-1'")),
    ("take-off in derived zone", _replace_takeoff(feature(point(50, 16.5), kind="takeoff",
                                                          id="TO-1")),
     ("every take-off point", "'TO-1' inside zone2 'T-2:zone2'")),
    ("take-off on a tank", _replace_takeoff(feature(point(0, 5), kind="takeoff", id="TO-1")),
     ("features[4] (id 'TO-1')", "lies on facility 'T-1'")),
    ("projected crs", _set(("crs",), {"type": "name", "properties": {"name": "EPSG:6677"}}),
     ("crs", "EPSG:6677")),
    ("bad origin", _set(("properties", "origin_lat_deg"), 135.0), ("properties.origin_lat_deg",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutation", "fragments"),
    [pytest.param(m, f, id=name) for name, m, f in INVALID_CASES],
)
def test_site_from_geojson_invalid(mutation: Mutation | Any, fragments: tuple[str, ...]) -> None:
    if callable(mutation):
        data: Any = minimal_site()
        mutation(data)
    else:
        data = copy.deepcopy(mutation)
    with pytest.raises(InputError) as caught:
        site_from_geojson(data)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_site_from_geojson_docs_example() -> None:
    text = (EXAMPLE.parents[2] / "docs" / "site-format.md").read_text(encoding="utf-8")
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    site = site_from_geojson(json.loads(block))
    marked = [(f.id, f.type, f.explosion_proof_required) for f in site.facilities]
    assert marked == [
        ("T-1", "floating_roof_tank", False),
        ("C-1", "column", True),
        ("PR-1", "pipe_rack", False),
    ]
    assert [z.id for z in site.zones] == ["Z1-1", "R-1", "P-1", "B", "T-1:zone2"]
    assert_allclose(site.takeoff_points_m, [(-50.0, -20.0)], atol=0.02)  # 7 decimals ~ 1 cm
    assert_allclose(site.facility("C-1").center_m, (60.0, 0.0, 0.0), atol=0.02)


def test_site_from_geojson_feature_field() -> None:
    data = minimal_site()
    data["features"][0]["properties"]["height_m"] = -1
    with pytest.raises(InputError) as caught:
        site_from_geojson(data)
    assert caught.value.field == "features[0].properties.height_m"


def test_site_from_geojson_minimal() -> None:
    site = site_from_geojson(minimal_site())
    assert [f.id for f in site.facilities] == ["T-1", "T-2"]
    assert [z.id for z in site.zones] == ["Z-1", "R-1", "T-2:zone2"]
    assert_allclose(site.takeoff_points_m, [(-60.0, 0.0)], atol=1e-6)
    road = zone_polygon(site.zones[1])
    assert road.area == pytest.approx(200.0 * 8.0, rel=1e-6)  # flat caps: length x width


def test_site_from_geojson_unclosed_ring_is_closed() -> None:
    data = minimal_site()
    data["features"][2]["geometry"]["coordinates"][0].pop()  # drop the closing position
    zone = site_from_geojson(data).zones[0]
    assert len(zone.polygon_m) == 4
    assert zone_polygon(zone).area == pytest.approx(400.0, rel=1e-6)


def test_site_from_geojson_excludes_takeoff_in_zone() -> None:
    data = minimal_site()
    data["features"].append(feature(point(100, 0), kind="takeoff", id="TO-2"))
    site = site_from_geojson(data)
    assert site.properties["takeoff_ids"] == ["TO-1"]
    assert site.properties["excluded_takeoffs"] == [{"id": "TO-2", "reason": "inside zone1 'Z-1'"}]


# -- derived zones and explosion-proof marking --------------------------------------------------


def test_derived_zones(example: Site) -> None:
    derived = {z.properties["facility_id"]: z for z in example.zones if z.properties.get("derived")}
    floating = [f for f in example.facilities if f.type == "floating_roof_tank"]
    assert sorted(derived) == sorted(f.id for f in floating)
    for tank in floating:
        zone = derived[tank.id]
        assert tank.diameter_m is not None
        radius = tank.diameter_m / 2.0 + FLOATING_ROOF_ZONE2_MARGIN_M
        assert zone.kind == "zone2"
        assert "MHLW-2022 Fig. 6.1" in zone.source and "JNIOHS-TR-NO.44" in zone.source
        assert (zone.floor_m, zone.ceiling_m) == (0.0, tank.height_m + 3.0)
        # Circumscribed 64-gon: its edges are exactly r + 3 m from the tank axis.
        center = Point(tank.center_m[:2])
        assert zone_polygon(zone).exterior.distance(center) == pytest.approx(radius, abs=1e-6)
        wall_plus_3 = center.buffer(radius - 1e-6, quad_segs=256)
        assert zone_polygon(zone).contains(wall_plus_3)


@pytest.mark.parametrize(
    ("ceiling_m", "half_m", "derived"),
    [
        (None, 40.0, False),  # an explicit Zone 2 over the whole tank + 3 m: nothing to add
        (21.0, 40.0, False),  # ceiling exactly tank height + 3 m
        (20.0, 40.0, True),  # too low: the derived zone is still needed
        (None, 17.0, True),  # too small: the 3 m ring sticks out
    ],
)
def test_derived_zones_skipped_when_covered(
    ceiling_m: float | None, half_m: float, derived: bool
) -> None:
    data = minimal_site()
    data["features"].append(
        feature(square(50, 0, half_m), kind="zone2", id="Z-2", ceiling_m=ceiling_m)
    )
    site = site_from_geojson(data)
    assert any(z.id == "T-2:zone2" for z in site.zones) == derived


def test_explosion_proof_required(example: Site) -> None:
    marked = {f.id for f in example.facilities if f.explosion_proof_required}
    assert marked == {"C-301", "C-302"}  # the columns stand in Zone 1 "Z1-COL"


# -- ENU <-> WGS84 ------------------------------------------------------------------------------


def _meridian_and_normal_radii_m(lat_deg: float) -> tuple[float, float]:
    """Radii of curvature M (meridian) and N (prime vertical) of WGS84 [m]."""
    s2 = math.sin(math.radians(lat_deg)) ** 2
    w = math.sqrt(1.0 - WGS84_E2 * s2)
    return WGS84_A_M * (1.0 - WGS84_E2) / w**3, WGS84_A_M / w


def test_wgs84_to_enu() -> None:
    meridian_m, normal_m = _meridian_and_normal_radii_m(LAT0)
    step = math.radians(1e-5)
    points = wgs84_to_enu(
        ORIGIN, [[LAT0, LON0, 0.0], [LAT0 + 1e-5, LON0, 0.0], [LAT0, LON0 + 1e-5, 0.0]]
    )
    assert_allclose(points[0], (0.0, 0.0, 0.0), atol=1e-9)
    # Hand computation: dN = M dphi, dE = N cos(phi) dlambda.
    assert_allclose(points[1], (0.0, meridian_m * step, 0.0), atol=1e-4)
    assert_allclose(
        points[2], (normal_m * math.cos(math.radians(LAT0)) * step, 0.0, 0.0), atol=1e-4
    )
    assert points[1, 1] == pytest.approx(1.11, abs=0.005)  # 1e-5 deg of latitude ~ 1.11 m
    above = wgs84_to_enu(ORIGIN, [LAT0, LON0, 150.0])[0]
    assert_allclose(above, (0.0, 0.0, 150.0), atol=1e-6)


def test_enu_to_wgs84_round_trip() -> None:
    rng = np.random.default_rng(5)
    points = np.column_stack([rng.uniform(-3000, 3000, (500, 2)), rng.uniform(0, 150, 500)])
    for site in (ORIGIN, Site("high", -33.9, 18.4, 120.0, (), (), ())):
        back = wgs84_to_enu(site, enu_to_wgs84(site, points))
        assert np.abs(back - points).max() < 1e-3  # < 1 mm (in fact ~1e-9 m)
    lat_lon_h = enu_to_wgs84(Site("high", -33.9, 18.4, 120.0, (), (), ()), [0.0, 0.0, 10.0])
    assert_allclose(lat_lon_h, [[-33.9, 18.4, 10.0]], atol=1e-9)  # height above the origin's


@pytest.mark.parametrize(
    ("function", "values", "field"),
    [
        (enu_to_wgs84, [[0.0, 0.0]], "points_m"),
        (enu_to_wgs84, [[0.0, math.nan, 0.0]], "points_m"),
        (wgs84_to_enu, [[95.0, 139.0, 0.0]], "lat_lon_h"),
        (wgs84_to_enu, [[35.0, math.inf, 0.0]], "lat_lon_h"),
    ],
)
def test_enu_to_wgs84_invalid(function: Callable[..., Any], values: Any, field: str) -> None:
    with pytest.raises(InputError, match=field):
        function(ORIGIN, values)


# -- footprints, zones --------------------------------------------------------------------------


def test_site_footprint_union(example: Site) -> None:
    union = site_footprint_union(example)
    areas = sum(facility_footprint(f).area for f in example.facilities)
    assert union.area == pytest.approx(areas, rel=1e-9)  # no overlaps
    tank = example.facility("T-101")
    assert facility_footprint(tank).area == pytest.approx(
        64 * 30.0**2 * math.tan(math.pi / 64), rel=1e-9
    )


@pytest.mark.parametrize(
    ("point_m", "inside"),
    [
        ((100.0, 0.0, 2.0), True),
        ((110.0, 0.0, 5.0), True),  # boundary counts as inside
        ((100.0, 0.0, 5.5), False),  # above the ceiling
        ((111.0, 0.0, 1.0), False),
    ],
)
def test_zone_contains(point_m: tuple[float, float, float], inside: bool) -> None:
    zone = Zone("Z-1", "zone1", ((90.0, -10.0), (110.0, -10.0), (110.0, 10.0), (90.0, 10.0)), 0, 5)
    assert zone_contains(zone, point_m).tolist() == [inside]


def test_zone_polygon() -> None:
    zone = Zone("Z", "zone1", ((0.0, 0.0), (4.0, 0.0), (4.0, 3.0)))
    assert zone_polygon(zone).area == 6.0


# -- primitives and meshes ----------------------------------------------------------------------


def _closed_form_volume_m3(facility: Facility) -> float:
    if facility.type == "sphere":
        assert facility.diameter_m is not None
        return 4.0 / 3.0 * math.pi * (facility.diameter_m / 2.0) ** 3
    if facility.diameter_m is not None:
        return math.pi * (facility.diameter_m / 2.0) ** 2 * facility.height_m
    assert facility.length_m is not None and facility.width_m is not None
    return facility.length_m * facility.width_m * facility.height_m


@pytest.mark.parametrize("facility_id", ["T-101", "T-110", "SP-201", "C-302", "PR-401", "OF-1"])
def test_facility_mesh(example: Site, facility_id: str) -> None:
    facility = example.facility(facility_id)
    mesh = facility_mesh(facility)
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert mesh.volume > 0.0  # outward normals
    assert mesh.volume == pytest.approx(_closed_form_volume_m3(facility), rel=0.01)
    low, high = facility_primitives(facility)[0].bounds()
    assert_allclose(mesh.bounds, [low, high], atol=0.02 + 1e-9)


def test_facility_mesh_invalid(example: Site) -> None:
    with pytest.raises(InputError, match="tolerance_m"):
        facility_mesh(example.facility("T-101"), tolerance_m=0.0)
    no_diameter = Facility("X", "X", "column", (0.0, 0.0, 0.0), 10.0)
    no_length = Facility("Y", "Y", "building", (0.0, 0.0, 0.0), 10.0, width_m=5.0)
    for function in (facility_mesh, facility_primitives, facility_footprint):
        with pytest.raises(InputError, match="'X' \\(column\\) needs diameter_m"):
            function(no_diameter)
        with pytest.raises(InputError, match="'Y' \\(building\\) needs length_m"):
            function(no_length)


def test_site_meshes(example: Site) -> None:
    meshes = site_meshes(example)
    assert list(meshes) == [f.id for f in example.facilities]
    assert all(isinstance(m, trimesh.Trimesh) and m.is_watertight for m in meshes.values())


def test_facility_primitives(example: Site) -> None:
    expected = {
        "fixed_roof_tank": Cylinder,
        "floating_roof_tank": Cylinder,
        "column": Cylinder,
        "sphere": Sphere,
        "pipe_rack": Box,
        "building": Box,
    }
    for facility in example.facilities:
        (primitive,) = facility_primitives(facility)
        assert isinstance(primitive, expected[facility.type])
        _, high = primitive.bounds()
        assert high[2] == pytest.approx(facility.height_m)  # tops at height_m
    sphere = facility_primitives(example.facility("SP-201"))[0]
    assert isinstance(sphere, Sphere)
    assert_allclose(sphere.center_m, (90.0, 40.0, 12.0), atol=1e-3)  # equator at 20 - 8 m
    for facility_id in ("PR-401", "PR-402", "OF-1"):  # footprint and box agree
        facility = example.facility(facility_id)
        (box,) = facility_primitives(facility)
        assert isinstance(box, Box)
        footprint = facility_footprint(facility)
        corners = np.array(footprint.exterior.coords)[:4]
        center = np.array(facility.center_m[:2])
        inside = center + 0.999 * (corners - center)
        outside = center + 1.001 * (corners - center)
        z = np.full((4, 1), facility.height_m / 2.0)
        assert box.contains(np.hstack([inside, z])).all()
        assert not box.contains(np.hstack([outside, z])).any()
        assert footprint.area == pytest.approx(box.size_m[0] * box.size_m[1], rel=1e-9)
    primitives, owners = site_primitives(example)
    assert owners == [f.id for f in example.facilities] and len(primitives) == len(owners)


def _rays_at(facility: Facility) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal rays aimed at the facility's vertical axis from all sides, plus vertical rays
    down onto its top: all hit near-normal, so mesh and primitive agree to the mesh tolerance."""
    x, y, _ = facility.center_m
    reach = 3.0 * max(facility.diameter_m or 0.0, facility.length_m or 0.0)
    bearings = np.radians(np.arange(0.0, 360.0, 7.0))
    z = facility.height_m * (0.7 if facility.type == "sphere" else 0.5)
    if facility.type == "sphere":
        assert facility.diameter_m is not None
        z = facility.height_m - facility.diameter_m / 2.0  # the equator
    side = np.column_stack([x + reach * np.sin(bearings), y + reach * np.cos(bearings)])
    origins = np.column_stack([side, np.full(len(side), z)])
    directions = np.column_stack([-np.sin(bearings), -np.cos(bearings), np.zeros(len(side))])
    top = np.array([[x, y, facility.height_m + 50.0], [x + 0.5, y - 0.3, facility.height_m + 50]])
    origins = np.vstack([origins, top])
    directions = np.vstack([directions, [[0.0, 0.0, -1.0]] * 2])
    return origins, directions


@pytest.mark.parametrize("facility_id", ["T-101", "T-108", "SP-201", "C-301", "PR-402", "OF-1"])
def test_facility_primitives_match_mesh(example: Site, facility_id: str) -> None:
    facility = example.facility(facility_id)
    origins, directions = _rays_at(facility)
    t_primitive, index = cast_rays(origins, directions, facility_primitives(facility))
    assert (index == 0).all()
    mesh = facility_mesh(facility, tolerance_m=0.02)
    locations, ray_index, _ = mesh.ray.intersects_location(origins, directions, multiple_hits=False)
    t_mesh = np.full(len(origins), np.inf)
    t_mesh[ray_index] = np.linalg.norm(locations - origins[ray_index], axis=1)
    # The mesh is inscribed: it is hit at most 2 cm (its tolerance) behind the true surface.
    assert_allclose(t_mesh, t_primitive, atol=0.02 + 1e-6)
    assert (t_mesh >= t_primitive - 1e-6).all()
