"""Tests for plantwatch.drone.coverage: ray-cast coverage, blind spots, JSON and the map."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from plantwatch.drone.coverage import (
    GSD_MODELS,
    OCCLUDED,
    OUTSIDE_FACE,
    SEEN,
    TOO_OBLIQUE,
    DetailedCoverageReport,
    DetailedFacilityCoverage,
    _facility_faces,
    compute_coverage,
    coverage_to_json,
    render_coverage_map,
)
from plantwatch.drone.model import (
    CameraModel,
    CoverageReport,
    Facility,
    FacilityCoverage,
    Plan,
    PlanOptions,
    Site,
    Sortie,
    Waypoint,
    Zone,
)
from plantwatch.errors import InputError
from plantwatch.geometry import Box, Cylinder, PinholeCamera, Primitive, Sphere, is_occluded

# A 1-inch 20 MP mapping camera (13.2 x 8.8 mm, 5472 x 3648 px, 8.8 mm lens): at 2 mm/px the
# standoff is 7.296 m and the footprint 10.94 m x 7.296 m.
CAMERA = CameraModel("1-inch 20 MP", 13.2, 8.8, 5472, 3648, 8.8, "test camera")
GSD_MM = 2.0


def standoff_m(gsd_mm: float = GSD_MM) -> float:
    """Distance that gives ``gsd_mm`` at the image centre [m]."""
    return gsd_mm * CAMERA.focal_length_mm * CAMERA.image_width_px / CAMERA.sensor_width_mm / 1e3


def tank(facility_id: str, x: float, y: float, diameter_m: float, height_m: float) -> Facility:
    return Facility(
        facility_id,
        f"Tank {facility_id}",
        "fixed_roof_tank",
        (x, y, 0.0),
        height_m,
        diameter_m=diameter_m,
    )


def orbit(
    f: Facility, front: float = 0.7, side: float = 0.7, distance_factor: float = 1.0
) -> list[Waypoint]:
    """Level orbit layers at R + d around a vertical cylinder, each photo aimed at the axis;
    photo and layer spacing from the footprint at d with the given overlaps."""
    assert f.diameter_m is not None
    radius, d = f.diameter_m / 2.0, standoff_m() * distance_factor
    footprint_w = d * CAMERA.sensor_width_mm / CAMERA.focal_length_mm
    footprint_h = d * CAMERA.sensor_height_mm / CAMERA.focal_length_mm
    layers = max(1, math.ceil(f.height_m / (footprint_h * (1.0 - side))))
    per_layer = max(4, math.ceil(2.0 * math.pi * radius / (footprint_w * (1.0 - front))))
    photos = []
    for layer in range(layers):
        z = f.height_m * (layer + 0.5) / layers
        for k in range(per_layer):
            bearing = 360.0 * k / per_layer
            x = f.center_m[0] + (radius + d) * math.sin(math.radians(bearing))
            y = f.center_m[1] + (radius + d) * math.cos(math.radians(bearing))
            photos.append(Waypoint(x, y, z, (bearing + 180.0) % 360.0, 0.0, 4.0, facility_id=f.id))
    return photos


def roof_rings(f: Facility, overlap: float = 0.4) -> list[Waypoint]:
    """Nadir photos at the standoff above the roof: the centre and concentric rings."""
    assert f.diameter_m is not None
    radius, d = f.diameter_m / 2.0, standoff_m()
    step = d * CAMERA.sensor_height_mm / CAMERA.focal_length_mm * (1.0 - overlap)
    photos = [Waypoint(f.center_m[0], f.center_m[1], f.height_m + d, 0.0, -90.0, 4.0, kind="roof")]
    ring = step
    while ring <= radius + 1e-9:
        count = max(4, math.ceil(2.0 * math.pi * ring / step))
        for k in range(count):
            bearing = math.radians(360.0 * k / count)
            x = f.center_m[0] + ring * math.sin(bearing)
            y = f.center_m[1] + ring * math.cos(bearing)
            photos.append(Waypoint(x, y, f.height_m + d, 0.0, -90.0, 4.0, kind="roof"))
        ring += step
    return photos


def make_plan(photos: list[Waypoint], gsd_mm: float = GSD_MM, **options: Any) -> Plan:
    sortie = Sortie(0, (0.0, -80.0), tuple(photos), 600.0, 1000.0)
    return Plan(
        "test", CAMERA, PlanOptions(gsd_mm=gsd_mm, **options), standoff_m(gsd_mm), (sortie,)
    )


def make_site(*facilities: Facility, zones: tuple[Zone, ...] = ()) -> Site:
    return Site("Test site", 35.0, 139.8, 0.0, facilities, zones, ((0.0, -80.0),))


def face_row(fc: FacilityCoverage, face: str) -> dict[str, Any]:
    assert isinstance(fc, DetailedFacilityCoverage)
    return next(row for row in fc.faces if row["face"] == face)


def arc_contains(arc: list[float], bearing: float) -> bool:
    start, end = arc
    if (start, end) == (0.0, 360.0):
        return True
    return (bearing - start) % 360.0 <= (end - start) % 360.0


T1 = tank("T-1", 0.0, 0.0, 20.0, 15.0)


# -- single tank ---------------------------------------------------------------------------------


def test_perfect_orbit_covers_the_shell() -> None:
    report = compute_coverage(make_site(T1), make_plan(orbit(T1)))
    assert isinstance(report, DetailedCoverageReport)
    fc = report.facilities[0]
    assert isinstance(fc, DetailedFacilityCoverage)
    assert face_row(fc, "shell")["coverage_pct"] >= 98.0
    # Level photos from below the roof never see it: the roof is one blind spot.
    assert face_row(fc, "roof")["coverage_pct"] == 0.0
    roof = [s for s in fc.blind_spots if s["face"] == "roof"]
    assert len(roof) == 1 and roof[0]["reason"] == "not in any photo"
    assert roof[0]["area_m2"] == pytest.approx(math.pi * 100.0, abs=0.01)
    # Areas are the exact analytic ones.
    assert fc.area_m2 == pytest.approx(2 * math.pi * 10 * 15 + math.pi * 100, rel=1e-9)
    assert fc.point_count <= 3300


def test_half_a_layer_missing_leaves_a_blind_band() -> None:
    photos = orbit(T1, front=0.7, side=0.3)  # layers at 2.5, 7.5, 12.5 m
    assert sorted({w.z_m for w in photos}) == pytest.approx([2.5, 7.5, 12.5])
    full = compute_coverage(make_site(T1), make_plan(photos)).facilities[0]
    assert face_row(full, "shell")["coverage_pct"] == 100.0
    # Drop the middle layer's photos on the east half (camera bearings 0 <= b < 180 deg).
    kept = [w for w in photos if not (w.z_m == 7.5 and (w.heading_deg + 180.0) % 360.0 < 180.0)]
    fc = compute_coverage(make_site(T1), make_plan(kept)).facilities[0]
    shell = [s for s in fc.blind_spots if s["face"] == "shell"]
    assert len(shell) == 1
    spot = shell[0]
    start, end = spot["bearing_deg"]
    # The photos at 180 and 342 deg still reach ~15 deg either side (GSD limit on the curve).
    assert 340.0 <= start <= 360.0 or start <= 5.0
    assert 150.0 <= end <= 180.0
    for bearing in (10.0, 45.0, 90.0, 135.0, 160.0):
        assert arc_contains(spot["bearing_deg"], bearing)
    for bearing in (200.0, 270.0, 320.0):
        assert not arc_contains(spot["bearing_deg"], bearing)
    lo, hi = spot["height_m"]
    assert 5.5 <= lo <= 6.5 and 8.5 <= hi <= 9.5  # the other layers reach 2.5/12.5 +- 3.65 m
    assert spot["area_m2"] > 40.0
    assert any(
        item["face"] == "shell" and item["area_m2"] == spot["area_m2"]
        for item in compute_coverage(make_site(T1), make_plan(kept)).conventional_inspection
    )


def test_a_tank_in_front_occludes() -> None:
    neighbour = tank("T-2", 13.0, 0.0, 4.0, 15.0)  # east of T-1, inside the camera ring
    report = compute_coverage(make_site(T1, neighbour), make_plan(orbit(T1)))
    fc = report.facilities[0]
    occluded = [s for s in fc.blind_spots if s["reason"] == "occluded by T-2"]
    assert occluded, fc.blind_spots
    assert all(s["face"] == "shell" for s in occluded)
    assert any(arc_contains(s["bearing_deg"], 90.0) for s in occluded)
    assert all(arc_contains([60.0, 120.0], s["bearing_deg"][0]) for s in occluded)
    # Without the neighbour the same photos see everything.
    alone = compute_coverage(make_site(T1), make_plan(orbit(T1))).facilities[0]
    assert face_row(alone, "shell")["coverage_pct"] == 100.0
    assert face_row(fc, "shell")["coverage_pct"] < 100.0
    # Occluders outside the reported set still occlude.
    only_t1 = compute_coverage(
        make_site(T1, neighbour), make_plan(orbit(T1), facility_ids=("T-1",))
    )
    assert [f.facility_id for f in only_t1.facilities] == ["T-1"]
    assert only_t1.facilities[0].seen_area_m2 == pytest.approx(fc.seen_area_m2)


def test_photos_too_far_do_not_count() -> None:
    far = orbit(T1, distance_factor=2.0)  # 4 mm/px at the image centre
    fc = compute_coverage(make_site(T1), make_plan(far)).facilities[0]
    assert fc.seen_area_m2 == 0.0
    shell = [s for s in fc.blind_spots if s["face"] == "shell"]
    assert shell[0]["reason"] == "GSD too coarse"
    assert shell[0]["bearing_deg"] == [0.0, 360.0]
    # The same photos at a 4.2 mm/px target do count.
    coarse = compute_coverage(make_site(T1), make_plan(far, gsd_mm=4.2)).facilities[0]
    assert face_row(coarse, "shell")["coverage_pct"] == 100.0


def test_photos_too_oblique_do_not_count() -> None:
    short = tank("T-3", 0.0, 0.0, 20.0, 3.0)
    # Nadir photos just outside the rim, 4 m above it: the shell is 76-82 deg off square.
    photos = []
    for k in range(40):
        bearing = math.radians(9.0 * k)
        photos.append(
            Waypoint(11.0 * math.sin(bearing), 11.0 * math.cos(bearing), 7.0, 0.0, -90.0, 4.0)
        )
    fc = compute_coverage(make_site(short), make_plan(photos)).facilities[0]
    assert face_row(fc, "shell")["seen_area_m2"] == 0.0
    shell = [s for s in fc.blind_spots if s["face"] == "shell"]
    assert len(shell) == 1 and shell[0]["reason"] == "too oblique"
    shell_map = next(m for m in fc.face_maps if m.face == "shell")
    assert np.all(shell_map.reason_code == TOO_OBLIQUE)
    # Allowing 85 deg lets the same photos count.
    lenient = compute_coverage(make_site(short), make_plan(photos, max_incidence_deg=85.0))
    assert face_row(lenient.facilities[0], "shell")["coverage_pct"] > 95.0


def test_roof_rings_cover_the_roof() -> None:
    fc = compute_coverage(make_site(T1), make_plan(orbit(T1) + roof_rings(T1))).facilities[0]
    assert face_row(fc, "roof")["coverage_pct"] >= 98.0
    assert fc.coverage_pct >= 98.0
    assert not [s for s in fc.blind_spots if s["area_m2"] >= 0.5]


def test_gsd_models() -> None:
    """A photo square to a wall: "depth" sees all of the framed wall, "ray" a disc around the
    centre, "oblique" less than "depth" as the slope stretches the GSD off-centre."""
    wall = Facility("B-1", "Wall", "building", (0.0, 0.0, 0.0), 6.0, length_m=0.5, width_m=8.0)
    # The north face (y = 0.25) is seen from 7 m north, looking south.
    photo = Waypoint(0.0, 7.25, 3.0, 180.0, 0.0, 4.0)
    seen = {}
    for model in GSD_MODELS:
        fc = compute_coverage(make_site(wall), make_plan([photo]), 0.25, gsd_model=model)
        seen[model] = float(face_row(fc.facilities[0], "side_N")["seen_area_m2"])
    # depth 7 m <= 7.66 m everywhere: the frame (10.5 x 7 m) holds all of the 8 x 6 m face.
    assert seen["depth"] == pytest.approx(48.0)
    # ray: sqrt(7^2 + r^2) <= 7.66 -> r <= 3.11 m: a disc of ~30 m2 (the face clips it).
    assert 25.0 < seen["ray"] < 33.0
    assert seen["oblique"] < seen["depth"]
    with pytest.raises(InputError, match="gsd_model: must be one of depth, ray, oblique"):
        compute_coverage(make_site(wall), make_plan([photo]), gsd_model="fisheye")


# -- boxes and spheres ---------------------------------------------------------------------------


def facade_photos(f: Facility, skip_facing: float | None = None) -> list[Waypoint]:
    """Level photos at the standoff in front of each side, plus nadir photos over the top."""
    assert f.length_m is not None and f.width_m is not None
    d = standoff_m()
    step_w = d * CAMERA.sensor_width_mm / CAMERA.focal_length_mm * 0.5
    step_h = d * CAMERA.sensor_height_mm / CAMERA.focal_length_mm * 0.5
    photos = []
    yaw = math.radians(f.yaw_deg)
    along = np.array([math.sin(yaw), math.cos(yaw)])
    across = np.array([math.cos(yaw), -math.sin(yaw)])
    centre = np.array(f.center_m[:2])
    sides = ((along, f.length_m / 2, f.width_m), (across, f.width_m / 2, f.length_m))
    for normal, depth, width in (
        *sides,
        (-sides[0][0], *sides[0][1:]),
        (-sides[1][0], *sides[1][1:]),
    ):
        facing = math.degrees(math.atan2(normal[0], normal[1])) % 360.0
        if skip_facing is not None and abs(facing - skip_facing) < 1.0:
            continue
        right = np.array([-normal[1], normal[0]])
        n_w = math.ceil(width / step_w) + 1
        n_h = math.ceil(f.height_m / step_h) + 1
        for i in range(n_w):
            for j in range(n_h):
                xy = centre + normal * (depth + d) + right * (-width / 2 + width * i / (n_w - 1))
                z = f.height_m * j / (n_h - 1)
                photos.append(
                    Waypoint(
                        float(xy[0]), float(xy[1]), max(z, 0.5), (facing + 180.0) % 360.0, 0.0, 4.0
                    )
                )
    for i in np.linspace(-0.5, 0.5, math.ceil(f.width_m / step_h) + 1):
        for j in np.linspace(-0.5, 0.5, math.ceil(f.length_m / step_w) + 1):
            xy = centre + across * f.width_m * i + along * f.length_m * j
            photos.append(
                Waypoint(float(xy[0]), float(xy[1]), f.height_m + d, f.yaw_deg + 90.0, -90.0, 4.0)
            )
    return photos


def test_box_faces() -> None:
    building = Facility(
        "B-1", "Office", "building", (0.0, 0.0, 0.0), 8.0, length_m=30.0, width_m=12.0, yaw_deg=30.0
    )
    fc = compute_coverage(make_site(building), make_plan(facade_photos(building))).facilities[0]
    names = [row["face"] for row in fc.faces]
    assert names == ["side_NE", "side_SE", "side_SW", "side_NW", "top"]
    for row in fc.faces:
        assert row["coverage_pct"] >= 98.0, row
    assert fc.area_m2 == pytest.approx(2 * (30 + 12) * 8 + 30 * 12)
    # Without the photos of the side facing 120 deg, that side is one blind spot.
    partial = facade_photos(building, skip_facing=120.0)
    fc = compute_coverage(make_site(building), make_plan(partial)).facilities[0]
    spots = [s for s in fc.blind_spots if s["area_m2"] > 1.0]
    assert len(spots) == 1
    spot = spots[0]
    assert spot["face"] == "side_SE" and spot["facing_deg"] == 120.0
    assert spot["area_m2"] == pytest.approx(30.0 * 8.0, rel=0.05)
    assert spot["along_m"] == [0.0, 30.0] and spot["height_m"] == [0.0, 8.0]
    assert spot["reason"] == "not in any photo"


def test_sphere_bottom_is_a_blind_spot() -> None:
    """Photos along latitudes -30..90 deg at the standoff from the surface, aimed at the
    centre (equator at 10 m, radius 8 m): lower photos would be under ground, so the bottom cap
    stays blind."""
    sphere = Facility("S-1", "LPG sphere", "sphere", (0.0, 0.0, 0.0), 18.0, diameter_m=16.0)
    reach = 8.0 + standoff_m()
    photos = []
    for latitude in range(-30, 91, 15):
        ring = reach * math.cos(math.radians(latitude))
        count = max(1, math.ceil(2 * math.pi * 8.0 * math.cos(math.radians(latitude)) / 3.0))
        for k in range(count):
            b = 360.0 * k / count
            x, y = ring * math.sin(math.radians(b)), ring * math.cos(math.radians(b))
            z = 10.0 + reach * math.sin(math.radians(latitude))
            photos.append(Waypoint(x, y, z, (b + 180.0) % 360.0, -float(latitude), 4.0))
    fc = compute_coverage(make_site(sphere), make_plan(photos)).facilities[0]
    assert fc.area_m2 == pytest.approx(4 * math.pi * 64)
    assert 80.0 < fc.coverage_pct < 95.0
    assert len(fc.blind_spots) == 1
    spot = fc.blind_spots[0]
    assert spot["face"] == "sphere" and spot["bearing_deg"] == [0.0, 360.0]
    assert spot["height_m"][0] == pytest.approx(2.0)  # the bottom of the sphere
    assert 3.5 < spot["height_m"][1] < 6.0  # up to ~45 deg below the equator


# -- against a brute-force reference --------------------------------------------------------------


def test_matches_brute_force_per_photo_projection() -> None:
    """Each sample seen iff some photo frames it (PinholeCamera.project) at <= GSD, within the
    incidence limit and not occluded (geometry.is_occluded): the culled, batched computation
    must give the same answer."""
    rng = np.random.default_rng(7)
    facilities = (
        tank("T-1", 0.0, 0.0, 12.0, 10.0),
        tank("T-2", 11.0, 3.0, 5.0, 14.0),
        Facility("S-1", "Sphere", "sphere", (-4.0, 14.0, 0.0), 12.0, diameter_m=8.0),
        Facility(
            "B-1",
            "Shed",
            "building",
            (-12.0, -3.0, 0.0),
            5.0,
            length_m=9.0,
            width_m=4.0,
            yaw_deg=20.0,
        ),
    )
    photos: list[Waypoint] = []
    while len(photos) < 150:
        x, y, z = rng.uniform(-25, 25), rng.uniform(-20, 30), rng.uniform(1.0, 22.0)
        if any(math.hypot(x - f.center_m[0], y - f.center_m[1]) < 8.0 for f in facilities):
            continue  # outside every structure
        aim = facilities[int(rng.integers(len(facilities)))].center_m
        heading = math.degrees(math.atan2(aim[0] - x, aim[1] - y)) + rng.normal(0.0, 25.0)
        pitch = float(
            np.clip(
                math.degrees(math.atan2(6.0 - z, math.hypot(aim[0] - x, aim[1] - y)))
                + rng.normal(0.0, 20.0),
                -90.0,
                30.0,
            )
        )
        photos.append(Waypoint(x, y, z, heading % 360.0, pitch, 4.0))
    site, plan = make_site(*facilities), make_plan(photos, gsd_mm=3.0)
    report = compute_coverage(site, plan, 0.6)
    primitives: list[Primitive] = [
        Cylinder((0, 0, 0), (0, 0, 10), 6.0),
        Cylinder((11, 3, 0), (11, 3, 14), 2.5),
        Sphere((-4, 14, 8), 4.0),
        Box((-12, -3, 2.5), (4.0, 9.0, 5.0), 20.0),
    ]
    hfov = 2 * math.degrees(math.atan(CAMERA.sensor_width_mm / 2 / CAMERA.focal_length_mm))
    vfov = 2 * math.degrees(math.atan(CAMERA.sensor_height_mm / 2 / CAMERA.focal_length_mm))
    depth_limit = 1.05 * 3.0 * CAMERA.focal_length_mm / (CAMERA.sensor_width_mm / 5472) / 1e3
    cos_limit = math.cos(math.radians(60.0))
    cameras = [
        PinholeCamera(
            5472, 3648, hfov, vfov, (w.x_m, w.y_m, w.z_m), w.heading_deg, w.gimbal_pitch_deg
        )
        for w in photos
    ]
    disagree = total = 0
    for index, (f, fc) in enumerate(zip(facilities, report.facilities, strict=True)):
        assert isinstance(fc, DetailedFacilityCoverage)
        faces, _ = _facility_faces(index, f, 0.6)
        for face, face_map in zip(faces, fc.face_maps, strict=True):
            valid = face.valid
            points, normals = face.points_m[valid], face.normals[valid]
            seen = np.zeros(points.shape[0], dtype=bool)
            for camera in cameras:
                u, v, depth = camera.project(points)
                to_camera = np.asarray(camera.position_m) - points
                cos_inc = np.einsum("ij,ij->i", to_camera, normals) / np.linalg.norm(
                    to_camera, axis=1
                )
                ok = (depth > 0) & (np.abs(u - 2735.5) <= 2736) & (np.abs(v - 1823.5) <= 1824)
                ok &= (depth <= depth_limit) & (cos_inc >= cos_limit) & ~seen
                if ok.any():
                    rows = np.flatnonzero(ok)
                    blocked = is_occluded(
                        camera.position_m, points[rows] + 0.05 * normals[rows], primitives, 0.01
                    )
                    seen[rows[~blocked]] = True
            fast = face_map.reason_code[valid] == SEEN
            disagree += int(np.sum(fast != seen))
            total += seen.size
            assert np.all(face_map.reason_code[~valid] == OUTSIDE_FACE)
    assert total > 2000
    assert disagree <= 0.002 * total, (disagree, total, report.coverage_pct)
    assert 20.0 < report.coverage_pct < 90.0
    codes = np.concatenate(
        [m.reason_code.ravel() for fc in report.facilities for m in fc.face_maps]
    )
    assert (
        np.sum(codes == OCCLUDED) > 10
    )  # occlusion is exercised  # the scene exercises both outcomes


# -- outputs ----------------------------------------------------------------------------------


def test_json_shape() -> None:
    neighbour = tank("T-2", 13.0, 0.0, 4.0, 15.0)
    report = compute_coverage(make_site(T1, neighbour), make_plan(orbit(T1)))
    data = coverage_to_json(report)
    text = json.dumps(data, ensure_ascii=False)  # plain JSON types only
    assert json.loads(text) == data
    assert set(data) >= {"site", "totals", "facilities", "conventional_inspection", "settings"}
    assert set(data["totals"]) >= {"coverage_pct", "total_area_m2", "seen_area_m2", "photo_count"}
    # totals are numbers only: no facility-like row at the top level
    assert all(isinstance(v, int | float) for v in data["totals"].values())
    assert data["totals"]["photo_count"] == len(orbit(T1))
    assert [row["facility_id"] for row in data["facilities"]] == ["T-1", "T-2"]
    for row in data["facilities"]:
        assert set(row) >= {
            "facility_id",
            "facility_type",
            "coverage_pct",
            "blind_spots",
            "area_m2",
            "seen_area_m2",
            "name",
            "faces",
        }
        for spot in row["blind_spots"]:
            assert set(spot) >= {"face", "bearing_deg", "height_m", "area_m2", "reason"}
            assert len(spot["bearing_deg"]) == 2 and len(spot["height_m"]) == 2
    assert data["facilities"][0]["facility_type"] == "fixed_roof_tank"
    assert data["totals"]["coverage_pct"] == pytest.approx(report.coverage_pct, abs=0.01)
    items = data["conventional_inspection"]
    assert items and all(item["area_m2"] >= 0.5 for item in items)
    assert all(item["citation"] == "MHLW-2022 §5.5" for item in items)
    assert {"facility_id", "name", "face", "action", "action_ja"} <= set(items[0])
    assert any("T-2による遮蔽" in item["action_ja"] for item in items)


def test_render_coverage_map(tmp_path: Path) -> None:
    neighbour = tank("T-2", 13.0, 0.0, 4.0, 15.0)
    zone = Zone("Z-1", "zone2", ((-20.0, -20.0), (20.0, -20.0), (20.0, 20.0), (-20.0, 20.0)))
    site = make_site(T1, neighbour, zones=(zone,))
    plan = make_plan(orbit(T1) + roof_rings(T1))
    report = compute_coverage(site, plan)
    out = render_coverage_map(site, plan, report, tmp_path / "coverage.png")
    assert out == tmp_path / "coverage.png"
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] >= 800 and image.shape[1] >= 1200
    packed = image.astype(np.int32) @ np.array([1, 256, 65536], dtype=np.int32)
    assert np.unique(packed).size > 20  # not blank
    assert np.any(np.all(image == (70, 170, 50), axis=2))  # a footprint at >= 98 % (green)
    assert [p.name for p in tmp_path.iterdir()] == ["coverage.png"]  # no temp file left
    with pytest.raises(InputError, match="path"):
        render_coverage_map(site, plan, report, tmp_path / "missing" / "coverage.png")
    # A plain CoverageReport (no face maps) still renders the top view.
    plain = CoverageReport(report.facilities, report.total_area_m2, report.seen_area_m2, ())
    render_coverage_map(site, plan, plain, tmp_path / "plain.png")
    assert cv2.imread(str(tmp_path / "plain.png")) is not None


# -- bad input and edge cases ---------------------------------------------------------------------


def test_invalid_input() -> None:
    site, plan = make_site(T1), make_plan(orbit(T1))
    for spacing in (0.0, -1.0, math.nan):
        with pytest.raises(InputError, match="sample_spacing_m"):
            compute_coverage(site, plan, spacing)
    no_diameter = Facility("T-9", "Tank", "fixed_roof_tank", (0.0, 0.0, 0.0), 10.0)
    with pytest.raises(InputError, match=r"facility T-9\.diameter_m"):
        compute_coverage(make_site(no_diameter), plan)
    upside = [Waypoint(30.0, 0.0, 5.0, 270.0, 120.0, 4.0)]
    with pytest.raises(InputError, match=r"plan\.photos\[0\]"):
        compute_coverage(site, make_plan(upside))
    with pytest.raises(InputError, match=r"options\.gsd_mm"):
        compute_coverage(site, make_plan(orbit(T1), gsd_mm=0.0))
    with pytest.raises(InputError, match=r"options\.facility_ids: unknown facility id\(s\) T-7"):
        compute_coverage(site, make_plan(orbit(T1), facility_ids=("T-1", "T-7")))
    silo = Facility("X-1", "Silo", "silo", (0.0, 0.0, 0.0), 10.0, diameter_m=5.0)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"facility X-1\.type: must be one of fixed_roof_tank"):
        compute_coverage(make_site(silo), plan)


def test_no_photos_means_nothing_seen() -> None:
    transit = [Waypoint(0.0, -40.0, 30.0, 0.0, 0.0, 8.0, action="none", kind="transit")]
    report = compute_coverage(make_site(T1), make_plan(transit))
    assert report.coverage_pct == 0.0 and report.photo_count == 0
    faces = {item["face"] for item in report.conventional_inspection}
    assert faces == {"shell", "roof"}
    assert all(item["reason"] == "not in any photo" for item in report.conventional_inspection)


def test_twenty_tanks_are_fast() -> None:
    rng = np.random.default_rng(3)
    tanks, photos = [], []
    for k in range(20):
        f = tank(
            f"T-{k + 1}",
            60.0 * (k % 5),
            60.0 * (k // 5),
            float(rng.uniform(12, 36)),
            float(rng.uniform(10, 20)),
        )
        tanks.append(f)
        photos += orbit(f) + roof_rings(f)
    site, plan = make_site(*tanks), make_plan(photos)
    report = compute_coverage(site, plan)  # its time is benched in bench/drone_planner.py
    for fc in report.facilities:
        assert face_row(fc, "shell")["coverage_pct"] >= 98.0, fc.facility_id


def test_blind_regions_are_labelled_like_ndimage_with_the_seam_joined() -> None:
    from scipy import ndimage

    from plantwatch.drone.coverage import _label_regions

    empty, count = _label_regions(np.zeros((4, 6), dtype=bool), True)  # no ndimage import
    assert count == 0 and empty.dtype == np.int64 and empty.shape == (4, 6) and not empty.any()
    unseen = np.random.default_rng(3).random((12, 20)) < 0.4
    labels, count = _label_regions(unseen, False)
    expected, expected_count = ndimage.label(unseen)
    assert count == expected_count and np.array_equal(labels, expected)
    seam = np.zeros((3, 8), dtype=bool)
    seam[1, 0] = seam[1, -1] = True  # one region across the 0/360 deg seam of a cylinder
    assert _label_regions(seam, True)[1] == 1 and _label_regions(seam, False)[1] == 2
