"""Tests for plantwatch.drone.synth: synthetic tank farms and atomic GeoJSON writes (issue 5,
"a generator for large synthetic sites")."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from plantwatch.drone.site import (
    facility_footprint,
    site_footprint_union,
    site_from_geojson,
    zone_polygon,
)
from plantwatch.drone.synth import synthesize_site, tank_gap_m, write_geojson_atomic
from plantwatch.errors import InputError

TANK_TYPES = ("fixed_roof_tank", "floating_roof_tank")


def test_synthesize_site_deterministic() -> None:
    first = synthesize_site(40, seed=7)
    assert synthesize_site(40, seed=7) == first
    assert json.dumps(synthesize_site(40, seed=7)) == json.dumps(first)
    assert synthesize_site(40, seed=8) != first


@pytest.mark.parametrize(("n_tanks", "seed"), [(1, 0), (7, 1), (60, 2), (150, 3)])
def test_synthesize_site(n_tanks: int, seed: int) -> None:
    data = synthesize_site(n_tanks, seed)
    site = site_from_geojson(data)  # validates: no overlaps, a usable take-off point, ...
    tanks = [f for f in site.facilities if f.type in TANK_TYPES]
    assert len(tanks) == n_tanks
    assert len({f.id for f in site.facilities}) == len(site.facilities)
    types = {f.type for f in site.facilities}
    assert {"floating_roof_tank", "sphere", "column", "pipe_rack", "building"} <= types
    # Floating-roof tanks get a derived Zone 2 (MHLW-2022 Fig. 6.1).
    derived = [z for z in site.zones if z.properties.get("derived")]
    assert len(derived) == sum(f.type == "floating_roof_tank" for f in site.facilities) >= 1
    kinds = {z.kind for z in site.zones}
    assert {"zone1", "zone2", "fire_restricted", "people", "road", "boundary"} <= kinds
    # 1-3 take-off points, all outside hazardous zones.
    assert 1 <= len(site.takeoff_points_m) <= 3
    assert site.properties["excluded_takeoffs"] == []
    # No overlapping footprints: the union's area is the sum of the areas.
    areas = sum(facility_footprint(f).area for f in site.facilities)
    assert site_footprint_union(site).area == pytest.approx(areas, rel=1e-9)
    # Everything lies inside the boundary.
    (boundary,) = site.zones_of("boundary")
    assert zone_polygon(boundary).contains(site_footprint_union(site))
    assert (data["properties"]["seed"], data["properties"]["n_tanks"]) == (seed, n_tanks)


def _wall_gaps_m(centers_m: np.ndarray, radii_m: np.ndarray) -> np.ndarray:
    """Wall-to-wall gap of every pair of tanks [m], upper triangle (i < j)."""
    distance = np.linalg.norm(centers_m[:, None] - centers_m[None], axis=-1)
    gaps = distance - radii_m[:, None] - radii_m[None]
    return gaps[np.triu_indices(len(radii_m), k=1)]


def test_synthesize_site_spacing() -> None:
    site = site_from_geojson(synthesize_site(120, seed=4))
    tanks = [f for f in site.facilities if f.type in TANK_TYPES]
    centers = np.array([f.center_m[:2] for f in tanks])
    radii = np.array([f.diameter_m / 2.0 for f in tanks if f.diameter_m is not None])
    gaps = _wall_gaps_m(centers, radii)
    assert gaps.min() >= 15.0 - 1e-3  # room to orbit every tank at a 7 m standoff
    # Neighbours in a row are exactly max(0.5 D, 15 m) apart.
    diameters = 2.0 * radii
    for i in range(len(tanks) - 1):
        same_row = abs(centers[i, 1] - centers[i + 1, 1]) < 1e-3
        if same_row:
            gap = np.linalg.norm(centers[i] - centers[i + 1]) - radii[i] - radii[i + 1]
            assert gap == pytest.approx(tank_gap_m(diameters[i], diameters[i + 1]), abs=1e-3)


def test_synthesize_site_origin() -> None:
    site = site_from_geojson(synthesize_site(10, seed=1, origin_lat_deg=51.5, origin_lon_deg=-0.1))
    assert (site.origin_lat_deg, site.origin_lon_deg) == (51.5, -0.1)
    (boundary,) = site.zones_of("boundary")
    xs, ys = np.array(boundary.polygon_m).T
    assert abs(xs.min() + xs.max()) < 1e-3 and abs(ys.min() + ys.max()) < 1e-3  # centred


def test_synthesize_large_site() -> None:
    site = site_from_geojson(synthesize_site(500, seed=11))
    assert sum(f.type in TANK_TYPES for f in site.facilities) == 500


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_tanks": 0, "seed": 1}, "n_tanks"),
        ({"n_tanks": -3, "seed": 1}, "n_tanks"),
        ({"n_tanks": 5001, "seed": 1}, "n_tanks"),
        ({"n_tanks": 2.5, "seed": 1}, "n_tanks"),
        ({"n_tanks": True, "seed": 1}, "n_tanks"),
        ({"n_tanks": 5, "seed": -1}, "seed"),
        ({"n_tanks": 5, "seed": "a"}, "seed"),
        ({"n_tanks": 5, "seed": 1, "origin_lat_deg": 91.0}, "origin_lat_deg"),
        ({"n_tanks": 5, "seed": 1, "origin_lon_deg": math.nan}, "origin_lon_deg"),
    ],
)
def test_synthesize_site_invalid(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        synthesize_site(**kwargs)
    assert caught.value.field == field


def test_tank_gap_m() -> None:
    assert tank_gap_m(12.0, 16.0) == 15.0
    assert tank_gap_m(60.0, 30.0) == 30.0


def test_write_geojson_atomic(tmp_path: Path) -> None:
    data = synthesize_site(5, seed=2)
    path = tmp_path / "new" / "site.geojson"
    assert write_geojson_atomic(data, path) == path
    assert json.loads(path.read_text(encoding="utf-8")) == data
    write_geojson_atomic({"type": "FeatureCollection", "features": []}, path, indent=None)
    assert json.loads(path.read_text())["features"] == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["site.geojson"]


def test_write_geojson_atomic_invalid(tmp_path: Path) -> None:
    path = tmp_path / "site.geojson"
    path.write_text("old")
    with pytest.raises(InputError, match="data"):
        write_geojson_atomic({"value": math.nan}, path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["site.geojson"]  # no temporary left
