"""Simulated clips: hidden sources, depth-flow labels, radiometric contrast, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plantwatch.cli import builtin_scene_path
from plantwatch.errors import InputError
from plantwatch.gas.clip import simulate_clip
from plantwatch.gas.plume import JET_DECAY_CONSTANT
from plantwatch.gas.scene import load_scene, scene_from_dict

LABEL_KEYS = ("source_px", "occluded", "z_px_s", "species", "leak_rate_g_s", "camera", "seed")


def small_scene(**overrides):
    """A fast scene: 96x72 camera, 8 frames, methane leak 10 m in front of the camera."""
    scene = {
        "species": "methane",
        "frames": 8,
        "leak": {
            "position_m": [0.0, 0.0, 1.5],
            "direction": [0.0, 0.0, 1.0],
            "exit_speed_m_s": 5.0,
            "rate_g_s": 0.5,
        },
        "wind": {"speed_m_s": 1.0, "from_deg": 270.0},
        "camera": {
            "width_px": 96,
            "height_px": 72,
            "position_m": [0.0, -10.0, 1.5],
            "look_at_m": [0.0, 0.0, 1.5],
        },
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(scene.get(key), dict):
            scene[key] = {**scene[key], **value}
        else:
            scene[key] = value
    return scene_from_dict(scene)


@pytest.fixture(scope="module")
def hidden_clip():
    return simulate_clip(load_scene(builtin_scene_path("hidden_behind_pipe_rack.yaml")), seed=1)


def test_hidden_source_pixel_carries_no_gas_but_is_labelled(hidden_clip):
    lab = hidden_clip.labels
    assert lab["occluded"] is True
    x, y = (int(round(v)) for v in lab["source_px"])
    h, w = hidden_clip.column_ppm_m.shape[1:]
    assert 0 <= x < w and 0 <= y < h, "the hidden source must still project into the image"
    column = hidden_clip.column_ppm_m
    # the pixel shows the pipe in front of the source: no gas signal there ...
    assert column[:, y, x].max() < 0.01 * column.max()
    # ... while the plume is visible above the pipes
    assert column.max() > 100.0
    # and the pixel's surface is nearer than the source (it is a pipe, not the background)
    assert hidden_clip.depth_m[y, x] < lab["source_depth_m"] - 0.1


def test_gas_in_front_of_a_pipe_is_seen_against_it():
    """A pipe behind the leak: the gas is in front of it, so the pipe pixels carry the gas."""
    pipe = {
        "type": "pipe",
        "start_m": [-5.0, 1.0, 1.5],
        "end_m": [5.0, 1.0, 1.5],
        "diameter_m": 0.6,
        "temperature_offset_k": 10.0,
    }
    front = simulate_clip(small_scene(objects=[pipe]), seed=2)
    assert front.labels["occluded"] is False
    x, y = (int(np.floor(v)) for v in front.labels["source_px"])
    near = (slice(None), slice(y - 2, y + 1), slice(x, x + 2))  # just above the source
    assert front.depth_m[y, x] == pytest.approx(10.7, abs=0.05)  # the pipe's near surface
    assert front.column_ppm_m[near].max() > 1000.0
    # the same pipe moved between camera and leak hides the same pixel
    hidden = simulate_clip(
        small_scene(objects=[{**pipe, "start_m": [-5.0, -1.0, 1.5], "end_m": [5.0, -1.0, 1.5]}]),
        seed=2,
    )
    assert hidden.labels["occluded"] is True
    assert hidden.column_ppm_m[near].max() < 0.01 * front.column_ppm_m[near].max()


def _expected_axis_speed_m_s(exit_speed_m_s: float, orifice_m: float, radius_m: float) -> float:
    """Mass-weighted mean jet speed over 0..radius: gas lingers where it is slow (weight 1/u)."""
    s = np.linspace(1e-5, radius_m, 20001)
    u = exit_speed_m_s * np.minimum(1.0, JET_DECAY_CONSTANT * orifice_m / s)
    return float(radius_m / np.trapezoid(1.0 / u, s))


@pytest.mark.parametrize(("direction", "sign"), [((0.0, 1.0, 0.0), 1), ((0.0, -1.0, 0.0), -1)])
def test_z_sign_and_size_for_jet_along_the_optical_axis(direction, sign):
    scene = small_scene(
        leak={"direction": list(direction), "exit_speed_m_s": 10.0, "rate_g_s": 0.2},
        wind={"speed_m_s": 0.0, "gust_intensity": 0.0, "direction_jitter_deg": 0.0},
    )
    lab = simulate_clip(scene, seed=4).labels
    f_px = 48.0 / np.tan(np.radians(12.0))
    expected = sign * _expected_axis_speed_m_s(10.0, lab["orifice_diameter_mm"] * 1e-3, 0.5)
    assert np.sign(lab["z_px_s"]) == sign
    assert lab["z_m_s"] == pytest.approx(expected, rel=0.25)
    assert lab["z_px_s"] == pytest.approx(lab["z_m_s"] * f_px / lab["source_depth_m"], rel=1e-9)


def test_filming_the_same_plume_from_the_other_side_negates_z():
    """Depth-mirror twins (bench/gas_z_sign.py): the plume does not depend on the camera, so a
    camera opposite sees every puff's velocity along its axis negated, wind and eddies included."""
    scene = small_scene(
        leak={"direction": [0.3, 0.8, 0.5], "exit_speed_m_s": 8.0},
        wind={"speed_m_s": 2.0, "from_deg": 200.0},
    )
    back = {"position_m": [0.0, 10.0, 1.5], "look_at_m": [0.0, 0.0, 1.5]}
    a = simulate_clip(scene, seed=5).labels
    b = simulate_clip(small_scene(**{**scene.model_dump(), "camera": back}), seed=5).labels
    assert abs(a["z_px_s"]) > 20.0
    assert b["z_px_s"] == pytest.approx(-a["z_px_s"], rel=1e-9)
    assert b["source_px"][0] == pytest.approx(95.0 - a["source_px"][0], abs=1e-6)


def test_z_is_small_for_a_jet_across_the_view():
    scene = small_scene(
        leak={"direction": [1.0, 0.0, 0.0], "exit_speed_m_s": 10.0}, wind={"speed_m_s": 0.0}
    )
    lab = simulate_clip(scene, seed=4).labels
    assert abs(lab["z_px_s"]) < 10.0


def test_same_seed_gives_identical_clip_and_other_seed_differs():
    scene = small_scene(camera={"vibration_px": 1.0})
    a = simulate_clip(scene, seed=11)
    b = simulate_clip(scene, seed=11)
    c = simulate_clip(scene, seed=12)
    np.testing.assert_array_equal(a.frames_k, b.frames_k)
    np.testing.assert_array_equal(a.column_ppm_m, b.column_ppm_m)
    assert a.labels == b.labels
    assert not np.array_equal(a.frames_k, c.frames_k)


def test_labels_have_the_documented_keys():
    lab = simulate_clip(small_scene(), seed=0).labels
    for key in LABEL_KEYS:
        assert key in lab
    assert lab["species"] == "methane"
    assert lab["leak_rate_g_s"] == pytest.approx(0.5)
    assert lab["camera"]["width_px"] == 96
    u, v = lab["source_px"]
    assert (u, v) == pytest.approx((47.5, 35.5), abs=1e-6)  # straight ahead = principal point


def test_cold_gas_against_warm_background_looks_dark_and_noise_matches_netd():
    """Gas at air temperature in front of a warmer wall lowers the apparent temperature by
    t B(T_wall) + (1 - t) B(T_air); without gas, frame-to-frame noise equals the NETD."""
    wall = {
        "type": "box",
        "center_m": [0.0, 3.0, 2.0],
        "size_m": [20.0, 0.5, 6.0],
        "temperature_offset_k": 15.0,
        "texture_k": 0.0,
        "emissivity": 1.0,
    }
    with_gas = simulate_clip(
        small_scene(objects=[wall], camera={"netd_mk": 0.0, "fixed_pattern_mk": 0.0}), seed=3
    )
    no_gas = simulate_clip(
        small_scene(objects=[wall], leak=None, camera={"netd_mk": 0.0, "fixed_pattern_mk": 0.0}),
        seed=3,
    )
    diff = with_gas.frames_k - no_gas.frames_k
    gas = with_gas.column_ppm_m > 2000
    assert gas.sum() > 20
    assert np.all(diff[gas] < -0.05)  # darker where the gas is
    assert np.abs(diff[with_gas.column_ppm_m == 0]).max() < 1e-3  # untouched elsewhere
    noisy = simulate_clip(
        small_scene(objects=[wall], leak=None, camera={"netd_mk": 20.0, "fixed_pattern_mk": 0.0}),
        seed=3,
    )
    temporal_std = (noisy.frames_k - no_gas.frames_k).std()
    assert temporal_std == pytest.approx(0.020, rel=0.05)


def test_no_leak_clip_has_no_gas():
    clip = simulate_clip(small_scene(leak=None), seed=0)
    assert clip.column_ppm_m.max() == 0.0
    assert clip.labels["leak"] is False and clip.labels["source_px"] is None


def test_vibration_moves_the_source_label_with_the_image():
    clip = simulate_clip(small_scene(camera={"vibration_px": 2.0}), seed=5)
    track = np.asarray(clip.labels["source_px_per_frame"])
    assert track.shape == (8, 2)
    assert np.ptp(track, axis=0).max() > 1.0
    assert_allclose(track.mean(axis=0), clip.labels["source_px"], atol=3.0)


def test_distractors_render():
    distractors = [
        {"type": "person", "start_m": [-3.0, -2.0, 0.0], "end_m": [3.0, -2.0, 0.0]},
        {"type": "steam", "position_m": [2.0, 2.0, 1.0]},
        {"type": "vegetation", "position_m": [-2.0, 3.0, 1.0]},
    ]
    plain = simulate_clip(small_scene(), seed=6)
    busy = simulate_clip(small_scene(distractors=distractors), seed=6)
    assert np.abs(busy.frames_k - plain.frames_k).max() > 1.0


def test_camera_inside_an_object_is_rejected():
    box = {"type": "box", "center_m": [0.0, -10.0, 1.5], "size_m": [2.0, 2.0, 2.0]}
    with pytest.raises(InputError, match=r"camera.position_m.*inside objects\[0\]"):
        simulate_clip(small_scene(objects=[box]), seed=0)


def test_leak_behind_camera_is_rejected():
    with pytest.raises(InputError, match=r"leak\.position_m"):
        simulate_clip(small_scene(leak={"position_m": [0.0, -20.0, 1.5]}), seed=0)


@pytest.mark.parametrize("species", ["methane", "propane"])
def test_lwir_camera_sees_the_gas_too(species):
    """Uncooled LWIR (7-8.5 um) cameras see both gases, through their own band data."""
    wall = {
        "type": "box",
        "center_m": [0.0, 3.0, 2.0],
        "size_m": [20.0, 0.5, 6.0],
        "temperature_offset_k": 15.0,
        "texture_k": 0.0,
    }
    quiet = {"netd_mk": 0.0, "fixed_pattern_mk": 0.0, "band": "lwir"}
    gas = simulate_clip(small_scene(species=species, objects=[wall], camera=quiet), seed=3)
    clean = simulate_clip(
        small_scene(species=species, objects=[wall], leak=None, camera=quiet), seed=3
    )
    dense = gas.column_ppm_m > 2000
    assert gas.labels["camera"]["band"] == "lwir"
    assert np.all((gas.frames_k - clean.frames_k)[dense] < -0.01)
