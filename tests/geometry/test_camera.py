"""Tests for plantwatch.geometry.camera: closed-form intrinsics, attitude and projection."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from plantwatch.errors import InputError
from plantwatch.geometry import PinholeCamera


def tan_deg(deg: float) -> float:
    return math.tan(math.radians(deg))


def sin_deg(deg: float) -> float:
    return math.sin(math.radians(deg))


def cos_deg(deg: float) -> float:
    return math.cos(math.radians(deg))


ATTITUDES = [  # (yaw_deg, pitch_deg, roll_deg)
    (0.0, 0.0, 0.0),
    (90.0, 0.0, 0.0),
    (-135.0, 20.0, 0.0),
    (33.0, -45.0, 12.0),
    (200.0, 89.0, -170.0),
    (0.0, -90.0, 30.0),
]


@pytest.mark.parametrize(
    ("width_px", "hfov_deg", "expected_fx_px"),
    [
        (320, 24.0, 160.0 / tan_deg(12.0)),  # default: 752.74 px
        (640, 90.0, 320.0),
        (100, 60.0, 50.0 / tan_deg(30.0)),
        (1, 1e-3, 0.5 / tan_deg(5e-4)),
    ],
)
def test_fx_px(width_px: int, hfov_deg: float, expected_fx_px: float) -> None:
    camera = PinholeCamera(width_px=width_px, hfov_deg=hfov_deg)
    assert_allclose(camera.fx_px, expected_fx_px, rtol=1e-14)


def test_fx_px_default_value() -> None:
    assert_allclose(PinholeCamera().fx_px, 752.7408, atol=1e-4)
    assert_allclose(PinholeCamera().fy_px, 120.0 / tan_deg(9.0), rtol=1e-14)


@pytest.mark.parametrize(
    ("width_px", "height_px", "cx_px", "cy_px"),
    [(320, 240, 159.5, 119.5), (321, 241, 160.0, 120.0), (1, 1, 0.0, 0.0), (2, 3, 0.5, 1.0)],
)
def test_principal_point(width_px: int, height_px: int, cx_px: float, cy_px: float) -> None:
    camera = PinholeCamera(width_px=width_px, height_px=height_px)
    assert (camera.cx_px, camera.cy_px) == (cx_px, cy_px)
    k = camera.intrinsic_matrix
    assert_array_equal(k, [[camera.fx_px, 0, cx_px], [0, camera.fy_px, cy_px], [0, 0, 1]])


def test_axes_at_zero_attitude() -> None:
    camera = PinholeCamera()
    assert_allclose(camera.right_unit, [1, 0, 0], atol=1e-15)
    assert_allclose(camera.down_unit, [0, 0, -1], atol=1e-15)
    assert_allclose(camera.forward_unit, [0, 1, 0], atol=1e-15)


@pytest.mark.parametrize(
    ("yaw_deg", "pitch_deg", "expected_forward"),
    [
        (0.0, 0.0, (0.0, 1.0, 0.0)),  # north
        (90.0, 0.0, (1.0, 0.0, 0.0)),  # east
        (180.0, 0.0, (0.0, -1.0, 0.0)),  # south
        (270.0, 0.0, (-1.0, 0.0, 0.0)),  # west
        (-90.0, 0.0, (-1.0, 0.0, 0.0)),
        (0.0, 90.0, (0.0, 0.0, 1.0)),
        (123.0, -90.0, (0.0, 0.0, -1.0)),
        (45.0, 30.0, (cos_deg(30) * sin_deg(45), cos_deg(30) * cos_deg(45), 0.5)),
    ],
)
def test_forward_unit(yaw_deg: float, pitch_deg: float, expected_forward: tuple) -> None:
    camera = PinholeCamera(yaw_deg=yaw_deg, pitch_deg=pitch_deg, roll_deg=17.0)
    assert_allclose(camera.forward_unit, expected_forward, atol=1e-15)


@pytest.mark.parametrize(("yaw_deg", "pitch_deg", "roll_deg"), ATTITUDES)
def test_rotation_world_to_camera(yaw_deg: float, pitch_deg: float, roll_deg: float) -> None:
    camera = PinholeCamera(yaw_deg=yaw_deg, pitch_deg=pitch_deg, roll_deg=roll_deg)
    rotation = camera.rotation_world_to_camera
    assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-15)
    assert_allclose(np.linalg.det(rotation), 1.0, atol=1e-15)
    # right x down = forward (OpenCV is right-handed)
    assert_allclose(np.cross(camera.right_unit, camera.down_unit), camera.forward_unit, atol=1e-15)
    if roll_deg == 0.0:  # without roll the image x axis stays horizontal
        assert camera.right_unit[2] == 0.0


@pytest.mark.parametrize(("yaw_deg", "pitch_deg", "roll_deg"), ATTITUDES)
def test_world_to_camera_round_trip(yaw_deg: float, pitch_deg: float, roll_deg: float) -> None:
    camera = PinholeCamera(
        position_m=(3.0, -7.0, 12.0), yaw_deg=yaw_deg, pitch_deg=pitch_deg, roll_deg=roll_deg
    )
    points = np.random.default_rng(1).uniform(-50.0, 50.0, size=(4, 5, 3))
    cam = camera.world_to_camera(points)
    assert cam.shape == (4, 5, 3)
    assert_allclose(camera.camera_to_world(cam), points, atol=1e-12)
    # distances from the camera are preserved
    assert_allclose(
        np.linalg.norm(cam, axis=-1),
        np.linalg.norm(points - np.array(camera.position_m), axis=-1),
        rtol=1e-13,
    )


@pytest.mark.parametrize(("yaw_deg", "pitch_deg", "roll_deg"), ATTITUDES)
def test_project_camera_to_world_round_trip(
    yaw_deg: float, pitch_deg: float, roll_deg: float
) -> None:
    camera = PinholeCamera(position_m=(1.0, 2.0, 3.0), yaw_deg=yaw_deg, pitch_deg=pitch_deg)
    camera = camera.with_pose(roll_deg=roll_deg)
    rng = np.random.default_rng(2)
    cam = np.column_stack(
        [rng.uniform(-5, 5, 50), rng.uniform(-5, 5, 50), rng.uniform(0.5, 80.0, 50)]
    )
    u, v, depth = camera.project(camera.camera_to_world(cam))
    assert_allclose(depth, cam[:, 2], rtol=1e-12)
    assert_allclose(u, camera.fx_px * cam[:, 0] / cam[:, 2] + camera.cx_px, atol=1e-9)
    assert_allclose(v, camera.fy_px * cam[:, 1] / cam[:, 2] + camera.cy_px, atol=1e-9)


@pytest.mark.parametrize(("yaw_deg", "pitch_deg", "roll_deg"), ATTITUDES)
@pytest.mark.parametrize("distance_m", [0.01, 7.5, 1e4])
def test_project_straight_ahead(
    yaw_deg: float, pitch_deg: float, roll_deg: float, distance_m: float
) -> None:
    camera = PinholeCamera(
        position_m=(5.0, 6.0, 7.0), yaw_deg=yaw_deg, pitch_deg=pitch_deg, roll_deg=roll_deg
    )
    u, v, depth = camera.project(np.array(camera.position_m) + distance_m * camera.forward_unit)
    assert_allclose([u, v], [camera.cx_px, camera.cy_px], atol=1e-9)
    assert_allclose(depth, distance_m, rtol=1e-13)


def test_project_yaw_90_looks_east() -> None:
    camera = PinholeCamera(yaw_deg=90.0)
    assert_array_equal(camera.forward_unit, [1.0, 0.0, 0.0])  # exact at quarter turns
    assert_array_equal(camera.right_unit, [0.0, -1.0, 0.0])
    u, v, depth = camera.project([[10.0, 0.0, 1.5], [10.0, -1.0, 1.5], [0.0, 10.0, 1.5]])
    assert_allclose(u[:2], [camera.cx_px, camera.cx_px + camera.fx_px / 10.0], atol=1e-12)
    assert_allclose(v[:2], camera.cy_px, atol=1e-12)  # south is to the right when facing east
    assert_allclose(depth, [10.0, 10.0, 0.0], atol=1e-14)
    assert np.isnan(u[2]) and np.isnan(v[2])  # north lies in the image plane: not projected


@pytest.mark.parametrize("pitch_deg", [10.0, 30.0, 60.0])
def test_project_pitch_moves_level_point_down(pitch_deg: float) -> None:
    camera = PinholeCamera(pitch_deg=pitch_deg)
    u, v, depth = camera.project([0.0, 10.0, 1.5])  # level with the camera, due north
    assert_allclose(u, camera.cx_px, atol=1e-12)
    assert v > camera.cy_px
    assert_allclose(v, camera.cy_px + camera.fy_px * tan_deg(pitch_deg), rtol=1e-12)
    assert_allclose(depth, 10.0 * cos_deg(pitch_deg), rtol=1e-14)


@pytest.mark.parametrize("roll_deg", [90.0, 10.0, -25.0])
def test_project_roll_sign(roll_deg: float) -> None:
    # + roll turns the camera clockwise seen from behind: the image turns counter-clockwise, so a
    # point above the centre moves left and a point right of the centre moves up.
    camera = PinholeCamera(roll_deg=roll_deg)
    u, v, _ = camera.project([[0.0, 10.0, 2.5], [1.0, 10.0, 1.5]])
    fx, fy, cx, cy = camera.fx_px, camera.fy_px, camera.cx_px, camera.cy_px
    assert_allclose(
        u, [cx - fx * sin_deg(roll_deg) / 10, cx + fx * cos_deg(roll_deg) / 10], atol=1e-12
    )
    assert_allclose(
        v, [cy - fy * cos_deg(roll_deg) / 10, cy - fy * sin_deg(roll_deg) / 10], atol=1e-12
    )
    if roll_deg > 0:
        assert u[0] < cx and v[1] < cy


def test_project_behind_camera() -> None:
    camera = PinholeCamera(yaw_deg=90.0, position_m=(0.0, 0.0, 0.0))
    u, v, depth = camera.project([[-3.0, 0.0, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    assert_array_equal(depth, [-3.0, 0.0, 2.0])
    assert np.isnan(u[:2]).all() and np.isnan(v[:2]).all()
    assert np.isfinite([u[2], v[2]]).all()


@pytest.mark.parametrize(
    ("position_m", "target_m", "roll_deg"),
    [
        ((0.0, 0.0, 1.5), (0.0, 30.0, 1.5), 0.0),
        ((0.0, 0.0, 1.5), (10.0, 0.0, 1.5), 5.0),
        ((12.0, -3.0, 40.0), (0.0, 0.0, 0.0), -20.0),
        ((1.0, 1.0, 1.0), (-4.0, -9.0, 3.0), 180.0),
        ((0.0, 0.0, 50.0), (0.0, 0.0, 0.0), 0.0),  # straight down: yaw 0
        ((0.0, 0.0, 0.0), (0.0, 0.0, 50.0), 0.0),  # straight up
    ],
)
def test_look_at(position_m: tuple, target_m: tuple, roll_deg: float) -> None:
    camera = PinholeCamera.look_at(position_m, target_m, roll_deg=roll_deg, width_px=321)
    assert camera.width_px == 321 and camera.roll_deg == roll_deg
    u, v, depth = camera.project(target_m)
    assert_allclose([u, v], [camera.cx_px, camera.cy_px], atol=1e-9)
    assert_allclose(depth, math.dist(position_m, target_m), rtol=1e-13)


def test_look_at_yaw_pitch() -> None:
    camera = PinholeCamera.look_at((0.0, 0.0, 0.0), (1.0, 1.0, math.sqrt(2.0)))
    assert_allclose([camera.yaw_deg, camera.pitch_deg], [45.0, 45.0], rtol=1e-14)
    assert PinholeCamera.look_at((0, 0, 9), (0, 0, 0)).pitch_deg == -90.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"position_m": (1, 2, 3), "target_m": (1, 2, 3)}, "target_m"),
        ({"position_m": (0, 0, 0), "target_m": (1, 0, 0), "yaw_deg": 3.0}, "yaw_deg"),
        ({"position_m": (0, 0, 0), "target_m": (1, 0, 0), "pitch_deg": 3.0}, "pitch_deg"),
        ({"position_m": (0, 0, 0), "target_m": (1, 0, math.nan)}, "target_m"),
        ({"position_m": (0, 0), "target_m": (1, 0, 0)}, "position_m"),
        ({"position_m": (0, 0, 0), "target_m": (1, 0, 0), "hfov_deg": 180.0}, "hfov_deg"),
    ],
)
def test_look_at_invalid(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as excinfo:
        PinholeCamera.look_at(**kwargs)
    assert excinfo.value.field == field


@pytest.mark.parametrize(("width_px", "height_px"), [(320, 240), (321, 241), (7, 5), (1, 1)])
def test_pixel_ray_directions(width_px: int, height_px: int) -> None:
    camera = PinholeCamera(
        width_px=width_px,
        height_px=height_px,
        position_m=(2.0, 3.0, 4.0),
        yaw_deg=-60.0,
        pitch_deg=15.0,
        roll_deg=8.0,
    )
    dirs = camera.pixel_ray_directions()
    assert dirs.shape == (height_px, width_px, 3) and dirs.dtype == np.float64
    assert_allclose(np.linalg.norm(dirs, axis=-1), 1.0, atol=1e-15)
    # every ray projects back onto its own pixel centre
    u, v, depth = camera.project(np.array(camera.position_m) + 7.0 * dirs)
    cols, rows = np.meshgrid(np.arange(width_px), np.arange(height_px))
    assert_allclose(u, cols, atol=1e-9)
    assert_allclose(v, rows, atol=1e-9)
    assert_allclose(depth, 7.0 * camera.pixel_depth_factor(), rtol=1e-13)
    # the rays around the centre are symmetric about the optical axis
    r0, r1 = (height_px - 1) // 2, height_px // 2 + 1
    c0, c1 = (width_px - 1) // 2, width_px // 2 + 1
    centre = dirs[r0:r1, c0:c1].reshape(-1, 3).sum(axis=0)
    assert_allclose(centre / np.linalg.norm(centre), camera.forward_unit, atol=1e-14)


def test_pixel_ray_directions_float32() -> None:
    camera = PinholeCamera(yaw_deg=30.0)
    dirs32 = camera.pixel_ray_directions(dtype=np.float32)
    assert dirs32.dtype == np.float32
    assert_allclose(dirs32, camera.pixel_ray_directions(), atol=1e-7)


def test_pixel_depth_factor() -> None:
    camera = PinholeCamera(roll_deg=40.0, pitch_deg=-10.0)
    factor = camera.pixel_depth_factor()
    assert factor.shape == (240, 320)
    assert_allclose(factor, camera.pixel_ray_directions() @ camera.forward_unit, rtol=1e-14)
    corner = 1.0 / math.sqrt(1.0 + (159.5 / camera.fx_px) ** 2 + (119.5 / camera.fy_px) ** 2)
    assert_allclose(factor[[0, 0, -1, -1], [0, -1, 0, -1]], corner, rtol=1e-15)
    assert factor.max() < 1.0 and factor.min() == pytest.approx(corner)


def test_with_pose() -> None:
    camera = PinholeCamera(width_px=64, height_px=48, yaw_deg=10.0, pitch_deg=-5.0, roll_deg=1.0)
    moved = camera.with_pose(position_m=np.array([1.0, 2.0, 3.0]), pitch_deg=20.0)
    assert moved.position_m == (1.0, 2.0, 3.0) and type(moved.position_m[0]) is float
    assert (moved.yaw_deg, moved.pitch_deg, moved.roll_deg) == (10.0, 20.0, 1.0)
    assert moved.width_px == 64 and camera.pitch_deg == -5.0
    assert camera.with_pose() == camera
    with pytest.raises(InputError, match="pitch_deg"):
        camera.with_pose(pitch_deg=120.0)


def test_to_dict() -> None:
    camera = PinholeCamera(position_m=(np.float32(1.5), 2, 3), yaw_deg=np.float64(45.0))
    data = camera.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["position_m"] == [1.5, 2.0, 3.0]
    assert data["fx_px"] == camera.fx_px and data["cy_px"] == 119.5
    assert PinholeCamera.from_dict(data) == camera
    with pytest.raises(InputError, match="unknown keys"):
        PinholeCamera.from_dict({**data, "focal_mm": 3.0})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hfov_deg": 0.0}, "hfov_deg"),
        ({"hfov_deg": 180.0}, "hfov_deg"),
        ({"hfov_deg": -5.0}, "hfov_deg"),
        ({"hfov_deg": math.nan}, "hfov_deg"),
        ({"vfov_deg": 200.0}, "vfov_deg"),
        ({"vfov_deg": "wide"}, "vfov_deg"),
        ({"width_px": 0}, "width_px"),
        ({"width_px": 1.5}, "width_px"),
        ({"width_px": True}, "width_px"),
        ({"height_px": -1}, "height_px"),
        ({"position_m": (0.0, 0.0)}, "position_m"),
        ({"position_m": (0.0, math.nan, 0.0)}, "position_m"),
        ({"position_m": 3.0}, "position_m"),
        ({"pitch_deg": 90.5}, "pitch_deg"),
        ({"pitch_deg": -91.0}, "pitch_deg"),
        ({"yaw_deg": math.inf}, "yaw_deg"),
        ({"roll_deg": math.nan}, "roll_deg"),
    ],
)
def test_pinhole_camera_invalid(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as excinfo:
        PinholeCamera(**kwargs)
    assert excinfo.value.field == field
    assert str(excinfo.value).startswith(f"{field}: must ")


@pytest.mark.parametrize("points_m", [[1.0, 2.0], np.zeros((4, 2)), 3.0])
def test_project_invalid(points_m: object) -> None:
    with pytest.raises(InputError, match=r"points_m: must have shape \(\.\.\., 3\)"):
        PinholeCamera().project(points_m)  # type: ignore[arg-type]
