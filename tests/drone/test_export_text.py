"""KML and DJI WPML placemarks written as text (plantwatch.drone.export.xmltext) are the bytes
lxml writes: the same layout as a re-serialised lxml tree, the same escaping, and the exact
placemarks the element-per-field serialiser wrote before (golden text below)."""

from __future__ import annotations

import io
import zipfile

import pytest
from lxml import etree

from plantwatch.drone.camera import get_camera
from plantwatch.drone.export import sortie_routes
from plantwatch.drone.export.dji_wpml import (
    TEMPLATE_PATH,
    WAYLINES_PATH,
    build_wpml_kmz,
    template_kml,
    waylines_wpml,
)
from plantwatch.drone.export.kml import build_kml
from plantwatch.drone.export.xmltext import add_slot, fill_slots, xml_text
from plantwatch.drone.model import Facility, Plan, PlanOptions, Site, Sortie, Waypoint, Zone

# A facility id with every character XML text escapes, non-ASCII and a carriage return.
ODD_ID = "T&<1> タンク\r"


def _site() -> Site:
    return Site(
        name="Odd <site> & co",
        origin_lat_deg=35.45,
        origin_lon_deg=139.65,
        origin_alt_m=3.5,
        facilities=(
            Facility(ODD_ID, "tank", "fixed_roof_tank", (20.0, 0.0, 0.0), 10.0, diameter_m=8.0),
        ),
        zones=(Zone("ex-1", "zone2", ((10.0, -10.0), (30.0, -10.0), (30.0, 10.0), (10.0, 10.0))),),
        takeoff_points_m=((0.0, 0.0),),
    )


def _plan(site: Site, facility_id: str = ODD_ID) -> Plan:
    waypoints = (
        Waypoint(0.0, 0.0, 12.0, 90.0, 0.0, 8.0, "none", None, "transit"),
        Waypoint(10.0, 0.0, 5.0, 90.0, -12.5, 3.0, "photo", facility_id, "orbit"),
        Waypoint(20.0, -10.0, 5.0, 359.6, 0.0, 3.0, "photo", facility_id, "orbit"),
        Waypoint(20.0, 0.0, 16.0, 270.0, -90.0, 2.5, "photo", None, "roof"),
    )
    return Plan(
        site_name=site.name,
        camera=get_camera("dji-phantom4-rtk"),
        options=PlanOptions(gsd_mm=2.0, speed_m_s=3.0, transit_speed_m_s=8.0),
        standoff_m=5.0,
        sorties=(Sortie(0, (0.0, 0.0), waypoints, flight_time_s=120.0, distance_m=80.0),),
    )


def _lxml_reserialised(document: bytes) -> bytes:
    """What lxml writes for the tree ``document`` parses to (whitespace-only text dropped).

    A parsed ``<a></a>`` has no text and is written ``<a/>``; the exporters set "" (``<a></a>``),
    so empty elements are written back that way.
    """
    tree = etree.fromstring(document, etree.XMLParser(remove_blank_text=True))
    for element in tree.iter():
        if len(element) == 0 and element.text is None:
            element.text = ""
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def test_documents_are_lxml_layout_and_escaping() -> None:
    site = _site()
    plan = _plan(site)
    documents = [build_kml(plan, site), template_kml(plan, site), waylines_wpml(plan, site)]
    for document in documents:
        assert _lxml_reserialised(document) == document
    kml = documents[0].decode("utf-8")
    assert "<name>S1-P001 T&amp;&lt;1&gt; タンク&#13;</name>" in kml
    assert "<value>T&amp;&lt;1&gt; タンク&#13;</value>" in kml
    # the file suffix keeps [0-9A-Za-z_-] only
    assert "<wpml:fileSuffix>S1P002_T--1------</wpml:fileSuffix>" in documents[2].decode()
    with zipfile.ZipFile(io.BytesIO(build_wpml_kmz(plan, site))) as archive:
        assert archive.read(TEMPLATE_PATH) == documents[1]
        assert archive.read(WAYLINES_PATH) == documents[2]


def test_control_character_is_refused_like_lxml() -> None:
    site = _site()
    with pytest.raises(ValueError, match="XML compatible"):
        build_kml(_plan(site, "T-1\x01"), site)
    with pytest.raises(ValueError, match="XML compatible"):
        etree.Element("a").text = "T-1\x01"  # what lxml itself does


@pytest.mark.parametrize("text", ["", "plain", "a&b<c>d\"e'f", "x\r\ny\tz", "日本 \U0001f600"])
def test_xml_text_matches_lxml(text: str) -> None:
    element = etree.Element("a")
    element.text = text
    assert etree.tostring(element, encoding="unicode") == f"<a>{xml_text(text)}</a>"


def test_fill_slots_needs_every_marker() -> None:
    root = etree.Element("root")
    add_slot(etree.SubElement(root, "a"), 0)
    add_slot(etree.SubElement(root, "b"), 1)
    frame = etree.tostring(root, pretty_print=True)
    filled = fill_slots(frame, ["    <x/>\n", ""])
    assert filled == b"<root>\n  <a>\n    <x/>\n  </a>\n  <b>\n  </b>\n</root>\n"
    with pytest.raises(ValueError, match="expected 3 slot markers, found 2"):
        fill_slots(frame, ["", "", ""])


def _placemark(document: bytes, number: int) -> str:
    """Text of the ``number``-th ``<Placemark>`` (0-based) of the document."""
    text = document.decode("utf-8")
    start = -1
    for _ in range(number + 1):
        start = text.index("<Placemark>", start + 1)
    end = text.index("</Placemark>", start) + len("</Placemark>")
    return text[start:end]


# Written by the element-per-field lxml serialiser (before the text templates) for _plan().
GOLDEN_KML_PHOTO = """\
<Placemark>
          <name>S1-P002 T&amp;&lt;1&gt; タンク&#13;</name>
          <styleUrl>#photo</styleUrl>
          <ExtendedData>
            <Data name="sortie">
              <value>1</value>
            </Data>
            <Data name="photo">
              <value>2</value>
            </Data>
            <Data name="facility">
              <value>T&amp;&lt;1&gt; タンク&#13;</value>
            </Data>
            <Data name="heading_deg">
              <value>359.6</value>
            </Data>
            <Data name="gimbal_pitch_deg">
              <value>0.0</value>
            </Data>
            <Data name="height_m">
              <value>5.0</value>
            </Data>
            <Data name="speed_m_s">
              <value>3.0</value>
            </Data>
            <Data name="waypoint_index">
              <value>2</value>
            </Data>
          </ExtendedData>
          <Point>
            <altitudeMode>relativeToGround</altitudeMode>
            <coordinates>{lon},{lat},5.0</coordinates>
          </Point>
        </Placemark>"""
GOLDEN_WAYLINES_PHOTO = """\
<Placemark>
        <Point>
          <coordinates>{lon},{lat}</coordinates>
        </Point>
        <wpml:index>1</wpml:index>
        <wpml:executeHeight>5</wpml:executeHeight>
        <wpml:waypointSpeed>3</wpml:waypointSpeed>
        <wpml:waypointHeadingParam>
          <wpml:waypointHeadingMode>smoothTransition</wpml:waypointHeadingMode>
          <wpml:waypointHeadingAngle>90</wpml:waypointHeadingAngle>
          <wpml:waypointHeadingPathMode>followBadArc</wpml:waypointHeadingPathMode>
        </wpml:waypointHeadingParam>
        <wpml:waypointTurnParam>
          <wpml:waypointTurnMode>toPointAndStopWithDiscontinuityCurvature</wpml:waypointTurnMode>
          <wpml:waypointTurnDampingDist>0</wpml:waypointTurnDampingDist>
        </wpml:waypointTurnParam>
        <wpml:actionGroup>
          <wpml:actionGroupId>0</wpml:actionGroupId>
          <wpml:actionGroupStartIndex>1</wpml:actionGroupStartIndex>
          <wpml:actionGroupEndIndex>1</wpml:actionGroupEndIndex>
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
              <wpml:gimbalPitchRotateAngle>-12.5</wpml:gimbalPitchRotateAngle>
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
              <wpml:fileSuffix>S1P001_T--1------</wpml:fileSuffix>
              <wpml:payloadPositionIndex>0</wpml:payloadPositionIndex>
              <wpml:useGlobalPayloadLensIndex>1</wpml:useGlobalPayloadLensIndex>
            </wpml:actionActuatorFuncParam>
          </wpml:action>
        </wpml:actionGroup>
      </Placemark>"""
GOLDEN_TEMPLATE_ROOF = """\
<Placemark>
        <Point>
          <coordinates>{lon},{lat}</coordinates>
        </Point>
        <wpml:index>3</wpml:index>
        <wpml:ellipsoidHeight>{ellipsoid}</wpml:ellipsoidHeight>
        <wpml:height>16</wpml:height>
        <wpml:useGlobalHeight>0</wpml:useGlobalHeight>
        <wpml:useGlobalSpeed>0</wpml:useGlobalSpeed>
        <wpml:waypointSpeed>2.5</wpml:waypointSpeed>
        <wpml:useGlobalHeadingParam>0</wpml:useGlobalHeadingParam>
        <wpml:waypointHeadingParam>
          <wpml:waypointHeadingMode>smoothTransition</wpml:waypointHeadingMode>
          <wpml:waypointHeadingAngle>-90</wpml:waypointHeadingAngle>
          <wpml:waypointHeadingPathMode>followBadArc</wpml:waypointHeadingPathMode>
        </wpml:waypointHeadingParam>
        <wpml:useGlobalTurnParam>1</wpml:useGlobalTurnParam>
        <wpml:gimbalPitchAngle>-90</wpml:gimbalPitchAngle>
        <wpml:actionGroup>"""


def test_placemarks_match_the_element_serialiser() -> None:
    site = _site()
    plan = _plan(site)
    points = sortie_routes(plan, site)[0].points
    # KML: the photo placemarks only (the route line is placemark 0)
    second_photo = points[2]
    assert _placemark(build_kml(plan, site), 2) == GOLDEN_KML_PHOTO.format(
        lon=repr(second_photo.lon_deg), lat=repr(second_photo.lat_deg)
    )
    first_photo = points[1]
    assert _placemark(waylines_wpml(plan, site), 1) == GOLDEN_WAYLINES_PHOTO.format(
        lon=repr(first_photo.lon_deg), lat=repr(first_photo.lat_deg)
    )
    roof = points[3]
    ellipsoid = f"{sortie_routes(plan, site)[0].home_amsl_m + 16.0:.3f}".rstrip("0").rstrip(".")
    golden = GOLDEN_TEMPLATE_ROOF.format(
        lon=repr(roof.lon_deg), lat=repr(roof.lat_deg), ellipsoid=ellipsoid
    )
    assert _placemark(template_kml(plan, site), 3).startswith(golden)
