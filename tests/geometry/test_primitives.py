"""Tests for plantwatch.geometry.primitives: closed-form ray hits, containment, surfaces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from plantwatch.errors import InputError
from plantwatch.geometry import Box, Cylinder, GroundPlane, Primitive, Sphere

INF = math.inf
SQRT2 = math.sqrt(2.0)


def unit(*xyz: float) -> tuple[float, float, float]:
    norm = math.sqrt(sum(c * c for c in xyz))
    return (xyz[0] / norm, xyz[1] / norm, xyz[2] / norm)


def hit(primitive: Primitive, origin: tuple, direction: tuple) -> float:
    return float(primitive.intersect(np.array(origin), np.array([direction]))[0])


# -- Cylinder -----------------------------------------------------------------------------------

TANK_Z = Cylinder((0.0, 0.0, 0.0), (0.0, 0.0, 2.0), 1.0)  # vertical, z in [0, 2]
PIPE_X = Cylinder((0.0, 0.0, 0.0), (4.0, 0.0, 0.0), 0.5)
PIPE_Y = Cylinder((1.0, 9.0, 3.0), (1.0, 2.0, 3.0), 0.25)  # axis runs south
# Oblique horizontal pipe: axis (0.6, 0.8, 0), length 5; (-0.8, 0.6, 0) is horizontal and normal.
OBLIQUE = Cylinder((0.0, 0.0, 0.0), (3.0, 4.0, 0.0), 1.0)
MID = np.array([1.5, 2.0, 0.0])
NORMAL = np.array([-0.8, 0.6, 0.0])
TUBE_Z = Cylinder((0.0, 0.0, 0.0), (0.0, 0.0, 2.0), 1.0, capped=False)


@pytest.mark.parametrize(
    ("cylinder", "origin", "direction", "expected_t_m"),
    [
        (TANK_Z, (-5.0, 0.0, 1.0), (1.0, 0.0, 0.0), 4.0),  # lateral wall
        (TANK_Z, (-5.0, 0.6, 1.0), (1.0, 0.0, 0.0), 4.2),  # off-centre chord: 5 - sqrt(1 - 0.36)
        (TANK_Z, (0.0, 0.0, 5.0), (0.0, 0.0, -1.0), 3.0),  # top cap
        (TANK_Z, (0.5, -0.5, -3.0), (0.0, 0.0, 1.0), 3.0),  # bottom cap
        (TANK_Z, (0.0, 0.0, 3.0), unit(0.5, 0.0, -1.0), math.sqrt(1.25)),  # cap, oblique
        (TANK_Z, (0.0, 0.0, 1.0), (1.0, 0.0, 0.0), 0.0),  # starts inside
        (TANK_Z, (1.0, 0.0, 1.0), (1.0, 0.0, 0.0), 0.0),  # starts on the wall, leaving
        (TANK_Z, (-5.0, 1.0 + 1e-6, 1.0), (1.0, 0.0, 0.0), INF),  # grazing miss
        (TANK_Z, (-5.0, 0.0, 1.0), (-1.0, 0.0, 0.0), INF),  # pointing away
        (TANK_Z, (-5.0, 0.0, 2.0 + 1e-9), (1.0, 0.0, 0.0), INF),  # just over the top
        (TANK_Z, (0.0, 0.0, 2.5), (0.0, 0.0, 1.0), INF),  # along the axis, away
        (TANK_Z, (2.0, 0.0, 5.0), (0.0, 0.0, -1.0), INF),  # parallel to the axis, outside
        (PIPE_X, (2.0, -10.0, 0.0), (0.0, 1.0, 0.0), 9.5),
        (PIPE_X, (10.0, 0.1, -0.2), (-1.0, 0.0, 0.0), 6.0),  # end cap at x = 4
        (PIPE_X, (-1.0, 0.0, 0.0), unit(1.0, 0.0, 1.0), INF),  # passes over the first end
        (PIPE_Y, (1.0, 5.0, 10.0), (0.0, 0.0, -1.0), 6.75),
        (PIPE_Y, (1.0, 0.0, 3.0), (0.0, 1.0, 0.0), 2.0),  # cap at y = 2
        (OBLIQUE, tuple(MID + 5.0 * NORMAL), tuple(-NORMAL), 4.0),
        (OBLIQUE, tuple(MID + np.array([0.0, 0.0, 10.0])), (0.0, 0.0, -1.0), 9.0),
        (OBLIQUE, (-3.0, -4.0, 0.0), (0.6, 0.8, 0.0), 5.0),  # along the axis onto the cap
        (OBLIQUE, tuple(MID + 1.01 * NORMAL - np.array([6.0, 8.0, 0.0])), (0.6, 0.8, 0.0), INF),
    ],
)
def test_cylinder_intersect(
    cylinder: Cylinder, origin: tuple, direction: tuple, expected_t_m: float
) -> None:
    assert_allclose(hit(cylinder, origin, direction), expected_t_m, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("origin", "direction", "expected_t_m"),
    [
        ((-5.0, 0.0, 1.0), (1.0, 0.0, 0.0), 4.0),  # outer wall as for the capped tank
        ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0), 1.0),  # hollow: from inside it hits the inner wall
        ((0.0, 0.0, 3.0), unit(0.5, 0.0, -1.0), math.sqrt(5.0)),  # in through the open top
        ((0.0, 0.0, 5.0), (0.0, 0.0, -1.0), INF),  # straight through both open ends
        ((0.0, 0.0, 3.0), unit(3.0, 0.0, -1.0), INF),  # over the rim
    ],
)
def test_cylinder_intersect_open(origin: tuple, direction: tuple, expected_t_m: float) -> None:
    assert_allclose(hit(TUBE_Z, origin, direction), expected_t_m, rtol=1e-12)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((0.0, 0.0, 1.0), True),
        ((1.0, 0.0, 2.0), True),  # on the rim: the solid is closed
        ((0.8, 0.61, 1.0), False),
        ((0.0, 0.0, -1e-9), False),
        ((0.0, 0.0, 2.5), False),
    ],
)
def test_cylinder_contains(point: tuple, expected: bool) -> None:
    assert_array_equal(TANK_Z.contains(point), [expected])
    assert not TUBE_Z.contains(point).any()


@pytest.mark.parametrize(
    ("point", "expected_point", "expected_normal"),
    [
        ((3.0, 0.0, 1.0), (1.0, 0.0, 1.0), (1.0, 0.0, 0.0)),
        ((0.0, -0.2, 1.0), (0.0, -1.0, 1.0), (0.0, -1.0, 0.0)),  # inside, nearest the wall
        ((0.2, 0.0, 1.9), (0.2, 0.0, 2.0), (0.0, 0.0, 1.0)),  # inside, nearest the top
        ((0.0, 0.0, 0.5), (0.0, 0.0, 0.0), (0.0, 0.0, -1.0)),  # on the axis
        ((0.3, 0.4, -7.0), (0.3, 0.4, 0.0), (0.0, 0.0, -1.0)),  # below the bottom disc
        ((2.0, 0.0, 3.0), (1.0, 0.0, 2.0), None),  # nearest the rim
    ],
)
def test_cylinder_closest_surface_point(
    point: tuple, expected_point: tuple, expected_normal: tuple | None
) -> None:
    assert_allclose(TANK_Z.closest_surface_point(point), [expected_point], atol=1e-15)
    if expected_normal is not None:
        assert_allclose(TANK_Z.normal_at(point), [expected_normal], atol=1e-15)


@pytest.mark.parametrize("cylinder", [TANK_Z, OBLIQUE, PIPE_Y, TUBE_Z])
def test_cylinder_closest_surface_point_on_surface(cylinder: Cylinder) -> None:
    rng = np.random.default_rng(3)
    lo, hi = cylinder.bounds()
    points = rng.uniform(lo - 2.0, hi + 2.0, size=(200, 3))
    surface = cylinder.closest_surface_point(points)
    start, axis, length = np.array(cylinder.start_m), cylinder.axis_unit, cylinder.length_m
    axial = (surface - start) @ axis
    radial = np.linalg.norm(surface - start - np.outer(axial, axis), axis=1)
    on_wall = np.isclose(radial, cylinder.radius_m, atol=1e-12) & (axial >= -1e-12)
    on_wall &= axial <= length + 1e-12
    on_disc = (np.isclose(axial, 0.0, atol=1e-12) | np.isclose(axial, length, atol=1e-12)) & (
        radial <= cylinder.radius_m + 1e-12
    )
    assert (on_wall | (on_disc & cylinder.capped)).all()
    # nearest: no surface point of a dense sample is closer
    sample = cylinder.closest_surface_point(rng.uniform(lo - 2.0, hi + 2.0, size=(2000, 3)))
    nearest = np.linalg.norm(points[:, None] - sample[None], axis=-1).min(axis=1)
    assert (np.linalg.norm(points - surface, axis=1) <= nearest + 1e-12).all()
    # normals are unit and radial on the wall
    normals = cylinder.normal_at(points)
    assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-14)


@pytest.mark.parametrize(
    ("cylinder", "expected_min", "expected_max"),
    [
        (TANK_Z, (-1.0, -1.0, 0.0), (1.0, 1.0, 2.0)),
        (PIPE_Y, (0.75, 2.0, 2.75), (1.25, 9.0, 3.25)),
        (OBLIQUE, (-0.8, -0.6, -1.0), (3.8, 4.6, 1.0)),
    ],
)
def test_cylinder_bounds(cylinder: Cylinder, expected_min: tuple, expected_max: tuple) -> None:
    low, high = cylinder.bounds()
    assert_allclose(low, expected_min, atol=1e-15)
    assert_allclose(high, expected_max, atol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"radius_m": -1.0}, "radius_m"),
        ({"radius_m": 0.0}, "radius_m"),
        ({"radius_m": math.nan}, "radius_m"),
        ({"end_m": (0.0, 0.0, 0.0)}, "end_m"),  # zero length
        ({"start_m": (0.0, 0.0)}, "start_m"),
        ({"end_m": (0.0, math.inf, 1.0)}, "end_m"),
        ({"capped": "yes"}, "capped"),
    ],
)
def test_cylinder_invalid(kwargs: dict, field: str) -> None:
    arguments = {"start_m": (0.0, 0.0, 0.0), "end_m": (0.0, 0.0, 1.0), "radius_m": 1.0, **kwargs}
    with pytest.raises(InputError) as excinfo:
        Cylinder(**arguments)
    assert excinfo.value.field == field
    assert "must" in str(excinfo.value)


# -- Box ----------------------------------------------------------------------------------------

WALL = Box((0.0, 10.0, 2.0), (4.0, 2.0, 4.0))  # x in [-2, 2], y in [9, 11], z in [0, 4]
LONG_NS = Box((0.0, 0.0, 0.0), (4.0, 2.0, 2.0), yaw_deg=90.0)  # its 4 m side runs north-south
DIAMOND = Box((0.0, 0.0, 0.0), (2.0, 2.0, 2.0), yaw_deg=45.0)
# yaw 30 clockwise from north: the long box x axis points to (cos 30, -sin 30, 0), east-south-east
SKEWED = Box((0.0, 0.0, 0.0), (4.0, 2.0, 2.0), yaw_deg=30.0)
ESE = np.array([math.cos(math.radians(30.0)), -math.sin(math.radians(30.0)), 0.0])
NNE = np.array([math.sin(math.radians(30.0)), math.cos(math.radians(30.0)), 0.0])  # box y axis


@pytest.mark.parametrize(
    ("box", "origin", "direction", "expected_t_m"),
    [
        (WALL, (0.0, 0.0, 2.0), (0.0, 1.0, 0.0), 9.0),
        (WALL, (1.0, 20.0, 1.0), (0.0, -1.0, 0.0), 9.0),
        (WALL, (0.0, 10.0, 9.0), (0.0, 0.0, -1.0), 5.0),
        (WALL, (-6.0, 10.0, 2.0), unit(1.0, 0.0, 0.0), 4.0),
        (WALL, (0.0, 0.0, 0.0), unit(0.0, 9.0, 3.0), math.hypot(9.0, 3.0)),  # upwards
        (WALL, (0.0, 10.0, 2.0), unit(1.0, 2.0, 3.0), 0.0),  # inside
        (WALL, (0.0, 0.0, 5.0), (0.0, 1.0, 0.0), INF),  # above the top
        (WALL, (3.0, 0.0, 2.0), (0.0, 1.0, 0.0), INF),  # parallel, beside
        (WALL, (0.0, 0.0, 2.0), (0.0, -1.0, 0.0), INF),  # pointing away
        (LONG_NS, (-10.0, 0.0, 0.0), (1.0, 0.0, 0.0), 9.0),  # 2 m east-west: x = -1
        (LONG_NS, (0.0, -10.0, 0.0), (0.0, 1.0, 0.0), 8.0),  # 4 m north-south: y = -2
        (LONG_NS, (-10.0, 1.9, 0.5), (1.0, 0.0, 0.0), 9.0),
        (DIAMOND, (-10.0, 0.25, 0.0), (1.0, 0.0, 0.0), 10.0 - (SQRT2 - 0.25)),  # |x| + |y| = √2
        (DIAMOND, (-10.0, 1.5, 0.0), (1.0, 0.0, 0.0), INF),  # beyond the corner at y = sqrt 2
        (DIAMOND, (-10.0, -0.5, 0.0), (1.0, 0.0, 0.0), 10.0 - (SQRT2 - 0.5)),
        (SKEWED, tuple(10.0 * ESE), tuple(-ESE), 8.0),
        (SKEWED, tuple(10.0 * NNE), tuple(-NNE), 9.0),
        (SKEWED, tuple(10.0 * ESE + 0.9 * NNE), tuple(-ESE), 8.0),
    ],
)
def test_box_intersect(box: Box, origin: tuple, direction: tuple, expected_t_m: float) -> None:
    assert_allclose(hit(box, origin, direction), expected_t_m, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("box", "point", "expected"),
    [
        (WALL, (2.0, 11.0, 4.0), True),  # corner: closed
        (WALL, (2.0 + 1e-9, 10.0, 2.0), False),
        (LONG_NS, (0.0, 1.9, 0.0), True),
        (Box((0.0, 0.0, 0.0), (4.0, 2.0, 2.0)), (0.0, 1.9, 0.0), False),
        (DIAMOND, (1.4, 0.0, 0.0), True),
        (DIAMOND, (0.8, 0.8, 0.0), False),
        (SKEWED, tuple(1.9 * ESE), True),
        (SKEWED, (1.9 * ESE[0], -1.9 * ESE[1], 0.0), False),  # mirror image: yaw -30 would hold it
    ],
)
def test_box_contains(box: Box, point: tuple, expected: bool) -> None:
    assert_array_equal(box.contains(point), [expected])


@pytest.mark.parametrize(
    ("box", "point", "expected_point", "expected_normal"),
    [
        (WALL, (0.0, 0.0, 2.0), (0.0, 9.0, 2.0), (0.0, -1.0, 0.0)),
        (WALL, (5.0, 15.0, 9.0), (2.0, 11.0, 4.0), None),  # nearest the corner
        (WALL, (1.9, 10.0, 2.0), (2.0, 10.0, 2.0), (1.0, 0.0, 0.0)),  # inside
        (LONG_NS, (0.0, 5.0, 0.0), (0.0, 2.0, 0.0), (0.0, 1.0, 0.0)),
        (DIAMOND, (3.0, 3.0, 0.5), (SQRT2 / 2, SQRT2 / 2, 0.5), (SQRT2 / 2, SQRT2 / 2, 0.0)),
        (SKEWED, tuple(10.0 * ESE), tuple(2.0 * ESE), tuple(ESE)),
        (SKEWED, tuple(-5.0 * NNE), tuple(-1.0 * NNE), tuple(-NNE)),
    ],
)
def test_box_closest_surface_point(
    box: Box, point: tuple, expected_point: tuple, expected_normal: tuple | None
) -> None:
    assert_allclose(box.closest_surface_point(point), [expected_point], atol=1e-15)
    if expected_normal is not None:
        assert_allclose(box.normal_at(point), [expected_normal], atol=1e-15)


@pytest.mark.parametrize(
    ("box", "expected_min", "expected_max"),
    [
        (WALL, (-2.0, 9.0, 0.0), (2.0, 11.0, 4.0)),
        (LONG_NS, (-1.0, -2.0, -1.0), (1.0, 2.0, 1.0)),
        (DIAMOND, (-SQRT2, -SQRT2, -1.0), (SQRT2, SQRT2, 1.0)),
    ],
)
def test_box_bounds(box: Box, expected_min: tuple, expected_max: tuple) -> None:
    low, high = box.bounds()
    assert_allclose(low, expected_min, atol=1e-15)
    assert_allclose(high, expected_max, atol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"size_m": (1.0, 0.0, 1.0)}, "size_m"),
        ({"size_m": (1.0, 1.0, -2.0)}, "size_m"),
        ({"size_m": (1.0, math.nan, 1.0)}, "size_m"),
        ({"center_m": (1.0, 2.0)}, "center_m"),
        ({"yaw_deg": math.nan}, "yaw_deg"),
    ],
)
def test_box_invalid(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as excinfo:
        Box(**{"center_m": (0.0, 0.0, 0.0), "size_m": (1.0, 1.0, 1.0), **kwargs})
    assert excinfo.value.field == field


# -- Sphere -------------------------------------------------------------------------------------

BALL = Sphere((0.0, 10.0, 0.0), 2.0)


@pytest.mark.parametrize(
    ("origin", "direction", "expected_t_m"),
    [
        ((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), 8.0),
        ((1.2, 0.0, 0.0), (0.0, 1.0, 0.0), 8.4),  # 10 - sqrt(4 - 1.44)
        ((0.0, 30.0, 0.0), (0.0, -1.0, 0.0), 18.0),
        ((0.0, 10.0, 0.0), (0.0, 0.0, 1.0), 0.0),  # from the centre
        ((0.0, 0.0, 2.0 + 1e-6), (0.0, 1.0, 0.0), INF),  # grazing miss
        ((0.0, 0.0, 0.0), (0.0, -1.0, 0.0), INF),  # behind
        ((0.0, 20.0, 0.0), (0.0, 1.0, 0.0), INF),  # sphere behind the origin
    ],
)
def test_sphere_intersect(origin: tuple, direction: tuple, expected_t_m: float) -> None:
    assert_allclose(hit(BALL, origin, direction), expected_t_m, rtol=1e-12)


def test_sphere_contains_closest_surface_point_normal_bounds() -> None:
    points = np.array([[0.0, 10.0, 0.0], [0.0, 12.0, 0.0], [3.0, 14.0, 0.0], [0.0, 10.5, 0.0]])
    assert_array_equal(BALL.contains(points), [True, True, False, True])
    surface = BALL.closest_surface_point(points)
    assert_allclose(np.linalg.norm(surface - (0.0, 10.0, 0.0), axis=1), 2.0, rtol=1e-15)
    assert_allclose(surface[1:], [[0, 12, 0], [1.2, 11.6, 0], [0, 12, 0]], atol=1e-14)
    assert_allclose(BALL.normal_at(points), [[0, 0, 1], [0, 1, 0], [0.6, 0.8, 0], [0, 1, 0]])
    low, high = BALL.bounds()
    assert_array_equal(low, [-2.0, 8.0, -2.0])
    assert_array_equal(high, [2.0, 12.0, 2.0])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"radius_m": 0.0}, "radius_m"),
        ({"radius_m": -3.0}, "radius_m"),
        ({"radius_m": math.inf}, "radius_m"),
        ({"center_m": (0.0, 0.0, math.nan)}, "center_m"),
    ],
)
def test_sphere_invalid(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as excinfo:
        Sphere(**{"center_m": (0.0, 0.0, 0.0), "radius_m": 1.0, **kwargs})
    assert excinfo.value.field == field


# -- GroundPlane --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height_m", "origin", "direction", "expected_t_m"),
    [
        (0.0, (0.0, 0.0, 10.0), unit(0.0, 1.0, -1.0), 10.0 * SQRT2),
        (2.0, (5.0, 5.0, 10.0), (0.0, 0.0, -1.0), 8.0),
        (0.0, (0.0, 0.0, 10.0), (0.0, 0.0, 1.0), INF),  # upwards
        (0.0, (0.0, 0.0, 10.0), (1.0, 0.0, 0.0), INF),  # horizontal
        (0.0, (0.0, 0.0, -1.0), (0.0, 0.0, 1.0), 0.0),  # from below: inside the solid
        (0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 1.0), 0.0),  # on the plane
    ],
)
def test_ground_plane_intersect(
    height_m: float, origin: tuple, direction: tuple, expected_t_m: float
) -> None:
    assert_allclose(hit(GroundPlane(height_m), origin, direction), expected_t_m, rtol=1e-14)


def test_ground_plane_contains_closest_surface_point_normal_bounds() -> None:
    ground = GroundPlane(1.5)
    points = np.array([[3.0, 4.0, 1.5], [3.0, 4.0, 9.0], [-1.0, 2.0, -7.0]])
    assert_array_equal(ground.contains(points), [True, False, True])
    assert_array_equal(
        ground.closest_surface_point(points), [[3, 4, 1.5], [3, 4, 1.5], [-1, 2, 1.5]]
    )
    assert_array_equal(ground.normal_at(points), np.tile([0.0, 0.0, 1.0], (3, 1)))
    low, high = ground.bounds()
    assert_array_equal(low, [-INF, -INF, -INF])
    assert_array_equal(high, [INF, INF, 1.5])


def test_ground_plane_invalid() -> None:
    with pytest.raises(InputError, match="height_m: must be a finite number"):
        GroundPlane(math.nan)


# -- shared behaviour ---------------------------------------------------------------------------

ALL_PRIMITIVES = [TANK_Z, PIPE_X, PIPE_Y, OBLIQUE, WALL, LONG_NS, DIAMOND, SKEWED, BALL]


@pytest.mark.parametrize("primitive", ALL_PRIMITIVES, ids=lambda p: type(p).__name__)
def test_intersect_hits_lie_on_surface(primitive: Primitive) -> None:
    """Rays aimed at the inside from outside: the hit is on the surface, just before it is
    outside and just after it is inside; rays aimed the other way miss."""
    rng = np.random.default_rng(4)
    low, high = primitive.bounds()
    centre = (low + high) / 2.0
    origins = centre + rng.normal(size=(300, 3)) * 30.0
    origins = origins[~primitive.contains(origins)]
    inner = primitive.closest_surface_point(centre + rng.uniform(-0.1, 0.1, (origins.shape[0], 3)))
    targets = centre + 0.5 * (inner - centre)  # strictly inside, away from the surface
    assert primitive.contains(targets).all()
    dirs = targets - origins
    dirs /= np.linalg.norm(dirs, axis=1)[:, None]
    t = primitive.intersect(origins, dirs)
    assert np.isfinite(t).all() and (t > 0).all()
    hits = origins + t[:, None] * dirs
    assert_allclose(primitive.closest_surface_point(hits), hits, atol=1e-9)
    assert not primitive.contains(origins + (t - 1e-6)[:, None] * dirs).any()
    assert primitive.contains(origins + (t + 1e-6)[:, None] * dirs).all()
    assert np.isinf(primitive.intersect(origins, -dirs)).all()
    # a shared (3,) origin gives the same answer as a repeated (N, 3) one
    shared = primitive.intersect(origins[0], dirs)
    repeated = primitive.intersect(np.tile(origins[0], (len(dirs), 1)), dirs)
    assert_allclose(shared, repeated, rtol=1e-12)


@pytest.mark.parametrize("primitive", [*ALL_PRIMITIVES, TUBE_Z, GroundPlane()])
def test_intersect_empty(primitive: Primitive) -> None:
    assert primitive.intersect((0.0, 0.0, 0.0), np.empty((0, 3))).shape == (0,)
    assert primitive.contains(np.empty((0, 3))).shape == (0,)
    assert primitive.closest_surface_point(np.empty((0, 3))).shape == (0, 3)


@pytest.mark.parametrize(
    ("origins", "directions", "match"),
    [
        ((0.0, 0.0, 0.0), [[0.0, 2.0, 0.0]], "directions: must be unit vectors"),
        ((0.0, 0.0, 0.0), [[0.0, 0.0, 0.0]], "directions: must be unit vectors"),
        ((0.0, 0.0, 0.0), [[0.0, math.nan, 1.0]], "directions: must be finite"),
        ((0.0, 0.0, 0.0), [[0.0, 1.0]], r"directions: must have shape \(N, 3\)"),
        (np.zeros((2, 3)), [[0.0, 1.0, 0.0]] * 3, "origins_m: must have shape"),
        ((0.0, math.inf, 0.0), [[0.0, 1.0, 0.0]], "origins_m: must be finite"),
    ],
)
@pytest.mark.parametrize("primitive", [TANK_Z, WALL, BALL, GroundPlane()])
def test_intersect_invalid(
    primitive: Primitive, origins: object, directions: object, match: str
) -> None:
    with pytest.raises(InputError, match=match):
        primitive.intersect(origins, directions)  # type: ignore[arg-type]


@pytest.mark.parametrize("primitive", [TANK_Z, WALL, BALL, GroundPlane()])
def test_contains_invalid(primitive: Primitive) -> None:
    with pytest.raises(InputError, match="points_m: must be finite"):
        primitive.contains([[0.0, math.nan, 0.0]])
    with pytest.raises(InputError, match=r"points_m: must have shape \(N, 3\)"):
        primitive.closest_surface_point(np.zeros((2, 2, 3)))


def test_primitives_are_frozen_and_hashable() -> None:
    with pytest.raises(AttributeError):
        TANK_Z.radius_m = 2.0  # type: ignore[misc]
    assert len({TANK_Z, WALL, BALL, GroundPlane(), Cylinder((0, 0, 0), (0, 0, 2), 1)}) == 4
    assert Cylinder([0, 0, 0], np.array([0, 0, 2]), 1).end_m == (0.0, 0.0, 2.0)
