"""Vectorised ray casting against a handful of solid primitives.

The nearest hit over all primitives is kept per ray; the loop runs over primitives, never over
rays or pixels. Each primitive only computes exact intersections for the rays that can hit it:

* :func:`cast_rays` (arbitrary rays) culls with the primitive's bounding sphere — a ray can hit
  only if it passes within the sphere's radius of the centre and could enter the sphere before
  the best hit so far;
* :func:`first_hit_depth_map` (pixel rays) casts only the pixels inside the primitive's
  projected bounding box (whole image when unbounded or reaching behind the camera).

Both give the same answer as testing every ray against every primitive.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plantwatch.errors import InputError
from plantwatch.geometry.camera import PinholeCamera, _finite_float, _finite_vector3
from plantwatch.geometry.primitives import Primitive, _as_points, _as_rays, _dot

__all__ = ["cast_rays", "first_hit_depth_map", "is_occluded", "surface_normals"]

FloatArray = NDArray[np.float64]

# Relative and absolute slack on bounding-sphere culling so round-off never culls a true hit.
_CULL_RELATIVE = 1e-9
_CULL_ABSOLUTE_M = 1e-9


def _check_primitives(primitives: Sequence[Primitive]) -> Sequence[Primitive]:
    for position, primitive in enumerate(primitives):
        if not hasattr(primitive, "_intersect_unchecked"):
            raise InputError(
                f"must be Cylinder, Box, Sphere or GroundPlane, got {type(primitive).__name__}",
                field=f"primitives[{position}]",
            )
    return primitives


def _cast_unchecked(
    origins: FloatArray, dirs: FloatArray, primitives: Sequence[Primitive]
) -> tuple[FloatArray, NDArray[np.int32]]:
    """Nearest hit of validated rays (origins (3,) or (N, 3), unit dirs (N, 3))."""
    n_rays = dirs.shape[0]
    best_t = np.full(n_rays, np.inf)
    best_index = np.full(n_rays, -1, dtype=np.int32)
    for index, primitive in enumerate(primitives):
        sphere = primitive._bounding_sphere()
        if sphere is None:
            t = primitive._intersect_unchecked(origins, dirs)
            better = t < best_t
            best_t = np.where(better, t, best_t)
            best_index[better] = index
            continue
        centre, radius = sphere
        radius = radius * (1.0 + _CULL_RELATIVE) + _CULL_ABSOLUTE_M
        to_centre = centre - origins  # (3,) or (N, 3)
        along = _dot(to_centre, dirs)  # distance along each ray to the centre's foot [m]
        miss2 = _dot(to_centre, to_centre) - along * along  # squared ray-centre distance [m2]
        candidate = (miss2 <= radius * radius) & (along + radius >= 0.0)
        candidate &= along - radius < best_t
        rays = np.flatnonzero(candidate)
        if rays.size == 0:
            continue
        ray_origins = origins if origins.ndim == 1 else origins[rays]
        t = primitive._intersect_unchecked(ray_origins, dirs[rays])
        better = t < best_t[rays]
        best_t[rays[better]] = t[better]
        best_index[rays[better]] = index
    return best_t, best_index


def cast_rays(
    origins_m: ArrayLike, directions: ArrayLike, primitives: Sequence[Primitive]
) -> tuple[FloatArray, NDArray[np.int32]]:
    r"""Nearest solid hit along each ray over all primitives.

    Parameters
    ----------
    origins_m
        Ray origins [m], shape (3,) (shared by all rays) or (N, 3).
    directions
        Unit ray directions [-], shape (N, 3) (a single (3,) direction is one ray).
    primitives
        The solids; a ray's hit index refers to this sequence.

    Returns
    -------
    t_m
        Distance to the first entry hit [m], shape (N,); ``inf`` for a miss, ``0.0`` for a ray
        starting inside a solid.
    index
        Index of the primitive hit, shape (N,), int32; ``-1`` for a miss. On an exact tie the
        lower index wins.

    Notes
    -----
    .. math:: t_i = \min_k t_{ik}, \quad \mathrm{index}_i = \operatorname{argmin}_k t_{ik}
    """
    origins, dirs = _as_rays(origins_m, directions)
    return _cast_unchecked(origins, dirs, _check_primitives(primitives))


def first_hit_depth_map(
    camera: PinholeCamera, primitives: Sequence[Primitive]
) -> tuple[FloatArray, NDArray[np.int32], FloatArray]:
    r"""Per-pixel first solid surface seen by ``camera``.

    Parameters
    ----------
    camera
        The camera whose pixel-centre rays are cast.
    primitives
        The solids.

    Returns
    -------
    depth_m
        Depth of the hit along the optical axis [m], shape (H, W); ``inf`` for sky.
    index
        Primitive index, shape (H, W), int32; ``-1`` for sky.
    hit_points_m
        World hit points [m], shape (H, W, 3); ``nan`` for sky.

    Notes
    -----
    A hit at distance :math:`t` along the unit pixel ray has depth
    :math:`z = t \cos\alpha` (:meth:`PinholeCamera.pixel_depth_factor`).
    """
    height, width = camera.height_px, camera.width_px
    origin = np.asarray(camera.position_m, dtype=np.float64)
    dirs = camera.pixel_ray_directions()  # (H, W, 3)
    best_t = np.full((height, width), np.inf)
    best_index = np.full((height, width), -1, dtype=np.int32)
    for index, primitive in enumerate(_check_primitives(primitives)):
        window = _screen_window(camera, primitive)
        if window is None:
            continue
        rows, cols = window
        block_dirs = dirs[rows, cols].reshape(-1, 3)  # (h * w, 3)
        block_t = best_t[rows, cols]  # view (h, w)
        t = primitive._intersect_unchecked(origin, block_dirs).reshape(block_t.shape)
        better = t < block_t
        block_t[better] = t[better]
        best_index[rows, cols][better] = index
    depth = best_t * camera.pixel_depth_factor()
    hit = np.isfinite(best_t)
    hit_points = np.full((height, width, 3), np.nan)
    hit_points[hit] = origin + best_t[hit, None] * dirs[hit]
    return depth, best_index, hit_points


def _screen_window(camera: PinholeCamera, primitive: Primitive) -> tuple[slice, slice] | None:
    """Conservative pixel window (rows, cols) that holds every pixel whose ray can hit.

    The image of a box in front of the camera is the convex hull of its projected corners, so
    the rectangle around the projected corners of ``primitive.bounds()`` (widened by one pixel
    for round-off) holds every pixel centre whose ray hits it. Unbounded primitives, and boxes
    reaching behind the image plane, get the whole image; ``None`` means off-screen.
    """
    full = (slice(0, camera.height_px), slice(0, camera.width_px))
    low, high = primitive.bounds()
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        return full
    corners = np.stack(np.meshgrid(*zip(low, high, strict=True), indexing="ij"), -1).reshape(-1, 3)
    cam = camera.world_to_camera(corners)
    if cam[:, 2].min() <= _CULL_ABSOLUTE_M:
        return full
    u = camera.fx_px * cam[:, 0] / cam[:, 2] + camera.cx_px
    v = camera.fy_px * cam[:, 1] / cam[:, 2] + camera.cy_px
    col0 = max(int(np.floor(u.min())) - 1, 0)
    col1 = min(int(np.ceil(u.max())) + 2, camera.width_px)
    row0 = max(int(np.floor(v.min())) - 1, 0)
    row1 = min(int(np.ceil(v.max())) + 2, camera.height_px)
    if col0 >= col1 or row0 >= row1:
        return None
    return slice(row0, row1), slice(col0, col1)


def is_occluded(
    camera_position_m: ArrayLike,
    points_m: ArrayLike,
    primitives: Sequence[Primitive],
    tolerance_m: float = 1e-6,
) -> NDArray[np.bool_]:
    r"""Whether a solid lies between the camera and each point.

    Parameters
    ----------
    camera_position_m
        Viewpoint [m], shape (3,).
    points_m
        Points to test [m], shape (N, 3).
    primitives
        The solids.
    tolerance_m
        A hit must be closer than ``distance - tolerance_m`` to occlude [m], so a point on a
        visible surface is not hidden by its own solid.

    Returns
    -------
    occluded
        Shape (N,). A point inside a solid is occluded (the ray enters the solid first), as is
        every point when the camera is inside a solid; a point at the camera is occluded only
        if the camera is inside a solid.

    Notes
    -----
    .. math:: \mathrm{occluded} = t_\mathrm{hit}(\hat d) < \lVert p - c\rVert - \epsilon,
        \quad \hat d = (p - c) / \lVert p - c\rVert
    """
    camera = np.array(_finite_vector3(camera_position_m, "camera_position_m"))
    points = _as_points(points_m)
    tolerance = _finite_float(tolerance_m, "tolerance_m")
    if tolerance < 0.0:
        raise InputError(f"must be >= 0 m, got {tolerance_m!r}", field="tolerance_m")
    _check_primitives(primitives)
    offsets = points - camera
    distance = np.sqrt(_dot(offsets, offsets))
    at_camera = distance == 0.0
    dirs = offsets / np.where(at_camera, 1.0, distance)[:, None]
    dirs[at_camera] = (0.0, 0.0, 1.0)  # any unit direction: t = 0 iff the camera is inside
    t, _ = _cast_unchecked(camera, dirs, primitives)
    return np.where(at_camera, t == 0.0, t < distance - tolerance)


def surface_normals(
    points_m: ArrayLike, index: ArrayLike, primitives: Sequence[Primitive]
) -> FloatArray:
    """Outward unit surface normals at hit points.

    Parameters
    ----------
    points_m
        Hit points [m], shape (N, 3) (as from :func:`cast_rays`: ``origin + t * direction``);
        rows with ``index == -1`` may hold anything, ``nan`` included.
    index
        Primitive index per point, shape (N,); ``-1`` for none.
    primitives
        The solids ``index`` refers to.

    Returns
    -------
    normals
        Unit normals [-], shape (N, 3): the normal of the primitive's surface nearest to the
        point; ``nan`` where ``index == -1``.
    """
    points = np.asarray(points_m, dtype=np.float64)
    indices = np.asarray(index)
    if points.ndim != 2 or points.shape[1] != 3:
        raise InputError(f"must have shape (N, 3), got {points.shape}", field="points_m")
    if indices.shape != (points.shape[0],) or not np.issubdtype(indices.dtype, np.integer):
        raise InputError(
            f"must be integers of shape ({points.shape[0]},), got {indices.dtype} {indices.shape}",
            field="index",
        )
    _check_primitives(primitives)
    if indices.size and (indices.min() < -1 or indices.max() >= len(primitives)):
        raise InputError(
            f"must lie in [-1, {len(primitives) - 1}] (one per primitive, -1 for none)",
            field="index",
        )
    normals = np.full(points.shape, np.nan)
    for position, primitive in enumerate(primitives):
        rows = np.flatnonzero(indices == position)
        if rows.size:
            normals[rows] = primitive.normal_at(points[rows])
    return normals
