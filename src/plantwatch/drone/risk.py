r"""Ground risk of a drone flight: how far a falling aircraft can land from where it failed.

This module holds the fall-range model the planner uses to keep a falling aircraft off people,
roads and the site boundary (and, where asked, off hazardous areas). Issue 6 extends it with the
risk register.

MHLW-2022 Table 3.2 item a1 asks the planner to "estimate the range a drone may fall to from the
wind speed and the flight height, and set a route that keeps enough separation" (風速と飛行高度から
推定した落下推定範囲を計算し、十分な離隔距離を確保できる飛行ルートを設定); items a3 and b1 ask the
same separation from areas that may hold an explosive atmosphere and from fire-restricted areas.

Two published ways of turning height into a horizontal range are offered (``FALL_RANGE_METHODS``):

``"ballistic"``
    The aircraft stops flying (motors off) at height ``h`` and falls freely; during the fall time
    :math:`t = \sqrt{2h/g}` it keeps its horizontal speed and is carried by the wind, so it lands
    within :math:`r = (v + w)\,t` of the failure point in any direction [2]_ [3]_. This is the
    "horizontal projection" (水平投射) estimate used in Japanese flight-planning practice and the
    first term of the ballistic ground-risk buffer of the SORA methodology [4]_.
``"one_to_one"``
    The SORA "1:1 rule" for rotorcraft: the ground-risk buffer equals the maximum flight height
    [4]_ [5]_. Independent of speed and wind; larger than the ballistic range below about
    :math:`h = 2 (v + w)^2 / g` (13 m for 4 m/s + 4 m/s).

References
----------
.. [1] MHLW (Ministry of Health, Labour and Welfare, Japan), "Manual for introducing drones into
   the periodic voluntary inspection of chemical equipment", April 2022, Table 3.2 items a1, a3,
   b1 (``MHLW-2022``).
.. [2] "安全領域ってなに?" (safety zone of a flight plan: free fall from the end of a leg,
   :math:`h = g t^2 / 2`, horizontal travel :math:`v t`; worked example 44.1 m, 10 m/s -> 3 s,
   30 m), https://stdrone.jp/safety-zone/
.. [3] "落下分散範囲" (fall dispersion range: grows with flight height, speed and wind; GPS error
   and the reaction time add to it), Drone Journal, Impress,
   https://drone-journal.impress.co.jp/docs/words/1186602.html
.. [4] Luftfahrt-Bundesamt (LBA), SORA methodology for flight geography, contingency volume and
   ground risk buffer, as implemented in the Dronedesk calculator,
   https://flight-geography-calculator.dronedesk.io/ (ballistic buffer
   :math:`S_{GRB} = v_0 \sqrt{2 H_{CV} / g} + C_D / 2`; 1:1 alternative).
.. [5] JARUS SORA / EASA AMC1 Article 11 to Regulation (EU) 2019/947: ground risk buffer "at
   least 1:1" for rotorcraft (buffer >= maximum height); summarised with the PDRA-S01 table and the
   ballistic option at https://dronedeck.nl/insights/new-method-for-defining-airspace-volumes
.. [6] "ドローンの落下分散範囲の計算" (projectile range without drag, safety factor f = 3),
   https://39labo.jp/news/2319
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from plantwatch.errors import InputError
from plantwatch.units import G0_M_S2

__all__ = [
    "FALL_RANGE_METHODS",
    "fall_range_buffer",
    "fall_range_m",
    "fall_time_s",
    "max_speed_for_fall_range_m_s",
]

FALL_RANGE_METHODS: tuple[str, ...] = ("ballistic", "one_to_one")


def _nonnegative(value: ArrayLike, field: str) -> NDArray[np.float64]:
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)) or np.any(array < 0.0):
        raise InputError(f"must be finite and >= 0, got {value!r}", field=field)
    return array


def _check_method(method: str) -> None:
    if method not in FALL_RANGE_METHODS:
        raise InputError(
            f"unknown fall-range method {method!r}; valid: {', '.join(FALL_RANGE_METHODS)}",
            field="method",
        )


def fall_time_s(height_m: ArrayLike) -> NDArray[np.float64]:
    r"""Time for an aircraft to fall freely from rest (vertically) to the ground [s].

    .. math:: t = \sqrt{2 h / g}

    Parameters
    ----------
    height_m
        Height above the ground [m], >= 0; any shape.

    Returns
    -------
    t_s
        Fall time [s], same shape as ``height_m``.

    Notes
    -----
    No drag: the shortest possible fall. Drag lengthens it; see :func:`fall_range_m` for what
    that means for the range. ``g`` is standard gravity (``units.G0_M_S2``, CGPM 1901).

    Examples
    --------
    >>> round(float(fall_time_s(44.1)), 2)  # [2]: 3 s with g = 9.8 m s-2
    3.0
    """
    height = _nonnegative(height_m, "height_m")
    return np.sqrt(2.0 * height / G0_M_S2)


def fall_range_m(
    height_m: ArrayLike,
    speed_m_s: ArrayLike,
    wind_m_s: ArrayLike,
    *,
    method: str = "ballistic",
    safety_factor: float = 1.0,
) -> NDArray[np.float64]:
    r"""Horizontal distance from the failure point within which a falling aircraft lands [m].

    Parameters
    ----------
    height_m
        Height above the ground at the failure [m], >= 0.
    speed_m_s
        Ground speed of the aircraft at the failure [m s-1], >= 0.
    wind_m_s
        Mean wind speed (forecast or limit for the flight) [m s-1], >= 0.
    method
        ``"ballistic"`` (default) or ``"one_to_one"``; see the module docstring.
    safety_factor
        Multiplier on the range [-], >= 1 (e.g. 3, as [6]_ suggests for an estimate that
        ignores drag, GPS error and reaction time).

    Returns
    -------
    r_m
        Fall range [m], the broadcast shape of the inputs.

    Notes
    -----
    Ballistic method ([2]_, first term of [4]_):

    .. math:: r = f\,(v + w)\,\sqrt{2 h / g}

    speed and wind added as if aligned, since neither direction is known in advance, so the
    range is a circle. Drag slows the horizontal airspeed (shorter range) but lengthens the fall
    (longer wind drift). Integrating a quadratic-drag fall (``tests/drone/test_risk.py``) gives
    ranges of 0.4-0.9 x this formula for a terminal velocity of 20 m s-1 (a 6 kg inspection
    multirotor tumbling) up to 100 m above ground with v <= 8 and w <= 10 m s-1, but up to
    2.6 x for a terminal velocity of 10 m s-1 at 150 m in 10 m s-1 wind: raise
    ``safety_factor`` for light, draggy aircraft or high flights. GPS error and the reaction
    time of a flight-termination system add to the range [3]_ and are not included.

    One-to-one method [5]_: :math:`r = f\,h`.

    Examples
    --------
    >>> round(float(fall_range_m(44.1, 10.0, 0.0)), 1)  # [2]: 30 m
    30.0
    """
    _check_method(method)
    if not np.isfinite(safety_factor) or safety_factor < 1.0:
        raise InputError(f"must be >= 1, got {safety_factor!r}", field="safety_factor")
    height = _nonnegative(height_m, "height_m")
    speed = _nonnegative(speed_m_s, "speed_m_s")
    wind = _nonnegative(wind_m_s, "wind_m_s")
    if method == "one_to_one":
        shape = np.broadcast_shapes(height.shape, speed.shape, wind.shape)
        return safety_factor * np.broadcast_to(height, shape).astype(np.float64)
    return safety_factor * (speed + wind) * fall_time_s(height)


def max_speed_for_fall_range_m_s(
    height_m: ArrayLike,
    available_m: ArrayLike,
    wind_m_s: ArrayLike,
    *,
    safety_factor: float = 1.0,
) -> NDArray[np.float64]:
    r"""Highest ground speed whose ballistic fall range fits in ``available_m`` [m s-1].

    Inverts :func:`fall_range_m` (ballistic): :math:`v = r / (f \sqrt{2h/g}) - w`. Negative
    where even hovering (``v = 0``) is too fast; ``inf`` at ``h = 0``.

    Parameters
    ----------
    height_m
        Height above the ground [m], >= 0.
    available_m
        Horizontal clearance to the nearest area the aircraft must not fall into [m], >= 0.
    wind_m_s
        Mean wind speed [m s-1], >= 0.
    safety_factor
        As in :func:`fall_range_m` [-].

    Returns
    -------
    v_m_s
        Speed limit [m s-1], broadcast shape of the inputs.
    """
    height = _nonnegative(height_m, "height_m")
    available = _nonnegative(available_m, "available_m")
    wind = _nonnegative(wind_m_s, "wind_m_s")
    t_s = fall_time_s(height)
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = available / (safety_factor * t_s) - wind
    return np.where(t_s > 0.0, speed, np.inf)


def fall_range_buffer(
    path_m: ArrayLike,
    speed_m_s: ArrayLike,
    wind_m_s: float,
    *,
    method: str = "ballistic",
    safety_factor: float = 1.0,
    swept: bool = True,
    quad_segs: int = 16,
) -> Any:
    r"""Ground area a falling aircraft can reach from a point or along a path (shapely geometry).

    Parameters
    ----------
    path_m
        Positions in local ENU [m], shape (N, 3) (x, y, height above ground) or (3,).
    speed_m_s
        Ground speed at each position [m s-1], scalar or shape (N,).
    wind_m_s
        Mean wind speed [m s-1].
    method, safety_factor
        As in :func:`fall_range_m`.
    swept
        ``True``: the area swept along the legs between consecutive positions (each leg
        buffered by the larger of its two end ranges), so a failure anywhere on the path is
        covered. ``False``: only the discs around the positions.
    quad_segs
        Segments per quarter circle of each disc.

    Returns
    -------
    area
        A shapely ``Polygon`` or ``MultiPolygon`` in ENU (x, y) [m]; empty for no positions.

    Notes
    -----
    Along a leg the height, hence the range, varies between the end values, so the larger end
    range bounds it (the range grows with height as :math:`\sqrt{h}`, concave, so the hull of
    the two end discs alone would not hold the discs in between).
    """
    path = np.asarray(path_m, dtype=np.float64)
    if path.ndim == 1:
        path = path.reshape(1, -1)
    if path.ndim != 2 or path.shape[1] != 3 or not np.all(np.isfinite(path)):
        raise InputError(f"must be finite with shape (N, 3), got {np.shape(path_m)}", "path_m")
    if path.shape[0] == 0:
        return shapely.Polygon()
    radius = np.broadcast_to(
        fall_range_m(
            np.maximum(path[:, 2], 0.0),
            speed_m_s,
            wind_m_s,
            method=method,
            safety_factor=safety_factor,
        ),
        (path.shape[0],),
    )
    discs = shapely.buffer(shapely.points(path[:, :2]), radius, quad_segs=quad_segs)
    if swept and path.shape[0] > 1:
        legs = shapely.linestrings(np.stack([path[:-1, :2], path[1:, :2]], axis=1))
        reach = np.maximum(radius[:-1], radius[1:])
        return shapely.union_all(
            np.concatenate([shapely.buffer(legs, reach, quad_segs=quad_segs), discs])
        )
    return shapely.union_all(discs)
