"""Tests for plantwatch.drone.risk: fall time, fall range, speed limit, fall-range buffers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose
from scipy.integrate import solve_ivp

from plantwatch.drone.risk import (
    FALL_RANGE_METHODS,
    fall_range_buffer,
    fall_range_m,
    fall_time_s,
    max_speed_for_fall_range_m_s,
)
from plantwatch.errors import InputError
from plantwatch.units import G0_M_S2


@pytest.mark.parametrize(
    ("height_m", "expected_s"),
    [
        (0.0, 0.0),
        (G0_M_S2 / 2.0, 1.0),  # h = g t^2 / 2 with t = 1 s
        (44.1, math.sqrt(88.2 / G0_M_S2)),  # stdrone.jp example: 3 s with g = 9.8
        (150.0, math.sqrt(300.0 / G0_M_S2)),
    ],
)
def test_fall_time_s(height_m: float, expected_s: float) -> None:
    assert_allclose(fall_time_s(height_m), expected_s, rtol=1e-12)


def test_fall_time_s_vectorised() -> None:
    heights = np.array([[0.0, 10.0], [20.0, 40.0]])
    assert fall_time_s(heights).shape == (2, 2)
    assert_allclose(fall_time_s(heights)[1, 1], math.sqrt(80.0 / G0_M_S2))


def test_fall_range_m_worked_example() -> None:
    # stdrone.jp "safety zone": 44.1 m at 10 m/s falls in 3 s and travels 30 m (g = 9.8).
    assert_allclose(fall_range_m(44.1, 10.0, 0.0), 30.0, atol=0.02)  # g0 vs 9.8


def test_fall_range_m_adds_speed_and_wind() -> None:
    t = math.sqrt(2.0 * 30.0 / G0_M_S2)
    assert_allclose(fall_range_m(30.0, 4.0, 5.0), 9.0 * t)
    assert_allclose(fall_range_m(30.0, 4.0, 5.0, safety_factor=3.0), 27.0 * t)


def test_fall_range_m_broadcasts() -> None:
    r = fall_range_m(np.array([10.0, 20.0, 40.0]), np.array([[1.0], [4.0]]), 5.0)
    assert r.shape == (2, 3)
    assert_allclose(r[1, 2], 9.0 * math.sqrt(80.0 / G0_M_S2))


def test_fall_range_m_one_to_one() -> None:
    assert_allclose(fall_range_m([10.0, 120.0], 8.0, 10.0, method="one_to_one"), [10.0, 120.0])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"height_m": -1.0, "speed_m_s": 1.0, "wind_m_s": 1.0}, "height_m"),
        ({"height_m": 1.0, "speed_m_s": -1.0, "wind_m_s": 1.0}, "speed_m_s"),
        ({"height_m": 1.0, "speed_m_s": 1.0, "wind_m_s": math.nan}, "wind_m_s"),
        ({"height_m": 1.0, "speed_m_s": 1.0, "wind_m_s": 1.0, "safety_factor": 0.5}, "factor"),
        ({"height_m": 1.0, "speed_m_s": 1.0, "wind_m_s": 1.0, "method": "sora"}, "method"),
    ],
)
def test_fall_range_m_invalid(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError, match=field):
        fall_range_m(**kwargs)


def test_unknown_method_lists_valid_ones() -> None:
    with pytest.raises(InputError) as info:
        fall_range_m(1.0, 1.0, 1.0, method="x")
    for name in FALL_RANGE_METHODS:
        assert name in str(info.value)


def test_max_speed_for_fall_range_inverts_fall_range() -> None:
    heights = np.array([5.0, 20.0, 60.0])
    speed = max_speed_for_fall_range_m_s(heights, [30.0, 30.0, 30.0], 10.0)
    assert_allclose(fall_range_m(heights[:2], speed[:2], 10.0), [30.0, 30.0])
    assert speed[2] < 0.0  # even hovering at 60 m, 10 m/s wind drifts 35 m
    assert np.isinf(max_speed_for_fall_range_m_s(0.0, 1.0, 5.0))


def test_fall_range_buffer_disc_area() -> None:
    r = float(fall_range_m(20.0, 4.0, 5.0))
    area = fall_range_buffer([0.0, 0.0, 20.0], 4.0, 5.0, quad_segs=64)
    assert_allclose(area.area, math.pi * r * r, rtol=1e-3)


def test_fall_range_buffer_swept_path_covers_the_leg() -> None:
    path = np.array([[0.0, 0.0, 10.0], [100.0, 0.0, 30.0]])
    swept = fall_range_buffer(path, 4.0, 5.0)
    discs = fall_range_buffer(path, 4.0, 5.0, swept=False)
    middle = shapely.Point(50.0, 0.0).buffer(float(fall_range_m(20.0, 4.0, 5.0)) * 0.99)
    assert swept.contains(middle)
    assert not discs.contains(shapely.Point(50.0, 0.0))


def test_fall_range_buffer_empty_and_invalid() -> None:
    assert fall_range_buffer(np.zeros((0, 3)), 1.0, 1.0).is_empty
    with pytest.raises(InputError, match="path_m"):
        fall_range_buffer([[0.0, 0.0]], 1.0, 1.0)


def _drag_fall_range_m(
    height_m: float, speed_m_s: float, wind_m_s: float, terminal_m_s: float
) -> float:
    """Horizontal travel of a fall with quadratic drag relative to the air (2D, wind along x)."""
    k = G0_M_S2 / terminal_m_s**2  # drag deceleration = k |v_rel| v_rel

    def rhs(_t: float, state: np.ndarray) -> list[float]:
        _x, _z, vx, vz = state
        rel_x = vx - wind_m_s
        speed = math.hypot(rel_x, vz)
        return [vx, vz, -k * speed * rel_x, -G0_M_S2 - k * speed * vz]

    def ground(_t: float, state: np.ndarray) -> float:
        return state[1]

    ground.terminal = True  # type: ignore[attr-defined]
    result = solve_ivp(
        rhs, (0.0, 200.0), [0.0, height_m, speed_m_s, 0.0], events=ground, max_step=0.01
    )
    return float(result.y_events[0][0][0])


@pytest.mark.parametrize("height_m", [10.0, 30.0, 60.0, 100.0])
@pytest.mark.parametrize(("speed_m_s", "wind_m_s"), [(4.0, 5.0), (8.0, 5.0), (2.0, 10.0)])
def test_ballistic_range_bounds_a_drag_fall(
    height_m: float, speed_m_s: float, wind_m_s: float
) -> None:
    # The docstring's claim: for a terminal velocity of 20 m/s (a tumbling 6 kg multirotor) up
    # to 100 m, (v + w) sqrt(2h/g) is not exceeded by a fall with quadratic drag.
    drag = _drag_fall_range_m(height_m, speed_m_s, wind_m_s, terminal_m_s=20.0)
    assert drag <= float(fall_range_m(height_m, speed_m_s, wind_m_s))


def test_ballistic_range_underestimates_a_light_draggy_aircraft_high_up() -> None:
    # ... and the limitation it states: 10 m/s terminal velocity, 150 m, 10 m/s wind.
    drag = _drag_fall_range_m(150.0, 0.0, 10.0, terminal_m_s=10.0)
    assert drag > 2.0 * float(fall_range_m(150.0, 0.0, 10.0))
