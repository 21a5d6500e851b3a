"""DJI WPML route files (``.kmz``), one per sortie, for DJI Pilot 2 / FlightHub 2.

A WPML file is a zip holding ``wpmz/template.kml`` (the editable "waypoint" template) and
``wpmz/waylines.wpml`` (what the aircraft executes), KML documents extended with the namespace
``http://www.dji.com/wpmz/1.0.2`` [1]_. Per sortie:

* ``wpml:missionConfig``: ``flyToWaylineMode`` safely (climb over the take-off point, then fly
  level), ``finishAction`` autoLand (land at the route's last point, which the export puts above
  the take-off point), ``exitOnRCLost`` executeLostAction with ``executeRCLostAction`` goBack,
  ``takeOffSecurityHeight`` = the first point's height (clamped to the allowed [2, 1500] m),
  ``globalTransitionalSpeed`` = the plan's transit speed (clamped to (0, 15] m/s),
  ``globalRTHHeight`` (waylines only) = the highest point of the sortie, ``droneInfo`` and
  ``payloadInfo`` of the aircraft (:data:`WPML_AIRCRAFT`).
* One ``Folder`` (template id 0, wayline id 0) with ``executeHeightMode`` relativeToStartPoint
  and one ``Placemark`` per route point: ``wpml:index`` 0, 1, ... (continuous),
  ``wpml:executeHeight`` [m above take-off], ``wpml:waypointSpeed`` [m/s] (speed to the next
  point), ``wpml:waypointHeadingParam`` smoothTransition with ``waypointHeadingAngle`` in
  [-180, 180] deg (integer, as the format defines it), ``wpml:waypointTurnParam``
  toPointAndStopWithDiscontinuityCurvature (stop at every point, as for the MAVLink photo hold).
* Photo points carry an ``actionGroup`` (trigger reachPoint, sequence): ``gimbalRotate``
  (absoluteAngle, pitch only) then ``takePhoto`` (file suffix ``S<sortie>P<photo>_<facility>``).

The aircraft and payload enumerations come from the camera preset when DJI documents one for it
(:data:`WPML_AIRCRAFT`); otherwise the Mavic 3 Enterprise is declared, whose wide camera has
nearly the Phantom 4 RTK's GSD (2.67 vs 2.74 cm at 100 m) -- check the camera before flying.
Zip entries carry a fixed timestamp, and the files no creation time unless given, so the same
plan always gives the same bytes.

References
----------
.. [1] DJI Cloud API, "DJI WPML" (overview, template.kml, waylines.wpml, common elements),
   https://developer.dji.com/doc/cloud-api-tutorial/en/api-reference/dji-wpml/overview.html
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from plantwatch.drone.export import (
    MissionPoint,
    SortieRoute,
    sortie_routes,
    write_sortie_files,
)
from plantwatch.drone.export.xmltext import add_slot, fill_slots, xml_text
from plantwatch.drone.model import Plan, Site
from plantwatch.errors import InputError

__all__ = [
    "KML_NS",
    "TEMPLATE_PATH",
    "WAYLINES_PATH",
    "WPML_AIRCRAFT",
    "WPML_NS",
    "WpmlAircraft",
    "build_wpml_kmz",
    "template_kml",
    "waylines_wpml",
    "write_dji_kmz",
]

KML_NS = "http://www.opengis.net/kml/2.2"
WPML_NS = "http://www.dji.com/wpmz/1.0.2"
TEMPLATE_PATH = "wpmz/template.kml"
WAYLINES_PATH = "wpmz/waylines.wpml"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # earliest zip timestamp: deterministic archives
# Plain deflate at zlib level 3 (any reader, DJI Pilot 2 included, inflates every level). The
# 52 routes of a 50-tank plan (60 MB of XML) took 450 ms at the default level 6 and 120 ms at
# level 3, for 1.78 instead of 1.31 MB of files (~34 kB per route).
_ZIP_LEVEL = 3

# Ranges from the WPML element tables [1].
_SECURITY_HEIGHT_RANGE_M = (2.0, 1500.0)  # wpml:takeOffSecurityHeight
_MAX_TRANSITIONAL_SPEED_M_S = 15.0  # wpml:globalTransitionalSpeed


@dataclass(frozen=True)
class WpmlAircraft:
    """``wpml:droneInfo`` / ``wpml:payloadInfo`` enumeration values [1]_ and the lens to store."""

    drone_enum: int
    drone_sub_enum: int
    payload_enum: int
    lens: str  # wpml:imageFormat: "wide", "zoom", "visible", ...
    label: str


# Camera preset -> aircraft, from the enumerations in DJI's WPML common-element table [1]:
# drone 77/0 = Mavic 3E, 67/0 = M30, 89 = M350 RTK; payload 66 = Mavic 3E camera, 52 = M30
# camera, 42 = Zenmuse H20.
MAVIC3E = WpmlAircraft(77, 0, 66, "wide", "DJI Mavic 3 Enterprise")
WPML_AIRCRAFT: dict[str, WpmlAircraft] = {
    "dji-mavic3e-wide": MAVIC3E,
    "dji-matrice30-wide": WpmlAircraft(67, 0, 52, "wide", "DJI Matrice 30"),
    "dji-zenmuse-h20-wide": WpmlAircraft(89, 0, 42, "wide", "DJI M350 RTK + Zenmuse H20"),
    "dji-zenmuse-h20-zoom": WpmlAircraft(89, 0, 42, "zoom", "DJI M350 RTK + Zenmuse H20"),
}


def _num(value: float, digits: int = 3) -> str:
    """Fixed-point decimal without trailing zeros ("12.5", "4", "-90")."""
    text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _wpml(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{WPML_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _kml(parent: etree._Element, tag: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{KML_NS}}}{tag}")


def _heading_angle(heading_deg: float) -> int:
    """Heading [0, 360) -> integer yaw angle in [-180, 180] deg (0 = north, clockwise +)."""
    angle = (heading_deg + 180.0) % 360.0 - 180.0
    return round(angle)


def _file_suffix(route: SortieRoute, point: MissionPoint) -> str:
    suffix = f"S{route.number}P{point.photo_number:03d}"
    if point.facility_id:
        suffix += "_" + re.sub(r"[^0-9A-Za-z_-]", "-", point.facility_id)
    return suffix


def _mission_config(
    document: etree._Element,
    plan: Plan,
    route: SortieRoute,
    aircraft: WpmlAircraft,
    *,
    waylines: bool,
) -> None:
    config = _wpml(document, "missionConfig")
    _wpml(config, "flyToWaylineMode", "safely")
    _wpml(config, "finishAction", "autoLand")
    _wpml(config, "exitOnRCLost", "executeLostAction")
    _wpml(config, "executeRCLostAction", "goBack")
    low, high = _SECURITY_HEIGHT_RANGE_M
    _wpml(config, "takeOffSecurityHeight", _num(min(max(route.points[0].height_m, low), high)))
    transit = min(float(plan.options.transit_speed_m_s), _MAX_TRANSITIONAL_SPEED_M_S)
    _wpml(config, "globalTransitionalSpeed", _num(transit))
    if waylines:
        _wpml(config, "globalRTHHeight", _num(route.max_height_m))
    drone = _wpml(config, "droneInfo")
    _wpml(drone, "droneEnumValue", str(aircraft.drone_enum))
    _wpml(drone, "droneSubEnumValue", str(aircraft.drone_sub_enum))
    payload = _wpml(config, "payloadInfo")
    _wpml(payload, "payloadEnumValue", str(aircraft.payload_enum))
    _wpml(payload, "payloadSubEnumValue", "0")
    _wpml(payload, "payloadPositionIndex", "0")


# Per-waypoint elements as text (see :mod:`plantwatch.drone.export.xmltext`): a 50-tank plan
# has ~10 000 placemarks per file, and one lxml element per field made WPML the slowest export.
# f-strings, not str.format (which re-parses a 2 kB template per call, 12 vs 1 us). Values are
# numbers (no escaping) except the file suffix. Layout = lxml's pretty print.


def _heading_param(heading: int) -> str:
    return f"""\
        <wpml:waypointHeadingParam>
          <wpml:waypointHeadingMode>smoothTransition</wpml:waypointHeadingMode>
          <wpml:waypointHeadingAngle>{heading}</wpml:waypointHeadingAngle>
          <wpml:waypointHeadingPathMode>followBadArc</wpml:waypointHeadingPathMode>
        </wpml:waypointHeadingParam>
"""  # followBadArc: turn the shorter way round


def _waylines_fields(point: MissionPoint) -> str:
    """``waylines.wpml``: height, speed, heading and turn (stop at every point)."""
    return f"""\
        <wpml:executeHeight>{_num(point.height_m)}</wpml:executeHeight>
        <wpml:waypointSpeed>{_num(point.speed_m_s)}</wpml:waypointSpeed>
{_heading_param(_heading_angle(point.heading_deg))}\
        <wpml:waypointTurnParam>
          <wpml:waypointTurnMode>toPointAndStopWithDiscontinuityCurvature</wpml:waypointTurnMode>
          <wpml:waypointTurnDampingDist>0</wpml:waypointTurnDampingDist>
        </wpml:waypointTurnParam>
"""


def _template_fields(route: SortieRoute, point: MissionPoint, pitch: str) -> str:
    """``template.kml``: heights, speed, heading and gimbal pitch, none from the globals."""
    return f"""\
        <wpml:ellipsoidHeight>{_num(route.home_amsl_m + point.height_m)}</wpml:ellipsoidHeight>
        <wpml:height>{_num(point.height_m)}</wpml:height>
        <wpml:useGlobalHeight>0</wpml:useGlobalHeight>
        <wpml:useGlobalSpeed>0</wpml:useGlobalSpeed>
        <wpml:waypointSpeed>{_num(point.speed_m_s)}</wpml:waypointSpeed>
        <wpml:useGlobalHeadingParam>0</wpml:useGlobalHeadingParam>
{_heading_param(_heading_angle(point.heading_deg))}\
        <wpml:useGlobalTurnParam>1</wpml:useGlobalTurnParam>
        <wpml:gimbalPitchAngle>{pitch}</wpml:gimbalPitchAngle>
"""


def _action_group(group_id: int, index: int, pitch: str, suffix: str) -> str:
    """The photo action group of one waypoint: rotate the gimbal (pitch only), take a photo."""
    return f"""\
        <wpml:actionGroup>
          <wpml:actionGroupId>{group_id}</wpml:actionGroupId>
          <wpml:actionGroupStartIndex>{index}</wpml:actionGroupStartIndex>
          <wpml:actionGroupEndIndex>{index}</wpml:actionGroupEndIndex>
          <wpml:actionGroupMode>sequence</wpml:actionGroupMode>
          <wpml:actionTrigger>
            <wpml:actionTriggerType>reachPoint</wpml:actionTriggerType>
          </wpml:actionTrigger>
          <wpml:action>
            <wpml:actionId>0</wpml:actionId>
            <wpml:actionActuatorFunc>gimbalRotate</wpml:actionActuatorFunc>
            <wpml:actionActuatorFuncParam>
              <wpml:gimbalHeadingYawBase>north</wpml:gimbalHeadingYawBase>
              <wpml:gimbalRotateMode>absoluteAngle</wpml:gimbalRotateMode>
              <wpml:gimbalPitchRotateEnable>1</wpml:gimbalPitchRotateEnable>
              <wpml:gimbalPitchRotateAngle>{pitch}</wpml:gimbalPitchRotateAngle>
              <wpml:gimbalRollRotateEnable>0</wpml:gimbalRollRotateEnable>
              <wpml:gimbalRollRotateAngle>0</wpml:gimbalRollRotateAngle>
              <wpml:gimbalYawRotateEnable>0</wpml:gimbalYawRotateEnable>
              <wpml:gimbalYawRotateAngle>0</wpml:gimbalYawRotateAngle>
              <wpml:gimbalRotateTimeEnable>0</wpml:gimbalRotateTimeEnable>
              <wpml:gimbalRotateTime>0</wpml:gimbalRotateTime>
              <wpml:payloadPositionIndex>0</wpml:payloadPositionIndex>
            </wpml:actionActuatorFuncParam>
          </wpml:action>
          <wpml:action>
            <wpml:actionId>1</wpml:actionId>
            <wpml:actionActuatorFunc>takePhoto</wpml:actionActuatorFunc>
            <wpml:actionActuatorFuncParam>
              <wpml:fileSuffix>{suffix}</wpml:fileSuffix>
              <wpml:payloadPositionIndex>0</wpml:payloadPositionIndex>
              <wpml:useGlobalPayloadLensIndex>1</wpml:useGlobalPayloadLensIndex>
            </wpml:actionActuatorFuncParam>
          </wpml:action>
        </wpml:actionGroup>
"""


def _placemarks(route: SortieRoute, *, waylines: bool) -> str:
    """Every route point's ``Placemark`` (with its photo action group), as indented text."""
    parts: list[str] = []
    group_id = 0
    for index, point in enumerate(route.points):
        pitch = _num(point.gimbal_pitch_deg)
        parts.append(
            f"""\
      <Placemark>
        <Point>
          <coordinates>{float(point.lon_deg)!r},{float(point.lat_deg)!r}</coordinates>
        </Point>
        <wpml:index>{index}</wpml:index>
"""
        )
        parts.append(_waylines_fields(point) if waylines else _template_fields(route, point, pitch))
        if point.photo:
            suffix = xml_text(_file_suffix(route, point))
            parts.append(_action_group(group_id, index, pitch, suffix))
            group_id += 1
        parts.append("      </Placemark>\n")
    return "".join(parts)


def _document(
    plan: Plan,
    route: SortieRoute,
    aircraft: WpmlAircraft,
    author: str,
    created_ms: int | None,
    *,
    waylines: bool,
) -> bytes:
    root = etree.Element(f"{{{KML_NS}}}kml", nsmap={None: KML_NS, "wpml": WPML_NS})
    document = _kml(root, "Document")
    if not waylines:
        _wpml(document, "author", author)
        if created_ms is not None:
            _wpml(document, "createTime", str(int(created_ms)))
            _wpml(document, "updateTime", str(int(created_ms)))
    _mission_config(document, plan, route, aircraft, waylines=waylines)
    folder = _kml(document, "Folder")
    speed = _num(float(plan.options.speed_m_s))
    if waylines:
        _wpml(folder, "templateId", "0")
        _wpml(folder, "executeHeightMode", "relativeToStartPoint")
        _wpml(folder, "waylineId", "0")
        _wpml(folder, "autoFlightSpeed", speed)
    else:
        _wpml(folder, "templateType", "waypoint")
        _wpml(folder, "templateId", "0")
        system = _wpml(folder, "waylineCoordinateSysParam")
        _wpml(system, "coordinateMode", "WGS84")
        _wpml(system, "heightMode", "relativeToStartPoint")
        _wpml(folder, "autoFlightSpeed", speed)
        _wpml(folder, "globalHeight", _num(route.points[0].height_m))
        _wpml(folder, "gimbalPitchMode", "usePointSetting")
        heading = _wpml(folder, "globalWaypointHeadingParam")
        _wpml(heading, "waypointHeadingMode", "followWayline")
        _wpml(heading, "waypointHeadingPathMode", "followBadArc")
        _wpml(folder, "globalWaypointTurnMode", "toPointAndStopWithDiscontinuityCurvature")
        _wpml(folder, "globalUseStraightLine", "0")
        payload = _wpml(folder, "payloadParam")
        _wpml(payload, "payloadPositionIndex", "0")
        _wpml(payload, "imageFormat", aircraft.lens)
    add_slot(folder, 0)
    frame = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return fill_slots(frame, [_placemarks(route, waylines=waylines)])


def _aircraft_for(plan: Plan, aircraft: WpmlAircraft | None) -> WpmlAircraft:
    if aircraft is not None:
        if not isinstance(aircraft, WpmlAircraft):
            raise InputError(f"must be a WpmlAircraft, got {aircraft!r}", field="aircraft")
        return aircraft
    return WPML_AIRCRAFT.get(plan.camera.name, MAVIC3E)


def _route(plan: Plan, site: Site, sortie: int) -> SortieRoute:
    routes = sortie_routes(plan, site)
    if not 0 <= sortie < len(routes):
        raise InputError(f"must be in 0..{len(routes) - 1}, got {sortie!r}", field="sortie")
    return routes[sortie]


def template_kml(
    plan: Plan,
    site: Site,
    sortie: int = 0,
    *,
    aircraft: WpmlAircraft | None = None,
    author: str = "plantwatch",
    created_ms: int | None = None,
) -> bytes:
    """``wpmz/template.kml`` of one sortie (waypoint template), UTF-8 XML bytes."""
    route = _route(plan, site, sortie)
    return _document(plan, route, _aircraft_for(plan, aircraft), author, created_ms, waylines=False)


def waylines_wpml(
    plan: Plan, site: Site, sortie: int = 0, *, aircraft: WpmlAircraft | None = None
) -> bytes:
    """``wpmz/waylines.wpml`` of one sortie (the executable wayline), UTF-8 XML bytes."""
    route = _route(plan, site, sortie)
    return _document(plan, route, _aircraft_for(plan, aircraft), "", None, waylines=True)


def _kmz(template: bytes, waylines: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in ((TEMPLATE_PATH, template), (WAYLINES_PATH, waylines)):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content, compresslevel=_ZIP_LEVEL)
    return buffer.getvalue()


def _kmz_for_route(
    plan: Plan,
    route: SortieRoute,
    aircraft: WpmlAircraft,
    author: str,
    created_ms: int | None,
) -> bytes:
    return _kmz(
        _document(plan, route, aircraft, author, created_ms, waylines=False),
        _document(plan, route, aircraft, author, created_ms, waylines=True),
    )


def build_wpml_kmz(
    plan: Plan,
    site: Site,
    sortie: int = 0,
    *,
    aircraft: WpmlAircraft | None = None,
    author: str = "plantwatch",
    created_ms: int | None = None,
) -> bytes:
    """The ``.kmz`` of one sortie (default the first): zip bytes with both WPML files.

    Parameters
    ----------
    plan, site
        The plan and its site (``site.to_wgs84`` places the ENU points).
    sortie
        0-based sortie index.
    aircraft
        Aircraft and payload to declare; default from the plan's camera (:data:`WPML_AIRCRAFT`),
        else the Mavic 3 Enterprise.
    author, created_ms
        ``wpml:author``; ``wpml:createTime``/``updateTime`` [ms since 1970] (left out if None).

    Raises
    ------
    InputError
        ``sortie`` out of range, or a bad plan (see :func:`~plantwatch.drone.export.sortie_routes`).
    """
    route = _route(plan, site, sortie)
    return _kmz_for_route(plan, route, _aircraft_for(plan, aircraft), author, created_ms)


def write_dji_kmz(
    plan: Plan,
    site: Site,
    path: str | os.PathLike[str],
    *,
    aircraft: WpmlAircraft | None = None,
    author: str = "plantwatch",
    created_ms: int | None = None,
) -> list[Path]:
    """Write one ``.kmz`` per sortie: ``path``, then ``<stem>-2.kmz``, ...

    DJI Pilot 2 names the route after the file. All files are written atomically, all or none;
    the folder must exist.

    Returns
    -------
    list of Path
        The files written, in sortie order.
    """
    chosen = _aircraft_for(plan, aircraft)
    contents = [
        _kmz_for_route(plan, route, chosen, author, created_ms)
        for route in sortie_routes(plan, site)
    ]
    return write_sortie_files(path, contents)
