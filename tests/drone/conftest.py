"""Shared test sites for the drone tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from plantwatch.drone.site import Site, enu_to_wgs84

ORIGIN = (35.5, 139.78)


def lonlat(x_m: float, y_m: float) -> list[float]:
    """[lon, lat] of the ENU point (x_m, y_m) around :data:`ORIGIN`."""
    origin = Site("origin", *ORIGIN, 0.0, (), (), ())
    lat, lon, _ = enu_to_wgs84(origin, np.array([[x_m, y_m, 0.0]]))[0]
    return [round(float(lon), 10), round(float(lat), 10)]


def write_two_tank_site(folder: Path, name: str, boundary: bool = True) -> Path:
    """Two fixed-roof tanks: T-1 (10 m x 8 m) at the origin, T-2 (8 m x 6 m) 30 m east, take-off
    40 m south, and (``boundary``) a 150 m x 120 m site boundary; written to folder/site.geojson.
    """
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "properties": {
                "kind": "facility",
                "type": "fixed_roof_tank",
                "id": tid,
                "name": f"tank {tid}",
                "diameter_m": d,
                "height_m": h,
            },
            "geometry": {"type": "Point", "coordinates": lonlat(x, 0.0)},
        }
        for tid, x, d, h in (("T-1", 0.0, 10, 8), ("T-2", 30.0, 8, 6))
    ]
    features.append(
        {
            "type": "Feature",
            "properties": {"kind": "takeoff", "id": "TO-1"},
            "geometry": {"type": "Point", "coordinates": lonlat(0.0, -40.0)},
        }
    )
    if boundary:
        corners = ((-60, -60), (90, -60), (90, 60), (-60, 60), (-60, -60))
        ring = [lonlat(x, y) for x, y in corners]
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "boundary", "id": "B"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    data = {
        "type": "FeatureCollection",
        "properties": {
            "name": name,
            "origin_lat_deg": ORIGIN[0],
            "origin_lon_deg": ORIGIN[1],
            "origin_alt_m": 0.0,
        },
        "features": features,
    }
    path = folder / "site.geojson"
    path.write_text(json.dumps(data))
    return path
