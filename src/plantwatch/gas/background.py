"""What the gas is seen against: sky, ground and structures, as band radiance per pixel.

Gas is visible only through thermal contrast with its background (GAS-PHYSICS.md), so the
background decides the clip: a clear sky is radiatively cold, sun-heated steel is hot, and
textures and moving things (people, vehicles, swaying vegetation, steam) are what a detector
must learn to ignore.

* Surfaces: ``L_b = eps B(T_s) + (1 - eps) L_down`` with ``T_s`` = air temperature + the
  object's offset + a smooth random texture + solar heating ``dT_sun max(0, n . s)``.
* Sky: angular emissivity ``eps(theta) = 1 - (1 - eps_zenith)^(1 / cos theta)`` (the form of
  Berdahl & Martin [1]), ``L_sky = eps(theta) B(T_air)``; towards the horizon the path thickens
  and the sky approaches air temperature.

References
----------
.. [1] P. Berdahl, M. Martin, "Emissivity of clear skies", Solar Energy 32 (1984) 663-664.
   Their form is for the broadband thermal infrared; using it per band with the band zenith
   emissivities below is an approximation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "SKY_ZENITH_EMISSIVITY",
    "sky_emissivity",
    "smooth_noise",
    "sun_unit_vector",
    "surface_radiance",
    "vibration_offsets_px",
]

# Zenith emissivity of the sky per camera band and sky state. Approximate values: the MWIR
# 3.2-3.4 um window is largely transparent in a clear sky (brightness temperatures some tens of
# kelvin below air temperature); 7-8.5 um lies on the water-vapour band edge and is more opaque;
# cloud makes either band nearly black at cloud-base temperature (~air temperature here).
SKY_ZENITH_EMISSIVITY: dict[str, dict[str, float]] = {
    "mwir": {"clear": 0.30, "hazy": 0.55, "overcast": 0.92},
    "lwir": {"clear": 0.60, "hazy": 0.78, "overcast": 0.95},
}


def sky_emissivity(
    cos_zenith: NDArray[np.float64], zenith_emissivity: float
) -> NDArray[np.float64]:
    """Sky emissivity along rays with ``cos_zenith`` (1 = straight up) [-], form of [1]."""
    c = np.clip(np.asarray(cos_zenith, dtype=np.float64), 1e-3, 1.0)
    return 1.0 - (1.0 - zenith_emissivity) ** (1.0 / c)


def sun_unit_vector(elevation_deg: float, azimuth_deg: float) -> NDArray[np.float64]:
    """Unit vector towards the sun in ENU (azimuth clockwise from north)."""
    el, az = math.radians(elevation_deg), math.radians(azimuth_deg)
    return np.array([math.cos(el) * math.sin(az), math.cos(el) * math.cos(az), math.sin(el)])


def smooth_noise(
    shape: tuple[int, int], scale_px: float, rng: np.random.Generator
) -> NDArray[np.float32]:
    """Zero-mean, unit-variance random field with Gaussian correlation length ``scale_px``.

    White noise filtered in the Fourier domain; periodic, which is harmless for textures.
    """
    h, w = shape
    white = rng.standard_normal((h, w))
    ky = np.fft.fftfreq(h)[:, None]
    kx = np.fft.rfftfreq(w)[None, :]
    filt = np.exp(-2.0 * (math.pi * scale_px) ** 2 * (kx**2 + ky**2))
    field = np.fft.irfft2(np.fft.rfft2(white) * filt, s=(h, w))
    std = field.std()
    return (field / std if std > 0 else field).astype(np.float32)


@dataclass(frozen=True)
class SurfaceRadiance:
    """Per-pixel background for one camera view."""

    radiance: NDArray[np.float32]  # (H, W) band radiance leaving the surface/sky [W m-2 sr-1]
    temperature_k: NDArray[np.float32]  # (H, W) surface temperature (sky: brightness temp)


def surface_radiance(
    temperature_k: NDArray[np.float64],
    emissivity: NDArray[np.float64],
    downwelling_radiance: float,
    radiance_of: object,
) -> NDArray[np.float32]:
    """``eps B(T) + (1 - eps) L_down`` [W m-2 sr-1]; ``radiance_of`` maps K -> band radiance."""
    emitted = radiance_of(temperature_k.astype(np.float32))  # type: ignore[operator]
    return (emissivity * emitted + (1.0 - emissivity) * downwelling_radiance).astype(np.float32)


def vibration_offsets_px(
    n_frames: int, fps: float, rms_px: float, frequency_hz: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Per-frame image shift (dx, dy) [px] of a vibrating or hand-held camera.

    Two incommensurate sinusoids per axis (structure or hand tremor) plus a slow random walk
    (drift of aim), scaled to the requested rms.
    """
    out = np.zeros((n_frames, 2))
    if rms_px <= 0:
        return out
    t = np.arange(n_frames) / fps
    for axis in range(2):
        phases = rng.uniform(0, 2 * math.pi, 2)
        f2 = frequency_hz * rng.uniform(1.4, 2.2)
        wave = np.sin(2 * math.pi * frequency_hz * t + phases[0]) + 0.5 * np.sin(
            2 * math.pi * f2 * t + phases[1]
        )
        drift = np.cumsum(rng.standard_normal(n_frames)) * 0.15
        signal = wave + drift - drift.mean()
        std = signal.std()
        out[:, axis] = signal / std * rms_px if std > 0 else 0.0
    return out
