"""Temporal fluctuation component of gas-camera video (the validation images of seed 000).

Seed 000 (Asano, Morimoto and Kiuchi, Konica Minolta Technology Report 18, 2021, Fig. 3)
checks its plume simulator by comparing "extracted images of the gas fluctuation component" of
real and simulated video. The slow part of each pixel's signal (background, mean plume, AGC
drift) is removed by subtracting a running mean of about a second; what remains is the turbulent
flicker by which a person (and a detector) sees gas move. These functions compute that component,
its per-pixel RMS and a two-panel picture for people. Pure numpy; no I/O.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from plantwatch.errors import InputError
from plantwatch.gas.display import apply_palette, to_8bit

__all__ = [
    "DIVERGING_CONTROL_POINTS",
    "PANEL_GAP_PX",
    "fluctuation_component",
    "fluctuation_image",
    "fluctuation_rms",
    "moving_average",
    "window_frames",
]

# Width of the separator between the two panels of fluctuation_image [px] and its colour.
PANEL_GAP_PX = 4
_SEPARATOR_RGB = (128, 128, 128)  # mid gray: shows against the light left and dark right panel

# Diverging map for signed values, ColorBrewer "RdBu" (5 classes, reversed so that negative is
# blue and positive red), Brewer, Harrower and The Pennsylvania State University, colorbrewer2.org.
# Positions are the value divided by the display scale, -1..1; 0 is the neutral light gray.
DIVERGING_CONTROL_POINTS = (
    (-1.0, (5, 113, 176)),
    (-0.5, (146, 197, 222)),
    (0.0, (247, 247, 247)),
    (0.5, (244, 165, 130)),
    (1.0, (202, 0, 32)),
)

# Robust display scaling: percentiles [%] of |component| (left panel) and of the RMS map (right).
_COMPONENT_SCALE_PERCENTILE = 99.0
_RMS_PERCENTILES = (1.0, 99.0)

# Pixels per chunk in moving_average, so the float64 cumulative sum stays small (~64 MB at T=1000).
_CHUNK_ELEMENTS = 8_000_000


def _as_video(frames: ArrayLike) -> NDArray[np.floating]:
    video = np.asarray(frames)
    if video.dtype.kind not in "fiu":
        raise InputError(f"dtype {video.dtype} is not a real number type", "frames")
    if video.ndim < 1 or video.shape[0] == 0 or video.size == 0:
        raise InputError(f"shape {video.shape} has no frames; pass a (T, H, W) array", "frames")
    return video


def window_frames(fps: float, window_s: float) -> int:
    """Length of the centred moving-average window [frames]: ``round(window_s fps)``, made odd.

    Parameters
    ----------
    fps
        Frame rate [s-1], > 0.
    window_s
        Window length [s], > 0.

    Returns
    -------
    int
        Odd window length >= 1 [frames] (an even rounding is lengthened by one frame).

    Raises
    ------
    InputError
        If `fps` or `window_s` is not a positive finite number.
    """
    if not (np.isfinite(fps) and fps > 0.0):
        raise InputError(f"{fps} is not a positive frame rate [s-1]", "fps")
    if not (np.isfinite(window_s) and window_s > 0.0):
        raise InputError(f"{window_s} s is not a positive window length", "window_s")
    n = max(1, round(window_s * fps))
    return n if n % 2 == 1 else n + 1


def moving_average(frames: ArrayLike, fps: float, window_s: float = 1.0) -> NDArray[np.float32]:
    """Centred running mean along the time axis (axis 0).

    Parameters
    ----------
    frames
        (T, ...) video, e.g. (T, H, W) apparent temperature [K] or gray levels.
    fps
        Frame rate [s-1].
    window_s
        Window length [s]; the window is :func:`window_frames` frames long, centred.

    Returns
    -------
    NDArray[np.float32]
        (T, ...) mean of each pixel over the window, in the unit of `frames`.

    Raises
    ------
    InputError
        On an empty or non-numeric array, or a bad `fps` / `window_s`.

    Notes
    -----
    With ``h = (n - 1) / 2`` for a window of ``n`` frames,

    .. math::

        \\bar{x}_t = \\frac{1}{b - a + 1} \\sum_{s=a}^{b} x_s, \\quad a = \\max(0, t - h),
        \\quad b = \\min(T - 1, t + h),

    so near the ends the window shrinks to the frames that exist (no wrap-around, no padding);
    there it is no longer centred, and a linear trend is not fully removed within ``h`` frames
    of either end. Computed from cumulative sums in float64: O(T H W) whatever the window.
    """
    video = _as_video(frames)
    half = window_frames(fps, window_s) // 2
    n_frames = video.shape[0]
    flat = video.reshape(n_frames, -1)
    out = np.empty(flat.shape, dtype=np.float32)
    t = np.arange(n_frames)
    start = np.maximum(t - half, 0)
    stop = np.minimum(t + half, n_frames - 1) + 1
    count = (stop - start).astype(np.float64)[:, None]
    chunk = max(1, _CHUNK_ELEMENTS // (n_frames + 1))
    for first in range(0, flat.shape[1], chunk):
        block = flat[:, first : first + chunk]
        cumulative = np.zeros((n_frames + 1, block.shape[1]), dtype=np.float64)
        np.cumsum(block, axis=0, dtype=np.float64, out=cumulative[1:])
        out[:, first : first + chunk] = (cumulative[stop] - cumulative[start]) / count
    return out.reshape(video.shape)


def fluctuation_component(
    frames: ArrayLike, fps: float, window_s: float = 1.0
) -> NDArray[np.float32]:
    """Temporal fluctuation component: the video minus its centred moving average.

    Removes the slow component (background, mean plume, gain drift) and keeps the turbulent
    flicker of the gas, as in Fig. 3 of seed 000 [1].

    Parameters
    ----------
    frames
        (T, ...) video, e.g. (T, H, W) apparent temperature [K] or gray levels.
    fps
        Frame rate [s-1].
    window_s
        Moving-average window [s]; fluctuations slower than about ``1 / window_s`` are removed.

    Returns
    -------
    NDArray[np.float32]
        (T, ...) ``x_t - x̄_t`` (:func:`moving_average`), in the unit of `frames`.

    References
    ----------
    .. [1] M. Asano, T. Morimoto, M. Kiuchi, "Advanced Gas Monitoring System for Smart Industrial
       Safety", Konica Minolta Technology Report 18 (2021), Fig. 3.
    """
    video = _as_video(frames)
    mean = moving_average(video, fps, window_s)
    return (video.astype(np.float64) - mean).astype(np.float32)


def fluctuation_rms(frames: ArrayLike, fps: float, window_s: float = 1.0) -> NDArray[np.float32]:
    """Root mean square over time of the fluctuation component, per pixel.

    Parameters
    ----------
    frames
        (T, H, W) video [K] or gray levels.
    fps
        Frame rate [s-1].
    window_s
        Moving-average window [s].

    Returns
    -------
    NDArray[np.float32]
        (H, W) ``sqrt(mean_t c_t^2)`` in the unit of `frames`; high where gas flickers.
    """
    component = fluctuation_component(frames, fps, window_s)
    return np.sqrt(np.mean(np.square(component, dtype=np.float64), axis=0)).astype(np.float32)


def _diverging_rgb(values: NDArray[np.floating], scale: float) -> NDArray[np.uint8]:
    """Signed values -> RGB with the diverging map, exactly symmetric about 0."""
    u = np.clip(values / scale, -1.0, 1.0)
    positions = [p for p, _ in DIVERGING_CONTROL_POINTS]
    colours = np.array([c for _, c in DIVERGING_CONTROL_POINTS], dtype=np.float64)
    rgb = np.stack([np.interp(u, positions, colours[:, ch]) for ch in range(3)], axis=-1)
    return np.rint(rgb).astype(np.uint8)


def fluctuation_image(
    frames: ArrayLike, fps: float, window_s: float = 1.0, frame_index: int | None = None
) -> NDArray[np.uint8]:
    """Two-panel picture of the fluctuation component for a person to look at.

    Left: the component at one frame, in a diverging map symmetric about 0 (blue below the
    running mean, red above), scaled to the 99th percentile of its magnitude. Right: the RMS map
    (:func:`fluctuation_rms`) in the iron palette, scaled between its 1st and 99th percentiles.
    The panels are separated by a mid-gray bar :data:`PANEL_GAP_PX` pixels wide.

    Parameters
    ----------
    frames
        (T, H, W) video [K] or gray levels.
    fps
        Frame rate [s-1].
    window_s
        Moving-average window [s].
    frame_index
        Frame shown in the left panel, ``0 <= frame_index < T``; None for the middle frame.

    Returns
    -------
    NDArray[np.uint8]
        (H, 2 W + PANEL_GAP_PX, 3) RGB.

    Raises
    ------
    InputError
        If `frames` is not (T, H, W) or `frame_index` is out of range.
    """
    video = _as_video(frames)
    if video.ndim != 3:
        raise InputError(f"shape {video.shape} is not (T, H, W)", "frames")
    n_frames, height, width = video.shape
    index = n_frames // 2 if frame_index is None else frame_index
    if not 0 <= index < n_frames:
        raise InputError(f"{frame_index} is outside 0..{n_frames - 1}", "frame_index")

    component = fluctuation_component(video, fps, window_s)
    rms = np.sqrt(np.mean(np.square(component, dtype=np.float64), axis=0))

    frame = component[index].astype(np.float64)
    scale = float(np.percentile(np.abs(frame), _COMPONENT_SCALE_PERCENTILE))
    left = _diverging_rgb(frame, scale if scale > 0.0 else 1.0)

    lo, hi = (float(v) for v in np.percentile(rms, _RMS_PERCENTILES))
    if not hi > lo:
        hi = lo + max(abs(lo), 1.0) * 1e-6
    right = apply_palette(to_8bit(rms, (lo, hi)), "iron")

    picture = np.empty((height, 2 * width + PANEL_GAP_PX, 3), dtype=np.uint8)
    picture[:, :width] = left
    picture[:, width : width + PANEL_GAP_PX] = _SEPARATOR_RGB
    picture[:, width + PANEL_GAP_PX :] = right
    return picture
