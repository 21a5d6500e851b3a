"""Compliance engine: rules as data, facts from the plan, findings with citations and deadlines.

``plantwatch drone check PLAN_DIR --ops ops.yaml`` asks: may this flight go ahead, and what must
be applied for, by when? The answer is a list of :class:`Finding`\\ s, one per rule of
``data/rules/*.yaml`` (schema: ``data/rules/SCHEMA.md``):

1. **Facts.** Every predicate of :data:`PREDICATES` (the names are fixed by SCHEMA.md) is
   computed once from the route (``plan.json``: every waypoint, in ENU, with the legs between
   them sampled every :data:`SAMPLE_STEP_M`), the site (``site.geojson`` next to it: zones,
   boundary, facilities), the operation file (:mod:`plantwatch.drone.operation`) and the
   airspace layers (:mod:`plantwatch.drone.airspace`). A :class:`Fact` holds (``True``), does
   not hold (``False``) or is unknown (``None``: e.g. no DID layer was supplied), and says why in
   English and Japanese ("waypoints[12] (sortie 3) at 162.0 m above ground").
2. **Findings.** An ``auto`` rule whose predicate holds gets its ``outcome`` (``permit_required``,
   ``prohibited`` or ``confirm``); one whose predicate does not hold is ``ok``; one whose
   predicate is unknown becomes ``confirm`` with a question, never a silent ``ok``. A ``person``
   rule is ``confirm`` with its question while its predicate (``when``, default ``always``)
   holds, unless the operation file answers it (``confirmations: {rule_id: true}`` -> ``ok``;
   ``false`` -> the rule's blocking outcome if it has one, else ``confirm``). A
   ``permit_required`` finding whose permission the operation file says is held
   (``permits: {rule_id: {reference, valid_until}}``, valid on the flight date) is ``ok``.
3. **Deadlines.** A permission's application deadline is the flight date minus
   ``lead_time_business_days`` administrative business days (:func:`business_days_before`:
   Saturdays, Sundays, national holidays per ``jpholiday`` and the government's year-end closure
   Dec 29 - Jan 3 do not count), or the flight's start minus ``lead_time_hours`` calendar hours
   (e.g. the 48 h police notice of the Small UAV Act). A deadline before ``today`` is called out.
4. **Exit status** (:func:`exit_status`): 0 when no finding is ``prohibited`` or
   ``permit_required`` (``confirm`` findings are listed for a person but do not block), 1
   otherwise; the CLI uses 2 for bad input.

References
----------
.. [1] Aviation Act (航空法) Art. 132 (airspace: airport surfaces, >= 150 m, DIDs), Art. 132-2
   (flight methods: daytime, within sight, 30 m, events, dangerous goods, dropping),
   Art. 131-4 ff. (registration, remote ID), Ordinance Art. 5-2 (100 g).
.. [2] MLIT, 審査要領 (review guidelines): apply at least 10 administrative business days
   before the flight (MHLW-2022 §2.1.1 (iv) (a)).
.. [3] Act on Holidays of Administrative Organs (行政機関の休日に関する法律, Act No. 91 of 1988)
   Art. 1 (1): Saturdays, Sundays, national holidays and Dec 29 - Jan 3 are holidays of
   administrative organs.
.. [4] Radio Act (電波法) Art. 4 (licence-free low-power stations), Art. 38-2-2 ff. (technical
   conformity); MIC, "ドローン等に用いられる無線設備について"; MHLW-2022 §2.1.2.
.. [5] MHLW-2022 §2.1.3, Tables 2.3, 2.4 (crew, maintenance every 20 flight hours), §2.4 (pilot
   with >= 10 h of flight), §6.7 and §6.9 (hazardous and fire-restricted areas).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import jpholiday
import numpy as np
import shapely
from numpy.typing import NDArray

from plantwatch.drone.airspace import Airspace
from plantwatch.drone.model import Site, Zone
from plantwatch.drone.operation import DAYLIGHT_MARGIN_MIN, JST, Operation, sun_times
from plantwatch.drone.regdata import PREDICATE_NAMES, Permit, Role, Rule
from plantwatch.drone.risk import fall_range_m
from plantwatch.drone.site import HAZARDOUS_ZONE_KINDS, facility_footprint, zone_polygon
from plantwatch.errors import InputError

__all__ = [
    "AIRSPACE_HEIGHT_LIMIT_M",
    "LICENCE_FREE_BANDS_GHZ",
    "MAINTENANCE_INTERVAL_H",
    "MIN_PILOT_HOURS",
    "PREDICATES",
    "PRIVACY_VIEW_RANGE_M",
    "REGISTRATION_MASS_KG",
    "SAMPLE_STEP_M",
    "STATUSES",
    "THIRD_PARTY_DISTANCE_M",
    "YEAR_END_CLOSURE",
    "CheckResult",
    "Context",
    "Fact",
    "Finding",
    "Route",
    "RouteSamples",
    "business_days_before",
    "check_plan",
    "compute_facts",
    "evaluate",
    "evaluate_rules",
    "exit_status",
    "findings_to_json",
    "is_administrative_business_day",
    "load_route",
    "permit_deadline",
]

FloatArray = NDArray[np.float64]
Status = Literal["ok", "permit_required", "prohibited", "confirm"]
STATUSES: tuple[str, ...] = ("ok", "permit_required", "prohibited", "confirm")

AIRSPACE_HEIGHT_LIMIT_M = 150.0
"""Flight higher than this above the ground needs permission (Aviation Act Art. 132 (1) (i),
Ordinance Art. 236-70) [m]."""
THIRD_PARTY_DISTANCE_M = 30.0
"""Distance to keep from people and property without approval (Aviation Act Art. 132-2 (1) (vi),
Ordinance Art. 236-79) [m]; MHLW-2022 uses the same 30 m around hazardous areas (Table 3.2)."""
REGISTRATION_MASS_KG = 0.1
"""Aircraft of this mass or more must be registered and carry remote ID (Aviation Act
Art. 131-4, Ordinance Art. 5-2: 100 g) [kg]."""
MIN_PILOT_HOURS = 10.0
"""Flight time a pilot needs to fly inspections (MLIT review guidelines 4-2 (2): 10 hours;
MHLW-2022 §2.4) [h]."""
MAINTENANCE_INTERVAL_H = 20.0
"""Flight hours between maintenance inspections (MLIT standard manual; MHLW-2022 §2.5) [h];
the data's ``interval_flight_hours`` of the ``maintenance_overdue`` requirement overrides it."""
LICENCE_FREE_BANDS_GHZ: tuple[tuple[float, float, str, str], ...] = (
    (0.920, 0.928, "920 MHz specified low-power radio", "920 MHz帯特定小電力無線局"),
    (
        2.400,
        2.4835,
        "2.4 GHz low-power data communication system",
        "2.4 GHz帯小電力データ通信システム",
    ),
)
"""Bands a certified drone radio may use without a radio-station licence [GHz]: Radio Act
Art. 4 (iii) (specified low-power stations, 920 MHz band) and Art. 4 (iv) (low-power data
communication systems, 2.4 GHz band, 10 mW/MHz); MHLW-2022 §2.1.2. The 169 MHz, 2.4 GHz
high-power and 5.7 GHz bands need a licence for unmanned-aircraft image transmission, and
5.8 GHz/1.2 GHz FPV links an amateur licence (MIC, "ドローン等に用いられる無線設備について")."""
SAMPLE_STEP_M = 2.0
"""Legs between waypoints are sampled at least this densely for zone and distance checks [m]."""
PRIVACY_VIEW_RANGE_M = 100.0
"""How far along its optical axis the inspection camera is taken to record identifiable people,
vehicles and houses [m]. Our choice (a 2 mm/px inspection camera at 7 m has ~3 cm/px at 100 m);
the MIC guideline on drone footage (総務省, 2015) asks operators not to film private life."""
YEAR_END_CLOSURE: tuple[tuple[int, int], ...] = (
    (12, 29),
    (12, 30),
    (12, 31),
    (1, 1),
    (1, 2),
    (1, 3),
)
"""(month, day) of the government's year-end and new-year closure (Act No. 91 of 1988 Art. 1)."""


# -- route ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteSamples:
    """Points along the route: every waypoint plus points on each leg.

    ``waypoint[i]`` is the index of the waypoint at or before sample ``i``; ``exact[i]`` says
    whether the sample is that waypoint itself; ``speed_m_s[i]`` is the speed on that leg.
    """

    points_m: FloatArray
    waypoint: NDArray[np.int64]
    exact: NDArray[np.bool_]
    speed_m_s: FloatArray


@dataclass(frozen=True)
class Route:
    """The planned route read from ``plan.json``, in the site's ENU frame.

    Heights (``positions_m[:, 2]``) are above the take-off point, which the planner puts at the
    site's ground level: heights above ground.
    """

    positions_m: FloatArray  # (N, 3)
    sortie: NDArray[np.int64]  # (N,)
    heading_deg: FloatArray
    gimbal_pitch_deg: FloatArray
    speed_m_s: FloatArray
    photo: NDArray[np.bool_]
    kinds: tuple[str, ...]
    facility_ids: tuple[str | None, ...]
    flight_time_s: float = 0.0
    site_name: str = ""

    @classmethod
    def from_points(
        cls,
        positions_m: Sequence[Sequence[float]],
        *,
        sortie: Sequence[int] | None = None,
        heading_deg: Sequence[float] | float = 0.0,
        gimbal_pitch_deg: Sequence[float] | float = 0.0,
        speed_m_s: Sequence[float] | float = 4.0,
        photo: Sequence[bool] | bool = True,
        flight_time_s: float | None = None,
    ) -> Route:
        """A route from bare positions (tests, other planners)."""
        positions = np.asarray(positions_m, dtype=np.float64).reshape(-1, 3)
        n = len(positions)
        speeds = np.broadcast_to(np.asarray(speed_m_s, dtype=np.float64), (n,)).copy()
        if flight_time_s is None:
            legs = np.linalg.norm(np.diff(positions, axis=0), axis=1)
            flight_time_s = float(np.sum(legs / np.maximum(speeds[1:], 0.1)))
        return cls(
            positions_m=positions,
            sortie=np.asarray(sortie if sortie is not None else np.zeros(n), dtype=np.int64),
            heading_deg=np.broadcast_to(np.asarray(heading_deg, np.float64), (n,)).copy(),
            gimbal_pitch_deg=np.broadcast_to(np.asarray(gimbal_pitch_deg, np.float64), (n,)).copy(),
            speed_m_s=speeds,
            photo=np.broadcast_to(np.asarray(photo, dtype=bool), (n,)).copy(),
            kinds=("orbit",) * n,
            facility_ids=(None,) * n,
            flight_time_s=flight_time_s,
        )

    def __len__(self) -> int:
        return len(self.positions_m)

    def samples(self, step_m: float = SAMPLE_STEP_M) -> RouteSamples:
        """Waypoints plus points every ``step_m`` or closer on each leg within a sortie."""
        pts, wps, exact, speeds = [], [], [], []
        positions = self.positions_m
        for i in range(len(positions)):
            pts.append(positions[i : i + 1])
            wps.append([i])
            exact.append([True])
            speeds.append([self.speed_m_s[i]])
            if i + 1 < len(positions) and self.sortie[i + 1] == self.sortie[i]:
                length = float(np.linalg.norm(positions[i + 1] - positions[i]))
                count = int(math.ceil(length / step_m)) - 1
                if count > 0:
                    t = np.arange(1, count + 1) / (count + 1)
                    pts.append(positions[i] + t[:, None] * (positions[i + 1] - positions[i]))
                    wps.append([i] * count)
                    exact.append([False] * count)
                    leg_speed = max(self.speed_m_s[i], self.speed_m_s[i + 1])
                    speeds.append([leg_speed] * count)
        if not pts:
            empty = np.zeros((0, 3))
            return RouteSamples(empty, np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0))
        return RouteSamples(
            points_m=np.concatenate(pts),
            waypoint=np.concatenate([np.asarray(w, np.int64) for w in wps]),
            exact=np.concatenate([np.asarray(e, bool) for e in exact]),
            speed_m_s=np.concatenate([np.asarray(s, np.float64) for s in speeds]),
        )


_ROUTE_FIELDS = ("sortie", "x_m", "y_m", "z_m", "heading_deg", "gimbal_pitch_deg", "speed_m_s")


def load_route(plan_dir: str | Path) -> Route:
    """Read every waypoint of ``PLAN_DIR/plan.json`` (written by ``plantwatch drone plan``).

    Raises
    ------
    InputError
        The folder or ``plan.json`` is missing or malformed (not JSON, no ``waypoints``/
        ``waypoint_fields``, non-finite coordinates), or it has no waypoint.
    """
    folder = Path(plan_dir)
    path = folder / "plan.json"
    if not folder.is_dir():
        raise InputError(f"no such folder: {str(folder)!r}", field="PLAN_DIR")
    if not path.is_file():
        raise InputError(
            f"{str(path)!r} is missing; make the plan with `plantwatch drone plan --out DIR`",
            field="PLAN_DIR",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc}", field="plan.json") from None
    fields = data.get("waypoint_fields") if isinstance(data, dict) else None
    rows = data.get("waypoints") if isinstance(data, dict) else None
    if not isinstance(fields, list) or not isinstance(rows, list):
        raise InputError("needs 'waypoint_fields' and 'waypoints' lists", field="plan.json")
    missing = [name for name in _ROUTE_FIELDS if name not in fields]
    if missing:
        raise InputError(f"waypoint_fields lacks {', '.join(missing)}", field="plan.json")
    if not rows:
        raise InputError("has no waypoints", field="plan.json")
    col = {name: fields.index(name) for name in fields}
    try:
        numeric = np.array(
            [[float(row[col[name]]) for name in _ROUTE_FIELDS] for row in rows], dtype=np.float64
        )
    except (TypeError, ValueError, IndexError):
        raise InputError("waypoints rows do not match waypoint_fields", "plan.json") from None
    if not np.isfinite(numeric).all():
        raise InputError("waypoints hold non-finite numbers", field="plan.json")

    def text(row: list[Any], name: str, default: str | None) -> str | None:
        value = row[col[name]] if name in col and col[name] < len(row) else default
        return None if value is None else str(value)

    return Route(
        positions_m=numeric[:, 1:4],
        sortie=numeric[:, 0].astype(np.int64),
        heading_deg=numeric[:, 4],
        gimbal_pitch_deg=numeric[:, 5],
        speed_m_s=numeric[:, 6],
        photo=np.array([text(row, "action", "photo") == "photo" for row in rows]),
        kinds=tuple(text(row, "kind", "orbit") or "orbit" for row in rows),
        facility_ids=tuple(text(row, "facility_id", None) for row in rows),
        flight_time_s=float(data.get("flight_time_s") or 0.0),
        site_name=str(data.get("site") or ""),
    )


# -- facts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """The value of one predicate for this flight, and why (English and Japanese)."""

    holds: bool | None
    en: str
    ja: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """Everything a predicate may look at."""

    route: Route
    site: Site
    operation: Operation
    airspace: Airspace | None
    roles: tuple[Role, ...] = ()
    maintenance_interval_h: float = MAINTENANCE_INTERVAL_H  # from data when it says

    @cached_property
    def samples(self) -> RouteSamples:
        return self.route.samples()

    @cached_property
    def samples_xy(self) -> NDArray[np.object_]:
        """The samples as shapely Points in plan (x, y)."""
        return np.asarray(shapely.points(self.samples.points_m[:, :2]))

    @cached_property
    def sun(self) -> tuple[datetime, datetime] | None:
        return sun_times(self.operation.date, self.site.origin_lat_deg, self.site.origin_lon_deg)


def _where(ctx: Context, index: int) -> tuple[str, str]:
    """Where sample ``index`` is, in words (English, Japanese)."""
    s = ctx.samples
    wp = int(s.waypoint[index])
    sortie = int(ctx.route.sortie[wp])
    z = float(s.points_m[index, 2])
    if s.exact[index]:
        en, ja = f"waypoints[{wp}] (sortie {sortie})", f"waypoints[{wp}]（ソーティ{sortie}）"
    else:
        en = f"the leg waypoints[{wp}]->[{wp + 1}] (sortie {sortie})"
        ja = f"waypoints[{wp}]→[{wp + 1}]の区間（ソーティ{sortie}）"
    return f"{en} at {z:.1f} m above ground", f"{ja}、対地{z:.1f} m"


def _first(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def _in_prism(zone: Zone, points: FloatArray) -> NDArray[np.bool_]:
    polygon = zone_polygon(zone)
    inside = shapely.intersects_xy(polygon, points[:, 0], points[:, 1])
    return np.asarray(inside & (points[:, 2] >= zone.floor_m) & (points[:, 2] <= zone.ceiling_m))


def _prism_distance(zone: Zone, points: FloatArray, horizontal: FloatArray) -> FloatArray:
    """3D distance from each point to the zone's prism [m] (0 inside), given the horizontal
    distance to its footprint."""
    below = np.maximum(zone.floor_m - points[:, 2], 0.0)
    above = np.maximum(points[:, 2] - zone.ceiling_m, 0.0)
    return np.hypot(horizontal, below + above)


def _zone_label(zone: Zone) -> str:
    name = zone.properties.get("name")
    return f"{zone.kind} {zone.id!r}" + (f" ({name})" if name else "")


def _bool_fact(
    value: bool, field_name: str, en_yes: str, ja_yes: str, en_no: str, ja_no: str
) -> Fact:
    if value:
        return Fact(True, f"{en_yes} ({field_name}: true)", f"{ja_yes}（{field_name}: true）")
    return Fact(False, f"{en_no} ({field_name}: false)", f"{ja_no}（{field_name}: false）")


def _above_150m(ctx: Context) -> Fact:
    z = ctx.route.positions_m[:, 2]
    i = int(np.argmax(z))
    limit = AIRSPACE_HEIGHT_LIMIT_M
    where_en, where_ja = f"waypoints[{i}]", f"waypoints[{i}]"
    details = {"max_height_m": round(float(z[i]), 2), "waypoint": i, "limit_m": limit}
    if z[i] > limit:
        return Fact(
            True,
            f"{where_en} is {z[i]:.1f} m above ground, above the {limit:g} m limit",
            f"{where_ja}が対地{z[i]:.1f} mで、{limit:g} mを超える",
            details,
        )
    return Fact(
        False,
        f"highest point {where_en} is {z[i]:.1f} m above ground (limit {limit:g} m)",
        f"最高点{where_ja}は対地{z[i]:.1f} m（上限{limit:g} m）",
        details,
    )


def _unknown_layer(ctx: Context, layer: str, en: str, ja: str) -> Fact | None:
    if ctx.airspace is None or not ctx.airspace.has(layer):
        source = ctx.airspace.source if ctx.airspace is not None else "no airspace folder"
        return Fact(
            None,
            f"no {layer}.geojson layer was supplied ({source}); check the {en} map by hand",
            f"{layer}.geojsonレイヤーがない（{source}）。{ja}の地図を人が確認すること",
            {"layer": layer},
        )
    return None


def _layer_fact(
    ctx: Context, layer: str, label_en: str, label_ja: str, *, with_height: bool = False
) -> Fact:
    unknown = _unknown_layer(ctx, layer, label_en, label_ja)
    if unknown is not None:
        return unknown
    assert ctx.airspace is not None
    points = ctx.samples.points_m
    areas = ctx.airspace.of(layer)
    below_floor: list[tuple[str, float]] = []
    nearest = (math.inf, "")
    for area in areas:
        inside = np.asarray(shapely.intersects_xy(area.polygon, points[:, 0], points[:, 1]))
        if with_height:
            in_band = inside & (points[:, 2] > area.floor_m) & (points[:, 2] <= area.ceiling_m)
            if inside.any() and not in_band.any():
                below_floor.append((area.name, area.floor_m))
            inside = in_band
        if inside.any():
            i = _first(inside)
            where_en, where_ja = _where(ctx, i)
            height_en = f" (above its floor {area.floor_m:g} m)" if with_height else ""
            height_ja = f"（制限表面{area.floor_m:g} mより上）" if with_height else ""
            return Fact(
                True,
                f"{where_en} is inside the {label_en} {area.name!r}{height_en}",
                f"{where_ja}が{label_ja}「{area.name}」の内側{height_ja}",
                {"layer": layer, "area": area.id, "waypoint": int(ctx.samples.waypoint[i])},
            )
        distance = float(np.min(shapely.distance(area.polygon, ctx.samples_xy)))
        if distance < nearest[0]:
            nearest = (distance, area.name)
    en = f"the route stays outside every {label_en} of the layer ({len(areas)})"
    ja = f"ルートは{label_ja}（{len(areas)}区域）の外"
    if below_floor:
        names = ", ".join(f"{name!r} (floor {floor:g} m)" for name, floor in below_floor)
        top = float(points[:, 2].max())
        en += f"; under {names}, every point below the floor (highest {top:.1f} m)"
        under = "、".join(n for n, _ in below_floor)
        ja += f"。{under}の下だが全点が制限表面より下（最高{top:.1f} m）"
    elif math.isfinite(nearest[0]):
        en += f" (nearest: {nearest[1]!r}, {nearest[0]:.0f} m away)"
        ja += f"（最寄り「{nearest[1]}」まで{nearest[0]:.0f} m）"
    return Fact(False, en, ja, {"layer": layer, "source": ctx.airspace.source})


def _airport_surfaces(ctx: Context) -> Fact:
    return _layer_fact(
        ctx, "airport_surfaces", "airport surface", "空港等の制限表面", with_height=True
    )


def _did(ctx: Context) -> Fact:
    return _layer_fact(ctx, "did", "densely inhabited district (DID)", "人口集中地区（DID）")


def _small_uav(ctx: Context) -> Fact:
    return _layer_fact(
        ctx,
        "small_uav_act",
        "Small-UAV-Act zone (protected site + 300 m)",
        "小型無人機等飛行禁止法の対象区域（対象施設と周囲300 m）",
    )


def _port(ctx: Context) -> Fact:
    return _layer_fact(ctx, "port", "port or fairway area", "港域・航路")


def _emergency(ctx: Context) -> Fact:
    said = ctx.operation.emergency_airspace
    if said:
        return Fact(
            True,
            "the operation file says an emergency-use airspace is declared over the site "
            "(emergency_airspace: true)",
            "緊急用務空域が指定されている（emergency_airspace: true）",
        )
    if ctx.airspace is not None and ctx.airspace.has("emergency"):
        return _layer_fact(ctx, "emergency", "emergency-use airspace", "緊急用務空域")
    if said is False:
        return Fact(
            False,
            "the operation file says no emergency-use airspace is declared (emergency_airspace: "
            "false)",
            "緊急用務空域の指定なし（emergency_airspace: false）",
        )
    return Fact(
        None,
        "emergency-use airspace is declared at short notice; no emergency.geojson layer and no "
        "emergency_airspace in the operation file",
        "緊急用務空域は急に指定される。emergency.geojsonも運航ファイルのemergency_airspaceもない",
    )


def _night(ctx: Context) -> Fact:
    ops = ctx.operation
    window = f"{ops.start_time:%H:%M}-{ops.end_time:%H:%M}"
    if ops.daylight is False:
        return Fact(
            True,
            f"the operation file says the flight {window} is not in daylight (daylight: false)",
            f"飛行時間帯{window}は日中ではない（daylight: false）",
        )
    sun = ctx.sun
    if sun is None:  # polar day/night: cannot happen in Japan
        return Fact(
            None, "no sunrise/sunset on this date here", "この日この場所に日の出・日の入りがない"
        )
    rise, sett = sun
    early_min = (rise - ops.start).total_seconds() / 60.0
    late_min = (ops.end - sett).total_seconds() / 60.0
    outside_min = max(early_min, late_min)
    details = {"sunrise": f"{rise:%H:%M}", "sunset": f"{sett:%H:%M}", "window": window}
    sun_en = f"sunrise {rise:%H:%M}, sunset {sett:%H:%M} JST at the site (NOAA formulas)"
    sun_ja = f"現地の日の出{rise:%H:%M}、日の入り{sett:%H:%M}（NOAA式）"
    if outside_min > 0.0:
        if ops.daylight is True:
            if outside_min > DAYLIGHT_MARGIN_MIN:
                raise InputError(
                    f"the operation says daylight, but {window} on {ops.date.isoformat()} runs "
                    f"{outside_min:.0f} min outside daylight ({sun_en}); fix the times or set "
                    "daylight: false",
                    field="daylight",
                )
            return Fact(
                False,
                f"{window} is within {DAYLIGHT_MARGIN_MIN:g} min of daylight ({sun_en}) and the "
                "operation file says daylight: true",
                f"{window}は日中から{DAYLIGHT_MARGIN_MIN:g}分以内（{sun_ja}）、daylight: true",
                details,
            )
        return Fact(
            True,
            f"{window} is outside daylight ({sun_en})",
            f"飛行時間帯{window}は日中の外（{sun_ja}）",
            details,
        )
    return Fact(
        False, f"{window} is in daylight ({sun_en})", f"{window}は日中（{sun_ja}）", details
    )


def _bvlos(ctx: Context) -> Fact:
    if ctx.operation.visual_line_of_sight:
        return Fact(
            False,
            "the pilot keeps the aircraft in sight (visual_line_of_sight: true)",
            "目視内飛行（visual_line_of_sight: true）",
        )
    return Fact(
        True,
        "the pilot does not keep the aircraft in sight (visual_line_of_sight: false)",
        "目視外飛行（visual_line_of_sight: false）",
        _tether_note(ctx),
    )


def _tether_note(ctx: Context) -> dict[str, Any]:
    if not ctx.operation.tethered:
        return {}
    return {
        "tethered": True,
        "note": "tethered flight (<= 30 m tether, third parties kept out) is exempt from MLIT "
        "permission for DID, night, BVLOS, 30 m and dropping (MHLW-2022 §2.1.1 (iii)); a "
        "person confirms the tether conditions",
    }


def _within_30m(ctx: Context) -> Fact:
    xy = ctx.samples_xy
    candidates: list[tuple[float, int, str, str]] = []
    for zone in ctx.site.zones_of("people", "road"):
        d = shapely.distance(zone_polygon(zone), xy)
        i = int(np.argmin(d))
        candidates.append((float(d[i]), i, _zone_label(zone), f"{zone.kind}「{zone.id}」"))
    for zone in ctx.site.zones_of("boundary"):
        d = shapely.distance(zone_polygon(zone).exterior, xy)
        i = int(np.argmin(d))
        candidates.append((float(d[i]), i, f"the site boundary {zone.id!r}", "敷地境界"))
    if not candidates:
        return Fact(
            None,
            "the site model has no people, road or boundary zones to measure from",
            "サイトモデルに人・道路・敷地境界のゾーンがない",
        )
    distance, i, label_en, label_ja = min(candidates)
    where_en, where_ja = _where(ctx, i)
    details = {"distance_m": round(distance, 1), "waypoint": int(ctx.samples.waypoint[i])}
    details.update(_tether_note(ctx))
    limit = THIRD_PARTY_DISTANCE_M
    if distance >= limit:
        return Fact(
            False,
            f"the route keeps >= {limit:g} m from people, roads and the boundary (nearest "
            f"{label_en}, {distance:.1f} m)",
            f"ルートは人・道路・敷地境界から{limit:g} m以上離れる"
            f"（最寄り{label_ja}まで{distance:.1f} m）",
            details,
        )
    near_en = f"{where_en} passes {distance:.1f} m from {label_en}"
    near_ja = f"{where_ja}が{label_ja}から{distance:.1f} m"
    if ctx.operation.third_party_area_closed:
        return Fact(
            False,
            f"{near_en}, but the third-party area is closed (third_party_area_closed: true)",
            f"{near_ja}だが第三者の立入を管理する（third_party_area_closed: true）",
            details,
        )
    return Fact(
        True,
        f"{near_en} (< {limit:g} m) and third parties are not kept out",
        f"{near_ja}（{limit:g} m未満）で、第三者の立入管理なし",
        details,
    )


def _event(ctx: Context) -> Fact:
    return _bool_fact(
        ctx.operation.event,
        "event",
        "flight over an event venue",
        "催し場所上空の飛行",
        "no event venue",
        "催し場所上空ではない",
    )


def _dangerous_goods(ctx: Context) -> Fact:
    return _bool_fact(
        ctx.operation.dangerous_goods,
        "dangerous_goods",
        "the aircraft carries dangerous goods",
        "危険物の輸送",
        "no dangerous goods carried",
        "危険物の輸送なし",
    )


def _dropping(ctx: Context) -> Fact:
    fact = _bool_fact(
        ctx.operation.dropping,
        "dropping",
        "objects are dropped from the aircraft",
        "物件投下",
        "nothing is dropped",
        "物件投下なし",
    )
    return Fact(fact.holds, fact.en, fact.ja, _tether_note(ctx))


def _unregistered(ctx: Context) -> Fact:
    aircraft = ctx.operation.aircraft
    details = {"mass_kg": aircraft.mass_kg, "registration": aircraft.registration}
    if aircraft.mass_kg < REGISTRATION_MASS_KG:
        return Fact(
            False,
            f"the aircraft weighs {aircraft.mass_kg:g} kg, under the 100 g registration threshold",
            f"機体重量{aircraft.mass_kg:g} kgで登録対象（100 g以上）外",
            details,
        )
    missing_en, missing_ja = [], []
    if not (aircraft.registration or "").strip():
        missing_en.append("no registration number")
        missing_ja.append("登録記号なし")
    if not aircraft.has_remote_id:
        missing_en.append("no remote ID")
        missing_ja.append("リモートIDなし")
    if missing_en:
        return Fact(
            True,
            f"aircraft {aircraft.id!r} ({aircraft.mass_kg:g} kg): {', '.join(missing_en)}",
            f"機体{aircraft.id}（{aircraft.mass_kg:g} kg）：{'、'.join(missing_ja)}",
            details,
        )
    return Fact(
        False,
        f"aircraft {aircraft.id!r} is registered ({aircraft.registration}) with remote ID",
        f"機体{aircraft.id}は登録済み（{aircraft.registration}）、リモートIDあり",
        details,
    )


def _licence_free_band(band_ghz: float) -> tuple[str, str] | None:
    """(English, Japanese) name of the licence-free band holding ``band_ghz``, if any."""
    for low, high, name_en, name_ja in LICENCE_FREE_BANDS_GHZ:
        if low <= band_ghz <= high:
            return name_en, name_ja
    return None


def _radio_licence(ctx: Context) -> Fact:
    radios = ctx.operation.aircraft.radios
    if not radios:
        return Fact(
            None,
            "the operation file lists no radios (aircraft.radios)",
            "無線設備の記載がない（aircraft.radios）",
        )
    needing = [r for r in radios if _licence_free_band(r.band_ghz) is None and not r.licensed]
    if needing:
        names = ", ".join(f"{r.name!r} ({r.band_ghz:g} GHz)" for r in needing)
        return Fact(
            True,
            f"{names} needs a radio-station licence, and none is recorded",
            f"{names}は無線局免許が必要だが、免許の記録がない",
            {"radios": [r.name for r in needing]},
        )
    parts_en, parts_ja = [], []
    for radio in radios:
        band = _licence_free_band(radio.band_ghz)
        en, ja = ("licensed", "免許あり") if band is None else band
        parts_en.append(f"{radio.name} {radio.band_ghz:g} GHz: {en}")
        parts_ja.append(f"{radio.name} {radio.band_ghz:g} GHz：{ja}")
    return Fact(
        False,
        f"every radio is licence-free or licensed ({'; '.join(parts_en)})",
        f"全無線設備が免許不要帯または免許取得済み（{'、'.join(parts_ja)}）",
    )


def _radio_uncertified(ctx: Context) -> Fact:
    radios = ctx.operation.aircraft.radios
    if not radios:
        return Fact(
            None,
            "the operation file lists no radios (aircraft.radios)",
            "無線設備の記載がない（aircraft.radios）",
        )
    bad = [r.name for r in radios if not r.certified]
    if bad:
        return Fact(
            True,
            f"{', '.join(bad)} lacks Japanese technical conformity certification",
            f"{'、'.join(bad)}に技適マークがない",
            {"radios": bad},
        )
    return Fact(
        False, "every radio carries technical conformity certification", "全無線設備に技適あり"
    )


def _privacy(ctx: Context) -> Fact:
    boundaries = ctx.site.zones_of("boundary")
    if not boundaries:
        return Fact(
            None,
            "the site model has no boundary, so what the camera sees outside cannot be checked",
            "サイトモデルに敷地境界がなく、敷地外の撮影を判定できない",
        )
    boundary = shapely.union_all([zone_polygon(z) for z in boundaries])
    route = ctx.route
    photo = np.flatnonzero(route.photo)
    if photo.size == 0:
        return Fact(False, "the route takes no photos", "撮影なし")
    pos = route.positions_m[photo]
    pitch = np.radians(np.minimum(route.gimbal_pitch_deg[photo], 0.0))
    with np.errstate(divide="ignore"):
        ground = np.where(pitch < -1e-3, pos[:, 2] / np.tan(-pitch), np.inf)
    reach = np.minimum(ground, PRIVACY_VIEW_RANGE_M)
    heading = np.radians(route.heading_deg[photo])
    ends = pos[:, :2] + reach[:, None] * np.column_stack([np.sin(heading), np.cos(heading)])
    lines = shapely.linestrings(np.stack([pos[:, :2], ends], axis=1))
    leaving = np.flatnonzero(~shapely.within(lines, boundary))
    exterior = boundary.boundary
    footprints = [(f.center_m[2] + f.height_m, facility_footprint(f)) for f in ctx.site.facilities]
    for k in leaving:
        start = shapely.Point(pos[k, :2])
        exit_distance = start.distance(lines[k].intersection(exterior))
        blockers = [fp for top, fp in footprints if top >= pos[k, 2]]
        blocked = math.inf
        for footprint in blockers:
            hit = lines[k].intersection(footprint)
            if not hit.is_empty:
                blocked = min(blocked, start.distance(hit))
        if exit_distance < blocked or not boundary.covers(start):
            wp = int(photo[k])
            return Fact(
                True,
                f"the photo at waypoints[{wp}] looks out of the site (heading "
                f"{route.heading_deg[wp]:.0f} deg, the boundary {exit_distance:.0f} m away)",
                f"waypoints[{wp}]の撮影が敷地外を向く（方位{route.heading_deg[wp]:.0f}°、"
                f"敷地境界まで{exit_distance:.0f} m）",
                {"waypoint": wp, "view_range_m": PRIVACY_VIEW_RANGE_M},
            )
    return Fact(
        False,
        f"no photo looks past the site boundary within {PRIVACY_VIEW_RANGE_M:g} m",
        f"{PRIVACY_VIEW_RANGE_M:g} m以内で敷地外を写す撮影なし",
    )


def _hazardous_zones(ctx: Context) -> tuple[Zone, ...]:
    return ctx.site.zones_of(*HAZARDOUS_ZONE_KINDS)


def _ex_zone(ctx: Context) -> Fact:
    points = ctx.samples.points_m
    aircraft = ctx.operation.aircraft
    for zone in _hazardous_zones(ctx):
        inside = _in_prism(zone, points)
        if inside.any():
            i = _first(inside)
            where_en, where_ja = _where(ctx, i)
            if aircraft.explosion_proof:
                return Fact(
                    False,
                    f"{where_en} is inside {_zone_label(zone)}; the aircraft is explosion-proof",
                    f"{where_ja}が危険箇所{zone.id}内だが、機体は防爆仕様",
                    {"zone": zone.id},
                )
            return Fact(
                True,
                f"{where_en} is inside {_zone_label(zone)} and aircraft {aircraft.id!r} is not "
                "explosion-proof",
                f"{where_ja}が危険箇所{zone.id}（{zone.kind}）内で、機体{aircraft.id}は防爆仕様ではない",
                {"zone": zone.id, "waypoint": int(ctx.samples.waypoint[i])},
            )
    return Fact(False, "the route enters no Zone 0/1/2", "ルートは危険箇所（Zone 0/1/2）に入らない")


def _near_hazardous(ctx: Context) -> Fact:
    zones = (*_hazardous_zones(ctx), *ctx.site.zones_of("fire_restricted"))
    if not zones:
        return Fact(
            False,
            "the site has no Zone 0/1/2 or fire-restricted area",
            "危険箇所・火気制限区域なし",
        )
    s = ctx.samples
    points = s.points_m
    wind = ctx.operation.wind_forecast_m_s
    fall = fall_range_m(np.maximum(points[:, 2], 0.0), s.speed_m_s, wind)
    best: tuple[float, int, Zone, str] | None = None
    for zone in zones:
        horizontal = shapely.distance(zone_polygon(zone), ctx.samples_xy)
        distance = _prism_distance(zone, points, horizontal)
        near = (distance < THIRD_PARTY_DISTANCE_M) | (horizontal < fall)
        if near.any():
            i = int(np.argmin(np.where(near, distance, np.inf)))  # closest approach
            reason = "30 m" if distance[i] < THIRD_PARTY_DISTANCE_M else "the fall range"
            if best is None or distance[i] < best[0]:
                best = (float(distance[i]), i, zone, reason)
    if best is None:
        return Fact(
            False,
            f"the route keeps >= {THIRD_PARTY_DISTANCE_M:g} m and the fall range from every "
            "Zone 0/1/2 and fire-restricted area",
            "ルートは危険箇所・火気制限区域から30 m以上かつ落下範囲外",
        )
    closest, i, zone, reason = best
    where_en, where_ja = _where(ctx, i)
    return Fact(
        True,
        f"{where_en} is {closest:.1f} m from {_zone_label(zone)} (within {reason})",
        f"{where_ja}が{zone.id}（{zone.kind}）から{closest:.1f} m",
        {
            "zone": zone.id,
            "distance_m": round(closest, 1),
            "fall_range_m": round(float(fall[i]), 1),
        },
    )


def _fire_restricted(ctx: Context) -> Fact:
    points = ctx.samples.points_m
    for zone in ctx.site.zones_of("fire_restricted"):
        inside = _in_prism(zone, points)
        if inside.any():
            i = _first(inside)
            where_en, where_ja = _where(ctx, i)
            return Fact(
                True,
                f"{where_en} is inside {_zone_label(zone)}",
                f"{where_ja}が火気制限区域{zone.id}内",
                {"zone": zone.id, "waypoint": int(ctx.samples.waypoint[i])},
            )
    return Fact(False, "the route enters no fire-restricted area", "ルートは火気制限区域に入らない")


def _indoor(ctx: Context) -> Fact:
    return _bool_fact(
        ctx.operation.indoor,
        "indoor",
        "the flight is inside equipment or a building",
        "設備内・屋内の飛行",
        "outdoor flight",
        "屋外の飛行",
    )


def _pilot_hours(ctx: Context) -> Fact:
    pilot = ctx.operation.pilot
    hours = pilot.flight_hours
    if hours < MIN_PILOT_HOURS:
        return Fact(
            True,
            f"pilot {pilot.name} has {hours:g} h of flight time (< {MIN_PILOT_HOURS:g} h)",
            f"操縦者{pilot.name}の飛行経歴{hours:g}時間（{MIN_PILOT_HOURS:g}時間未満）",
            {"flight_hours": hours},
        )
    return Fact(
        False,
        f"pilot {pilot.name} has {hours:g} h of flight time (>= {MIN_PILOT_HOURS:g} h)",
        f"操縦者{pilot.name}の飛行経歴{hours:g}時間（{MIN_PILOT_HOURS:g}時間以上）",
        {"flight_hours": hours},
    )


def _maintenance(ctx: Context) -> Fact:
    aircraft = ctx.operation.aircraft
    since = aircraft.hours_since_maintenance
    planned = ctx.route.flight_time_s / 3600.0
    interval = ctx.maintenance_interval_h
    details = {"hours_since_maintenance": since, "planned_flight_h": round(planned, 2)}
    if since >= interval:
        return Fact(
            True,
            f"aircraft {aircraft.id!r} has flown {since:g} h since maintenance (due every "
            f"{interval:g} h)",
            f"機体{aircraft.id}は前回整備から{since:g}時間飛行（{interval:g}時間ごとに整備）",
            details,
        )
    if since + planned > interval:
        return Fact(
            True,
            f"aircraft {aircraft.id!r}: {since:g} h since maintenance + {planned:.1f} h planned "
            f"passes the {interval:g} h maintenance",
            f"機体{aircraft.id}：整備後{since:g}時間＋計画{planned:.1f}時間で{interval:g}時間の整備時期を超える",
            details,
        )
    return Fact(
        False,
        f"aircraft {aircraft.id!r}: {since:g} h since maintenance + {planned:.1f} h planned "
        f"<= {interval:g} h",
        f"機体{aircraft.id}：整備後{since:g}時間＋計画{planned:.1f}時間 ≤ {interval:g}時間",
        details,
    )


def _crew(ctx: Context) -> Fact:
    required = [r for r in ctx.roles if r.required]
    if not ctx.roles:
        return Fact(
            None, "no crew roles are defined (data/crew/roles.yaml)", "体制の役割データがない"
        )
    missing = [r for r in required if not ctx.operation.crew.get(r.id, "").strip()]
    if missing:
        return Fact(
            True,
            f"unassigned: {', '.join(f'{r.name.en} ({r.id})' for r in missing)}",
            f"未配置：{'、'.join(r.name.ja for r in missing)}",
            {"missing": [r.id for r in missing]},
        )
    return Fact(
        False,
        f"all {len(required)} required roles are assigned",
        f"必要な{len(required)}役割すべてに配置あり",
    )


def _wind(ctx: Context) -> Fact:
    ops = ctx.operation
    wind = ops.wind_forecast_m_s
    limits = [(ops.aircraft.max_wind_m_s, "the aircraft's limit", "機体の耐風性能")]
    if ops.wind_stop_m_s is not None:
        limits.append((ops.wind_stop_m_s, "the operation's stop criterion", "運航の中止基準"))
    limit, name_en, name_ja = min(limits)
    details = {"wind_forecast_m_s": wind, "limit_m_s": limit}
    if wind > limit:
        return Fact(
            True,
            f"forecast wind {wind:g} m/s is above {name_en} {limit:g} m/s",
            f"予報風速{wind:g} m/sが{name_ja}{limit:g} m/sを超える",
            details,
        )
    return Fact(
        False,
        f"forecast wind {wind:g} m/s is within {name_en} {limit:g} m/s",
        f"予報風速{wind:g} m/sは{name_ja}{limit:g} m/s以内",
        details,
    )


def _always(ctx: Context) -> Fact:
    return Fact(True, "applies to every flight", "すべての飛行に適用")


PREDICATES: dict[str, Callable[[Context], Fact]] = {
    "airspace_above_150m": _above_150m,
    "airspace_airport_surfaces": _airport_surfaces,
    "airspace_did": _did,
    "airspace_emergency": _emergency,
    "method_night": _night,
    "method_bvlos": _bvlos,
    "method_within_30m": _within_30m,
    "method_event": _event,
    "method_dangerous_goods": _dangerous_goods,
    "method_dropping": _dropping,
    "aircraft_unregistered": _unregistered,
    "radio_licence_needed": _radio_licence,
    "radio_uncertified": _radio_uncertified,
    "small_uav_protected_site": _small_uav,
    "port_area": _port,
    "privacy_capture": _privacy,
    "ex_zone_non_explosion_proof": _ex_zone,
    "near_hazardous_area": _near_hazardous,
    "fire_restricted_area": _fire_restricted,
    "indoor": _indoor,
    "pilot_hours_insufficient": _pilot_hours,
    "maintenance_overdue": _maintenance,
    "crew_incomplete": _crew,
    "wind_over_limit": _wind,
    "always": _always,
}
"""Predicate name (``rules/SCHEMA.md``) -> function computing its :class:`Fact`."""

assert tuple(PREDICATES) == PREDICATE_NAMES, "PREDICATES must implement SCHEMA.md's names"


def compute_facts(ctx: Context, names: Sequence[str] = PREDICATE_NAMES) -> dict[str, Fact]:
    """Every predicate's fact for this flight.

    Raises
    ------
    InputError
        The operation contradicts the site (``daylight: true`` for a window outside daylight).
    """
    return {name: PREDICATES[name](ctx) for name in names}


# -- deadlines --------------------------------------------------------------------------------


def is_administrative_business_day(day: date) -> bool:
    """Whether government offices are open: not a Saturday, Sunday, national holiday
    (``jpholiday``: includes substitute holidays and citizens' holidays) or Dec 29 - Jan 3
    (Act No. 91 of 1988 Art. 1)."""
    if day.weekday() >= 5 or (day.month, day.day) in YEAR_END_CLOSURE:
        return False
    return not jpholiday.is_holiday(day)


def business_days_before(day: date, count: int) -> date:
    """The date ``count`` administrative business days before ``day``.

    Counting back from the day before ``day``, the ``count``-th business day is the deadline
    ("apply at least 10 business days before the flight"); ``count = 0`` gives ``day``.

    Examples
    --------
    >>> business_days_before(date(2027, 5, 10), 10)  # Golden Week and Showa Day skipped
    datetime.date(2027, 4, 20)
    """
    if count < 0:
        raise InputError(f"must be >= 0, got {count}", field="lead_time_business_days")
    current, counted = day, 0
    while counted < count:
        current -= timedelta(days=1)
        if is_administrative_business_day(current):
            counted += 1
    return current


def permit_deadline(permit: Permit, start: datetime) -> tuple[date, datetime | None] | None:
    """Application deadline of a permission for a flight starting at ``start``.

    Returns
    -------
    deadline
        ``(date, None)`` for a lead time in business days, ``(date, moment)`` for one in hours
        (the moment in JST), or ``None`` when the permit has no lead time.
    """
    if permit.lead_time_business_days is not None:
        return business_days_before(start.date(), permit.lead_time_business_days), None
    if permit.lead_time_hours is not None:
        moment = start.astimezone(JST) - timedelta(hours=permit.lead_time_hours)
        return moment.date(), moment
    return None


# -- findings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """The outcome of one rule for this flight.

    ``message`` says concretely why (English and Japanese); ``question`` is what a person must
    confirm; ``permit`` names the permission and authority; ``deadline`` is the ISO date by
    which to apply (``None`` when no permission applies or it has no lead time).
    """

    id: str
    status: Status
    citation: str
    title: dict[str, str]
    message: dict[str, str]
    check: str
    question: dict[str, str] | None = None
    permit: dict[str, Any] | None = None
    deadline: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``--json`` shape)."""
        return asdict(self)


_STATUS_TEXT: dict[str, tuple[str, str]] = {
    "ok": ("OK", "問題なし"),
    "permit_required": ("Permission required", "許可・承認が必要"),
    "prohibited": ("Prohibited", "禁止"),
    "confirm": ("Confirm", "要確認"),
}


def _permit_sentence(
    rule: Rule, operation: Operation, today: date
) -> tuple[str, str, str | None, dict[str, Any]]:
    """Sentence about the permit (en, ja), its deadline (ISO) and details."""
    permit = rule.permit
    assert permit is not None
    due = permit_deadline(permit, operation.start)
    name, authority = permit.name, permit.authority
    if due is None:
        return (
            f" Apply for {name.en} to {authority.en}.",
            f"{authority.ja}へ{name.ja}を申請すること。",
            None,
            {},
        )
    day, moment = due
    if moment is None:
        n = permit.lead_time_business_days
        when_en = f"by {day.isoformat()} ({n} administrative business days before the flight)"
        when_ja = f"{day.isoformat()}まで（飛行日の{n}開庁日前）"
    else:
        when_en = f"by {moment:%Y-%m-%d %H:%M} JST ({permit.lead_time_hours:g} h before the start)"
        when_ja = f"{moment:%Y-%m-%d %H:%M}まで（飛行開始の{permit.lead_time_hours:g}時間前）"
    en = f" Apply for {name.en} to {authority.en} {when_en}."
    ja = f"{authority.ja}へ{name.ja}を{when_ja}に申請すること。"
    details: dict[str, Any] = {"deadline_passed": day < today}
    if moment is not None:
        details["deadline_time"] = moment.isoformat()
    if day < today:
        en += f" The deadline has already passed (today is {today.isoformat()}): move the flight."
        ja += f"申請期限は既に過ぎている（本日{today.isoformat()}）。飛行日を見直すこと。"
    elif day == today:
        en += " The deadline is today."
        ja += "申請期限は本日。"
    return en, ja, day.isoformat(), details


def _question_for(rule: Rule) -> dict[str, str]:
    if rule.question is not None:
        return rule.question.model_dump()
    return {"en": f"Check by hand: {rule.text.en}", "ja": f"人が確認すること：{rule.text.ja}"}


def _status_for(rule: Rule, fact: Fact, operation: Operation) -> tuple[Status, str, str]:
    """Status and a note (en, ja) on how it was reached."""
    answer = operation.confirmations.get(rule.id)
    blocking: Status | None = (
        rule.outcome if rule.outcome in ("permit_required", "prohibited") else None
    )
    if rule.check == "person":
        if fact.holds is False:
            return "ok", "not applicable", "該当しない"
        if answer is True:
            return "ok", "confirmed in the operation file", "運航ファイルで確認済み"
        if answer is False:
            return (
                blocking or "confirm",
                "answered 'no' in the operation file: resolve before the flight",
                "運航ファイルで「いいえ」と回答：飛行前に解決すること",
            )
        return "confirm", "a person must confirm", "人による確認が必要"
    if fact.holds is None:
        return "confirm", "could not be checked automatically", "自動で判定できない"
    if not fact.holds:
        return "ok", "", ""
    assert rule.outcome is not None
    if rule.outcome == "confirm" and answer is True:
        return "ok", "confirmed in the operation file", "運航ファイルで確認済み"
    return rule.outcome, "", ""


def _held_permit(rule: Rule, operation: Operation) -> tuple[bool, str, str]:
    held = operation.permits.get(rule.id)
    if held is None:
        return False, "", ""
    if held.valid_until is not None and held.valid_until < operation.date:
        return (
            False,
            f" The permission {held.reference} expired on {held.valid_until.isoformat()}.",
            f" 許可{held.reference}は{held.valid_until.isoformat()}に失効。",
        )
    until = f" valid until {held.valid_until.isoformat()}" if held.valid_until else ""
    return True, f"permission held: {held.reference}{until}", f"許可取得済み：{held.reference}"


def evaluate_rules(
    rules: Sequence[Rule],
    facts: Mapping[str, Fact],
    operation: Operation,
    today: date,
) -> list[Finding]:
    """One :class:`Finding` per rule, in rule order (see the module docstring for the logic)."""
    known = {rule.id for rule in rules}
    for section, keys in (
        ("confirmations", operation.confirmations),
        ("permits", operation.permits),
    ):
        for key in keys:
            if key not in known:
                raise InputError("unknown rule id", field=f"{section}.{key}")
    findings = []
    for rule in rules:
        fact = facts[rule.predicate]
        status, note_en, note_ja = _status_for(rule, fact, operation)
        en, ja = fact.en, fact.ja
        if note_en:
            en, ja = f"{en}; {note_en}", f"{ja}。{note_ja}"
        details = dict(fact.details)
        details["predicate"] = rule.predicate
        details["holds"] = fact.holds
        if status == "permit_required":
            held, held_en, held_ja = _held_permit(rule, operation)
            if held:
                status, en, ja = "ok", f"{en}; {held_en}", f"{ja}。{held_ja}"
            else:
                en, ja = en + held_en, ja + held_ja
        label_en, label_ja = _STATUS_TEXT[status]
        message = {"en": f"{label_en}: {en}.", "ja": f"{label_ja}：{ja}。"}
        deadline = None
        permit = None
        if rule.permit is not None:
            permit = rule.permit.model_dump()
            if status != "ok":
                sentence_en, sentence_ja, deadline, extra = _permit_sentence(rule, operation, today)
                message["en"] += sentence_en
                message["ja"] += sentence_ja
                details.update(extra)
        question = None
        if status == "confirm" or rule.check == "person":
            question = _question_for(rule)
        findings.append(
            Finding(
                id=rule.id,
                status=status,
                citation=rule.citation,
                title=rule.title.model_dump(),
                message=message,
                check=rule.check,
                question=question,
                permit=permit,
                deadline=deadline,
                details=details,
            )
        )
    return findings


def exit_status(findings: Sequence[Finding]) -> int:
    """0 when the flight may proceed (no ``prohibited`` or ``permit_required``), else 1."""
    return 1 if any(f.status in ("prohibited", "permit_required") for f in findings) else 0


def findings_to_json(findings: Sequence[Finding]) -> str:
    """The ``--json`` output: a JSON list of findings."""
    return json.dumps([f.to_json() for f in findings], ensure_ascii=False, indent=1)


@dataclass(frozen=True)
class CheckResult:
    """A full check: the findings, the facts behind them and the context."""

    findings: list[Finding]
    facts: dict[str, Fact]
    context: Context

    @property
    def exit_status(self) -> int:
        return exit_status(self.findings)


def check_plan(
    plan_dir: str | Path,
    operation: Operation,
    airspace: Airspace | None,
    today: date | None = None,
    *,
    data_dir: str | Path | None = None,
    site: Site | None = None,
) -> CheckResult:
    """Check a planned flight (``PLAN_DIR`` of ``plantwatch drone plan``) against every rule.

    Parameters
    ----------
    plan_dir
        Folder with ``plan.json`` and ``site.geojson``.
    operation
        The operation (:func:`plantwatch.drone.operation.load_operation`).
    airspace
        The airspace layers (:func:`plantwatch.drone.airspace.load_airspace`), or ``None``.
    today
        Reference date for "deadline passed" (default: today in Japan).
    data_dir
        Regulatory data folder (default: the packaged one).
    site
        The plan's site if already loaded (default: read ``PLAN_DIR/site.geojson``).

    Returns
    -------
    result
        Findings in rule order, the facts behind them and the context they were computed in.

    Raises
    ------
    InputError
        Missing or malformed ``plan.json``/``site.geojson``, unknown rule ids in the
        operation's ``confirmations``/``permits``, or an operation that contradicts the site
        (``daylight: true`` outside daylight).
    DataError
        The regulatory data is missing or broken.
    """
    from plantwatch.drone import regdata
    from plantwatch.drone.operation import today_jst
    from plantwatch.drone.site import load_site

    route = load_route(plan_dir)
    if site is None:
        site_path = Path(plan_dir) / "site.geojson"
        if not site_path.is_file():
            raise InputError(f"{str(site_path)!r} is missing", field="PLAN_DIR")
        site = load_site(site_path)
    interval = next(
        (
            r.interval_flight_hours
            for group in regdata.load_requirements(data_dir).values()
            for r in group
            if r.when == "maintenance_overdue" and r.interval_flight_hours
        ),
        MAINTENANCE_INTERVAL_H,
    )
    ctx = Context(route, site, operation, airspace, regdata.load_roles(data_dir), interval)
    facts = compute_facts(ctx)
    rules = regdata.load_rules(data_dir)
    findings = evaluate_rules(rules, facts, operation, today or today_jst())
    return CheckResult(findings=findings, facts=facts, context=ctx)


def evaluate(
    plan_dir: str | Path,
    operation: Operation,
    airspace: Airspace | None,
    today: date | None = None,
    *,
    data_dir: str | Path | None = None,
) -> list[Finding]:
    """The findings of :func:`check_plan`."""
    return check_plan(plan_dir, operation, airspace, today, data_dir=data_dir).findings
