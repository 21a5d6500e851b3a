"""The inspection route as a GeoJSON FeatureCollection (one file for the whole plan).

Features (RFC 7946 [1]_), in sortie order:

* one ``LineString`` per sortie, the flown route (departure, waypoints, return), with properties
  ``kind: "route"``, ``sortie``, ``height_m`` (list, one per vertex, above take-off),
  ``flight_time_s``, ``distance_m``, ``photo_count``;
* one ``Point`` per photo, with ``kind: "photo"``, ``sortie``, ``photo``, ``facility``,
  ``heading_deg``, ``gimbal_pitch_deg``, ``height_m``, ``speed_m_s``, ``waypoint_index``.

Positions are ``[lon, lat]`` only: RFC 7946 reads a third coordinate as height above the WGS84
ellipsoid, and the plan's heights are above the take-off point, so they go in ``height_m``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from plantwatch.drone.export import sortie_routes, write_files_atomic
from plantwatch.drone.model import Plan, Site
from plantwatch.jsonutil import dumps_pretty

__all__ = ["build_route_geojson", "route_geojson_text", "write_route_geojson"]


def build_route_geojson(plan: Plan, site: Site) -> dict[str, Any]:
    """The route FeatureCollection as a JSON-ready dict.

    Raises
    ------
    InputError
        A bad plan (see :func:`~plantwatch.drone.export.sortie_routes`).
    """
    features: list[dict[str, Any]] = []
    for route in sortie_routes(plan, site):
        coords = [[p.lon_deg, p.lat_deg] for p in route.points]
        if len(coords) == 1:  # a LineString needs two positions
            coords.append(list(coords[0]))
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {
                    "kind": "route",
                    "sortie": route.number,
                    "height_m": [p.height_m for p in route.points],
                    "flight_time_s": float(route.sortie.flight_time_s),
                    "distance_m": float(route.sortie.distance_m),
                    "photo_count": len(route.photo_points),
                },
            }
        )
        for p in route.photo_points:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [p.lon_deg, p.lat_deg]},
                    "properties": {
                        "kind": "photo",
                        "sortie": route.number,
                        "photo": p.photo_number,
                        "facility": p.facility_id,
                        "heading_deg": p.heading_deg,
                        "gimbal_pitch_deg": p.gimbal_pitch_deg,
                        "height_m": p.height_m,
                        "speed_m_s": p.speed_m_s,
                        "waypoint_index": p.waypoint_index,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def route_geojson_text(plan: Plan, site: Site) -> str:
    """:func:`build_route_geojson` as strict JSON text."""
    return dumps_pretty(build_route_geojson(plan, site), depth=2) + "\n"  # a feature per line


def write_route_geojson(plan: Plan, site: Site, path: str | os.PathLike[str]) -> Path:
    """Write :func:`route_geojson_text` to ``path`` atomically (the folder must exist)."""
    content = route_geojson_text(plan, site).encode("utf-8")
    return write_files_atomic([(Path(path), content)])[0]
