"""Solid primitives for scenes and sites: cylinders, boxes, spheres and the ground.

Every primitive is a frozen dataclass in the world (ENU) frame [m] with the same small API:

``intersect(origins_m, directions)``
    Distance ``t_m`` [m] along each unit ray to its first *entry* into the solid; ``inf`` for a
    miss; ``0.0`` for a ray that starts inside (or on the surface of) the solid.
``contains(points_m)``
    Whether each point lies in the closed solid.
``closest_surface_point(points_m)``
    The nearest point on the solid's surface (from inside or outside).
``normal_at(points_m)``
    Outward unit normal of the surface at (the surface point nearest to) each point.
``bounds()``
    Axis-aligned bounding box ``(min_xyz_m, max_xyz_m)``.

Rays are ``origin + t * direction`` with ``t >= 0``. A ray's solid interval is the
intersection of the intervals the ray spends inside each bounding surface (slabs, quadrics) —
the slab method of [1]_; tangent rays (an interval of zero length) count as hits.

References
----------
.. [1] T. L. Kay and J. T. Kajiya, "Ray tracing complex scenes", SIGGRAPH 1986, pp. 269-278.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plantwatch.errors import InputError
from plantwatch.geometry.camera import _cos_sin_deg, _finite_float, _finite_vector3

__all__ = ["Box", "Cylinder", "GroundPlane", "Primitive", "Sphere"]

Vector3 = tuple[float, float, float]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Directions must be unit vectors within this tolerance: |‖d‖ - 1| <= UNIT_TOLERANCE.
UNIT_TOLERANCE = 1e-6


# -- input handling --------------------------------------------------------------------------


def _as_points(points_m: ArrayLike, field: str = "points_m") -> FloatArray:
    """Finite float64 points, shape (N, 3); a single (3,) point becomes (1, 3)."""
    points = np.asarray(points_m, dtype=np.float64)
    if points.ndim == 1:
        points = points.reshape(1, -1)
    if points.ndim != 2 or points.shape[1] != 3:
        raise InputError(f"must have shape (N, 3) or (3,), got {np.shape(points_m)}", field)
    if not np.isfinite(points).all():
        raise InputError("must be finite (no nan or inf)", field=field)
    return points


def _as_rays(origins_m: ArrayLike, directions: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Validated rays: origins (3,) (shared) or (N, 3), unit directions (N, 3)."""
    origins = np.asarray(origins_m, dtype=np.float64)
    dirs = _as_points(directions, "directions")
    if origins.shape != (3,):
        origins = _as_points(origins, "origins_m")
        if origins.shape[0] != dirs.shape[0]:
            raise InputError(
                f"must have shape (3,) or (N, 3) with N = {dirs.shape[0]} rays, "
                f"got {origins.shape}",
                field="origins_m",
            )
    elif not np.isfinite(origins).all():
        raise InputError("must be finite (no nan or inf)", field="origins_m")
    norm_error = np.abs(_dot(dirs, dirs) - 1.0)
    if norm_error.size and norm_error.max() > 2.0 * UNIT_TOLERANCE:
        raise InputError(
            f"must be unit vectors (| |d| - 1 | <= {UNIT_TOLERANCE}); normalise them first",
            field="directions",
        )
    # Renormalise so the quadrics can rely on |d| = 1 to round-off.
    return origins, dirs / np.sqrt(_dot(dirs, dirs))[:, None]


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    """Row-wise dot product of (3,) or (N, 3) arrays -> scalar array or (N,)."""
    if a.ndim == 1:
        return b @ a
    if b.ndim == 1:
        return a @ b
    return np.einsum("ij,ij->i", a, b)


def _positive_length(value: object, field: str) -> float:
    number = _finite_float(value, field)
    if number <= 0.0:
        raise InputError(f"must be a finite length > 0 m, got {value!r}", field=field)
    return number


def _perpendicular_unit(axis: FloatArray) -> FloatArray:
    """A fixed unit vector perpendicular to the unit ``axis``, shape (3,)."""
    helper = np.zeros(3)
    helper[int(np.argmin(np.abs(axis)))] = 1.0
    perpendicular = np.cross(axis, helper)
    return perpendicular / np.linalg.norm(perpendicular)


# -- ray-interval helpers ---------------------------------------------------------------------


def _quadratic_interval(
    a: FloatArray, b: FloatArray, c: FloatArray | float
) -> tuple[FloatArray, FloatArray]:
    """Interval where ``a t^2 + 2 b t + c <= 0`` (``a >= 0``), as (lo, hi); ``nan`` if empty.

    Uses the cancellation-free roots ``q = -(b + sign(b) sqrt(b^2 - a c))``,
    ``t = q / a`` and ``t = c / q`` (Numerical Recipes, 3rd ed., Eq. 5.6.4-5.6.5). For
    ``a == 0`` (ray parallel to the quadric's axis) the interval is everything if ``c <= 0``.
    A ``nan`` bound makes every later comparison false, so the ray misses.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(b * b - a * c)  # nan where the discriminant is negative: a miss
        q = -(b + np.copysign(root, b))
        t1 = q / a
        t2 = c / q
    lo = np.fmin(t1, t2)
    hi = np.fmax(t1, t2)
    parallel = a == 0.0
    if np.any(parallel):
        inside = np.broadcast_to(np.asarray(c) <= 0.0, parallel.shape)
        lo = np.where(parallel, np.where(inside, -np.inf, np.nan), lo)
        hi = np.where(parallel, np.where(inside, np.inf, np.nan), hi)
    return lo, hi


def _slab_interval(
    origin: FloatArray, direction: FloatArray, low: float, high: float
) -> tuple[FloatArray, FloatArray]:
    """Interval where ``low <= origin + t direction <= high`` (1-D, elementwise), as (lo, hi)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = 1.0 / direction
        t1 = (low - origin) * inverse
        t2 = (high - origin) * inverse
    # fmin/fmax drop the nan of 0 * inf (a ray lying in a slab plane): the other bound decides.
    return np.fmin(t1, t2), np.fmax(t1, t2)


def _entry_distance(t_near: FloatArray, t_far: FloatArray) -> FloatArray:
    """First ``t >= 0`` of the interval [t_near, t_far]: 0 inside, ``inf`` if none."""
    hit = (t_near <= t_far) & (t_far >= 0.0)
    return np.where(hit, np.maximum(t_near, 0.0), np.inf)


def _nearest_candidates(
    points: FloatArray, candidates: FloatArray, normals: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Pick per point the nearest of K candidate surface points.

    ``candidates`` and ``normals`` have shape (K, N, 3); returns points and normals (N, 3).
    """
    distance2 = np.sum((candidates - points[None]) ** 2, axis=-1)  # (K, N)
    best = np.argmin(distance2, axis=0)  # (N,)
    rows = np.arange(points.shape[0])
    return candidates[best, rows], normals[best, rows]


# -- primitives -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cylinder:
    r"""A right circular cylinder between two points, any axis (pipes, tanks, columns).

    Parameters
    ----------
    start_m, end_m
        Centres of the two end faces, world frame [m]; must differ.
    radius_m
        Radius [m], > 0.
    capped
        ``True``: a closed solid (end discs included). ``False``: an open, thin-walled tube —
        only the lateral surface exists, rays can enter through the open ends and hit the wall
        from inside, and ``contains`` is ``False`` everywhere.

    Notes
    -----
    With axis :math:`\hat a = (e - s)/L`, :math:`w = o - s`, and the components
    perpendicular to the axis :math:`w_\perp = w - (w\cdot\hat a)\hat a`,
    :math:`d_\perp = d - (d\cdot\hat a)\hat a`, the ray is inside the infinite cylinder where

    .. math:: \lVert d_\perp\rVert^2 t^2 + 2 (w_\perp \cdot d) t
        + \lVert w_\perp\rVert^2 - r^2 \le 0

    and between the end planes where :math:`0 \le w\cdot\hat a + t\, d\cdot\hat a \le L`.
    """

    start_m: Vector3  # centre of the first end face [m]
    end_m: Vector3  # centre of the second end face [m]
    radius_m: float  # [m]
    capped: bool = True  # closed solid (True) or open thin-walled tube (False)

    def __post_init__(self) -> None:
        start = _finite_vector3(self.start_m, "start_m")
        end = _finite_vector3(self.end_m, "end_m")
        if start == end:
            raise InputError(
                f"must differ from start_m (zero-length cylinder at {start})", field="end_m"
            )
        object.__setattr__(self, "start_m", start)
        object.__setattr__(self, "end_m", end)
        object.__setattr__(self, "radius_m", _positive_length(self.radius_m, "radius_m"))
        if not isinstance(self.capped, bool | np.bool_):
            raise InputError(f"must be True or False, got {self.capped!r}", field="capped")
        object.__setattr__(self, "capped", bool(self.capped))

    @property
    def length_m(self) -> float:
        """Axis length ``|end - start|`` [m]."""
        return math.dist(self.start_m, self.end_m)

    @property
    def axis_unit(self) -> FloatArray:
        """Unit axis from start to end [-], shape (3,)."""
        return (np.asarray(self.end_m) - np.asarray(self.start_m)) / self.length_m

    def _intersect_unchecked(self, origins: FloatArray, dirs: FloatArray) -> FloatArray:
        start, axis, length = np.asarray(self.start_m), self.axis_unit, self.length_m
        offset = origins - start
        offset_axial = _dot(offset, axis)
        dir_axial = dirs @ axis
        offset_perp = offset - np.multiply.outer(offset_axial, axis)
        # |d_perp|^2 = 1 - (d.a)^2 for unit d, factored to keep precision near the axis.
        a = np.maximum((1.0 - dir_axial) * (1.0 + dir_axial), 0.0)
        b = _dot(offset_perp, dirs)
        c = _dot(offset_perp, offset_perp) - self.radius_m**2
        lo, hi = _quadratic_interval(a, b, c)
        if self.capped:
            slab_lo, slab_hi = _slab_interval(offset_axial, dir_axial, 0.0, length)
            return _entry_distance(np.maximum(lo, slab_lo), np.minimum(hi, slab_hi))
        # Open tube: the first wall crossing t >= 0 whose axial coordinate is on the tube.
        t = np.full(dirs.shape[0], np.inf)
        for root in (hi, lo):
            axial = offset_axial + root * dir_axial
            valid = np.isfinite(root) & (root >= 0.0) & (axial >= 0.0) & (axial <= length)
            t = np.where(valid, np.minimum(t, root), t)
        return t

    def intersect(self, origins_m: ArrayLike, directions: ArrayLike) -> FloatArray:
        """Distance to the first entry into the cylinder along each ray [m].

        Parameters
        ----------
        origins_m
            Ray origins [m], shape (3,) (shared) or (N, 3).
        directions
            Unit ray directions [-], shape (N, 3).

        Returns
        -------
        t_m
            Shape (N,): first ``t >= 0`` on the solid [m]; ``0.0`` when the origin is inside
            (capped only); ``inf`` for a miss.
        """
        origins, dirs = _as_rays(origins_m, directions)
        return self._intersect_unchecked(origins, dirs)

    def contains(self, points_m: ArrayLike) -> BoolArray:
        """Whether each point lies in the closed solid, shape (N,) (all ``False`` if open)."""
        points = _as_points(points_m)
        if not self.capped:
            return np.zeros(points.shape[0], dtype=bool)
        offset = points - np.asarray(self.start_m)
        axial = offset @ self.axis_unit
        perp = offset - np.multiply.outer(axial, self.axis_unit)
        return (axial >= 0.0) & (axial <= self.length_m) & (_dot(perp, perp) <= self.radius_m**2)

    def _surface(self, points_m: ArrayLike) -> tuple[FloatArray, FloatArray]:
        points = _as_points(points_m)
        start, axis, length, radius = (
            np.asarray(self.start_m),
            self.axis_unit,
            self.length_m,
            self.radius_m,
        )
        offset = points - start
        axial = offset @ axis
        perp = offset - np.multiply.outer(axial, axis)
        rho = np.sqrt(_dot(perp, perp))
        with np.errstate(divide="ignore", invalid="ignore"):
            radial = np.where((rho > 0.0)[:, None], perp / rho[:, None], _perpendicular_unit(axis))
        lateral = start + np.multiply.outer(np.clip(axial, 0.0, length), axis) + radius * radial
        if not self.capped:
            return lateral, radial
        disc = np.minimum(rho, radius)[:, None] * radial
        candidates = np.stack([lateral, start + disc, start + length * axis + disc])
        normals = np.stack(
            [radial, np.broadcast_to(-axis, radial.shape), np.broadcast_to(axis, radial.shape)]
        )
        return _nearest_candidates(points, candidates, normals)

    def closest_surface_point(self, points_m: ArrayLike) -> FloatArray:
        """Nearest point on the surface (lateral wall, and end discs if capped) [m], (N, 3).

        A point on the axis gets a fixed radial direction perpendicular to the axis.
        """
        return self._surface(points_m)[0]

    def normal_at(self, points_m: ArrayLike) -> FloatArray:
        """Outward unit normal at the surface point nearest to each point [-], (N, 3)."""
        return self._surface(points_m)[1]

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        r"""Axis-aligned bounds ``(min_xyz_m, max_xyz_m)`` [m].

        A disc of radius r with unit normal :math:`\hat a` extends
        :math:`r \sqrt{1 - \hat a_i^2}` along world axis i.
        """
        start, end = np.asarray(self.start_m), np.asarray(self.end_m)
        extent = self.radius_m * np.sqrt(np.clip(1.0 - self.axis_unit**2, 0.0, None))
        return np.minimum(start, end) - extent, np.maximum(start, end) + extent

    def _bounding_sphere(self) -> tuple[FloatArray, float] | None:
        centre = (np.asarray(self.start_m) + np.asarray(self.end_m)) / 2.0
        return centre, math.hypot(self.length_m / 2.0, self.radius_m)


@dataclass(frozen=True)
class Box:
    r"""A rectangular box rotated about the vertical by ``yaw_deg`` (buildings, walls, skids).

    Parameters
    ----------
    center_m
        Centre, world frame [m].
    size_m
        Full edge lengths along the box's own x, y, z axes [m], each > 0. At ``yaw_deg = 0``
        these are east, north and up.
    yaw_deg
        Rotation about world z, clockwise from north seen from above (as the camera's yaw) [deg].

    Notes
    -----
    The box axes in the world frame are :math:`\hat x_b = (\cos\psi, -\sin\psi, 0)`,
    :math:`\hat y_b = (\sin\psi, \cos\psi, 0)`, :math:`\hat z_b = (0, 0, 1)`; rays are
    clipped against the three slabs :math:`|p_b| \le s / 2` in box coordinates [1]_.
    """

    center_m: Vector3  # [m]
    size_m: Vector3  # full edge lengths along box x, y, z [m]
    yaw_deg: float = 0.0  # clockwise from north, about world z [deg]

    def __post_init__(self) -> None:
        object.__setattr__(self, "center_m", _finite_vector3(self.center_m, "center_m"))
        size = _finite_vector3(self.size_m, "size_m")
        if min(size) <= 0.0:
            raise InputError(f"must be three finite lengths > 0 m, got {self.size_m!r}", "size_m")
        object.__setattr__(self, "size_m", size)
        object.__setattr__(self, "yaw_deg", _finite_float(self.yaw_deg, "yaw_deg"))

    @property
    def rotation_world_to_box(self) -> FloatArray:
        """Rows are the box x, y, z axes in the world frame [-], shape (3, 3)."""
        cos, sin = _cos_sin_deg(self.yaw_deg)
        return np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])

    def _to_box(self, points: FloatArray) -> FloatArray:
        return (points - np.asarray(self.center_m)) @ self.rotation_world_to_box.T

    def _intersect_unchecked(self, origins: FloatArray, dirs: FloatArray) -> FloatArray:
        rotation = self.rotation_world_to_box
        origins_box = (origins - np.asarray(self.center_m)) @ rotation.T
        dirs_box = dirs @ rotation.T
        t_near = np.full(dirs.shape[0], -np.inf)
        t_far = np.full(dirs.shape[0], np.inf)
        for axis in range(3):
            half = self.size_m[axis] / 2.0
            lo, hi = _slab_interval(origins_box[..., axis], dirs_box[:, axis], -half, half)
            t_near = np.maximum(t_near, lo)
            t_far = np.minimum(t_far, hi)
        return _entry_distance(t_near, t_far)

    def intersect(self, origins_m: ArrayLike, directions: ArrayLike) -> FloatArray:
        """Distance to the first entry into the box along each ray [m], shape (N,).

        ``origins_m`` (3,) or (N, 3) [m], unit ``directions`` (N, 3); ``0.0`` from inside,
        ``inf`` for a miss.
        """
        origins, dirs = _as_rays(origins_m, directions)
        return self._intersect_unchecked(origins, dirs)

    def contains(self, points_m: ArrayLike) -> BoolArray:
        """Whether each point lies in the closed box, shape (N,)."""
        local = self._to_box(_as_points(points_m))
        return np.all(np.abs(local) <= np.asarray(self.size_m) / 2.0, axis=1)

    def _surface(self, points_m: ArrayLike) -> tuple[FloatArray, FloatArray]:
        points = _as_points(points_m)
        rotation = self.rotation_world_to_box
        local = self._to_box(points)
        half = np.asarray(self.size_m) / 2.0
        clipped = np.clip(local, -half, half)
        candidates, normals = [], []
        for axis in range(3):
            for sign in (-1.0, 1.0):
                on_face = clipped.copy()
                on_face[:, axis] = sign * half[axis]
                candidates.append(on_face)
                normals.append(np.broadcast_to(sign * rotation[axis], points.shape))
        local_best, normal = _nearest_candidates(local, np.stack(candidates), np.stack(normals))
        return local_best @ rotation + np.asarray(self.center_m), normal

    def closest_surface_point(self, points_m: ArrayLike) -> FloatArray:
        """Nearest point on the box surface [m], shape (N, 3)."""
        return self._surface(points_m)[0]

    def normal_at(self, points_m: ArrayLike) -> FloatArray:
        """Outward unit normal of the face nearest to each point [-], shape (N, 3)."""
        return self._surface(points_m)[1]

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """Axis-aligned bounds ``(min_xyz_m, max_xyz_m)`` [m] of the rotated box."""
        half_world = np.abs(self.rotation_world_to_box.T) @ (np.asarray(self.size_m) / 2.0)
        centre = np.asarray(self.center_m)
        return centre - half_world, centre + half_world

    def _bounding_sphere(self) -> tuple[FloatArray, float] | None:
        return np.asarray(self.center_m), float(np.linalg.norm(self.size_m)) / 2.0


@dataclass(frozen=True)
class Sphere:
    r"""A solid ball (spherical vessels, hemispherical heads approximated).

    Notes
    -----
    With :math:`w = o - c`: :math:`t^2 + 2 (w\cdot d) t + \lVert w\rVert^2 - r^2 \le 0`.
    """

    center_m: Vector3  # [m]
    radius_m: float  # [m]

    def __post_init__(self) -> None:
        object.__setattr__(self, "center_m", _finite_vector3(self.center_m, "center_m"))
        object.__setattr__(self, "radius_m", _positive_length(self.radius_m, "radius_m"))

    def _intersect_unchecked(self, origins: FloatArray, dirs: FloatArray) -> FloatArray:
        offset = origins - np.asarray(self.center_m)
        b = _dot(offset, dirs)
        c = _dot(offset, offset) - self.radius_m**2
        lo, hi = _quadratic_interval(np.ones_like(b), b, c)
        return _entry_distance(lo, hi)

    def intersect(self, origins_m: ArrayLike, directions: ArrayLike) -> FloatArray:
        """Distance to the first entry into the ball along each ray [m], shape (N,).

        ``origins_m`` (3,) or (N, 3) [m], unit ``directions`` (N, 3); ``0.0`` from inside,
        ``inf`` for a miss.
        """
        origins, dirs = _as_rays(origins_m, directions)
        return self._intersect_unchecked(origins, dirs)

    def contains(self, points_m: ArrayLike) -> BoolArray:
        """Whether each point lies in the closed ball, shape (N,)."""
        offset = _as_points(points_m) - np.asarray(self.center_m)
        return _dot(offset, offset) <= self.radius_m**2

    def normal_at(self, points_m: ArrayLike) -> FloatArray:
        """Outward unit normal ``(p - c) / |p - c|`` [-], shape (N, 3); +z at the centre."""
        offset = _as_points(points_m) - np.asarray(self.center_m)
        norm = np.sqrt(_dot(offset, offset))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((norm > 0.0)[:, None], offset / norm[:, None], [0.0, 0.0, 1.0])

    def closest_surface_point(self, points_m: ArrayLike) -> FloatArray:
        """Nearest point on the sphere ``c + r (p - c) / |p - c|`` [m], shape (N, 3)."""
        return np.asarray(self.center_m) + self.radius_m * self.normal_at(points_m)

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """Axis-aligned bounds ``(c - r, c + r)`` [m]."""
        centre = np.asarray(self.center_m)
        return centre - self.radius_m, centre + self.radius_m

    def _bounding_sphere(self) -> tuple[FloatArray, float] | None:
        return np.asarray(self.center_m), self.radius_m


@dataclass(frozen=True)
class GroundPlane:
    """The infinite horizontal plane ``z = height_m``; everything below it is solid.

    Notes
    -----
    A ray from above with :math:`d_z < 0` enters at :math:`t = (h - o_z) / d_z`; a ray that
    starts at or below the plane is inside (``t = 0``).
    """

    height_m: float = 0.0  # [m]

    def __post_init__(self) -> None:
        object.__setattr__(self, "height_m", _finite_float(self.height_m, "height_m"))

    def _intersect_unchecked(self, origins: FloatArray, dirs: FloatArray) -> FloatArray:
        origin_z = origins[..., 2]
        dir_z = dirs[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            t_down = (self.height_m - origin_z) / dir_z
        t = np.where(dir_z < 0.0, t_down, np.inf)
        return np.where(origin_z <= self.height_m, 0.0, t)

    def intersect(self, origins_m: ArrayLike, directions: ArrayLike) -> FloatArray:
        """Distance to the ground along each ray [m], shape (N,).

        ``origins_m`` (3,) or (N, 3) [m], unit ``directions`` (N, 3); ``0.0`` from at or below
        the plane, ``inf`` for rays from above that do not descend.
        """
        origins, dirs = _as_rays(origins_m, directions)
        return self._intersect_unchecked(origins, dirs)

    def contains(self, points_m: ArrayLike) -> BoolArray:
        """Whether each point lies at or below the plane, shape (N,)."""
        return _as_points(points_m)[:, 2] <= self.height_m

    def closest_surface_point(self, points_m: ArrayLike) -> FloatArray:
        """Vertical projection onto the plane ``(x, y, h)`` [m], shape (N, 3)."""
        points = _as_points(points_m).copy()
        points[:, 2] = self.height_m
        return points

    def normal_at(self, points_m: ArrayLike) -> FloatArray:
        """``(0, 0, 1)`` for every point [-], shape (N, 3)."""
        points = _as_points(points_m)
        return np.tile([0.0, 0.0, 1.0], (points.shape[0], 1))

    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """``((-inf, -inf, -inf), (inf, inf, h))`` [m]."""
        return np.array([-np.inf, -np.inf, -np.inf]), np.array([np.inf, np.inf, self.height_m])

    def _bounding_sphere(self) -> tuple[FloatArray, float] | None:
        return None


Primitive: TypeAlias = Cylinder | Box | Sphere | GroundPlane
"""Any solid primitive; all share ``intersect``, ``contains``, ``closest_surface_point``,
``normal_at`` and ``bounds``."""
