"""Plant site model from GeoJSON: facilities, hazardous zones, take-off points, in local ENU.

A site file is a GeoJSON FeatureCollection in WGS84 (RFC 7946: positions are ``[lon, lat]``
in degrees). Every Feature says what it is in ``properties.kind``; ``docs/site-format.md``
documents every kind and property. :func:`site_from_geojson` validates the file once, at the
boundary, and raises :class:`~plantwatch.errors.InputError` with a one-line message naming the
feature (index and id), the field and what is allowed; after that, everything is a
:class:`~plantwatch.drone.model.Site` in local ENU metres (x east, y north, z up).

Besides reading, this module

* converts between ENU and WGS84 with pyproj's topocentric conversion
  (:func:`enu_to_wgs84`, :func:`wgs84_to_enu`);
* derives the Zone 2 around floating-roof tanks that the file does not classify itself
  (MHLW-2022 Fig. 6.1, see :data:`FLOATING_ROOF_ZONE2_MARGIN_M`) and marks facilities that stand
  in Zone 0/1 as needing explosion-proof equipment;
* builds geometry for the planner and coverage: ray-casting primitives
  (:func:`facility_primitives`), watertight surface meshes (:func:`facility_mesh`), footprints
  and zone polygons (shapely).

References
----------
.. [1] Ministry of Health, Labour and Welfare (MHLW), "Manual for introducing drones into the
   periodic voluntary inspection of chemical equipment", April 2022 ("MHLW-2022"), section 6.7
   and Fig. 6.1 (after JNIOHS-TR-NO.44 (2012), "User's guide for explosion-protected electrical
   equipment in factories", which follows IEC 60079 and NFPA), and section 6.10 (METI 2019
   guideline on setting hazardous areas).
.. [2] H. Butler et al., "The GeoJSON Format", RFC 7946, IETF, 2016.
.. [3] PROJ contributors, "Topocentric conversion" (``+proj=topocentric``), PROJ 9 operations.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from plantwatch.drone.model import (
    FACILITY_TYPES,
    ZONE_KINDS,
    Facility,
    FacilityType,
    Site,
    Zone,
    ZoneKind,
)
from plantwatch.errors import InputError
from plantwatch.geometry import Box, Cylinder, Primitive, Sphere

if TYPE_CHECKING:  # trimesh (~0.5-1 s to import) is needed for meshes only, not to plan
    import trimesh

__all__ = [
    "CYLINDRICAL_TYPES",
    "EXPLOSION_PROOF_ZONE_KINDS",
    "FEATURE_KINDS",
    "FLOATING_ROOF_ZONE2_MARGIN_M",
    "HAZARDOUS_ZONE_KINDS",
    "RECTANGULAR_TYPES",
    "TAKEOFF_BLOCKING_ZONE_KINDS",
    "enu_to_wgs84",
    "facility_footprint",
    "facility_mesh",
    "facility_primitives",
    "load_site",
    "site_footprint_union",
    "site_from_geojson",
    "site_meshes",
    "site_primitives",
    "wgs84_to_enu",
    "zone_contains",
    "zone_polygon",
]

FloatArray = NDArray[np.float64]

FEATURE_KINDS: tuple[str, ...] = ("facility", *ZONE_KINDS, "takeoff")
"""Valid values of ``properties.kind``."""

HAZARDOUS_ZONE_KINDS: tuple[str, ...] = ("zone0", "zone1", "zone2")
"""Explosive-atmosphere zones (special, class 1 and class 2 hazardous locations, MHLW-2022
section 6.7 and Fig. 6.1 note 5)."""

EXPLOSION_PROOF_ZONE_KINDS: tuple[str, ...] = ("zone0", "zone1")
"""A facility standing in one of these gets ``explosion_proof_required=True``."""

TAKEOFF_BLOCKING_ZONE_KINDS: tuple[str, ...] = (*HAZARDOUS_ZONE_KINDS, "no_fly")
"""A take-off point inside one of these cannot be used (it is dropped, see
``Site.properties["excluded_takeoffs"]``); a site with no usable one is rejected."""

CYLINDRICAL_TYPES: tuple[str, ...] = (
    "fixed_roof_tank",
    "floating_roof_tank",
    "column",
    "stack",
    "sphere",
)
"""Facility types described by a centre and ``diameter_m``."""

RECTANGULAR_TYPES: tuple[str, ...] = ("pipe_rack", "building")
"""Facility types described by a centre, ``length_m`` x ``width_m`` and ``yaw_deg``."""

FLOATING_ROOF_ZONE2_MARGIN_M = 3.0
"""Zone 2 extends this far from the wall of a floating-roof tank of flammable liquid [m].

MHLW-2022 section 6.7, Fig. 6.1 ("hazardous-area example of a floating-roof storage tank of
flammable liquid", after JNIOHS-TR-NO.44 (2012), IEC 60079 / NFPA): "the range within 3 m of
the tank wall is a class 2 hazardous location (Zone 2)"; note 3: without a dike (and without a
remote trench) Zone 2 extends 3 m horizontally from the tank at grade."""

_CIRCLE_SEGMENTS = 64  # vertices of circular zone and footprint polygons
_CIRCULARITY_TOLERANCE = 0.10  # max relative spread of vertex radii of a "circular" footprint
_OVERLAP_AREA_M2 = 1e-3  # facility footprints may touch, not overlap by more than this [m2]
_MESH_TOLERANCE_M = 0.02  # default max distance between a mesh and the true surface [m]


# -- ENU <-> WGS84 ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _topocentric(lat_deg: float, lon_deg: float, alt_m: float) -> Transformer:
    """pyproj pipeline: geodetic (lon [deg], lat [deg], h [m]) -> topocentric ENU [m].

    Geodetic WGS84 (EPSG:4979) -> geocentric Cartesian (EPSG:4978, ``+proj=cart``) ->
    topocentric East-North-Up about the origin (``+proj=topocentric``) [3]_.
    """
    return Transformer.from_pipeline(
        "+proj=pipeline"
        " +step +proj=unitconvert +xy_in=deg +xy_out=rad"
        " +step +proj=cart +ellps=WGS84"
        f" +step +proj=topocentric +ellps=WGS84 +lat_0={lat_deg!r} +lon_0={lon_deg!r}"
        f" +h_0={alt_m!r}"
    )


def _as_n3(values: ArrayLike, field: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != 3:
        raise InputError(f"must have shape (N, 3) or (3,), got {np.shape(values)}", field=field)
    if not np.isfinite(array).all():
        raise InputError("must be finite (no nan or inf)", field=field)
    return array


def enu_to_wgs84(site: Site, points_m: ArrayLike) -> FloatArray:
    r"""Local ENU points of ``site`` -> WGS84 latitude, longitude and height.

    Parameters
    ----------
    site
        The site whose origin (``origin_lat_deg``, ``origin_lon_deg``, ``origin_alt_m``)
        anchors the ENU frame.
    points_m
        ENU points (x east, y north, z up) [m], shape (N, 3) or (3,).

    Returns
    -------
    lat_lon_h
        Shape (N, 3): latitude [deg], longitude [deg] and ellipsoidal height above the origin's
        height ``h - origin_alt_m`` [m].

    Notes
    -----
    Exact topocentric conversion (pyproj ``+proj=topocentric`` via geocentric ECEF): the ENU
    axes are tangent to the WGS84 ellipsoid at the origin, so a point at z = 0 far from the
    origin lies slightly above the ellipsoid (:math:`\approx d^2 / 2R`, 8 cm at 1 km).
    Round trip with :func:`wgs84_to_enu` is exact to well below 1 mm.
    """
    points = _as_n3(points_m, "points_m")
    transformer = _topocentric(site.origin_lat_deg, site.origin_lon_deg, site.origin_alt_m)
    lon, lat, h = transformer.transform(
        points[:, 0], points[:, 1], points[:, 2], direction="INVERSE"
    )
    return np.column_stack([lat, lon, np.asarray(h) - site.origin_alt_m])


def wgs84_to_enu(site: Site, lat_lon_h: ArrayLike) -> FloatArray:
    """WGS84 latitude, longitude, height -> local ENU of ``site`` [m].

    Parameters
    ----------
    site
        The site whose origin anchors the ENU frame.
    lat_lon_h
        Shape (N, 3) or (3,): latitude [deg], longitude [deg], ellipsoidal height above the
        origin's height [m] (note the order: latitude first, unlike GeoJSON positions).

    Returns
    -------
    points_m
        ENU (x east, y north, z up) [m], shape (N, 3).
    """
    geodetic = _as_n3(lat_lon_h, "lat_lon_h")
    if np.any(np.abs(geodetic[:, 0]) > 90.0):
        raise InputError("latitude (column 0) must lie in [-90, 90] deg", field="lat_lon_h")
    transformer = _topocentric(site.origin_lat_deg, site.origin_lon_deg, site.origin_alt_m)
    x, y, z = transformer.transform(
        geodetic[:, 1], geodetic[:, 0], geodetic[:, 2] + site.origin_alt_m
    )
    return np.column_stack([x, y, z])


def _lonlat_to_xy(
    lon_lat: FloatArray, origin_lat_deg: float, origin_lon_deg: float, origin_alt_m: float
) -> FloatArray:
    """(N, 2) lon, lat [deg] on the origin's height -> (N, 2) ENU x, y [m]."""
    transformer = _topocentric(origin_lat_deg, origin_lon_deg, origin_alt_m)
    x, y, _ = transformer.transform(
        lon_lat[:, 0], lon_lat[:, 1], np.full(lon_lat.shape[0], origin_alt_m)
    )
    return np.column_stack([x, y])


# -- errors -----------------------------------------------------------------------------------


def _feature_error(index: int, feature_id: str | None, field: str, message: str) -> InputError:
    """One-line error naming the feature by index and id, and the field."""
    label = f"features[{index}]" + (f" (id {feature_id!r})" if feature_id else "")
    error = InputError(f"{label}: {field}: {message}")
    error.field = f"features[{index}].{field}"
    return error


@dataclass(frozen=True)
class _Ctx:
    """Which feature is being read, for error messages."""

    index: int
    feature_id: str | None

    def error(self, field: str, message: str) -> InputError:
        return _feature_error(self.index, self.feature_id, field, message)


def _number(ctx: _Ctx, props: dict[str, Any], key: str, unit: str) -> float:
    value = props[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ctx.error(f"properties.{key}", f"must be a number [{unit}], got {value!r}")
    if not math.isfinite(value):
        raise ctx.error(f"properties.{key}", f"must be finite [{unit}], got {value!r}")
    return float(value)


def _positive(ctx: _Ctx, props: dict[str, Any], key: str, required: bool = True) -> float | None:
    """``props[key]`` as a finite number > 0 [m]; ``None`` when absent and not required."""
    if props.get(key) is None:
        if required:
            raise ctx.error(f"properties.{key}", "is required (a number > 0, in metres)")
        return None
    value = _number(ctx, props, key, "m")
    if value <= 0.0:
        raise ctx.error(f"properties.{key}", f"must be > 0 m, got {props[key]!r}")
    return value


def _optional_float(ctx: _Ctx, props: dict[str, Any], key: str, default: float, unit: str) -> float:
    if props.get(key) is None:
        return default
    return _number(ctx, props, key, unit)


def _choice(ctx: _Ctx, props: dict[str, Any], key: str, valid: Sequence[str]) -> str:
    value = props.get(key)
    if value not in valid:
        allowed = ", ".join(valid)
        if value is None:
            raise ctx.error(f"properties.{key}", f"is required; one of: {allowed}")
        raise ctx.error(f"properties.{key}", f"unknown {key} {value!r}; valid: {allowed}")
    return cast(str, value)


# -- GeoJSON geometry -> shapely (lon, lat) ---------------------------------------------------


def _position(ctx: _Ctx, value: object, where: str) -> tuple[float, float]:
    """A GeoJSON position ``[lon, lat(, h)]`` checked for type, finiteness and range."""
    field = f"geometry.coordinates{where}"
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise ctx.error(field, f"must be a position [lon, lat] in degrees, got {value!r}")
    lon, lat = value[0], value[1]
    for number in (lon, lat):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ctx.error(field, f"must be numbers [lon, lat] in degrees, got {value!r}")
        if not math.isfinite(number):
            raise ctx.error(field, f"must be finite [lon, lat] in degrees, got {value!r}")
    if not -90.0 <= lat <= 90.0:
        raise ctx.error(
            field,
            f"latitude {lat!r} outside [-90, 90] deg (GeoJSON positions are [lon, lat]; "
            "coordinates must be WGS84 degrees)",
        )
    if not -180.0 <= lon <= 180.0:
        raise ctx.error(field, f"longitude {lon!r} outside [-180, 180] deg")
    return float(lon), float(lat)


def _positions(ctx: _Ctx, value: object, where: str, minimum: int) -> list[tuple[float, float]]:
    if not isinstance(value, list) or len(value) < minimum:
        raise ctx.error(
            f"geometry.coordinates{where}",
            f"must be a list of at least {minimum} positions [lon, lat], got {value!r:.80}",
        )
    return [_position(ctx, item, f"{where}[{k}]") for k, item in enumerate(value)]


def _parse_geometry(ctx: _Ctx, geometry: object, allowed: Sequence[str]) -> BaseGeometry:
    """GeoJSON geometry -> shapely geometry in (lon, lat) degrees, validated."""
    if not isinstance(geometry, dict):
        raise ctx.error("geometry", f"must be a GeoJSON geometry object, got {geometry!r:.60}")
    geometry_type = geometry.get("type")
    if geometry_type not in allowed:
        raise ctx.error(
            "geometry.type", f"must be one of {', '.join(allowed)} here, got {geometry_type!r}"
        )
    coordinates = geometry.get("coordinates")
    if geometry_type == "Point":
        return Point(_position(ctx, coordinates, ""))
    if geometry_type == "LineString":
        line = _positions(ctx, coordinates, "", 2)
        if len(set(line)) < 2:
            raise ctx.error("geometry.coordinates", "a LineString needs two distinct positions")
        return LineString(line)
    # Polygon: one exterior ring, no holes.
    if not isinstance(coordinates, list) or not coordinates:
        raise ctx.error("geometry.coordinates", "a Polygon needs a list of linear rings")
    if len(coordinates) > 1:
        raise ctx.error(
            "geometry.coordinates",
            f"polygons with holes are not supported ({len(coordinates) - 1} interior rings); "
            "split the area into polygons without holes",
        )
    ring = _positions(ctx, coordinates[0], "[0]", 3)
    if ring[0] != ring[-1]:
        ring.append(ring[0])  # RFC 7946 requires closed rings; close a forgotten one
    if len(set(ring)) < 3:
        raise ctx.error("geometry.coordinates[0]", "a Polygon needs 3 distinct positions")
    polygon = Polygon(ring)
    if not polygon.is_valid:
        raise ctx.error(
            "geometry.coordinates",
            f"invalid polygon ({explain_validity(polygon)} in lon, lat); "
            "fix the ring so it does not cross itself",
        )
    return polygon


def _to_enu(geometry: BaseGeometry, origin: tuple[float, float, float]) -> BaseGeometry:
    lat0, lon0, h0 = origin
    return shapely.transform(geometry, lambda lon_lat: _lonlat_to_xy(lon_lat, lat0, lon0, h0))


# -- shapes -----------------------------------------------------------------------------------


def _circle(
    center_xy: tuple[float, float], radius_m: float, segments: int = _CIRCLE_SEGMENTS
) -> Polygon:
    """Regular polygon *circumscribing* the circle, so it contains the whole disc [m]."""
    vertex_radius = radius_m / math.cos(math.pi / segments)
    angles = np.linspace(0.0, 2.0 * math.pi, segments, endpoint=False)
    x = center_xy[0] + vertex_radius * np.cos(angles)
    y = center_xy[1] + vertex_radius * np.sin(angles)
    return Polygon(np.column_stack([x, y]))


def _rectangle(
    center_xy: tuple[float, float], length_m: float, width_m: float, yaw_deg: float
) -> Polygon:
    """Rectangle with its length along heading ``yaw_deg`` (clockwise from north) [m]."""
    yaw = math.radians(yaw_deg)
    along = np.array([math.sin(yaw), math.cos(yaw)]) * length_m / 2.0
    across = np.array([math.cos(yaw), -math.sin(yaw)]) * width_m / 2.0
    center = np.asarray(center_xy)
    corners = [center + along + across, center - along + across]
    corners += [center - along - across, center + along - across]
    return Polygon(corners)


def _polygon_vertices(polygon: Polygon) -> tuple[tuple[float, float], ...]:
    """Exterior vertices without the closing repeat, counter-clockwise [m]."""
    ring = shapely.geometry.polygon.orient(polygon, sign=1.0).exterior.coords
    return tuple((float(x), float(y)) for x, y, *_ in list(ring)[:-1])


def _diameter_m(facility: Facility) -> float:
    if facility.diameter_m is None or not facility.diameter_m > 0.0:
        raise InputError(
            f"facility {facility.id!r} ({facility.type}) needs diameter_m > 0, "
            f"got {facility.diameter_m!r}",
            field="diameter_m",
        )
    return facility.diameter_m


def _length_width_m(facility: Facility) -> tuple[float, float]:
    if not (facility.length_m and facility.width_m and facility.length_m > 0 < facility.width_m):
        raise InputError(
            f"facility {facility.id!r} ({facility.type}) needs length_m and width_m > 0, "
            f"got {facility.length_m!r} and {facility.width_m!r}",
            field="length_m",
        )
    return facility.length_m, facility.width_m


def facility_footprint(facility: Facility) -> Polygon:
    """Ground footprint of a facility in ENU (x, y) [m].

    Circles (tanks, columns, stacks, spheres) are regular 64-gons circumscribing the true
    circle; pipe racks and buildings are their ``length_m`` x ``width_m`` rectangle.
    """
    center = (facility.center_m[0], facility.center_m[1])
    if facility.type in RECTANGULAR_TYPES:
        return _rectangle(center, *_length_width_m(facility), facility.yaw_deg)
    return _circle(center, _diameter_m(facility) / 2.0)


def zone_polygon(zone: Zone) -> Polygon:
    """The zone's footprint as a shapely Polygon in ENU (x, y) [m]."""
    return Polygon(zone.polygon_m)


def zone_contains(zone: Zone, points_m: ArrayLike) -> NDArray[np.bool_]:
    """Whether each ENU point lies in the zone's prism (boundary included).

    Parameters
    ----------
    zone
        The zone: footprint ``polygon_m`` between ``floor_m`` and ``ceiling_m`` [m].
    points_m
        Points (x, y, z) [m], shape (N, 3) or (3,).

    Returns
    -------
    inside
        Shape (N,).
    """
    points = _as_n3(points_m, "points_m")
    polygon = zone_polygon(zone)
    in_plan = shapely.intersects_xy(polygon, points[:, 0], points[:, 1])
    return np.asarray(in_plan & (points[:, 2] >= zone.floor_m) & (points[:, 2] <= zone.ceiling_m))


def site_footprint_union(site: Site) -> BaseGeometry:
    """Union of all facility footprints in ENU (x, y) [m] (empty for a site without any)."""
    return shapely.union_all([facility_footprint(f) for f in site.facilities])


# -- primitives and meshes --------------------------------------------------------------------


def facility_primitives(facility: Facility) -> list[Primitive]:
    """Solid primitives of a facility for ray casting (``plantwatch.geometry``).

    Tanks, columns and stacks are capped vertical :class:`~plantwatch.geometry.Cylinder`\\ s
    from the base to ``height_m``; a sphere is a :class:`~plantwatch.geometry.Sphere` whose top
    is at ``height_m`` (supporting legs are not modelled); pipe racks and buildings are a
    :class:`~plantwatch.geometry.Box` envelope (``width_m`` x ``length_m`` x ``height_m``,
    length along ``yaw_deg``).
    """
    x, y, base = facility.center_m
    top = base + facility.height_m
    if facility.type in RECTANGULAR_TYPES:
        length, width = _length_width_m(facility)
        center = (x, y, base + facility.height_m / 2.0)
        return [Box(center, (width, length, facility.height_m), facility.yaw_deg)]
    radius = _diameter_m(facility) / 2.0
    if facility.type == "sphere":
        return [Sphere((x, y, top - radius), radius)]
    return [Cylinder((x, y, base), (x, y, top), radius)]


def site_primitives(site: Site) -> tuple[list[Primitive], list[str]]:
    """All facilities' primitives, and the facility id that owns each (same order)."""
    primitives: list[Primitive] = []
    owners: list[str] = []
    for facility in site.facilities:
        parts = facility_primitives(facility)
        primitives.extend(parts)
        owners.extend([facility.id] * len(parts))
    return primitives, owners


def _cylinder_sections(radius_m: float, tolerance_m: float) -> int:
    r"""Sides of an inscribed polygon within ``tolerance_m`` of a circle: the sagitta
    :math:`r (1 - \cos(\pi / n)) \le \epsilon`; at least 32, at most 1024."""
    if tolerance_m >= radius_m:
        return 32
    sections = math.ceil(math.pi / math.acos(1.0 - tolerance_m / radius_m))
    return min(max(sections, 32), 1024)


@functools.lru_cache(maxsize=8)
def _unit_icosphere_depth(subdivisions: int) -> float:
    """Largest distance from the unit sphere to a face plane of the unit icosphere [-]."""
    import trimesh

    mesh = trimesh.creation.icosphere(subdivisions=subdivisions, radius=1.0)
    plane_distance = np.abs(np.einsum("ij,ij->i", mesh.face_normals, mesh.triangles[:, 0]))
    return float(1.0 - plane_distance.min())


def _icosphere_subdivisions(radius_m: float, tolerance_m: float) -> int:
    """Fewest subdivisions (2..5) whose faces lie within ``tolerance_m`` of the sphere."""
    for subdivisions in range(2, 6):
        if radius_m * _unit_icosphere_depth(subdivisions) <= tolerance_m:
            return subdivisions
    return 5


def facility_mesh(facility: Facility, tolerance_m: float = _MESH_TOLERANCE_M) -> trimesh.Trimesh:
    """Watertight triangle surface mesh of a facility in ENU [m].

    Parameters
    ----------
    facility
        The facility; same shapes as :func:`facility_primitives`.
    tolerance_m
        Largest distance between the mesh and the true curved surface [m]. Cylinders are
        inscribed polygonal prisms (32..1024 sides), spheres inscribed icospheres
        (2..5 subdivisions); boxes are exact.

    Returns
    -------
    mesh
        A closed, consistently oriented (outward normals) mesh.
    """
    import trimesh

    if not tolerance_m > 0.0:
        raise InputError(f"must be > 0 m, got {tolerance_m!r}", field="tolerance_m")
    x, y, base = facility.center_m
    if facility.type in RECTANGULAR_TYPES:
        length, width = _length_width_m(facility)
        mesh = trimesh.creation.box(extents=(width, length, facility.height_m))
        box = facility_primitives(facility)[0]
        assert isinstance(box, Box)
        transform = np.eye(4)
        transform[:3, :3] = box.rotation_world_to_box.T  # box axes -> world
        transform[:3, 3] = (x, y, base + facility.height_m / 2.0)
        mesh.apply_transform(transform)
        return mesh
    radius = _diameter_m(facility) / 2.0
    if facility.type == "sphere":
        mesh = trimesh.creation.icosphere(
            subdivisions=_icosphere_subdivisions(radius, tolerance_m), radius=radius
        )
        mesh.apply_translation((x, y, base + facility.height_m - radius))
        return mesh
    mesh = trimesh.creation.cylinder(
        radius=radius,
        height=facility.height_m,
        sections=_cylinder_sections(radius, tolerance_m),
    )
    mesh.apply_translation((x, y, base + facility.height_m / 2.0))
    return mesh


def site_meshes(site: Site, tolerance_m: float = _MESH_TOLERANCE_M) -> dict[str, trimesh.Trimesh]:
    """Surface mesh of every facility, keyed by facility id (see :func:`facility_mesh`)."""
    return {f.id: facility_mesh(f, tolerance_m) for f in site.facilities}


# -- reading ----------------------------------------------------------------------------------


def load_site(path: str | Path, name: str | None = None) -> Site:
    """Read and validate a site GeoJSON file.

    Parameters
    ----------
    path
        A GeoJSON FeatureCollection (``docs/site-format.md``).
    name
        Site name; default: the collection's ``properties.name`` or ``name``, else the file
        name without its extension.

    Returns
    -------
    site
        The site in local ENU.

    Raises
    ------
    InputError
        The file is missing, is not JSON, or breaks the schema (one line naming the feature,
        its id and the field).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no such file: {str(file)!r}", field="site") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {str(file)!r}: {exc}", field="site") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{str(file)!r} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            field="site",
        ) from None
    if name is None and isinstance(data, dict):
        props = data.get("properties")
        has_name = (isinstance(props, dict) and props.get("name")) or data.get("name")
        name = None if has_name else file.stem
    return site_from_geojson(data, name=name)


@dataclass(frozen=True)
class _RawFeature:
    ctx: _Ctx
    kind: str
    properties: dict[str, Any]
    geometry_lonlat: BaseGeometry


_GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    "zone0": ("Polygon",),
    "zone1": ("Polygon",),
    "zone2": ("Polygon",),
    "fire_restricted": ("Polygon",),
    "no_fly": ("Polygon",),
    "boundary": ("Polygon",),
    "people": ("Polygon", "Point"),
    "road": ("Polygon", "LineString"),
    "takeoff": ("Point",),
}
_FACILITY_GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    **{t: ("Point", "Polygon") for t in CYLINDRICAL_TYPES},
    "pipe_rack": ("Polygon", "Point", "LineString"),
    "building": ("Polygon", "Point"),
}


def _feature_id(feature: dict[str, Any], props: dict[str, Any]) -> str | None:
    for candidate in (props.get("id"), feature.get("id")):
        if isinstance(candidate, str) and candidate:
            return candidate
        if isinstance(candidate, int) and not isinstance(candidate, bool):
            return str(candidate)
    return None


def _read_feature(index: int, feature: object) -> _RawFeature:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _feature_error(
            index,
            None,
            "type",
            f'must be a GeoJSON Feature ("type": "Feature"), got {feature!r:.60}',
        )
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise _feature_error(
            index, None, "properties", f"must be an object with a 'kind', got {props!r:.60}"
        )
    ctx = _Ctx(index, _feature_id(feature, props))
    kind = _choice(ctx, props, "kind", FEATURE_KINDS)
    if kind == "facility":
        facility_type = _choice(ctx, props, "type", FACILITY_TYPES)
        allowed = _FACILITY_GEOMETRY_TYPES[facility_type]
    else:
        allowed = _GEOMETRY_TYPES[kind]
    if "geometry" not in feature or feature["geometry"] is None:
        raise ctx.error("geometry", f"is missing; must be one of {', '.join(allowed)}")
    return _RawFeature(ctx, kind, props, _parse_geometry(ctx, feature["geometry"], allowed))


def _check_crs(data: dict[str, Any]) -> None:
    """Reject a legacy ``crs`` member that names anything but WGS84 lon/lat (RFC 7946 4)."""
    crs = data.get("crs")
    if crs is None:
        return
    crs_props = crs.get("properties") if isinstance(crs, dict) else None
    name = str(crs_props.get("name", "")) if isinstance(crs_props, dict) else str(crs)
    if not any(token in name.upper() for token in ("CRS84", "EPSG::4326", "EPSG:4326")):
        raise InputError(
            f"unsupported crs {name!r}; site files must be WGS84 lon/lat (RFC 7946)", field="crs"
        )


def _origin(data: dict[str, Any], features: Sequence[_RawFeature]) -> tuple[float, float, float]:
    """(lat, lon, alt) of the ENU origin: from the collection's properties, else the centre
    of the bounding box of all features at height 0."""
    props = data.get("properties") if isinstance(data.get("properties"), dict) else {}
    assert isinstance(props, dict)
    keys = ("origin_lat_deg", "origin_lon_deg")
    if any(props.get(k) is not None for k in keys):
        values = []
        for key, low, high in (("origin_lat_deg", -90, 90), ("origin_lon_deg", -180, 180)):
            value = props.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError(f"must be a number [deg], got {value!r}", f"properties.{key}")
            if not (math.isfinite(value) and low <= value <= high):
                raise InputError(
                    f"must lie in [{low}, {high}] deg, got {value!r}", f"properties.{key}"
                )
            values.append(float(value))
        alt = props.get("origin_alt_m", 0.0)
        if isinstance(alt, bool) or not isinstance(alt, int | float) or not math.isfinite(alt):
            raise InputError(f"must be a finite number [m], got {alt!r}", "properties.origin_alt_m")
        return values[0], values[1], float(alt)
    bounds = np.array([f.geometry_lonlat.bounds for f in features])  # (N, 4) lon/lat
    lon = (bounds[:, 0].min() + bounds[:, 2].max()) / 2.0
    lat = (bounds[:, 1].min() + bounds[:, 3].max()) / 2.0
    return float(lat), float(lon), 0.0


def _cylindrical(raw: _RawFeature, geometry: BaseGeometry) -> tuple[tuple[float, float], float]:
    """Centre (x, y) [m] and diameter [m] of a tank/column/stack/sphere feature."""
    ctx, props = raw.ctx, raw.properties
    if isinstance(geometry, Point):
        diameter = _positive(ctx, props, "diameter_m")
        assert diameter is not None
        return (float(geometry.x), float(geometry.y)), diameter
    assert isinstance(geometry, Polygon)
    vertices = np.asarray(geometry.exterior.coords)[:-1]
    centroid = geometry.centroid
    radii = np.hypot(vertices[:, 0] - centroid.x, vertices[:, 1] - centroid.y)
    spread = (radii.max() - radii.min()) / radii.mean()
    if len(vertices) < 6 or spread > _CIRCULARITY_TOLERANCE:
        raise ctx.error(
            "geometry",
            f"a {props['type']} footprint must be a circle-like polygon (>= 6 vertices, radii "
            f"within {_CIRCULARITY_TOLERANCE:.0%}), got {len(vertices)} vertices with "
            f"{spread:.0%} spread; or give a Point and diameter_m",
        )
    diameter = 2.0 * float(radii.mean())
    given = _positive(ctx, props, "diameter_m", required=False)
    if given is not None:
        if abs(given - diameter) > _CIRCULARITY_TOLERANCE * diameter:
            raise ctx.error(
                "properties.diameter_m",
                f"{given!r} m disagrees with the polygon footprint ({diameter:.1f} m)",
            )
        diameter = given
    return (float(centroid.x), float(centroid.y)), diameter


def _axis_yaw_deg(yaw_deg: float) -> float:
    """Heading of an undirected axis in [0, 180) deg (rounded to 1e-6 deg, so that a
    north-south run is 0, not 179.99999)."""
    return round(float(yaw_deg), 6) % 180.0


def _rectangular(
    raw: _RawFeature, geometry: BaseGeometry
) -> tuple[tuple[float, float], float, float, float]:
    """Centre (x, y) [m], length [m], width [m], yaw [deg] of a pipe rack or building."""
    ctx, props = raw.ctx, raw.properties
    if isinstance(geometry, Point):
        length = _positive(ctx, props, "length_m")
        width = _positive(ctx, props, "width_m")
        yaw = _optional_float(ctx, props, "yaw_deg", 0.0, "deg")
        assert length is not None and width is not None
        return (geometry.x, geometry.y), length, width, _axis_yaw_deg(yaw)
    if isinstance(geometry, LineString):
        coords = np.asarray(geometry.coords)
        if len(coords) != 2:
            raise ctx.error(
                "geometry.coordinates",
                f"a pipe-rack LineString must be one straight run (2 positions), got "
                f"{len(coords)}; split it into straight runs",
            )
        width = _positive(ctx, props, "width_m")
        assert width is not None
        (x0, y0), (x1, y1) = coords[:, :2]
        yaw = _axis_yaw_deg(math.degrees(math.atan2(x1 - x0, y1 - y0)))
        center = (float(x0 + x1) / 2.0, float(y0 + y1) / 2.0)
        return center, float(math.hypot(x1 - x0, y1 - y0)), width, yaw
    assert isinstance(geometry, Polygon)
    rectangle = geometry.minimum_rotated_rectangle
    corners = np.asarray(rectangle.exterior.coords)[:4, :2]
    edge_a, edge_b = corners[1] - corners[0], corners[2] - corners[1]
    along = edge_a if np.hypot(*edge_a) >= np.hypot(*edge_b) else edge_b
    across = edge_b if along is edge_a else edge_a
    yaw = _axis_yaw_deg(math.degrees(math.atan2(along[0], along[1])))
    center = rectangle.centroid
    return (center.x, center.y), float(np.hypot(*along)), float(np.hypot(*across)), yaw


def _facility(raw: _RawFeature, geometry: BaseGeometry) -> Facility:
    ctx, props = raw.ctx, raw.properties
    facility_type = cast(FacilityType, props["type"])
    height = _positive(ctx, props, "height_m")
    assert height is not None
    base = _optional_float(ctx, props, "base_m", 0.0, "m")
    facility_id = ctx.feature_id or f"{facility_type}-{ctx.index}"
    name = props.get("name") or facility_id
    extra = {k: v for k, v in props.items() if k not in ("kind", "type", "id", "name")}
    extra["feature_index"] = ctx.index
    if facility_type in RECTANGULAR_TYPES:
        center, length, width, yaw = _rectangular(raw, geometry)
        return Facility(
            id=facility_id,
            name=str(name),
            type=facility_type,
            center_m=(center[0], center[1], base),
            height_m=height,
            length_m=length,
            width_m=width,
            yaw_deg=yaw,
            properties=extra,
        )
    center, diameter = _cylindrical(raw, geometry)
    if facility_type == "sphere" and diameter > height:
        raise ctx.error(
            "properties.height_m",
            f"a sphere's top ({height!r} m) must be at least its diameter ({diameter!r} m) "
            "above its base",
        )
    return Facility(
        id=facility_id,
        name=str(name),
        type=facility_type,
        center_m=(center[0], center[1], base),
        height_m=height,
        diameter_m=diameter,
        properties=extra,
    )


def _zone(raw: _RawFeature, geometry: BaseGeometry) -> Zone:
    ctx, props, kind = raw.ctx, raw.properties, raw.kind
    if isinstance(geometry, Point):  # people area around a point
        radius = _positive(ctx, props, "radius_m")
        assert radius is not None
        polygon = _circle((geometry.x, geometry.y), radius)
    elif isinstance(geometry, LineString):  # road centre line
        width = _positive(ctx, props, "width_m")
        assert width is not None
        polygon = cast(Polygon, geometry.buffer(width / 2.0, cap_style="flat", join_style="mitre"))
        if not isinstance(polygon, Polygon) or not polygon.is_valid:
            raise ctx.error("geometry", "the road centre line buffered by width_m is not a polygon")
    else:
        assert isinstance(geometry, Polygon)
        polygon = geometry
    floor = _optional_float(ctx, props, "floor_m", 0.0, "m")
    ceiling = _optional_float(ctx, props, "ceiling_m", math.inf, "m")
    if ceiling <= floor:
        raise ctx.error(
            "properties.ceiling_m", f"must be above floor_m ({floor!r} m), got {ceiling!r}"
        )
    extra = {k: v for k, v in props.items() if k not in ("kind", "id")}
    extra["feature_index"] = ctx.index
    return Zone(
        id=ctx.feature_id or f"{kind}-{ctx.index}",
        kind=cast(ZoneKind, kind),
        polygon_m=_polygon_vertices(polygon),
        floor_m=floor,
        ceiling_m=ceiling,
        source=str(props.get("source", "site file")),
        properties=extra,
    )


def _check_unique_ids(features: Sequence[_RawFeature]) -> None:
    seen: dict[str, int] = {}
    for raw in features:
        feature_id = raw.ctx.feature_id
        if feature_id is None:
            continue
        if feature_id in seen:
            raise raw.ctx.error(
                "properties.id", f"duplicate id (also used by features[{seen[feature_id]}])"
            )
        seen[feature_id] = raw.ctx.index


def _check_overlaps(facilities: Sequence[Facility], index_of: dict[str, int]) -> None:
    """No two facility footprints may overlap (touching is fine)."""
    footprints = [facility_footprint(f) for f in facilities]
    if len(footprints) < 2:
        return
    tree = shapely.STRtree(footprints)
    pairs = tree.query(footprints, predicate="intersects")  # (2, M)
    for i, j in zip(*pairs, strict=True):
        if i >= j:
            continue
        area = footprints[i].intersection(footprints[j]).area
        if area > _OVERLAP_AREA_M2:
            first, second = facilities[i], facilities[j]
            raise _feature_error(
                index_of[second.id],
                second.id,
                "geometry",
                f"footprint overlaps facility {first.id!r} (features[{index_of[first.id]}]) by "
                f"{area:.1f} m2; facilities must not overlap",
            )


def _derived_zones(
    facilities: Sequence[Facility], explicit: Sequence[Zone], taken_ids: set[str]
) -> list[Zone]:
    """Zone 2 within :data:`FLOATING_ROOF_ZONE2_MARGIN_M` of every floating-roof tank wall.

    The zone is the smallest prism the model can hold that contains every point within 3 m of
    the tank wall (MHLW-2022 Fig. 6.1): footprint = the tank disc grown by 3 m (the space inside
    the shell above the floating roof is the surface of a flammable liquid in an open-topped
    vessel, itself hazardous per MHLW-2022 section 6.7, so the disc is not hollowed), from the
    tank base up to 3 m above the top of the wall. Skipped when the explicit Zone 0/1/2 prisms
    already contain it.
    """
    hazardous = [z for z in explicit if z.kind in HAZARDOUS_ZONE_KINDS]
    derived: list[Zone] = []
    for tank in facilities:
        if tank.type != "floating_roof_tank":
            continue
        assert tank.diameter_m is not None
        x, y, base = tank.center_m
        radius = tank.diameter_m / 2.0 + FLOATING_ROOF_ZONE2_MARGIN_M
        ceiling = base + tank.height_m + FLOATING_ROOF_ZONE2_MARGIN_M
        disc = _circle((x, y), radius)
        covering = [
            zone_polygon(z) for z in hazardous if z.floor_m <= base and z.ceiling_m >= ceiling
        ]
        if covering and disc.difference(shapely.union_all(covering)).area <= 1e-6 * disc.area:
            continue
        zone_id = f"{tank.id}:zone2"
        while zone_id in taken_ids:
            zone_id += "'"
        taken_ids.add(zone_id)
        derived.append(
            Zone(
                id=zone_id,
                kind="zone2",
                polygon_m=_polygon_vertices(disc),
                floor_m=base,
                ceiling_m=ceiling,
                source=(
                    "derived: MHLW-2022 Fig. 6.1 (after JNIOHS-TR-NO.44 (2012)), Zone 2 within "
                    f"{FLOATING_ROOF_ZONE2_MARGIN_M:g} m of the wall of floating-roof tank "
                    f"{tank.id}"
                ),
                properties={"derived": True, "facility_id": tank.id},
            )
        )
    return derived


def _mark_explosion_proof(facilities: Sequence[Facility], zones: Sequence[Zone]) -> list[Facility]:
    """``explosion_proof_required=True`` for facilities whose solid meets a Zone 0/1 prism."""
    ex_zones = [(z, zone_polygon(z)) for z in zones if z.kind in EXPLOSION_PROOF_ZONE_KINDS]
    marked = []
    for facility in facilities:
        base = facility.center_m[2]
        footprint = facility_footprint(facility)
        inside = any(
            zone.floor_m < base + facility.height_m
            and zone.ceiling_m > base
            and footprint.intersection(polygon).area > _OVERLAP_AREA_M2
            for zone, polygon in ex_zones
        )
        marked.append(replace(facility, explosion_proof_required=True) if inside else facility)
    return marked


def _takeoffs(
    takeoffs: Sequence[tuple[_RawFeature, Point]],
    facilities: Sequence[Facility],
    zones: Sequence[Zone],
) -> tuple[list[tuple[float, float]], list[str], list[dict[str, str]]]:
    """Usable take-off points (outside hazardous and no-fly zones), their ids, and the rest."""
    if not takeoffs:
        raise InputError(
            "the site has no take-off point; add a Feature with properties.kind 'takeoff' and a "
            "Point geometry outside zones 0/1/2 and no-fly areas",
            field="features",
        )
    blocking = [(z, zone_polygon(z)) for z in zones if z.kind in TAKEOFF_BLOCKING_ZONE_KINDS]
    footprints = [(f, facility_footprint(f)) for f in facilities]
    usable: list[tuple[float, float]] = []
    ids: list[str] = []
    excluded: list[dict[str, str]] = []
    for raw, point in takeoffs:
        takeoff_id = raw.ctx.feature_id or f"takeoff-{raw.ctx.index}"
        for facility, footprint in footprints:
            if footprint.intersects(point):
                raise raw.ctx.error(
                    "geometry", f"take-off point lies on facility {facility.id!r}; move it clear"
                )
        inside = [z for z, polygon in blocking if polygon.intersects(point)]
        if inside:
            names = ", ".join(f"{z.kind} {z.id!r}" for z in inside)
            excluded.append({"id": takeoff_id, "reason": f"inside {names}"})
            continue
        usable.append((point.x, point.y))
        ids.append(takeoff_id)
    if not usable:
        detail = "; ".join(
            f"features[{raw.ctx.index}] {e['id']!r} {e['reason']}"
            for (raw, _), e in zip(takeoffs, excluded, strict=True)
        )
        raise InputError(
            f"every take-off point lies inside a hazardous (zone0/1/2) or no-fly zone ({detail}); "
            "add a take-off point outside them",
            field="features",
        )
    return usable, ids, excluded


def site_from_geojson(data: dict[str, Any], name: str | None = None) -> Site:
    """Build a :class:`~plantwatch.drone.model.Site` from a GeoJSON FeatureCollection.

    Parameters
    ----------
    data
        Parsed GeoJSON (WGS84, ``[lon, lat]`` positions); schema in ``docs/site-format.md``.
    name
        Site name; default: the collection's ``properties.name``, else its ``name``, else
        ``"site"``.

    Returns
    -------
    site
        Facilities (footprints converted to ENU), explicit zones followed by derived ones,
        usable take-off points. ``site.properties`` holds the collection's properties plus
        ``takeoff_ids`` (parallel to ``takeoff_points_m``), ``excluded_takeoffs`` (id and
        reason of take-off points inside zones 0/1/2 or no-fly areas) and ``derived_zone_rule``.

    Raises
    ------
    InputError
        One line naming the feature (``features[i] (id '…')``) and field: not a
        FeatureCollection, unknown kind or type (the valid ones listed), missing or bad
        coordinates, self-intersecting polygons, missing, non-positive or non-finite
        dimensions, duplicate ids, overlapping facility footprints, no take-off point, or no
        take-off point outside zones 0/1/2 and no-fly areas.

    Notes
    -----
    The ENU origin is the collection's ``properties.origin_lat_deg``/``origin_lon_deg``
    (``origin_alt_m``, default 0), else the centre of the bounding box of all features at
    height 0. Positions' third coordinates (altitudes) are ignored; heights come from the
    properties.
    """
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        got = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise InputError(
            f'must be a GeoJSON FeatureCollection ("type": "FeatureCollection"), got {got!r}',
            field="type",
        )
    _check_crs(data)
    raw_features = data.get("features")
    if not isinstance(raw_features, list) or not raw_features:
        raise InputError("must be a non-empty list of GeoJSON Features", field="features")
    features = [_read_feature(index, feature) for index, feature in enumerate(raw_features)]
    _check_unique_ids(features)
    origin = _origin(data, features)

    facilities: list[Facility] = []
    zones: list[Zone] = []
    takeoffs: list[tuple[_RawFeature, Point]] = []
    for raw in features:
        geometry = _to_enu(raw.geometry_lonlat, origin)
        if raw.kind == "facility":
            facilities.append(_facility(raw, geometry))
        elif raw.kind == "takeoff":
            assert isinstance(geometry, Point)
            takeoffs.append((raw, geometry))
        else:
            zones.append(_zone(raw, geometry))

    index_of = {f.id: int(f.properties["feature_index"]) for f in facilities}
    _check_overlaps(facilities, index_of)
    taken = {raw.ctx.feature_id for raw in features if raw.ctx.feature_id}
    taken |= {f.id for f in facilities} | {z.id for z in zones}
    zones += _derived_zones(facilities, zones, taken)
    facilities = _mark_explosion_proof(facilities, zones)
    usable, takeoff_ids, excluded = _takeoffs(takeoffs, facilities, zones)

    collection_props = data.get("properties")
    props: dict[str, Any] = dict(collection_props) if isinstance(collection_props, dict) else {}
    site_name = name or props.get("name") or data.get("name") or "site"
    props.update(
        takeoff_ids=takeoff_ids,
        excluded_takeoffs=excluded,
        derived_zone_rule=(
            f"MHLW-2022 Fig. 6.1: Zone 2 within {FLOATING_ROOF_ZONE2_MARGIN_M:g} m of the wall of "
            "a floating-roof tank (JNIOHS-TR-NO.44 (2012))"
        ),
    )
    return Site(
        name=str(site_name),
        origin_lat_deg=origin[0],
        origin_lon_deg=origin[1],
        origin_alt_m=origin[2],
        facilities=tuple(facilities),
        zones=tuple(zones),
        takeoff_points_m=tuple(usable),
        properties=props,
    )
