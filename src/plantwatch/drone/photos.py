r"""Drone photos on the site: pose, GSD, footprint, facility, planned shot, remaining blind spots.

MHLW-2022 §5.4 asks for photos that cover every target without blind spots, recorded with
where and when they were taken; §5.5 sends blind spots and high-risk spots to conventional
visual inspection. After a flight this module checks what the photos actually give:

1. **Metadata** (:mod:`plantwatch.drone.photo_exif`): GPS, heights, time, gimbal attitude and
   the camera's sensor, from EXIF and DJI XMP.
2. **Pose.** The camera sits at the photo's latitude/longitude (converted to the site's ENU
   frame with pyproj, :func:`~plantwatch.drone.site.wgs84_to_enu`) at ``z`` = the XMP
   RelativeAltitude (height above the take-off point, which is the site's ground level, as
   for plan waypoints); without it, EXIF GPSAltitude minus the site origin's height (only with
   a site; GPS heights are typically good to several metres). It looks along the gimbal yaw
   (the aircraft yaw when the gimbal's is missing) and gimbal pitch, rolled by the gimbal roll
   (:class:`~plantwatch.geometry.PinholeCamera` conventions; DJI's GimbalRollDegree is taken
   as + clockwise seen from behind). A gimbal pitch beyond -90 deg (gimbals that tilt past
   straight down, such as the H20's -120 deg) is folded back: pitch -180 - p, yaw + 180,
   roll + 180 describe the same camera.
3. **What it sees.** The optical axis and the four image-corner rays are cast against the
   site's facilities (the same primitives coverage uses, :func:`~plantwatch.drone.site.
   site_primitives`) and the ground plane z = 0 (:func:`~plantwatch.geometry.cast_rays`).
   The GSD is taken where the axis lands, with the distance along the axis, exactly as the
   planner and :mod:`~plantwatch.drone.coverage` measure it:

   .. math:: \mathrm{GSD} = \max(p_x, p_y)\, \frac{D}{f}

   (:func:`~plantwatch.drone.camera.gsd_mm`, here in [cm px-1]) with the pixel pitch of *this
   photo's* pixels: a downscaled copy has a coarser GSD. A nadir photo over flat ground thus
   gets :math:`D` = its relative altitude / cos(off-nadir angle); an oblique photo the
   distance to the tank shell or roof it is aimed at. Without a site only the ground plane is
   there. The footprint is the four corner hits (each on the ground or on a facility); a corner
   ray that rises above the horizon or misses everything is reported as ``"sky"`` and the
   footprint polygon is then left open (``None``).
4. **Facility.** The facility the optical axis hits; else, when the footprint is closed, the
   facility whose footprint intersects it nearest to where the axis lands.
5. **Planned shot** (with a plan folder): each photo is paired with the plan's photo waypoint
   nearest in pose among those within :data:`SHOT_HORIZONTAL_TOLERANCE_M` horizontally,
   :data:`SHOT_VERTICAL_TOLERANCE_M` vertically and :data:`SHOT_ANGLE_TOLERANCE_DEG` in yaw and
   pitch (yaw is not compared when both look straight down); of several photos of one shot the
   nearest is the shot and the others are retakes. Shots without a photo are *not taken*.
   Nearest, not one-to-one: a retake must not be counted as a neighbouring shot that was
   missed (orbit layers can be closer than the vertical tolerance).
6. **Blind spots that remain.** The photos' actual poses are fed to
   :func:`~plantwatch.drone.coverage.compute_coverage` as a plan of their own (same target GSD,
   incidence limit and facilities as the flight plan, the photos' camera sized to their pixels),
   so the conventional-inspection list reflects the shots missed, the pose errors and the
   resolution really delivered. Coverage models roll 0: rolled photos count as unrolled, which
   changes little at the few degrees a gimbal holds.

Folder mode. :func:`survey_photos` reads every ``.jpg``/``.jpeg`` of the folders given; a photo
that cannot be read (no EXIF, no GPS …) becomes one :class:`PhotoError` and the others go on;
``plantwatch drone photos`` then lists it and exits 1.

References
----------
.. [1] MHLW-2022, "Manual for introducing drones into the periodic voluntary inspection of
   chemical equipment", §5.3 (Figs 5.1-5.4), §5.4 (Figs 5.7-5.9, recording photos), §5.5.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry import Point, Polygon

from plantwatch.drone.camera import gsd_mm
from plantwatch.drone.model import (
    CameraModel,
    CoverageReport,
    Plan,
    PlanOptions,
    Site,
    Sortie,
    Waypoint,
)
from plantwatch.drone.photo_exif import PhotoCamera, PhotoMeta, photo_camera, read_photo
from plantwatch.drone.site import facility_footprint, site_primitives
from plantwatch.errors import InputError
from plantwatch.geometry import GroundPlane, PinholeCamera, Primitive, cast_rays
from plantwatch.jsonutil import jsonable

__all__ = [
    "GROUND",
    "JPEG_SUFFIXES",
    "NADIR_PITCH_DEG",
    "SHOT_ANGLE_TOLERANCE_DEG",
    "SHOT_HORIZONTAL_TOLERANCE_M",
    "SHOT_VERTICAL_TOLERANCE_M",
    "SKY",
    "CoverageFromPhotos",
    "PhotoError",
    "PhotoPose",
    "PhotoRecord",
    "PhotoSurvey",
    "PlanFolder",
    "PlannedShot",
    "RayHit",
    "ShotMatch",
    "analyse_photo",
    "corner_directions",
    "coverage_from_photos",
    "find_photos",
    "load_plan_folder",
    "local_frame",
    "match_planned_shots",
    "photo_pinhole",
    "photo_pose",
    "photo_to_json",
    "read_photo",
    "survey_photos",
    "survey_to_json",
]

FloatArray = NDArray[np.float64]

JPEG_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg")
GROUND = "ground"  # what a ray hit: the ground plane z = 0
SKY = "sky"  # ... nothing (above the horizon, or past every structure)

# Shot matching. DJI prints a hover accuracy of +-1.5 m horizontal and +-0.5 m vertical with
# GNSS (Phantom 4 RTK / Matrice 300 specs); twice that horizontally, and 2 m vertically to allow
# for barometric drift over a battery, keeps a photo with its shot while neighbouring shots
# (>= 3 m apart at the planner's 70 % overlap and 7 m standoff) are told apart by the yaw.
SHOT_HORIZONTAL_TOLERANCE_M = 3.0
SHOT_VERTICAL_TOLERANCE_M = 2.0
SHOT_ANGLE_TOLERANCE_DEG = 15.0  # yaw and pitch difference to the planned shot [deg]
NADIR_PITCH_DEG = -80.0  # at or below this pitch a photo looks down: yaw is not compared [deg]


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RayHit:
    """Where a ray from the camera ends: a facility (its id), ``"ground"`` or ``"sky"``.

    ``point_m`` is the hit in the frame's ENU [m] and ``distance_m`` the distance along the
    ray [m] (for the optical axis: the depth used for the GSD); both ``None`` for ``"sky"``.
    """

    what: str
    point_m: tuple[float, float, float] | None = None
    distance_m: float | None = None
    lat_deg: float | None = None
    lon_deg: float | None = None


@dataclass(frozen=True)
class PhotoPose:
    """The camera's position in the frame's ENU [m] and its attitude [deg]."""

    position_m: tuple[float, float, float]
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    height_source: str  # "RelativeAltitude" | "GPSAltitude - site origin height"


@dataclass(frozen=True)
class PlannedShot:
    """One photo waypoint of a plan (``plan.json``), numbered in flying order from 1."""

    shot: int
    waypoint_index: int  # position in plan.json "waypoints"
    sortie: int
    x_m: float
    y_m: float
    z_m: float
    lat_deg: float | None
    lon_deg: float | None
    heading_deg: float
    gimbal_pitch_deg: float
    facility_id: str | None
    kind: str


@dataclass(frozen=True)
class ShotMatch:
    """A photo paired with its planned shot, and how far off it was."""

    shot: PlannedShot
    horizontal_m: float
    vertical_m: float  # photo minus plan [m]
    yaw_diff_deg: float | None  # None when both look straight down
    pitch_diff_deg: float
    retake: bool = False  # another photo already took this shot


@dataclass(frozen=True)
class PhotoRecord:
    """One photo read and placed on the site."""

    meta: PhotoMeta
    camera: PhotoCamera
    pose: PhotoPose | None
    axis: RayHit | None  # where the optical axis lands
    gsd_cm: float | None  # [cm px-1] where the axis lands
    gsd_at: str | None  # "ground" | "facility"
    corners: tuple[RayHit, ...]  # image corners: top-left, top-right, bottom-right, bottom-left
    footprint_note: str
    facility_id: str | None = None
    facility_match: str | None = None  # "optical axis" | "footprint"
    planned: ShotMatch | None = None
    notes: tuple[str, ...] = ()

    @property
    def footprint_closed(self) -> bool:
        return len(self.corners) == 4 and all(c.what != SKY for c in self.corners)


@dataclass(frozen=True)
class PhotoError:
    """A photo that could not be used, and why (one line)."""

    file: Path
    error: str


@dataclass(frozen=True)
class PlanFolder:
    """What a plan folder holds for photo checks."""

    path: Path
    plan: dict[str, Any]
    coverage: dict[str, Any] | None
    site: Site | None
    shots: tuple[PlannedShot, ...]


@dataclass(frozen=True)
class CoverageFromPhotos:
    """Coverage recomputed from the photos' actual poses."""

    report: CoverageReport
    photos_used: int
    camera: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class PhotoSurvey:
    """Photos of a flight checked against the site and the plan."""

    photos: tuple[PhotoRecord, ...]
    errors: tuple[PhotoError, ...]
    site: Site | None  # the real site (None: ground plane only)
    plan: PlanFolder | None = None
    not_taken: tuple[PlannedShot, ...] = ()
    coverage: CoverageFromPhotos | None = None
    notes: tuple[str, ...] = ()


# -- files -------------------------------------------------------------------------------------


def find_photos(paths: Iterable[str | Path]) -> list[Path]:
    """JPEG files among ``paths``; folders are walked (recursively, sorted, hidden names skipped).

    Raises
    ------
    InputError
        A path does not exist, a file given directly is not ``.jpg``/``.jpeg``, or no JPEG
        was found at all.
    """
    found: list[Path] = []
    given = [Path(p) for p in paths]
    if not given:
        raise InputError("give at least one photo file or folder", field="PATH")
    for path in given:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in JPEG_SUFFIXES
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            if path.suffix.lower() not in JPEG_SUFFIXES:
                raise InputError(
                    f"is not a JPEG photo (.jpg/.jpeg), got {path.suffix or 'no suffix'!r}",
                    field=str(path),
                )
            found.append(path)
        else:
            raise InputError("no such file or folder", field=str(path))
    if not found:
        raise InputError(
            f"no .jpg/.jpeg photos in {', '.join(str(p) for p in given)}", field="PATH"
        )
    return list(dict.fromkeys(found))


def _number(value: Any, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"must be a number, got {value!r}", field=field) from None
    if not math.isfinite(number):
        raise InputError(f"must be finite, got {value!r}", field=field)
    return number


def _planned_shots(plan: Mapping[str, Any], name: str) -> tuple[PlannedShot, ...]:
    fields = list(plan.get("waypoint_fields") or [])
    needed = {"x_m", "y_m", "z_m", "heading_deg", "gimbal_pitch_deg", "action"}
    if not needed <= set(fields):
        raise InputError(
            f"plan.json waypoint_fields lack {sorted(needed - set(fields))}; re-plan with "
            "`plantwatch drone plan`",
            field=name,
        )
    shots: list[PlannedShot] = []
    for index, row in enumerate(plan.get("waypoints") or []):
        wp = dict(zip(fields, row, strict=False))
        if wp.get("action") != "photo":
            continue
        where = f"{name} waypoints[{index}]"
        lat, lon = wp.get("lat_deg"), wp.get("lon_deg")
        shots.append(
            PlannedShot(
                shot=len(shots) + 1,
                waypoint_index=index,
                sortie=int(wp.get("sortie") or 0),
                x_m=_number(wp["x_m"], where),
                y_m=_number(wp["y_m"], where),
                z_m=_number(wp["z_m"], where),
                lat_deg=None if lat is None else _number(lat, where),
                lon_deg=None if lon is None else _number(lon, where),
                heading_deg=_number(wp["heading_deg"], where),
                gimbal_pitch_deg=_number(wp["gimbal_pitch_deg"], where),
                facility_id=wp.get("facility_id"),
                kind=str(wp.get("kind") or ""),
            )
        )
    return tuple(shots)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {path.name} ({exc})", field=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("must hold a JSON object", field=str(path))
    return data


def load_plan_folder(plan_dir: str | Path) -> PlanFolder:
    """Read ``plan.json``, ``coverage.json`` and ``site.geojson`` of a plan folder.

    Raises
    ------
    InputError
        Not a plan folder (no ``plan.json``), or a file there is unreadable.
    """
    from plantwatch.drone.approval import check_plan_dir
    from plantwatch.drone.site import load_site

    folder = check_plan_dir(plan_dir, field="--plan")
    plan = _read_json(folder / "plan.json")
    coverage_path = folder / "coverage.json"
    coverage = _read_json(coverage_path) if coverage_path.is_file() else None
    site_path = folder / "site.geojson"
    site = load_site(site_path) if site_path.is_file() else None
    return PlanFolder(folder, plan, coverage, site, _planned_shots(plan, str(folder / "plan.json")))


# -- pose and geometry -------------------------------------------------------------------------


def local_frame(lat_deg: float, lon_deg: float, name: str = "photo frame") -> Site:
    """An empty site whose ENU origin is at ``(lat_deg, lon_deg)`` on the ground (z = 0 at the
    take-off height): the frame used when no site is given (ground plane only)."""
    return Site(name, float(lat_deg), float(lon_deg), 0.0, (), (), ())


def _fold_pitch(yaw_deg: float, pitch_deg: float, roll_deg: float) -> tuple[float, float, float]:
    """The same camera with the pitch in [-90, 90] deg (pitch past the vertical flips yaw and
    roll by 180 deg); yaw wrapped to [0, 360)."""
    if pitch_deg < -90.0:
        yaw_deg, pitch_deg, roll_deg = yaw_deg + 180.0, -180.0 - pitch_deg, roll_deg + 180.0
    elif pitch_deg > 90.0:
        yaw_deg, pitch_deg, roll_deg = yaw_deg + 180.0, 180.0 - pitch_deg, roll_deg + 180.0
    roll_deg = (roll_deg + 180.0) % 360.0 - 180.0
    return yaw_deg % 360.0, pitch_deg, roll_deg


def photo_pose(meta: PhotoMeta, frame: Site, site_given: bool) -> tuple[PhotoPose | None, str]:
    """The camera pose in ``frame``'s ENU, or ``None`` and the reason when the photo lacks it."""
    if meta.alt_rel_m is not None:
        height, source = meta.alt_rel_m, "RelativeAltitude"
    elif site_given and meta.gps_alt_m is not None:
        height, source = meta.gps_alt_m - frame.origin_alt_m, "GPSAltitude - site origin height"
    else:
        return None, (
            "no height above take-off (XMP drone-dji:RelativeAltitude); "
            + ("and no GPSAltitude" if site_given else "give --site to use GPSAltitude")
        )
    yaw = meta.gimbal_yaw_deg if meta.gimbal_yaw_deg is not None else meta.flight_yaw_deg
    if meta.gimbal_pitch_deg is None or yaw is None:
        return None, "no camera attitude (XMP drone-dji:GimbalPitchDegree / GimbalYawDegree)"
    yaw, pitch, roll = _fold_pitch(yaw, meta.gimbal_pitch_deg, meta.gimbal_roll_deg or 0.0)
    enu = frame.from_wgs84(np.array([[meta.lat_deg, meta.lon_deg, height]]))[0]
    position = (float(enu[0]), float(enu[1]), float(height))
    return PhotoPose(position, yaw, pitch, roll, source), ""


def photo_pinhole(camera: CameraModel, pose: PhotoPose) -> PinholeCamera:
    """A :class:`~plantwatch.geometry.PinholeCamera` with the photo's field of view and pose."""
    hfov = math.degrees(2.0 * math.atan(camera.sensor_width_mm / (2.0 * camera.focal_length_mm)))
    vfov = math.degrees(2.0 * math.atan(camera.sensor_height_mm / (2.0 * camera.focal_length_mm)))
    return PinholeCamera(
        width_px=camera.image_width_px,
        height_px=camera.image_height_px,
        hfov_deg=hfov,
        vfov_deg=vfov,
        position_m=pose.position_m,
        yaw_deg=pose.yaw_deg,
        pitch_deg=pose.pitch_deg,
        roll_deg=pose.roll_deg,
    )


def corner_directions(camera: CameraModel, pinhole: PinholeCamera) -> FloatArray:
    """Unit world directions of the optical axis and the four image corners, shape (5, 3).

    Rows: axis, top-left, top-right, bottom-right, bottom-left (outer pixel edges, i.e. the
    half-angles of :func:`~plantwatch.drone.camera.fov_deg`).
    """
    tan_h = camera.sensor_width_mm / (2.0 * camera.focal_length_mm)
    tan_v = camera.sensor_height_mm / (2.0 * camera.focal_length_mm)
    cam = np.array(
        [[0, 0, 1], [-tan_h, -tan_v, 1], [tan_h, -tan_v, 1], [tan_h, tan_v, 1], [-tan_h, tan_v, 1]],
        dtype=np.float64,
    )
    cam /= np.linalg.norm(cam, axis=1, keepdims=True)
    return cam @ pinhole.rotation_world_to_camera


def _scene(frame: Site) -> tuple[list[Primitive], list[str]]:
    primitives, owners = site_primitives(frame)
    return [*primitives, GroundPlane(0.0)], [*owners, GROUND]


def _hits(
    frame: Site, origin: FloatArray, dirs: FloatArray, scene: tuple[list[Primitive], list[str]]
) -> list[RayHit]:
    t, index = cast_rays(origin, dirs, scene[0])
    points = origin + np.where(np.isfinite(t), t, 0.0)[:, None] * dirs
    finite = np.isfinite(t)
    geo = frame.to_wgs84(points[finite]) if finite.any() else np.empty((0, 3))
    hits: list[RayHit] = []
    k = 0
    for n in range(len(t)):
        if not finite[n]:
            hits.append(RayHit(SKY))
            continue
        hits.append(
            RayHit(
                scene[1][int(index[n])],
                (float(points[n, 0]), float(points[n, 1]), float(points[n, 2])),
                float(t[n]),
                float(geo[k, 0]),
                float(geo[k, 1]),
            )
        )
        k += 1
    return hits


def _footprint_facility(frame: Site, corners: Sequence[RayHit], axis: RayHit) -> str | None:
    """The facility whose footprint meets the photo's footprint nearest to the axis point."""
    xy = [(c.point_m[0], c.point_m[1]) for c in corners if c.point_m is not None]
    if len(xy) < 4 or axis.point_m is None:
        return None
    polygon = Polygon(xy)
    if not polygon.is_valid:
        polygon = polygon.convex_hull
    centre = Point(axis.point_m[0], axis.point_m[1])
    best: tuple[float, str] | None = None
    for facility in frame.facilities:
        outline = facility_footprint(facility)
        if outline.intersects(polygon):
            distance = outline.distance(centre)
            if best is None or distance < best[0]:
                best = (distance, facility.id)
    return None if best is None else best[1]


def analyse_photo(
    meta: PhotoMeta,
    frame: Site,
    *,
    site_given: bool = True,
    scene: tuple[list[Primitive], list[str]] | None = None,
) -> PhotoRecord:
    """Place one photo in ``frame``: pose, GSD, footprint and facility (see the module notes).

    Parameters
    ----------
    meta
        From :func:`read_photo`.
    frame
        The site (its facilities are cast against) or a :func:`local_frame` (ground only).
    site_given
        Whether ``frame`` is a real site (facility matching, GPSAltitude fallback).
    scene
        Primitives and their owners for ``frame`` (computed when ``None``; pass them in to
        reuse over many photos).

    Raises
    ------
    InputError
        The camera's sensor size cannot be found (:func:`~plantwatch.drone.photo_exif.
        photo_camera`).
    """
    camera = photo_camera(meta)
    pose, why = photo_pose(meta, frame, site_given)
    if pose is None:
        return PhotoRecord(meta, camera, None, None, None, None, (), why, notes=(why,))
    scene = scene if scene is not None else _scene(frame)
    pinhole = photo_pinhole(camera.camera, pose)
    origin = np.asarray(pose.position_m, dtype=np.float64)
    axis, *corners = _hits(frame, origin, corner_directions(camera.camera, pinhole), scene)
    notes: list[str] = []
    gsd_cm: float | None = None
    gsd_at: str | None = None
    if axis.distance_m is not None and axis.distance_m > 0.0:
        gsd_cm = gsd_mm(camera.camera, axis.distance_m) / 10.0
        gsd_at = GROUND if axis.what == GROUND else "facility"
    elif axis.what == SKY:
        notes.append("the optical axis points above the horizon or past every structure: no GSD")
    else:
        notes.append("the camera is inside a structure or below the ground: check the heights")
    sky = sum(c.what == SKY for c in corners)
    footprint_note = (
        f"{sky} of 4 corner rays pass above the horizon or miss everything: footprint unbounded"
        if sky
        else ""
    )
    facility_id: str | None = None
    facility_match: str | None = None
    if site_given and frame.facilities:
        if axis.what not in (GROUND, SKY):
            facility_id, facility_match = axis.what, "optical axis"
        else:
            facility_id = _footprint_facility(frame, corners, axis)
            facility_match = "footprint" if facility_id else None
    return PhotoRecord(
        meta,
        camera,
        pose,
        axis,
        gsd_cm,
        gsd_at,
        tuple(corners),
        footprint_note,
        facility_id,
        facility_match,
        notes=tuple(notes),
    )


# -- planned shots -----------------------------------------------------------------------------


def _angle_diff_deg(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def match_planned_shots(
    records: Sequence[PhotoRecord],
    shots: Sequence[PlannedShot],
    frame: Site,
    *,
    horizontal_m: float = SHOT_HORIZONTAL_TOLERANCE_M,
    vertical_m: float = SHOT_VERTICAL_TOLERANCE_M,
    angle_deg: float = SHOT_ANGLE_TOLERANCE_DEG,
) -> tuple[list[ShotMatch | None], tuple[PlannedShot, ...]]:
    """Pair photos with planned shots; return each photo's match and the shots not taken.

    Candidates lie within the tolerances; each photo takes the candidate of least
    :math:`(\\Delta h / h_\\mathrm{tol})^2 + (\\Delta z / z_\\mathrm{tol})^2 +
    (\\Delta\\psi / a_\\mathrm{tol})^2 + (\\Delta\\theta / a_\\mathrm{tol})^2`; where several
    photos take one shot, all but the nearest are retakes. Shot positions are converted from
    their WGS84 copy into ``frame`` (the plan's own ENU when ``frame`` is the plan's site).
    """
    matches: list[ShotMatch | None] = [None] * len(records)
    if not shots:
        return matches, ()
    geo = [s for s in shots if s.lat_deg is not None and s.lon_deg is not None]
    if len(geo) == len(shots):
        enu = frame.from_wgs84(np.array([[s.lat_deg, s.lon_deg, s.z_m] for s in shots]))
        xy = enu[:, :2]
    else:  # an old plan.json without WGS84: its own ENU (frame must be the plan's site)
        xy = np.array([[s.x_m, s.y_m] for s in shots])
    tree = cKDTree(xy)
    candidates: list[tuple[float, int, int, ShotMatch]] = []
    for i, record in enumerate(records):
        pose = record.pose
        if pose is None:
            continue
        x, y, z = pose.position_m
        for j in tree.query_ball_point((x, y), horizontal_m):
            shot = shots[j]
            dh = float(math.hypot(x - xy[j, 0], y - xy[j, 1]))
            dz = z - shot.z_m
            dpitch = abs(pose.pitch_deg - shot.gimbal_pitch_deg)
            nadir = pose.pitch_deg <= NADIR_PITCH_DEG and shot.gimbal_pitch_deg <= NADIR_PITCH_DEG
            dyaw = None if nadir else _angle_diff_deg(pose.yaw_deg, shot.heading_deg)
            if (
                abs(dz) > vertical_m
                or dpitch > angle_deg
                or (dyaw is not None and dyaw > angle_deg)
            ):
                continue
            cost = (
                (dh / horizontal_m) ** 2
                + (dz / vertical_m) ** 2
                + ((dyaw or 0.0) / angle_deg) ** 2
                + (dpitch / angle_deg) ** 2
            )
            match = ShotMatch(shot, round(dh, 3), round(dz, 3), dyaw, round(dpitch, 3))
            candidates.append((cost, i, j, match))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    taken: set[int] = set()
    for _, i, j, match in candidates:  # best first: each photo's nearest shot
        if matches[i] is None:
            matches[i] = replace(match, retake=j in taken)
            taken.add(j)
    not_taken = tuple(s for j, s in enumerate(shots) if j not in taken)
    return matches, not_taken


# -- coverage from the photos ------------------------------------------------------------------


def _camera_key(camera: CameraModel) -> tuple[float, float, int, int, float]:
    return (
        round(camera.sensor_width_mm, 4),
        round(camera.sensor_height_mm, 4),
        camera.image_width_px,
        camera.image_height_px,
        round(camera.focal_length_mm, 4),
    )


def coverage_from_photos(
    site: Site, records: Sequence[PhotoRecord], plan: PlanFolder
) -> CoverageFromPhotos:
    """Coverage of the plan's facilities by the photos as taken (see the module notes).

    The photos of the most common camera (sensor, pixels, focal length) are used, because
    coverage models one camera; photos of other cameras or without a pose are left out and
    said so in ``notes``.

    Raises
    ------
    InputError
        No photo has a pose, or ``plan.json`` lacks ``gsd_mm``.
    """
    from plantwatch.drone.coverage import GSD_TOLERANCE, compute_coverage

    posed = [r for r in records if r.pose is not None]
    if not posed:
        raise InputError("no photo has a pose (position, height and attitude)", field="PATH")
    groups: dict[tuple[float, float, int, int, float], list[PhotoRecord]] = {}
    for record in posed:
        groups.setdefault(_camera_key(record.camera.camera), []).append(record)
    used = max(groups.values(), key=len)
    camera = used[0].camera.camera
    notes: list[str] = []
    if len(posed) < len(records):
        notes.append(f"{len(records) - len(posed)} photo(s) without a pose not counted")
    if len(used) < len(posed):
        notes.append(
            f"{len(posed) - len(used)} photo(s) of another camera or photo size not counted "
            f"(coverage models one camera: {camera.name}, {camera.image_width_px} px wide)"
        )
    if any(abs(r.pose.roll_deg) > 1.0 for r in used if r.pose is not None):
        notes.append("coverage treats the photos as unrolled (gimbal roll > 1 deg ignored)")
    settings = dict((plan.coverage or {}).get("settings") or {})
    if "gsd_mm" not in plan.plan:
        raise InputError("plan.json has no gsd_mm", field=str(plan.path / "plan.json"))
    target_mm = _number(plan.plan["gsd_mm"], "plan.json gsd_mm")
    standoff_m = float(plan.plan.get("standoff_m") or 0.0)
    tolerance = float(settings.get("gsd_tolerance", GSD_TOLERANCE))
    if standoff_m > 0 and gsd_mm(camera, standoff_m) > target_mm * (1.0 + tolerance):
        notes.append(
            f"these photos give {gsd_mm(camera, standoff_m):.2g} mm/px at the plan's "
            f"{standoff_m:.1f} m standoff, coarser than the planned {target_mm:g} mm/px "
            f"({camera.image_width_px} px wide: downscaled copies, or another camera?)"
        )
    known = {f.id for f in site.facilities}
    planned_ids = [
        str(row.get("facility_id"))
        for row in (plan.coverage or {}).get("facilities") or []
        if row.get("facility_id") in known
    ]
    options = PlanOptions(
        gsd_mm=target_mm,
        max_incidence_deg=float(
            settings.get("max_incidence_deg") or PlanOptions().max_incidence_deg
        ),
        facility_ids=tuple(planned_ids) or None,
    )
    waypoints = tuple(
        Waypoint(
            x_m=r.pose.position_m[0],
            y_m=r.pose.position_m[1],
            z_m=r.pose.position_m[2],
            heading_deg=r.pose.yaw_deg,
            gimbal_pitch_deg=r.pose.pitch_deg,
            speed_m_s=0.0,
            action="photo",
            facility_id=r.facility_id,
            kind="photo",
        )
        for r in used
        if r.pose is not None
    )
    takeoff = site.takeoff_points_m[0] if site.takeoff_points_m else (0.0, 0.0)
    as_flown = Plan(
        site_name=site.name,
        camera=camera,
        options=options,
        standoff_m=standoff_m,
        sorties=(Sortie(0, takeoff, waypoints, 0.0, 0.0),),
    )
    report = compute_coverage(
        site,
        as_flown,
        settings.get("sample_spacing_m"),
        gsd_tolerance=tolerance,
        gsd_model=str(settings.get("gsd_model") or "depth"),
        min_blind_spot_m2=float(settings.get("min_blind_spot_m2", 0.5)),
    )
    return CoverageFromPhotos(report, len(waypoints), camera.name, tuple(notes))


# -- the whole check ---------------------------------------------------------------------------


def survey_photos(
    paths: Iterable[str | Path],
    site: Site | None = None,
    plan_dir: str | Path | None = None,
    *,
    coverage: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> PhotoSurvey:
    """Read, place and match every photo under ``paths`` (files or folders).

    Parameters
    ----------
    paths
        JPEG files and/or folders (walked for ``.jpg``/``.jpeg``).
    site
        The site; when ``None`` and the plan folder holds ``site.geojson``, that one.
        Without any site, photos are placed over flat ground (no facility matching).
    plan_dir
        A folder written by ``plantwatch drone plan``: photos are matched to its shots, the
        shots not taken are listed, and (with ``coverage``) the blind spots left by the photos
        as taken are recomputed.
    coverage
        Recompute coverage from the photos (needs a site and a plan).
    progress
        Called as ``progress(done, total)`` after each photo.

    Returns
    -------
    PhotoSurvey
        Photos in file order; unreadable photos in ``errors`` (one line each).

    Raises
    ------
    InputError
        A path does not exist, no JPEG was found, or the plan folder or site is unreadable.
    """
    files = find_photos(paths)
    plan = load_plan_folder(plan_dir) if plan_dir is not None else None
    if site is None and plan is not None:
        site = plan.site
    errors: list[PhotoError] = []
    metas: list[PhotoMeta] = []
    for n, file in enumerate(files, start=1):
        try:
            metas.append(read_photo(file))
        except InputError as exc:
            errors.append(PhotoError(file, str(exc)))
        if progress is not None:
            progress(n, len(files))
    if site is not None:
        frame = site
    elif metas:
        frame = local_frame(metas[0].lat_deg, metas[0].lon_deg)
    else:
        return PhotoSurvey((), tuple(errors), None, plan)
    scene = _scene(frame)
    records: list[PhotoRecord] = []
    for meta in metas:
        try:
            records.append(analyse_photo(meta, frame, site_given=site is not None, scene=scene))
        except InputError as exc:
            errors.append(PhotoError(meta.path, str(exc)))
    order = {file: k for k, file in enumerate(files)}
    errors.sort(key=lambda e: order.get(e.file, 0))
    notes: list[str] = []
    not_taken: tuple[PlannedShot, ...] = ()
    cover: CoverageFromPhotos | None = None
    if plan is not None:
        if plan.site is None and site is None and plan.shots:
            notes.append("the plan folder has no site.geojson: shots matched in a local frame")
        matches, not_taken = match_planned_shots(records, plan.shots, frame)
        records = [replace(r, planned=m) for r, m in zip(records, matches, strict=True)]
        if coverage and site is not None and records:
            try:
                cover = coverage_from_photos(site, records, plan)
            except InputError as exc:
                notes.append(f"coverage not recomputed: {exc}")
        elif coverage:
            notes.append("coverage not recomputed: it needs the site (plan site.geojson or --site)")
    return PhotoSurvey(tuple(records), tuple(errors), site, plan, not_taken, cover, tuple(notes))


# -- JSON --------------------------------------------------------------------------------------


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def _hit_json(hit: RayHit) -> dict[str, Any]:
    return {
        "hit": hit.what,
        "lat": _r(hit.lat_deg, 8),
        "lon": _r(hit.lon_deg, 8),
        "point_m": None if hit.point_m is None else [round(v, 3) for v in hit.point_m],
        "distance_m": _r(hit.distance_m, 3),
    }


def _shot_json(shot: PlannedShot) -> dict[str, Any]:
    return {
        "shot": shot.shot,
        "waypoint_index": shot.waypoint_index,
        "sortie": shot.sortie,
        "facility_id": shot.facility_id,
        "kind": shot.kind,
        "x_m": shot.x_m,
        "y_m": shot.y_m,
        "z_m": shot.z_m,
        "lat": shot.lat_deg,
        "lon": shot.lon_deg,
        "heading_deg": shot.heading_deg,
        "gimbal_pitch_deg": shot.gimbal_pitch_deg,
    }


def photo_to_json(
    record: PhotoRecord, *, with_site: bool = False, with_plan: bool = False
) -> dict[str, Any]:
    """One photo as a JSON object: ``file``, ``lat``, ``lon``, ``alt_rel_m``,
    ``gimbal_pitch_deg``, ``gimbal_yaw_deg``, ``time`` (ISO 8601, with the offset when the photo
    records one), ``camera``, ``gsd_cm`` … plus ``facility`` (``with_site``) and
    ``planned_shot`` (``with_plan``)."""
    meta, camera = record.meta, record.camera.camera
    pose = record.pose
    corners = [_hit_json(c) for c in record.corners]
    polygon = (
        [[c["lon"], c["lat"]] for c in corners] + [[corners[0]["lon"], corners[0]["lat"]]]
        if record.footprint_closed
        else None
    )
    data: dict[str, Any] = {
        "file": str(meta.path),
        "lat": round(meta.lat_deg, 9),
        "lon": round(meta.lon_deg, 9),
        "alt_rel_m": meta.alt_rel_m,
        "alt_abs_m": meta.alt_abs_m,
        "gps_alt_m": meta.gps_alt_m,
        "gimbal_pitch_deg": meta.gimbal_pitch_deg,
        "gimbal_yaw_deg": meta.gimbal_yaw_deg,
        "gimbal_roll_deg": meta.gimbal_roll_deg,
        "flight_pitch_deg": meta.flight_pitch_deg,
        "flight_yaw_deg": meta.flight_yaw_deg,
        "flight_roll_deg": meta.flight_roll_deg,
        "time": None if meta.time is None else meta.time.isoformat(),
        "camera": meta.camera_label,
        "camera_preset": record.camera.preset,
        "sensor_source": record.camera.source,
        "sensor_mm": [round(camera.sensor_width_mm, 4), round(camera.sensor_height_mm, 4)],
        "focal_length_mm": camera.focal_length_mm,
        "focal_length_35mm": meta.focal_length_35mm,
        "image_px": [meta.image_width_px, meta.image_height_px],
        "gsd_cm": _r(record.gsd_cm, 4),
        "gsd_at": record.gsd_at,
        "distance_m": None if record.axis is None else _r(record.axis.distance_m, 3),
        "position_m": None if pose is None else [round(v, 3) for v in pose.position_m],
        "height_source": None if pose is None else pose.height_source,
        "axis": None if record.axis is None else _hit_json(record.axis),
        "footprint": {"corners": corners, "polygon": polygon, "note": record.footprint_note},
        "notes": list(record.notes),
    }
    if with_site:
        data["facility"] = record.facility_id
        data["facility_match"] = record.facility_match
    if with_plan:
        match = record.planned
        data["planned_shot"] = (
            None
            if match is None
            else {
                **_shot_json(match.shot),
                "horizontal_m": match.horizontal_m,
                "vertical_m": match.vertical_m,
                "yaw_diff_deg": _r(match.yaw_diff_deg, 3),
                "pitch_diff_deg": match.pitch_diff_deg,
                "retake": match.retake,
            }
        )
    result: dict[str, Any] = jsonable(data)
    return result


def _by_facility(shots: Iterable[PlannedShot]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for shot in shots:
        key = shot.facility_id or "-"
        counts[key] = counts.get(key, 0) + 1
    return counts


def survey_to_json(survey: PhotoSurvey) -> dict[str, Any]:
    """The whole survey: ``photos`` (as :func:`photo_to_json`), ``errors``, and with a plan
    ``plan`` (shot counts, ``not_taken``) and ``coverage`` (from the photos as taken, next to
    the plan's own figures, with the conventional-inspection list)."""
    with_site = survey.site is not None
    with_plan = survey.plan is not None
    data: dict[str, Any] = {
        "photos": [
            photo_to_json(r, with_site=with_site, with_plan=with_plan) for r in survey.photos
        ],
        "errors": [{"file": str(e.file), "error": e.error} for e in survey.errors],
        "notes": list(survey.notes),
    }
    if survey.plan is not None:
        shots = survey.plan.shots
        data["plan"] = {
            "dir": str(survey.plan.path),
            "shots": len(shots),
            "taken": len(shots) - len(survey.not_taken),
            "not_taken_count": len(survey.not_taken),
            "not_taken_by_facility": _by_facility(survey.not_taken),
            "not_taken": [_shot_json(s) for s in survey.not_taken],
        }
    if survey.coverage is not None:
        from plantwatch.drone.coverage import coverage_to_json

        planned = (survey.plan.coverage or {}) if survey.plan is not None else {}
        data["coverage"] = {
            "from_photos": coverage_to_json(survey.coverage.report),
            "photos_used": survey.coverage.photos_used,
            "camera": survey.coverage.camera,
            "notes": list(survey.coverage.notes),
            "planned_totals": planned.get("totals"),
        }
    result: dict[str, Any] = jsonable(data)
    return result
