"""Whether a camera can see a leak at all: the gas signal against the camera's noise.

A small leak in front of a background at air temperature, or far from the camera, changes no
pixel by more than the detector noise: no model (and no human operator) can find it in that clip.
Such clips are label noise for the leak score and the source heatmap, and they make the issue's
"≥ 95 % detection" unreachable by physics rather than by the model, so training and evaluation
tell them apart as *undetectable*.

The gas at air temperature ``T_air`` with band absorptance ``A`` in front of a background of
apparent temperature ``T_bg`` shows (linearised in temperature)
``T_obs = (1 - A) T_bg + A T_air``, so its signal is
``T_bg - T_obs = A (T_bg - T_air) = A / (1 - A) (T_obs - T_air)``, computable from the observed
frames and the simulator's column density alone (no gas-free rendering needed). A leak is
*detectable* in a window when at least :data:`DETECTABLE_MIN_PX` pixels (per 320x240 image, scaled
with the image area) have a window-mean signal of at least :data:`DETECTABLE_NETD_MULTIPLE`
times the camera's NETD: one NETD on an 8-frame mean is ~3 standard deviations of its noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from plantwatch.gas.radiometry import curve_of_growth

__all__ = [
    "DETECTABLE_MIN_PX",
    "DETECTABLE_NETD_MULTIPLE",
    "count_detectable_px",
    "detectable_gas_px",
    "gas_signal_k",
    "is_detectable",
    "min_detectable_px",
    "signal_from_transmittance",
]

DETECTABLE_NETD_MULTIPLE = 1.0  # window-mean |signal| >= this x NETD
DETECTABLE_MIN_PX = 10  # ... over at least this many pixels of a 320x240 image
_COG_REFERENCE_K = 296.0  # the curve of growth counts molecules at 296 K (as the simulator)


def gas_signal_k(
    frames_k: NDArray[np.floating],
    column_ppm_m: NDArray[np.floating],
    air_temperature_k: float,
    species: str,
    band: str = "mwir",
) -> NDArray[np.float64]:
    """(T, H, W) frames [K] and column [ppm·m] -> (H, W) time-mean gas signal ``T_bg - T_obs`` [K].

    Positive where the gas is seen in absorption (background warmer than the air), negative in
    emission.
    """
    cog = curve_of_growth(species, band)
    frames = np.asarray(frames_k, np.float32)
    column = np.asarray(column_ppm_m, np.float32)
    t, h, w = frames.shape
    # only pixels with gas contribute: a plume covers a few % of a clip, so skip the rest
    flat = np.flatnonzero(column > 0)
    trans = cog.transmittance_of(
        column.ravel()[flat] * np.float32(_COG_REFERENCE_K / air_temperature_k)
    )
    values = _signal(trans, frames.ravel()[flat], air_temperature_k)
    total = np.bincount(flat % (h * w), weights=values, minlength=h * w)
    return np.asarray(total.reshape(h, w) / t)


def signal_from_transmittance(
    frames_k: NDArray[np.floating], transmittance: NDArray[np.floating], air_temperature_k: float
) -> NDArray[np.float64]:
    """:func:`gas_signal_k` from a band transmittance the caller already has (the simulator)."""
    signal = _signal(np.asarray(transmittance, np.float32), frames_k, air_temperature_k)
    return np.asarray(signal.mean(axis=0, dtype=np.float64))


def _signal(
    transmittance: NDArray[np.float32], frames_k: NDArray[np.floating], air_temperature_k: float
) -> NDArray[np.float32]:
    """Per-value ``T_bg - T_obs = A / (1 - A) (T_obs - T_air)`` with ``A = 1 - t``."""
    ratio = (1.0 - transmittance) / np.maximum(transmittance, np.float32(1e-6))
    return ratio * (np.asarray(frames_k, np.float32) - np.float32(air_temperature_k))


def count_detectable_px(signal_k: NDArray[np.floating], netd_mk: float) -> int:
    """Pixels of a mean gas signal [K] reaching :data:`DETECTABLE_NETD_MULTIPLE` x NETD."""
    floor_k = DETECTABLE_NETD_MULTIPLE * max(float(netd_mk) * 1e-3, 1e-6)
    return int(np.count_nonzero(np.abs(signal_k) >= floor_k))


def detectable_gas_px(
    frames_k: NDArray[np.floating], column_ppm_m: NDArray[np.floating], labels: dict[str, Any]
) -> int:
    """Pixels whose window-mean gas signal reaches :data:`DETECTABLE_NETD_MULTIPLE` x NETD."""
    signal = gas_signal_k(
        frames_k,
        column_ppm_m,
        float(labels["atmosphere"]["air_temperature_k"]),
        str(labels["species"]),
        str(labels["camera"].get("band", "mwir")),
    )
    return count_detectable_px(signal, float(labels["camera"]["netd_mk"]))


def is_detectable(
    frames_k: NDArray[np.floating],
    column_ppm_m: NDArray[np.floating] | None,
    labels: dict[str, Any],
) -> bool:
    """True for a leak whose gas the camera sees in these frames (False without a leak)."""
    if not labels.get("leak") or column_ppm_m is None:
        return False
    _, h, w = np.shape(frames_k)
    return detectable_gas_px(frames_k, column_ppm_m, labels) >= min_detectable_px(h, w)


def min_detectable_px(height_px: int, width_px: int) -> int:
    """:data:`DETECTABLE_MIN_PX` scaled from a 320x240 image to this one (at least 1)."""
    return max(1, round(DETECTABLE_MIN_PX * height_px * width_px / (320 * 240)))
