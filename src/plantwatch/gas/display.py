"""How a gas camera turns radiometric frames into 8-bit video: AGC, palettes and their inverse.

An optical gas imaging (OGI) camera measures apparent temperature per pixel, but what leaves the
camera (and what most real footage is) is 8-bit video: an automatic gain control (AGC) picks a
temperature window per frame, the window is mapped linearly onto 0..255, and a palette colours
the gray levels. This module does those three steps as pure vectorised functions, plus the
inverse mapping (palette colour -> gray level) needed to read real palette video back.

Conventions: gray level 255 is the hottest end of the window in every palette ("white-hot" shows
it white, "black-hot" black, "iron" and "rainbow" white); so a gray level read back with
:func:`gray_from_palette` always increases with apparent temperature.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import lfilter
from scipy.spatial import cKDTree

from plantwatch.errors import InputError

__all__ = [
    "LUMA_WEIGHTS",
    "PALETTE_NAMES",
    "agc_limits",
    "apply_palette",
    "gray_from_palette",
    "luminance",
    "palette_lut",
    "render_palette_video",
    "to_8bit",
]

PALETTE_NAMES = ("white-hot", "black-hot", "iron", "rainbow")

# Luma weights of Rec. ITU-R BT.601 (Y' = 0.299 R' + 0.587 G' + 0.114 B'), the weights video
# codecs use for yuv420p, so "luminance" here is the Y plane a decoder would give.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

# Control points (position in 0..1, RGB) of the colour palettes; linear interpolation between
# them gives the 256-entry tables. "iron" follows the classic thermography "ironbow" (black ->
# indigo -> purple -> red -> orange -> yellow -> white); its points are chosen so that BT.601
# luminance rises strictly at every step, which keeps the palette readable as a gray scale and
# invertible. "rainbow" is the hue sweep thermal cameras offer as "rainbow" (luminance is not
# monotonic there; only the colour identifies the level).
_CONTROL_POINTS: dict[str, tuple[tuple[float, tuple[int, int, int]], ...]] = {
    "iron": (
        (0.00, (0, 0, 0)),
        (0.15, (40, 0, 110)),
        (0.30, (120, 0, 150)),
        (0.45, (200, 30, 110)),
        (0.60, (240, 80, 30)),
        (0.75, (255, 150, 0)),
        (0.90, (255, 220, 60)),
        (1.00, (255, 255, 255)),
    ),
    "rainbow": (
        (0.00, (0, 0, 0)),
        (0.10, (80, 0, 150)),
        (0.25, (0, 0, 255)),
        (0.40, (0, 200, 255)),
        (0.55, (0, 210, 60)),
        (0.70, (255, 255, 0)),
        (0.85, (255, 0, 0)),
        (1.00, (255, 255, 255)),
    ),
}

# Weights of (Y, Cb, Cr) in the nearest-colour search of gray_from_palette: compressed video keeps
# luma at full resolution but subsamples and quantises chroma (4:2:0), so luma is trusted more.
_INVERSE_CHROMA_WEIGHT = 0.5


def _check_palette(palette: str) -> str:
    if palette not in PALETTE_NAMES:
        raise InputError(
            f"unknown palette {palette!r}; use one of {', '.join(PALETTE_NAMES)}", field="palette"
        )
    return palette


@lru_cache(maxsize=len(PALETTE_NAMES))
def _lut(palette: str) -> NDArray[np.uint8]:
    levels = np.arange(256, dtype=np.float64)
    if palette == "white-hot":
        table = np.repeat(levels[:, None], 3, axis=1)
    elif palette == "black-hot":
        table = np.repeat(255.0 - levels[:, None], 3, axis=1)
    else:
        positions = np.array([p for p, _ in _CONTROL_POINTS[palette]]) * 255.0
        colours = np.array([c for _, c in _CONTROL_POINTS[palette]], dtype=np.float64)
        table = np.stack([np.interp(levels, positions, colours[:, ch]) for ch in range(3)], axis=1)
    lut = np.rint(table).astype(np.uint8)
    lut.setflags(write=False)
    return lut


def palette_lut(name: str) -> NDArray[np.uint8]:
    """Colour table of a display palette.

    Parameters
    ----------
    name
        One of :data:`PALETTE_NAMES`.

    Returns
    -------
    NDArray[np.uint8]
        (256, 3) RGB colour of each gray level; level 255 is the hot end of the AGC window.

    Raises
    ------
    InputError
        If `name` is not a known palette.
    """
    return _lut(_check_palette(name)).copy()


def luminance(rgb_u8: ArrayLike) -> NDArray[np.float64]:
    """BT.601 luma of RGB colours, ``Y = 0.299 R + 0.587 G + 0.114 B`` [gray levels 0..255].

    Parameters
    ----------
    rgb_u8
        (..., 3) RGB values.

    Returns
    -------
    NDArray[np.float64]
        (...) luma, not rounded.
    """
    rgb = np.asarray(rgb_u8, dtype=np.float64)
    return rgb @ np.asarray(LUMA_WEIGHTS)


def _as_frames(frames_k: ArrayLike, name: str = "frames_k") -> NDArray[np.floating]:
    """Validate (T, H, W) or (H, W) real frames and return them as a float array (no copy)."""
    frames = np.asarray(frames_k)
    if frames.dtype.kind not in "fiu":
        raise InputError(f"dtype {frames.dtype} is not a real number type; pass kelvin", name)
    if frames.ndim not in (2, 3) or frames.size == 0:
        raise InputError(f"shape {frames.shape} is not a non-empty (T, H, W) or (H, W) array", name)
    if frames.dtype.kind != "f":
        frames = frames.astype(np.float64)
    elif frames.dtype.itemsize < 4:
        frames = frames.astype(np.float32)  # float16 resolves only 0.25 K near 300 K
    return frames


def agc_limits(
    frames_k: ArrayLike,
    low_percentile: float = 1.0,
    high_percentile: float = 99.0,
    time_constant_frames: float = 8.0,
    min_span_k: float = 0.5,
) -> NDArray[np.float64]:
    """Per-frame display window of a camera's automatic gain control (AGC).

    Each frame's window is the (`low_percentile`, `high_percentile`) pair of its histogram; both
    ends are smoothed over time by a first-order low-pass filter (cameras adapt their gain
    gradually, which is why a hot object entering the view slowly dims the rest of the scene);
    finally a window narrower than `min_span_k` is widened about its centre, so that NETD noise
    on a uniform scene is not stretched to full contrast.

    Parameters
    ----------
    frames_k
        (T, H, W) or (H, W) apparent temperature [K].
    low_percentile, high_percentile
        Histogram percentiles of the window ends [%], ``0 <= low < high <= 100``.
    time_constant_frames
        Time constant ``tau`` of the smoothing filter [frames]; 0 disables smoothing.
    min_span_k
        Smallest window width [K], > 0.

    Returns
    -------
    NDArray[np.float64]
        (T, 2) window ``[lo, hi]`` per frame [K] ((1, 2) for a single (H, W) frame).

    Raises
    ------
    InputError
        On an invalid argument, or frames containing NaN.

    Notes
    -----
    The filter is the exact discretisation (zero-order hold) of ``tau dy/dt = x - y``:

    .. math::

        y_t = y_{t-1} + \\alpha (x_t - y_{t-1}), \\quad \\alpha = 1 - e^{-1/\\tau},

    started at ``y_0 = x_0``. After a step in the percentile at frame ``t0`` the window has
    covered ``1 - exp(-(n + 1)/tau)`` of the step by frame ``t0 + n``.
    """
    frames = _as_frames(frames_k)
    if frames.ndim == 2:
        frames = frames[None]
    if not 0.0 <= low_percentile < high_percentile <= 100.0:
        raise InputError(
            f"percentiles ({low_percentile}, {high_percentile}) must satisfy "
            "0 <= low < high <= 100",
            "low_percentile",
        )
    if not (np.isfinite(time_constant_frames) and time_constant_frames >= 0.0):
        raise InputError(
            f"{time_constant_frames} is not >= 0 frames; use 0 for no smoothing",
            "time_constant_frames",
        )
    if not (np.isfinite(min_span_k) and min_span_k > 0.0):
        raise InputError(f"{min_span_k} K is not a positive window width", "min_span_k")

    n_frames = frames.shape[0]
    percentiles = np.percentile(
        frames.reshape(n_frames, -1), [low_percentile, high_percentile], axis=1
    ).T.astype(np.float64)  # (T, 2)
    if not np.isfinite(percentiles).all():
        raise InputError(
            "frames contain NaN or are mostly infinite; replace dead pixels before display",
            "frames_k",
        )
    if time_constant_frames > 0.0:
        alpha = 1.0 - np.exp(-1.0 / time_constant_frames)
        initial = (1.0 - alpha) * percentiles[0]  # state that makes y_0 = x_0
        limits = lfilter([alpha], [1.0, alpha - 1.0], percentiles, axis=0, zi=initial[None])[0]
    else:
        limits = percentiles
    centre = limits.mean(axis=1)
    half_span = np.maximum(limits[:, 1] - limits[:, 0], min_span_k) / 2.0
    return np.stack([centre - half_span, centre + half_span], axis=1)


def to_8bit(frames_k: ArrayLike, limits: ArrayLike | None = None) -> NDArray[np.uint8]:
    """Map apparent temperature onto 8-bit gray levels through a display window.

    ``gray = round(255 (T - lo) / (hi - lo))``, clipped to 0..255.

    Parameters
    ----------
    frames_k
        (T, H, W) or (H, W) apparent temperature [K].
    limits
        None for automatic gain (:func:`agc_limits` with its defaults); a ``(lo, hi)`` pair [K]
        for fixed (manual) gain; or a (T, 2) array of per-frame windows [K].

    Returns
    -------
    NDArray[np.uint8]
        Gray levels, same shape as `frames_k`.

    Raises
    ------
    InputError
        On bad shapes, a window with ``hi <= lo``, or NaN in the frames.
    """
    frames = _as_frames(frames_k)
    single = frames.ndim == 2
    stack = frames[None] if single else frames
    if limits is None:
        window = agc_limits(stack)
    else:
        window = np.asarray(limits, dtype=np.float64)
        if window.shape == (2,):
            window = np.broadcast_to(window, (stack.shape[0], 2))
        if window.shape != (stack.shape[0], 2):
            raise InputError(
                f"shape {window.shape} is neither (lo, hi) nor (T, 2) with T = {stack.shape[0]}",
                "limits",
            )
        if not (np.isfinite(window).all() and (window[:, 1] > window[:, 0]).all()):
            raise InputError("every window needs finite lo < hi [K]", "limits")
    # Work in the input's float precision (float32 resolves 0.03 mK at 300 K: ample for 8 bits).
    dtype = stack.dtype
    lo = window[:, 0, None, None].astype(dtype)
    scale = (255.0 / (window[:, 1] - window[:, 0]))[:, None, None].astype(dtype)
    scaled = stack - lo
    scaled *= scale
    if np.isnan(scaled).any():
        raise InputError("frames contain NaN; replace dead pixels before display", "frames_k")
    np.clip(scaled, 0.0, 255.0, out=scaled)
    gray = np.rint(scaled, out=scaled).astype(np.uint8)
    return gray[0] if single else gray


def apply_palette(gray_u8: ArrayLike, palette: str = "white-hot") -> NDArray[np.uint8]:
    """Colour 8-bit gray levels with a palette.

    Parameters
    ----------
    gray_u8
        Gray levels of any shape, dtype uint8.
    palette
        One of :data:`PALETTE_NAMES`.

    Returns
    -------
    NDArray[np.uint8]
        (..., 3) RGB.

    Raises
    ------
    InputError
        If `gray_u8` is not uint8 or the palette is unknown.
    """
    gray = np.asarray(gray_u8)
    if gray.dtype != np.uint8:
        raise InputError(f"dtype {gray.dtype} is not uint8; convert with to_8bit first", "gray_u8")
    return _lut(_check_palette(palette))[gray]


def render_palette_video(
    frames_k: ArrayLike, palette: str = "white-hot", limits: ArrayLike | None = None
) -> NDArray[np.uint8]:
    """Render radiometric frames as a camera would show them: gain, then palette.

    Parameters
    ----------
    frames_k
        (T, H, W) or (H, W) apparent temperature [K].
    palette
        One of :data:`PALETTE_NAMES`.
    limits
        As in :func:`to_8bit`: None for AGC, ``(lo, hi)`` [K] or (T, 2) [K] for fixed gain.

    Returns
    -------
    NDArray[np.uint8]
        (T, H, W, 3) (or (H, W, 3)) RGB.
    """
    _check_palette(palette)
    return apply_palette(to_8bit(frames_k, limits), palette)


def _inverse_features(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    """(N, 3) RGB -> weighted (Y, Cb, Cr) coordinates for the nearest-colour search (BT.601)."""
    to_ycbcr = np.array(
        [
            list(LUMA_WEIGHTS),
            [-0.168736, -0.331264, 0.5],
            [0.5, -0.418688, -0.081312],
        ]
    )
    weights = np.array([1.0, _INVERSE_CHROMA_WEIGHT, _INVERSE_CHROMA_WEIGHT])
    return (rgb @ to_ycbcr.T) * weights


@lru_cache(maxsize=len(PALETTE_NAMES))
def _inverse_tree(palette: str) -> cKDTree:
    return cKDTree(_inverse_features(_lut(palette).astype(np.float64)))


def gray_from_palette(rgb_u8: ArrayLike, palette: str) -> NDArray[np.uint8]:
    """Recover gray levels from palette-coloured 8-bit video (inverse of :func:`apply_palette`).

    Parameters
    ----------
    rgb_u8
        (..., 3) RGB, dtype uint8 (e.g. decoded frames of real palette video).
    palette
        The palette the video was rendered with, one of :data:`PALETTE_NAMES`.

    Returns
    -------
    NDArray[np.uint8]
        (...) gray levels, 255 = hot end of the window.

    Raises
    ------
    InputError
        On a non-uint8 or non-RGB array, or an unknown palette.

    Notes
    -----
    "white-hot" returns the BT.601 luma, "black-hot" ``255 -`` luma, so gray video passes through
    (inverted for black-hot). For "iron" and "rainbow" each distinct colour is matched to the
    nearest palette entry in (Y, Cb, Cr) space with chroma weighted by 0.5, since codecs keep
    luma sharper than chroma; exact palette colours map back exactly.
    """
    rgb = np.asarray(rgb_u8)
    if rgb.dtype != np.uint8 or rgb.ndim < 1 or rgb.shape[-1] != 3:
        raise InputError(
            f"expected (..., 3) uint8 RGB, got shape {rgb.shape} dtype {rgb.dtype}", "rgb_u8"
        )
    _check_palette(palette)
    if palette in ("white-hot", "black-hot"):
        luma = np.rint(luminance(rgb)).astype(np.uint8)
        return luma if palette == "white-hot" else 255 - luma
    # Match each distinct colour once: real video has far fewer colours than pixels.
    packed = (
        (rgb[..., 0].astype(np.int32) << 16)
        | (rgb[..., 1].astype(np.int32) << 8)
        | rgb[..., 2].astype(np.int32)
    )
    colours, inverse = np.unique(packed.ravel(), return_inverse=True)
    colours_rgb = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=1)
    _, nearest = _inverse_tree(palette).query(_inverse_features(colours_rgb.astype(np.float64)))
    return nearest.astype(np.uint8)[inverse].reshape(rgb.shape[:-1])
