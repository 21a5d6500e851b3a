r"""Inspection flight planner: ``Site`` + ``CameraModel`` + ``PlanOptions`` -> ``Plan``.

The planner flies every selected facility at the standoff that gives the target ground sample
distance (GSD) on its surface, with the camera aimed at the surface, from enough positions that
neighbouring photos overlap as asked (MHLW-2022 §5.4: shoot every target comprehensively, from
several positions around a circular tank, Fig. 5.9). It then keeps the route inside the rules
(MHLW-2022 Table 3.2; Aviation Act Art. 132-85), splits it into battery sorties and orders it to
shorten the flight.

Patterns per facility type
--------------------------
Vertical cylinders (fixed/floating-roof tanks, columns, stacks)
    Orbit layers at radius :math:`R + d` around the axis, camera level (gimbal 0°) and aimed at
    the axis (heading = bearing to the centre). Photo spacing is set *on the tank wall*: the
    angular step is :math:`\Delta\theta = W (1 - o_f) / R` (arc of one horizontal footprint
    :math:`W` at distance :math:`d`, less the front overlap :math:`o_f`), capped by the arc seen
    within the incidence limit, :math:`2 \varphi_i (1 - o_f)` with
    :math:`\varphi_i = i_{max} - \arcsin(R \sin i_{max} / (R + d))`. Layers are spaced
    :math:`s = H_f (1 - o_s)` (vertical footprint :math:`H_f`, side overlap :math:`o_s`); their
    centres run evenly from :math:`z_0 + H_f/2` to :math:`z_0 + H - H_f/2`, so the bands cover the
    whole shell: :math:`n = \lceil (H - H_f) / s \rceil + 1`. A layer whose centre is below
    ``MIN_PHOTO_HEIGHT_M`` is flown at that height with the gimbal pitched down to aim at the band
    centre. Layers are flown bottom to top in a serpentine (alternate orbit direction, each layer
    starting where the previous ended), entering on the side facing the previous facility. When
    the constraints remove part of the orbit, the remaining arcs ("sectors") are flown one at a
    time, serpentine inside each, so that no leg jumps across the gap.
Roofs (fixed and floating roof; tops of columns, stacks and boxes)
    A lawnmower grid of nadir photos (gimbal -90°) at height top + d: rows spaced
    :math:`W (1 - o_s)`, photos along a row :math:`H_f (1 - o_f)`, each row long enough for the
    footprints to cover the roof disk (or rectangle). A floating roof lies below the rim, so its
    deck is seen at a coarser GSD than the target (the ray-cast coverage step reports it).
Spheres
    Rings at several elevations :math:`\lambda` around the sphere centre at radius :math:`R + d`,
    gimbal pitched to the centre (:math:`-\lambda`): latitude step :math:`H_f (1 - o_s) / R`,
    photos per ring from the ring's circumference on the sphere, a last single photo over the top.
    Rings below ``MIN_PHOTO_HEIGHT_M`` or needing the gimbal to look up more than
    ``GIMBAL_MAX_UP_DEG`` are not flown (the bottom cap is a blind spot).
Pipe racks and buildings (boxes)
    Layers of passes along all four sides at distance d (heading perpendicular to the side,
    gimbal level), joined at corners by points offset (d, d) from the corner; photos along a side
    spaced :math:`W (1 - o_f)`; then a nadir grid over the top.

Every radius is pushed out just enough that the straight legs between neighbouring photos keep
``min_distance_m`` from the surface (a chord of an orbit cuts inside the circle).

Constraints (checked on every waypoint, and on every leg sampled every ``LEG_SAMPLE_M``)
---------------------------------------------------------------------------------------
* keep-out zones, 3D prisms ``polygon x [floor, ceiling]``: ``no_fly``, ``fire_restricted`` and,
  unless ``options.explosion_proof``, ``zone0``/``zone1``/``zone2`` (MHLW-2022 Table 3.2 (b),
  Table 4.4);
* distance from every structure >= ``options.min_distance_m``;
* height <= ``options.max_height_m`` (Aviation Act Art. 132-85 §1 (1): 150 m above ground);
* fall range (``risk.fall_range_m`` at the waypoint's height, speed and ``options.wind_m_s``)
  off ``people`` and ``road`` zones (``fall_keepout_kinds``) and inside the ``boundary``
  (MHLW-2022 Table 3.2 a1): the planner first lowers the speed, and drops the photo waypoint
  when even ``MIN_SPEED_M_S`` is too fast. Legs are limited the same way (the speed of a leg is
  the lowest limit along it); a transit or connector leg that cannot be slowed enough (a climb
  over a tank next to a road, a transit across a road) is kept and listed as an
  ``"advisory"``. Zones the operator closes during the flight (``closed_zone_ids``) are exempt
  and listed with action ``"close"``.

``Waypoint.speed_m_s`` is the speed of the leg that leaves the waypoint (DJI WPML's
``waypointSpeed``; a MAVLink ``DO_CHANGE_SPEED`` issued at the waypoint).

Dropped and slowed waypoints are listed in ``Plan.skipped`` (grouped: facility_id, part,
reason, action in dropped | slowed | skipped | advisory | close, count). A leg that crosses a
keep-out zone or passes too close to a structure is re-routed: climb to above the tallest
structure near the leg (+ min distance), then over the zones' ceilings if finite, else around
the zones (shortest path on a visibility graph of the outlines of the obstacles that meet the
corridor, shapely); if no route is safe the far waypoint is dropped. Transits between
facilities always climb to the safe transit height first, move, then descend.

Sorties
-------
Flight time = horizontal distance / speed + vertical distance / ``CLIMB_SPEED_M_S`` +
``PHOTO_HOVER_S`` per photo + ``TAKEOFF_LANDING_S`` per sortie. The ordered waypoints are cut
into sorties so that at every waypoint the aircraft can still return to its take-off point
within ``battery_endurance_s``; each sortie takes off from the allowed take-off point nearest to
its first waypoint.

Ordering
--------
Facilities are visited in a nearest-neighbour tour from the take-off point improved by 2-opt on
the facility centres [3]_; each facility's pattern starts on the side facing the previous exit.

Baseline
--------
``Plan.baseline`` holds QGroundControl Structure Scan's figures for the same facilities [1]_ [2]_:
layers :math:`= \max(1, \lceil h / (H_f (1 - o_s)) \rceil)` (``_recalcLayerInfo``: structure
height over the adjusted frontal footprint), shots per layer
:math:`= \lfloor P / (W (1 - o_f)) \rfloor` where :math:`P` is the perimeter of the structure
outline offset by the standoff (``_recalcCameraShots``: flight-polygon length over the trigger
distance), flight distance :math:`= P \cdot \text{layers} + h` (``_recalcScanDistance``), timed
with this planner's time model; next to the planner's own per-facility figures.

References
----------
.. [1] QGroundControl, ``src/MissionManager/StructureScanComplexItem.cc`` (``_recalcLayerInfo``,
   ``_recalcCameraShots``, ``_recalcScanDistance``), https://github.com/mavlink/qgroundcontrol
.. [2] QGroundControl, ``src/MissionManager/CameraCalc.cc`` (``_recalcTriggerDistance``: image
   density = distance x sensor width / (image width x focal length); adjusted footprints =
   footprint x (1 - overlap)).
.. [3] G. A. Croes, "A method for solving traveling-salesman problems", Operations Research 6
   (1958) 791-812 (2-opt).
.. [4] MHLW, "Manual for introducing drones into the periodic voluntary inspection of chemical
   equipment", April 2022 (``MHLW-2022``): §5.4 and Fig. 5.9 (several positions around a tank),
   Table 3.2 (risk assessment: keep-out areas, fall range), Table 4.4 (explosive areas).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

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
from plantwatch.drone.risk import fall_time_s
from plantwatch.errors import InputError

__all__ = [
    "CLIMB_SPEED_M_S",
    "GIMBAL_MAX_UP_DEG",
    "LEG_SAMPLE_M",
    "MIN_PHOTO_HEIGHT_M",
    "MIN_SPEED_M_S",
    "ORDERINGS",
    "PHOTO_HOVER_S",
    "TAKEOFF_LANDING_S",
    "plan_inspection",
    "structure_scan_baseline",
    "structure_scan_plan",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# -- planning figures (planner settings, not regulations; each with its reason) ----------------
# Lowest photo height: keeps the aircraft out of ground effect and clear of dike walls and
# grade-level piping around tanks. Lower bands of a wall are shot from here with the gimbal down.
MIN_PHOTO_HEIGHT_M = 2.0
# Vertical speed for climbs and descents: a conservative planning figure, below the ascent and
# descent limits of industrial multirotors (several m/s).
CLIMB_SPEED_M_S = 3.0
# Stop-and-shoot hover per photo, so the aircraft's motion does not blur the image (MHLW-2022
# §5.3: vibration and camera shake).
PHOTO_HOVER_S = 1.0
# Arming, take-off to hover, landing flare and disarming, per sortie.
TAKEOFF_LANDING_S = 30.0
# Slowest cruise the planner will command to bring a fall range inside the clearance.
MIN_SPEED_M_S = 1.0
# Leg speeds are rounded down to multiples of this [m/s].
SPEED_STEP_M_S = 0.5
# Sampling step along legs for the zone, structure and fall-range checks [m].
LEG_SAMPLE_M = 1.0
# Clearance kept from a zone's outline or ceiling when a leg is routed around or over it [m].
ZONE_MARGIN_M = 1.0
# Upward gimbal limit of common inspection payloads (e.g. DJI Zenmuse H20 series: +30 deg).
GIMBAL_MAX_UP_DEG = 30.0

ORDERINGS: tuple[str, ...] = ("tour", "input")
KEEPOUT_HAZARD_KINDS: tuple[str, ...] = ("zone0", "zone1", "zone2")
KEEPOUT_ALWAYS_KINDS: tuple[str, ...] = ("no_fly", "fire_restricted")
DEFAULT_FALL_KINDS: tuple[str, ...] = ("people", "road")

_KINDS: tuple[str, ...] = (
    "orbit",
    "roof",
    "sphere",
    "rack",
    "transit",
    "takeoff",
    "landing",
)
_K_ORBIT, _K_ROOF, _K_SPHERE, _K_RACK, _K_TRANSIT, _K_TAKEOFF, _K_LANDING = range(len(_KINDS))
_EPS = 1e-9


# -- camera geometry -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Geometry:
    """Camera geometry at the planning standoff."""

    standoff_m: float  # d: camera-to-surface distance for the target GSD [m]
    footprint_w_m: float  # W: horizontal footprint at d [m]
    footprint_h_m: float  # H_f: vertical footprint at d [m]
    front_overlap: float
    side_overlap: float
    min_distance_m: float
    max_incidence_deg: float

    @property
    def along_step_m(self) -> float:
        """Spacing of photos along a pass or orbit, on the surface [m]."""
        return self.footprint_w_m * (1.0 - self.front_overlap)

    @property
    def layer_step_m(self) -> float:
        """Spacing of layers (passes) on the surface [m]."""
        return self.footprint_h_m * (1.0 - self.side_overlap)


# -- small helpers ---------------------------------------------------------------------------


def _bearing_deg(dx: FloatArray | float, dy: FloatArray | float) -> FloatArray:
    """Bearing clockwise from north of the direction (dx east, dy north) [deg], in [0, 360)."""
    return np.mod(np.degrees(np.arctan2(dx, dy)), 360.0)


def _even(lo: float, hi: float, n: int) -> FloatArray:
    """``n`` evenly spaced values from ``lo`` to ``hi`` (the midpoint when n == 1)."""
    if n <= 1:
        return np.array([(lo + hi) / 2.0])
    return np.linspace(lo, hi, n)


def _band_count(extent_m: float, footprint_m: float, step_m: float) -> int:
    """Passes of ``footprint_m`` wide bands, ``step_m`` apart, that cover ``extent_m``."""
    if extent_m <= footprint_m:
        return 1
    return math.ceil((extent_m - footprint_m) / step_m - 1e-9) + 1


def _layer_heights(z0: float, height: float, geo: _Geometry) -> FloatArray:
    """Centres of the vertical bands covering ``[z0, z0 + height]`` [m]."""
    n = _band_count(height, geo.footprint_h_m, geo.layer_step_m)
    half = geo.footprint_h_m / 2.0
    return _even(z0 + half, z0 + height - half, n) if n > 1 else np.array([z0 + height / 2.0])


def _incidence_arc_rad(radius_m: float, orbit_radius_m: float, max_incidence_deg: float) -> float:
    """Half-angle at the axis of the wall arc seen within the incidence limit [rad].

    Triangle axis - camera - wall point: the angle at the wall point is 180° - i, so
    ``phi = i - asin(R sin(i) / R_orbit)``.
    """
    incidence = math.radians(max_incidence_deg)
    return incidence - math.asin(min(1.0, radius_m * math.sin(incidence) / orbit_radius_m))


# -- facility patterns -----------------------------------------------------------------------


@dataclass
class _Part:
    """Candidate waypoints of one layer/ring/grid of one facility."""

    label: str
    kind: int
    side: bool  # side surface (True) or top/roof (False)
    xyz: FloatArray  # (N, 3) [m]
    heading_deg: FloatArray  # (N,)
    pitch_deg: FloatArray  # (N,)
    photo: BoolArray  # (N,)
    # Position of each waypoint on the facility's closed loop (orbit angle index, box loop
    # index), the same loop for every layer; None for grids and sphere rings.
    loop_index: IntArray | None = None
    loop_size: int = 0


def _orbit_angle_count(radius_m: float, geo: _Geometry) -> int:
    """Photos per orbit layer around a vertical cylinder of radius ``radius_m``."""
    step_wall = geo.along_step_m / radius_m
    orbit_r = radius_m + geo.standoff_m
    step_incidence = (
        2.0
        * _incidence_arc_rad(radius_m, orbit_r, geo.max_incidence_deg)
        * (1.0 - geo.front_overlap)
    )
    step = min(step_wall, step_incidence)
    return max(3, math.ceil(2.0 * math.pi / step - 1e-9))


def _chord_safe_radius(radius_m: float, geo: _Geometry, step_rad: float) -> float:
    """Orbit radius >= R + d whose chords of ``step_rad`` keep ``min_distance_m`` from R."""
    return max(
        radius_m + geo.standoff_m,
        (radius_m + geo.min_distance_m) / math.cos(min(step_rad, math.pi * 0.9) / 2.0),
    )


def _layer_pitch_deg(band_z: FloatArray, fly_z: FloatArray, standoff_m: float) -> FloatArray:
    """Gimbal pitch aiming from ``fly_z`` at the band centre ``band_z`` across ``standoff_m``."""
    return -np.degrees(np.arctan2(fly_z - band_z, standoff_m))


def _cylinder_shell(
    f: Facility, geo: _Geometry, entry_bearing_deg: float, min_photo_height_m: float
) -> list[_Part]:
    assert f.diameter_m is not None
    radius = f.diameter_m / 2.0
    cx, cy, z0 = f.center_m
    n = _orbit_angle_count(radius, geo)
    step = 2.0 * math.pi / n
    orbit_r = _chord_safe_radius(radius, geo, step)
    bands = _layer_heights(z0, f.height_m, geo)
    fly = np.maximum(bands, min_photo_height_m)
    pitch = _layer_pitch_deg(bands, fly, orbit_r - radius)
    j = np.arange(n)
    theta0 = math.radians(entry_bearing_deg)
    parts = []
    for k, (z, p) in enumerate(zip(fly, pitch, strict=True)):
        # Serpentine: odd layers run backwards from where the previous layer ended.
        loop = j if k % 2 == 0 else (n - 1 - j)
        theta = theta0 + step * loop
        xyz = np.column_stack(
            [cx + orbit_r * np.sin(theta), cy + orbit_r * np.cos(theta), np.full(n, z)]
        )
        parts.append(
            _Part(
                label=f"shell layer {k + 1} (z {z:.1f} m)",
                kind=_K_ORBIT,
                side=True,
                xyz=xyz,
                heading_deg=np.mod(np.degrees(theta) + 180.0, 360.0),
                pitch_deg=np.full(n, p),
                photo=np.ones(n, dtype=bool),
                loop_index=loop.astype(np.int64),
                loop_size=n,
            )
        )
    return parts


def _grid_rows(
    half_across_m: float,
    half_along: Callable[[float, float], float],
    geo: _Geometry,
) -> list[FloatArray]:
    """Nadir-grid rows in a local (along, across) frame: a list of (n_i, 2) arrays.

    ``half_along(offset, half_strip)`` gives the half-length a row at ``offset`` must cover.
    """
    across_fp, along_fp = geo.footprint_w_m, geo.footprint_h_m  # heading along the row
    across_step = across_fp * (1.0 - geo.side_overlap)
    along_step = along_fp * (1.0 - geo.front_overlap)
    n_rows = _band_count(2.0 * half_across_m, across_fp, across_step)
    offsets = (
        _even(-(half_across_m - across_fp / 2.0), half_across_m - across_fp / 2.0, n_rows)
        if n_rows > 1
        else np.array([0.0])
    )
    rows = []
    for offset in offsets:
        half = half_along(float(offset), across_step / 2.0)
        n = _band_count(2.0 * half, along_fp, along_step)
        along = _even(-(half - along_fp / 2.0), half - along_fp / 2.0, n) if n > 1 else [0.0]
        rows.append(np.column_stack([np.asarray(along, dtype=float), np.full(n, offset)]))
    return rows


def _nadir_grid(
    rows_local: list[FloatArray],
    center_xy: tuple[float, float],
    along_bearing_deg: float,
    z_m: float,
    start_near_xy: FloatArray,
    label: str,
    kind: int,
) -> _Part:
    """Serpentine over ``rows_local`` rotated to ``along_bearing_deg``, starting near a point."""
    psi = math.radians(along_bearing_deg)
    along_unit = np.array([math.sin(psi), math.cos(psi)])
    across_unit = np.array([math.cos(psi), -math.sin(psi)])
    best: tuple[float, FloatArray, FloatArray] | None = None
    for reverse_rows in (False, True):
        for first_forward in (True, False):
            ordered = rows_local[::-1] if reverse_rows else rows_local
            chunks: list[FloatArray] = []
            headings: list[FloatArray] = []
            for k, row in enumerate(ordered):
                forward = first_forward == (k % 2 == 0)
                chunks.append(row if forward else row[::-1])
                row_heading = along_bearing_deg if forward else along_bearing_deg + 180.0
                headings.append(np.full(len(row), row_heading % 360.0))
            local = np.concatenate(chunks)
            xy = (
                np.asarray(center_xy)
                + local[:, :1] * along_unit[None, :]
                + local[:, 1:] * across_unit[None, :]
            )
            gap = float(np.hypot(*(xy[0] - start_near_xy)))
            if best is None or gap < best[0] - 1e-9:
                best = (gap, xy, np.concatenate(headings))
    assert best is not None
    _, xy, heading_deg = best
    n = xy.shape[0]
    return _Part(
        label=label,
        kind=kind,
        side=False,
        xyz=np.column_stack([xy, np.full(n, z_m)]),
        heading_deg=heading_deg,
        pitch_deg=np.full(n, -90.0),
        photo=np.ones(n, dtype=bool),
    )


def _roof_grid(f: Facility, geo: _Geometry, start_near_xy: FloatArray) -> _Part:
    assert f.diameter_m is not None
    radius = f.diameter_m / 2.0

    def half_chord(offset: float, half_strip: float) -> float:
        nearest = max(0.0, abs(offset) - half_strip)
        return math.sqrt(max(radius**2 - nearest**2, 0.0))

    rows = _grid_rows(radius, half_chord, geo)
    top = f.center_m[2] + f.height_m
    return _nadir_grid(
        rows,
        (f.center_m[0], f.center_m[1]),
        90.0,
        top + geo.standoff_m,
        start_near_xy,
        {"floating_roof_tank": "floating roof", "fixed_roof_tank": "roof"}.get(f.type, "top"),
        _K_ROOF,
    )


def _sphere_rings(
    f: Facility, geo: _Geometry, entry_bearing_deg: float, min_photo_height_m: float
) -> list[_Part]:
    assert f.diameter_m is not None
    radius = f.diameter_m / 2.0
    cx, cy, base = f.center_m
    cz = base + f.height_m - radius
    lat_step = geo.layer_step_m / radius
    # Lowest ring: half a band above the south pole, but not below the minimum photo height
    # nor needing the gimbal to look up more than it can.
    probe_r = radius + geo.standoff_m
    ground_lat = math.asin(max(-1.0, min(1.0, (min_photo_height_m - cz) / probe_r)))
    lat_min = max(-math.pi / 2 + lat_step / 2.0, ground_lat, -math.radians(GIMBAL_MAX_UP_DEG))
    n_lat = max(1, math.ceil((math.pi / 2 - lat_min) / lat_step - 1e-9) + 1)
    lats = np.linspace(lat_min, math.pi / 2, n_lat) if n_lat > 1 else np.array([math.pi / 2])
    counts = []
    for lat in lats:
        if lat >= math.pi / 2 - 1e-9:
            counts.append(1)
            continue
        circumference = 2.0 * math.pi * radius * math.cos(lat)
        counts.append(max(3, math.ceil(circumference / geo.along_step_m - 1e-9)))
    # Largest angle between neighbouring camera positions (along a ring or between rings).
    worst = lat_step if n_lat > 1 else 0.0
    for lat, n in zip(lats, counts, strict=True):
        if n > 1:
            cos_gamma = math.sin(lat) ** 2 + math.cos(lat) ** 2 * math.cos(2.0 * math.pi / n)
            worst = max(worst, math.acos(max(-1.0, min(1.0, cos_gamma))))
    orbit_r = _chord_safe_radius(radius, geo, worst)
    lowest = math.asin(max(-1.0, min(1.0, (min_photo_height_m - cz) / orbit_r)))
    lats = np.maximum(lats, lowest)  # the pushed-out radius must not take a ring lower
    parts = []
    theta_start = math.radians(entry_bearing_deg)
    for k, (lat, n) in enumerate(zip(lats, counts, strict=True)):
        step = 2.0 * math.pi / n
        j = np.arange(n)
        sign = 1.0 if k % 2 == 0 else -1.0
        theta = theta_start + sign * step * j
        theta_start = float(theta[-1])  # next ring starts where this one ended
        ring_r = orbit_r * math.cos(lat)
        xyz = np.column_stack(
            [
                cx + ring_r * np.sin(theta),
                cy + ring_r * np.cos(theta),
                np.full(n, cz + orbit_r * math.sin(lat)),
            ]
        )
        parts.append(
            _Part(
                label=f"sphere ring {k + 1} (elevation {math.degrees(lat):.0f} deg)",
                kind=_K_SPHERE,
                side=True,
                xyz=xyz,
                heading_deg=np.mod(np.degrees(theta) + 180.0, 360.0),
                pitch_deg=np.full(n, -math.degrees(lat)),
                photo=np.ones(n, dtype=bool),
            )
        )
    return parts


def _box_axes(f: Facility) -> tuple[FloatArray, FloatArray]:
    """Unit vectors (x, y) along the length (the yaw direction) and across it."""
    psi = math.radians(f.yaw_deg)
    return np.array([math.sin(psi), math.cos(psi)]), np.array([math.cos(psi), -math.sin(psi)])


def _box_sides(
    f: Facility, geo: _Geometry, entry_xy: FloatArray, min_photo_height_m: float
) -> list[_Part]:
    assert f.length_m is not None and f.width_m is not None
    along, across = _box_axes(f)
    centre = np.array(f.center_m[:2])
    half_l, half_w = f.length_m / 2.0, f.width_m / 2.0
    d = geo.standoff_m
    fp = geo.footprint_w_m

    def positions(half: float) -> FloatArray:
        n = _band_count(2.0 * half, fp, geo.along_step_m)
        return _even(-(half - fp / 2.0), half - fp / 2.0, n) if n > 1 else np.array([0.0])

    # One loop around the box in local coordinates (s along the length, t across it): face +t,
    # corner, face +s, corner, face -t, corner, face -s, corner. Each entry: position (s, t),
    # photo or not, look direction (ls, lt). Corner points sit (d, d) off the corner so the legs
    # to them run parallel to the faces at the standoff.
    loop: list[tuple[float, float, bool, float, float]] = []
    loop += [(s, half_w + d, True, 0.0, -1.0) for s in positions(half_l)]
    loop.append((half_l + d, half_w + d, False, -1.0, -1.0))
    loop += [(half_l + d, t, True, -1.0, 0.0) for t in positions(half_w)[::-1]]
    loop.append((half_l + d, -half_w - d, False, -1.0, 1.0))
    loop += [(s, -half_w - d, True, 0.0, 1.0) for s in positions(half_l)[::-1]]
    loop.append((-half_l - d, -half_w - d, False, 1.0, 1.0))
    loop += [(-half_l - d, t, True, 1.0, 0.0) for t in positions(half_w)]
    loop.append((-half_l - d, half_w + d, False, 1.0, -1.0))
    table = np.array([(s, t, ls, lt) for s, t, _, ls, lt in loop])  # (N, 4)
    photo = np.array([p for _, _, p, _, _ in loop])
    xy = centre + table[:, :1] * along + table[:, 1:2] * across
    look = table[:, 2:3] * along + table[:, 3:4] * across
    heading = _bearing_deg(look[:, 0], look[:, 1])
    start = int(np.argmin(np.hypot(*(xy - entry_xy).T)))
    order = np.roll(np.arange(len(loop)), -start).astype(np.int64)
    bands = _layer_heights(f.center_m[2], f.height_m, geo)
    fly = np.maximum(bands, min_photo_height_m)
    pitch = _layer_pitch_deg(bands, fly, d)
    parts = []
    for k, (z, p) in enumerate(zip(fly, pitch, strict=True)):
        idx = order if k % 2 == 0 else order[::-1]  # odd layers start where the last ended
        n = len(idx)
        parts.append(
            _Part(
                label=f"side layer {k + 1} (z {z:.1f} m)",
                kind=_K_RACK,
                side=True,
                xyz=np.column_stack([xy[idx], np.full(n, z)]),
                heading_deg=heading[idx],
                pitch_deg=np.where(photo[idx], p, 0.0),
                photo=photo[idx].copy(),
                loop_index=(idx - start) % len(loop),
                loop_size=len(loop),
            )
        )
    return parts


def _box_top(f: Facility, geo: _Geometry, start_near_xy: FloatArray) -> _Part:
    assert f.length_m is not None and f.width_m is not None
    half_l = f.length_m / 2.0
    rows = _grid_rows(f.width_m / 2.0, lambda _o, _h: half_l, geo)
    return _nadir_grid(
        rows,
        (f.center_m[0], f.center_m[1]),
        f.yaw_deg,
        f.center_m[2] + f.height_m + geo.standoff_m,
        start_near_xy,
        "top",
        _K_RACK,
    )


def _facility_parts(
    f: Facility, geo: _Geometry, previous_xy: FloatArray, min_photo_height_m: float
) -> list[_Part]:
    """Candidate waypoints of one facility, in flying order, entering near ``previous_xy``."""
    centre = np.array(f.center_m[:2])
    entry_bearing = float(_bearing_deg(*(previous_xy - centre)))
    if f.is_vertical_cylinder:
        parts = _cylinder_shell(f, geo, entry_bearing, min_photo_height_m)
        parts.append(_roof_grid(f, geo, parts[-1].xyz[-1, :2]))
        return parts
    if f.type == "sphere":
        return _sphere_rings(f, geo, entry_bearing, min_photo_height_m)
    parts = _box_sides(f, geo, previous_xy, min_photo_height_m)
    parts.append(_box_top(f, geo, parts[-1].xyz[-1, :2]))
    return parts


def _check_facility(f: Facility) -> None:
    if f.height_m is None or not math.isfinite(f.height_m) or f.height_m <= 0.0:
        raise InputError(f"must be a height > 0 m, got {f.height_m!r}", f"facility {f.id}.height_m")
    if f.is_vertical_cylinder or f.type == "sphere":
        if f.diameter_m is None or not f.diameter_m > 0.0:
            raise InputError(
                f"must be > 0 m for a {f.type}, got {f.diameter_m!r}",
                f"facility {f.id}.diameter_m",
            )
        if f.type == "sphere" and f.diameter_m > f.height_m + 1e-9:
            raise InputError(
                f"top height {f.height_m} m is below the sphere's diameter {f.diameter_m} m",
                f"facility {f.id}.height_m",
            )
    else:
        for name in ("length_m", "width_m"):
            value = getattr(f, name)
            if value is None or not value > 0.0:
                raise InputError(
                    f"must be > 0 m for a {f.type}, got {value!r}", f"facility {f.id}.{name}"
                )


# -- structures and zones: the constraint checker ----------------------------------------------


@dataclass
class _Solid:
    """A facility as a solid for clearance checks."""

    facility_id: str
    shape: str  # "cylinder" | "sphere" | "box"
    center_xy: FloatArray
    z_base: float
    z_top: float
    radius: float = 0.0
    sphere_z: float = 0.0
    half_l: float = 0.0
    half_w: float = 0.0
    along: FloatArray = field(default_factory=lambda: np.zeros(2))
    across: FloatArray = field(default_factory=lambda: np.zeros(2))
    footprint: Any = None  # shapely polygon of the footprint
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    @classmethod
    def of(cls, f: Facility) -> _Solid:
        centre = np.array(f.center_m[:2], dtype=float)
        z_base, z_top = f.center_m[2], f.center_m[2] + f.height_m
        if f.is_vertical_cylinder or f.type == "sphere":
            assert f.diameter_m is not None
            radius = f.diameter_m / 2.0
            solid = cls(
                f.id,
                "sphere" if f.type == "sphere" else "cylinder",
                centre,
                z_base,
                z_top,
                radius=radius,
                sphere_z=z_top - radius,
                footprint=shapely.Point(centre).buffer(radius, quad_segs=16),
            )
        else:
            assert f.length_m is not None and f.width_m is not None
            along, across = _box_axes(f)
            half_l, half_w = f.length_m / 2.0, f.width_m / 2.0
            corners = [
                centre + sl * half_l * along + sw * half_w * across
                for sl, sw in ((1, 1), (1, -1), (-1, -1), (-1, 1))
            ]
            solid = cls(
                f.id,
                "box",
                centre,
                z_base,
                z_top,
                half_l=half_l,
                half_w=half_w,
                along=along,
                across=across,
                footprint=shapely.Polygon(corners),
            )
        solid.bbox = tuple(shapely.bounds(solid.footprint).tolist())
        return solid

    def distance_m(self, points: FloatArray) -> FloatArray:
        """Distance from each point (N, 3) to the solid [m] (0 inside)."""
        rel = points[:, :2] - self.center_xy
        if self.shape == "sphere":
            offset = np.column_stack([rel, points[:, 2] - self.sphere_z])
            return np.maximum(np.linalg.norm(offset, axis=1) - self.radius, 0.0)
        dz = np.maximum(np.maximum(self.z_base - points[:, 2], points[:, 2] - self.z_top), 0.0)
        if self.shape == "cylinder":
            dr = np.maximum(np.hypot(rel[:, 0], rel[:, 1]) - self.radius, 0.0)
            return np.hypot(dr, dz)
        ds = np.maximum(np.abs(rel @ self.along) - self.half_l, 0.0)
        dt = np.maximum(np.abs(rel @ self.across) - self.half_w, 0.0)
        return np.sqrt(ds * ds + dt * dt + dz * dz)


@dataclass
class _Area:
    """A zone as a shapely polygon with its vertical extent."""

    zone: Zone
    polygon: Any
    bbox: tuple[float, float, float, float]


def _areas(zones: Sequence[Zone]) -> list[_Area]:
    out = []
    for z in zones:
        polygon = shapely.Polygon(z.polygon_m)
        if not polygon.is_valid:
            polygon = shapely.make_valid(polygon)
        shapely.prepare(polygon)
        out.append(_Area(z, polygon, tuple(shapely.bounds(polygon).tolist())))
    return out


def _bbox_hits(
    boxes: Sequence[tuple[float, float, float, float]], query: FloatArray, reach: float
) -> list[int]:
    """Indices of ``boxes`` within ``reach`` of the (xmin, ymin, xmax, ymax) ``query``."""
    hits = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        if (
            x0 - reach <= query[2]
            and x1 + reach >= query[0]
            and y0 - reach <= query[3]
            and y1 + reach >= query[1]
        ):
            hits.append(i)
    return hits


def _points_bbox(points: FloatArray) -> FloatArray:
    return np.array(
        [points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()]
    )


# reason codes of a point check
_OK, _HIGH, _ZONE, _NEAR, _FALL = range(5)


class _Guard:
    """Checks points and legs against the plan's constraints; routes blocked legs."""

    def __init__(
        self,
        site: Site,
        options: PlanOptions,
        fall_kinds: Sequence[str],
        closed_zone_ids: frozenset[str] = frozenset(),
    ) -> None:
        self.options = options
        self.min_distance_m = options.min_distance_m
        self.max_height_m = options.max_height_m
        self.wind_m_s = options.wind_m_s
        self.solids = [_Solid.of(f) for f in site.facilities]
        self.solid_boxes = [s.bbox for s in self.solids]
        self.footprints = np.array([s.footprint for s in self.solids], dtype=object)
        self.tops = np.array([s.z_top for s in self.solids], dtype=float)
        keepout_kinds = KEEPOUT_ALWAYS_KINDS + (
            () if options.explosion_proof else KEEPOUT_HAZARD_KINDS
        )
        self.keepout = _areas(site.zones_of(*keepout_kinds))
        self.keepout_boxes = [a.bbox for a in self.keepout]
        self.fall = _areas([z for z in site.zones_of(*fall_kinds) if z.id not in closed_zone_ids])
        self.closed = _areas([z for z in site.zones if z.id in closed_zone_ids])
        self.fall_boxes = [a.bbox for a in self.fall]
        boundary = [a.polygon for a in _areas(site.zones_of("boundary"))]
        self.boundary: Any = shapely.union_all(boundary) if boundary else None
        # Largest fall range anywhere in the plan, to limit the zones worth checking.
        top_speed = max(options.speed_m_s, options.transit_speed_m_s)
        self.max_fall_range_m = float(
            (top_speed + options.wind_m_s) * fall_time_s(options.max_height_m)
        )
        self.boundary_line: Any = None
        self.boundary_core: Any = None  # points in here are farther than any fall range
        if self.boundary is not None:
            shapely.prepare(self.boundary)
            self.boundary_line = self.boundary.boundary
            self.boundary_core = self.boundary.buffer(-self.max_fall_range_m)
            shapely.prepare(self.boundary_core)

    # -- points --------------------------------------------------------------------------------

    def structure_clearance(self, points: FloatArray) -> tuple[FloatArray, IntArray]:
        """Distance to the nearest structure within reach [m] (inf beyond) and its index."""
        best = np.full(points.shape[0], np.inf)
        which = np.full(points.shape[0], -1, dtype=np.int64)
        if points.shape[0] == 0:
            return best, which
        box = _points_bbox(points)
        for i in _bbox_hits(self.solid_boxes, box, self.min_distance_m + 1.0):
            dist = self.solids[i].distance_m(points)
            closer = dist < best
            best = np.where(closer, dist, best)
            which = np.where(closer, i, which)
        return best, which

    def keepout_hit(self, points: FloatArray) -> IntArray:
        """Index of a keep-out zone each point is in, or -1."""
        hit = np.full(points.shape[0], -1, dtype=np.int64)
        if points.shape[0] == 0 or not self.keepout:
            return hit
        for i in _bbox_hits(self.keepout_boxes, _points_bbox(points), 0.0):
            area = self.keepout[i]
            inside = shapely.intersects_xy(area.polygon, points[:, 0], points[:, 1])
            inside &= (points[:, 2] >= area.zone.floor_m) & (points[:, 2] <= area.zone.ceiling_m)
            hit = np.where((hit < 0) & inside, i, hit)
        return hit

    def fall_clearance(
        self, points: FloatArray, exempt: frozenset[int] = frozenset()
    ) -> tuple[FloatArray, IntArray]:
        """Horizontal clearance to fall keep-out areas [m] and the limiting one.

        Index ``i >= 0``: fall zone i; ``-2``: the site boundary; ``-1``: none within reach.
        """
        clearance = np.full(points.shape[0], np.inf)
        which = np.full(points.shape[0], -1, dtype=np.int64)
        if points.shape[0] == 0:
            return clearance, which
        box = _points_bbox(points)
        candidates = [
            i for i in _bbox_hits(self.fall_boxes, box, self.max_fall_range_m) if i not in exempt
        ]
        check_boundary = self.boundary is not None and not self.boundary_core.contains(
            shapely.box(*box)
        )
        geoms: Any = None
        if candidates or check_boundary:
            geoms = shapely.points(points[:, :2])
        for i in candidates:
            dist = shapely.distance(self.fall[i].polygon, geoms)
            closer = dist < clearance
            clearance = np.where(closer, dist, clearance)
            which = np.where(closer, i, which)
        if check_boundary:
            inside = shapely.intersects_xy(self.boundary, points[:, 0], points[:, 1])
            dist = np.where(inside, shapely.distance(self.boundary_line, geoms), 0.0)
            closer = dist < clearance
            clearance = np.where(closer, dist, clearance)
            which = np.where(closer, -2, which)
        return clearance, which

    def speed_limit(self, points: FloatArray, clearance: FloatArray) -> FloatArray:
        """Highest speed whose fall range fits the clearance [m/s] (inf if unconstrained)."""
        t_fall = fall_time_s(np.maximum(points[:, 2], 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            limit = clearance / t_fall - self.wind_m_s
        return np.where((t_fall > 0.0) & np.isfinite(clearance), limit, np.inf)

    def check_points(self, points: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
        """Reason code, reference index and fall speed limit per point (hard checks first)."""
        code = np.full(points.shape[0], _OK, dtype=np.int64)
        ref = np.full(points.shape[0], -1, dtype=np.int64)
        high = points[:, 2] > self.max_height_m + 1e-9
        code[high] = _HIGH
        zone = self.keepout_hit(points)
        new = (code == _OK) & (zone >= 0)
        code[new], ref[new] = _ZONE, zone[new]
        clearance, nearest = self.structure_clearance(points)
        new = (code == _OK) & (clearance < self.min_distance_m - 1e-6)
        code[new], ref[new] = _NEAR, nearest[new]
        fall_clear, fall_which = self.fall_clearance(points)
        limit = self.speed_limit(points, fall_clear)
        new = (code == _OK) & (limit < MIN_SPEED_M_S)
        code[new], ref[new] = _FALL, fall_which[new]
        ref = np.where(code == _OK, fall_which, ref)  # limiting fall area for slowed points
        return code, ref, limit

    # -- legs ----------------------------------------------------------------------------------

    @staticmethod
    def _samples(a: FloatArray, b: FloatArray) -> tuple[FloatArray, IntArray]:
        """Points every <= LEG_SAMPLE_M along legs a[i] -> b[i] (ends included), leg index."""
        length = np.linalg.norm(b - a, axis=1)
        count = np.maximum(np.ceil(length / LEG_SAMPLE_M).astype(np.int64), 1) + 1
        leg = np.repeat(np.arange(a.shape[0]), count)
        start = np.repeat(np.cumsum(count) - count, count)
        frac = (np.arange(leg.shape[0]) - start) / np.repeat(count - 1, count)
        return a[leg] + frac[:, None] * (b - a)[leg], leg

    def legs_blocked(self, a: FloatArray, b: FloatArray) -> BoolArray:
        """Whether each leg a[i] -> b[i] enters a keep-out zone, nears a structure or is high."""
        if a.shape[0] == 0:
            return np.zeros(0, dtype=bool)
        points, leg = self._samples(a, b)
        bad = self.keepout_hit(points) >= 0
        bad |= self.structure_clearance(points)[0] < self.min_distance_m - 1e-6
        bad |= points[:, 2] > self.max_height_m + 1e-9
        return np.bincount(leg, weights=bad, minlength=a.shape[0]) > 0

    def legs_speed_limit(
        self, a: FloatArray, b: FloatArray, exempt: frozenset[int] = frozenset()
    ) -> tuple[FloatArray, IntArray]:
        """Fall-range speed limit of each leg (min over its samples) and the limiting area."""
        limit = np.full(a.shape[0], np.inf)
        which = np.full(a.shape[0], -1, dtype=np.int64)
        if a.shape[0] == 0 or (not self.fall and self.boundary is None):
            return limit, which
        points, leg = self._samples(a, b)
        clearance, area = self.fall_clearance(points, exempt)
        sample_limit = self.speed_limit(points, clearance)
        order = np.lexsort((sample_limit, leg))  # per leg, smallest limit first
        first = np.unique(leg[order], return_index=True)[1]
        limit[leg[order][first]] = sample_limit[order][first]
        which[leg[order][first]] = area[order][first]
        return limit, which

    # -- routing -------------------------------------------------------------------------------

    def _path_ok(self, points: FloatArray) -> bool:
        return not bool(np.any(self.legs_blocked(points[:-1], points[1:])))

    def safe_path(self, a: FloatArray, b: FloatArray, *, direct_first: bool) -> FloatArray | None:
        """Intermediate points (K, 3) of a safe path from ``a`` to ``b``, or None.

        ``direct_first``: try the straight leg first (legs inside a facility's pattern);
        otherwise climb to the transit height first (transits between facilities).
        """
        empty = np.zeros((0, 3))
        if direct_first and self._path_ok(np.vstack([a, b])):
            return empty
        corridor = (
            shapely.LineString([a[:2], b[:2]]) if np.any(a[:2] != b[:2]) else shapely.Point(a[:2])
        )
        reach = self.min_distance_m + ZONE_MARGIN_M
        near_top = 0.0
        if self.solids:
            near = shapely.distance(self.footprints, corridor) <= reach
            if np.any(near):
                near_top = float(self.tops[near].max()) + self.min_distance_m + ZONE_MARGIN_M
        z_transit = max(a[2], b[2], near_top)
        if z_transit > self.max_height_m:
            z_transit = max(a[2], b[2], self.max_height_m)

        def via(z: float, middle: FloatArray = empty) -> FloatArray:
            pts = [np.array([a[0], a[1], z]), *middle, np.array([b[0], b[1], z])]
            stack = np.vstack(pts)
            keep = [
                i
                for i in range(stack.shape[0])
                if not (
                    (i == 0 and abs(z - a[2]) < _EPS)
                    or (i == stack.shape[0] - 1 and abs(z - b[2]) < _EPS)
                )
            ]
            return stack[keep]

        candidate = via(z_transit)
        if self._path_ok(np.vstack([a, candidate, b])):
            return candidate
        # Over the zones in the way, when their ceilings are finite and low enough.
        full = np.vstack([a, np.array([a[0], a[1], z_transit]), np.array([b[0], b[1], z_transit])])
        points, _ = self._samples(full[:-1], full[1:])
        blocking = set(self.keepout_hit(points).tolist()) - {-1}
        ceilings = [self.keepout[i].zone.ceiling_m for i in blocking]
        if ceilings and all(math.isfinite(c) for c in ceilings):
            z_over = max(z_transit, max(ceilings) + ZONE_MARGIN_M)
            if z_over <= self.max_height_m:
                candidate = via(z_over)
                if self._path_ok(np.vstack([a, candidate, b])):
                    return candidate
        # Around the zones (and any structure too tall to overfly) at the transit height.
        detour = self._detour_xy(a[:2], b[:2], z_transit)
        if detour is not None:
            candidate = via(z_transit, np.column_stack([detour, np.full(len(detour), z_transit)]))
            if self._path_ok(np.vstack([a, candidate, b])):
                return candidate
        return None

    def _obstacle_outlines(self, z: float) -> list[Any]:
        """Outlines of what blocks height ``z``: keep-out zones grown by ``ZONE_MARGIN_M`` and
        structures taller than ``z - min_distance_m`` grown by the minimum distance + margin.

        Few vertices, and never inside the true clearance region: zones and boxes are grown
        with mitred corners (then simplified by half the margin), circles are circumscribed
        12-gons (vertex radius ``r / cos(15 deg)``).
        """
        outlines = [
            area.polygon.buffer(ZONE_MARGIN_M, join_style="mitre").simplify(ZONE_MARGIN_M / 2)
            for area in self.keepout
            if area.zone.floor_m <= z <= area.zone.ceiling_m
        ]
        quad_segs = 3
        grow = 1.0 / math.cos(math.pi / (4 * quad_segs))
        clearance = self.min_distance_m + ZONE_MARGIN_M
        for solid in self.solids:
            if solid.z_top + self.min_distance_m <= z:
                continue
            if solid.shape == "box":
                outlines.append(solid.footprint.buffer(clearance, join_style="mitre"))
            else:
                circle = shapely.Point(solid.center_xy)
                outlines.append(circle.buffer((solid.radius + clearance) * grow, quad_segs))
        return outlines

    def _detour_xy(self, a_xy: FloatArray, b_xy: FloatArray, z: float) -> FloatArray | None:
        """Shortest 2D path around the obstacles at height ``z`` (visibility graph).

        Only the obstacles that matter enter the graph: those meeting the straight line, then
        those meeting the convex hull of the ends and the obstacles taken so far, until no new
        one meets it (the shortest path around a set of obstacles stays in that hull).
        """
        outlines = self._obstacle_outlines(z)
        if not outlines:
            return None
        tree = shapely.STRtree(outlines)
        ends = shapely.MultiPoint([a_xy, b_xy])
        region: Any = shapely.LineString([a_xy, b_xy])
        chosen: set[int] = set()
        while True:
            hits = {int(i) for i in tree.query(region, predicate="intersects")}
            if hits <= chosen:
                break
            chosen |= hits
            hull = shapely.union_all([ends, *(outlines[i] for i in sorted(chosen))]).convex_hull
            region = hull.buffer(ZONE_MARGIN_M)
        if not chosen:
            return None
        obstacles = [outlines[i] for i in sorted(chosen)]
        blocked: Any = shapely.union_all(obstacles)
        # The ends may lie within the margin of an obstacle (a waypoint just outside a zone, or
        # at the minimum distance from a structure): open a hole of that margin around them.
        # The path found is checked exactly afterwards.
        hole = ZONE_MARGIN_M + 0.05
        blocked = blocked.difference(shapely.MultiPoint([a_xy, b_xy]).buffer(hole, quad_segs=4))
        if blocked.is_empty:
            return None
        if blocked.contains(shapely.Point(a_xy)) or blocked.contains(shapely.Point(b_xy)):
            return None
        shrunk = blocked.buffer(-0.01)
        shapely.prepare(shrunk)
        polygons = getattr(blocked, "geoms", [blocked])
        corners = [np.asarray(p.exterior.coords)[:-1] for p in polygons]
        nodes = np.vstack([a_xy, b_xy, *corners])
        n = nodes.shape[0]
        i_idx, j_idx = np.triu_indices(n, k=1)
        lines = shapely.linestrings(np.stack([nodes[i_idx], nodes[j_idx]], axis=1))
        free = ~shapely.intersects(lines, shrunk)
        graph: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        length = np.hypot(*(nodes[i_idx] - nodes[j_idx]).T)
        for i, j, w in zip(i_idx[free], j_idx[free], length[free], strict=True):
            graph[int(i)].append((int(j), float(w)))
            graph[int(j)].append((int(i), float(w)))
        dist = [math.inf] * n
        prev = [-1] * n
        dist[0] = 0.0
        heap = [(0.0, 0)]
        while heap:
            d, u = heapq.heappop(heap)
            if u == 1:
                break
            if d > dist[u]:
                continue
            for v, w in graph[u]:
                if d + w < dist[v] - 1e-12:
                    dist[v], prev[v] = d + w, u
                    heapq.heappush(heap, (d + w, v))
        if not math.isfinite(dist[1]):
            return None
        path = []
        node = prev[1]
        while node > 1:
            path.append(nodes[node])
            node = prev[node]
        return np.array(path[::-1]).reshape(-1, 2)


# -- rows: the route as columns ------------------------------------------------------------------


@dataclass
class _Rows:
    xyz: FloatArray
    heading: FloatArray
    pitch: FloatArray
    photo: BoolArray
    kind: IntArray
    facility: IntArray  # index into site.facilities, -1 for none
    part: IntArray  # index into the plan's part labels, -1 for none
    speed: FloatArray  # nominal speed on the leg leaving the row [m/s]

    @classmethod
    def empty(cls) -> _Rows:
        return cls(
            np.zeros((0, 3)),
            np.zeros(0),
            np.zeros(0),
            np.zeros(0, dtype=bool),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
        )

    @classmethod
    def transit(
        cls, points: FloatArray, speed: float, heading: float, kind: int = _K_TRANSIT
    ) -> _Rows:
        n = points.shape[0]
        return cls(
            points.reshape(-1, 3),
            np.full(n, heading),
            np.zeros(n),
            np.zeros(n, dtype=bool),
            np.full(n, kind, dtype=np.int64),
            np.full(n, -1, dtype=np.int64),
            np.full(n, -1, dtype=np.int64),
            np.full(n, speed),
        )

    def __len__(self) -> int:
        return int(self.xyz.shape[0])

    def take(self, index: Any) -> _Rows:
        return _Rows(
            self.xyz[index],
            self.heading[index],
            self.pitch[index],
            self.photo[index],
            self.kind[index],
            self.facility[index],
            self.part[index],
            self.speed[index],
        )

    @staticmethod
    def concat(chunks: Sequence[_Rows]) -> _Rows:
        chunks = [c for c in chunks if len(c)]
        if not chunks:
            return _Rows.empty()
        return _Rows(
            np.concatenate([c.xyz for c in chunks]),
            np.concatenate([c.heading for c in chunks]),
            np.concatenate([c.pitch for c in chunks]),
            np.concatenate([c.photo for c in chunks]),
            np.concatenate([c.kind for c in chunks]),
            np.concatenate([c.facility for c in chunks]),
            np.concatenate([c.part for c in chunks]),
            np.concatenate([c.speed for c in chunks]),
        )


def _leg_times_s(rows: _Rows, speed: FloatArray) -> FloatArray:
    """Time of each leg rows[i] -> rows[i + 1] [s], with the hover of a photo at its end."""
    delta = np.diff(rows.xyz, axis=0)
    horizontal = np.hypot(delta[:, 0], delta[:, 1])
    vertical = np.abs(delta[:, 2])
    with np.errstate(divide="ignore", invalid="ignore"):
        cruise = np.where(horizontal > 0.0, horizontal / speed[:-1], 0.0)
    return cruise + vertical / CLIMB_SPEED_M_S + PHOTO_HOVER_S * rows.photo[1:]


def _path_length_m(xyz: FloatArray) -> float:
    return float(np.linalg.norm(np.diff(xyz, axis=0), axis=1).sum()) if len(xyz) > 1 else 0.0


# -- skipped bookkeeping -------------------------------------------------------------------------


class _Log:
    """Collects dropped/slowed waypoints and advisories, grouped for ``Plan.skipped``."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str, str]] = Counter()
        self.order: list[tuple[str, str, str, str]] = []

    def add(self, facility_id: str, part: str, reason: str, action: str, count: int = 1) -> None:
        key = (facility_id, part, reason, action)
        if key not in self.counts:
            self.order.append(key)
        self.counts[key] += count

    def merge(self, other: _Log) -> None:
        for key in other.order:
            self.add(*key, count=other.counts[key])

    def entries(self) -> tuple[dict[str, str], ...]:
        return tuple(
            {
                "facility_id": key[0],
                "part": key[1],
                "reason": key[2],
                "action": key[3],
                "count": str(self.counts[key]),
            }
            for key in self.order
        )


def _zone_label(area: _Area) -> str:
    return f"{area.zone.kind} zone {area.zone.id!r}"


def _fall_label(guard: _Guard, ref: int) -> str:
    if ref == -2:
        return "the site boundary"
    if ref >= 0:
        return _zone_label(guard.fall[ref])
    return "a keep-out area"


# -- ordering ------------------------------------------------------------------------------------


def _tour_order(start_xy: FloatArray, centres: FloatArray) -> list[int]:
    """Visiting order of ``centres`` (N, 2): nearest neighbour from ``start_xy``, then 2-opt.

    Open path with a fixed start (the take-off point); 2-opt reverses segments while that
    shortens the path [3]_.
    """
    n = centres.shape[0]
    if n <= 1:
        return list(range(n))
    nodes = np.vstack([start_xy, centres])
    dist = np.hypot(*(nodes[:, None, :] - nodes[None, :, :]).transpose(2, 0, 1))
    path = [0]
    unvisited = set(range(1, n + 1))
    while unvisited:
        last = path[-1]
        nxt = min(unvisited, key=lambda j: (dist[last, j], j))
        path.append(nxt)
        unvisited.remove(nxt)
    improved = True
    while improved:
        improved = False
        for i in range(1, n):
            for k in range(i + 1, n + 1):
                before = dist[path[i - 1], path[i]]
                after = dist[path[i - 1], path[k]]
                if k < n:
                    before += dist[path[k], path[k + 1]]
                    after += dist[path[i], path[k + 1]]
                if after < before - 1e-9:
                    path[i : k + 1] = path[i : k + 1][::-1]
                    improved = True
    return [p - 1 for p in path[1:]]


# -- baseline ------------------------------------------------------------------------------------


def structure_scan_baseline(
    facility: Facility, camera: CameraModel, options: PlanOptions
) -> dict[str, float | int]:
    """QGroundControl Structure Scan's layers, shots, distance and time for one facility.

    Parameters
    ----------
    facility
        The structure; its outline is the footprint circle (cylinders, spheres) or rectangle
        (boxes), its height the top above ground, the scan bottom its base.
    camera, options
        Camera, target GSD, overlaps and speeds as for :func:`plan_inspection`.

    Returns
    -------
    figures
        ``layers``, ``layer_height_m`` (vertical footprint x (1 - side overlap)),
        ``flight_perimeter_m`` (outline offset by the standoff), ``photos``, ``distance_m``,
        ``flight_time_s`` (same time model as the planner: ``speed_m_s``, ``PHOTO_HOVER_S``
        per photo, ``CLIMB_SPEED_M_S`` for the height).

    Notes
    -----
    QGroundControl names the vertical layer spacing its *frontal* footprint and the trigger
    distance along the orbit its *side* footprint [1]_ [2]_; here the vertical spacing uses
    ``options.side_overlap`` and the along-orbit spacing ``options.front_overlap``, as the
    planner does, so both are compared at the same overlaps.
    """
    d = standoff_for_gsd_m(camera, options.gsd_mm)
    width_m, height_m = footprint_m(camera, d)
    layer_height = height_m * (1.0 - options.side_overlap)
    trigger = width_m * (1.0 - options.front_overlap)
    layers = max(1, math.ceil(facility.height_m / layer_height - 1e-9))
    if facility.is_vertical_cylinder or facility.type == "sphere":
        assert facility.diameter_m is not None
        perimeter = 2.0 * math.pi * (facility.diameter_m / 2.0 + d)
    else:
        assert facility.length_m is not None and facility.width_m is not None
        perimeter = 2.0 * (facility.length_m + facility.width_m) + 8.0 * d  # mitred offset
    photos = int(perimeter / trigger) * layers
    distance = perimeter * layers + facility.height_m
    time_s = (
        perimeter * layers / options.speed_m_s
        + facility.height_m / CLIMB_SPEED_M_S
        + photos * PHOTO_HOVER_S
    )
    return {
        "layers": layers,
        "layer_height_m": layer_height,
        "flight_perimeter_m": perimeter,
        "photos": photos,
        "distance_m": distance,
        "flight_time_s": time_s,
    }


def _structure_scan_rows(
    f: Facility, camera: CameraModel, options: PlanOptions
) -> tuple[FloatArray, FloatArray]:
    """Photo positions (N, 3) and headings (N,) of Structure Scan around one facility."""
    figures = structure_scan_baseline(f, camera, options)
    d = standoff_for_gsd_m(camera, options.gsd_mm)
    trigger = footprint_m(camera, d)[0] * (1.0 - options.front_overlap)
    layer_height = float(figures["layer_height_m"])
    perimeter = float(figures["flight_perimeter_m"])
    shots = int(perimeter / trigger)
    along = np.arange(shots) * trigger  # trigger points along the flight outline [m]
    centre = np.array(f.center_m[:2])
    if f.is_vertical_cylinder or f.type == "sphere":
        assert f.diameter_m is not None
        theta = along / (f.diameter_m / 2.0 + d)
        xy = centre + (f.diameter_m / 2.0 + d) * np.column_stack([np.sin(theta), np.cos(theta)])
        heading = np.mod(np.degrees(theta) + 180.0, 360.0)
    else:
        assert f.length_m is not None and f.width_m is not None
        u, v = _box_axes(f)
        half_l, half_w = f.length_m / 2.0 + d, f.width_m / 2.0 + d  # mitred offset outline
        corners = [(-half_l, half_w), (half_l, half_w), (half_l, -half_w), (-half_l, -half_w)]
        local = np.array([*corners, corners[0]])
        edges = np.diff(local, axis=0)
        lengths = np.hypot(*edges.T)
        start = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
        edge = np.clip(np.searchsorted(start, along, side="right") - 1, 0, 3)
        pos = local[edge] + (along - start[edge])[:, None] * edges[edge] / lengths[edge, None]
        xy = centre + pos[:, :1] * u + pos[:, 1:] * v
        inward = np.column_stack([edges[edge, 1], -edges[edge, 0]])  # right of travel
        look = inward[:, :1] * u + inward[:, 1:] * v
        heading = _bearing_deg(look[:, 0], look[:, 1])
    layers = int(figures["layers"])
    z = f.center_m[2] + layer_height / 2.0 + layer_height * np.arange(layers)
    xyz = np.column_stack([np.tile(xy, (layers, 1)), np.repeat(z, len(xy))])
    return xyz, np.tile(heading, layers)


def structure_scan_plan(site: Site, camera: CameraModel, options: PlanOptions) -> Plan:
    """The QGroundControl Structure Scan baseline as a ``Plan``, to ray-cast its coverage.

    One sortie per facility: layers from the structure's base at the layer height of
    :func:`structure_scan_baseline`, photos every trigger distance along the structure's outline
    offset by the standoff (a circle, or the mitred rectangle of a box), camera level and
    facing the structure, as QGroundControl flies it [1]_. No roofs, and no constraint is
    applied (Structure Scan checks none); flight times as in :func:`structure_scan_baseline`.

    Parameters
    ----------
    site, camera, options
        As for :func:`plan_inspection` (``options.facility_ids`` selects facilities).

    Returns
    -------
    plan
        Photo waypoints only (kind ``"orbit"``, ``"sphere"`` or ``"rack"``), with latitude and
        longitude; ``baseline`` holds the per-facility figures.
    """
    _validate(options, "tour", DEFAULT_FALL_KINDS)
    ids = options.facility_ids or tuple(f.id for f in site.facilities)
    kinds = {"sphere": "sphere", "pipe_rack": "rack", "building": "rack"}
    takeoff = site.takeoff_points_m[0] if site.takeoff_points_m else (0.0, 0.0)
    d = float(standoff_for_gsd_m(camera, options.gsd_mm))
    sorties = []
    figures = {}
    for k, fid in enumerate(ids):
        f = site.facility(fid)
        _check_facility(f)
        figures[fid] = structure_scan_baseline(f, camera, options)
        xyz, heading = _structure_scan_rows(f, camera, options)
        lat_lon = np.asarray(site.to_wgs84(xyz), dtype=float) if len(xyz) else np.zeros((0, 3))
        waypoints = tuple(
            Waypoint(
                x_m=float(p[0]),
                y_m=float(p[1]),
                z_m=float(p[2]),
                heading_deg=float(h),
                gimbal_pitch_deg=0.0,
                speed_m_s=options.speed_m_s,
                facility_id=fid,
                kind=kinds.get(f.type, "orbit"),
                lat_deg=float(ll[0]),
                lon_deg=float(ll[1]),
            )
            for p, h, ll in zip(xyz, heading, lat_lon, strict=True)
        )
        sorties.append(
            Sortie(
                index=k,
                takeoff_m=(float(takeoff[0]), float(takeoff[1])),
                waypoints=waypoints,
                flight_time_s=float(figures[fid]["flight_time_s"]),
                distance_m=float(figures[fid]["distance_m"]),
            )
        )
    return Plan(
        site_name=site.name,
        camera=camera,
        options=options,
        standoff_m=d,
        sorties=tuple(sorties),
        baseline={"method": "QGroundControl Structure Scan", "facilities": figures},
    )


# -- the planner ---------------------------------------------------------------------------------


def _validate(options: PlanOptions, ordering: str, fall_kinds: Sequence[str]) -> None:
    checks: list[tuple[str, float, bool, str]] = [
        ("gsd_mm", options.gsd_mm, options.gsd_mm > 0.0, "> 0 mm/px"),
        ("front_overlap", options.front_overlap, 0.0 <= options.front_overlap < 1.0, "in [0, 1)"),
        ("side_overlap", options.side_overlap, 0.0 <= options.side_overlap < 1.0, "in [0, 1)"),
        ("min_distance_m", options.min_distance_m, options.min_distance_m >= 0.0, ">= 0 m"),
        ("max_height_m", options.max_height_m, options.max_height_m > 0.0, "> 0 m"),
        ("speed_m_s", options.speed_m_s, options.speed_m_s > 0.0, "> 0 m/s"),
        (
            "transit_speed_m_s",
            options.transit_speed_m_s,
            options.transit_speed_m_s > 0.0,
            "> 0 m/s",
        ),
        ("wind_m_s", options.wind_m_s, options.wind_m_s >= 0.0, ">= 0 m/s"),
        (
            "battery_endurance_s",
            options.battery_endurance_s,
            options.battery_endurance_s > TAKEOFF_LANDING_S,
            f"> {TAKEOFF_LANDING_S:g} s (take-off and landing)",
        ),
        (
            "max_photos_per_sortie",
            options.max_photos_per_sortie,
            options.max_photos_per_sortie >= 1,
            ">= 1",
        ),
        (
            "max_incidence_deg",
            options.max_incidence_deg,
            0.0 < options.max_incidence_deg < 90.0,
            "in (0, 90) deg",
        ),
        ("photo_interval_s", options.photo_interval_s, options.photo_interval_s >= 0.0, ">= 0 s"),
    ]
    for name, value, ok, allowed in checks:
        if not (math.isfinite(value) and ok):
            raise InputError(f"must be {allowed}, got {value!r}", f"options.{name}")
    if ordering not in ORDERINGS:
        raise InputError(
            f"unknown ordering {ordering!r}; valid: {', '.join(ORDERINGS)}", "ordering"
        )
    for kind in fall_kinds:
        if kind not in ("people", "road", *KEEPOUT_HAZARD_KINDS, *KEEPOUT_ALWAYS_KINDS):
            raise InputError(
                f"unknown zone kind {kind!r} for the fall-range check; valid: people, road, "
                "zone0, zone1, zone2, no_fly, fire_restricted",
                "fall_keepout_kinds",
            )


def _allowed_takeoffs(site: Site, guard: _Guard) -> FloatArray:
    if not site.takeoff_points_m:
        raise InputError("the site has no take-off points; add at least one", "takeoff_points_m")
    points = np.array([(x, y, 0.0) for x, y in site.takeoff_points_m], dtype=float)
    zone = guard.keepout_hit(points)
    clearance, nearest = guard.structure_clearance(points)
    ok = (zone < 0) & (clearance >= guard.min_distance_m - 1e-6)
    if not np.any(ok):
        why = []
        for i, (x, y, _) in enumerate(points):
            if zone[i] >= 0:
                why.append(f"({x:.1f}, {y:.1f}) in {_zone_label(guard.keepout[int(zone[i])])}")
            else:
                solid = guard.solids[int(nearest[i])]
                why.append(f"({x:.1f}, {y:.1f}) {clearance[i]:.1f} m from {solid.facility_id}")
        raise InputError(
            "every take-off point is inside a keep-out zone or closer than "
            f"{guard.min_distance_m:.1f} m to a structure: " + "; ".join(why),
            "takeoff_points_m",
        )
    return points[ok]


def _block_rows(
    fi: int,
    f: Facility,
    parts: list[_Part],
    part_base: int,
    guard: _Guard,
    options: PlanOptions,
    log: _Log,
) -> _Rows:
    """Checked, connected and re-routed waypoints of one facility."""
    n_each = [len(p.photo) for p in parts]
    rows = _Rows(
        np.concatenate([p.xyz for p in parts]),
        np.concatenate([p.heading_deg for p in parts]),
        np.concatenate([p.pitch_deg for p in parts]),
        np.concatenate([p.photo for p in parts]),
        np.repeat(np.array([p.kind for p in parts], dtype=np.int64), n_each),
        np.full(sum(n_each), fi, dtype=np.int64),
        np.repeat(np.arange(part_base, part_base + len(parts)), n_each).astype(np.int64),
        np.full(sum(n_each), options.speed_m_s),
    )
    code, ref, limit = guard.check_points(rows.xyz)
    for c in (_HIGH, _ZONE, _NEAR, _FALL):
        for p_local in np.unique(rows.part[code == c] - part_base):
            mask = (code == c) & (rows.part == part_base + p_local)
            refs = Counter(ref[mask].tolist())
            for r, count in sorted(refs.items()):
                if c == _HIGH:
                    reason = f"above the {options.max_height_m:g} m height limit"
                elif c == _ZONE:
                    reason = f"inside {_zone_label(guard.keepout[r])}" + (
                        " (aircraft not explosion-proof)"
                        if guard.keepout[r].zone.kind in KEEPOUT_HAZARD_KINDS
                        else ""
                    )
                elif c == _NEAR:
                    reason = (
                        f"closer than {options.min_distance_m:g} m to {guard.solids[r].facility_id}"
                    )
                else:
                    reason = (
                        f"fall range reaches {_fall_label(guard, r)} even at "
                        f"{MIN_SPEED_M_S:g} m/s (wind {options.wind_m_s:g} m/s)"
                    )
                log.add(f.id, parts[int(p_local)].label, reason, "dropped", count)
    keep = code == _OK
    slowed = keep & (limit < options.speed_m_s)
    for p_local in np.unique(rows.part[slowed] - part_base):
        mask = slowed & (rows.part == part_base + p_local)
        refs = Counter(ref[mask].tolist())
        for r, count in sorted(refs.items()):
            log.add(
                f.id,
                parts[int(p_local)].label,
                f"fall range reaches {_fall_label(guard, r)} at {options.speed_m_s:g} m/s; "
                f"slowed (down to {float(np.min(limit[mask])):.1f} m/s)",
                "slowed",
                count,
            )
    loop = np.concatenate(
        [
            p.loop_index if p.loop_index is not None else np.full(n, -1)
            for p, n in zip(parts, n_each, strict=True)
        ]
    )
    rows, loop = rows.take(keep), loop[keep]
    if len(rows) == 0:
        return rows
    loop_size = max((p.loop_size for p in parts), default=0)
    if loop_size and not np.all(np.isin(np.arange(loop_size), loop[loop >= 0])):
        rows = rows.take(_sector_order(rows.part, loop, loop_size))
    # Connectors between parts: move at the higher of the two heights (climb first, or move
    # then descend), so that no leg cuts diagonally past a roof edge.
    chunks: list[_Rows] = []
    start = 0
    change = np.flatnonzero(np.diff(rows.part) != 0) + 1
    for cut in [*change.tolist(), len(rows)]:
        chunk = rows.take(slice(start, cut))
        if chunks:
            a, b = chunks[-1].xyz[-1], chunk.xyz[0]
            if abs(a[2] - b[2]) > _EPS and np.hypot(*(a[:2] - b[:2])) > _EPS:
                corner = (
                    np.array([a[0], a[1], b[2]]) if b[2] > a[2] else np.array([b[0], b[1], a[2]])
                )
                link = _Rows.transit(corner[None, :], options.speed_m_s, float(chunk.heading[0]))
                link.facility[:] = fi
                chunks.append(link)
        chunks.append(chunk)
        start = cut
    rows = _Rows.concat(chunks)
    # Re-route legs that are blocked (a dropped stretch of orbit leaves a chord through a zone).
    blocked = guard.legs_blocked(rows.xyz[:-1], rows.xyz[1:])
    if not np.any(blocked):
        return rows
    out = [rows.take(slice(0, 1))]
    current = rows.xyz[0]
    i = 1
    while i < len(rows):
        target = rows.xyz[i]
        leg_ok = not blocked[i - 1] and np.array_equal(current, rows.xyz[i - 1])
        path = np.zeros((0, 3)) if leg_ok else guard.safe_path(current, target, direct_first=True)
        if path is None:
            part = int(rows.part[i])
            log.add(
                f.id,
                parts[part - part_base].label if part >= 0 else "transit",
                "no safe leg reaches it from the previous waypoint",
                "dropped",
            )
            i += 1
            continue
        if len(path):
            link = _Rows.transit(path, options.speed_m_s, float(rows.heading[i]))
            link.facility[:] = fi
            out.append(link)
        out.append(rows.take(slice(i, i + 1)))
        current = target
        i += 1
    return _Rows.concat(out)


def _sector_order(part: IntArray, loop: IntArray, loop_size: int) -> IntArray:
    """Row order that flies the side layers sector by sector when some loop positions are gone.

    A *sector* is a run of loop positions (cyclic) where at least one layer kept a waypoint.
    Each sector is flown on its own, layers in a serpentine (alternate direction), bottom to
    top in the first sector, top to bottom in the next, and so on, so that the aircraft never
    cuts across a gap left by dropped waypoints (a chord through the structure, or through the
    area the waypoints were dropped to avoid). Rows without a loop position (roof grids) keep
    their order, after the side layers. Sectors are taken in order of their distance from loop
    position 0, the entry point.
    """
    sides = np.flatnonzero(loop >= 0)
    others = np.flatnonzero(loop < 0)
    layers = np.unique(part[sides])
    grid = np.full((len(layers), loop_size), -1, dtype=np.int64)
    grid[np.searchsorted(layers, part[sides]), loop[sides]] = sides
    present = np.any(grid >= 0, axis=0)
    gap = int(np.flatnonzero(~present)[0])
    runs: list[list[int]] = []
    for step in range(1, loop_size + 1):
        position = (gap + step) % loop_size
        if not present[position]:
            continue
        if runs and (position - 1) % loop_size == runs[-1][-1]:
            runs[-1].append(position)
        else:
            runs.append([position])

    def distance_from_entry(run: list[int]) -> int:
        return min(min(p, loop_size - p) for p in run)

    runs.sort(key=lambda run: (distance_from_entry(run), run[0]))
    order: list[int] = []
    for s, run in enumerate(runs):
        layer_order = range(len(layers)) if s % 2 == 0 else range(len(layers) - 1, -1, -1)
        flown = 0
        for k in layer_order:
            cells = grid[k, run]
            cells = cells[cells >= 0]
            if len(cells) == 0:
                continue
            order.extend((cells if flown % 2 == 0 else cells[::-1]).tolist())
            flown += 1
    return np.array(order + others.tolist(), dtype=np.int64)


def plan_inspection(
    site: Site,
    camera: CameraModel,
    options: PlanOptions,
    *,
    ordering: str = "tour",
    fall_keepout_kinds: Sequence[str] = DEFAULT_FALL_KINDS,
    closed_zone_ids: Collection[str] = (),
) -> Plan:
    """Plan an inspection flight of a site's facilities at the target GSD.

    Parameters
    ----------
    site
        The site, in local ENU [m].
    camera
        The photo camera.
    options
        Target GSD [mm/px], overlaps, minimum distance [m], height limit [m], speeds [m/s],
        wind [m/s], explosion-proof aircraft, battery endurance [s], incidence limit [deg],
        photo interval [s], facilities to fly.
    ordering
        ``"tour"`` (nearest neighbour + 2-opt, default) or ``"input"`` (the site's order; for
        comparison).
    fall_keepout_kinds
        Zone kinds a falling aircraft must not reach (besides leaving the ``boundary``):
        ``("people", "road")`` by default; add ``"zone0"``, ``"zone1"``, ``"zone2"``,
        ``"fire_restricted"`` for MHLW-2022 Table 3.2 b1's separation from explosive and
        fire-restricted areas.
    closed_zone_ids
        Ids of zones (roads, people areas) that will be closed to third parties and watched
        during the flight (MHLW-2022 Table 3.2 a1: keep third parties out of the flight area,
        watch the route): exempt from the fall-range check; ``Plan.skipped`` lists each with
        action ``"close"`` and the number of waypoints whose fall range reaches it.

    Returns
    -------
    plan
        Sorties of waypoints in flying order (ENU, with latitude/longitude from
        ``Site.to_wgs84``), ``skipped`` (dropped or slowed waypoints and
        advisories, grouped: facility_id, part, reason, action, count) and ``baseline``
        (Structure Scan figures next to the planner's own).

    Raises
    ------
    InputError
        Invalid options; a target GSD needing a standoff closer than ``min_distance_m``; an
        unknown facility id; a facility without dimensions; no allowed take-off point.
    """
    _validate(options, ordering, fall_keepout_kinds)
    zone_ids = {z.id for z in site.zones}
    unknown_zones = sorted(set(closed_zone_ids) - zone_ids)
    if unknown_zones:
        raise InputError(
            f"unknown zone id(s) {', '.join(map(repr, unknown_zones))}; the site has "
            f"{', '.join(sorted(zone_ids)) or 'none'}",
            "closed_zone_ids",
        )
    d = float(standoff_for_gsd_m(camera, options.gsd_mm))
    if d < options.min_distance_m:
        raise InputError(
            f"target GSD {options.gsd_mm:g} mm/px needs a {d:.1f} m standoff, closer than the "
            f"{options.min_distance_m:.1f} m minimum distance; use a longer lens or a coarser GSD",
            "options.gsd_mm",
        )
    width_m, height_m = footprint_m(camera, d)
    geo = _Geometry(
        standoff_m=d,
        footprint_w_m=float(width_m),
        footprint_h_m=float(height_m),
        front_overlap=options.front_overlap,
        side_overlap=options.side_overlap,
        min_distance_m=options.min_distance_m,
        max_incidence_deg=options.max_incidence_deg,
    )
    index = {f.id: i for i, f in enumerate(site.facilities)}
    if options.facility_ids is None:
        selected = list(range(len(site.facilities)))
    else:
        unknown = [fid for fid in options.facility_ids if fid not in index]
        if unknown:
            raise InputError(
                f"unknown facility id(s) {', '.join(map(repr, unknown))}; the site has "
                f"{', '.join(f.id for f in site.facilities) or 'none'}",
                "options.facility_ids",
            )
        selected = [index[fid] for fid in options.facility_ids]
    for f in site.facilities:  # every structure is an obstacle, selected or not
        _check_facility(f)

    guard = _Guard(site, options, tuple(fall_keepout_kinds), frozenset(closed_zone_ids))
    takeoffs = _allowed_takeoffs(site, guard)
    log = _Log()

    # Visiting order of the facilities.
    home = takeoffs[0]
    centres = np.array([site.facilities[i].center_m[:2] for i in selected], dtype=float)
    if ordering == "tour" and len(selected) > 1:
        selected = [selected[k] for k in _tour_order(home[:2], centres.reshape(-1, 2))]

    # Patterns, checks and transits, facility by facility.
    labels: list[tuple[str, str, bool]] = []  # (facility_id, label, side)
    chunks: list[_Rows] = []
    previous = home.copy()
    for fi in selected:
        f = site.facilities[fi]
        parts = _facility_parts(f, geo, previous[:2], MIN_PHOTO_HEIGHT_M)
        base = len(labels)
        labels += [(f.id, p.label, p.side) for p in parts]
        block = _block_rows(fi, f, parts, base, guard, options, log)
        if len(block) == 0:
            log.add(f.id, "all", "every waypoint was dropped", "skipped")
            continue
        if chunks:
            path = guard.safe_path(previous, block.xyz[0], direct_first=False)
            if path is None:
                log.add(f.id, "all", "no safe transit from the previous facility", "skipped")
                continue
            chunks.append(_Rows.transit(path, options.transit_speed_m_s, float(block.heading[0])))
        chunks.append(block)
        previous = block.xyz[-1].copy()
    route = _Rows.concat(chunks)

    # Speeds: nominal, capped by fall range along each leg and by the photo interval.
    speed = route.speed.copy()
    if len(route) > 1:
        leg_limit, leg_area = _chunked_leg_limits(route, guard)
        horizontal = np.hypot(*np.diff(route.xyz[:, :2], axis=0).T)
        spacing = max(options.photo_interval_s - PHOTO_HOVER_S, 0.0)
        both_photos = route.photo[:-1] & route.photo[1:]
        with np.errstate(divide="ignore"):
            interval_limit = np.where(
                both_photos & (spacing > 0.0), horizontal / max(spacing, _EPS), np.inf
            )
        speed[:-1] = np.minimum(speed[:-1], interval_limit)
        _apply_leg_limits(speed, leg_limit, leg_area, horizontal, route, guard, log, site)
    sorties = _split_sorties(route, speed, takeoffs, guard, options, log, site)

    _log_closed_zones(guard, sorties, options, log)

    # Geodetic copies, one conversion for the whole plan.
    all_xyz = np.vstack([s.xyz for s in sorties]) if sorties else np.zeros((0, 3))
    lat_lon = np.asarray(site.to_wgs84(all_xyz), dtype=float) if len(all_xyz) else None
    built: list[Sortie] = []
    offset = 0
    for k, s in enumerate(sorties):
        waypoints = []
        for i in range(len(s.rows)):
            lat = lon = None
            if lat_lon is not None:
                lat, lon = float(lat_lon[offset + i, 0]), float(lat_lon[offset + i, 1])
            fi = int(s.rows.facility[i])
            waypoints.append(
                Waypoint(
                    x_m=float(s.rows.xyz[i, 0]),
                    y_m=float(s.rows.xyz[i, 1]),
                    z_m=float(s.rows.xyz[i, 2]),
                    heading_deg=float(s.rows.heading[i]),
                    gimbal_pitch_deg=float(s.rows.pitch[i]),
                    speed_m_s=float(s.speed[i]),
                    action="photo" if s.rows.photo[i] else "none",
                    facility_id=site.facilities[fi].id if fi >= 0 else None,
                    kind=_KINDS[int(s.rows.kind[i])],
                    lat_deg=lat,
                    lon_deg=lon,
                )
            )
        offset += len(s.rows)
        built.append(
            Sortie(
                index=k,
                takeoff_m=(float(s.takeoff[0]), float(s.takeoff[1])),
                waypoints=tuple(waypoints),
                flight_time_s=s.time_s,
                distance_m=s.distance_m,
            )
        )
    baseline = _baseline(site, camera, options, selected, route, speed, labels, built)
    return Plan(
        site_name=site.name,
        camera=camera,
        options=options,
        standoff_m=d,
        sorties=tuple(built),
        skipped=log.entries(),
        baseline=baseline,
    )


def _log_closed_zones(
    guard: _Guard, sorties: Sequence[_BuiltSortie], options: PlanOptions, log: _Log
) -> None:
    """One ``"close"`` entry per closed zone: waypoints whose fall range reaches it."""
    if not guard.closed or not sorties:
        return
    xyz = np.vstack([s.xyz for s in sorties])
    speed = np.concatenate([s.speed for s in sorties])
    reach = (speed + options.wind_m_s) * fall_time_s(np.maximum(xyz[:, 2], 0.0))
    points = shapely.points(xyz[:, :2])
    for area in guard.closed:
        count = int(np.sum(shapely.distance(area.polygon, points) <= reach))
        log.add(
            "",
            "site",
            f"{_zone_label(area)} is within the fall range of {count} waypoint(s): close it to "
            "third parties and watch it during the flight",
            "close",
        )


def _chunked_leg_limits(route: _Rows, guard: _Guard) -> tuple[FloatArray, IntArray]:
    """Fall-range speed limits of the route's legs, computed per facility block (and per
    transit) so that each call only looks at the zones near it."""
    n_legs = len(route) - 1
    limit = np.full(n_legs, np.inf)
    area = np.full(n_legs, -1, dtype=np.int64)
    group = route.facility[:-1]
    cuts = [0, *(np.flatnonzero(np.diff(group) != 0) + 1).tolist(), n_legs]
    for lo, hi in itertools.pairwise(cuts):
        if hi > lo:
            limit[lo:hi], area[lo:hi] = guard.legs_speed_limit(
                route.xyz[lo:hi], route.xyz[lo + 1 : hi + 1]
            )
    return limit, area


def _apply_leg_limits(
    speed: FloatArray,
    leg_limit: FloatArray,
    leg_area: IntArray,
    horizontal: FloatArray,
    rows: _Rows,
    guard: _Guard,
    log: _Log,
    site: Site,
) -> None:
    """Lower leg speeds to their fall-range limits; log advisories where even the slowest
    speed (or hovering, for vertical legs) leaves the fall range over a protected area."""
    moving = horizontal > _EPS
    too_fast = leg_limit < speed[:-1]
    # Vertical legs too, so that the speed written to the waypoint is the one that fits.
    speed[:-1] = np.where(too_fast, np.maximum(leg_limit, MIN_SPEED_M_S), speed[:-1])
    hopeless = np.where(moving, leg_limit < MIN_SPEED_M_S, leg_limit < 0.0)
    for i in np.flatnonzero(hopeless):
        fi = int(rows.facility[i])
        log.add(
            site.facilities[fi].id if fi >= 0 else "",
            "transit" if rows.kind[i] == _K_TRANSIT else _KINDS[int(rows.kind[i])],
            f"fall range reaches {_fall_label(guard, int(leg_area[i]))} even at "
            f"{MIN_SPEED_M_S:g} m/s; keep it clear or watched while the aircraft passes",
            "advisory",
        )


@dataclass
class _BuiltSortie:
    takeoff: FloatArray
    rows: _Rows
    speed: FloatArray
    time_s: float
    distance_m: float

    @property
    def xyz(self) -> FloatArray:
        return self.rows.xyz


def _split_sorties(
    route: _Rows,
    speed: FloatArray,
    takeoffs: FloatArray,
    guard: _Guard,
    options: PlanOptions,
    log: _Log,
    site: Site,
) -> list[_BuiltSortie]:
    """Cut the route into battery sorties (see the module docstring)."""
    n = len(route)
    if n == 0:
        return []
    endurance = options.battery_endurance_s
    legs = _leg_times_s(route, speed) if n > 1 else np.zeros(0)
    cumulative = np.concatenate([[0.0], np.cumsum(legs)])
    photos_upto = np.cumsum(route.photo.astype(np.int64))  # photos in route[: i + 1]
    tallest = max((s.z_top for s in guard.solids), default=0.0)
    z_global = min(options.max_height_m, tallest + options.min_distance_m + ZONE_MARGIN_M)
    real = route.kind != _K_TRANSIT
    sorties: list[_BuiltSortie] = []
    a = 0
    while a < n:
        if not real[a]:
            a += 1
            continue
        fi = int(route.facility[a])
        where = site.facilities[fi].id if fi >= 0 else ""
        built: _BuiltSortie | None = None
        # Nearest allowed take-off point first; the next one if no safe transit leaves it.
        by_distance = np.argsort(np.hypot(*(takeoffs[:, :2] - route.xyz[a, :2]).T), kind="stable")
        for takeoff in takeoffs[by_distance]:
            z_t = np.maximum(route.xyz[a:, 2], z_global)
            horizontal = np.hypot(*(route.xyz[a:, :2] - takeoff[:2]).T)
            back = (2.0 * z_t - route.xyz[a:, 2]) / CLIMB_SPEED_M_S
            back += horizontal / options.transit_speed_m_s
            out = back[0] + PHOTO_HOVER_S * route.photo[a]
            total = TAKEOFF_LANDING_S + out + cumulative[a:] - cumulative[a] + back
            photos = photos_upto[a:] - (photos_upto[a - 1] if a > 0 else 0)
            too_many = photos > options.max_photos_per_sortie
            fits = (total <= endurance) & real[a:] & ~too_many
            over = np.flatnonzero((total > endurance) | too_many)
            candidates = np.flatnonzero(fits[: over[0] if len(over) else n - a])
            if len(candidates) == 0:
                continue
            b = a + int(candidates[-1])
            for _attempt in range(64):
                notes = _Log()
                result = _build_sortie(route, speed, a, b, takeoff, guard, options, notes, site)
                if isinstance(result, _BuiltSortie) and result.time_s <= endurance + 1e-6:
                    log.merge(notes)
                    built = result
                    break
                if result == "out":
                    break  # this take-off point cannot reach the first waypoint
                if isinstance(result, _BuiltSortie):
                    # Over the endurance (detours, slowed transits): end earlier by the excess.
                    excess = result.time_s - endurance
                    shorter = fits[: b - a] & (total[: b - a] <= total[b - a] - excess)
                else:  # no safe return from b: end at an earlier waypoint
                    shorter = fits[: b - a].copy()
                earlier = np.flatnonzero(shorter)
                if len(earlier) == 0:
                    break
                b = a + int(earlier[-1])
            if built is not None:
                break
        if built is None:
            # Unreachable from every take-off point: skip the rest of this facility's block.
            stop = a + 1
            while stop < n and int(route.facility[stop]) == fi and fi >= 0:
                stop += 1
            log.add(
                where,
                "waypoints",
                "no safe sortie from any take-off point reaches them within the battery endurance",
                "dropped",
                int(real[a:stop].sum()),
            )
            a = stop
            continue
        sorties.append(built)
        a = b + 1
    return sorties


def _build_sortie(
    route: _Rows,
    speed: FloatArray,
    a: int,
    b: int,
    takeoff: FloatArray,
    guard: _Guard,
    options: PlanOptions,
    log: _Log,
    site: Site,
) -> _BuiltSortie | str:
    """Sortie of route rows a..b from ``takeoff``; ``"out"`` or ``"back"`` if no safe transit
    leads from the take-off point to row a, or from row b back to it."""
    ground = np.array([takeoff[0], takeoff[1], 0.0])
    inner = route.take(slice(a, b + 1))
    out_path = guard.safe_path(ground, inner.xyz[0], direct_first=False)
    if out_path is None:
        return "out"
    back_path = guard.safe_path(inner.xyz[-1], ground, direct_first=False)
    if back_path is None:
        return "back"
    if len(out_path) == 0 or not np.allclose(out_path[0, :2], ground[:2]):
        out_path = np.vstack([[ground[0], ground[1], inner.xyz[0, 2]], out_path])
    heading = float(inner.heading[0])
    takeoff_row = _Rows.transit(out_path[:1], options.transit_speed_m_s, heading, _K_TAKEOFF)
    out_rows = _Rows.transit(out_path[1:], options.transit_speed_m_s, heading)
    back_rows = _Rows.transit(back_path, options.transit_speed_m_s, float(inner.heading[-1]))
    landing = _Rows.transit(ground[None, :], options.transit_speed_m_s, heading, _K_LANDING)
    rows = _Rows.concat([takeoff_row, out_rows, inner, back_rows, landing])
    sortie_speed = np.concatenate(
        [
            np.full(len(takeoff_row) + len(out_rows), options.transit_speed_m_s),
            speed[a : b + 1],
            np.full(len(back_rows) + 1, options.transit_speed_m_s),
        ]
    )
    # The last inner row leaves on the return transit.
    sortie_speed[len(takeoff_row) + len(out_rows) + len(inner) - 1] = options.transit_speed_m_s
    # Fall-range limits on the transits added here (not the climb and descent at the take-off
    # point, and not the areas the take-off point itself is in: the crew's landing site).
    exempt = frozenset(
        i
        for i, area in enumerate(guard.fall)
        if area.polygon.intersects(shapely.Point(takeoff[:2]))
    )
    n_out = len(takeoff_row) + len(out_rows)
    for lo, hi in ((0, n_out + 1), (n_out + len(inner) - 1, len(rows))):
        if hi - lo < 2:
            continue
        seg = rows.take(slice(lo, hi))
        limit, area = guard.legs_speed_limit(seg.xyz[:-1], seg.xyz[1:], exempt)
        if hi == len(rows):
            limit[-1] = np.inf  # the descent onto the take-off point
        horizontal = np.hypot(*np.diff(seg.xyz[:, :2], axis=0).T)
        local = sortie_speed[lo:hi].copy()
        _apply_leg_limits(local, limit, area, horizontal, seg, guard, log, site)
        sortie_speed[lo : hi - 1] = local[:-1]
    # Quantise leg speeds down to SPEED_STEP_M_S: slower is the safe side for the fall range,
    # and a mission then changes speed only where it matters (fewer DO_CHANGE_SPEED items).
    moving = sortie_speed > 0
    sortie_speed[moving] = np.maximum(
        np.floor(sortie_speed[moving] / SPEED_STEP_M_S + 1e-9) * SPEED_STEP_M_S, MIN_SPEED_M_S
    )
    full = np.vstack([ground, rows.xyz])
    climb_s = rows.xyz[0, 2] / CLIMB_SPEED_M_S
    time_s = TAKEOFF_LANDING_S + climb_s + float(_leg_times_s(rows, sortie_speed).sum())
    return _BuiltSortie(takeoff, rows, sortie_speed, time_s, _path_length_m(full))


def _baseline(
    site: Site,
    camera: CameraModel,
    options: PlanOptions,
    selected: list[int],
    route: _Rows,
    speed: FloatArray,
    labels: list[tuple[str, str, bool]],
    sorties: list[Sortie],
) -> dict[str, Any]:
    facilities: dict[str, dict[str, float | int]] = {}
    for fi in selected:
        f = site.facilities[fi]
        facilities[f.id] = structure_scan_baseline(f, camera, options)
    total = {
        key: sum(v[key] for v in facilities.values())
        for key in ("photos", "distance_m", "flight_time_s")
    }
    legs = _leg_times_s(route, speed) if len(route) > 1 else np.zeros(0)
    planned: dict[str, dict[str, float | int]] = {}
    side_of = np.array([side for _, _, side in labels], dtype=bool)
    for fi in selected:
        mask = route.facility == fi
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            continue
        first, last = int(rows[0]), int(rows[-1])
        in_block = legs[first:last]
        part = route.part[first : last + 1]
        is_side = np.where(part >= 0, side_of[np.maximum(part, 0)], False)
        photos = route.photo[first : last + 1]
        side_legs = is_side[1:] & is_side[:-1]
        top_legs = (~is_side[1:]) & (part[1:] >= 0) & (part[:-1] >= 0) & (~is_side[:-1])
        planned[site.facilities[fi].id] = {
            "photos": int(photos.sum()),
            "side_photos": int((photos & is_side).sum()),
            "top_photos": int((photos & ~is_side & (part >= 0)).sum()),
            "layers": len({int(p) for p in part[is_side & (part >= 0)]}),
            "inspection_time_s": float(in_block.sum()) + PHOTO_HOVER_S * bool(photos[0]),
            "side_time_s": float(in_block[side_legs].sum()),
            "top_time_s": float(in_block[top_legs].sum()),
            "distance_m": _path_length_m(route.xyz[first : last + 1]),
        }
    distance = sum(s.distance_m for s in sorties)
    inspection = sum(v["distance_m"] for v in planned.values())
    return {
        "method": (
            "QGroundControl Structure Scan: layers = max(1, ceil(height / (vertical footprint "
            "x (1 - side overlap)))), shots per layer = floor(perimeter of the outline offset by "
            "the standoff / (horizontal footprint x (1 - front overlap))); sides only, no roofs"
        ),
        "source": (
            "QGroundControl src/MissionManager/StructureScanComplexItem.cc (_recalcLayerInfo, "
            "_recalcCameraShots, _recalcScanDistance), CameraCalc.cc"
        ),
        "time_model": {
            "speed_m_s": options.speed_m_s,
            "transit_speed_m_s": options.transit_speed_m_s,
            "climb_speed_m_s": CLIMB_SPEED_M_S,
            "photo_hover_s": PHOTO_HOVER_S,
            "takeoff_landing_s": TAKEOFF_LANDING_S,
        },
        "facilities": facilities,
        "total": total,
        "planned": {
            "facilities": planned,
            "total": {
                "photos": sum(s.photo_count for s in sorties),
                "side_photos": sum(int(v["side_photos"]) for v in planned.values()),
                "side_time_s": sum(float(v["side_time_s"]) for v in planned.values()),
                "inspection_time_s": sum(float(v["inspection_time_s"]) for v in planned.values()),
                "flight_time_s": sum(s.flight_time_s for s in sorties),
                "distance_m": distance,
                "transit_distance_m": max(distance - inspection, 0.0),
                "sorties": len(sorties),
            },
        },
    }
