"""Shared geometry: pinhole camera, solid primitives and vectorised ray casting.

World frame: local ENU [m] (x east, y north, z up). Camera frame: OpenCV (x right, y down,
z forward). Used by the gas scene simulator (per-pixel depth, hidden leak sources) and by the
drone coverage planner.
"""

from __future__ import annotations

from plantwatch.geometry.camera import PinholeCamera
from plantwatch.geometry.primitives import Box, Cylinder, GroundPlane, Primitive, Sphere
from plantwatch.geometry.raycast import (
    cast_rays,
    first_hit_depth_map,
    is_occluded,
    surface_normals,
)

__all__ = [
    "Box",
    "Cylinder",
    "GroundPlane",
    "PinholeCamera",
    "Primitive",
    "Sphere",
    "cast_rays",
    "first_hit_depth_map",
    "is_occluded",
    "surface_normals",
]
