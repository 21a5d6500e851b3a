"""Photo ingestion (issue 7): EXIF/XMP read-back from real JPEGs written with piexif, GSD against
camera.py's formula, sensor size from the 35 mm equivalent, facility and planned-shot matching,
shots not taken and blind spots recomputed from the photos as taken, and the CLI."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from plantwatch.drone.camera import custom_camera, get_camera, gsd_mm
from plantwatch.drone.cli_photos import register
from plantwatch.drone.coverage import compute_coverage
from plantwatch.drone.mission import MissionResult, write_mission
from plantwatch.drone.model import PlanOptions, Site
from plantwatch.drone.photo_exif import (
    FULL_FRAME_DIAGONAL_MM,
    PhotoMeta,
    parse_dji_xmp,
    photo_camera,
    read_photo,
    sensor_from_35mm,
)
from plantwatch.drone.photo_synth import (
    SynthShot,
    dji_xmp_packet,
    write_plan_photos,
    write_synthetic_photo,
)
from plantwatch.drone.photos import (
    GROUND,
    SKY,
    load_plan_folder,
    photo_pose,
    survey_photos,
    survey_to_json,
)
from plantwatch.drone.planner import plan_inspection
from plantwatch.drone.site import load_site
from plantwatch.errors import InputError

from .conftest import ORIGIN, write_two_tank_site

pytest.importorskip("piexif")

JST = timezone(timedelta(hours=9))
P4RTK = get_camera("dji-phantom4-rtk")
# A small camera that is not a preset (800 x 600 px keeps photos small): 7.2 x 5.4 mm sensor
# (9.0 mm diagonal) and a 5 mm lens, so FocalLengthIn35mmFilm = 24.04 -> 24 (0.2 % off).
TESTCAM = custom_camera("TestCam", 7.2, 5.4, 800, 600, 5.0)
REQUIRED_KEYS = {
    "file",
    "lat",
    "lon",
    "alt_rel_m",
    "gimbal_pitch_deg",
    "gimbal_yaw_deg",
    "time",
    "camera",
    "gsd_cm",
}


def write_site(folder: Path) -> Path:
    """Two fixed-roof tanks inside a site boundary (conftest.write_two_tank_site)."""
    return write_two_tank_site(folder, "photo test site")


def write_plan(folder: Path, site_path: Path) -> Path:
    """Plan the two tanks with TESTCAM at 12 mm/px (standoff 6.7 m) into folder/plan."""
    site = load_site(site_path)
    plan = plan_inspection(site, TESTCAM, PlanOptions(gsd_mm=12.0))
    coverage = compute_coverage(site, plan)
    write_mission(MissionResult(site, plan, coverage, (), site_path), folder / "plan")
    return folder / "plan"


@pytest.fixture(scope="module")
def site_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def site(site_path: Path) -> Site:
    return load_site(site_path)


@pytest.fixture(scope="module")
def plan_dir(site_path: Path) -> Path:
    return write_plan(site_path.parent, site_path)


SKIPPED = {2, 3, 4, 5, 6}


@pytest.fixture(scope="module")
def flown(plan_dir: Path) -> Path:
    """The plan's photos with shots 2-6 missing (ground-only pictures: fast)."""
    out = plan_dir.parent / "flown"
    write_plan_photos(
        plan_dir,
        out,
        skip=SKIPPED,
        camera=TESTCAM,
        make="ACME",
        model="TestCam 1",
        render_site=False,
    )
    return out


def _runner_app() -> typer.Typer:
    app = typer.Typer()
    drone = typer.Typer()
    app.add_typer(drone, name="drone")
    register(drone)
    return app


def _nadir_shot(lat: float, lon: float, **overrides: Any) -> SynthShot:
    values: dict[str, Any] = {
        "lat_deg": lat,
        "lon_deg": lon,
        "alt_rel_m": 40.0,
        "gimbal_pitch_deg": -90.0,
        "gimbal_yaw_deg": -30.0,
        "time": datetime(2031, 5, 12, 9, 0, 5, 250_000, tzinfo=JST),
        "gimbal_roll_deg": 0.5,
        "flight_yaw_deg": -28.0,
        "takeoff_alt_m": 3.5,
    }
    values.update(overrides)
    return SynthShot(**values)


# -- metadata read-back ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "form"),
    [
        (35.5001234, 139.7801234, "attribute"),
        (-33.8567891, -70.6123456, "element"),  # south and west: the reference letters count
    ],
)
def test_read_photo_returns_what_was_written(
    tmp_path: Path, lat: float, lon: float, form: str
) -> None:
    shot = _nadir_shot(lat, lon)
    path = write_synthetic_photo(
        tmp_path / "a.jpg", shot, "dji-phantom4-rtk", scale=0.125, xmp_form=form
    )
    meta = read_photo(path)
    assert meta.lat_deg == pytest.approx(lat, abs=1e-6)
    assert meta.lon_deg == pytest.approx(lon, abs=1e-6)
    assert (meta.lat_deg < 0, meta.lon_deg < 0) == (lat < 0, lon < 0)
    assert meta.alt_rel_m == pytest.approx(40.0, abs=0.005)
    assert meta.alt_abs_m == pytest.approx(43.5, abs=0.005)
    assert meta.gps_alt_m == pytest.approx(43.5, abs=0.001)
    assert meta.gimbal_pitch_deg == pytest.approx(-90.0, abs=0.005)
    assert meta.gimbal_yaw_deg == pytest.approx(-30.0, abs=0.005)
    assert meta.gimbal_roll_deg == pytest.approx(0.5, abs=0.005)
    assert meta.flight_yaw_deg == pytest.approx(-28.0, abs=0.005)
    assert meta.time == datetime(2031, 5, 12, 9, 0, 5, 250_000, tzinfo=JST)
    assert meta.time is not None and meta.time.utcoffset() == timedelta(hours=9)
    assert (meta.make, meta.model) == ("DJI", "FC6310R")
    assert meta.focal_length_mm == pytest.approx(8.8)
    assert meta.focal_length_35mm == 24
    assert (meta.image_width_px, meta.image_height_px) == (684, 456)


def test_xmp_attribute_and_element_forms_read_the_same() -> None:
    fields = {"RelativeAltitude": 12.3, "GimbalPitchDegree": -45.6, "GimbalYawDegree": 178.9}
    attribute = parse_dji_xmp(dji_xmp_packet(fields, "attribute"))
    element = parse_dji_xmp(dji_xmp_packet(fields, "element"))
    assert (
        attribute
        == element
        == {
            "RelativeAltitude": "+12.30",
            "GimbalPitchDegree": "-45.60",
            "GimbalYawDegree": "+178.90",
        }
    )


def test_xmp_is_parsed_safely(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    packet = (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/">'
        "<drone-dji:RelativeAltitude>&e;</drone-dji:RelativeAltitude>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    fields = parse_dji_xmp(packet)
    assert "TOP-SECRET" not in json.dumps(fields)
    with pytest.raises(InputError, match="malformed XMP"):
        parse_dji_xmp(b"<x:xmpmeta><unclosed>")


def test_jpeg_without_exif_is_a_clear_error(tmp_path: Path) -> None:
    plain = tmp_path / "exported.jpg"
    ok, data = cv2.imencode(".jpg", np.full((40, 60, 3), 128, np.uint8))
    assert ok
    plain.write_bytes(data.tobytes())
    with pytest.raises(InputError, match="no EXIF") as info:
        read_photo(plain)
    assert str(plain) in str(info.value)

    no_gps = write_synthetic_photo(
        tmp_path / "nogps.jpg", _nadir_shot(*ORIGIN), P4RTK, scale=0.05, gps=False
    )
    with pytest.raises(InputError, match="no GPS position") as info:
        read_photo(no_gps)
    assert "nogps.jpg" in str(info.value)

    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    with pytest.raises(InputError, match="not a JPEG"):
        read_photo(text)


# -- camera and GSD ----------------------------------------------------------------------------


def test_sensor_from_35mm_equivalent() -> None:
    width, height = sensor_from_35mm(8.8, 24.0, 5472, 3648)  # Phantom 4 RTK: 13.2 x 8.8 mm
    assert width == pytest.approx(13.2, rel=0.005)
    assert height == pytest.approx(8.8, rel=0.005)
    with pytest.raises(InputError, match="FocalLengthIn35mmFilm"):
        sensor_from_35mm(8.8, 0.0, 5472, 3648)


def test_unknown_camera_gets_its_sensor_from_the_35mm_equivalent(tmp_path: Path) -> None:
    camera = custom_camera("SkyCam", 6.4, 4.8, 800, 600, 5.0)
    path = write_synthetic_photo(
        tmp_path / "sky.jpg",
        _nadir_shot(*ORIGIN, alt_rel_m=20.0),
        camera,
        make="ACME",
        model="SkyCam 1",
        focal_length_35mm=28,
    )
    meta = read_photo(path)
    found = photo_camera(meta)
    diagonal = FULL_FRAME_DIAGONAL_MM * 5.0 / 28.0
    assert found.preset is None and found.source == "35mm-equivalent"
    assert found.camera.sensor_width_mm == pytest.approx(diagonal * 0.8, rel=1e-9)
    assert found.camera.sensor_height_mm == pytest.approx(diagonal * 0.6, rel=1e-9)
    record = survey_photos([path]).photos[0]
    assert record.gsd_cm == pytest.approx(gsd_mm(found.camera, 20.0) / 10.0, rel=0.01)

    bare = write_synthetic_photo(
        tmp_path / "bare.jpg",
        _nadir_shot(*ORIGIN),
        camera,
        make="ACME",
        model="SkyCam 1",
        focal_length_35mm=None,
    )
    with pytest.raises(InputError, match="FocalLengthIn35mmFilm"):
        photo_camera(read_photo(bare))


@pytest.mark.parametrize(
    ("model", "focal_mm", "preset", "focal_used"),
    [
        ("FC6310R", 8.8, "dji-phantom4-rtk", 8.8),
        ("ZH20T", 4.5, "dji-zenmuse-h20-wide", 4.5),
        ("ZH20T", 30.0, "dji-zenmuse-h20-zoom", 30.0),  # zoomed in: the EXIF focal length
        ("ZenmuseP1", 35.0, "dji-zenmuse-p1-35mm", 35.0),
        ("M3E", 12.29, "dji-mavic3e-wide", 12.29),
    ],
)
def test_exif_model_codes_find_presets(
    model: str, focal_mm: float, preset: str, focal_used: float
) -> None:
    cam = get_camera(preset)
    meta = PhotoMeta(
        Path(f"{model}.jpg"),
        35.0,
        139.0,
        cam.image_width_px,
        cam.image_height_px,
        make="DJI",
        model=model,
        focal_length_mm=focal_mm,
    )
    found = photo_camera(meta)
    assert found.preset == preset and found.source == "preset"
    assert found.camera.sensor_width_mm == pytest.approx(cam.sensor_width_mm)
    assert found.camera.focal_length_mm == pytest.approx(focal_used)


def test_four_thirds_crop_of_a_3_2_camera_keeps_the_pixel_pitch() -> None:
    meta = PhotoMeta(Path("p.jpg"), 35.0, 139.0, 4864, 3648, make="DJI", model="FC6310R")
    camera = photo_camera(meta).camera
    assert camera.sensor_height_mm == pytest.approx(8.8)
    assert camera.sensor_width_mm / 4864 == pytest.approx(13.2 / 5472)


def test_nadir_gsd_and_footprint_follow_camera_py(tmp_path: Path) -> None:
    path = write_synthetic_photo(
        tmp_path / "nadir.jpg", _nadir_shot(*ORIGIN, gimbal_roll_deg=0.0), P4RTK, scale=0.125
    )
    record = survey_photos([path]).photos[0]
    expected = custom_camera("p4rtk", 13.2, 8.8, 684, 456, 8.8)
    assert record.gsd_at == GROUND
    assert record.gsd_cm == pytest.approx(gsd_mm(expected, 40.0) / 10.0, rel=0.01)
    corners = [np.array(c.point_m) for c in record.corners]
    assert all(c.what == GROUND for c in record.corners)
    # footprint 13.2 / 8.8 x 40 m = 60 m wide, 8.8 / 8.8 x 40 m = 40 m tall
    assert np.linalg.norm(corners[1] - corners[0]) == pytest.approx(60.0, rel=1e-3)
    assert np.linalg.norm(corners[3] - corners[0]) == pytest.approx(40.0, rel=1e-3)
    # the top edge of the picture points along the yaw (-30 deg = 330 deg)
    top_mid = (corners[0] + corners[1]) / 2
    assert math.degrees(math.atan2(top_mid[0], top_mid[1])) % 360 == pytest.approx(330.0, abs=0.1)


def test_oblique_photo_takes_the_gsd_at_the_tank_it_sees(tmp_path: Path, site: Site) -> None:
    # 7 m south of T-1's shell (radius 5 m), 4 m up, looking north, level
    lat, lon, _ = site.to_wgs84(np.array([[0.0, -12.0, 0.0]]))[0]
    shot = _nadir_shot(
        float(lat), float(lon), alt_rel_m=4.0, gimbal_pitch_deg=0.0, gimbal_yaw_deg=0.0
    )
    path = write_synthetic_photo(tmp_path / "t1.jpg", shot, P4RTK, site=site, scale=0.125)
    record = survey_photos([path], site=site).photos[0]
    assert record.facility_id == "T-1" and record.facility_match == "optical axis"
    assert record.gsd_at == "facility"
    assert record.axis is not None and record.axis.distance_m == pytest.approx(7.0, abs=0.01)
    expected = custom_camera("p4rtk", 13.2, 8.8, 684, 456, 8.8)
    assert record.gsd_cm == pytest.approx(gsd_mm(expected, 7.0) / 10.0, rel=0.01)
    # the rendered picture shows the tank: the centre is the bright shell, not the sky
    picture = cv2.imread(str(path))
    assert picture.shape == (456, 684, 3)
    centre = picture[200:256, 300:384].mean(axis=(0, 1))
    assert abs(float(centre[0]) - float(centre[2])) < 25  # grey shell, the sky is blue

    away = _nadir_shot(
        float(lat), float(lon), alt_rel_m=4.0, gimbal_pitch_deg=10.0, gimbal_yaw_deg=180.0
    )
    path = write_synthetic_photo(tmp_path / "sky.jpg", away, P4RTK, site=site, scale=0.05)
    record = survey_photos([path], site=site).photos[0]
    assert record.gsd_cm is None and record.axis is not None and record.axis.what == SKY
    assert "above the horizon" in record.footprint_note
    assert record.facility_id is None


# -- plans -------------------------------------------------------------------------------------


def test_photos_match_their_planned_shots_and_gaps_are_listed(flown: Path, plan_dir: Path) -> None:
    survey = survey_photos([flown], plan_dir=plan_dir)
    plan = load_plan_folder(plan_dir)
    assert not survey.errors
    assert len(survey.photos) == len(plan.shots) - len(SKIPPED)
    for record in survey.photos:
        assert record.planned is not None and not record.planned.retake
        assert record.planned.shot.shot == int(record.meta.path.stem.removeprefix("DJI_"))
        assert record.facility_id == record.planned.shot.facility_id
    assert {s.shot for s in survey.not_taken} == SKIPPED
    # blind spots recomputed from the photos as taken: the gap shows, the plan had none
    data = survey_to_json(survey)
    planned = data["coverage"]["planned_totals"]
    actual = data["coverage"]["from_photos"]["totals"]
    assert planned["coverage_pct"] == pytest.approx(100.0)
    assert actual["coverage_pct"] < planned["coverage_pct"] - 1.0
    spots = data["coverage"]["from_photos"]["conventional_inspection"]
    assert spots and {s["facility_id"] for s in spots} == {"T-1"}
    assert data["plan"]["not_taken_by_facility"] == {"T-1": len(SKIPPED)}


def test_shot_tolerances_and_retakes(tmp_path: Path, plan_dir: Path, site: Site) -> None:
    plan = load_plan_folder(plan_dir)
    shot = plan.shots[0]  # a level orbit shot of T-1

    def write(name: str, dx: float = 0.0, dz: float = 0.0, dyaw: float = 0.0) -> None:
        lat, lon, _ = site.to_wgs84(np.array([[shot.x_m + dx, shot.y_m, shot.z_m]]))[0]
        synth = SynthShot(
            float(lat),
            float(lon),
            shot.z_m + dz,
            shot.gimbal_pitch_deg,
            shot.heading_deg + dyaw,
            datetime(2031, 5, 12, 9, 0, tzinfo=JST),
        )
        write_synthetic_photo(tmp_path / name, synth, TESTCAM, make="ACME", model="T", scale=0.1)

    write("a_on.jpg")
    write("b_retake.jpg", dx=1.0)
    write("c_far.jpg", dx=3.5)
    write("d_low.jpg", dz=-2.5)
    write("e_turned.jpg", dyaw=20.0)
    survey = survey_photos([tmp_path], plan_dir=plan_dir, coverage=False)
    matched = {r.meta.path.name: r.planned for r in survey.photos}
    first, retake = matched["a_on.jpg"], matched["b_retake.jpg"]
    assert first is not None and first.shot.shot == 1 and not first.retake
    assert retake is not None and retake.shot.shot == 1 and retake.retake
    assert retake.horizontal_m == pytest.approx(1.0, abs=0.01)
    assert matched["c_far.jpg"] is None
    assert matched["d_low.jpg"] is None
    assert matched["e_turned.jpg"] is None
    assert len(survey.not_taken) == len(plan.shots) - 1


# -- CLI ---------------------------------------------------------------------------------------


def test_cli_json_lists_every_photo_and_errors(tmp_path: Path, site_path: Path) -> None:
    folder = tmp_path / "photos"
    for k in range(2):
        write_synthetic_photo(
            folder / f"DJI_{k:04d}.JPG", _nadir_shot(*ORIGIN, alt_rel_m=30.0 + k), P4RTK, scale=0.05
        )
    ok, data = cv2.imencode(".jpg", np.zeros((10, 10, 3), np.uint8))
    assert ok
    (folder / "sub").mkdir()
    (folder / "sub" / "export.jpeg").write_bytes(data.tobytes())
    (folder / "readme.txt").write_text("not a photo")
    result = CliRunner().invoke(
        _runner_app(), ["drone", "photos", str(folder), "--site", str(site_path), "--json"]
    )
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3
    good = [r for r in rows if "error" not in r]
    bad = [r for r in rows if "error" in r]
    assert len(good) == 2 and len(bad) == 1
    assert bad[0]["file"].endswith("export.jpeg") and "no EXIF" in bad[0]["error"]
    for row in good:
        assert REQUIRED_KEYS | {"facility"} <= set(row)
        assert row["camera"] == "DJI FC6310R"
        assert row["time"] == "2031-05-12T09:00:05.250000+09:00"
        assert row["gsd_cm"] > 0
    assert sorted(r["alt_rel_m"] for r in good) == [30.0, 31.0]

    only_good = CliRunner().invoke(
        _runner_app(), ["drone", "photos", str(folder / "DJI_0000.JPG"), "--json"]
    )
    assert only_good.exit_code == 0, only_good.output
    row = json.loads(only_good.stdout)[0]
    assert REQUIRED_KEYS <= set(row) and "facility" not in row

    missing = CliRunner().invoke(_runner_app(), ["drone", "photos", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert "error:" in missing.output and "no such file" in missing.output


def test_cli_table_with_plan_and_survey_file(flown: Path, plan_dir: Path, tmp_path: Path) -> None:
    survey_file = tmp_path / "survey.json"
    result = CliRunner().invoke(
        _runner_app(),
        ["drone", "photos", str(flown), "--plan", str(plan_dir), "--survey", str(survey_file)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert f"not taken: {len(SKIPPED)} (T-1 {len(SKIPPED)})" in result.output
    assert "coverage from the photos as taken" in result.output
    data = json.loads(survey_file.read_text())
    assert data["plan"]["not_taken_count"] == len(SKIPPED)
    assert [s["shot"] for s in data["plan"]["not_taken"]] == sorted(SKIPPED)


def test_footprint_match_and_photos_without_xmp(tmp_path: Path, site: Site) -> None:
    # nadir 20 m above the ground 3 m east of T-1's wall: the axis lands on the ground, the
    # 30 m x 20 m footprint takes in T-1 (x -5..5) but not T-2 (x 26..34)
    lat, lon, _ = site.to_wgs84(np.array([[8.0, 0.0, 0.0]]))[0]
    shot = _nadir_shot(float(lat), float(lon), alt_rel_m=20.0, gimbal_yaw_deg=0.0)
    path = write_synthetic_photo(tmp_path / "edge.jpg", shot, P4RTK, site=site, scale=0.05)
    record = survey_photos([path], site=site).photos[0]
    assert record.axis is not None and record.axis.what == GROUND
    assert (record.facility_id, record.facility_match) == ("T-1", "footprint")

    plain = write_synthetic_photo(tmp_path / "plain.jpg", shot, P4RTK, scale=0.05, xmp_form=None)
    record = survey_photos([plain], site=site).photos[0]
    assert record.pose is None and record.gsd_cm is None
    assert record.meta.gps_alt_m == pytest.approx(23.5, abs=0.001)  # take-off 3.5 m + 20 m
    assert any("GimbalPitchDegree" in note for note in record.notes)


def test_gimbal_pitch_past_straight_down_is_folded(site: Site) -> None:
    meta = PhotoMeta(
        Path("h20.jpg"), 35.5, 139.78, 4056, 3040, "DJI", "ZH20T",
        alt_rel_m=10.0, gimbal_pitch_deg=-120.0, gimbal_yaw_deg=10.0, gimbal_roll_deg=0.0,
        focal_length_mm=4.5,
    )  # fmt: skip
    pose, _ = photo_pose(meta, site, True)
    assert pose is not None
    assert (pose.pitch_deg, pose.yaw_deg, abs(pose.roll_deg)) == (-60.0, 190.0, 180.0)
