"""Detectability of a leak: the gas signal recovered from frames and column, against the NETD."""

import numpy as np
import pytest

from plantwatch.gas.radiometry import curve_of_growth
from plantwatch.gas.visibility import (
    DETECTABLE_MIN_PX,
    detectable_gas_px,
    gas_signal_k,
    is_detectable,
)

T, H, W = 8, 240, 320
AIR_K = 290.0


def _clip(background_k: float, column_ppm_m: float, patch_px: int, netd_mk: float = 20.0):
    """Frames of a uniform background with a square of gas, rendered as the linear model says."""
    column = np.zeros((T, H, W), np.float32)
    column[:, 100 : 100 + patch_px, 150 : 150 + patch_px] = column_ppm_m
    a = curve_of_growth("methane").absorptance_of(column * (296.0 / AIR_K))
    frames = ((1.0 - a) * background_k + a * AIR_K).astype(np.float32)
    labels = {
        "leak": True,
        "species": "methane",
        "camera": {"netd_mk": netd_mk, "band": "mwir"},
        "atmosphere": {"air_temperature_k": AIR_K},
    }
    return frames, column, labels


def test_signal_is_absorptance_times_contrast():
    frames, column, _labels = _clip(background_k=300.0, column_ppm_m=200.0, patch_px=20)
    signal = gas_signal_k(frames, column, AIR_K, "methane")
    a = float(curve_of_growth("methane").absorptance_of(np.array([200.0 * 296.0 / AIR_K]))[0])
    assert signal[110, 160] == pytest.approx(a * 10.0, rel=1e-4)  # background 10 K warmer
    assert signal[10, 10] == 0.0  # no gas
    # emission (background colder than the gas) is a negative signal of the same size
    cold, column, _ = _clip(background_k=280.0, column_ppm_m=200.0, patch_px=20)
    assert gas_signal_k(cold, column, AIR_K, "methane")[110, 160] == pytest.approx(-a * 10.0, 1e-4)


def test_no_contrast_means_undetectable_however_much_gas():
    frames, column, labels = _clip(background_k=AIR_K, column_ppm_m=5000.0, patch_px=60)
    assert detectable_gas_px(frames, column, labels) == 0
    assert not is_detectable(frames, column, labels)


def test_detectable_needs_signal_over_the_noise_on_enough_pixels():
    frames, column, labels = _clip(background_k=300.0, column_ppm_m=500.0, patch_px=20)
    assert detectable_gas_px(frames, column, labels) == 400
    assert is_detectable(frames, column, labels)
    # a noisier camera sees less: NETD above the signal makes the same gas undetectable
    signal = float(np.abs(gas_signal_k(frames, column, AIR_K, "methane")).max())
    labels["camera"]["netd_mk"] = 1.5e3 * signal
    assert not is_detectable(frames, column, labels)
    # fewer pixels than the minimum (per 320x240 image) are not a detection
    frames, column, labels = _clip(background_k=300.0, column_ppm_m=500.0, patch_px=3)
    assert 9 == detectable_gas_px(frames, column, labels) < DETECTABLE_MIN_PX
    assert not is_detectable(frames, column, labels)


def test_no_leak_is_never_detectable():
    frames, column, labels = _clip(background_k=300.0, column_ppm_m=500.0, patch_px=20)
    assert not is_detectable(frames, None, labels)
    assert not is_detectable(frames, column, {**labels, "leak": False})


def test_simulated_labels_say_whether_the_leak_is_detectable():
    from plantwatch.gas.clip import simulate_clip
    from plantwatch.gas.randomize import RandomSceneOptions, random_scene

    opts = RandomSceneOptions(frames=4, width_px=80, height_px=60)
    clip = simulate_clip(random_scene(9001, opts), 9001)
    labels = clip.labels
    # the simulator counts on its noise-free frames; the noisy ones it returns agree closely
    seen = detectable_gas_px(clip.frames_k, clip.column_ppm_m, labels)
    assert labels["detectable_gas_px"] > 0 and labels["detectable"]
    assert abs(labels["detectable_gas_px"] - seen) <= 0.1 * seen
    opts.leak_probability = 0.0
    quiet = simulate_clip(random_scene(9001, opts), 9001)
    assert quiet.labels["detectable_gas_px"] == 0 and quiet.labels["detectable"] is False
