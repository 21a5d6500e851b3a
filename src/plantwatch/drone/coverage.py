r"""Ray-cast coverage of facility surfaces by a plan's photos, blind spots, coverage maps.

MHLW-2022 [1]_ asks inspectors to shoot every target from enough positions to leave no blind
spot (section 5.4, Figs 5.7-5.9: "several positions around a circular tank") and to send what
stays unseen to conventional visual inspection (section 5.5: 死角に対しては従来の目視検査を実施
すること). This module *proves* what a :class:`~plantwatch.drone.model.Plan` sees:

1. **Sampling.** Each facility's inspectable surface is sampled on a regular grid over its own
   parametrisation, one area-weighted point with its outward normal per cell: vertical
   cylinders (tanks, columns, stacks) as the shell (bearing x height) and the roof/top disc (a
   square grid clipped to the disc); spheres as bearing x height cells, which have equal area
   (Archimedes' hat-box theorem); pipe racks and buildings as their four sides (along x height)
   and top. The base resting on the ground is not inspectable from the air and is left out.
   A floating roof is sampled as the disc at the top of the shell (the deck itself floats
   lower and is partly hidden by the shell at oblique views, so its figure is an upper bound).
   The cell size adapts to the facility: ``max(0.5 m, sqrt(area / 3000))``, i.e. at most about
   3,000 points per facility.
2. **Seen by a photo.** A point :math:`p` with normal :math:`\hat n` is seen by a photo taken at
   :math:`c` along the optical axis :math:`\hat f` (heading, gimbal pitch; right :math:`\hat r`,
   down :math:`\hat d` as :class:`~plantwatch.geometry.PinholeCamera`) when, with
   :math:`(x, y, z) = ((p - c)\cdot\hat r, (p - c)\cdot\hat d, (p - c)\cdot\hat f)` and
   :math:`\rho = \lVert p - c\rVert`,

   .. math::

       z > 0,\quad |x| \le z\,\frac{w_s}{2 f},\quad |y| \le z\,\frac{h_s}{2 f}
       \quad\text{(in the frame)}

       \cos i = \frac{(c - p)\cdot\hat n}{\rho} \ge \cos i_\max > 0
       \quad\text{(facing the camera, not too oblique)}

       \mathrm{GSD} = \frac{1000\, z\, p_s}{f} \le (1 + \tau)\,\mathrm{GSD}_\mathrm{target}
       \quad\text{(fine enough)}

   and the segment from :math:`p + \epsilon \hat n` to :math:`c` enters no facility's solid
   (any facility, its own included, can occlude). :math:`w_s, h_s` are the sensor width and
   height [mm], :math:`f` the focal length [mm], :math:`p_s = \max(w_s / W, h_s / H)` the pixel
   pitch [mm] and :math:`\tau` the GSD tolerance (5 %).
3. **Blind spots.** Unseen cells are grouped into 4-connected regions on each face's grid
   (the shell wraps around in bearing) and described by face, bearing range, height band, area
   and the dominant reason: ``occluded by <facility>`` (some photo frames it finely enough and
   squarely enough, but every such view is blocked), ``too oblique`` (an unblocked photo
   frames it finely enough, but only beyond the incidence limit), ``GSD too coarse`` (an
   unblocked photo frames it within the incidence limit, but only from too far; photos up to
   3x the GSD reach are checked) or ``not in any photo`` (not framed, only glimpsed both too
   far and too obliquely, or only through other structures). A region's ``reasons`` give the
   area of each.

GSD model. The default (``"depth"``) uses the depth along the optical axis: for an ideal
pinhole camera with a flat sensor, a pixel at angle :math:`\alpha` off the axis covers
:math:`z p_s / f` across the radial direction and :math:`z p_s \cos\alpha / f` along it on a
surface square to the ray [2]_, so :math:`z p_s / f` is that pixel's coarsest sample — exact,
not optimistic, and equal to the centre-of-image GSD that planners (and QGroundControl's
Survey/Structure Scan) use. ``"ray"`` uses the distance along the ray (:math:`\rho p_s / f`,
stricter towards the frame corners); ``"oblique"`` also stretches the GSD across the slope,
:math:`z p_s / (f \cos i)`, for inspectors who require the target GSD *on* the tilted surface.
Obliquity is otherwise limited by ``PlanOptions.max_incidence_deg`` alone.

Speed. The surface points are grouped into patches of 4 x 4 cells. A k-d tree over the camera
positions yields the photos within reach of each patch (the distance to the frame corner at the
GSD limit), which are culled further by the frustum's bounding cone and the patch's normal cone;
only the surviving point x photo pairs are tested, in numpy batches. Occlusion is then tested
for one candidate photo per unseen point at a time, best (most frontal) first, so a point costs
one ray unless its best view is blocked; each ray is tested only against the primitives whose
bounding sphere lies within reach of its point.

References
----------
.. [1] Ministry of Health, Labour and Welfare (MHLW), "Manual for introducing drones into the
   periodic voluntary inspection of chemical equipment", April 2022 ("MHLW-2022"), sections
   5.4 (Figs 5.7-5.9: blind spots, shooting positions) and 5.5 (conventional inspection of
   blind spots and high-risk spots).
.. [2] R. Hartley and A. Zisserman, "Multiple View Geometry in Computer Vision", 2nd ed.,
   Cambridge University Press, 2004, section 6.1 (the finite projective camera).
"""

from __future__ import annotations

import importlib
import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from plantwatch.drone.model import (
    FACILITY_TYPES,
    CameraModel,
    CoverageReport,
    Facility,
    FacilityCoverage,
    Plan,
    Site,
    Waypoint,
)
from plantwatch.errors import InputError
from plantwatch.fileio import atomic_write_bytes
from plantwatch.geometry import Box, Cylinder, Primitive, Sphere
from plantwatch.jsonutil import jsonable

__all__ = [
    "BLIND_SPOT_MIN_AREA_M2",
    "GSD_MODELS",
    "GSD_TOLERANCE",
    "REASONS",
    "DetailedCoverageReport",
    "DetailedFacilityCoverage",
    "FaceMap",
    "compute_coverage",
    "coverage_to_json",
    "render_coverage_map",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

GSD_MODELS: tuple[str, ...] = ("depth", "ray", "oblique")
"""How the GSD of a surface point is measured; see the module notes."""
GSD_TOLERANCE = 0.05  # a point counts at up to (1 + 5 %) x the target GSD [-]
BLIND_SPOT_MIN_AREA_M2 = 0.5  # blind spots from this area on go to conventional inspection [m2]
CONVENTIONAL_CITATION = "MHLW-2022 §5.5"  # 死角に対しては従来の目視検査を実施すること

MIN_SAMPLE_SPACING_M = 0.5  # finest automatic sample spacing [m]
MAX_POINTS_PER_FACILITY = 3000  # automatic spacing keeps a facility near this many points
PATCH_CELLS = 4  # patches of PATCH_CELLS x PATCH_CELLS surface cells for photo culling
NUDGE_M = 0.05  # occlusion rays start this far out along the normal [m]
OCCLUSION_TOLERANCE_M = 0.01  # a hit must be this much closer than the camera to occlude [m]
FAR_REACH_FACTOR = 3.0  # photos up to this x the GSD reach are checked for "GSD too coarse"
PAIR_CHUNK = 1_000_000  # point x photo pairs evaluated per numpy batch
_FACING_MIN_COS = 1e-6  # a surface faces a camera when cos(incidence) exceeds this [-]

# Reason codes of surface cells (FaceMap.reason_code) and their names.
SEEN, NOT_IN_PHOTO, GSD_TOO_COARSE, TOO_OBLIQUE, OCCLUDED = 0, 1, 2, 3, 4
OUTSIDE_FACE = -1  # grid cells that are not part of the face (corners of a disc's grid)
REASONS: dict[int, str] = {
    SEEN: "seen",
    NOT_IN_PHOTO: "not in any photo",
    GSD_TOO_COARSE: "GSD too coarse",
    TOO_OBLIQUE: "too oblique",
    OCCLUDED: "occluded",
}
_REASONS_JA: dict[int, str] = {
    NOT_IN_PHOTO: "撮影範囲外",
    GSD_TOO_COARSE: "解像度不足",
    TOO_OBLIQUE: "撮影角度が浅すぎる",
    OCCLUDED: "遮蔽",
}
_FACE_JA = {"shell": "側板", "roof": "屋根", "top": "頂部", "sphere": "球殻", "side": "側面"}
_COMPASS8 = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceMap:
    """Seen/unseen state of one face's surface grid (for maps and unwrapped strips).

    ``reason_code[row, col]`` is one of the codes in :data:`REASONS` (0 = seen) or ``-1`` for
    grid cells outside the face. Rows run along ``row_edges`` and columns along ``col_edges``:
    height above the facility base [m] x bearing clockwise from north [deg] for ``"shell"`` and
    ``"sphere"``; height [m] x distance along the face from its left end seen from outside [m]
    for sides; north x east offset from the centre [m] for discs; box y x box x [m] for a top.
    """

    face: str
    kind: str  # "cylinder" | "sphere" | "disk" | "rect"
    reason_code: NDArray[np.int8]  # (rows, cols)
    row_edges: FloatArray  # (rows + 1,)
    col_edges: FloatArray  # (cols + 1,)
    cell_area_m2: FloatArray  # (rows, cols), 0 outside the face


@dataclass(frozen=True)
class DetailedFacilityCoverage(FacilityCoverage):
    """:class:`FacilityCoverage` with the facility's name, per-face figures and face maps."""

    name: str = ""
    faces: tuple[dict[str, Any], ...] = ()  # {"face", "area_m2", "seen_area_m2", "coverage_pct"}
    sample_spacing_m: float = 0.0  # grid cell size used on this facility [m]
    point_count: int = 0  # surface samples
    face_maps: tuple[FaceMap, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class DetailedCoverageReport(CoverageReport):
    """:class:`CoverageReport` with the site name, photo count and the settings used."""

    facilities: tuple[DetailedFacilityCoverage, ...]
    site_name: str = ""
    photo_count: int = 0
    settings: dict[str, Any] = field(default_factory=dict)


# -- camera ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Optics:
    tan_half_h: float  # tan(HFOV / 2) [-]
    tan_half_v: float  # tan(VFOV / 2) [-]
    depth_limit_m: float  # depth at which the GSD reaches the (tolerated) target [m]
    reach_m: float  # farthest distance at which a point can be seen [m]
    cos_max_incidence: float  # cos(max incidence) [-]


def _optics(
    camera: CameraModel, gsd_mm: float, tolerance: float, max_incidence_deg: float
) -> _Optics:
    """Frustum slopes, GSD depth limit and reach of a camera for a target GSD.

    The GSD at depth :math:`z` is :math:`1000\\, z\\, p_s / f` [mm/px], so the depth limit is
    :math:`z_\\max = (1 + \\tau)\\,\\mathrm{GSD}\\, f / (1000\\, p_s)` [m]; the farthest seen point
    lies at the frame corner, :math:`z_\\max \\sqrt{1 + t_h^2 + t_v^2}`.
    """
    for name in ("sensor_width_mm", "sensor_height_mm", "focal_length_mm"):
        value = getattr(camera, name)
        if not _is_positive(value):
            raise InputError(f"must be a finite length > 0 mm, got {value!r}", f"camera.{name}")
    for name in ("image_width_px", "image_height_px"):
        value = getattr(camera, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
            raise InputError(f"must be an integer >= 1, got {value!r}", f"camera.{name}")
    if not _is_positive(gsd_mm):
        raise InputError(f"must be a finite GSD > 0 mm/px, got {gsd_mm!r}", "options.gsd_mm")
    if not (_is_positive(tolerance) or tolerance == 0):
        raise InputError(f"must be a finite fraction >= 0, got {tolerance!r}", "gsd_tolerance")
    if not (_is_positive(max_incidence_deg) and max_incidence_deg <= 90):
        raise InputError(
            f"must lie in (0, 90] deg, got {max_incidence_deg!r}", "options.max_incidence_deg"
        )
    pitch_mm = max(
        camera.sensor_width_mm / camera.image_width_px,
        camera.sensor_height_mm / camera.image_height_px,
    )
    tan_h = camera.sensor_width_mm / (2.0 * camera.focal_length_mm)
    tan_v = camera.sensor_height_mm / (2.0 * camera.focal_length_mm)
    depth_limit = (1.0 + tolerance) * gsd_mm * camera.focal_length_mm / (1000.0 * pitch_mm)
    return _Optics(
        tan_half_h=tan_h,
        tan_half_v=tan_v,
        depth_limit_m=depth_limit,
        reach_m=depth_limit * math.sqrt(1.0 + tan_h**2 + tan_v**2),
        cos_max_incidence=math.cos(math.radians(max_incidence_deg)),
    )


def _photo_axes(
    photos: Sequence[Waypoint],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Positions and camera axes (right, down, forward) of photos in ENU, each (M, 3).

    The axes follow :class:`~plantwatch.geometry.PinholeCamera` with roll 0: forward
    ``(cos p sin h, cos p cos h, sin p)``, right ``(cos h, -sin h, 0)``, down = forward x right.
    """
    count = len(photos)
    position = np.empty((count, 3))
    heading = np.empty(count)
    pitch = np.empty(count)
    for k, w in enumerate(photos):
        position[k] = (w.x_m, w.y_m, w.z_m)
        heading[k], pitch[k] = w.heading_deg, w.gimbal_pitch_deg
    bad = ~np.isfinite(position).all(axis=1) | ~np.isfinite(heading) | ~np.isfinite(pitch)
    bad |= (pitch < -90.0) | (pitch > 90.0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(
            "photo waypoint needs a finite position and heading and a gimbal pitch in "
            f"[-90, 90] deg, got {photos[k]!r}",
            f"plan.photos[{k}]",
        )
    h, p = np.radians(heading), np.radians(pitch)
    forward = np.stack([np.cos(p) * np.sin(h), np.cos(p) * np.cos(h), np.sin(p)], axis=1)
    right = np.stack([np.cos(h), -np.sin(h), np.zeros(count)], axis=1)
    down = np.cross(forward, right)
    return position, right, down, forward


# -- surface sampling --------------------------------------------------------------------------


@dataclass
class _Face:
    """One face of a facility sampled on a (rows, cols) grid of cells (see :class:`FaceMap`)."""

    facility: int  # index into site.facilities
    name: str
    kind: str  # "cylinder" | "sphere" | "disk" | "rect"
    points_m: FloatArray  # (rows, cols, 3) cell centres on the surface [m]
    normals: FloatArray  # (rows, cols, 3) outward unit normals [-]
    area_m2: FloatArray  # (rows, cols) cell areas, 0 outside the face [m2]
    row_edges: FloatArray  # (rows + 1,)
    col_edges: FloatArray  # (cols + 1,)
    centre_m: FloatArray  # (3,) reference point for bearings (axis at the base) [m]
    base_z_m: float  # facility base elevation [m]
    facing_deg: float | None = None  # outward normal bearing of a flat side [deg]

    @property
    def valid(self) -> BoolArray:
        return self.area_m2 > 0.0


def _bearing_unit(bearing_deg: FloatArray) -> FloatArray:
    """Horizontal unit vectors for compass bearings (clockwise from north), shape (..., 3)."""
    b = np.radians(bearing_deg)
    return np.stack([np.sin(b), np.cos(b), np.zeros_like(b)], axis=-1)


def _cells(length_m: float, spacing_m: float) -> int:
    return max(1, math.ceil(length_m / spacing_m - 1e-9))


def _shell_face(index: int, f: Facility, radius: float, spacing: float) -> _Face:
    x, y, base = f.center_m
    n_bearing = max(8, _cells(2.0 * math.pi * radius, spacing))
    n_height = _cells(f.height_m, spacing)
    col_edges = np.linspace(0.0, 360.0, n_bearing + 1)
    row_edges = np.linspace(0.0, f.height_m, n_height + 1)
    radial = _bearing_unit((col_edges[:-1] + col_edges[1:]) / 2.0)  # (C, 3)
    height = (row_edges[:-1] + row_edges[1:]) / 2.0  # (R,)
    centre = np.array([x, y, base])
    points = centre + radius * radial[None, :, :] + height[:, None, None] * np.array([0, 0, 1.0])
    normals = np.broadcast_to(radial, points.shape).copy()
    area = np.full((n_height, n_bearing), 2.0 * math.pi * radius * f.height_m / points[..., 0].size)
    return _Face(
        index, "shell", "cylinder", points, normals, area, row_edges, col_edges, centre, base
    )


def _disk_face(index: int, f: Facility, name: str, radius: float, spacing: float) -> _Face:
    x, y, base = f.center_m
    n = _cells(2.0 * radius, spacing)
    edges = np.linspace(-radius, radius, n + 1)
    mid = (edges[:-1] + edges[1:]) / 2.0
    north, east = np.meshgrid(mid, mid, indexing="ij")  # rows north, cols east
    inside = east**2 + north**2 <= radius**2
    if not inside.any():  # pragma: no cover - the centre cell of an odd grid is always inside
        inside[n // 2, n // 2] = True
    top = base + f.height_m
    points = np.stack([x + east, y + north, np.full_like(east, top)], axis=-1)
    normals = np.broadcast_to(np.array([0.0, 0.0, 1.0]), points.shape).copy()
    # Equal cells inside the disc, scaled so they sum to the exact disc area.
    area = np.where(inside, math.pi * radius**2 / inside.sum(), 0.0)
    centre = np.array([x, y, base])
    return _Face(index, name, "disk", points, normals, area, edges, edges.copy(), centre, base)


def _sphere_face(index: int, f: Facility, radius: float, spacing: float) -> _Face:
    x, y, base = f.center_m
    centre_z = base + f.height_m - radius
    n_bearing = max(8, _cells(2.0 * math.pi * radius, spacing))
    n_height = max(4, _cells(2.0 * radius, spacing))  # equal-area bands, dz = spacing
    col_edges = np.linspace(0.0, 360.0, n_bearing + 1)
    z_edges = np.linspace(centre_z - radius, centre_z + radius, n_height + 1)
    z_mid = (z_edges[:-1] + z_edges[1:]) / 2.0
    ring = np.sqrt(np.clip(radius**2 - (z_mid - centre_z) ** 2, 0.0, None))  # (R,)
    radial = _bearing_unit((col_edges[:-1] + col_edges[1:]) / 2.0)  # (C, 3)
    offsets = ring[:, None, None] * radial[None] + (z_mid - centre_z)[:, None, None] * np.array(
        [0.0, 0.0, 1.0]
    )
    points = np.array([x, y, centre_z]) + offsets
    normals = offsets / radius
    # Archimedes: a band of height dz has area 2 pi r dz, whatever its latitude.
    band_area = 2.0 * math.pi * radius * np.diff(z_edges) / n_bearing  # (R,)
    area = np.broadcast_to(band_area[:, None], (n_height, n_bearing)).copy()
    area[z_mid < base] = 0.0  # below the ground (a partly buried sphere)
    row_edges = z_edges - base
    centre = np.array([x, y, base])
    return _Face(
        index, "sphere", "sphere", points, normals, area, row_edges, col_edges, centre, base
    )


def _compass8(bearing_deg: float) -> str:
    return _COMPASS8[int(((bearing_deg % 360.0) + 22.5) // 45.0) % 8]


def _box_faces(index: int, f: Facility, spacing: float) -> list[_Face]:
    assert f.length_m is not None and f.width_m is not None
    x, y, base = f.center_m
    yaw = math.radians(f.yaw_deg)
    along_length = np.array([math.sin(yaw), math.cos(yaw), 0.0])  # box y: the yaw direction
    across = np.array([math.cos(yaw), -math.sin(yaw), 0.0])  # box x
    up = np.array([0.0, 0.0, 1.0])
    centre = np.array([x, y, base])
    half_length, half_width = f.length_m / 2.0, f.width_m / 2.0
    faces = []
    sides = (  # (outward normal, distance of the face from the centre, face width)
        (along_length, half_length, f.width_m),
        (across, half_width, f.length_m),
        (-along_length, half_length, f.width_m),
        (-across, half_width, f.length_m),
    )
    for normal, offset, face_width in sides:
        right = np.array([-normal[1], normal[0], 0.0])  # viewer looking along -normal
        origin = centre + offset * normal - (face_width / 2.0) * right  # bottom-left corner
        facing = math.degrees(math.atan2(normal[0], normal[1])) % 360.0
        faces.append(
            _rect_face(
                index,
                f"side_{_compass8(facing)}",
                origin,
                right,
                up,
                face_width,
                f.height_m,
                normal,
                spacing,
                centre,
                base,
                facing,
            )
        )
    origin = (
        centre + np.array([0, 0, f.height_m]) - half_width * across - half_length * along_length
    )
    faces.append(
        _rect_face(
            index,
            "top",
            origin,
            across,
            along_length,
            f.width_m,
            f.length_m,
            up,
            spacing,
            centre,
            base,
            None,
        )
    )
    return faces


def _rect_face(
    index: int,
    name: str,
    origin: FloatArray,
    col_axis: FloatArray,
    row_axis: FloatArray,
    width_m: float,
    height_m: float,
    normal: FloatArray,
    spacing: float,
    centre: FloatArray,
    base: float,
    facing_deg: float | None,
) -> _Face:
    n_cols, n_rows = _cells(width_m, spacing), _cells(height_m, spacing)
    col_edges = np.linspace(0.0, width_m, n_cols + 1)
    row_edges = np.linspace(0.0, height_m, n_rows + 1)
    u = (col_edges[:-1] + col_edges[1:]) / 2.0
    v = (row_edges[:-1] + row_edges[1:]) / 2.0
    points = origin + v[:, None, None] * row_axis + u[None, :, None] * col_axis
    normals = np.broadcast_to(normal, points.shape).copy()
    area = np.full((n_rows, n_cols), width_m * height_m / (n_rows * n_cols))
    return _Face(
        index, name, "rect", points, normals, area, row_edges, col_edges, centre, base, facing_deg
    )


def _is_positive(value: object) -> bool:
    """A finite real number > 0 (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    number = float(value)
    return math.isfinite(number) and number > 0


def _check_length(f: Facility, name: str) -> float:
    value = getattr(f, name)
    if not _is_positive(value):
        raise InputError(
            f"a {f.type} needs a finite {name} > 0 m, got {value!r}", f"facility {f.id}.{name}"
        )
    return float(value)


def _facility_area_m2(f: Facility) -> float:
    """Analytic inspectable area (what the faces sample) [m2]."""
    if f.type not in FACILITY_TYPES:
        raise InputError(
            f"must be one of {', '.join(FACILITY_TYPES)}, got {f.type!r}", f"facility {f.id}.type"
        )
    height = _check_length(f, "height_m")
    if f.type in ("pipe_rack", "building"):
        length, width = _check_length(f, "length_m"), _check_length(f, "width_m")
        return 2.0 * (length + width) * height + length * width
    radius = _check_length(f, "diameter_m") / 2.0
    if f.type == "sphere":
        return 4.0 * math.pi * radius**2
    return 2.0 * math.pi * radius * height + math.pi * radius**2


def _facility_faces(index: int, f: Facility, spacing_m: float | None) -> tuple[list[_Face], float]:
    """Sampled faces of a facility and the spacing used [m]."""
    area = _facility_area_m2(f)
    spacing = (
        spacing_m
        if spacing_m is not None
        else max(MIN_SAMPLE_SPACING_M, math.sqrt(area / MAX_POINTS_PER_FACILITY))
    )
    if f.type in ("pipe_rack", "building"):
        return _box_faces(index, f, spacing), spacing
    radius = _check_length(f, "diameter_m") / 2.0
    if f.type == "sphere":
        return [_sphere_face(index, f, radius, spacing)], spacing
    roof = "roof" if f.is_tank else "top"
    return [
        _shell_face(index, f, radius, spacing),
        _disk_face(index, f, roof, radius, spacing),
    ], spacing


# -- occluders ---------------------------------------------------------------------------------


def _fallback_primitives(f: Facility) -> list[Primitive]:
    """The solids of ``plantwatch.drone.site.facility_primitives``, from the facility fields."""
    x, y, base = f.center_m
    if f.type in ("pipe_rack", "building"):
        assert f.length_m is not None and f.width_m is not None
        size = (f.width_m, f.length_m, f.height_m)
        return [Box((x, y, base + f.height_m / 2.0), size, f.yaw_deg)]
    assert f.diameter_m is not None
    radius = f.diameter_m / 2.0
    if f.type == "sphere":
        return [Sphere((x, y, base + f.height_m - radius), radius)]
    return [Cylinder((x, y, base), (x, y, base + f.height_m), radius)]


def _primitives_function() -> Callable[[Facility], list[Primitive]]:
    """``site.facility_primitives`` when the site module provides it, else the fallback."""
    try:
        site_module = importlib.import_module("plantwatch.drone.site")
    except ImportError:  # pragma: no cover - the site module ships with plantwatch
        return _fallback_primitives
    function = getattr(site_module, "facility_primitives", None)
    return function if callable(function) else _fallback_primitives


# -- visibility --------------------------------------------------------------------------------


@dataclass
class _Points:
    """All surface samples of the site, ordered by patch (points of a patch are contiguous)."""

    position: FloatArray  # (N, 3) [m]
    normal: FloatArray  # (N, 3)
    facility: IntArray  # (N,) index into site.facilities
    face: IntArray  # (N,) index into the face list
    row: IntArray  # (N,)
    col: IntArray  # (N,)
    patch_start: IntArray  # (K + 1,) CSR offsets of patches
    patch_centre: FloatArray  # (K, 3)
    patch_radius: FloatArray  # (K,)
    patch_normal: FloatArray  # (K, 3) mean normal (unit)
    patch_spread: FloatArray  # (K,) largest angle between a normal and the mean [rad]


def _no_points() -> _Points:
    none3, none = np.empty((0, 3)), np.empty(0, dtype=np.int64)
    return _Points(
        position=none3,
        normal=none3,
        facility=none,
        face=none,
        row=none,
        col=none,
        patch_start=np.zeros(1, np.int64),
        patch_centre=none3,
        patch_radius=np.empty(0),
        patch_normal=none3,
        patch_spread=np.empty(0),
    )


def _gather_points(faces: Sequence[_Face]) -> _Points:
    """Every valid cell of every face as one point set, grouped into patches."""
    pos, nrm, fac, face_ids, rows, cols, patch = [], [], [], [], [], [], []
    next_patch = 0
    for k, face in enumerate(faces):
        r, c = np.nonzero(face.valid)
        n_tile_cols = -(-face.valid.shape[1] // PATCH_CELLS)
        tile = (r // PATCH_CELLS) * n_tile_cols + c // PATCH_CELLS
        _, tile = np.unique(tile, return_inverse=True)
        pos.append(face.points_m[r, c])
        nrm.append(face.normals[r, c])
        fac.append(np.full(r.size, face.facility))
        face_ids.append(np.full(r.size, k))
        rows.append(r)
        cols.append(c)
        patch.append(tile + next_patch)
        next_patch += int(tile.max()) + 1 if tile.size else 0
    if not pos:
        return _no_points()
    patch_id = np.concatenate(patch)
    order = np.argsort(patch_id, kind="stable")
    position = np.concatenate(pos)[order]
    normal = np.concatenate(nrm)[order]
    counts = np.bincount(patch_id, minlength=next_patch)
    start = np.concatenate([[0], np.cumsum(counts)])
    centre = np.add.reduceat(position, start[:-1], axis=0) / counts[:, None]
    owner = np.repeat(np.arange(next_patch), counts)
    radius = np.maximum.reduceat(np.linalg.norm(position - centre[owner], axis=1), start[:-1])
    mean_normal = np.add.reduceat(normal, start[:-1], axis=0)
    norm = np.linalg.norm(mean_normal, axis=1)
    mean_normal = np.where(
        (norm > 1e-9)[:, None], mean_normal / np.maximum(norm, 1e-12)[:, None], 0.0
    )
    cos_dev = np.einsum("ij,ij->i", normal, mean_normal[owner])
    spread = np.maximum.reduceat(np.arccos(np.clip(cos_dev, -1.0, 1.0)), start[:-1])
    spread = np.where(norm > 1e-9, spread, np.pi)
    return _Points(
        position=position,
        normal=normal,
        facility=np.concatenate(fac)[order],
        face=np.concatenate(face_ids)[order],
        row=np.concatenate(rows)[order],
        col=np.concatenate(cols)[order],
        patch_start=start,
        patch_centre=centre,
        patch_radius=radius,
        patch_normal=mean_normal,
        patch_spread=spread,
    )


def _patch_photo_pairs(
    pts: _Points,
    patches: IntArray,
    tree: cKDTree,
    cam_pos: FloatArray,
    cam_fwd: FloatArray,
    optics: _Optics,
    reach_m: float,
) -> tuple[IntArray, IntArray]:
    """(patch, photo) pairs that may see a point of the patch: within reach, the patch inside
    the frustum's bounding cone, and some normal of the patch facing the camera."""
    if patches.size == 0 or cam_pos.shape[0] == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    centre = pts.patch_centre[patches]
    radius = pts.patch_radius[patches]
    hits = tree.query_ball_point(centre, r=reach_m + radius)
    lengths = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    if lengths.sum() == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    patch = np.repeat(patches, lengths)
    photo = np.fromiter((j for h in hits for j in h), dtype=np.int64, count=int(lengths.sum()))
    to_patch = pts.patch_centre[patch] - cam_pos[photo]
    dist = np.linalg.norm(to_patch, axis=1)
    rad = pts.patch_radius[patch]
    inside = dist <= rad
    slack = np.arcsin(np.clip(rad / np.maximum(dist, 1e-9), 0.0, 1.0))
    half_diagonal = math.atan(math.hypot(optics.tan_half_h, optics.tan_half_v))
    cos_axis = np.einsum("ij,ij->i", to_patch, cam_fwd[photo]) / np.maximum(dist, 1e-9)
    in_cone = np.arccos(np.clip(cos_axis, -1.0, 1.0)) <= half_diagonal + slack
    cos_normal = -np.einsum("ij,ij->i", to_patch, pts.patch_normal[patch]) / np.maximum(dist, 1e-9)
    facing_limit = np.pi / 2.0 + pts.patch_spread[patch] + slack
    facing = np.arccos(np.clip(cos_normal, -1.0, 1.0)) <= facing_limit
    keep = inside | (in_cone & facing)
    return patch[keep], photo[keep]


def _expand_pairs(pts: _Points, patch: IntArray, photo: IntArray) -> tuple[IntArray, IntArray]:
    """(patch, photo) pairs -> (point, photo) pairs for every point of each patch."""
    counts = np.diff(pts.patch_start)[patch]
    total = int(counts.sum())
    first = np.repeat(pts.patch_start[patch] - np.cumsum(counts) + counts, counts)
    point = first + np.arange(total)
    return point, np.repeat(photo, counts)


def _chunks(pts: _Points, patch: IntArray) -> list[slice]:
    """Slices of a (patch, photo) pair list that expand to about PAIR_CHUNK point pairs each."""
    if patch.size == 0:
        return []
    cumulative = np.cumsum(np.diff(pts.patch_start)[patch])
    chunk_of = (cumulative - 1) // PAIR_CHUNK
    edges = [0, *(np.flatnonzero(np.diff(chunk_of)) + 1).tolist(), patch.size]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


@dataclass
class _PairTests:
    depth_m: FloatArray  # along the optical axis [m]
    in_view: BoolArray  # in the frame and facing the camera
    gsd_ok: BoolArray
    incidence_ok: BoolArray
    cos_incidence: FloatArray


def _test_pairs(
    pts: _Points,
    point: IntArray,
    photo: IntArray,
    cams: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    optics: _Optics,
    gsd_model: str,
) -> _PairTests:
    position, right, down, forward = cams
    offset = pts.position[point] - position[photo]  # camera -> point (P, 3)
    z = np.einsum("ij,ij->i", offset, forward[photo])
    x = np.einsum("ij,ij->i", offset, right[photo])
    y = np.einsum("ij,ij->i", offset, down[photo])
    in_frame = (
        (z > 0.0) & (np.abs(x) <= z * optics.tan_half_h) & (np.abs(y) <= z * optics.tan_half_v)
    )
    dist = np.sqrt(x * x + y * y + z * z)
    cos_inc = -np.einsum("ij,ij->i", offset, pts.normal[point]) / np.maximum(dist, 1e-12)
    in_view = in_frame & (cos_inc > _FACING_MIN_COS)  # grazing (edge-on) views do not count
    if gsd_model == "depth":
        gsd_ok = z <= optics.depth_limit_m
    elif gsd_model == "ray":
        gsd_ok = dist <= optics.depth_limit_m
    else:  # "oblique": GSD across the slope = z p / (f cos i)
        gsd_ok = z <= optics.depth_limit_m * cos_inc
    return _PairTests(z, in_view, gsd_ok, cos_inc >= optics.cos_max_incidence, cos_inc)


class _Occluders:
    """Facility primitives with, per surface point, the ones near enough to block its rays."""

    def __init__(self, site: Site, pts: _Points, reach_m: float) -> None:
        make = _primitives_function()
        self.primitives: list[Primitive] = []
        owner: list[int] = []
        for index, f in enumerate(site.facilities):
            parts = make(f)
            self.primitives.extend(parts)
            owner.extend([index] * len(parts))
        self.owner = np.asarray(owner, dtype=np.int64)
        single = np.bincount(self.owner, minlength=len(site.facilities)) == 1
        near_point, near_prim = [], []
        if pts.position.shape[0] and self.primitives:
            tree = cKDTree(pts.position)
            for k, prim in enumerate(self.primitives):
                low, high = prim.bounds()
                centre, radius = (low + high) / 2.0, float(np.linalg.norm(high - low)) / 2.0
                idx = np.asarray(
                    tree.query_ball_point(centre, r=radius + reach_m + NUDGE_M), dtype=np.int64
                )
                # A lone convex solid cannot hide its own surface from a camera it faces.
                idx = idx[~((pts.facility[idx] == self.owner[k]) & single[self.owner[k]])]
                near_point.append(idx)
                near_prim.append(np.full(idx.size, k, dtype=np.int64))
        point = np.concatenate(near_point) if near_point else np.empty(0, np.int64)
        owner_prim = np.concatenate(near_prim) if near_prim else np.empty(0, np.int64)
        order = np.argsort(point, kind="stable")
        self.near_prim = owner_prim[order]
        self.near_start = np.concatenate(
            [[0], np.cumsum(np.bincount(point, minlength=pts.position.shape[0]))]
        )

    def first_hit(self, origins: FloatArray, targets: FloatArray, point: IntArray) -> IntArray:
        """Owner facility of the nearest solid between each origin and target, -1 if none."""
        vec = targets - origins
        dist = np.linalg.norm(vec, axis=1)
        dirs = vec / np.maximum(dist, 1e-12)[:, None]
        counts = self.near_start[point + 1] - self.near_start[point]
        ray = np.repeat(np.arange(point.size), counts)
        offsets = np.arange(ray.size) - np.repeat(np.cumsum(counts) - counts, counts)
        prim = self.near_prim[np.repeat(self.near_start[point], counts) + offsets]
        best_t = np.full(point.size, np.inf)
        best = np.full(point.size, -1, dtype=np.int64)
        if ray.size == 0:
            return best
        order = np.argsort(prim, kind="stable")
        ray, prim = ray[order], prim[order]
        bounds = np.flatnonzero(np.diff(prim)) + 1
        for group in np.split(np.arange(ray.size), bounds):
            k = int(prim[group[0]])
            rays = ray[group]
            t = self.primitives[k].intersect(origins[rays], dirs[rays])
            better = (t < dist[rays] - OCCLUSION_TOLERANCE_M) & (t < best_t[rays])
            best_t[rays[better]] = t[better]
            best[rays[better]] = self.owner[k]
        return best


def _visibility(
    site: Site,
    pts: _Points,
    photos: Sequence[Waypoint],
    optics: _Optics,
    gsd_model: str,
) -> tuple[NDArray[np.int8], IntArray]:
    """Reason code per point (0 = seen) and, for occluded points, the occluding facility.

    A reason other than "not in any photo" needs an unblocked view: first among the photos
    that would see the point (else it is occluded), then among those that frame it finely but
    too obliquely, then among those (up to ``FAR_REACH_FACTOR`` x the reach) that frame it
    squarely but too coarsely.
    """
    n = pts.position.shape[0]
    code = np.full(n, NOT_IN_PHOTO, dtype=np.int8)
    occluder = np.full(n, -1, dtype=np.int64)
    if n == 0 or not photos:
        return code, occluder
    cams = _photo_axes(photos)
    tree = cKDTree(cams[0])
    all_patches = np.arange(pts.patch_centre.shape[0])
    patch, photo = _patch_photo_pairs(
        pts, all_patches, tree, cams[0], cams[3], optics, optics.reach_m
    )
    good = _Candidates()  # in view, fine enough, square enough: seen unless blocked
    oblique = _Candidates()  # in view, fine enough, too oblique
    for chunk in _chunks(pts, patch):
        point, ph = _expand_pairs(pts, patch[chunk], photo[chunk])
        tests = _test_pairs(pts, point, ph, cams, optics, gsd_model)
        fine = tests.in_view & tests.gsd_ok
        good.add(point, ph, tests.cos_incidence, fine & tests.incidence_ok)
        oblique.add(point, ph, tests.cos_incidence, fine & ~tests.incidence_ok)
    near = _Occluders(site, pts, optics.reach_m)
    seen = np.zeros(n, dtype=bool)
    has_view = good.points(n)
    _occlusion_rounds(near, pts, cams[0], good, seen, occluder)
    code[seen] = SEEN
    code[~seen & has_view] = OCCLUDED
    open_ = ~seen & ~has_view
    visible = np.zeros(n, dtype=bool)
    _occlusion_rounds(near, pts, cams[0], oblique.only(open_), visible, None)
    code[open_ & visible] = TOO_OBLIQUE
    # Points no photo shows finely: does a photo show them squarely from too far?
    open_ &= ~visible
    if open_.any():
        owner = np.repeat(all_patches, np.diff(pts.patch_start))
        patches = np.unique(owner[open_])
        far = FAR_REACH_FACTOR * optics.reach_m
        patch, photo = _patch_photo_pairs(pts, patches, tree, cams[0], cams[3], optics, far)
        coarse = _Candidates()
        for chunk in _chunks(pts, patch):
            point, ph = _expand_pairs(pts, patch[chunk], photo[chunk])
            keep = open_[point]
            point, ph = point[keep], ph[keep]
            tests = _test_pairs(pts, point, ph, cams, optics, gsd_model)
            square = tests.in_view & tests.incidence_ok & ~tests.gsd_ok
            coarse.add(point, ph, -tests.depth_m, square)  # nearest first
        if coarse.size:
            visible[:] = False
            _occlusion_rounds(_Occluders(site, pts, far), pts, cams[0], coarse, visible, None)
            code[open_ & visible] = GSD_TOO_COARSE
    return code, occluder


class _Candidates:
    """(point, photo, score) triples gathered batch by batch."""

    def __init__(self) -> None:
        self._parts: list[tuple[IntArray, IntArray, FloatArray]] = []

    def add(self, point: IntArray, photo: IntArray, score: FloatArray, mask: BoolArray) -> None:
        if mask.any():
            self._parts.append((point[mask], photo[mask], score[mask]))

    @property
    def size(self) -> int:
        return sum(part[0].size for part in self._parts)

    def arrays(self) -> tuple[IntArray, IntArray, FloatArray]:
        if not self._parts:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        point, photo, score = zip(*self._parts, strict=True)
        return np.concatenate(point), np.concatenate(photo), np.concatenate(score)

    def points(self, n: int) -> BoolArray:
        """Which of ``n`` points have a candidate."""
        has = np.zeros(n, dtype=bool)
        for point, _, _ in self._parts:
            has[point] = True
        return has

    def only(self, keep: BoolArray) -> _Candidates:
        """The candidates of the points where ``keep`` is true."""
        subset = _Candidates()
        for point, photo, score in self._parts:
            subset.add(point, photo, score, keep[point])
        return subset


def _occlusion_rounds(
    occluders: _Occluders,
    pts: _Points,
    cam_pos: FloatArray,
    candidates: _Candidates,
    seen: BoolArray,
    occluder: IntArray | None,
) -> None:
    """Test each point's candidate photos for occlusion, best score first, until one is clear.

    Sets ``seen`` for points with a clear view and, when given, ``occluder`` (the facility
    blocking the best view) for the others.
    """
    point, photo, score = candidates.arrays()
    if point.size == 0:
        return
    order = np.lexsort((-score, point))
    point, photo = point[order], photo[order]
    index = np.arange(point.size)
    first = np.concatenate([[True], point[1:] != point[:-1]])
    rank = index - np.maximum.accumulate(np.where(first, index, 0))
    by_rank = np.argsort(rank, kind="stable")
    rank_bounds = np.searchsorted(rank[by_rank], np.arange(int(rank.max()) + 2))
    for k in range(int(rank.max()) + 1):
        pairs = by_rank[rank_bounds[k] : rank_bounds[k + 1]]
        pairs = pairs[~seen[point[pairs]]]
        if pairs.size == 0:
            continue
        p = point[pairs]
        origins = pts.position[p] + NUDGE_M * pts.normal[p]
        blocker = occluders.first_hit(origins, cam_pos[photo[pairs]], p)
        seen[p[blocker < 0]] = True
        if occluder is not None:
            new = (blocker >= 0) & (occluder[p] < 0)
            occluder[p[new]] = blocker[new]


# -- blind-spot regions ------------------------------------------------------------------------


def _covering_arc(bearing_deg: FloatArray, pad_deg: float) -> list[float]:
    """Smallest clockwise arc [from, to] [deg] holding all bearings, widened by ``pad_deg``."""
    b = np.sort(np.unique(np.round(bearing_deg % 360.0, 6)))
    if b.size == 0:
        return [0.0, 0.0]
    gaps = np.diff(np.concatenate([b, [b[0] + 360.0]]))
    largest = int(np.argmax(gaps))
    if gaps[largest] <= 2.0 * pad_deg + 1e-6:
        return [0.0, 360.0]
    start = b[(largest + 1) % b.size] - pad_deg
    end = b[largest] + pad_deg
    return [round(float(start % 360.0), 1), round(float(end % 360.0), 1)]


def _label_regions(unseen: BoolArray, wrap_cols: bool) -> tuple[IntArray, int]:
    """4-connected labels of unseen cells (1..n), joined across the bearing seam if wrapping."""
    if not unseen.any():  # most faces: scipy.ndimage (~0.2-0.4 s to import) is not needed
        return np.zeros(unseen.shape, dtype=np.int64), 0
    from scipy import ndimage

    labels, count = ndimage.label(unseen)
    if not wrap_cols or count == 0 or unseen.shape[1] < 2:
        return labels.astype(np.int64), int(count)
    parent = np.arange(count + 1)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = int(parent[a])
        return a

    for left, right in zip(labels[:, 0], labels[:, -1], strict=True):
        if left and right:
            root_left, root_right = find(int(left)), find(int(right))
            if root_left != root_right:
                parent[max(root_left, root_right)] = min(root_left, root_right)
    roots = np.array([find(a) for a in range(count + 1)])
    _, compact = np.unique(roots, return_inverse=True)  # 0 stays 0 (the background)
    return compact[labels].astype(np.int64), int(compact.max())


def _reason_code(reason: str) -> int:
    return next((c for c, text in REASONS.items() if c and reason.startswith(text)), OCCLUDED)


def _reason_text(code: int, occluder_id: str | None) -> str:
    if code == OCCLUDED:
        return f"occluded by {occluder_id}" if occluder_id else "occluded"
    return REASONS[code]


def _describe_region(
    face: _Face,
    rows: IntArray,
    cols: IntArray,
    codes: NDArray[np.int8],
    occluders: IntArray,
    facility_ids: Sequence[str],
) -> dict[str, Any]:
    area = face.area_m2[rows, cols]
    total = float(area.sum())
    by_reason = np.bincount(codes.astype(np.int64), weights=area, minlength=len(REASONS))
    dominant = int(np.argmax(by_reason))
    occluder_id = None
    if by_reason[OCCLUDED] > 0:
        occ = occluders[codes == OCCLUDED]
        occ_area = area[codes == OCCLUDED]
        valid = occ >= 0
        if valid.any():
            counts = np.bincount(occ[valid], weights=occ_area[valid])
            occluder_id = facility_ids[int(np.argmax(counts))]
    reasons: dict[str, float] = {}
    for code in np.flatnonzero(by_reason):
        text = _reason_text(int(code), occluder_id)
        reasons[text] = round(float(by_reason[code]), 2)
    points = face.points_m[rows, cols]
    offset = points - face.centre_m
    bearings = np.degrees(np.arctan2(offset[:, 0], offset[:, 1]))
    row_lo, row_hi = float(face.row_edges[rows.min()]), float(face.row_edges[rows.max() + 1])
    spot: dict[str, Any] = {"face": face.name}
    if face.kind in ("cylinder", "sphere"):
        width = 360.0 / (face.col_edges.size - 1)
        centres = (face.col_edges[cols] + face.col_edges[cols + 1]) / 2.0
        spot["bearing_deg"] = _covering_arc(centres, width / 2.0)
        spot["height_m"] = [round(row_lo, 2), round(row_hi, 2)]
    else:
        top = float(points[0, 2] - face.base_z_m)
        radius = np.hypot(offset[:, 0], offset[:, 1])
        cell = float(face.col_edges[1] - face.col_edges[0])
        if face.kind == "disk":
            outer = float(face.col_edges[-1])
            near_centre = radius.min() <= cell
            pad = math.degrees(math.atan2(cell / 2.0, max(radius.min(), 1e-9)))
            spot["bearing_deg"] = [0.0, 360.0] if near_centre else _covering_arc(bearings, pad)
            spot["height_m"] = [round(top, 2), round(top, 2)]
            spot["radius_m"] = [
                round(max(0.0, float(radius.min()) - cell / 2.0), 2),
                round(min(outer, float(radius.max()) + cell / 2.0), 2),
            ]
        else:
            pad = math.degrees(math.atan2(cell / 2.0, max(radius.min(), 1e-9)))
            spot["bearing_deg"] = _covering_arc(bearings, pad)
            if face.facing_deg is not None:  # a side: height band and run along the face
                spot["height_m"] = [round(row_lo, 2), round(row_hi, 2)]
                spot["facing_deg"] = round(face.facing_deg, 1)
                spot["along_m"] = [
                    round(float(face.col_edges[cols.min()]), 2),
                    round(float(face.col_edges[cols.max() + 1]), 2),
                ]
            else:  # a box top
                spot["height_m"] = [round(top, 2), round(top, 2)]
    spot["area_m2"] = round(total, 2)
    spot["reason"] = _reason_text(dominant, occluder_id)
    spot["reasons"] = reasons
    centroid = (points * area[:, None]).sum(axis=0) / max(total, 1e-12)
    spot["centroid_m"] = [round(float(v), 2) for v in centroid]
    return spot


def _face_label(spot: dict[str, Any]) -> tuple[str, str]:
    """English and Japanese description of where a blind spot is."""
    face = str(spot["face"])
    a, b = spot["bearing_deg"]
    lo, hi = spot["height_m"]
    all_round = (a, b) == (0.0, 360.0)
    bearings_en = "all round" if all_round else f"at bearings {a:g}-{b:g} deg"
    bearings_ja = "全周" if all_round else f"方位 {a:g}–{b:g}°"
    if face.startswith("side_"):
        run_a, run_b = spot["along_m"]
        en = (
            f"the {face[5:]}-facing side, {run_a:g}-{run_b:g} m along from its left end, "
            f"{lo:g}-{hi:g} m above the base"
        )
        ja = f"{face[5:]}向きの側面（左端から {run_a:g}–{run_b:g} m、高さ {lo:g}–{hi:g} m）"
        return en, ja
    if "radius_m" in spot:  # a roof or top disc
        r0, r1 = spot["radius_m"]
        if all_round and r0 == 0.0:
            return f"the whole {face} (out to {r1:g} m)", f"{_FACE_JA[face]}全面"
        en = f"the {face} {r0:g}-{r1:g} m from the centre, {bearings_en}"
        ja = f"{_FACE_JA[face]}（中心から {r0:g}–{r1:g} m、{bearings_ja}）"
        return en, ja
    if face == "top":
        if all_round:
            return "the top", "頂部"
        return f"the top, {bearings_en} from the centre", f"頂部（{bearings_ja}）"
    en = f"the {face} {bearings_en}, {lo:g}-{hi:g} m above the base"
    ja = f"{_FACE_JA.get(face, face)}（{bearings_ja}、高さ {lo:g}–{hi:g} m）"
    return en, ja


def _conventional_item(f: Facility, spot: dict[str, Any]) -> dict[str, Any]:
    where_en, where_ja = _face_label(spot)
    reason = str(spot["reason"])
    code = _reason_code(reason)
    reason_ja = _REASONS_JA[code]
    if code == OCCLUDED and reason.startswith("occluded by "):
        reason_ja = f"{reason.removeprefix('occluded by ')}による{reason_ja}"
    return {
        "facility_id": f.id,
        "name": f.name,
        "facility_type": f.type,
        "face": spot["face"],
        "bearing_deg": spot["bearing_deg"],
        "height_m": spot["height_m"],
        "area_m2": spot["area_m2"],
        "reason": reason,
        "action": (
            f"{f.name} ({f.id}): inspect {where_en} by conventional visual inspection; "
            f"a blind spot of the drone photos ({reason}), {spot['area_m2']:g} m2."
        ),
        "action_ja": (
            f"{f.name}（{f.id}）の{where_ja}はドローン画像の死角（{reason_ja}"
            f"、{spot['area_m2']:g} m²）のため、従来の目視検査を実施すること。"
        ),
        "citation": CONVENTIONAL_CITATION,
    }


# -- public API --------------------------------------------------------------------------------


def compute_coverage(
    site: Site,
    plan: Plan,
    sample_spacing_m: float | None = None,
    *,
    gsd_tolerance: float = GSD_TOLERANCE,
    gsd_model: str = "depth",
    min_blind_spot_m2: float = BLIND_SPOT_MIN_AREA_M2,
) -> DetailedCoverageReport:
    r"""Ray-cast what a plan's photos see of each facility at the target GSD.

    Parameters
    ----------
    site
        The site; every facility is an occluder, and the facilities in
        ``plan.options.facility_ids`` (all when ``None``) are reported.
    plan
        The plan; every waypoint with ``action == "photo"`` is a photo taken with
        ``plan.camera`` at the waypoint's position, heading and gimbal pitch. The target GSD
        [mm/px] and incidence limit [deg] come from ``plan.options``.
    sample_spacing_m
        Surface grid cell size [m]; ``None`` adapts it per facility to
        ``max(0.5, sqrt(area / 3000))`` (about 3,000 samples per facility at most).
    gsd_tolerance
        A point counts at up to ``(1 + gsd_tolerance)`` x the target GSD [-].
    gsd_model
        How a point's GSD is measured: one of :data:`GSD_MODELS` (see the module notes).
    min_blind_spot_m2
        Blind spots from this area on are listed for conventional inspection [m2].

    Returns
    -------
    DetailedCoverageReport
        Per facility (:class:`DetailedFacilityCoverage`): coverage [%] of the inspectable
        area, per-face figures, blind spots (largest first) and face maps; site totals; the
        conventional-inspection list (MHLW-2022 §5.5).

    Raises
    ------
    InputError
        Bad spacing, tolerance, model name or threshold; a bad camera, target GSD or incidence
        limit; an unknown id in ``plan.options.facility_ids``; a facility of unknown type or
        without its dimensions; a photo waypoint with a non-finite pose or a gimbal pitch
        outside [-90, 90] deg.

    Notes
    -----
    Spacing the photos by the footprint is not enough on a curved shell: with the default
    tolerance a photo aimed at a tank's axis from the standoff :math:`d` sees the shell at the
    target GSD only within :math:`\pm\arccos((R + d - 1.05 d) / R)` of its bearing (about
    +-15 deg for R = 10 m, d = 7.3 m), which this check — unlike a footprint rule — enforces.
    """
    if sample_spacing_m is not None and not _is_positive(sample_spacing_m):
        raise InputError(
            f"must be a finite length > 0 m or None, got {sample_spacing_m!r}", "sample_spacing_m"
        )
    if gsd_model not in GSD_MODELS:
        raise InputError(f"must be one of {', '.join(GSD_MODELS)}, got {gsd_model!r}", "gsd_model")
    if not (_is_positive(min_blind_spot_m2) or min_blind_spot_m2 == 0):
        raise InputError(
            f"must be a finite area >= 0 m2, got {min_blind_spot_m2!r}", "min_blind_spot_m2"
        )
    options = plan.options
    optics = _optics(plan.camera, options.gsd_mm, gsd_tolerance, options.max_incidence_deg)
    wanted = None if options.facility_ids is None else set(options.facility_ids)
    unknown = sorted((wanted or set()) - {f.id for f in site.facilities})
    if unknown:
        raise InputError(
            f"unknown facility id(s) {', '.join(unknown)}; the site has "
            f"{', '.join(f.id for f in site.facilities) or 'none'}",
            "options.facility_ids",
        )
    targets = [(k, f) for k, f in enumerate(site.facilities) if wanted is None or f.id in wanted]
    faces: list[_Face] = []
    spacing_of: dict[int, float] = {}
    for k, f in targets:
        face_list, spacing_of[k] = _facility_faces(k, f, sample_spacing_m)
        faces.extend(face_list)
    for k, f in enumerate(site.facilities):  # occluders need valid dimensions too
        if k not in spacing_of:
            _facility_area_m2(f)
    pts = _gather_points(faces)
    photos = [w for w in plan.waypoints if w.action == "photo"]
    code, occluder = _visibility(site, pts, photos, optics, gsd_model)
    facility_ids = [f.id for f in site.facilities]

    # Back onto the face grids.
    face_codes = []
    face_occluders = []
    for k, face in enumerate(faces):
        grid = np.full(face.area_m2.shape, OUTSIDE_FACE, dtype=np.int8)
        occ = np.full(face.area_m2.shape, -1, dtype=np.int64)
        mine = pts.face == k
        grid[pts.row[mine], pts.col[mine]] = code[mine]
        occ[pts.row[mine], pts.col[mine]] = occluder[mine]
        face_codes.append(grid)
        face_occluders.append(occ)

    results: list[DetailedFacilityCoverage] = []
    conventional: list[dict[str, Any]] = []
    for k, f in targets:
        spots: list[dict[str, Any]] = []
        face_rows: list[dict[str, Any]] = []
        maps: list[FaceMap] = []
        area_total = seen_total = 0.0
        points = 0
        for face, grid, occ in zip(faces, face_codes, face_occluders, strict=True):
            if face.facility != k:
                continue
            valid = grid != OUTSIDE_FACE
            area = float(face.area_m2[valid].sum())
            seen = float(face.area_m2[grid == SEEN].sum())
            area_total += area
            seen_total += seen
            points += int(valid.sum())
            face_rows.append(
                {
                    "face": face.name,
                    "area_m2": round(area, 2),
                    "seen_area_m2": round(seen, 2),
                    "coverage_pct": round(100.0 * seen / area, 2) if area else 0.0,
                }
            )
            maps.append(
                FaceMap(face.name, face.kind, grid, face.row_edges, face.col_edges, face.area_m2)
            )
            labels, count = _label_regions(
                valid & (grid != SEEN), face.kind in ("cylinder", "sphere")
            )
            for label in range(1, count + 1):
                rows, cols = np.nonzero(labels == label)
                spots.append(
                    _describe_region(
                        face, rows, cols, grid[rows, cols], occ[rows, cols], facility_ids
                    )
                )
        spots.sort(key=lambda s: -float(s["area_m2"]))
        conventional.extend(
            _conventional_item(f, s) for s in spots if float(s["area_m2"]) >= min_blind_spot_m2
        )
        results.append(
            DetailedFacilityCoverage(
                facility_id=f.id,
                facility_type=f.type,
                coverage_pct=100.0 * seen_total / area_total if area_total else 0.0,
                blind_spots=tuple(spots),
                area_m2=area_total,
                seen_area_m2=seen_total,
                name=f.name,
                faces=tuple(face_rows),
                sample_spacing_m=spacing_of[k],
                point_count=points,
                face_maps=tuple(maps),
            )
        )
    total = sum(r.area_m2 for r in results)
    seen_sum = sum(r.seen_area_m2 for r in results)
    settings = {
        "gsd_mm": options.gsd_mm,
        "gsd_tolerance": gsd_tolerance,
        "gsd_model": gsd_model,
        "max_incidence_deg": options.max_incidence_deg,
        "gsd_depth_limit_m": round(optics.depth_limit_m, 3),
        "sample_spacing_m": sample_spacing_m,
        "min_blind_spot_m2": min_blind_spot_m2,
        "camera": plan.camera.name,
    }
    return DetailedCoverageReport(
        facilities=tuple(results),
        total_area_m2=total,
        seen_area_m2=seen_sum,
        conventional_inspection=tuple(conventional),
        site_name=site.name,
        photo_count=len(photos),
        settings=settings,
    )


def coverage_to_json(report: CoverageReport) -> dict[str, Any]:
    """The coverage report as a JSON-ready dict (``coverage.json``).

    Parameters
    ----------
    report
        From :func:`compute_coverage` (a plain :class:`CoverageReport` works too; names, faces
        and settings are then empty).

    Returns
    -------
    dict
        ``site`` (``name``), ``totals`` (site-wide ``coverage_pct`` [%], ``total_area_m2``,
        ``seen_area_m2`` [m2], ``photo_count``, ``facility_count``, ``blind_spot_count``,
        ``conventional_inspection_count``), ``settings``, ``facilities`` (one row per facility:
        ``facility_id``, ``name``, ``facility_type``, ``coverage_pct``, ``area_m2``,
        ``seen_area_m2``, ``faces``, ``blind_spots``) and ``conventional_inspection``.
    """
    rows = []
    for fc in report.facilities:
        rows.append(
            {
                "facility_id": fc.facility_id,
                "name": getattr(fc, "name", "") or fc.facility_id,
                "facility_type": fc.facility_type,
                "coverage_pct": round(fc.coverage_pct, 2),
                "area_m2": round(fc.area_m2, 2),
                "seen_area_m2": round(fc.seen_area_m2, 2),
                "faces": list(getattr(fc, "faces", ())),
                "blind_spots": list(fc.blind_spots),
            }
        )
    return jsonable(
        {
            "site": {"name": getattr(report, "site_name", "")},
            "totals": {
                "coverage_pct": round(report.coverage_pct, 2),
                "total_area_m2": round(report.total_area_m2, 2),
                "seen_area_m2": round(report.seen_area_m2, 2),
                "photo_count": getattr(report, "photo_count", None),
                "facility_count": len(report.facilities),
                "blind_spot_count": sum(len(fc.blind_spots) for fc in report.facilities),
                "conventional_inspection_count": len(report.conventional_inspection),
            },
            "settings": dict(getattr(report, "settings", {})),
            "facilities": rows,
            "conventional_inspection": list(report.conventional_inspection),
        }
    )


# -- coverage map ------------------------------------------------------------------------------

_BGR = tuple[int, int, int]
# Coverage classes for footprints: (lowest coverage [%], BGR colour, legend label).
_CLASSES: tuple[tuple[float, _BGR, str], ...] = (
    (98.0, (70, 170, 50), ">= 98 %"),
    (95.0, (80, 215, 190), "95-98 %"),
    (80.0, (0, 165, 255), "80-95 %"),
    (1.0, (50, 50, 215), "1-80 %"),
    (0.0, (40, 20, 120), "< 1 % (not photographed)"),
)
_UNREPORTED_BGR: _BGR = (205, 205, 205)
_REASON_BGR: dict[int, _BGR] = {
    SEEN: (90, 185, 70),
    NOT_IN_PHOTO: (50, 50, 215),
    GSD_TOO_COARSE: (0, 215, 250),
    TOO_OBLIQUE: (0, 140, 255),
    OCCLUDED: (170, 60, 140),
}
_ZONE_BGR: dict[str, _BGR] = {
    "zone0": (30, 0, 150),
    "zone1": (40, 40, 220),
    "zone2": (0, 150, 255),
    "fire_restricted": (180, 0, 200),
    "no_fly": (120, 40, 110),
    "people": (200, 120, 0),
    "road": (120, 120, 120),
    "boundary": (0, 0, 0),
}
_PATH_BGR: tuple[_BGR, ...] = ((170, 110, 20), (40, 120, 40), (150, 40, 150), (20, 90, 170))
_PHOTO_BGR: _BGR = (110, 40, 0)
_FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX
_MAP_PX = 1100  # side of the top-view panel [px]
_SIDE_PX = 720  # width of the legend and strip panel [px]
_STRIPS = 4  # unwrapped shells of the worst facilities


def _class_colour(coverage_pct: float) -> _BGR:
    for lowest, colour, _ in _CLASSES:
        if coverage_pct >= lowest:
            return colour
    return _CLASSES[-1][1]


def _ascii(text: str) -> str:
    """OpenCV's Hershey fonts draw ASCII only."""
    return text.encode("ascii", "ignore").decode().strip()


def _pct_label(coverage_pct: float) -> str:
    return f"{coverage_pct:.1f}%" if 90.0 <= coverage_pct < 99.95 else f"{coverage_pct:.0f}%"


def _text(
    cv2: Any,
    img: NDArray[np.uint8],
    text: str,
    org: tuple[int, int],
    scale: float = 0.5,
    color: _BGR = (30, 30, 30),
    thickness: int = 1,
    halo: bool = False,
) -> None:
    if halo:
        cv2.putText(img, text, org, _FONT, scale, (255, 255, 255), thickness + 2, cv2.LINE_AA)
    cv2.putText(img, text, org, _FONT, scale, color, thickness, cv2.LINE_AA)


def _box_axes(f: Facility) -> tuple[FloatArray, FloatArray]:
    """Half-length (along yaw) and half-width vectors of a box footprint in (x, y) [m]."""
    yaw = math.radians(f.yaw_deg)
    along = np.array([math.sin(yaw), math.cos(yaw)]) * (f.length_m or 1.0) / 2.0
    across = np.array([math.cos(yaw), -math.sin(yaw)]) * (f.width_m or 1.0) / 2.0
    return along, across


def _footprint_m(f: Facility) -> FloatArray:
    """Footprint outline (x, y) [m], (K, 2)."""
    x, y, _ = f.center_m
    if f.type in ("pipe_rack", "building"):
        along, across = _box_axes(f)
        corners = [along + across, along - across, -along - across, -along + across]
        return np.array([x, y]) + np.array(corners)
    radius = (f.diameter_m or 1.0) / 2.0
    angle = np.linspace(0.0, 2.0 * np.pi, 96, endpoint=False)
    return np.stack([x + radius * np.sin(angle), y + radius * np.cos(angle)], axis=1)


def _nice_length(target_m: float) -> float:
    exponent = math.floor(math.log10(max(target_m, 1e-6)))
    for step in (1.0, 2.0, 5.0):
        if step * 10**exponent >= target_m:
            return step * 10**exponent
    return 10.0 ** (exponent + 1)


class _MapFrame:
    """ENU (x, y) [m] -> top-view pixels, north up, fitted to the panel."""

    def __init__(self, xy_m: FloatArray, size_px: int, margin_px: int = 40) -> None:
        low, high = xy_m.min(axis=0), xy_m.max(axis=0)
        span = np.maximum(high - low, 10.0)
        self.low, self.high = low - 0.06 * span, high + 0.06 * span
        usable = size_px - 2 * margin_px
        self.scale = usable / float(max(self.high - self.low))  # [px/m]
        self.offset = margin_px + (usable - self.scale * (self.high - self.low)) / 2.0
        self.size = size_px

    def __call__(self, points_m: FloatArray) -> NDArray[np.int32]:
        p = np.asarray(points_m, dtype=float).reshape(-1, 2)
        u = self.offset[0] + (p[:, 0] - self.low[0]) * self.scale
        v = self.size - (self.offset[1] + (p[:, 1] - self.low[1]) * self.scale)
        return np.round(np.stack([u, v], axis=1)).astype(np.int32)


def _draw_blind_spot_marks(
    cv2: Any, img: NDArray[np.uint8], frame: _MapFrame, f: Facility, spots: Sequence[dict[str, Any]]
) -> None:
    """Mark listed blind spots on the footprint: an arc outside a shell, a bar along a side."""
    x, y, _ = f.center_m
    centre = tuple(int(v) for v in frame(np.array([x, y]))[0])
    for spot in spots:
        colour = _REASON_BGR[_reason_code(str(spot["reason"]))]
        face = str(spot["face"])
        if face in ("shell", "sphere") and f.diameter_m:
            a, b = (float(v) for v in spot["bearing_deg"])
            if b <= a:
                b += 360.0
            radius = round(f.diameter_m / 2.0 * frame.scale) + 4
            # Bearing b (clockwise from north) is OpenCV's angle b - 90 (clockwise from +u).
            cv2.ellipse(
                img, centre, (radius, radius), 0.0, a - 90.0, b - 90.0, colour, 4, cv2.LINE_AA
            )
        elif face.startswith("side_") and "facing_deg" in spot:
            facing = math.radians(float(spot["facing_deg"]))
            normal = np.array([math.sin(facing), math.cos(facing)])
            right = np.array([-normal[1], normal[0]])
            along, across = _box_axes(f)
            half_depth = float(abs(normal @ along) + abs(normal @ across))
            half_width = float(abs(right @ along) + abs(right @ across))
            out = np.array([x, y]) + normal * (half_depth + 3.0 / frame.scale)
            a, b = (float(v) for v in spot["along_m"])
            ends = [out + right * (a - half_width), out + right * (b - half_width)]
            p0, p1 = frame(np.array(ends))
            cv2.line(
                img, tuple(int(v) for v in p0), tuple(int(v) for v in p1), colour, 4, cv2.LINE_AA
            )


def _draw_top_view(
    cv2: Any, site: Site, plan: Plan, report: CoverageReport, img: NDArray[np.uint8]
) -> None:
    by_id = {fc.facility_id: fc for fc in report.facilities}
    outlines = [_footprint_m(f) for f in site.facilities]
    xy = list(outlines)
    xy.extend(
        np.asarray(z.polygon_m, dtype=float).reshape(-1, 2) for z in site.zones if z.polygon_m
    )
    waypoints = plan.waypoints
    if waypoints:
        xy.append(np.array([[w.x_m, w.y_m] for w in waypoints]))
    if site.takeoff_points_m:
        xy.append(np.asarray(site.takeoff_points_m, dtype=float).reshape(-1, 2))
    frame = _MapFrame(np.concatenate(xy) if xy else np.zeros((1, 2)), _MAP_PX)

    overlay = img.copy()
    polygons = [
        (zone, frame(np.asarray(zone.polygon_m, dtype=float)))
        for zone in site.zones
        if len(zone.polygon_m) >= 3
    ]
    for zone, poly in polygons:
        if zone.kind != "boundary":
            cv2.fillPoly(overlay, [poly], _ZONE_BGR.get(zone.kind, (100, 100, 100)), cv2.LINE_AA)
    cv2.addWeighted(overlay, 0.16, img, 0.84, 0.0, dst=img)
    for zone, poly in polygons:
        thickness = 2 if zone.kind in ("boundary", "zone0", "zone1") else 1
        colour = _ZONE_BGR.get(zone.kind, (100, 100, 100))
        cv2.polylines(img, [poly], True, colour, thickness, cv2.LINE_AA)
    for f, outline in zip(site.facilities, outlines, strict=True):
        fc = by_id.get(f.id)
        fill = _class_colour(fc.coverage_pct) if fc is not None else _UNREPORTED_BGR
        poly = frame(outline)
        cv2.fillPoly(img, [poly], fill, cv2.LINE_AA)
        cv2.polylines(img, [poly], True, (40, 40, 40), 1, cv2.LINE_AA)
    for k, sortie in enumerate(plan.sorties):
        if len(sortie.waypoints) >= 2:
            path = frame(np.array([[w.x_m, w.y_m] for w in sortie.waypoints]))
            cv2.polylines(img, [path], False, _PATH_BGR[k % len(_PATH_BGR)], 1, cv2.LINE_AA)
    photos = [w for w in waypoints if w.action == "photo"]
    if photos:
        for u, v in frame(np.array([[w.x_m, w.y_m] for w in photos])):
            cv2.circle(img, (int(u), int(v)), 1, _PHOTO_BGR, -1)
    for f in site.facilities:
        fc = by_id.get(f.id)
        if fc is not None:
            listed = [s for s in fc.blind_spots if float(s["area_m2"]) >= BLIND_SPOT_MIN_AREA_M2]
            _draw_blind_spot_marks(cv2, img, frame, f, listed)
    if site.takeoff_points_m:
        for u, v in frame(np.asarray(site.takeoff_points_m, dtype=float)):
            tri = np.array([[u, v - 9], [u - 8, v + 6], [u + 8, v + 6]], dtype=np.int32)
            cv2.fillPoly(img, [tri], (20, 20, 20), cv2.LINE_AA)
            _text(cv2, img, "H", (int(u) + 10, int(v) + 5), 0.45, halo=True)
    for f, outline in zip(site.facilities, outlines, strict=True):
        fc = by_id.get(f.id)
        poly = frame(outline)
        lines = [_ascii(f.id)] + ([_pct_label(fc.coverage_pct)] if fc is not None else [])
        # Two lines (id, coverage) scaled to the footprint, readable down to small tanks.
        fit = float(np.ptp(poly[:, 0])) * 1.3
        widest = max(cv2.getTextSize(line, _FONT, 1.0, 1)[0][0] for line in lines)
        scale = float(np.clip(fit / max(widest, 1), 0.32, 0.5))
        line_h = round(26 * scale)
        u, v = poly.mean(axis=0)
        top = v - line_h * (len(lines) - 1) / 2.0
        for k, line in enumerate(lines):
            (width, height), _ = cv2.getTextSize(line, _FONT, scale, 1)
            org = (int(u - width / 2), int(top + k * line_h + height / 2))
            _text(cv2, img, line, org, scale, halo=True)
    bar_m = _nice_length(0.2 * float(max(frame.high - frame.low)))
    x0, y0 = 40, _MAP_PX - 20
    cv2.line(img, (x0, y0), (x0 + round(bar_m * frame.scale), y0), (20, 20, 20), 3)
    _text(cv2, img, f"{bar_m:g} m", (x0, y0 - 8), 0.5, halo=True)
    tip, tail = (_MAP_PX - 40, 30), (_MAP_PX - 40, 80)
    cv2.arrowedLine(img, tail, tip, (20, 20, 20), 2, cv2.LINE_AA, 0, 0.3)
    _text(cv2, img, "N", (_MAP_PX - 47, 100), 0.6, thickness=2)
    cv2.rectangle(img, (0, 0), (_MAP_PX - 1, _MAP_PX - 1), (90, 90, 90), 1)


def _face_pct(face: FaceMap) -> float:
    area = float(face.cell_area_m2.sum())
    return 100.0 * float(face.cell_area_m2[face.reason_code == SEEN].sum()) / max(area, 1e-12)


def _draw_strip(
    cv2: Any,
    img: NDArray[np.uint8],
    fc: FacilityCoverage,
    face: FaceMap,
    x: int,
    y: int,
    width: int,
) -> int:
    """An unwrapped face (bearing x height) at (x, y); returns the height used [px]."""
    name = _ascii(getattr(fc, "name", ""))
    title = f"{_ascii(fc.facility_id)} {name} - {face.face}: {_face_pct(face):.1f}% seen"
    _text(cv2, img, title, (x, y + 14), 0.5)
    height_m = float(face.row_edges[-1] - face.row_edges[0])
    strip_h = int(min(150, max(60, width * height_m / 360.0 * 4.0)))
    top = y + 24
    colours = np.full((*face.reason_code.shape, 3), 255, dtype=np.uint8)
    for code, colour in _REASON_BGR.items():
        colours[face.reason_code == code] = colour
    strip = cv2.resize(colours[::-1], (width, strip_h), interpolation=cv2.INTER_NEAREST)
    img[top : top + strip_h, x : x + width] = strip
    cv2.rectangle(img, (x, top), (x + width, top + strip_h), (60, 60, 60), 1)
    for bearing, label in ((0, "N"), (90, "E"), (180, "S"), (270, "W"), (360, "N")):
        u = x + round(bearing / 360.0 * width)
        cv2.line(img, (u, top + strip_h), (u, top + strip_h + 5), (60, 60, 60), 1)
        _text(cv2, img, f"{label} {bearing}", (u - 14, top + strip_h + 18), 0.38)
    _text(cv2, img, f"{face.row_edges[-1]:.0f} m", (x + width + 4, top + 10), 0.38)
    _text(cv2, img, f"{face.row_edges[0]:.0f} m", (x + width + 4, top + strip_h), 0.38)
    return strip_h + 50


def _strip_candidates(report: CoverageReport) -> list[tuple[FacilityCoverage, FaceMap]]:
    """Shells and spheres with blind spots, partly seen ones first (worst first), then the
    unphotographed ones; fully seen ones are left out."""
    partly: list[tuple[float, FacilityCoverage, FaceMap]] = []
    unseen: list[tuple[float, FacilityCoverage, FaceMap]] = []
    for fc in report.facilities:
        for face in getattr(fc, "face_maps", ()):
            if face.kind not in ("cylinder", "sphere"):
                continue
            pct = _face_pct(face)
            if pct >= 99.995:
                continue
            (partly if pct > 0.0 else unseen).append((pct, fc, face))
    partly.sort(key=lambda item: item[0])
    return [(fc, face) for _, fc, face in partly + unseen]


def _draw_side_panel(
    cv2: Any, plan: Plan, report: CoverageReport, img: NDArray[np.uint8], site_name: str
) -> None:
    x = _MAP_PX + 24
    width = _SIDE_PX - 90
    _text(cv2, img, _ascii(site_name) or "site", (x, 34), 0.8, thickness=2)
    photos = getattr(report, "photo_count", plan.photo_count)
    lines = (
        f"{_ascii(plan.camera.name)}: {photos} photos, target GSD {plan.options.gsd_mm:g} mm/px, "
        f"incidence <= {plan.options.max_incidence_deg:g} deg",
        f"Surface seen: {report.coverage_pct:.1f}% of {report.total_area_m2:,.0f} m2; "
        f"{len(report.conventional_inspection)} spots for conventional inspection (MHLW-2022 5.5)",
    )
    for k, line in enumerate(lines):
        _text(cv2, img, line, (x, 62 + 22 * k), 0.45)
    y = 126
    _text(cv2, img, "Facility coverage (share of inspectable surface seen):", (x, y), 0.45)
    y += 22
    u = x
    for _, colour, label in _CLASSES:
        cv2.rectangle(img, (u, y - 11), (u + 14, y + 3), colour, -1)
        _text(cv2, img, label, (u + 19, y), 0.4)
        u += 32 + cv2.getTextSize(label, _FONT, 0.4, 1)[0][0]
    y += 24
    cv2.circle(img, (x + 7, y - 4), 2, _PHOTO_BGR, -1)
    _text(cv2, img, "photo position", (x + 18, y), 0.4)
    cv2.line(img, (x + 150, y - 4), (x + 180, y - 4), _PATH_BGR[0], 1, cv2.LINE_AA)
    _text(cv2, img, "flight path (colour per sortie)", (x + 186, y), 0.4)
    _text(cv2, img, "H take-off", (x + 440, y), 0.4)
    y += 22
    u = x
    for kind in ("zone0", "zone1", "zone2", "fire_restricted", "no_fly", "people", "road"):
        cv2.rectangle(img, (u, y - 10), (u + 12, y + 2), _ZONE_BGR[kind], 2)
        label = kind.replace("_", " ")
        _text(cv2, img, label, (u + 16, y), 0.38)
        u += 24 + cv2.getTextSize(label, _FONT, 0.38, 1)[0][0]
    y += 24
    _text(cv2, img, "Blind spots (marks beside footprints, cells in strips):", (x, y), 0.45)
    y += 20
    u = x
    for code, colour in _REASON_BGR.items():
        cv2.rectangle(img, (u, y - 10), (u + 12, y + 2), colour, -1)
        _text(cv2, img, REASONS[code], (u + 16, y), 0.38)
        u += 26 + cv2.getTextSize(REASONS[code], _FONT, 0.38, 1)[0][0]
    y += 34
    strips = _strip_candidates(report)
    if not strips:
        has_maps = any(getattr(fc, "face_maps", ()) for fc in report.facilities)
        note = "Every shell is fully seen." if has_maps else "(no face maps in this report)"
        _text(cv2, img, note, (x, y), 0.5)
        return
    _text(cv2, img, "Unwrapped shells with blind spots, worst first:", (x, y), 0.5)
    y += 12
    for fc, face in strips[:_STRIPS]:
        if y + 120 > img.shape[0]:
            break
        y += _draw_strip(cv2, img, fc, face, x, y, width)


def render_coverage_map(site: Site, plan: Plan, report: CoverageReport, path: str | Path) -> Path:
    """Write a coverage map PNG: a top view and the unwrapped shells of the worst facilities.

    The top view (north up) shows facility footprints filled by coverage class (green from the
    98 % aim down to dark red for "not photographed"), each with its id and coverage [%];
    blind spots listed for conventional inspection as marks beside the footprint (an arc over
    the bearings of a shell, a bar along a side) coloured by reason; zones; the flight path of
    each sortie, photo positions and take-off points; a scale bar and north arrow. Beside it, a
    legend and, when ``report`` comes from :func:`compute_coverage`, the shells (and spheres)
    with blind spots, worst first, unwrapped as bearing [deg] x height [m] with each cell
    coloured seen or by why it was not.

    Parameters
    ----------
    site, plan, report
        The site, the plan and its coverage report.
    path
        Output ``.png``; written atomically (temporary file, then rename).

    Returns
    -------
    Path
        ``path``.
    """
    import cv2

    target = Path(path)
    if not target.parent.is_dir():
        raise InputError(f"folder does not exist: {target.parent}", "path")
    img = np.full((_MAP_PX, _MAP_PX + _SIDE_PX, 3), 255, dtype=np.uint8)
    _draw_top_view(cv2, site, plan, report, img)
    _draw_side_panel(cv2, plan, report, img, getattr(report, "site_name", "") or site.name)
    ok, encoded = cv2.imencode(".png", img)
    if not ok:  # pragma: no cover - PNG encoding of a uint8 image does not fail
        raise RuntimeError("OpenCV could not encode the coverage map as PNG")
    return atomic_write_bytes(target, encoded.tobytes())
