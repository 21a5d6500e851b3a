"""MAVLink mission items for PX4, and the ``QGC WPL 110`` plain-text waypoint file.

Target: **PX4** (``MAV_AUTOPILOT_PX4`` = 12) multicopters, v1.13 or later (gimbal protocol v2).
Each sortie becomes one mission (see :mod:`plantwatch.drone.export` for the route):

====  =======================================  =======================================
 #    item (MAV_CMD id, frame)                  params
====  =======================================  =======================================
 1    NAV_TAKEOFF (22, 3)                       yaw = first heading; lat, lon of the
                                                take-off point; alt = first height (it
                                                flies the route's first point when that
                                                lies over the take-off point)
 ..   DO_CHANGE_SPEED (178, 2)                  1 = ground speed, speed [m/s], -1 = keep
                                                throttle; after a point whose leg speed
                                                differs from the one in force
 ..   DO_GIMBAL_MANAGER_PITCHYAW (1000, 2)      pitch [deg], yaw 0 (along the aircraft),
                                                rates NaN (unset), flags 12 = ROLL_LOCK |
                                                PITCH_LOCK (pitch held to the horizon);
                                                before a photo point whose pitch differs
 ..   NAV_WAYPOINT (16, 3)                      hold [s] (photo points), yaw = heading,
                                                lat, lon, alt above take-off
 ..   IMAGE_START_CAPTURE (2000, 2)             camera 0 (all), interval 0, 1 image,
                                                sequence number 1, 2, ...; after a photo
                                                point
 n    NAV_LAND (21, 3)                          at the take-off point (default), or
      / NAV_RETURN_TO_LAUNCH (20, 2)            RTL (the vehicle's RTL altitude applies)
====  =======================================  =======================================

Why these commands: PX4 executes the DO items that follow a ``NAV_WAYPOINT`` once the waypoint
is reached and its hold time has passed, so the photo is taken stopped, settled and at the planned
yaw (``param4``; PX4 also checks the yaw is reached before accepting the waypoint). The gimbal
command for the next photo follows the capture of the previous one, so the gimbal turns while the
aircraft still hovers there, and PX4 waits for it (``MIS_COMMAND_TOUT``) before flying on.
``DO_GIMBAL_MANAGER_PITCHYAW`` and ``IMAGE_START_CAPTURE`` are MAVLink's gimbal-v2 and
camera-protocol commands, both accepted in PX4 missions (and cached and replayed when a mission
is resumed); the older ``DO_MOUNT_CONTROL`` (205) and ``DO_DIGICAM_CONTROL`` (203, which MAVLink
describes as a fallback for systems without the camera protocol) are not used. ArduPilot is not
a target: ArduCopter ignores ``NAV_WAYPOINT`` yaw (``param4``) and would need ``CONDITION_YAW``
with ``WP_YAW_BEHAVIOR = 0`` instead, so the per-photo heading would be lost.

Size: every photo costs two items (waypoint + capture), so a sortie of more than about 240
photos exceeds the 500 items current PX4 flight controllers hold [4]_. The writers check the
count when given ``max_items`` (e.g. :data:`PX4_MISSION_ITEM_LIMIT`) and refuse such a sortie.

Frames: 3 = ``MAV_FRAME_GLOBAL_RELATIVE_ALT`` for items with a position, 2 = ``MAV_FRAME_MISSION``
for commands without one (as QGroundControl writes them); in the WPL file, item 0 is the home
position in frame 0 (``MAV_FRAME_GLOBAL``, altitude AMSL).

References
----------
.. [1] MAVLink common message set, MAV_CMD and MAV_FRAME enums,
   https://mavlink.io/en/messages/common.html (ids checked against pymavlink in the tests).
.. [2] MAVLink file formats, "Mission Plain-Text File Format" (QGC WPL 110, tab-separated),
   https://mavlink.io/en/file_formats/
.. [3] PX4 navigator mission_block.cpp (DO items complete on arrival; gimbal items wait for
   MIS_COMMAND_TOUT) and mavlink_mission.cpp (accepted mission commands).
.. [4] PX4 src/modules/navigator/navigation.h, ``NUM_MISSIONS_SUPPORTED``: 500 mission items on
   flight controllers (NuttX) in current releases, 2000 in older ones; an upload with more is
   refused (``MAV_MISSION_NO_SPACE``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from plantwatch.drone.export import SortieRoute, sortie_routes, write_sortie_files
from plantwatch.drone.model import Plan, Site
from plantwatch.errors import InputError

__all__ = [
    "END_ACTIONS",
    "MAV_AUTOPILOT_PX4",
    "MAV_CMD_DO_CHANGE_SPEED",
    "MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW",
    "MAV_CMD_IMAGE_START_CAPTURE",
    "MAV_CMD_NAV_LAND",
    "MAV_CMD_NAV_RETURN_TO_LAUNCH",
    "MAV_CMD_NAV_TAKEOFF",
    "MAV_CMD_NAV_WAYPOINT",
    "MAV_FRAME_GLOBAL",
    "MAV_FRAME_GLOBAL_RELATIVE_ALT",
    "MAV_FRAME_MISSION",
    "MAV_TYPE_QUADROTOR",
    "PHOTO_HOLD_S",
    "PX4_MISSION_ITEM_LIMIT",
    "MissionItem",
    "check_item_count",
    "mavlink_wpl_text",
    "mission_items",
    "write_mavlink_wpl",
]

# MAVLink enum values [1].
MAV_AUTOPILOT_PX4 = 12
MAV_TYPE_QUADROTOR = 2
MAV_FRAME_GLOBAL = 0
MAV_FRAME_MISSION = 2
MAV_FRAME_GLOBAL_RELATIVE_ALT = 3
MAV_CMD_NAV_WAYPOINT = 16
MAV_CMD_NAV_RETURN_TO_LAUNCH = 20
MAV_CMD_NAV_LAND = 21
MAV_CMD_NAV_TAKEOFF = 22
MAV_CMD_DO_CHANGE_SPEED = 178
MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW = 1000
MAV_CMD_IMAGE_START_CAPTURE = 2000
_SPEED_TYPE_GROUND = 1.0  # DO_CHANGE_SPEED param1
_THROTTLE_NO_CHANGE = -1.0  # DO_CHANGE_SPEED param3
_GIMBAL_FLAGS_ROLL_PITCH_LOCK = 4.0 + 8.0  # GIMBAL_MANAGER_FLAGS_ROLL_LOCK | _PITCH_LOCK
_NAN = float("nan")

EndAction = Literal["land", "rtl"]
END_ACTIONS: tuple[str, ...] = ("land", "rtl")
# Hold at each photo waypoint before the shutter [s]: the aircraft stops, the attitude and the
# gimbal settle (DJI's equivalent is the "toPointAndStop" turn mode). Counts into flight time.
PHOTO_HOLD_S = 1.0
# Mission items a current PX4 flight controller stores (NuttX builds) [4].
PX4_MISSION_ITEM_LIMIT = 500


@dataclass(frozen=True)
class MissionItem:
    """One MAVLink ``MISSION_ITEM``: command, frame and its seven parameters."""

    command: int
    frame: int
    params: tuple[float, float, float, float, float, float, float]

    @property
    def has_position(self) -> bool:
        return self.frame == MAV_FRAME_GLOBAL_RELATIVE_ALT


def _check_options(end_action: str, photo_hold_s: float) -> None:
    if end_action not in END_ACTIONS:
        raise InputError(
            f"must be one of {', '.join(END_ACTIONS)}, got {end_action!r}", field="end_action"
        )
    if not (math.isfinite(photo_hold_s) and photo_hold_s >= 0.0):
        raise InputError(f"must be >= 0 s, got {photo_hold_s!r}", field="photo_hold_s")


def mission_items(
    route: SortieRoute, end_action: EndAction = "land", photo_hold_s: float = PHOTO_HOLD_S
) -> list[MissionItem]:
    """The PX4 mission items of one sortie's route (table in the module notes).

    Parameters
    ----------
    route
        One sortie's route (:func:`plantwatch.drone.export.sortie_routes`).
    end_action
        ``"land"``: ``NAV_LAND`` at the take-off point after the route's return point;
        ``"rtl"``: ``NAV_RETURN_TO_LAUNCH`` (the vehicle's own RTL altitude then applies).
    photo_hold_s
        Hold time at photo waypoints [s] (``NAV_WAYPOINT`` param1).

    Returns
    -------
    list of MissionItem
        Without the home item (that is the WPL file's line 0 / the plan's planned home).
    """
    _check_options(end_action, photo_hold_s)
    points = route.points
    items: list[MissionItem] = []
    first = points[0]
    items.append(
        MissionItem(
            MAV_CMD_NAV_TAKEOFF,
            MAV_FRAME_GLOBAL_RELATIVE_ALT,
            (
                0.0,
                0.0,
                0.0,
                first.heading_deg,
                route.home_lat_deg,
                route.home_lon_deg,
                first.height_m,
            ),
        )
    )
    speed_m_s: float | None = None
    pitch_deg: float | None = None

    def change_speed(new_speed_m_s: float) -> None:
        nonlocal speed_m_s
        if new_speed_m_s != speed_m_s:
            items.append(
                MissionItem(
                    MAV_CMD_DO_CHANGE_SPEED,
                    MAV_FRAME_MISSION,
                    (_SPEED_TYPE_GROUND, new_speed_m_s, _THROTTLE_NO_CHANGE, 0.0, 0.0, 0.0, 0.0),
                )
            )
            speed_m_s = new_speed_m_s

    start = 0
    if first.over_takeoff and not first.photo:  # the take-off item flies this point itself
        change_speed(first.speed_m_s)
        start = 1
    for i in range(start, len(points)):
        point = points[i]
        if point.photo and point.gimbal_pitch_deg != pitch_deg:
            items.append(
                MissionItem(
                    MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW,
                    MAV_FRAME_MISSION,
                    (
                        point.gimbal_pitch_deg,
                        0.0,
                        _NAN,
                        _NAN,
                        _GIMBAL_FLAGS_ROLL_PITCH_LOCK,
                        0.0,
                        0.0,
                    ),
                )
            )
            pitch_deg = point.gimbal_pitch_deg
        items.append(
            MissionItem(
                MAV_CMD_NAV_WAYPOINT,
                MAV_FRAME_GLOBAL_RELATIVE_ALT,
                (
                    photo_hold_s if point.photo else 0.0,
                    0.0,
                    0.0,
                    point.heading_deg,
                    point.lat_deg,
                    point.lon_deg,
                    point.height_m,
                ),
            )
        )
        if point.photo:
            number = float(point.photo_number or 0)
            items.append(
                MissionItem(
                    MAV_CMD_IMAGE_START_CAPTURE,
                    MAV_FRAME_MISSION,
                    (0.0, 0.0, 1.0, number, 0.0, 0.0, 0.0),
                )
            )
        if i < len(points) - 1:
            change_speed(point.speed_m_s)
    if end_action == "land":
        items.append(
            MissionItem(
                MAV_CMD_NAV_LAND,
                MAV_FRAME_GLOBAL_RELATIVE_ALT,
                (
                    0.0,
                    0.0,
                    0.0,
                    points[-1].heading_deg,
                    route.home_lat_deg,
                    route.home_lon_deg,
                    0.0,
                ),
            )
        )
    else:
        items.append(
            MissionItem(
                MAV_CMD_NAV_RETURN_TO_LAUNCH,
                MAV_FRAME_MISSION,
                (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
            )
        )
    return items


def check_item_count(route: SortieRoute, items: list[MissionItem], max_items: int | None) -> None:
    """Raise :class:`InputError` if ``items`` (plus the home item) exceed ``max_items``."""
    if max_items is None:
        return
    count = len(items) + 1  # the home position counts as item 0
    if count > max_items:
        raise InputError(
            f"sortie {route.number} needs {count} mission items ({len(route.photo_points)} "
            f"photos), more than the {max_items} the flight controller holds; split it into "
            "shorter sorties",
            field="max_items",
        )


def _number(value: float) -> str:
    """A WPL field: ``nan`` for unset parameters (as QGroundControl writes it), else decimal."""
    return "nan" if math.isnan(value) else f"{value:.8f}"


def _route_text(route: SortieRoute, items: list[MissionItem]) -> str:
    lines = ["QGC WPL 110"]
    home = (0.0, 0.0, 0.0, 0.0, route.home_lat_deg, route.home_lon_deg, route.home_amsl_m)
    rows = [(MAV_FRAME_GLOBAL, MAV_CMD_NAV_WAYPOINT, home)]
    rows += [(item.frame, item.command, item.params) for item in items]
    for seq, (frame, command, params) in enumerate(rows):
        current = 1 if seq == 0 else 0
        fields = [str(seq), str(current), str(frame), str(command)]
        fields += [_number(v) for v in params]
        fields.append("1")  # autocontinue
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def mavlink_wpl_text(
    plan: Plan,
    site: Site,
    sortie: int = 0,
    *,
    end_action: EndAction = "land",
    photo_hold_s: float = PHOTO_HOLD_S,
) -> str:
    """``QGC WPL 110`` text of one sortie (default the first).

    Line ``seq current frame command p1 p2 p3 p4 lat lon alt autocontinue``, tab-separated [2]_;
    ``seq`` 0 is the home position (frame 0, altitude AMSL), the mission items follow
    (:func:`mission_items`). Loads with ``pymavlink.mavwp.MAVWPLoader().load``.

    Raises
    ------
    InputError
        ``sortie`` out of range, or a bad plan (see :func:`~plantwatch.drone.export.sortie_routes`).
    """
    routes = sortie_routes(plan, site)
    if not 0 <= sortie < len(routes):
        raise InputError(f"must be in 0..{len(routes) - 1}, got {sortie!r}", field="sortie")
    route = routes[sortie]
    return _route_text(route, mission_items(route, end_action, photo_hold_s))


def write_mavlink_wpl(
    plan: Plan,
    site: Site,
    path: str | os.PathLike[str],
    *,
    end_action: EndAction = "land",
    photo_hold_s: float = PHOTO_HOLD_S,
    max_items: int | None = None,
) -> list[Path]:
    """Write one ``QGC WPL 110`` file per sortie: ``path``, then ``<stem>-2<suffix>``, ...

    All files are written atomically, all or none; the folder must exist. With ``max_items``
    (e.g. :data:`PX4_MISSION_ITEM_LIMIT`), a sortie needing more items is refused
    (:class:`InputError`) and nothing is written.

    Returns
    -------
    list of Path
        The files written, in sortie order.
    """
    _check_options(end_action, photo_hold_s)
    texts = []
    for route in sortie_routes(plan, site):
        items = mission_items(route, end_action, photo_hold_s)
        check_item_count(route, items, max_items)
        texts.append(_route_text(route, items).encode("utf-8"))
    return write_sortie_files(path, texts)
