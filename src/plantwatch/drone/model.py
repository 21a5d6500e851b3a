"""The drone half's shared data model: site, facilities, zones, camera, waypoints, plans.

Everything geometric is in a local ENU frame [m] (x east, y north, z up) whose origin is the
site's reference point on the ground (``Site.origin_lat_deg``/``origin_lon_deg``, z = 0 at the
site's ground level). Conversion to and from WGS84 happens only at the edges (GeoJSON in, mission
files out) through ``Site.to_wgs84`` / ``Site.from_wgs84`` (pyproj). Heights of waypoints are
above the take-off point, which is how flight software (QGroundControl relative altitude, DJI
``relativeToStartPoint``) and the 150 m rule of the Aviation Act count them.

Modules and what they own:

* ``site.py``      GeoJSON -> ``Site`` (validation, ENU conversion, derived Ex zones), meshes
* ``camera.py``    ``CameraModel`` presets, GSD, footprint, standoff for a target GSD
* ``planner.py``   ``Site`` + ``CameraModel`` + ``PlanOptions`` -> ``Plan`` (sorties of waypoints)
* ``coverage.py``  ``Site`` + ``Plan`` -> ``CoverageReport`` (ray-cast, blind spots)
* ``export/``      ``Plan`` -> .plan, .waypoints, .kml, .kmz (WPML), route .geojson
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "FACILITY_TYPES",
    "ZONE_KINDS",
    "CameraModel",
    "CoverageReport",
    "Facility",
    "FacilityCoverage",
    "Plan",
    "PlanOptions",
    "Site",
    "Sortie",
    "Waypoint",
    "Zone",
]

FacilityType = Literal[
    "fixed_roof_tank", "floating_roof_tank", "sphere", "column", "stack", "pipe_rack", "building"
]
FACILITY_TYPES: tuple[str, ...] = (
    "fixed_roof_tank",
    "floating_roof_tank",
    "sphere",
    "column",
    "stack",
    "pipe_rack",
    "building",
)
ZoneKind = Literal[
    "zone0", "zone1", "zone2", "fire_restricted", "no_fly", "people", "road", "boundary"
]
ZONE_KINDS: tuple[str, ...] = (
    "zone0",
    "zone1",
    "zone2",
    "fire_restricted",
    "no_fly",
    "people",
    "road",
    "boundary",
)


@dataclass(frozen=True)
class Facility:
    """A structure to inspect, in local ENU.

    Vertical cylinders (tanks, columns, stacks) and spheres use ``center_m`` + ``diameter_m``;
    pipe racks and buildings use ``center_m`` + ``length_m`` x ``width_m`` rotated by ``yaw_deg``
    (clockwise from north, like a heading; the length runs along the yaw direction).
    ``center_m`` is the centre of the footprint at ground level (z = base elevation, usually 0);
    for a sphere the equator is at ``center_m[2] + height_m - diameter_m / 2``.
    """

    id: str
    name: str
    type: FacilityType
    center_m: tuple[float, float, float]
    height_m: float  # top of the structure above its base [m]
    diameter_m: float | None = None  # tanks, columns, stacks, spheres [m]
    length_m: float | None = None  # pipe racks, buildings [m]
    width_m: float | None = None  # pipe racks, buildings [m]
    yaw_deg: float = 0.0
    explosion_proof_required: bool = False  # set when the facility sits inside a Zone 0/1
    properties: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_vertical_cylinder(self) -> bool:
        return self.type in ("fixed_roof_tank", "floating_roof_tank", "column", "stack")

    @property
    def is_tank(self) -> bool:
        return self.type in ("fixed_roof_tank", "floating_roof_tank", "sphere")


@dataclass(frozen=True)
class Zone:
    """An area with rules: hazardous (Ex Zone 0/1/2), fire-restricted, no-fly, people, road,
    or the site boundary. ``polygon_m`` is the footprint in local ENU (x, y) [m] as a list of
    vertices (closed implicitly); the zone spans ``floor_m``..``ceiling_m`` above ground."""

    id: str
    kind: ZoneKind
    polygon_m: tuple[tuple[float, float], ...]
    floor_m: float = 0.0
    ceiling_m: float = float("inf")
    source: str = ""  # e.g. "derived: MHLW-2022 Fig. 6.1, Zone 2 within 3 m of tank T-1 wall"
    properties: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Site:
    """A plant site in local ENU with its geodetic anchor."""

    name: str
    origin_lat_deg: float
    origin_lon_deg: float
    origin_alt_m: float  # ellipsoidal/MSL height of the ENU origin [m] (0 if unknown)
    facilities: tuple[Facility, ...]
    zones: tuple[Zone, ...]
    takeoff_points_m: tuple[tuple[float, float], ...]  # ENU (x, y) of take-off/landing points
    properties: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_wgs84(self, points_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """(N, 3) ENU [m] -> (N, 3) (lat_deg, lon_deg, height_m above the origin's height).

        Uses pyproj's topocentric conversion (implemented in ``plantwatch.drone.site``).
        """
        from plantwatch.drone.site import enu_to_wgs84

        return enu_to_wgs84(self, points_m)

    def from_wgs84(self, lat_lon_h: NDArray[np.float64]) -> NDArray[np.float64]:
        """(N, 3) (lat_deg, lon_deg, height_m) -> (N, 3) ENU [m]."""
        from plantwatch.drone.site import wgs84_to_enu

        return wgs84_to_enu(self, lat_lon_h)

    def facility(self, facility_id: str) -> Facility:
        for f in self.facilities:
            if f.id == facility_id:
                return f
        raise KeyError(facility_id)

    def zones_of(self, *kinds: str) -> tuple[Zone, ...]:
        return tuple(z for z in self.zones if z.kind in kinds)


@dataclass(frozen=True)
class CameraModel:
    """A drone photo camera (visible-light inspection camera)."""

    name: str
    sensor_width_mm: float
    sensor_height_mm: float
    image_width_px: int
    image_height_px: int
    focal_length_mm: float
    source: str = ""  # citation of the figures (maker's spec page, etc.)


@dataclass(frozen=True)
class Waypoint:
    """One point of a route, in ENU with its geodetic copy filled by the planner.

    ``z_m`` is height above the take-off point (= above site ground level z = 0) [m].
    ``heading_deg`` is the aircraft yaw, clockwise from north; ``gimbal_pitch_deg`` is 0 for
    level and -90 for straight down; the camera looks along the heading.
    """

    x_m: float
    y_m: float
    z_m: float
    heading_deg: float
    gimbal_pitch_deg: float
    speed_m_s: float
    action: Literal["photo", "none"] = "photo"
    facility_id: str | None = None
    kind: str = "orbit"  # orbit | roof | sphere | rack | transit | takeoff | landing
    lat_deg: float | None = None
    lon_deg: float | None = None

    @property
    def position_m(self) -> NDArray[np.float64]:
        return np.array([self.x_m, self.y_m, self.z_m])


@dataclass(frozen=True)
class Sortie:
    """One battery's flight: take-off, waypoints, landing at ``takeoff_m``."""

    index: int
    takeoff_m: tuple[float, float]
    waypoints: tuple[Waypoint, ...]
    flight_time_s: float
    distance_m: float

    @property
    def photo_count(self) -> int:
        return sum(w.action == "photo" for w in self.waypoints)


@dataclass(frozen=True)
class PlanOptions:
    """What the inspector asks for."""

    gsd_mm: float = 2.0  # required ground sample distance on the facility surface [mm/px]
    front_overlap: float = 0.7  # along-track overlap between consecutive photos
    side_overlap: float = 0.7  # between adjacent layers/passes
    min_distance_m: float = 5.0  # minimum distance from any structure [m]
    max_height_m: float = 150.0  # Aviation Act Art. 132 airspace limit above ground [m]
    speed_m_s: float = 4.0  # cruise speed while shooting [m/s]
    transit_speed_m_s: float = 8.0  # between facilities [m/s]
    wind_m_s: float = 5.0  # forecast mean wind for the fall-range check [m/s]
    explosion_proof: bool = False  # aircraft certified for hazardous areas
    battery_endurance_s: float = 20 * 60.0  # usable flight time per battery (reserve deducted)
    max_incidence_deg: float = 60.0  # photos seen more obliquely than this do not count
    photo_interval_s: float = 2.0  # minimum time between photos [s]
    facility_ids: tuple[str, ...] | None = None  # None = every facility
    # Photos per sortie at most: each photo costs ~2 mission items (waypoint + capture) plus
    # gimbal/speed commands, so 200 keeps a sortie's mission near 450 items. Some autopilot
    # builds store only a few hundred items (a conservative bound; check your firmware).
    max_photos_per_sortie: int = 200


@dataclass(frozen=True)
class Plan:
    """The planned inspection: sorties in flying order, with what they were planned for."""

    site_name: str
    camera: CameraModel
    options: PlanOptions
    standoff_m: float  # camera-to-surface distance that gives the target GSD [m]
    sorties: tuple[Sortie, ...]
    skipped: tuple[dict[str, str], ...] = ()  # facilities or layers not flown, and why
    baseline: dict[str, Any] = field(default_factory=dict)  # Structure-Scan comparison figures

    @property
    def waypoints(self) -> tuple[Waypoint, ...]:
        return tuple(w for s in self.sorties for w in s.waypoints)

    @property
    def photo_count(self) -> int:
        return sum(s.photo_count for s in self.sorties)

    @property
    def flight_time_s(self) -> float:
        return sum(s.flight_time_s for s in self.sorties)


@dataclass(frozen=True)
class FacilityCoverage:
    """What the photos of a plan see of one facility."""

    facility_id: str
    facility_type: str
    coverage_pct: float  # share of the inspectable surface area seen at <= target GSD [%]
    blind_spots: tuple[dict[str, Any], ...]  # {"face": "shell"|"roof"|…, "bearing_deg": [a, b],
    #                                           "height_m": [lo, hi], "area_m2": …}
    area_m2: float
    seen_area_m2: float


@dataclass(frozen=True)
class CoverageReport:
    facilities: tuple[FacilityCoverage, ...]
    total_area_m2: float
    seen_area_m2: float
    conventional_inspection: tuple[dict[str, Any], ...]  # what must be inspected by hand

    @property
    def coverage_pct(self) -> float:
        return 100.0 * self.seen_area_m2 / self.total_area_m2 if self.total_area_m2 else 0.0
