"""The site drawn as inline SVG from the site model: works offline, no map tiles.

Everything is drawn in the site's local ENU frame [m] (x east, y north), flipped so north is up.
Shapes come from :mod:`plantwatch.drone.site` (``facility_footprint``, ``zone_polygon``), so
the map shows exactly what the planner and the coverage computation used. Each shape carries a
``<title>`` (tooltip on hover / long-press on a tablet) and ``data-*`` attributes that the page
script and the tests use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the site module pulls in trimesh: imported when a map is first drawn
    from plantwatch.drone.model import Site

__all__ = [
    "ZONE_STYLE",
    "MapOverlay",
    "RoutePoint",
    "coverage_colour",
    "overlay_from_plan",
    "render_site_svg",
    "route_from_plan_json",
]

# fill, stroke, label: one colour per zone kind, legend order (colours as in common Ex maps:
# Zone 0 red, Zone 1 orange, Zone 2 yellow)
ZONE_STYLE: dict[str, tuple[str, str, str]] = {
    "zone0": ("#e53935", "#b71c1c", "Zone 0"),
    "zone1": ("#fb8c00", "#e65100", "Zone 1"),
    "zone2": ("#fdd835", "#f9a825", "Zone 2"),
    "fire_restricted": ("#8e24aa", "#6a1b9a", "fire-restricted"),
    "no_fly": ("#455a64", "#263238", "no-fly"),
    "people": ("#1e88e5", "#0d47a1", "people"),
    "road": ("#9e9e9e", "#616161", "road"),
    "boundary": ("none", "#37474f", "site boundary"),
}
# drawing order: large background areas first, hazardous zones on top
_ZONE_ORDER = ("boundary", "no_fly", "road", "people", "fire_restricted", "zone2", "zone1", "zone0")
_ZONE_OPACITY = {"boundary": 0.0, "road": 0.35, "no_fly": 0.25}
_SORTIE_COLOURS = ("#1565c0", "#2e7d32", "#6a1b9a", "#c62828", "#00838f", "#ef6c00", "#4e342e")
_PAD_FRACTION = 0.04  # margin around the drawing, share of its larger side


@dataclass(frozen=True)
class RoutePoint:
    """One waypoint of a planned route in ENU [m] (from ``plan.json``)."""

    sortie: int
    x_m: float
    y_m: float
    photo: bool


@dataclass(frozen=True)
class MapOverlay:
    """Optional layers over the site: coverage per facility, route, blind spots, markers."""

    coverage_pct: Mapping[str, float] | None = None  # facility id -> coverage [%]
    route: Sequence[RoutePoint] = ()
    blind_spots: Sequence[tuple[str, float, float, str]] = ()  # facility, x_m, y_m, text
    markers: Sequence[tuple[float, float, str]] = ()  # x_m, y_m, label (photos, gas sources)
    highlight: frozenset[str] = frozenset()  # facility ids drawn with a thick outline


def coverage_colour(pct: float | None) -> str:
    """Red (0 %) through yellow to green (100 %); grey when unknown."""
    if pct is None or not math.isfinite(pct):
        return "#cfd8dc"
    t = max(0.0, min(1.0, pct / 100.0))
    hue = 120.0 * t  # HSL hue: 0 red, 60 yellow, 120 green
    return f"hsl({hue:.0f},70%,48%)"


def _coords(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{-y:.1f}" for x, y in points)


def _bounds(site: Site, overlay: MapOverlay) -> tuple[float, float, float, float]:
    from plantwatch.drone.site import facility_footprint

    xs: list[float] = []
    ys: list[float] = []
    for zone in site.zones:
        for x, y in zone.polygon_m:
            xs.append(x)
            ys.append(y)
    for facility in site.facilities:
        minx, miny, maxx, maxy = facility_footprint(facility).bounds
        xs += [minx, maxx]
        ys += [miny, maxy]
    for p in overlay.route:
        xs.append(p.x_m)
        ys.append(p.y_m)
    for x, y in site.takeoff_points_m:
        xs.append(x)
        ys.append(y)
    if not xs:
        return (-50.0, -50.0, 50.0, 50.0)
    return (min(xs), min(ys), max(xs), max(ys))


def render_site_svg(site: Site, overlay: MapOverlay | None = None, *, title: str = "") -> str:
    """The site as an ``<svg>`` element (a string of trusted markup; every text is escaped).

    Parameters
    ----------
    site
        The site model.
    overlay
        Coverage colours, route, blind spots and markers to draw over the site.
    title
        Accessible title of the drawing.
    """
    from plantwatch.drone.site import facility_footprint, zone_polygon

    overlay = overlay or MapOverlay()
    minx, miny, maxx, maxy = _bounds(site, overlay)
    pad = _PAD_FRACTION * max(maxx - minx, maxy - miny, 1.0)
    width, height = maxx - minx + 2 * pad, maxy - miny + 2 * pad
    scale = max(width, height) / 1000.0  # stroke widths and labels in "1000 px" units
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sitemap" role="img" '
        f'viewBox="{minx - pad:.1f} {-(maxy + pad):.1f} {width:.1f} {height:.1f}" '
        f'preserveAspectRatio="xMidYMid meet" aria-label="{escape(title or site.name)}">',
        f"<title>{escape(title or site.name)}</title>",
        '<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="8" '
        'stroke="#6a1b9a" stroke-width="2"/></pattern></defs>',
        f'<rect x="{minx - pad:.1f}" y="{-(maxy + pad):.1f}" width="{width:.1f}" '
        f'height="{height:.1f}" fill="#f5f7f4"/>',
    ]
    order = {kind: i for i, kind in enumerate(_ZONE_ORDER)}
    for zone in sorted(site.zones, key=lambda z: order.get(z.kind, 0)):
        fill, stroke, label = ZONE_STYLE.get(zone.kind, ("#bdbdbd", "#757575", zone.kind))
        polygon = zone_polygon(zone)
        if polygon.is_empty:
            continue
        opacity = _ZONE_OPACITY.get(zone.kind, 0.45)
        fill_attr = "url(#hatch)" if zone.kind == "fire_restricted" else fill
        dash = (
            f' stroke-dasharray="{6 * scale:.1f} {4 * scale:.1f}"'
            if zone.kind
            in (
                "boundary",
                "no_fly",
            )
            else ""
        )
        name = zone.properties.get("name") or zone.id
        out.append(
            f'<polygon class="zone zone-{escape(zone.kind)}" data-zone="{escape(zone.id)}" '
            f'data-kind="{escape(zone.kind)}" points="{_coords(polygon.exterior.coords)}" '
            f'fill="{fill_attr}" fill-opacity="{opacity}" stroke="{stroke}" '
            f'stroke-width="{1.2 * scale:.2f}"{dash}>'
            f"<title>{escape(label)}: {escape(str(name))} ({escape(zone.id)})"
            f"{escape(' — ' + zone.source) if zone.source else ''}</title></polygon>"
        )
    coverage = overlay.coverage_pct or {}
    for facility in site.facilities:
        polygon = facility_footprint(facility)
        pct = coverage.get(facility.id)
        fill = coverage_colour(pct) if overlay.coverage_pct is not None else "#b0bec5"
        wide = facility.id in overlay.highlight
        text = f"{facility.name} ({facility.id}), {facility.type}, {facility.height_m:g} m"
        if pct is not None:
            text += f", coverage {pct:.1f} %"
        out.append(
            f'<polygon class="facility{" highlight" if wide else ""}" '
            f'data-facility="{escape(facility.id)}" '
            f'data-coverage="{"" if pct is None else f"{pct:.1f}"}" '
            f'points="{_coords(polygon.exterior.coords)}" fill="{fill}" fill-opacity="0.85" '
            f'stroke="{"#d50000" if wide else "#263238"}" '
            f'stroke-width="{(4.0 if wide else 1.0) * scale:.2f}"><title>{escape(text)}</title>'
            "</polygon>"
        )
    out.extend(_route_svg(overlay.route, scale))
    for x, y in site.takeoff_points_m:
        s = 9 * scale
        triangle = _coords([(x, y + s), (x - s, y - s), (x + s, y - s)])
        out.append(
            f'<polygon class="takeoff" points="{triangle}" fill="#212121">'
            "<title>take-off / landing point</title></polygon>"
        )
    for facility_id, x, y, text in overlay.blind_spots:
        s = 6 * scale
        out.append(
            f'<g class="blindspot" data-facility="{escape(facility_id)}">'
            f'<path d="M{x - s:.1f},{-y - s:.1f}L{x + s:.1f},{-y + s:.1f}M{x - s:.1f},'
            f'{-y + s:.1f}L{x + s:.1f},{-y - s:.1f}" stroke="#d50000" '
            f'stroke-width="{2.5 * scale:.2f}"/><title>blind spot: {escape(text)}</title></g>'
        )
    for x, y, label in overlay.markers:
        out.append(
            f'<circle class="marker" cx="{x:.1f}" cy="{-y:.1f}" r="{7 * scale:.1f}" '
            f'fill="#ff1744" stroke="#fff" stroke-width="{2 * scale:.2f}">'
            f"<title>{escape(label)}</title></circle>"
        )
    font = 14 * scale
    for facility in site.facilities:
        x, y = facility.center_m[0], facility.center_m[1]
        out.append(
            f'<text class="label" x="{x:.1f}" y="{-y + font / 3:.1f}" font-size="{font:.1f}" '
            f'text-anchor="middle" stroke="#fff" stroke-width="{3 * scale:.2f}" '
            f'paint-order="stroke">{escape(facility.id)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _route_svg(route: Sequence[RoutePoint], scale: float) -> list[str]:
    out: list[str] = []
    sorties: dict[int, list[RoutePoint]] = {}
    for point in route:
        sorties.setdefault(point.sortie, []).append(point)
    for index, points in sorted(sorties.items()):
        colour = _SORTIE_COLOURS[index % len(_SORTIE_COLOURS)]
        coords = _coords((p.x_m, p.y_m) for p in points)
        photos = sum(p.photo for p in points)
        out.append(
            f'<g class="route" data-sortie="{index}"><polyline points="{coords}" fill="none" '
            f'stroke="{colour}" stroke-width="{1.6 * scale:.2f}" stroke-linejoin="round">'
            f"<title>sortie {index + 1}: {len(points)} waypoints, {photos} photos</title>"
            "</polyline>"
        )
        r = 2.2 * scale
        out.extend(
            f'<circle cx="{p.x_m:.1f}" cy="{-p.y_m:.1f}" r="{r:.2f}" fill="{colour}"/>'
            for p in points
            if p.photo
        )
        out.append("</g>")
    return out


def route_from_plan_json(plan_json: Mapping[str, Any]) -> list[RoutePoint]:
    """Route points from a ``plan.json`` (``waypoint_fields`` + ``waypoints`` rows)."""
    fields = list(plan_json.get("waypoint_fields") or [])
    try:
        i_s, i_x, i_y, i_a = (fields.index(k) for k in ("sortie", "x_m", "y_m", "action"))
    except ValueError:
        return []
    return [
        RoutePoint(int(row[i_s]), float(row[i_x]), float(row[i_y]), row[i_a] == "photo")
        for row in plan_json.get("waypoints") or []
    ]


def overlay_from_plan(
    plan_json: Mapping[str, Any] | None, coverage_json: Mapping[str, Any] | None
) -> MapOverlay:
    """The overlay of a plan folder: route from ``plan.json``, coverage and blind spots from
    ``coverage.json``."""
    coverage: dict[str, float] = {}
    blind: list[tuple[str, float, float, str]] = []
    for fac in (coverage_json or {}).get("facilities") or []:
        fid = str(fac.get("facility_id"))
        coverage[fid] = float(fac.get("coverage_pct") or 0.0)
        for spot in fac.get("blind_spots") or []:
            centroid = spot.get("centroid_m")
            if not centroid or len(centroid) < 2:
                continue
            text = (
                f"{fid} {spot.get('face', '')} {spot.get('reason', '')}, "
                f"{float(spot.get('area_m2') or 0):.0f} m2"
            )
            blind.append((fid, float(centroid[0]), float(centroid[1]), text))
    return MapOverlay(
        coverage_pct=coverage if coverage_json is not None else None,
        route=route_from_plan_json(plan_json or {}),
        blind_spots=blind,
    )
