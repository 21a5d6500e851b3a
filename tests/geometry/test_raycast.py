"""Tests for plantwatch.geometry.raycast: nearest hits, depth maps, occlusion, normals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from plantwatch.errors import InputError
from plantwatch.geometry import (
    Box,
    Cylinder,
    GroundPlane,
    PinholeCamera,
    Primitive,
    Sphere,
    cast_rays,
    first_hit_depth_map,
    is_occluded,
    surface_normals,
)

INF = math.inf
NORTH = (0.0, 1.0, 0.0)


def random_scene(seed: int, n_primitives: int = 20) -> list[Primitive]:
    """A plant-like scene north of the origin: ground, tanks, pipes, buildings, spheres."""
    rng = np.random.default_rng(seed)
    scene: list[Primitive] = [GroundPlane(0.0)]
    while len(scene) < n_primitives:
        x, y = rng.uniform(-15.0, 15.0), rng.uniform(8.0, 60.0)
        kind = len(scene) % 4
        if kind == 0:
            top = (x, y, rng.uniform(3.0, 15.0))
            scene.append(Cylinder((x, y, 0.0), top, rng.uniform(0.5, 4.0)))
        elif kind == 1:
            heights = rng.uniform(0.5, 8.0, 2)
            end = (x + rng.uniform(-20.0, 20.0), y + rng.uniform(-5.0, 5.0), heights[1])
            capped = bool(rng.integers(2))
            scene.append(Cylinder((x, y, heights[0]), end, rng.uniform(0.05, 0.5), capped))
        elif kind == 2:
            size = tuple(rng.uniform(1.0, 8.0, 3))
            scene.append(Box((x, y, size[2] / 2), size, rng.uniform(0.0, 360.0)))
        else:
            scene.append(Sphere((x, y, rng.uniform(1.0, 6.0)), rng.uniform(0.5, 3.0)))
    return scene


# -- cast_rays ----------------------------------------------------------------------------------


def test_cast_rays_nearest_of_many() -> None:
    scene = [
        Box((0.0, 10.5, 0.0), (2.0, 1.0, 2.0)),  # front face y = 10
        Box((0.0, 5.5, 0.0), (2.0, 1.0, 2.0)),  # y = 5: nearest on the axis
        Sphere((0.0, 20.0, 0.0), 1.0),
        Sphere((3.0, 20.0, 0.0), 1.0),  # off to the east
        Cylinder((-3.0, 30.0, -5.0), (-3.0, 30.0, 5.0), 0.5),
    ]
    directions = np.array([NORTH, NORTH, NORTH, NORTH, (0.0, -1.0, 0.0), (0.0, 0.0, 1.0)])
    origins = np.array(
        [(0.0, 0.0, 0.0), (0.0, 7.0, 0.0), (3.0, 0.0, 0.0), (-3.0, 0.0, 0.0), (0, 0, 0), (0, 0, 0)]
    )
    t, index = cast_rays(origins, directions, scene)
    assert_allclose(t, [5.0, 3.0, 19.0, 29.5, INF, INF], rtol=1e-14)
    assert_array_equal(index, [1, 0, 3, 4, -1, -1])
    assert index.dtype == np.int32


def test_cast_rays_tie_goes_to_lower_index() -> None:
    t, index = cast_rays((0.0, 0.0, 0.0), [NORTH], [Sphere((0, 9, 0), 1), Sphere((0, 9, 0), 1)])
    assert_array_equal(index, [0])
    assert t[0] == 8.0


def test_cast_rays_inside_a_solid() -> None:
    t, index = cast_rays((0.0, 0.0, 0.0), [NORTH], [Sphere((0, 5, 0), 1), GroundPlane(1.0)])
    assert_array_equal(t, [0.0])
    assert_array_equal(index, [1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cast_rays_matches_brute_force(seed: int) -> None:
    scene = random_scene(seed)
    rng = np.random.default_rng(seed + 10)
    origins = rng.uniform((-20.0, -5.0, 0.5), (20.0, 70.0, 20.0), size=(3000, 3))
    directions = rng.normal(size=(3000, 3))
    directions /= np.linalg.norm(directions, axis=1)[:, None]
    t, index = cast_rays(origins, directions, scene)
    all_t = np.stack([primitive.intersect(origins, directions) for primitive in scene])
    assert_array_equal(t, all_t.min(axis=0))
    expected_index = np.where(np.isinf(t), -1, np.argmin(all_t, axis=0))
    assert_array_equal(index, expected_index)
    assert 0 < np.isinf(t).sum() < len(t)  # both hits and misses were exercised


def test_cast_rays_shared_origin_and_empty() -> None:
    scene = random_scene(5)
    directions = PinholeCamera(position_m=(0, 0, 2)).pixel_ray_directions()[::7, ::7]
    directions = directions.reshape(-1, 3)
    t_shared, i_shared = cast_rays((0.0, 0.0, 2.0), directions, scene)
    t_each, i_each = cast_rays(np.tile((0.0, 0.0, 2.0), (len(directions), 1)), directions, scene)
    assert_allclose(t_shared, t_each, rtol=1e-12)
    assert_array_equal(i_shared, i_each)
    t, index = cast_rays((0.0, 0.0, 2.0), directions, [])
    assert np.isinf(t).all() and (index == -1).all()
    t, index = cast_rays((0.0, 0.0, 2.0), np.empty((0, 3)), scene)
    assert t.shape == (0,) and index.shape == (0,)


@pytest.mark.parametrize(
    ("origins", "directions", "primitives", "match"),
    [
        ((0, 0, 0), [[0.0, 3.0, 0.0]], [], "directions: must be unit"),
        (np.zeros((2, 3)), [NORTH], [], "origins_m: must have shape"),
        ((0, 0, 0), [NORTH], [Sphere((0, 1, 0), 1), "tank"], r"primitives\[1\]: must be"),
    ],
)
def test_cast_rays_invalid(
    origins: object, directions: object, primitives: list, match: str
) -> None:
    with pytest.raises(InputError, match=match):
        cast_rays(origins, directions, primitives)  # type: ignore[arg-type]


# -- first_hit_depth_map ------------------------------------------------------------------------


def test_first_hit_depth_map_wall() -> None:
    camera = PinholeCamera()  # at (0, 0, 1.5) looking north
    wall = Box((0.0, 20.5, 1.5), (200.0, 1.0, 200.0))  # front face y = 20 fills the view
    depth, index, points = first_hit_depth_map(camera, [wall])
    assert depth.shape == index.shape == (240, 320) and points.shape == (240, 320, 3)
    assert_allclose(depth, 20.0, rtol=0.0, atol=1e-9)
    assert (index == 0).all()
    assert_allclose(points[..., 1], 20.0, atol=1e-9)


def test_first_hit_depth_map_sky_around_a_panel() -> None:
    # Panel x in [-2, 2], z in [0.5, 2.5] at y = 20. A pixel sees it iff
    # |u - cx| <= 2 fx / 20 (u = 85 ... 234) and |v - cy| <= 1 fy / 20 (v = 82 ... 157).
    camera = PinholeCamera(yaw_deg=90.0, position_m=(-5.0, 0.0, 1.5))  # looking east
    panel = Box((15.5, 0.0, 1.5), (1.0, 4.0, 2.0))
    depth, index, points = first_hit_depth_map(camera, [panel])
    hit = np.isfinite(depth)
    cols = np.flatnonzero(hit.any(axis=0))
    rows = np.flatnonzero(hit.any(axis=1))
    assert (cols[0], cols[-1], rows[0], rows[-1]) == (85, 234, 82, 157)
    assert hit.sum() == 150 * 76
    assert_allclose(depth[hit], 20.0, atol=1e-9)
    assert (index[hit] == 0).all() and (index[~hit] == -1).all()
    assert np.isinf(depth[~hit]).all() and np.isnan(points[~hit]).all()


def test_first_hit_depth_map_ground() -> None:
    camera = PinholeCamera(width_px=321, height_px=241, pitch_deg=-5.0, hfov_deg=60.0)
    depth, index, points = first_hit_depth_map(camera, [GroundPlane(0.0)])
    assert_allclose(depth[120, 160], 1.5 / math.sin(math.radians(5.0)), rtol=1e-14)
    dirs = camera.pixel_ray_directions()
    down = dirs[..., 2] < 0.0
    assert_array_equal(np.isfinite(depth), down)  # sky exactly where rays do not descend
    assert_allclose(depth[down], (1.5 / -dirs[..., 2] * camera.pixel_depth_factor())[down])
    assert_allclose(points[down][:, 2], 0.0, atol=1e-12)
    assert (index[down] == 0).all() and (index[~down] == -1).all()
    assert 0 < down.sum() < down.size  # the horizon is in view


@pytest.mark.parametrize("seed", [0, 3])
def test_first_hit_depth_map_matches_cast_rays(seed: int) -> None:
    """The per-primitive screen windows never drop a hit: same answer as plain cast_rays."""
    scene = random_scene(seed)
    scene.append(Sphere((3.0, -1.0, 2.0), 1.5))  # straddles the image plane
    scene.append(Box((0.0, -30.0, 2.0), (3.0, 3.0, 3.0)))  # behind the camera
    camera = PinholeCamera(
        width_px=160, height_px=120, hfov_deg=70.0, vfov_deg=55.0, position_m=(1.0, 0.0, 2.0)
    )
    camera = camera.with_pose(yaw_deg=10.0 * seed, pitch_deg=-5.0, roll_deg=3.0)
    depth, index, points = first_hit_depth_map(camera, scene)
    dirs = camera.pixel_ray_directions().reshape(-1, 3)
    t, expected_index = cast_rays(camera.position_m, dirs, scene)
    assert_array_equal(index.ravel(), expected_index)
    assert_allclose(depth.ravel(), t * camera.pixel_depth_factor().ravel(), rtol=1e-12)
    hit = expected_index >= 0
    expected_points = np.array(camera.position_m) + t[hit, None] * dirs[hit]
    assert_allclose(points.reshape(-1, 3)[hit], expected_points, rtol=1e-12, atol=1e-12)
    assert len(np.unique(index)) > 5


def test_first_hit_depth_map_repeatable() -> None:
    """Same camera and scene give the same map (its speed is benched, not asserted here)."""
    camera = PinholeCamera(position_m=(0.0, 0.0, 2.0), hfov_deg=60.0, vfov_deg=46.0)
    scene = random_scene(7)
    first = first_hit_depth_map(camera, scene)
    second = first_hit_depth_map(camera, scene)
    for a, b in zip(first, second, strict=True):
        assert_array_equal(a, b)


def test_first_hit_depth_map_invalid() -> None:
    with pytest.raises(InputError, match=r"primitives\[0\]"):
        first_hit_depth_map(PinholeCamera(), [None])  # type: ignore[list-item]


# -- is_occluded --------------------------------------------------------------------------------

PIPE = Cylinder((-5.0, 10.0, 1.5), (5.0, 10.0, 1.5), 0.3)  # east-west pipe across the view
CAMERA_M = (0.0, 0.0, 1.5)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((0.0, 15.0, 1.5), True),  # straight behind the pipe
        ((0.0, 15.0, 1.5 + 0.29 * 1.5), True),  # line of sight passes 0.29 m over the axis
        ((0.0, 15.0, 1.5 + 0.31 * 1.5), False),  # ... and 0.31 m over it
        ((0.0, 15.0, 3.0), False),  # beside (above) the pipe
        ((9.0, 15.0, 1.5), False),  # past the pipe's end
        ((0.0, 5.0, 1.5), False),  # in front of the pipe
        ((0.0, 10.0, 1.5), True),  # inside the pipe
        ((0.0, 9.7, 1.5), False),  # on its visible surface
        ((0.0, 10.3, 1.5), True),  # on its hidden surface
        (CAMERA_M, False),  # at the camera
    ],
)
def test_is_occluded(point: tuple, expected: bool) -> None:
    assert_array_equal(is_occluded(CAMERA_M, [point], [PIPE, GroundPlane(0.0)]), [expected])


def test_is_occluded_camera_inside_solid() -> None:
    points = [(0.0, 15.0, 1.5), (0.0, 0.0, 1.5), (3.0, -2.0, 9.0)]
    assert is_occluded(CAMERA_M, points, [Sphere((0.0, 0.0, 1.0), 1.0)]).all()


def test_is_occluded_ground_points() -> None:
    # leak sources on the ground: visible unless a tank stands between
    tank = Cylinder((0.0, 20.0, 0.0), (0.0, 20.0, 8.0), 2.0)
    points = [(0.0, 30.0, 0.0), (10.0, 30.0, 0.0), (0.0, 10.0, 0.0), (0.0, 30.0, -0.5)]
    occluded = is_occluded((0.0, 0.0, 1.5), points, [GroundPlane(0.0), tank])
    assert_array_equal(occluded, [True, False, False, True])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"camera_position_m": (0.0, 0.0)}, "camera_position_m"),
        ({"points_m": [[0.0, math.nan, 0.0]]}, "points_m"),
        ({"tolerance_m": -1.0}, "tolerance_m"),
    ],
)
def test_is_occluded_invalid(kwargs: dict, match: str) -> None:
    arguments = {"camera_position_m": CAMERA_M, "points_m": [(0.0, 1.0, 0.0)], **kwargs}
    with pytest.raises(InputError, match=match):
        is_occluded(primitives=[PIPE], **arguments)


# -- surface_normals ----------------------------------------------------------------------------


def test_surface_normals() -> None:
    ball = Sphere((0.0, 20.0, 5.0), 3.0)
    wall = Box((0.0, 40.5, 5.0), (100.0, 1.0, 100.0))
    tank = Cylinder((8.0, 15.0, 0.0), (8.0, 15.0, 10.0), 2.0)
    scene: list[Primitive] = [GroundPlane(0.0), ball, wall, tank]
    camera = PinholeCamera(position_m=(0.0, 0.0, 5.0), hfov_deg=60.0, vfov_deg=46.0)
    _, index, points = first_hit_depth_map(camera, scene)
    normals = surface_normals(points.reshape(-1, 3), index.ravel(), scene).reshape(points.shape)
    assert {0, 1, 2, 3} <= set(np.unique(index).tolist())
    assert_allclose(normals[index == 0], np.tile([0.0, 0.0, 1.0], ((index == 0).sum(), 1)))
    assert_allclose(normals[index == 1], (points[index == 1] - ball.center_m) / 3.0, atol=1e-9)
    assert_allclose(normals[index == 2], np.tile([0.0, -1.0, 0.0], ((index == 2).sum(), 1)))
    radial = points[index == 3] - (8.0, 15.0, 0.0)
    radial[:, 2] = 0.0
    assert_allclose(normals[index == 3], radial / 2.0, atol=1e-9)
    # surfaces face the camera
    view = points - np.array(camera.position_m)
    assert (np.sum(normals * view, axis=-1)[index >= 0] < 1e-9).all()
    assert np.isnan(normals[index == -1]).all()


@pytest.mark.parametrize(
    ("points", "index", "match"),
    [
        (np.zeros((2, 3)), [0, 2], r"index: must lie in \[-1, 1\]"),
        (np.zeros((2, 3)), [0, -2], r"index: must lie in \[-1, 1\]"),
        (np.zeros((2, 3)), [0], r"index: must be integers of shape \(2,\)"),
        (np.zeros((2, 3)), [0.0, 1.0], "index: must be integers"),
        (np.zeros((2, 2)), [0, 1], r"points_m: must have shape \(N, 3\)"),
    ],
)
def test_surface_normals_invalid(points: object, index: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        surface_normals(points, index, [GroundPlane(), Sphere((0, 0, 0), 1)])  # type: ignore[arg-type]
