"""Synthetic tank-farm sites for benchmarks and tests: GeoJSON in the ``docs/site-format.md``
schema, deterministic per seed.

The farm is rows of vertical tanks running east-west, one size class per row (as real farms
group tanks by size), with a road in every gap between rows, a road along the west and east
edges, a process area to the east (LPG spheres, two columns, two pipe racks, a Zone 1 around
the columns, a Zone 2 around the spheres, a loading bay in Zone 1, all inside a fire-restricted
area), an office with a people area to the west, 1-3 take-off points beside the office and a
site boundary. Big tanks are mostly floating-roof, so :func:`~plantwatch.drone.site.
site_from_geojson` derives their Zone 2 (MHLW-2022 Fig. 6.1).

Spacing is indicative, not a code check: the gap between tank walls in a row is
``max(0.5 D, 15 m)`` (:func:`tank_gap_m`) — of the order of NFPA 30 shell-to-shell spacing
(a sixth to a third of the sum of adjacent diameters) and of the open space Japanese rules ask
around large outdoor tanks (at least 15 m); neither code is in the seed documents, so do not
use these layouts to judge a real plant. 15 m also leaves room for a drone orbit at the 7 m
standoff of a 2 mm/px photo from a 1-inch 20 MP camera.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plantwatch.drone.model import Site
from plantwatch.drone.site import enu_to_wgs84
from plantwatch.errors import InputError
from plantwatch.fileio import atomic_write_text

__all__ = [
    "MAX_SYNTH_TANKS",
    "ROAD_WIDTH_M",
    "TANK_CLASSES",
    "TankClass",
    "synthesize_site",
    "tank_gap_m",
    "write_geojson_atomic",
]

MAX_SYNTH_TANKS = 5000
ROAD_WIDTH_M = 8.0  # two-lane plant road [m]
_MIN_TANK_GAP_M = 15.0  # smallest wall-to-wall gap between tanks [m] (see module docstring)
_EDGE_ROAD_OFFSET_M = 12.0  # farm edge (outermost wall gap midline) to edge-road centre [m]
_BOUNDARY_MARGIN_M = 30.0  # site boundary beyond everything else [m]
_DECIMALS = 9  # lon/lat decimals written (1e-9 deg ~ 0.1 mm)
_NUMBER = r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_POSITION = re.compile(rf"\[\s*((?:{_NUMBER},\s*)+{_NUMBER})\s*\]")


@dataclass(frozen=True)
class TankClass:
    """A size class of vertical storage tank."""

    diameter_m: float  # shell diameter [m]
    height_m: float  # shell height [m] (varied by +-15 % per tank)
    floating_share: float  # probability that a tank of this class has a floating roof [-]
    weight: float  # relative frequency of rows of this class [-]


TANK_CLASSES: tuple[TankClass, ...] = (
    TankClass(12.0, 10.0, 0.0, 1.0),
    TankClass(16.0, 12.0, 0.0, 2.0),
    TankClass(24.0, 15.0, 0.2, 2.0),
    TankClass(30.0, 18.0, 0.5, 2.0),
    TankClass(40.0, 20.0, 0.7, 1.5),
    TankClass(50.0, 22.0, 0.8, 1.0),
    TankClass(60.0, 22.0, 0.9, 0.5),
)
"""Tank sizes of a coastal oil terminal (diameters 12-60 m, heights 10-22 m); big tanks are
mostly floating-roof (crude, gasoline), small ones fixed-roof."""


def tank_gap_m(diameter_a_m: float, diameter_b_m: float) -> float:
    """Wall-to-wall gap between two neighbouring tanks [m]: ``max(0.5 max(Da, Db), 15 m)``.

    Indicative spacing only (see the module docstring); not a fire-code check.
    """
    return max(0.5 * max(diameter_a_m, diameter_b_m), _MIN_TANK_GAP_M)


@dataclass(frozen=True)
class _Tank:
    x_m: float
    y_m: float
    diameter_m: float
    height_m: float
    floating: bool


def _layout_tanks(n_tanks: int, rng: np.random.Generator) -> tuple[list[_Tank], list[float], float]:
    """Tank rows from y = 0 southwards; returns tanks, road centre-line y's, farm width [m]."""
    weights = np.array([c.weight for c in TANK_CLASSES])
    mean_pitch = float(
        np.sum(weights * [c.diameter_m + tank_gap_m(c.diameter_m, 0) for c in TANK_CLASSES])
        / weights.sum()
    )
    width_m = max(150.0, math.sqrt(n_tanks) * mean_pitch)
    tanks: list[_Tank] = []
    road_y: list[float] = []
    remaining, y_m, previous = n_tanks, 0.0, None
    while remaining:
        tank_class = TANK_CLASSES[int(rng.choice(len(TANK_CLASSES), p=weights / weights.sum()))]
        diameter = tank_class.diameter_m
        pitch = diameter + tank_gap_m(diameter, diameter)
        count = min(remaining, max(1, int(width_m // pitch)))
        if previous is not None:
            gap = tank_gap_m(previous, diameter) + ROAD_WIDTH_M
            road_y.append(y_m - previous / 2.0 - gap / 2.0)
            y_m -= previous / 2.0 + gap + diameter / 2.0
        x0 = (width_m - count * pitch) / 2.0 + pitch / 2.0
        heights = tank_class.height_m * rng.uniform(0.85, 1.15, count)
        floating = rng.random(count) < tank_class.floating_share
        for k in range(count):
            tanks.append(
                _Tank(
                    x0 + k * pitch,
                    y_m,
                    diameter,
                    round(float(heights[k]) * 2) / 2,
                    bool(floating[k]),
                )
            )
        remaining -= count
        previous = diameter
    if not any(t.floating for t in tanks):  # the derived-zone rule needs one floating roof
        largest = max(range(len(tanks)), key=lambda i: tanks[i].diameter_m)
        t = tanks[largest]
        tanks[largest] = _Tank(t.x_m, t.y_m, t.diameter_m, t.height_m, True)
    return tanks, road_y, width_m


def _rectangle_enu(x0: float, x1: float, y0: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]


class _Builder:
    """Collects features in ENU [m] and writes them as GeoJSON lon/lat."""

    def __init__(self, origin_lat_deg: float, origin_lon_deg: float) -> None:
        self.site = Site("synth", origin_lat_deg, origin_lon_deg, 0.0, (), (), ())
        self.features: list[tuple[dict[str, Any], str, NDArray[np.float64]]] = []
        self.shift = np.zeros(2)

    def add(self, geometry_type: str, xy_m: Any, **properties: Any) -> None:
        self.features.append((properties, geometry_type, np.atleast_2d(np.asarray(xy_m, float))))

    def bounds(self) -> tuple[float, float, float, float]:
        points = np.concatenate([xy for _, _, xy in self.features])
        pad = np.array(
            [
                max((p.get("diameter_m", 0) or 0) / 2.0, (p.get("length_m", 0) or 0) / 2.0)
                for p, _, xy in self.features
                for _ in range(len(xy))
            ]
        )
        return (
            float((points[:, 0] - pad).min()),
            float((points[:, 1] - pad).min()),
            float((points[:, 0] + pad).max()),
            float((points[:, 1] + pad).max()),
        )

    def to_geojson(self, collection_props: dict[str, Any]) -> dict[str, Any]:
        sizes = [len(xy) for _, _, xy in self.features]
        points = np.concatenate([xy for _, _, xy in self.features]) - self.shift
        enu = np.column_stack([points, np.zeros(len(points))])
        lat_lon = np.round(enu_to_wgs84(self.site, enu)[:, :2], _DECIMALS)
        lon_lat = lat_lon[:, ::-1].tolist()
        features = []
        start = 0
        for (props, geometry_type, _), size in zip(self.features, sizes, strict=True):
            coords = lon_lat[start : start + size]
            start += size
            coordinates: Any
            if geometry_type == "Point":
                coordinates = coords[0]
            elif geometry_type == "LineString":
                coordinates = coords
            else:
                coordinates = [coords]
            features.append(
                {
                    "type": "Feature",
                    "properties": props,
                    "geometry": {"type": geometry_type, "coordinates": coordinates},
                }
            )
        return {"type": "FeatureCollection", "properties": collection_props, "features": features}


def _check_int(value: object, field: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"must be an integer, got {value!r}", field=field)
    if value < low or (high is not None and value > high):
        upper = f" and <= {high}" if high is not None else ""
        raise InputError(f"must be >= {low}{upper}, got {value!r}", field=field)
    return int(value)


def synthesize_site(
    n_tanks: int,
    seed: int,
    origin_lat_deg: float = 35.5,
    origin_lon_deg: float = 139.8,
) -> dict[str, Any]:
    """A synthetic tank-farm site as a GeoJSON FeatureCollection (WGS84 lon/lat).

    Parameters
    ----------
    n_tanks
        Number of vertical storage tanks (fixed- and floating-roof), 1..5000. Spheres, columns,
        pipe racks and the office come on top.
    seed
        Seed of the random layout (size class per row, tank heights, roof types, number of
        take-off points); the same seed gives the same site.
    origin_lat_deg, origin_lon_deg
        WGS84 position of the site centre (the ENU origin written to the file) [deg].

    Returns
    -------
    geojson
        A FeatureCollection in the ``docs/site-format.md`` schema that
        :func:`~plantwatch.drone.site.site_from_geojson` accepts; its ``properties`` hold the
        origin, the seed and a description.

    Raises
    ------
    InputError
        ``n_tanks`` outside 1..5000, a non-integer seed, or an origin off the globe.
    """
    n_tanks = _check_int(n_tanks, "n_tanks", 1, MAX_SYNTH_TANKS)
    seed = _check_int(seed, "seed", 0)
    for value, field, limit in (
        (origin_lat_deg, "origin_lat_deg", 85.0),
        (origin_lon_deg, "origin_lon_deg", 180.0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"must be a number [deg], got {value!r}", field=field)
        if not (math.isfinite(value) and -limit <= value <= limit):
            raise InputError(f"must lie in [-{limit:g}, {limit:g}] deg, got {value!r}", field)
    rng = np.random.default_rng(seed)
    tanks, road_ys, width_m = _layout_tanks(n_tanks, rng)
    north = max(t.y_m + t.diameter_m / 2.0 for t in tanks)
    south = min(t.y_m - t.diameter_m / 2.0 for t in tanks)
    mid_y = (north + south) / 2.0
    west_road_x, east_road_x = -_EDGE_ROAD_OFFSET_M, width_m + _EDGE_ROAD_OFFSET_M
    b = _Builder(float(origin_lat_deg), float(origin_lon_deg))

    digits = max(3, len(str(n_tanks)))
    for number, tank in enumerate(tanks, start=1):
        b.add(
            "Point",
            (tank.x_m, tank.y_m),
            kind="facility",
            type="floating_roof_tank" if tank.floating else "fixed_roof_tank",
            id=f"T-{number:0{digits}d}",
            diameter_m=tank.diameter_m,
            height_m=tank.height_m,
        )

    # Roads: one in every gap between rows, one along each edge of the farm.
    road_north, road_south = north + _EDGE_ROAD_OFFSET_M, south - _EDGE_ROAD_OFFSET_M
    for number, y in enumerate(road_ys, start=1):
        b.add(
            "LineString",
            [(west_road_x, y), (east_road_x, y)],
            kind="road",
            id=f"R-{number}",
            width_m=ROAD_WIDTH_M,
            controlled=True,  # plant road: closed and watched during flights
        )
    for road_id, x in (("R-west", west_road_x), ("R-east", east_road_x)):
        b.add(
            "LineString",
            [(x, road_south), (x, road_north)],
            kind="road",
            id=road_id,
            width_m=ROAD_WIDTH_M,
            controlled=True,
        )

    # Process area east of the farm.
    px = east_road_x
    sphere_d = rng.uniform(14.0, 18.0, 2).round(1)
    column_d = rng.uniform(3.0, 5.0, 2).round(1)
    column_h = rng.uniform(30.0, 50.0, 2).round(0)
    b.add(
        "Polygon",
        _rectangle_enu(px + 15, px + 125, mid_y - 120, mid_y + 75),
        kind="fire_restricted",
        id="FR-1",
        name="fire-restricted process area",
    )
    b.add(
        "Point",
        (px + 25, mid_y),
        kind="facility",
        type="pipe_rack",
        id="PR-1",
        length_m=120.0,
        width_m=6.0,
        height_m=8.0,
        yaw_deg=0.0,
    )
    b.add(
        "Point",
        (px + 80, mid_y - 60),
        kind="facility",
        type="pipe_rack",
        id="PR-2",
        length_m=80.0,
        width_m=6.0,
        height_m=7.0,
        yaw_deg=90.0,
    )
    for k, dy in enumerate((25.0, -25.0)):
        b.add(
            "Point",
            (px + 60, mid_y + dy),
            kind="facility",
            type="sphere",
            id=f"SP-{k + 1}",
            diameter_m=float(sphere_d[k]),
            height_m=float(sphere_d[k]) + 4.0,
        )
        b.add(
            "Point",
            (px + 100, mid_y + dy * 0.6),
            kind="facility",
            type="column",
            id=f"C-{k + 1}",
            diameter_m=float(column_d[k]),
            height_m=float(column_h[k]),
        )
    b.add(
        "Polygon",
        _rectangle_enu(px + 45, px + 75, mid_y - 45, mid_y + 45),
        kind="zone2",
        id="Z2-spheres",
        ceiling_m=float(sphere_d.max()) + 7.0,
    )
    b.add(
        "Polygon",
        _rectangle_enu(px + 90, px + 110, mid_y - 25, mid_y + 25),
        kind="zone1",
        id="Z1-columns",
        ceiling_m=10.0,
    )
    b.add(
        "Polygon",
        _rectangle_enu(px + 30, px + 70, mid_y - 110, mid_y - 85),
        kind="zone1",
        id="Z1-loading",
        name="truck loading bay",
        ceiling_m=6.0,
    )

    # Office, its people area and the take-off points, west of the farm.
    ox = west_road_x - 55.0
    b.add(
        "Point",
        (ox, mid_y),
        kind="facility",
        type="building",
        id="B-office",
        name="office",
        length_m=30.0,
        width_m=15.0,
        height_m=10.0,
        yaw_deg=0.0,
    )
    b.add(
        "Polygon",
        _rectangle_enu(ox - 20, ox + 20, mid_y - 25, mid_y + 25),
        kind="people",
        id="P-office",
        name="office and car park",
    )
    n_takeoffs = int(rng.integers(1, 4))
    for k, dy in enumerate((-40.0, 40.0, 0.0)[:n_takeoffs]):
        b.add("Point", (west_road_x - 25.0, mid_y + dy), kind="takeoff", id=f"TO-{k + 1}")

    x0, y0, x1, y1 = b.bounds()
    m = _BOUNDARY_MARGIN_M
    b.add("Polygon", _rectangle_enu(x0 - m, x1 + m, y0 - m, y1 + m), kind="boundary", id="boundary")
    b.shift = np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0])  # site centre -> ENU origin
    return b.to_geojson(
        {
            "name": f"synthetic tank farm ({n_tanks} tanks, seed {seed})",
            "description": (
                "Synthetic site from plantwatch.drone.synth: invented layout, indicative "
                "spacing, not a real plant."
            ),
            "origin_lat_deg": float(origin_lat_deg),
            "origin_lon_deg": float(origin_lon_deg),
            "origin_alt_m": 0.0,
            "seed": seed,
            "n_tanks": n_tanks,
        }
    )


def write_geojson_atomic(data: dict[str, Any], path: str | Path, indent: int | None = 1) -> Path:
    """Write GeoJSON to ``path`` atomically (temporary file in the same folder + ``os.replace``).

    Parameters
    ----------
    data
        JSON-serialisable GeoJSON; ``NaN``/``inf`` are rejected (not valid JSON).
    path
        Destination; its folder is created if missing.
    indent
        ``json.dumps`` indentation (``None``: one line).

    Returns
    -------
    path
        The written file. On any failure nothing is left at ``path`` (an old file stays as it
        was) and no temporary file remains.
    """
    target = Path(path)
    try:
        text = json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cannot be written as JSON: {exc}", field="data") from None
    if indent is not None:  # one position per line, not one number per line
        text = _POSITION.sub(lambda match: "[" + re.sub(r"\s+", " ", match.group(1)) + "]", text)
    return atomic_write_text(target, text + "\n")
