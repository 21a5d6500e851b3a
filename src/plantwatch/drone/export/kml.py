"""KML of the inspection route, for Google Earth and GIS review (one file for the whole plan).

Layout (OGC KML 2.2 [1]_)::

    Document  <site name> inspection plan
      Folder  Sortie 1
        Placemark  "Sortie 1 route"   LineString, altitudeMode relativeToGround, the flown route
                                      (departure, waypoints, return); ExtendedData: sortie,
                                      flight_time_s, distance_m, photo_count
        Folder  Photos
          Placemark "S1-P001 T-1"     Point, relativeToGround; ExtendedData: sortie, photo,
                                      facility, heading_deg, gimbal_pitch_deg, height_m,
                                      speed_m_s, waypoint_index
      Folder  Sortie 2 ...
      Folder  Zones                   Polygon per site zone (clamped to the ground); ExtendedData:
                                      kind, floor_m, ceiling_m, source

Coordinates are ``lon,lat,height`` with the shortest exact decimal of each float, so they read
back bit for bit. Heights are above the take-off point, written as ``relativeToGround``: exact
on the flat ground of a plant site, off by the ground's rise elsewhere. Built with lxml (no global
id counters, so the same plan always gives the same bytes); the photo placemarks, ~10 000 in a
50-tank plan, from text templates with lxml's layout (:mod:`plantwatch.drone.export.xmltext`).

References
----------
.. [1] OGC 07-147r2, OGC KML 2.2, https://www.ogc.org/standard/kml/
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from lxml import etree

from plantwatch.drone.export import (
    SortieRoute,
    sortie_routes,
    write_files_atomic,
    zone_polygons_wgs84,
)
from plantwatch.drone.export.xmltext import add_slot, fill_slots, xml_text
from plantwatch.drone.model import Plan, Site

__all__ = ["KML_NS", "build_kml", "write_kml"]

KML_NS = "http://www.opengis.net/kml/2.2"
_ROUTE_COLOUR = "ff00a5ff"  # aabbggrr: opaque orange
_PHOTO_COLOUR = "ff00ffff"  # opaque yellow
_ZONE_COLOURS = {  # aabbggrr, 50 % fill
    "zone0": "80000080",
    "zone1": "800000ff",
    "zone2": "800080ff",
    "fire_restricted": "800040ff",
    "no_fly": "80000000",
    "people": "80ff0000",
    "road": "80808080",
    "boundary": "00ffffff",
}


def _el(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{KML_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _num(value: float) -> str:
    """Shortest exact decimal of a float (``repr``), ``nan``/``inf`` spelled out."""
    number = float(value)
    return repr(number) if math.isfinite(number) else str(number)


def _coord(lon: float, lat: float, height: float) -> str:
    return f"{_num(lon)},{_num(lat)},{_num(height)}"


def _extended_data(parent: etree._Element, values: dict[str, object]) -> None:
    extended = _el(parent, "ExtendedData")
    for name, value in values.items():
        data = _el(extended, "Data")
        data.set("name", name)
        _el(data, "value", _data_text(value))


def _styles(document: etree._Element) -> None:
    route = _el(document, "Style")
    route.set("id", "route")
    line = _el(route, "LineStyle")
    _el(line, "color", _ROUTE_COLOUR)
    _el(line, "width", "3")
    photo = _el(document, "Style")
    photo.set("id", "photo")
    icon = _el(photo, "IconStyle")
    _el(icon, "color", _PHOTO_COLOUR)
    _el(icon, "scale", "0.6")
    for kind, colour in _ZONE_COLOURS.items():
        style = _el(document, "Style")
        style.set("id", f"zone-{kind}")
        _el(_el(style, "LineStyle"), "color", "ff" + colour[2:])
        _el(_el(style, "PolyStyle"), "color", colour)


def _data_text(value: object) -> str:
    """An ``ExtendedData`` value as text: floats exact (:func:`_num`), None empty."""
    return "" if value is None else _num(value) if isinstance(value, float) else str(value)


def _photo_placemarks(route: SortieRoute) -> str:
    """The ``Placemark`` of every photo point of ``route``, as indented text.

    Text, not lxml elements (see :mod:`plantwatch.drone.export.xmltext`): one element per field
    of ~10 000 placemarks made this the second slowest export of a 50-tank plan. The layout is
    lxml's pretty print at the depth of a sortie's "Photos" folder. Only the name and facility
    id are outside text to escape; the other values are numbers.
    """
    parts: list[str] = []
    sortie = _data_text(route.number)
    for point in route.photo_points:
        label = f"S{route.number}-P{point.photo_number:03d}"
        name = xml_text(f"{label} {point.facility_id}" if point.facility_id else label)
        parts.append(
            f"""\
        <Placemark>
          <name>{name}</name>
          <styleUrl>#photo</styleUrl>
          <ExtendedData>
            <Data name="sortie">
              <value>{sortie}</value>
            </Data>
            <Data name="photo">
              <value>{_data_text(point.photo_number)}</value>
            </Data>
            <Data name="facility">
              <value>{xml_text(_data_text(point.facility_id))}</value>
            </Data>
            <Data name="heading_deg">
              <value>{_data_text(point.heading_deg)}</value>
            </Data>
            <Data name="gimbal_pitch_deg">
              <value>{_data_text(point.gimbal_pitch_deg)}</value>
            </Data>
            <Data name="height_m">
              <value>{_data_text(point.height_m)}</value>
            </Data>
            <Data name="speed_m_s">
              <value>{_data_text(point.speed_m_s)}</value>
            </Data>
            <Data name="waypoint_index">
              <value>{_data_text(point.waypoint_index)}</value>
            </Data>
          </ExtendedData>
          <Point>
            <altitudeMode>relativeToGround</altitudeMode>
            <coordinates>{_coord(point.lon_deg, point.lat_deg, point.height_m)}</coordinates>
          </Point>
        </Placemark>
"""
        )
    return "".join(parts)


def build_kml(plan: Plan, site: Site, *, include_zones: bool = True) -> bytes:
    """KML document of the whole plan (UTF-8 bytes with an XML declaration).

    Parameters
    ----------
    plan, site
        The plan and its site (``site.to_wgs84`` places the ENU points).
    include_zones
        Also draw the site's zones as ground polygons.

    Raises
    ------
    InputError
        A bad plan (see :func:`~plantwatch.drone.export.sortie_routes`).
    """
    routes = sortie_routes(plan, site)
    root = etree.Element(f"{{{KML_NS}}}kml", nsmap={None: KML_NS})
    document = _el(root, "Document")
    _el(document, "name", f"{plan.site_name or site.name} inspection plan")
    _el(
        document,
        "description",
        f"plantwatch plan: camera {plan.camera.name}, target GSD {plan.options.gsd_mm:g} mm/px, "
        f"standoff {plan.standoff_m:.2f} m, {len(routes)} sortie(s), {plan.photo_count} photos. "
        "Heights are above the take-off point.",
    )
    _styles(document)
    slots: list[str] = []
    for route in routes:
        folder = _el(document, "Folder")
        _el(folder, "name", f"Sortie {route.number}")
        placemark = _el(folder, "Placemark")
        _el(placemark, "name", f"Sortie {route.number} route")
        _el(placemark, "styleUrl", "#route")
        _extended_data(
            placemark,
            {
                "sortie": route.number,
                "flight_time_s": float(route.sortie.flight_time_s),
                "distance_m": float(route.sortie.distance_m),
                "photo_count": len(route.photo_points),
            },
        )
        line = _el(placemark, "LineString")
        _el(line, "tessellate", "0")
        _el(line, "altitudeMode", "relativeToGround")
        coords = [_coord(p.lon_deg, p.lat_deg, p.height_m) for p in route.points]
        if len(coords) == 1:  # a LineString needs two positions
            coords.append(coords[0])
        _el(line, "coordinates", " ".join(coords))
        photos = _el(folder, "Folder")
        _el(photos, "name", "Photos")
        add_slot(photos, len(slots))
        slots.append(_photo_placemarks(route))
    if include_zones:
        zones = zone_polygons_wgs84(site)
        if zones:
            folder = _el(document, "Folder")
            _el(folder, "name", "Zones")
            for zone, ring in zones:
                placemark = _el(folder, "Placemark")
                _el(placemark, "name", f"{zone.id} ({zone.kind})")
                _el(placemark, "styleUrl", f"#zone-{zone.kind}")
                _extended_data(
                    placemark,
                    {
                        "kind": zone.kind,
                        "floor_m": float(zone.floor_m),
                        "ceiling_m": float(zone.ceiling_m),
                        "source": zone.source,
                    },
                )
                polygon = _el(placemark, "Polygon")
                _el(polygon, "altitudeMode", "clampToGround")
                ring_el = _el(_el(polygon, "outerBoundaryIs"), "LinearRing")
                closed = [*ring, ring[0]]
                _el(ring_el, "coordinates", " ".join(_coord(lon, lat, 0.0) for lat, lon in closed))
    frame = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return fill_slots(frame, slots)


def write_kml(
    plan: Plan, site: Site, path: str | os.PathLike[str], *, include_zones: bool = True
) -> Path:
    """Write :func:`build_kml` to ``path`` atomically (the folder must exist)."""
    content = build_kml(plan, site, include_zones=include_zones)
    return write_files_atomic([(Path(path), content)])[0]
