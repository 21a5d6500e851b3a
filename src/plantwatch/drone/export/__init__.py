"""Mission exports: QGroundControl .plan, MAVLink WPL, KML, DJI WPML (.kmz), route GeoJSON.

Every exporter writes the same flight, built once per sortie by :func:`sortie_routes`:

1. **departure**: straight up from the take-off point to the first waypoint's height (the
   MAVLink ``NAV_TAKEOFF``; a DJI waypoint above the take-off point);
2. the planner's waypoints, in order, joined by straight legs;
3. **return**: level flight at the last waypoint's height to above the take-off point, then a
   vertical landing there.

The departure and return points are left out when the planner's first / last waypoint already
lies within :data:`OVER_TAKEOFF_TOLERANCE_M` of the vertical through the take-off point, and a
first / last waypoint *on the ground* there (the planner's ``takeoff`` / ``landing`` points,
z <= 0) is flown by the take-off / landing command itself rather than as a waypoint. The export
adds no other leg, so the planner alone decides (and must check against zones and structures)
every path the aircraft flies, including the climb-out and the way home.

A waypoint speed of 0 means "no horizontal speed on this leg" (a vertical move between orbit
layers): the route keeps the speed in force, since flight software needs a positive speed and
limits vertical speed on its own.

One sortie (one battery) is one mission file: flight software cannot change a battery inside a
mission (PX4 disarms after ``NAV_LAND``; a DJI wayline ends with its finish action), so the
writers produce ``mission.plan``, ``mission-2.plan``, ... (:func:`sortie_paths`); the first file
always holds the whole first sortie. Files are written atomically, all or none
(:func:`write_files_atomic`).

Heights are above the take-off point (= site ground level, z = 0 of the ENU frame), which is
how QGroundControl relative altitude (``MAV_FRAME_GLOBAL_RELATIVE_ALT``), DJI
``relativeToStartPoint`` and the 150 m rule count them.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plantwatch.drone.model import Plan, Site, Sortie, Waypoint, Zone
from plantwatch.errors import InputError

__all__ = [
    "OVER_TAKEOFF_TOLERANCE_M",
    "MissionPoint",
    "SortieRoute",
    "check_output_path",
    "normalise_heading_deg",
    "sortie_paths",
    "sortie_routes",
    "write_files_atomic",
    "write_sortie_files",
    "zone_polygons_wgs84",
]

# A waypoint closer than this to the vertical through the take-off point counts as "above the
# take-off point" [m]: below the ~1.5 m horizontal hover accuracy of GNSS-only multicopters
# (DJI Phantom 4 RTK spec, RTK off), so a separate departure/return point would add nothing.
OVER_TAKEOFF_TOLERANCE_M = 1.0


@dataclass(frozen=True)
class MissionPoint:
    """One point of the flown route, in WGS84 with the height above the take-off point."""

    lat_deg: float
    lon_deg: float
    height_m: float  # above the take-off point [m]
    heading_deg: float  # aircraft yaw, clockwise from north, in [0, 360) [deg]
    gimbal_pitch_deg: float  # 0 level, -90 straight down [deg]
    speed_m_s: float  # ground speed on the leg from this point to the next (> 0) [m/s]
    photo: bool  # take one photo here
    kind: str  # the waypoint's kind, or "departure" / "return" for points the export adds
    facility_id: str | None
    waypoint_index: int | None  # index into Sortie.waypoints; None for departure / return
    photo_number: int | None  # 1, 2, ... for photo points within the sortie; None otherwise
    over_takeoff: bool = False  # on the vertical through the take-off point (within tolerance)


@dataclass(frozen=True)
class SortieRoute:
    """The flown route of one sortie (one battery, one mission file)."""

    sortie: Sortie
    number: int  # 1-based position of the sortie in the plan (file mission-<number>)
    home_lat_deg: float  # take-off / landing point
    home_lon_deg: float
    home_amsl_m: float  # Site.origin_alt_m + height of the take-off point [m]
    points: tuple[MissionPoint, ...]

    @property
    def photo_points(self) -> tuple[MissionPoint, ...]:
        return tuple(p for p in self.points if p.photo)

    @property
    def max_height_m(self) -> float:
        return max(p.height_m for p in self.points)


def normalise_heading_deg(heading_deg: float) -> float:
    """Heading folded into [0, 360) [deg] (-90 -> 270, 360 -> 0)."""
    folded = math.fmod(float(heading_deg), 360.0)
    folded = folded + 360.0 if folded < 0.0 else folded
    return 0.0 if folded >= 360.0 else folded


def _finite(value: float, field: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise InputError(f"must be a finite number, got {value!r}", field=field)
    return number


def _on_ground_over_takeoff(w: Waypoint, home_x: float, home_y: float) -> bool:
    near = math.hypot(w.x_m - home_x, w.y_m - home_y) <= OVER_TAKEOFF_TOLERANCE_M
    return near and w.z_m <= 0.0 and w.action != "photo"


def _flown_waypoints(plan: Plan, number: int, sortie: Sortie) -> list[tuple[int, Waypoint]]:
    """The sortie's waypoints to fly, with their indices, after checking every value.

    A first / last waypoint on the ground at the take-off point (the planner's own take-off and
    landing points) is left out: the take-off and landing commands fly it.
    """
    where = f"plan.sorties[{number - 1}]"
    if not sortie.waypoints:
        raise InputError("has no waypoints; a mission needs at least one", field=where)
    home_x = _finite(sortie.takeoff_m[0], f"{where}.takeoff_m")
    home_y = _finite(sortie.takeoff_m[1], f"{where}.takeoff_m")
    indexed = list(enumerate(sortie.waypoints))
    if _on_ground_over_takeoff(indexed[-1][1], home_x, home_y):
        indexed.pop()
    if indexed and _on_ground_over_takeoff(indexed[0][1], home_x, home_y):
        indexed.pop(0)
    if not indexed:
        raise InputError("has no waypoint above the ground; nothing to fly", field=where)
    max_height_m = float(plan.options.max_height_m)
    for i, w in indexed:
        field = f"{where}.waypoints[{i}]"
        for name in ("x_m", "y_m", "heading_deg", "gimbal_pitch_deg"):
            _finite(getattr(w, name), f"{field}.{name}")
        height = _finite(w.z_m, f"{field}.z_m")
        if not 0.0 < height <= max_height_m + 1e-9:
            raise InputError(
                f"height {height:g} m above take-off is outside (0, {max_height_m:g}] m "
                "(PlanOptions.max_height_m, Aviation Act Art. 132 150 m limit); not exported",
                field=f"{field}.z_m",
            )
        if not -90.0 <= w.gimbal_pitch_deg <= 90.0:
            raise InputError(
                f"gimbal pitch {w.gimbal_pitch_deg:g} deg is outside [-90, 90] deg",
                field=f"{field}.gimbal_pitch_deg",
            )
        speed = _finite(w.speed_m_s, f"{field}.speed_m_s")
        if speed < 0.0:
            raise InputError(f"must be >= 0 m/s, got {speed!r}", field=f"{field}.speed_m_s")
        if (w.lat_deg is None) != (w.lon_deg is None):
            raise InputError("has only one of lat_deg / lon_deg; give both or neither", field)
    return indexed


def _route(plan: Plan, site: Site, number: int, sortie: Sortie) -> SortieRoute:
    indexed = _flown_waypoints(plan, number, sortie)
    home_x, home_y = (float(v) for v in sortie.takeoff_m)
    enu = np.array(
        [(home_x, home_y, 0.0)] + [(w.x_m, w.y_m, w.z_m) for _, w in indexed], dtype=np.float64
    )
    geodetic = np.asarray(site.to_wgs84(enu), dtype=np.float64)
    if geodetic.shape != enu.shape or not np.all(np.isfinite(geodetic)):
        raise InputError(
            "site ENU -> WGS84 conversion gave no finite coordinates; check the site's origin",
            field="site",
        )
    home_lat, home_lon, home_h = (float(v) for v in geodetic[0])

    points: list[MissionPoint] = []
    photo_number = 0
    speed_m_s = float(plan.options.speed_m_s)  # until the first waypoint sets one
    for row, (i, w) in enumerate(indexed, start=1):
        if w.lat_deg is not None and w.lon_deg is not None:
            lat, lon = float(w.lat_deg), float(w.lon_deg)
        else:
            lat, lon = float(geodetic[row, 0]), float(geodetic[row, 1])
        photo = w.action == "photo"
        photo_number += photo
        if w.speed_m_s > 0.0:  # 0 = no horizontal speed (a vertical leg): keep the last one
            speed_m_s = float(w.speed_m_s)
        near = math.hypot(w.x_m - home_x, w.y_m - home_y) <= OVER_TAKEOFF_TOLERANCE_M
        points.append(
            MissionPoint(
                lat_deg=lat,
                lon_deg=lon,
                height_m=float(w.z_m),
                heading_deg=normalise_heading_deg(w.heading_deg),
                gimbal_pitch_deg=float(w.gimbal_pitch_deg) + 0.0,  # no "-0"
                speed_m_s=speed_m_s,
                photo=photo,
                kind=w.kind,
                facility_id=w.facility_id,
                waypoint_index=i,
                photo_number=photo_number if photo else None,
                over_takeoff=near,
            )
        )

    transit_m_s = float(plan.options.transit_speed_m_s)
    if not points[0].over_takeoff:
        points.insert(
            0,
            MissionPoint(
                lat_deg=home_lat,
                lon_deg=home_lon,
                height_m=points[0].height_m,
                heading_deg=points[0].heading_deg,
                gimbal_pitch_deg=points[0].gimbal_pitch_deg,
                speed_m_s=transit_m_s,
                photo=False,
                kind="departure",
                facility_id=None,
                waypoint_index=None,
                photo_number=None,
                over_takeoff=True,
            ),
        )
    if not points[-1].over_takeoff:
        points.append(
            MissionPoint(
                lat_deg=home_lat,
                lon_deg=home_lon,
                height_m=points[-1].height_m,
                heading_deg=points[-1].heading_deg,
                gimbal_pitch_deg=points[-1].gimbal_pitch_deg,
                speed_m_s=transit_m_s,
                photo=False,
                kind="return",
                facility_id=None,
                waypoint_index=None,
                photo_number=None,
                over_takeoff=True,
            )
        )
    return SortieRoute(
        sortie=sortie,
        number=number,
        home_lat_deg=home_lat,
        home_lon_deg=home_lon,
        home_amsl_m=float(site.origin_alt_m) + home_h,
        points=tuple(points),
    )


def sortie_routes(plan: Plan, site: Site) -> tuple[SortieRoute, ...]:
    """The flown route of every sortie of ``plan``, in WGS84 (see the module notes).

    Waypoints that carry ``lat_deg``/``lon_deg`` keep them; the others, and the take-off
    point, are converted with ``site.to_wgs84`` (one call per sortie).

    Raises
    ------
    InputError
        The plan has no sorties, a sortie has no waypoint above the ground, or a waypoint has a
        non-finite value, a height outside (0, ``plan.options.max_height_m``] (other than the
        ground take-off / landing points), a gimbal pitch outside [-90, 90] deg or a negative
        speed; or the plan's speeds are not positive.
    """
    cached = _LAST_ROUTES[0] if _LAST_ROUTES else None
    if cached is not None and cached[0] is plan and cached[1] is site:
        return cached[2]
    if not plan.sorties:
        raise InputError("the plan has no sorties; nothing to export", field="plan.sorties")
    for name in ("speed_m_s", "transit_speed_m_s", "max_height_m"):
        value = _finite(getattr(plan.options, name), f"plan.options.{name}")
        if value <= 0.0:
            raise InputError(f"must be positive, got {value!r}", field=f"plan.options.{name}")
    routes = tuple(_route(plan, site, n, s) for n, s in enumerate(plan.sorties, start=1))
    _LAST_ROUTES[:] = [(plan, site, routes)]
    return routes


# The five exporters of one plan each ask for its routes (a WGS84 conversion of every waypoint,
# ~1 s for a 50-tank plan). Plan, Site and the routes are frozen dataclasses of tuples, and the
# entry holds references to them, so an identity match cannot be a stale or recycled object.
_LAST_ROUTES: list[tuple[Plan, Site, tuple[SortieRoute, ...]]] = []


def zone_polygons_wgs84(
    site: Site, kinds: Iterable[str] | None = None
) -> list[tuple[Zone, list[tuple[float, float]]]]:
    """Zones of ``site`` (those of ``kinds``, or all) with their outline as (lat, lon) [deg].

    Outlines are open rings (first vertex not repeated), in the order the site gives them.
    """
    wanted = None if kinds is None else set(kinds)
    zones = [
        z for z in site.zones if (wanted is None or z.kind in wanted) and len(z.polygon_m) >= 3
    ]
    if not zones:
        return []
    sizes = [len(z.polygon_m) for z in zones]
    enu = np.array(
        [(float(x), float(y), 0.0) for z in zones for (x, y) in z.polygon_m], dtype=np.float64
    )
    geodetic = np.asarray(site.to_wgs84(enu), dtype=np.float64)
    out: list[tuple[Zone, list[tuple[float, float]]]] = []
    start = 0
    for zone, size in zip(zones, sizes, strict=True):
        ring = [(float(lat), float(lon)) for lat, lon, _ in geodetic[start : start + size]]
        out.append((zone, ring))
        start += size
    return out


def sortie_paths(path: str | os.PathLike[str], count: int) -> tuple[Path, ...]:
    """File names for ``count`` sorties: ``mission.plan``, ``mission-2.plan``, ...

    >>> [p.name for p in sortie_paths("out/mission.plan", 3)]
    ['mission.plan', 'mission-2.plan', 'mission-3.plan']
    """
    base = Path(path)
    return tuple(
        base if n == 1 else base.with_name(f"{base.stem}-{n}{base.suffix}")
        for n in range(1, count + 1)
    )


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`Path` whose folder exists, else :class:`InputError`.

    The exporters do not create folders: a mistyped ``--out`` should fail, not scatter files.
    """
    target = Path(path)
    if target.name in ("", ".", ".."):
        raise InputError(f"{str(path)!r} is not a file name", field="path")
    if not target.parent.is_dir():
        raise InputError(
            f"folder {str(target.parent)!r} does not exist; create it first", field="path"
        )
    if target.is_dir():
        raise InputError(f"{str(target)!r} is a folder; give a file name", field="path")
    return target


def _write_temporary(target: Path, content: bytes) -> Path:
    """``content`` in a new temporary sibling of ``target``, flushed to disk; its path."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(name, 0o644)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


# fsync waits on the disk, not the CPU, and releases the GIL: the ~160 files of a 50-tank plan
# took ~0.5 s to sync one after another, less than half that a few at a time.
_SYNC_THREADS = 8


def write_files_atomic(files: Sequence[tuple[Path, bytes]]) -> list[Path]:
    """Write several files all-or-nothing: each to a temporary sibling, then ``os.replace``.

    Every folder is checked first and every temporary file written and fsynced (several at a
    time, in threads) before any target is replaced, so a failure (missing folder, full disk)
    leaves the targets as they were and no temporary file behind.
    """
    targets = [check_output_path(p) for p, _ in files]
    written: list[Future[Path]] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(_SYNC_THREADS, len(files)))) as pool:
            for target, (_, content) in zip(targets, files, strict=True):
                written.append(pool.submit(_write_temporary, target, content))
        temporaries = [future.result() for future in written]  # raises the first failure
        for temporary, target in zip(temporaries, targets, strict=True):
            os.replace(temporary, target)
    finally:  # the pool has waited for every write
        for future in written:
            if not future.cancelled() and future.exception() is None:
                future.result().unlink(missing_ok=True)
    return targets


def write_sortie_files(path: str | os.PathLike[str], contents: Sequence[bytes]) -> list[Path]:
    """Write one file per sortie (:func:`sortie_paths`) atomically; remove stale ones.

    A ``mission-N`` file left from an earlier plan with more sorties is deleted after the new
    files are in place, so the folder never offers a sortie that is not part of this plan.
    """
    paths = sortie_paths(check_output_path(path), len(contents))
    written = write_files_atomic(list(zip(paths, contents, strict=True)))
    base = paths[0]
    stale = re.compile(rf"^{re.escape(base.stem)}-(\d+){re.escape(base.suffix)}$")
    for sibling in base.parent.iterdir():
        match = stale.match(sibling.name)
        if match and int(match.group(1)) > len(contents) and sibling.is_file():
            sibling.unlink()
    return written
