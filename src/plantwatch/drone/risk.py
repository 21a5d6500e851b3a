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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from plantwatch.errors import InputError
from plantwatch.units import G0_M_S2

if TYPE_CHECKING:
    from plantwatch.drone.compliance import Route
    from plantwatch.drone.model import Site
    from plantwatch.drone.operation import Operation
    from plantwatch.drone.regdata import RiskEntry

__all__ = [
    "FALL_RANGE_METHODS",
    "RISK_LEVELS",
    "RISK_MATRIX",
    "FallRangeReport",
    "RiskItem",
    "RiskRegister",
    "fall_range_buffer",
    "fall_range_m",
    "fall_range_report",
    "fall_time_s",
    "max_speed_for_fall_range_m_s",
    "risk_level",
    "risk_notes",
    "risk_register",
    "select_risks",
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


# -- risk register (issue 6): MHLW-2022 Table 3.2 and the fall range of a planned route ---------
#
# Added for ``plantwatch drone risk``: which Table 3.2 items apply to an operation, their level
# before and after mitigation on a likelihood x severity matrix, and where the route's fall
# range reaches. The items themselves are data (``data/risks.yaml``).

RISK_LEVELS: tuple[str, ...] = ("low", "medium", "high")

RISK_MATRIX = (
    "score = likelihood (1 rare .. 5 frequent) x severity (1 negligible .. 5 catastrophic); "
    "low: score <= 4, medium: 5-9, high: >= 10"
)
r"""The risk matrix, in words. A 5 x 5 consequence/likelihood matrix of the usual kind (ISO/IEC
31010:2019 B.10); the band limits are our choice: a score of 10 or more (e.g. "possible" x
"injury or major damage", 3 x 4 = 12) is high and needs mitigation before the flight is
approved; low (<= 4) is acceptable as it is."""

_MEDIUM_FROM, _HIGH_FROM = 5, 10
_WIND_NOTE_FRACTION = 0.7  # forecast wind at or above this share of the limit gets a note


def risk_level(likelihood: int, severity: int) -> str:
    """``"low"``, ``"medium"`` or ``"high"`` for a likelihood and severity (1-5 each), per
    :data:`RISK_MATRIX`.

    Examples
    --------
    >>> risk_level(1, 4), risk_level(2, 3), risk_level(3, 4)
    ('low', 'medium', 'high')
    """
    for name, value in (("likelihood", likelihood), ("severity", severity)):
        if not 1 <= value <= 5:
            raise InputError(f"must be 1..5, got {value!r}", field=name)
    score = likelihood * severity
    if score >= _HIGH_FROM:
        return "high"
    return "medium" if score >= _MEDIUM_FROM else "low"


@dataclass(frozen=True)
class RiskItem:
    """A Table 3.2 item selected for an operation, with its levels and why it applies."""

    id: str
    group: str
    hazard: dict[str, str]
    mitigations: list[dict[str, str]]
    likelihood: int
    severity: int
    level: str
    residual_likelihood: int
    residual_severity: int
    residual_level: str
    citation: str
    reason: dict[str, str]


_GROUP_REASONS: dict[str, tuple[str, str]] = {
    "general": ("applies to every flight", "すべての飛行に適用"),
    "near_hazardous_area": (
        "the route comes near a Zone 0/1/2 or fire-restricted area",
        "ルートが危険箇所・火気制限区域に近づく",
    ),
    "indoor": ("indoor flight (indoor: true)", "屋内飛行（indoor: true）"),
}


def _group_applies(group: str, operation: Operation, facts: Mapping[str, bool | None]) -> bool:
    if group == "general":
        return True
    if group == "indoor":
        return operation.indoor or facts.get("indoor") is True
    # near hazardous areas: any of the facts holds, or is unknown (then assume it may)
    keys = ("near_hazardous_area", "fire_restricted_area", "ex_zone_non_explosion_proof")
    return any(facts.get(key, False) is not False for key in keys)


def select_risks(
    operation: Operation,
    facts: Mapping[str, bool | None],
    risks: Sequence[RiskEntry] | None = None,
) -> list[RiskItem]:
    """The Table 3.2 items that apply to an operation.

    Parameters
    ----------
    operation
        The operation (``indoor`` selects c1-c9).
    facts
        Predicate name -> holds (``True``/``False``/``None`` unknown), e.g. from
        ``plantwatch.drone.compliance.compute_facts``. ``near_hazardous_area``,
        ``fire_restricted_area`` or ``ex_zone_non_explosion_proof`` holding (or unknown) selects
        b1-b3; ``indoor`` selects c1-c9.
    risks
        The items (default: ``data/risks.yaml``).

    Returns
    -------
    items
        General items a1-a8 always, then b and c items when they apply, in data order, each
        with its level before and after mitigation (:func:`risk_level`).
    """
    if risks is None:
        from plantwatch.drone.regdata import load_risks

        risks = load_risks()
    selected = []
    for entry in risks:
        if not _group_applies(entry.group, operation, facts):
            continue
        residual_severity = entry.residual_severity or entry.severity
        reason_en, reason_ja = _GROUP_REASONS[entry.group]
        selected.append(
            RiskItem(
                id=entry.id,
                group=entry.group,
                hazard=entry.hazard.model_dump(),
                mitigations=[m.model_dump() for m in entry.mitigations],
                likelihood=entry.likelihood,
                severity=entry.severity,
                level=risk_level(entry.likelihood, entry.severity),
                residual_likelihood=entry.residual_likelihood,
                residual_severity=residual_severity,
                residual_level=risk_level(entry.residual_likelihood, residual_severity),
                citation=entry.citation,
                reason={"en": reason_en, "ja": reason_ja},
            )
        )
    return selected


@dataclass(frozen=True)
class FallRangeReport:
    """Fall range of a planned route and what it reaches.

    ``by_height``: for each 5 m height band flown, the highest speed there and the fall range
    from the top of the band. ``reaches``: site zones (people, road, Zone 0/1/2,
    fire-restricted, no-fly), facilities and the outside of the site boundary that the area
    swept by the fall range overlaps, with the overlap [m2].
    """

    wind_m_s: float
    method: str
    safety_factor: float
    max_height_m: float
    max_range_m: float
    by_height: list[dict[str, float]]
    reaches: list[dict[str, Any]]


_REACH_ZONE_KINDS = ("people", "road", "zone0", "zone1", "zone2", "fire_restricted", "no_fly")
_MIN_REACH_M2 = 0.5  # overlaps smaller than this are rounding [m2]
_HEIGHT_BAND_M = 5.0


def fall_range_report(
    plan: str | Path | Route,
    site: Site,
    wind_m_s: float,
    *,
    method: str = "ballistic",
    safety_factor: float = 1.0,
) -> FallRangeReport:
    """Fall range for the route's heights and speeds in the forecast wind, and where it reaches.

    Parameters
    ----------
    plan
        A plan folder (``plan.json`` of ``plantwatch drone plan``) or a loaded route.
    site
        The site the route was planned for (zones, facilities, boundary).
    wind_m_s
        Forecast mean wind [m s-1].
    method, safety_factor
        As in :func:`fall_range_m`.

    Returns
    -------
    report
        See :class:`FallRangeReport`; the swept area is :func:`fall_range_buffer` of every
        sortie's waypoints at their speeds.
    """
    from plantwatch.drone.compliance import Route, load_route
    from plantwatch.drone.site import facility_footprint, zone_polygon

    route = plan if isinstance(plan, Route) else load_route(plan)
    wind = float(_nonnegative(wind_m_s, "wind_m_s"))
    positions = route.positions_m
    heights = np.maximum(positions[:, 2], 0.0)
    ranges = fall_range_m(
        heights, route.speed_m_s, wind, method=method, safety_factor=safety_factor
    )
    bands = np.ceil(np.maximum(heights, 1e-9) / _HEIGHT_BAND_M) * _HEIGHT_BAND_M
    by_height = []
    for top in np.unique(bands):
        speed = float(route.speed_m_s[bands == top].max())
        reach = float(fall_range_m(top, speed, wind, method=method, safety_factor=safety_factor))
        by_height.append({"height_m": float(top), "speed_m_s": speed, "range_m": round(reach, 1)})
    swept = shapely.union_all(
        [
            fall_range_buffer(
                positions[route.sortie == sortie],
                route.speed_m_s[route.sortie == sortie],
                wind,
                method=method,
                safety_factor=safety_factor,
            )
            for sortie in np.unique(route.sortie)
        ]
    )
    reaches: list[dict[str, Any]] = []
    for zone in site.zones_of(*_REACH_ZONE_KINDS):
        overlap = swept.intersection(zone_polygon(zone)).area
        if overlap > _MIN_REACH_M2:
            reaches.append(
                {
                    "kind": zone.kind,
                    "id": zone.id,
                    "name": str(zone.properties.get("name", "")),
                    "area_m2": round(float(overlap), 1),
                    "controlled": zone.properties.get("controlled") is True,
                }
            )
    for facility in site.facilities:
        overlap = swept.intersection(facility_footprint(facility)).area
        if overlap > _MIN_REACH_M2:
            reaches.append(
                {
                    "kind": "facility",
                    "id": facility.id,
                    "name": facility.name,
                    "area_m2": round(float(overlap), 1),
                    "controlled": True,
                }
            )
    boundaries = site.zones_of("boundary")
    if boundaries:
        outside = swept.difference(shapely.union_all([zone_polygon(z) for z in boundaries])).area
        if outside > _MIN_REACH_M2:
            reaches.append(
                {
                    "kind": "outside_site",
                    "id": "outside",
                    "name": "outside the site boundary",
                    "area_m2": round(float(outside), 1),
                    "controlled": False,
                }
            )
    top = int(np.argmax(ranges))
    return FallRangeReport(
        wind_m_s=wind,
        method=method,
        safety_factor=safety_factor,
        max_height_m=round(float(heights.max()), 2),
        max_range_m=round(float(ranges[top]), 2),
        by_height=by_height,
        reaches=reaches,
    )


def risk_notes(
    operation: Operation, facts: Mapping[str, bool | None], fall: FallRangeReport
) -> list[dict[str, str]]:
    """Notes on flying over people and in wind, for the risk assessment (English, Japanese)."""
    notes: list[dict[str, str]] = []
    people = [r for r in fall.reaches if r["kind"] in ("people", "road", "outside_site")]
    if people or facts.get("method_within_30m"):
        names = ", ".join(
            f"{r['kind']} {r['id']}" + (" (closed during the flight)" if r["controlled"] else "")
            for r in people
        )
        closed = operation.third_party_area_closed
        notes.append(
            {
                "en": f"over people: the fall range reaches {names or 'no people zone'}; "
                + (
                    "third parties are kept out (third_party_area_closed: true)"
                    if closed
                    else "third parties are NOT kept out: close the area or change the route"
                ),
                "ja": f"第三者上空：落下範囲が{names or '人のゾーンなし'}に及ぶ。"
                + (
                    "第三者の立入を管理する"
                    if closed
                    else "第三者の立入管理なし：立入禁止にするかルートを変更すること"
                ),
            }
        )
    limits = [operation.aircraft.max_wind_m_s]
    if operation.wind_stop_m_s is not None:
        limits.append(operation.wind_stop_m_s)
    limit = min(limits)
    wind = operation.wind_forecast_m_s
    if wind >= _WIND_NOTE_FRACTION * limit:
        notes.append(
            {
                "en": f"wind: forecast {wind:g} m/s is {100 * wind / limit:.0f} % of the limit "
                f"{limit:g} m/s; gusts may exceed it, watch the anemometer and stop at the limit",
                "ja": f"風：予報{wind:g} m/sは上限{limit:g} m/sの{100 * wind / limit:.0f} %。"
                "突風で超えるおそれがあり、風速計を監視し上限で中止すること",
            }
        )
    notes.append(
        {
            "en": f"fall range up to {fall.max_range_m:.1f} m from {fall.max_height_m:.1f} m in "
            f"{fall.wind_m_s:g} m/s wind (ballistic, MHLW-2022 Table 3.2 a1)",
            "ja": f"落下範囲：最高{fall.max_height_m:.1f} m、風速{fall.wind_m_s:g} m/sで最大"
            f"{fall.max_range_m:.1f} m（水平投射、表3.2 a1）",
        }
    )
    return notes


@dataclass(frozen=True)
class RiskRegister:
    """The risk assessment of one planned flight (``plantwatch drone risk``)."""

    matrix: str
    items: list[RiskItem]
    notes: list[dict[str, str]]
    fall_range: FallRangeReport


def risk_register(
    operation: Operation,
    facts: Mapping[str, bool | None],
    route: Route,
    site: Site,
    risks: Sequence[RiskEntry] | None = None,
) -> RiskRegister:
    """Selected Table 3.2 items, notes and the fall-range report for one flight."""
    fall = fall_range_report(route, site, operation.wind_forecast_m_s)
    return RiskRegister(
        matrix=RISK_MATRIX,
        items=select_risks(operation, facts, risks),
        notes=risk_notes(operation, facts, fall),
        fall_range=fall,
    )
