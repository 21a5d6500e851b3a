"""Tests for plantwatch.gas.display: palettes, their inverse, AGC and 8-bit rendering."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from plantwatch.errors import InputError
from plantwatch.gas.display import (
    PALETTE_NAMES,
    agc_limits,
    apply_palette,
    gray_from_palette,
    luminance,
    palette_lut,
    render_palette_video,
    to_8bit,
)

ALL_LEVELS = np.arange(256, dtype=np.uint8)


@pytest.mark.parametrize("name", PALETTE_NAMES)
def test_palette_lut(name: str) -> None:
    lut = palette_lut(name)
    assert lut.shape == (256, 3)
    assert lut.dtype == np.uint8
    assert len(np.unique(lut, axis=0)) == 256  # every level has its own colour: invertible


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("white-hot", (0, 0, 0), (255, 255, 255)),
        ("black-hot", (255, 255, 255), (0, 0, 0)),
        ("iron", (0, 0, 0), (255, 255, 255)),
    ],
)
def test_palette_lut_ends(name: str, first: tuple[int, ...], last: tuple[int, ...]) -> None:
    lut = palette_lut(name)
    assert tuple(lut[0]) == first
    assert tuple(lut[255]) == last


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("white-hot", lambda d: (d > 0).all()),
        ("black-hot", lambda d: (d < 0).all()),
        ("iron", lambda d: (d >= 0).all()),
    ],
)
def test_palette_lut_luminance(name: str, check: object) -> None:
    steps = np.diff(luminance(palette_lut(name)))
    assert check(steps)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("level", "dominant"),
    [
        (40, "blue"),  # ironbow: black -> indigo/purple ...
        (125, "red"),  # ... -> red/magenta ...
        (190, "orange"),  # ... -> orange ...
        (235, "yellow"),  # ... -> yellow -> white
    ],
)
def test_palette_lut_iron_is_ironbow(level: int, dominant: str) -> None:
    red, green, blue = (int(v) for v in palette_lut("iron")[level])
    if dominant == "blue":
        assert blue > red > green
    elif dominant == "red":
        assert red > blue and red > green
    elif dominant == "orange":
        assert red == 255 and blue < green < red
    else:
        assert red == 255 and green > 200 and blue < green


def test_palette_lut_returns_copy() -> None:
    lut = palette_lut("iron")
    lut[:] = 0
    assert palette_lut("iron")[255].tolist() == [255, 255, 255]


@pytest.mark.parametrize("name", ["ironbow", "", "White-Hot", "gray"])
def test_palette_lut_invalid(name: str) -> None:
    with pytest.raises(InputError, match="white-hot, black-hot, iron, rainbow"):
        palette_lut(name)


@pytest.mark.parametrize("name", PALETTE_NAMES)
def test_apply_palette(name: str) -> None:
    gray = np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 10
    rgb = apply_palette(gray, name)
    assert rgb.shape == (2, 3, 4, 3)
    assert rgb.dtype == np.uint8
    assert_array_equal(rgb, palette_lut(name)[gray])


@pytest.mark.parametrize(
    ("gray", "palette"),
    [
        (np.zeros((2, 2), dtype=np.float32), "white-hot"),
        (np.zeros((2, 2), dtype=np.int64), "white-hot"),
        (np.zeros((2, 2), dtype=np.uint8), "sepia"),
    ],
)
def test_apply_palette_invalid(gray: np.ndarray, palette: str) -> None:
    with pytest.raises(InputError):
        apply_palette(gray, palette)


@pytest.mark.parametrize("name", PALETTE_NAMES)
def test_gray_from_palette(name: str) -> None:
    assert_array_equal(gray_from_palette(apply_palette(ALL_LEVELS, name), name), ALL_LEVELS)


@pytest.mark.parametrize("name", ["iron", "rainbow"])
def test_gray_from_palette_near_colours(name: str) -> None:
    # Codec-like errors: every channel off by up to 2 levels still maps close to the level.
    rng = np.random.default_rng(3)
    rgb = apply_palette(ALL_LEVELS, name).astype(np.int64) + rng.integers(-2, 3, (256, 3))
    back = gray_from_palette(np.clip(rgb, 0, 255).astype(np.uint8), name)
    error = np.abs(back.astype(np.int64) - ALL_LEVELS)
    assert np.median(error) <= 2
    assert error.max() <= 12


@pytest.mark.parametrize(
    ("rgb", "palette", "expected"),
    [
        ((255, 0, 0), "white-hot", 76),  # BT.601 luma 0.299 * 255
        ((255, 0, 0), "black-hot", 179),
        ((0, 255, 0), "white-hot", 150),
        ((0, 0, 255), "white-hot", 29),
        ((100, 100, 100), "white-hot", 100),
        ((100, 100, 100), "black-hot", 155),
    ],
)
def test_gray_from_palette_luma(rgb: tuple[int, int, int], palette: str, expected: int) -> None:
    assert gray_from_palette(np.array([rgb], dtype=np.uint8), palette)[0] == expected


def test_gray_from_palette_shape() -> None:
    rgb = apply_palette(np.full((3, 4, 5), 77, dtype=np.uint8), "iron")
    back = gray_from_palette(rgb, "iron")
    assert back.shape == (3, 4, 5)
    assert back.dtype == np.uint8
    assert (back == 77).all()


@pytest.mark.parametrize(
    ("rgb", "palette"),
    [
        (np.zeros((2, 2, 3), dtype=np.float32), "iron"),
        (np.zeros((2, 2, 4), dtype=np.uint8), "iron"),
        (np.zeros((2, 2), dtype=np.uint8), "white-hot"),
        (np.zeros((2, 2, 3), dtype=np.uint8), "viridis"),
    ],
)
def test_gray_from_palette_invalid(rgb: np.ndarray, palette: str) -> None:
    with pytest.raises(InputError):
        gray_from_palette(rgb, palette)


def _step_scene(n_frames: int = 40, step_frame: int = 10, step_k: float = 5.0) -> np.ndarray:
    """Frames with a 2 K horizontal ramp about 300 K that all jump by step_k at step_frame."""
    ramp = np.linspace(299.0, 301.0, 50)[None, None, :] * np.ones((n_frames, 20, 50))
    ramp[step_frame:] += step_k
    return ramp


@pytest.mark.parametrize("tau", [1.0, 4.0, 8.0])
def test_agc_limits(tau: float) -> None:
    frames = _step_scene()
    limits = agc_limits(frames, 0.0, 100.0, time_constant_frames=tau, min_span_k=0.1)
    assert limits.shape == (40, 2)
    assert_allclose(limits[:10], [[299.0, 301.0]] * 10, atol=1e-9)
    # First-order response: the remaining error after n frames past the step is exp(-(n+1)/tau).
    n = np.arange(30)
    expected_lo = 304.0 - 5.0 * np.exp(-(n + 1) / tau)
    assert_allclose(limits[10:, 0], expected_lo, atol=1e-9)
    assert_allclose(limits[10:, 1] - limits[10:, 0], 2.0, atol=1e-9)
    # One time constant after the step the window has covered 1 - 1/e of it.
    if tau.is_integer():
        k = int(tau) - 1
        assert_allclose((limits[10 + k, 0] - 299.0) / 5.0, 1.0 - np.exp(-1.0), atol=1e-9)


def test_agc_limits_no_smoothing() -> None:
    rng = np.random.default_rng(0)
    frames = 300.0 + rng.normal(0.0, 3.0, (6, 16, 16))
    limits = agc_limits(frames, 2.0, 98.0, time_constant_frames=0.0, min_span_k=0.01)
    expected = np.percentile(frames.reshape(6, -1), [2.0, 98.0], axis=1).T
    assert_allclose(limits, expected)


@pytest.mark.parametrize("min_span_k", [0.5, 2.0, 5.0])
def test_agc_limits_min_span(min_span_k: float) -> None:
    rng = np.random.default_rng(1)
    frames = 290.0 + rng.normal(0.0, 0.015, (12, 24, 32))  # uniform scene, NETD-like noise
    limits = agc_limits(frames, min_span_k=min_span_k)
    span = limits[:, 1] - limits[:, 0]
    assert (span >= min_span_k - 1e-9).all()
    assert_allclose(span, min_span_k, atol=1e-9)
    assert_allclose(limits.mean(axis=1), 290.0, atol=0.02)  # widened about the centre


def test_agc_limits_single_frame() -> None:
    frame = np.linspace(280.0, 320.0, 101).reshape(1, 101) * np.ones((5, 1))
    assert_allclose(agc_limits(frame, 0.0, 100.0), [[280.0, 320.0]])


@pytest.mark.parametrize(
    ("frames", "kwargs"),
    [
        (np.full((2, 4, 4), 300.0), {"low_percentile": 99.0, "high_percentile": 1.0}),
        (np.full((2, 4, 4), 300.0), {"high_percentile": 101.0}),
        (np.full((2, 4, 4), 300.0), {"low_percentile": -1.0}),
        (np.full((2, 4, 4), 300.0), {"time_constant_frames": -1.0}),
        (np.full((2, 4, 4), 300.0), {"min_span_k": 0.0}),
        (np.full((2, 4, 4), np.nan), {}),
        (np.zeros((0, 4, 4)), {}),
        (np.zeros((2, 2, 4, 4)), {}),
        (np.array(["a", "b"]), {}),
    ],
)
def test_agc_limits_invalid(frames: np.ndarray, kwargs: dict[str, float]) -> None:
    with pytest.raises(InputError) as info:
        agc_limits(frames, **kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("value_k", "expected"),
    [(290.0, 0), (300.0, 0), (305.0, 128), (310.0, 255), (320.0, 255), (302.0, 51)],
)
def test_to_8bit(value_k: float, expected: int) -> None:
    frames = np.full((3, 4, 5), value_k)
    gray = to_8bit(frames, (300.0, 310.0))
    assert gray.dtype == np.uint8
    assert gray.shape == (3, 4, 5)
    assert (gray == expected).all()


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int16, np.uint16])
def test_to_8bit_dtypes(dtype: type) -> None:
    frames = np.array([[[300, 302, 305, 310]]], dtype=dtype)
    assert_array_equal(to_8bit(frames, (300.0, 310.0)), [[[0, 51, 128, 255]]])


def test_to_8bit_single_frame() -> None:
    gray = to_8bit(np.full((4, 5), 305.0), (300.0, 310.0))
    assert gray.shape == (4, 5)
    assert (gray == 128).all()


def test_to_8bit_per_frame_limits() -> None:
    frames = np.full((2, 3, 3), 305.0)
    gray = to_8bit(frames, np.array([[300.0, 310.0], [305.0, 315.0]]))
    assert (gray[0] == 128).all()
    assert (gray[1] == 0).all()


def test_to_8bit_agc() -> None:
    frames = _step_scene()
    gray = to_8bit(frames)  # AGC with defaults
    assert gray.dtype == np.uint8
    assert gray.shape == frames.shape
    # Before the step the window fits the scene: 1 % .. 99 % percentiles near 0 and 255.
    assert gray[:10].min() == 0
    assert gray[:10].max() == 255
    # Just after the step the AGC still lags: the whole (hotter) scene saturates.
    assert (gray[10] > 200).mean() > 0.9


@pytest.mark.parametrize(
    ("frames", "limits"),
    [
        (np.full((2, 3, 3), 300.0), (310.0, 300.0)),
        (np.full((2, 3, 3), 300.0), (300.0, 300.0)),
        (np.full((2, 3, 3), 300.0), np.zeros((3, 2))),
        (np.full((2, 3, 3), 300.0), (300.0, np.inf)),
        (np.full((2, 3, 3), np.nan), (300.0, 310.0)),
        (np.zeros((3,)), (0.0, 1.0)),
    ],
)
def test_to_8bit_invalid(frames: np.ndarray, limits: object) -> None:
    with pytest.raises(InputError):
        to_8bit(frames, limits)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", PALETTE_NAMES)
def test_render_palette_video(name: str) -> None:
    frames = _step_scene(n_frames=5)
    rgb = render_palette_video(frames, name, limits=(298.0, 302.0))
    assert rgb.shape == (*frames.shape, 3)
    assert rgb.dtype == np.uint8
    assert_array_equal(rgb, apply_palette(to_8bit(frames, (298.0, 302.0)), name))


def test_render_palette_video_invalid() -> None:
    with pytest.raises(InputError, match="palette"):
        render_palette_video(np.full((2, 3, 3), 300.0), "jet")
