"""QGroundControl ``.plan`` files (JSON), one per sortie, for PX4 multicopters.

Structure (QGroundControl "Plan File Format" [1]_)::

    {"fileType": "Plan", "version": 1, "groundStation": "QGroundControl",
     "mission": {"version": 2, "firmwareType": 12, "vehicleType": 2,
                 "globalPlanAltitudeMode": 1, "cruiseSpeed": ..., "hoverSpeed": ...,
                 "plannedHomePosition": [lat, lon, alt AMSL], "items": [SimpleItem, ...]},
     "geoFence": {"version": 2, "circles": [], "polygons": [...]},
     "rallyPoints": {"version": 2, "points": []}}

* ``firmwareType`` 12 = ``MAV_AUTOPILOT_PX4``, ``vehicleType`` 2 = ``MAV_TYPE_QUADROTOR``: the
  items are the PX4 mission of :func:`plantwatch.drone.export.mavlink_wpl.mission_items` (why PX4
  and which commands: see that module).
* Each item is a ``SimpleItem`` with ``command``, ``frame``, seven ``params`` (NaN written as
  ``null``, as QGroundControl does), ``doJumpId`` 1, 2, ... and ``autoContinue``; items with a
  position also carry ``Altitude`` (above take-off), ``AltitudeMode`` 1 (relative to home) and
  ``AMSLAltAboveTerrain`` null.
* ``cruiseSpeed`` is the plan's transit speed and ``hoverSpeed`` its shooting speed [m/s]
  (QGroundControl's default multicopter speed is ``hoverSpeed``).
* Geofence: the site boundary as inclusion polygons and no-fly zones as exclusion polygons
  (``"inclusion": false``), vertices clockwise as the format asks. Hazardous (Ex) zones are not
  fenced: a PX4 polygon fence has no floor or ceiling, and the planner keeps out of them in 3D.
* No rally points.

References
----------
.. [1] QGroundControl Dev Guide, "Plan File Format",
   https://docs.qgroundcontrol.com/master/en/qgc-dev-guide/file_formats/plan.html
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from plantwatch.drone.export import (
    SortieRoute,
    sortie_routes,
    write_sortie_files,
    zone_polygons_wgs84,
)
from plantwatch.drone.export.mavlink_wpl import (
    MAV_AUTOPILOT_PX4,
    MAV_TYPE_QUADROTOR,
    PHOTO_HOLD_S,
    EndAction,
    MissionItem,
    check_item_count,
    mission_items,
)
from plantwatch.drone.model import Plan, Site
from plantwatch.errors import InputError
from plantwatch.jsonutil import dumps_pretty

__all__ = ["FENCE_KINDS", "build_qgc_plan", "qgc_plan_text", "write_qgc_plan"]

# Zone kinds written as geofence polygons: kind -> inclusion (True) or exclusion (False).
FENCE_KINDS: dict[str, bool] = {"boundary": True, "no_fly": False}
_ALTITUDE_MODE_RELATIVE = 1  # QGroundControl AltMode: altitude relative to home


def _param(value: float) -> float | None:
    return None if math.isnan(value) else value


def _simple_item(item: MissionItem, jump_id: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "SimpleItem",
        "autoContinue": True,
        "command": item.command,
        "doJumpId": jump_id,
        "frame": item.frame,
        "params": [_param(v) for v in item.params],
    }
    if item.has_position:
        entry["AMSLAltAboveTerrain"] = None
        entry["Altitude"] = item.params[6]
        entry["AltitudeMode"] = _ALTITUDE_MODE_RELATIVE
    return entry


def _clockwise(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``ring`` of (lat, lon) in clockwise order on a north-up map (x = lon, y = lat)."""
    twice_area = sum(
        lon_a * lat_b - lon_b * lat_a
        for (lat_a, lon_a), (lat_b, lon_b) in zip(ring, ring[1:] + ring[:1], strict=True)
    )
    return ring[::-1] if twice_area > 0.0 else ring  # positive shoelace area = counter-clockwise


def _geofence(site: Site) -> dict[str, Any]:
    polygons = [
        {
            "inclusion": FENCE_KINDS[zone.kind],
            "polygon": [[lat, lon] for lat, lon in _clockwise(ring)],
            "version": 1,
        }
        for zone, ring in zone_polygons_wgs84(site, FENCE_KINDS)
    ]
    return {"version": 2, "circles": [], "polygons": polygons}


def build_qgc_plan(
    plan: Plan,
    site: Site,
    sortie: int = 0,
    *,
    end_action: EndAction = "land",
    photo_hold_s: float = PHOTO_HOLD_S,
) -> dict[str, Any]:
    """The ``.plan`` document of one sortie (default the first) as a JSON-ready dict.

    Parameters
    ----------
    plan, site
        The plan and the site it was planned on (``site.to_wgs84`` places the ENU points).
    sortie
        0-based sortie index.
    end_action, photo_hold_s
        See :func:`~plantwatch.drone.export.mavlink_wpl.mission_items`.

    Raises
    ------
    InputError
        ``sortie`` out of range, or a bad plan (see :func:`~plantwatch.drone.export.sortie_routes`).
    """
    routes = sortie_routes(plan, site)
    if not 0 <= sortie < len(routes):
        raise InputError(f"must be in 0..{len(routes) - 1}, got {sortie!r}", field="sortie")
    return _document(plan, routes[sortie], _geofence(site), end_action, photo_hold_s)


def _document(
    plan: Plan,
    route: SortieRoute,
    geofence: dict[str, Any],
    end_action: EndAction,
    photo_hold_s: float,
    max_items: int | None = None,
) -> dict[str, Any]:
    items = mission_items(route, end_action, photo_hold_s)
    check_item_count(route, items, max_items)
    return {
        "fileType": "Plan",
        "version": 1,
        "groundStation": "QGroundControl",
        "mission": {
            "version": 2,
            "firmwareType": MAV_AUTOPILOT_PX4,
            "vehicleType": MAV_TYPE_QUADROTOR,
            "globalPlanAltitudeMode": _ALTITUDE_MODE_RELATIVE,
            "cruiseSpeed": float(plan.options.transit_speed_m_s),
            "hoverSpeed": float(plan.options.speed_m_s),
            "plannedHomePosition": [route.home_lat_deg, route.home_lon_deg, route.home_amsl_m],
            "items": [_simple_item(item, n) for n, item in enumerate(items, start=1)],
        },
        "geoFence": geofence,
        "rallyPoints": {"version": 2, "points": []},
    }


def _json(document: dict[str, Any]) -> str:
    return dumps_pretty(document, indent=4, depth=3) + "\n"  # one mission item per line


def qgc_plan_text(
    plan: Plan,
    site: Site,
    sortie: int = 0,
    *,
    end_action: EndAction = "land",
    photo_hold_s: float = PHOTO_HOLD_S,
) -> str:
    """:func:`build_qgc_plan` as JSON text (strict JSON: no NaN tokens)."""
    return _json(
        build_qgc_plan(plan, site, sortie, end_action=end_action, photo_hold_s=photo_hold_s)
    )


def write_qgc_plan(
    plan: Plan,
    site: Site,
    path: str | os.PathLike[str],
    *,
    end_action: EndAction = "land",
    photo_hold_s: float = PHOTO_HOLD_S,
    max_items: int | None = None,
) -> list[Path]:
    """Write one ``.plan`` per sortie: ``path`` (the whole first sortie), ``<stem>-2.plan``, ...

    All files are written atomically, all or none; the folder must exist. Stale
    ``<stem>-N.plan`` files of an earlier, longer plan are removed. With ``max_items`` (e.g.
    :data:`~plantwatch.drone.export.mavlink_wpl.PX4_MISSION_ITEM_LIMIT`), a sortie needing more
    mission items is refused (:class:`InputError`) and nothing is written.

    Returns
    -------
    list of Path
        The files written, in sortie order.
    """
    geofence = _geofence(site)
    texts = [
        _json(_document(plan, route, geofence, end_action, photo_hold_s, max_items)).encode()
        for route in sortie_routes(plan, site)
    ]
    return write_sortie_files(path, texts)
