"""Tests for plantwatch.gas.fluctuation: moving average, fluctuation component, RMS, picture."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plantwatch.errors import InputError
from plantwatch.gas.fluctuation import (
    DIVERGING_CONTROL_POINTS,
    PANEL_GAP_PX,
    fluctuation_component,
    fluctuation_image,
    fluctuation_rms,
    moving_average,
    window_frames,
)

FPS = 30.0


def _brute_force_mean(frames: np.ndarray, window: int) -> np.ndarray:
    half = window // 2
    n = frames.shape[0]
    return np.stack(
        [frames[max(0, t - half) : min(n, t + half + 1)].mean(axis=0) for t in range(n)]
    )


def _ramp_plus_sine(
    n_frames: int = 150, amplitude_k: float = 0.1, frequency_hz: float = 5.0
) -> np.ndarray:
    """(T, 3, 4) frames: ramp 300 K + 0.6 K/s plus a frequency_hz sinusoid (phase per pixel)."""
    t_s = np.arange(n_frames)[:, None, None] / FPS
    phase = np.linspace(0.0, 2.0, 12).reshape(3, 4)
    return 300.0 + 0.6 * t_s + amplitude_k * np.sin(2.0 * np.pi * frequency_hz * t_s + phase)


@pytest.mark.parametrize(
    ("fps", "window_s", "expected"),
    [(30.0, 1.0, 31), (25.0, 1.0, 25), (30.0, 0.5, 15), (30.0, 0.1, 3), (10.0, 0.01, 1)],
)
def test_window_frames(fps: float, window_s: float, expected: int) -> None:
    assert window_frames(fps, window_s) == expected


@pytest.mark.parametrize(
    ("fps", "window_s"), [(0.0, 1.0), (-30.0, 1.0), (np.nan, 1.0), (30.0, 0.0), (30.0, np.inf)]
)
def test_window_frames_invalid(fps: float, window_s: float) -> None:
    with pytest.raises(InputError):
        window_frames(fps, window_s)


@pytest.mark.parametrize(
    ("n_frames", "fps", "window_s"), [(40, 10.0, 0.5), (40, 30.0, 1.0), (7, 30.0, 1.0), (1, 30, 1)]
)
def test_moving_average(n_frames: int, fps: float, window_s: float) -> None:
    rng = np.random.default_rng(7)
    frames = 300.0 + rng.normal(0.0, 1.0, (n_frames, 3, 4))
    mean = moving_average(frames, fps, window_s)
    assert mean.dtype == np.float32
    assert mean.shape == frames.shape
    expected = _brute_force_mean(frames, window_frames(fps, window_s))
    assert_allclose(mean, expected, atol=1e-4)


def test_moving_average_interior_is_centred() -> None:
    rng = np.random.default_rng(8)
    frames = rng.normal(0.0, 1.0, (60, 2, 2))
    mean = moving_average(frames, 10.0, 0.5)  # 5 frames
    for t in range(2, 58):
        assert_allclose(mean[t], frames[t - 2 : t + 3].mean(axis=0), atol=1e-6)


def test_moving_average_no_wrap() -> None:
    frames = np.zeros((20, 2, 2))
    frames[-1] = 100.0  # a wrap-around window would leak this into the first frames
    mean = moving_average(frames, 10.0, 0.5)
    assert (mean[:17] == 0.0).all()
    assert_allclose(mean[-1], 100.0 / 3.0, rtol=1e-6)  # shrunk window: frames 17, 18, 19


def test_moving_average_chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    import plantwatch.gas.fluctuation as fluctuation

    rng = np.random.default_rng(9)
    frames = rng.normal(0.0, 1.0, (12, 5, 7))
    whole = moving_average(frames, 10.0, 0.5)
    monkeypatch.setattr(fluctuation, "_CHUNK_ELEMENTS", 13 * 4)  # 4 pixels per chunk
    assert_allclose(moving_average(frames, 10.0, 0.5), whole, atol=1e-6)


@pytest.mark.parametrize(
    ("frames", "fps", "window_s"),
    [
        (np.zeros((0, 3, 3)), 30.0, 1.0),
        (np.zeros((4, 0, 3)), 30.0, 1.0),
        (np.array(["a"]), 30.0, 1.0),
        (np.zeros((4, 3, 3)), 0.0, 1.0),
        (np.zeros((4, 3, 3)), 30.0, -1.0),
    ],
)
def test_moving_average_invalid(frames: np.ndarray, fps: float, window_s: float) -> None:
    with pytest.raises(InputError):
        moving_average(frames, fps, window_s)


def test_fluctuation_component() -> None:
    frames = _ramp_plus_sine()
    component = fluctuation_component(frames, FPS, 1.0)
    assert component.dtype == np.float32
    assert component.shape == frames.shape
    interior = slice(15, 135)  # farther than half a window (15 frames) from either end
    t_s = np.arange(150)[interior] / FPS
    phase = np.linspace(0.0, 2.0, 12).reshape(3, 4)
    # Least-squares amplitude of the 5 Hz sinusoid and the residual trend per pixel.
    for row in range(3):
        for col in range(4):
            signal = component[interior, row, col].astype(np.float64)
            basis = np.stack(
                [
                    np.sin(2 * np.pi * 5.0 * t_s + phase[row, col]),
                    np.cos(2 * np.pi * 5.0 * t_s + phase[row, col]),
                    np.ones_like(t_s),
                    t_s - t_s.mean(),
                ],
                axis=1,
            )
            coef = np.linalg.lstsq(basis, signal, rcond=None)[0]
            assert abs(np.hypot(coef[0], coef[1]) - 0.1) < 0.01  # sinusoid kept within 10 %
            assert abs(coef[2]) < 1e-3  # ramp level removed
            assert abs(coef[3]) < 1e-3  # ramp slope removed [K/s]


def test_fluctuation_component_removes_ramp_exactly() -> None:
    frames = _ramp_plus_sine(amplitude_k=0.0)
    component = fluctuation_component(frames, FPS, 1.0)
    assert_allclose(component[15:135], 0.0, atol=1e-4)


@pytest.mark.parametrize("value", [0.0, 300.0, 287.123])
def test_fluctuation_component_constant(value: float) -> None:
    frames = np.full((40, 4, 5), value)
    assert_allclose(fluctuation_component(frames, FPS, 1.0), 0.0, atol=1e-4)


def test_fluctuation_component_invalid() -> None:
    with pytest.raises(InputError):
        fluctuation_component(np.zeros((0, 2, 2)), FPS)


def test_fluctuation_rms() -> None:
    frames = _ramp_plus_sine(n_frames=300, amplitude_k=0.2)
    frames[:, 0, 0] = 300.0  # a pixel without flicker
    rms = fluctuation_rms(frames, FPS, 1.0)
    assert rms.shape == (3, 4)
    assert rms.dtype == np.float32
    assert_allclose(rms.ravel()[1:], 0.2 / np.sqrt(2.0), rtol=0.1)
    assert rms[0, 0] < 1e-4


def test_fluctuation_rms_invalid() -> None:
    with pytest.raises(InputError):
        fluctuation_rms(np.zeros((4, 2, 2)), -1.0)


@pytest.mark.parametrize(("n_frames", "height", "width"), [(40, 12, 16), (5, 3, 2), (1, 4, 4)])
def test_fluctuation_image(n_frames: int, height: int, width: int) -> None:
    rng = np.random.default_rng(2)
    frames = 300.0 + rng.normal(0.0, 0.05, (n_frames, height, width))
    picture = fluctuation_image(frames, FPS)
    assert picture.shape == (height, 2 * width + PANEL_GAP_PX, 3)
    assert picture.dtype == np.uint8


def test_fluctuation_image_colours() -> None:
    frames = np.full((31, 8, 10), 300.0)
    frames[15, 2, 3] += 1.0  # above its running mean at frame 15: red side
    frames[15, 5, 6] -= 1.0  # below: blue side, same magnitude
    picture = fluctuation_image(frames, FPS, 1.0, frame_index=15)
    neutral = DIVERGING_CONTROL_POINTS[2][1]
    assert tuple(picture[0, 0]) == neutral  # zero component
    red, blue = picture[2, 3].astype(int), picture[5, 6].astype(int)
    assert red[0] > red[2] and blue[2] > blue[0]
    # Symmetric about 0: both are the same distance from the neutral colour.
    assert_allclose(
        np.linalg.norm(red - np.array(neutral)), np.linalg.norm(blue - np.array(neutral)), rtol=0.3
    )
    # Separator, then the RMS panel: the two flickering pixels are brighter than the rest.
    assert (picture[:, 10 : 10 + PANEL_GAP_PX] == 128).all()
    right = picture[:, 10 + PANEL_GAP_PX :].astype(int).sum(axis=-1)
    assert right[2, 3] > right[0, 0] and right[5, 6] > right[0, 0]


@pytest.mark.parametrize(
    ("frames", "frame_index"),
    [
        (np.zeros((5, 4, 4)), 5),
        (np.zeros((5, 4, 4)), -1),
        (np.zeros((5, 4)), None),
        (np.zeros((5, 4, 4, 3)), None),
    ],
)
def test_fluctuation_image_invalid(frames: np.ndarray, frame_index: int | None) -> None:
    with pytest.raises(InputError):
        fluctuation_image(frames, FPS, frame_index=frame_index)
