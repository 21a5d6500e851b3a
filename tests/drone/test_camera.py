"""Camera presets and pinhole geometry (plantwatch.drone.camera) against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plantwatch.drone.camera import (
    CAMERA_LABELS,
    CAMERA_NAMES,
    CAMERA_PRESETS,
    DEFAULT_CAMERA,
    custom_camera,
    footprint_m,
    fov_deg,
    get_camera,
    gsd_mm,
    photo_spacing_m,
    pixel_pitch_mm,
    standoff_for_gsd_m,
)
from plantwatch.drone.model import CameraModel
from plantwatch.errors import InputError

P4RTK = custom_camera("brief check", 13.2, 8.8, 5472, 3648, 8.8)


def test_gsd_mm_brief_check() -> None:
    # Issue 5: 13.2 mm sensor, 8.8 mm lens, 5472 px, 100 m -> 2.74 cm/px.
    gsd_cm = gsd_mm(P4RTK, 100.0) / 10.0
    assert_allclose(gsd_cm, 2.74, atol=0.005)
    assert_allclose(gsd_mm(P4RTK, 100.0), 13.2 / 5472 * 100_000 / 8.8, rtol=1e-12)
    assert gsd_mm(get_camera(DEFAULT_CAMERA), 100.0) == pytest.approx(27.41, abs=0.01)


def test_gsd_mm_is_linear_in_distance_and_vectorised() -> None:
    distances = np.array([1.0, 5.0, 10.0, 50.0])
    gsd = gsd_mm(P4RTK, distances)
    assert isinstance(gsd, np.ndarray) and gsd.shape == (4,)
    assert_allclose(gsd / distances, gsd_mm(P4RTK, 1.0), rtol=1e-12)
    assert isinstance(gsd_mm(P4RTK, 10.0), float)


@pytest.mark.parametrize("name", CAMERA_NAMES)
@pytest.mark.parametrize("target_gsd_mm", [0.5, 1.0, 2.0, 5.0])
def test_standoff_for_gsd_round_trip(name: str, target_gsd_mm: float) -> None:
    camera = get_camera(name)
    standoff = standoff_for_gsd_m(camera, target_gsd_mm)
    assert standoff > 0.0
    assert_allclose(gsd_mm(camera, standoff), target_gsd_mm, rtol=1e-12)


def test_standoff_uses_the_coarser_pixel_pitch() -> None:
    # Pixels 10 % taller than wide: the vertical pitch limits the standoff.
    camera = custom_camera("tall pixels", 10.0, 11.0, 1000, 1000, 10.0)
    pitch_x, pitch_y = pixel_pitch_mm(camera)
    assert pitch_y > pitch_x
    standoff = standoff_for_gsd_m(camera, 2.0)
    assert_allclose(standoff, 2.0 * 10.0 / pitch_y / 1000.0, rtol=1e-12)
    # At that standoff both axes resolve 2 mm or finer.
    assert pitch_x * standoff * 1000.0 / 10.0 <= 2.0 + 1e-12
    assert pitch_y * standoff * 1000.0 / 10.0 == pytest.approx(2.0)


def test_standoff_vectorised() -> None:
    targets = np.array([1.0, 2.0, 4.0])
    standoffs = standoff_for_gsd_m(P4RTK, targets)
    assert_allclose(standoffs, targets * 8.8 / (13.2 / 5472) / 1000.0, rtol=1e-12)


def test_footprint_closed_form() -> None:
    width, height = footprint_m(P4RTK, 10.0)
    assert_allclose((width, height), (13.2 * 10 / 8.8, 8.8 * 10 / 8.8), rtol=1e-12)
    widths, heights = footprint_m(P4RTK, np.array([10.0, 20.0]))
    assert_allclose(widths, [15.0, 30.0], rtol=1e-12)
    assert_allclose(heights, [10.0, 20.0], rtol=1e-12)


def test_footprint_follows_mhlw_table_5_3() -> None:
    # MHLW-2022 Table 5.3: farther -> wider; longer focal length -> narrower; larger sensor ->
    # wider.
    base = footprint_m(P4RTK, 10.0)[0]
    assert footprint_m(P4RTK, 20.0)[0] > base
    longer_lens = custom_camera("long", 13.2, 8.8, 5472, 3648, 17.6)
    assert footprint_m(longer_lens, 10.0)[0] < base
    larger_sensor = custom_camera("large", 35.9, 24.0, 8192, 5460, 8.8)
    assert footprint_m(larger_sensor, 10.0)[0] > base


def test_fov_closed_form() -> None:
    horizontal, vertical = fov_deg(P4RTK)
    assert_allclose(horizontal, math.degrees(2 * math.atan(13.2 / 17.6)), rtol=1e-12)
    assert_allclose(vertical, math.degrees(2 * math.atan(8.8 / 17.6)), rtol=1e-12)
    # Fig. 5.4: shorter focal length -> wider angle.
    assert fov_deg(custom_camera("short", 13.2, 8.8, 5472, 3648, 4.4))[0] > horizontal


@pytest.mark.parametrize(
    ("name", "maker_dfov_deg"),
    [
        ("dji-phantom4-rtk", 84.0),
        ("dji-phantom4-pro-v2", 84.0),
        ("dji-mavic3e-wide", 84.0),
        ("dji-zenmuse-h20-wide", 82.9),
        ("dji-matrice30-wide", 84.0),
    ],
)
def test_preset_diagonal_fov_matches_maker(name: str, maker_dfov_deg: float) -> None:
    # The presets' sensor and focal length must reproduce the maker's printed diagonal FOV.
    camera = get_camera(name)
    diagonal_mm = math.hypot(camera.sensor_width_mm, camera.sensor_height_mm)
    dfov = math.degrees(2 * math.atan(diagonal_mm / (2 * camera.focal_length_mm)))
    assert dfov == pytest.approx(maker_dfov_deg, abs=1.5)


def test_photo_spacing_closed_form() -> None:
    width, height = footprint_m(P4RTK, 8.0)
    assert_allclose(photo_spacing_m(P4RTK, 8.0, 0.7, "horizontal"), 0.3 * width, rtol=1e-12)
    assert_allclose(photo_spacing_m(P4RTK, 8.0, 0.7, "vertical"), 0.3 * height, rtol=1e-12)
    assert photo_spacing_m(P4RTK, 8.0, 0.0, "horizontal") == pytest.approx(width)
    spacings = photo_spacing_m(P4RTK, np.array([4.0, 8.0]), 0.5, "vertical")
    assert_allclose(spacings, [2.0, 4.0], rtol=1e-12)


@pytest.mark.parametrize("overlap", [-0.1, 1.0, 1.5, float("nan"), "0.7", True])
def test_photo_spacing_invalid_overlap(overlap: object) -> None:
    with pytest.raises(InputError, match="overlap"):
        photo_spacing_m(P4RTK, 8.0, overlap, "horizontal")  # type: ignore[arg-type]


def test_photo_spacing_invalid_axis() -> None:
    with pytest.raises(InputError, match="horizontal, vertical"):
        photo_spacing_m(P4RTK, 8.0, 0.7, "diagonal")  # type: ignore[arg-type]


@pytest.mark.parametrize("distance", [0.0, -5.0, float("nan"), float("inf"), "far", []])
def test_distance_invalid(distance: object) -> None:
    with pytest.raises(InputError, match="distance_m"):
        gsd_mm(P4RTK, distance)  # type: ignore[call-overload]
    with pytest.raises(InputError, match="distance_m"):
        footprint_m(P4RTK, distance)  # type: ignore[call-overload]


@pytest.mark.parametrize("target", [0.0, -1.0, float("nan"), np.array([1.0, -1.0])])
def test_standoff_invalid_gsd(target: object) -> None:
    with pytest.raises(InputError, match="gsd_mm"):
        standoff_for_gsd_m(P4RTK, target)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "name", ["DJI Phantom 4 RTK", "dji-phantom4-rtk", "DJI_PHANTOM4_RTK", "p4rtk", "Phantom4RTK"]
)
def test_get_camera_case_and_punctuation_insensitive(name: str) -> None:
    camera = get_camera(name)
    assert camera.name == "dji-phantom4-rtk"
    assert (camera.sensor_width_mm, camera.image_width_px, camera.focal_length_mm) == (
        13.2,
        5472,
        8.8,
    )


@pytest.mark.parametrize("name", ["", "phantom 5", "Zenmuse X9", None, 42])
def test_get_camera_unknown_lists_names(name: object) -> None:
    with pytest.raises(InputError) as info:
        get_camera(name)  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith("camera: unknown camera")
    for preset in CAMERA_NAMES:
        assert preset in message


def test_presets_are_real_cameras_with_sources() -> None:
    assert len(CAMERA_PRESETS) >= 8
    assert DEFAULT_CAMERA in CAMERA_PRESETS
    for name, camera in CAMERA_PRESETS.items():
        assert isinstance(camera, CameraModel)
        assert camera.name == name
        assert "https://" in camera.source, name
        assert CAMERA_LABELS[name]
        # Re-validating a preset through custom_camera must not fail.
        custom_camera(
            name,
            camera.sensor_width_mm,
            camera.sensor_height_mm,
            camera.image_width_px,
            camera.image_height_px,
            camera.focal_length_mm,
        )


def test_presets_are_read_only() -> None:
    with pytest.raises(TypeError):
        CAMERA_PRESETS["mine"] = P4RTK  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sensor_width_mm": 0.0}, "sensor_width_mm"),
        ({"sensor_height_mm": -8.8}, "sensor_height_mm"),
        ({"focal_length_mm": float("nan")}, "focal_length_mm"),
        ({"focal_length_mm": True}, "focal_length_mm"),
        ({"image_width_px": 5472.5}, "image_width_px"),
        ({"image_height_px": 0}, "image_height_px"),
        ({"image_width_px": "5472"}, "image_width_px"),
        # Image size swapped against the sensor: pixels 2.25 times wider than tall.
        ({"image_width_px": 3648, "image_height_px": 5472}, "sensor_width_mm"),
        ({"name": "  "}, "name"),
    ],
)
def test_custom_camera_invalid(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "name": "mine",
        "sensor_width_mm": 13.2,
        "sensor_height_mm": 8.8,
        "image_width_px": 5472,
        "image_height_px": 3648,
        "focal_length_mm": 8.8,
    }
    args.update(kwargs)
    with pytest.raises(InputError, match=f"^{field}: "):
        custom_camera(**args)  # type: ignore[arg-type]


def test_custom_camera_accepts_whole_float_pixels() -> None:
    camera = custom_camera("float px", 13.2, 8.8, 5472.0, 3648.0, 8.8)  # type: ignore[arg-type]
    assert camera.image_width_px == 5472 and isinstance(camera.image_width_px, int)


def test_hand_built_camera_is_checked() -> None:
    broken = CameraModel("broken", 13.2, 8.8, 5472, 3648, 0.0)
    with pytest.raises(InputError, match="focal_length_mm"):
        gsd_mm(broken, 10.0)
