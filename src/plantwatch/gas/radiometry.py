r"""Infrared band radiometry and curve-of-growth gas absorptance for optical gas imaging.

What a gas camera sees through a gas column of band transmittance ``t`` at gas temperature
``T_g`` in front of a background of band radiance ``L_b`` is (GAS-PHYSICS.md)

.. math:: L = t\, L_b + (1 - t)\, B(T_g)

with ``B`` the Planck radiance integrated over the camera band. This module provides

* the camera bands (``BAND_NAMES``: cooled MWIR 3.2-3.4 um, uncooled LWIR 7.0-8.5 um), each with
  a flat (top-hat) filter response: 1 inside the band, 0 outside. Real cold filters have sloped
  edges and a peak transmission below 1; a constant transmission factor cancels in apparent
  temperature, the sloped edges are not modelled;
* Planck's law in wavenumber form and its exact band integral (Gauss-Legendre quadrature);
* a fast look-up table (``RadianceTable``) between temperature and band radiance for the
  millions of pixels of a clip;
* band-averaged absorptance versus column density (``CurveOfGrowth``): line-by-line from the
  HITRAN2012 line list for methane in the MWIR band, and a (two-group) Malkmus statistical band
  model, with its shape fitted to that line-by-line table, for the other species/bands (band
  intensities from :mod:`plantwatch.gas.species`).

Band-averaged transmittance is ``mean(exp(-sigma(nu) N))`` over the band, not
``exp(-mean(sigma) N)``: strong lines saturate, so a column of 10,000 ppm m of methane absorbs
about 20 % of MWIR band radiance, not the 72 % a single mean cross-section would give.

References
----------
.. [1] M. Planck, Ann. Phys. 309 (1901) 553-563; in wavenumber form e.g. M. F. Modest,
   Radiative Heat Transfer, 3rd ed., Academic Press 2013, Chapter 1.
.. [2] L. S. Rothman et al., "The HITRAN2012 molecular spectroscopic database", JQSRT 130 (2013)
   4-50, Section on the line-by-line formalism (line intensity, pressure broadening
   ``gamma(p, T) = gamma_air p (296/T)^n_air``, pressure shift ``delta p``).
.. [3] W. Malkmus, "Random Lorentz band model with exponential-tailed S-1 line-intensity
   distribution function", J. Opt. Soc. Am. 57 (1967) 323-329; narrow-band transmissivity in
   the form of A. Soufiani and J. Taine, Int. J. Heat Mass Transfer 40 (1997) 987-991, and
   Modest (ref. 1), chapter on narrow-band models.
.. [4] S. W. Sharpe, T. J. Johnson, R. L. Sams, P. M. Chu, G. C. Rhoderick, P. A. Johnson,
   "Gas-phase databases for quantitative infrared spectroscopy", Appl. Spectrosc. 58 (2004)
   1452-1461 (PNNL spectrum shipped as ``methane_pnnl_2940-3125cm-1.csv``).
.. [5] F. Schreier, "Optimized implementations of rational approximations for the Voigt and
   complex error function", JQSRT 112 (2011) 1010-1025 (Voigt profile as ``Re w(z)``).
.. [6] FEAST (EAOgroup/FEAST, MIT licence), source of the shipped methane data files; camera
   band 3.2-3.4 um as in FEAST's infrared camera model.
"""

from __future__ import annotations

import argparse
import functools
import importlib.resources
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import PchipInterpolator
from scipy.optimize import minimize, minimize_scalar
from scipy.special import wofz

from plantwatch.errors import DataError, InputError
from plantwatch.gas.species import get_band_intensity, get_species
from plantwatch.units import (
    AVOGADRO_PER_MOL,
    BOLTZMANN_J_K,
    PLANCK_J_S,
    SPEED_OF_LIGHT_M_S,
)

__all__ = [
    "BAND_NAMES",
    "Band",
    "BandModelParameters",
    "CurveOfGrowth",
    "HitranLines",
    "RadianceTable",
    "apparent_radiance",
    "band_absorptance_from_cross_section",
    "band_model_absorptance",
    "band_model_parameters",
    "band_radiance",
    "band_radiance_derivative",
    "build_methane_mwir_curve_of_growth",
    "cog_columns_ppm_m",
    "curve_of_growth",
    "fit_band_model",
    "fit_malkmus_line_structure",
    "get_band",
    "line_by_line_cross_section_cm2",
    "load_methane_hitran_lines",
    "malkmus_absorptance",
    "planck_radiance_wavenumber",
    "ppm_m_to_molecules_cm2",
    "radiance_table",
    "read_curve_of_growth_csv",
    "write_curve_of_growth_csv",
]

BAND_NAMES: tuple[str, ...] = ("mwir", "lwir")

# Radiation constants from CODATA 2018 exact h, c, k (units.py):
# first constant 2 h c^2 [W m2 sr-1], second constant h c / k [m K] -> [cm K].
_C1_W_M2_SR = 2.0 * PLANCK_J_S * SPEED_OF_LIGHT_M_S**2
_C2_CM_K = PLANCK_J_S * SPEED_OF_LIGHT_M_S / BOLTZMANN_J_K * 100.0
# Reference state of the HITRAN line intensities and of the shipped table: 296 K, 1 atm [2].
HITRAN_REFERENCE_TEMPERATURE_K = 296.0
STANDARD_ATMOSPHERE_PA = 101_325.0  # 1 atm, exact by definition (CGPM 1954)

_DATA_PACKAGE = "plantwatch"
_DATA_DIR = ("data", "absorption")
METHANE_LINE_FILE = "methane_hitran2012_2940-3125cm-1.csv"
METHANE_PNNL_FILE = "methane_pnnl_2940-3125cm-1.csv"
METHANE_MWIR_TABLE_FILE = "methane_mwir_cog.csv"

# Gauss-Legendre nodes for band integrals: 64 nodes integrate the smooth Planck function over a
# camera band (< 1000 cm-1 wide) to machine precision (16 already do); 400 nodes for wider bands
# (checked against Stefan-Boltzmann over 1-20,000 cm-1 in the tests).
_N_GAUSS_NODES_NARROW = 64
_N_GAUSS_NODES_WIDE = 400
_NARROW_BAND_WIDTH_CM = 1_000.0
# Radiance look-up table: 100-1200 K in 0.05 K steps; linear interpolation error < 1e-4 K.
_TABLE_T_MIN_K = 100.0
_TABLE_T_MAX_K = 1200.0
_TABLE_T_STEP_K = 0.05
_INVERSE_TABLE_SIZE = 32_768  # uniform in ln(L); interpolation error < 1e-4 K at 1000 K
# Curve-of-growth columns: 0 plus 20 log-spaced points per decade, 1e-2 to 1e7 ppm m.
COG_COLUMN_MIN_PPM_M = 1.0e-2
COG_COLUMN_MAX_PPM_M = 1.0e7
_COG_POINTS_PER_DECADE = 20
_COG_FAST_TABLE_SIZE = 2_048  # uniform in ln(column) for the per-pixel interpolation
# Range of columns over which the Malkmus line-structure parameter is fitted (ppm m): the
# columns that matter for gas imaging (detection threshold ~10 to a near-source jet ~1e5).
_MALKMUS_FIT_RANGE_PPM_M = (1.0, 1.0e5)


def _positive_array(values: ArrayLike, field_name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(arr > 0.0) or not np.all(np.isfinite(arr)):
        raise InputError("must be positive and finite", field=field_name)
    return arr


# --------------------------------------------------------------------------------------------
# Bands
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Band:
    """A camera spectral band with a flat (top-hat) filter response.

    Attributes
    ----------
    name
        Band name.
    wavenumber_min_cm, wavenumber_max_cm
        Band edges [cm-1], ``0 < min < max``.
    """

    name: str
    wavenumber_min_cm: float
    wavenumber_max_cm: float

    def __post_init__(self) -> None:
        lo, hi = self.wavenumber_min_cm, self.wavenumber_max_cm
        if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 < lo < hi):
            raise InputError(
                f"band edges must satisfy 0 < wavenumber_min_cm < wavenumber_max_cm, "
                f"got {lo!r}, {hi!r}",
                field="band",
            )

    @property
    def wavelength_min_um(self) -> float:
        """Short-wavelength edge [um] (= 1e4 / wavenumber_max_cm)."""
        return 1.0e4 / self.wavenumber_max_cm

    @property
    def wavelength_max_um(self) -> float:
        """Long-wavelength edge [um] (= 1e4 / wavenumber_min_cm)."""
        return 1.0e4 / self.wavenumber_min_cm

    @property
    def width_cm(self) -> float:
        """Band width [cm-1]."""
        return self.wavenumber_max_cm - self.wavenumber_min_cm


# Cooled MWIR gas cameras: 3.2-3.4 um (FLIR GF320 class, FEAST [6]); uncooled LWIR gas cameras:
# 7.0-8.5 um around the CH4 nu4 band (GAS-PHYSICS.md). Edges are converted exactly from um.
_BANDS: dict[str, Band] = {
    "mwir": Band("mwir", 1.0e4 / 3.4, 1.0e4 / 3.2),
    "lwir": Band("lwir", 1.0e4 / 8.5, 1.0e4 / 7.0),
}


def get_band(name: str) -> Band:
    """Camera band by name (case-insensitive).

    ``mwir``: 3.2-3.4 um (2941.2-3125.0 cm-1); ``lwir``: 7.0-8.5 um (1176.5-1428.6 cm-1). Both
    have a flat filter response (transmission 1 in band, 0 outside).

    Raises
    ------
    InputError
        If the name is not one of ``BAND_NAMES``.
    """
    key = str(name).strip().lower()
    if key not in _BANDS:
        raise InputError(f"unknown band {name!r}; allowed: {', '.join(BAND_NAMES)}", field="band")
    return _BANDS[key]


def _resolve_band(band: str | Band) -> Band:
    return band if isinstance(band, Band) else get_band(band)


# --------------------------------------------------------------------------------------------
# Planck radiance
# --------------------------------------------------------------------------------------------
def planck_radiance_wavenumber(
    wavenumber_cm: ArrayLike, temperature_k: ArrayLike
) -> NDArray[np.float64]:
    r"""Blackbody spectral radiance per unit wavenumber [W m-2 sr-1 (cm-1)-1].

    .. math:: B_{\tilde\nu}(T) = \frac{2 h c^2 \tilde\nu^3}{\exp(h c \tilde\nu / k T) - 1}

    evaluated with ``nu`` in m-1 and converted to per cm-1 [1]_.

    Parameters
    ----------
    wavenumber_cm
        Wavenumber [cm-1], > 0; broadcasts against ``temperature_k``.
    temperature_k
        Temperature [K], > 0.

    Returns
    -------
    NDArray[np.float64]
        Spectral radiance [W m-2 sr-1 (cm-1)-1].
    """
    nu_cm = np.asarray(wavenumber_cm, dtype=np.float64)
    t_k = _positive_array(temperature_k, "temperature_k")
    if np.any(~(nu_cm > 0.0)):
        raise InputError("must be positive and finite", field="wavenumber_cm")
    # (100 nu)^3 [m-3] per m-1, times 100 m-1 per cm-1 -> 1e8 nu^3.
    return _C1_W_M2_SR * 1.0e8 * nu_cm**3 / np.expm1(_C2_CM_K * nu_cm / t_k)


def _planck_dT(nu_cm: NDArray[np.float64], t_k: NDArray[np.float64]) -> NDArray[np.float64]:
    """d B / d T [W m-2 sr-1 (cm-1)-1 K-1] (analytic derivative of Planck's law)."""
    x = _C2_CM_K * nu_cm / t_k
    em1 = np.expm1(x)
    return _C1_W_M2_SR * 1.0e8 * nu_cm**3 * x * (em1 + 1.0) / (em1 * em1 * t_k)


@functools.cache
def _gauss_nodes(lo: float, hi: float, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, w = np.polynomial.legendre.leggauss(n)
    half = 0.5 * (hi - lo)
    return lo + half * (x + 1.0), half * w


def _band_integral(
    temperature_k: ArrayLike, band: str | Band, derivative: bool
) -> NDArray[np.float64]:
    b = _resolve_band(band)
    t_k = _positive_array(temperature_k, "temperature_k")
    n_nodes = _N_GAUSS_NODES_NARROW if b.width_cm <= _NARROW_BAND_WIDTH_CM else _N_GAUSS_NODES_WIDE
    nodes, weights = _gauss_nodes(b.wavenumber_min_cm, b.wavenumber_max_cm, n_nodes)
    flat = t_k.reshape(-1)
    out = np.empty_like(flat)
    chunk = 16_384  # bounds the (chunk, nodes) work array to ~50 MB
    for start in range(0, flat.size, chunk):
        t = flat[start : start + chunk, None]
        if derivative:
            spectral = _planck_dT(nodes[None, :], t)
        else:
            spectral = _C1_W_M2_SR * 1.0e8 * nodes**3 / np.expm1(_C2_CM_K * nodes / t)
        out[start : start + chunk] = spectral @ weights
    return out.reshape(t_k.shape)


def band_radiance(temperature_k: ArrayLike, band: str | Band = "mwir") -> NDArray[np.float64]:
    r"""Blackbody radiance integrated over a camera band with a flat filter [W m-2 sr-1].

    .. math:: L(T) = \int_{\tilde\nu_{min}}^{\tilde\nu_{max}} B_{\tilde\nu}(T)\, d\tilde\nu

    by Gauss-Legendre quadrature (64 nodes for bands up to 1000 cm-1 wide, 400 beyond: machine
    precision for these smooth integrands). Vectorised over any array shape; for millions of
    pixels use :func:`radiance_table`.

    Parameters
    ----------
    temperature_k
        Temperature [K], > 0, any shape.
    band
        Band name (``BAND_NAMES``) or a :class:`Band`.

    Returns
    -------
    NDArray[np.float64]
        Band radiance [W m-2 sr-1], same shape as ``temperature_k``.
    """
    return _band_integral(temperature_k, band, derivative=False)


def band_radiance_derivative(
    temperature_k: ArrayLike, band: str | Band = "mwir"
) -> NDArray[np.float64]:
    """Temperature derivative of the band radiance, dL/dT [W m-2 sr-1 K-1].

    Converts a noise-equivalent temperature difference into radiance noise
    (``sigma_L = NETD * dL/dT``). Same quadrature as :func:`band_radiance`.
    """
    return _band_integral(temperature_k, band, derivative=True)


# --------------------------------------------------------------------------------------------
# Fast per-pixel kernels (numba): one pass, no temporaries, out-of-range flagged.
# --------------------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _uniform_interp_kernel(x, out, x0, inv_step, table, lo, hi):
    """Linear interpolation on a uniform grid; counts values outside [lo, hi] (set to NaN)."""
    n_bad = 0
    last = table.size - 2
    for k in range(x.size):
        v = x[k]
        if not (v >= lo and v <= hi):
            out[k] = np.nan
            n_bad += 1
            continue
        f = (v - x0) * inv_step
        i = int(f)
        if i > last:
            i = last
        w = f - i
        out[k] = table[i] + w * (table[i + 1] - table[i])
    return n_bad


@numba.njit(cache=True, nogil=True)
def _log_uniform_interp_kernel(y, out, ln_y0, inv_step, table, y_min, y_max):
    """Linear interpolation on a grid uniform in ln(y); clamps to the table ends; NaN stays."""
    last = table.size - 2
    for k in range(y.size):
        v = y[k]
        if v <= y_min:
            out[k] = table[0]
        elif v >= y_max:
            out[k] = table[-1]
        elif v == v:
            f = (math.log(v) - ln_y0) * inv_step
            i = int(f)
            if i > last:
                i = last
            w = f - i
            out[k] = table[i] + w * (table[i + 1] - table[i])
        else:
            out[k] = np.nan


@numba.njit(cache=True, nogil=True)
def _cog_kernel(column, out, ln_c0, inv_step, ratio, c_min, c_max, slope):
    """Effective optical depth tau = slope * c * ratio(ln c) (ratio linear in ln c).

    tau = 0 at c = 0; c clamps to c_max; c < 0 or NaN gives NaN and is counted.
    """
    n_bad = 0
    last = ratio.size - 2
    for k in range(column.size):
        c = column[k]
        if not (c >= 0.0):
            out[k] = np.nan
            n_bad += 1
            continue
        if c > c_max:
            c = c_max
        if c <= c_min:
            r = ratio[0]
        else:
            f = (math.log(c) - ln_c0) * inv_step
            i = int(f)
            if i > last:
                i = last
            w = f - i
            r = ratio[i] + w * (ratio[i + 1] - ratio[i])
        out[k] = slope * c * r
    return n_bad


def _float_array(values: ArrayLike) -> NDArray[np.floating]:
    """float32 stays float32, everything else becomes float64; C-contiguous."""
    arr = np.asarray(values)
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    return np.asarray(arr, dtype=dtype, order="C")  # keeps 0-d shapes (ascontiguousarray does not)


# --------------------------------------------------------------------------------------------
# Radiance look-up table
# --------------------------------------------------------------------------------------------
class RadianceTable:
    """Fast temperature <-> band-radiance conversion by table interpolation.

    The forward table holds the exact band radiance every 0.05 K from 100 to 1200 K; the
    inverse table holds the exact brightness temperature on a grid uniform in ln(radiance)
    (Newton-refined). Linear interpolation errors are below 1e-4 K in both directions.

    Parameters
    ----------
    band
        Band name or :class:`Band`.
    """

    def __init__(self, band: str | Band = "mwir") -> None:
        self.band = _resolve_band(band)
        n = round((_TABLE_T_MAX_K - _TABLE_T_MIN_K) / _TABLE_T_STEP_K) + 1
        self.temperature_k = np.linspace(_TABLE_T_MIN_K, _TABLE_T_MAX_K, n)
        self.radiance_w_m2_sr = band_radiance(self.temperature_k, self.band)
        self.temperature_min_k = _TABLE_T_MIN_K
        self.temperature_max_k = _TABLE_T_MAX_K
        self._inv_step_t = 1.0 / (self.temperature_k[1] - self.temperature_k[0])
        # Inverse: uniform in ln L, Newton-refined exact brightness temperatures.
        ln_l = np.log(self.radiance_w_m2_sr)
        self._ln_l_grid = np.linspace(ln_l[0], ln_l[-1], _INVERSE_TABLE_SIZE)
        t_inv = np.interp(self._ln_l_grid, ln_l, self.temperature_k)
        target = np.exp(self._ln_l_grid)
        for _ in range(2):  # the start is within 1e-4 K; Newton converges quadratically
            t_inv = t_inv - (band_radiance(t_inv, self.band) - target) / band_radiance_derivative(
                t_inv, self.band
            )
        t_inv[0], t_inv[-1] = _TABLE_T_MIN_K, _TABLE_T_MAX_K
        self._t_of_ln_l = t_inv
        self._inv_step_ln_l = 1.0 / (self._ln_l_grid[1] - self._ln_l_grid[0])

    def radiance(self, temperature_k: ArrayLike) -> NDArray[np.floating]:
        """Band radiance [W m-2 sr-1] of blackbodies at ``temperature_k`` [K].

        float32 in gives float32 out (float64 otherwise); same shape.

        Raises
        ------
        InputError
            If any temperature is outside 100-1200 K or not finite.
        """
        t = _float_array(temperature_k)
        out = np.empty_like(t)
        n_bad = _uniform_interp_kernel(
            t.reshape(-1),
            out.reshape(-1),
            _TABLE_T_MIN_K,
            self._inv_step_t,
            self.radiance_w_m2_sr,
            _TABLE_T_MIN_K,
            _TABLE_T_MAX_K,
        )
        if n_bad:
            raise InputError(
                f"{n_bad} value(s) outside the table range {_TABLE_T_MIN_K:g}-{_TABLE_T_MAX_K:g} K "
                "or not finite; use band_radiance() for other temperatures",
                field="temperature_k",
            )
        return out

    def brightness_temperature(self, radiance: ArrayLike) -> NDArray[np.floating]:
        """Brightness (apparent) temperature [K] of band radiance [W m-2 sr-1].

        Inverse of :meth:`radiance`. Radiances below L(100 K) (including the zero or negative
        values noise can produce) give 100 K, above L(1200 K) give 1200 K; NaN stays NaN.
        float32 in gives float32 out.
        """
        y = _float_array(radiance)
        out = np.empty_like(y)
        _log_uniform_interp_kernel(
            y.reshape(-1),
            out.reshape(-1),
            self._ln_l_grid[0],
            self._inv_step_ln_l,
            self._t_of_ln_l,
            self.radiance_w_m2_sr[0],
            self.radiance_w_m2_sr[-1],
        )
        return out


@functools.cache
def _radiance_table_cached(band: Band) -> RadianceTable:
    return RadianceTable(band)


def radiance_table(band: str | Band = "mwir") -> RadianceTable:
    """The (cached) :class:`RadianceTable` of a band."""
    return _radiance_table_cached(_resolve_band(band))


def apparent_radiance(
    background_radiance: ArrayLike, gas_radiance: ArrayLike, transmittance: ArrayLike
) -> NDArray[np.floating]:
    """Radiance seen through a gas layer [W m-2 sr-1].

    .. math:: L = t L_b + (1 - t) B(T_g)

    (GAS-PHYSICS.md; Kirchhoff: band emittance of the layer = its absorptance ``1 - t``).

    Parameters
    ----------
    background_radiance
        Band radiance leaving the background towards the camera, L_b [W m-2 sr-1].
    gas_radiance
        Band blackbody radiance at the gas temperature, B(T_g) [W m-2 sr-1].
    transmittance
        Band transmittance of the gas column, t [-] in [0, 1].

    Returns
    -------
    NDArray
        Broadcast shape; float32 when all inputs are float32.
    """
    lb = np.asarray(background_radiance)
    lg = np.asarray(gas_radiance)
    t = np.asarray(transmittance)
    return lg + t * (lb - lg)  # = t Lb + (1 - t) Lg, one fewer operation


# --------------------------------------------------------------------------------------------
# Column density
# --------------------------------------------------------------------------------------------
def ppm_m_to_molecules_cm2(
    column_ppm_m: ArrayLike,
    temperature_k: ArrayLike = HITRAN_REFERENCE_TEMPERATURE_K,
    pressure_pa: ArrayLike = STANDARD_ATMOSPHERE_PA,
) -> NDArray[np.float64]:
    r"""Path-integrated concentration [ppm m] -> column density [molecules cm-2].

    .. math:: N = 10^{-6}\, C L\, \frac{p}{k T} \times 10^{-4}

    (ideal gas; 1e-4 converts m-2 to cm-2). At 296 K and 1 atm, 1 ppm m = 2.479e15 cm-2.

    Parameters
    ----------
    column_ppm_m
        Path-integrated volume mixing ratio [ppm m].
    temperature_k
        Air temperature [K].
    pressure_pa
        Air pressure [Pa].
    """
    c = np.asarray(column_ppm_m, dtype=np.float64)
    t = _positive_array(temperature_k, "temperature_k")
    p = _positive_array(pressure_pa, "pressure_pa")
    return c * 1.0e-6 * p / (BOLTZMANN_J_K * t) * 1.0e-4


_MOLECULES_CM2_PER_PPM_M = float(ppm_m_to_molecules_cm2(1.0))


# --------------------------------------------------------------------------------------------
# Line-by-line cross-sections (HITRAN)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HitranLines:
    """A HITRAN line list (columns of the shipped CSV; see data/absorption/README.md).

    Attributes
    ----------
    wavenumber_cm
        Vacuum line position [cm-1].
    intensity_cm_molecule
        Line intensity S at 296 K [cm molecule-1].
    gamma_air_cm_atm
        Air-broadened Lorentz half width (HWHM) at 296 K [cm-1 atm-1].
    n_air
        Temperature exponent of gamma_air [-].
    delta_air_cm_atm
        Air pressure shift [cm-1 atm-1].
    lower_energy_cm
        Lower-state energy E'' [cm-1].
    """

    wavenumber_cm: NDArray[np.float64]
    intensity_cm_molecule: NDArray[np.float64]
    gamma_air_cm_atm: NDArray[np.float64]
    n_air: NDArray[np.float64]
    delta_air_cm_atm: NDArray[np.float64]
    lower_energy_cm: NDArray[np.float64]


def _data_path(name: str) -> Path:
    resource = importlib.resources.files(_DATA_PACKAGE).joinpath(*_DATA_DIR, name)
    return Path(str(resource))


def load_methane_hitran_lines() -> HitranLines:
    """The shipped HITRAN2012 CH4 line list, 2940-3125 cm-1 (12,738 lines) [2]_.

    The file covers the MWIR band only: lines just outside 2940-3125 cm-1, whose wings reach a
    few cm-1 into the band, are not in it (their effect is estimated in the data README).

    Raises
    ------
    DataError
        If the shipped file is missing or malformed.
    """
    path = _data_path(METHANE_LINE_FILE)
    try:
        data = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read shipped line list {path}: {exc}") from exc
    if data.shape[1] != 6 or data.shape[0] == 0:
        raise DataError(f"{path}: expected 6 columns, got shape {data.shape}")
    return HitranLines(*(np.ascontiguousarray(data[:, i]) for i in range(6)))


def line_by_line_cross_section_cm2(
    wavenumber_cm: NDArray[np.float64],
    lines: HitranLines,
    molar_mass_kg_mol: float,
    temperature_k: float = HITRAN_REFERENCE_TEMPERATURE_K,
    pressure_pa: float = STANDARD_ATMOSPHERE_PA,
    wing_cutoff_cm: float = 5.0,
    profile: str = "voigt",
) -> NDArray[np.float64]:
    r"""Absorption cross-section sigma(nu) summed over lines [cm2 molecule-1].

    .. math:: \sigma(\tilde\nu) = \sum_i S_i\, V(\tilde\nu - \tilde\nu_i - \delta_i p;
              \alpha_{D,i}, \gamma_i)

    with the Voigt profile ``V = Re w(z) / (sigma_G sqrt(2 pi))``,
    ``z = (x + i gamma) / (sigma_G sqrt 2)`` [5]_, Lorentz HWHM
    ``gamma = gamma_air (p / 1 atm) (296 / T)^n_air`` and Doppler HWHM
    ``alpha_D = nu_i / c sqrt(2 ln2 k T / m)`` [2]_. Each line is cut at ``+-wing_cutoff_cm``
    from its centre (no renormalisation). Line intensities are used at their 296 K values
    (no temperature scaling: only 296 K is supported here).

    Parameters
    ----------
    wavenumber_cm
        Uniformly spaced spectral grid [cm-1], 1-D, increasing.
    lines
        Line list.
    molar_mass_kg_mol
        Molar mass of the absorber for the Doppler width [kg mol-1].
    temperature_k
        Gas temperature [K]; must be 296 K (the line intensities' reference).
    pressure_pa
        Total (air) pressure [Pa]; self-broadening is neglected.
    wing_cutoff_cm
        Line-wing cut-off [cm-1].
    profile
        ``"voigt"`` or ``"lorentz"``.

    Returns
    -------
    NDArray[np.float64]
        Cross-section on the grid [cm2 molecule-1].
    """
    if profile not in ("voigt", "lorentz"):
        raise InputError(f"unknown profile {profile!r}; allowed: voigt, lorentz", field="profile")
    if abs(temperature_k - HITRAN_REFERENCE_TEMPERATURE_K) > 1e-9:
        raise InputError(
            "only the HITRAN reference temperature 296 K is supported", field="temperature_k"
        )
    nu = np.asarray(wavenumber_cm, dtype=np.float64)
    step = (nu[-1] - nu[0]) / (nu.size - 1)
    p_atm = pressure_pa / STANDARD_ATMOSPHERE_PA
    centre = lines.wavenumber_cm + lines.delta_air_cm_atm * p_atm
    gamma = (
        lines.gamma_air_cm_atm
        * p_atm
        * (HITRAN_REFERENCE_TEMPERATURE_K / temperature_k) ** (lines.n_air)
    )
    mass_kg = molar_mass_kg_mol / AVOGADRO_PER_MOL
    alpha_d = centre * np.sqrt(2.0 * math.log(2.0) * BOLTZMANN_J_K * temperature_k / mass_kg)
    alpha_d /= SPEED_OF_LIGHT_M_S
    sigma_g = alpha_d / math.sqrt(2.0 * math.log(2.0))

    half = int(math.ceil(wing_cutoff_cm / step))
    offsets = np.arange(-half, half + 1)
    sigma = np.zeros(nu.size)
    nearest = np.rint((centre - nu[0]) / step).astype(np.int64)
    keep = (nearest + half >= 0) & (nearest - half < nu.size)
    chunk = max(1, 2_000_000 // offsets.size)
    for start in np.arange(0, centre.size, chunk):
        sel = slice(start, start + chunk)
        k = keep[sel]
        idx = nearest[sel][k, None] + offsets[None, :]  # (lines, window)
        valid = (idx >= 0) & (idx < nu.size)
        idx_c = np.clip(idx, 0, nu.size - 1)
        dx = nu[idx_c] - centre[sel][k, None]
        valid &= np.abs(dx) <= wing_cutoff_cm
        g = gamma[sel][k, None]
        if profile == "voigt":
            sg = sigma_g[sel][k, None]
            shape = wofz((dx + 1j * g) / (sg * math.sqrt(2.0))).real / (sg * math.sqrt(2 * np.pi))
        else:
            shape = g / np.pi / (dx * dx + g * g)
        weights = np.where(valid, shape * lines.intensity_cm_molecule[sel][k, None], 0.0)
        sigma += np.bincount(idx_c.ravel(), weights=weights.ravel(), minlength=nu.size)
    return sigma


def _band_grid(band: Band, step_cm: float) -> NDArray[np.float64]:
    """Midpoints of ``n`` equal cells covering the band (midpoint rule for band averages)."""
    n = int(math.ceil(band.width_cm / step_cm))
    h = band.width_cm / n
    return band.wavenumber_min_cm + h * (np.arange(n, dtype=np.float64) + 0.5)


def cog_columns_ppm_m() -> NDArray[np.float64]:
    """Columns of the curve-of-growth tables [ppm m]: 0, then 20 per decade 1e-2..1e7."""
    decades = math.log10(COG_COLUMN_MAX_PPM_M / COG_COLUMN_MIN_PPM_M)
    n = round(decades * _COG_POINTS_PER_DECADE) + 1
    return np.concatenate([[0.0], np.geomspace(COG_COLUMN_MIN_PPM_M, COG_COLUMN_MAX_PPM_M, n)])


def band_absorptance_from_cross_section(
    sigma_cm2: NDArray[np.float64], column_ppm_m: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Band-averaged absorptance ``1 - mean(exp(-sigma N))`` over an equally spaced band grid.

    Parameters
    ----------
    sigma_cm2
        Cross-section on the band grid [cm2 molecule-1] (flat filter: equal weights).
    column_ppm_m
        Columns [ppm m] (296 K, 1 atm conversion).
    """
    n_cm2 = ppm_m_to_molecules_cm2(column_ppm_m).reshape(-1)
    out = np.empty(n_cm2.size, dtype=np.float64)
    for i, n in enumerate(n_cm2):
        out[i] = -np.mean(np.expm1(-sigma_cm2 * n)) + 0.0  # expm1: thin columns precise; +0: no -0
    return out.reshape(np.shape(column_ppm_m))


def build_methane_mwir_curve_of_growth(
    grid_step_cm: float = 0.002,
    wing_cutoff_cm: float = 5.0,
    profile: str = "voigt",
    columns_ppm_m: NDArray[np.float64] | None = None,
) -> CurveOfGrowth:
    """Line-by-line curve of growth of methane in the MWIR band from HITRAN2012.

    Assumptions: 296 K, 1 atm air broadening (self-broadening neglected: valid for dilute
    plumes; for pure-gas columns the real lines are ~1.5x wider and absorb slightly more),
    Voigt profile, lines cut at +-5 cm-1, 0.002 cm-1 grid (>= 25 points per Lorentz FWHM),
    flat filter over 2941.2-3125.0 cm-1, band-averaged transmission ``mean(exp(-sigma N))``,
    column density at 296 K and 1 atm. Only lines in 2940-3125 cm-1 are in the shipped list,
    so wings of lines just outside the band are missing (see the data README: < 0.3 % of the
    absorption). Takes ~10 s.

    Parameters
    ----------
    grid_step_cm
        Spectral grid step [cm-1].
    wing_cutoff_cm
        Line-wing cut-off [cm-1].
    profile
        ``"voigt"`` or ``"lorentz"``.
    columns_ppm_m
        Columns of the table [ppm m]; default :func:`cog_columns_ppm_m`.
    """
    band = get_band("mwir")
    lines = load_methane_hitran_lines()
    nu = _band_grid(band, grid_step_cm)
    sigma = line_by_line_cross_section_cm2(
        nu,
        lines,
        get_species("methane").molar_mass_kg_mol,
        wing_cutoff_cm=wing_cutoff_cm,
        profile=profile,
    )
    columns = cog_columns_ppm_m() if columns_ppm_m is None else np.asarray(columns_ppm_m)
    absorptance = band_absorptance_from_cross_section(sigma, columns)
    method = (
        f"line-by-line HITRAN2012 ({lines.wavenumber_cm.size} lines 2940-3125 cm-1), "
        f"{profile.capitalize()}, 296 K, 1 atm air-broadened, wings cut at "
        f"+-{wing_cutoff_cm:g} cm-1, {grid_step_cm:g} cm-1 grid, flat filter "
        f"{band.wavenumber_min_cm:.1f}-{band.wavenumber_max_cm:.1f} cm-1"
    )
    return CurveOfGrowth(
        species="methane",
        band="mwir",
        column_ppm_m=columns,
        absorptance=absorptance,
        mean_cross_section_cm2=float(np.mean(sigma)),
        method=method,
    )


# --------------------------------------------------------------------------------------------
# Band model
# --------------------------------------------------------------------------------------------
def malkmus_absorptance(
    column_ppm_m: ArrayLike, mean_cross_section_cm2: float, line_structure: float
) -> NDArray[np.float64]:
    r"""Band-averaged absorptance of the Malkmus random band model [-].

    .. math:: 1 - \bar t = 1 - \exp\left[-\frac{\beta}{2}
              \left(\sqrt{1 + \frac{4 \bar k N}{\beta}} - 1\right)\right]

    (Malkmus 1967 [3]_, in the form of Soufiani & Taine), with ``k = S/delta`` the
    band-mean cross-section and ``beta = 2 pi gamma / delta`` the line-structure parameter.
    Thin limit ``k N``; strong-line limit ``exp(-sqrt(beta k N))``; ``beta -> inf`` gives
    Beer-Lambert with the mean cross-section.

    Parameters
    ----------
    column_ppm_m
        Column [ppm m] (296 K, 1 atm conversion).
    mean_cross_section_cm2
        Band-mean cross-section k [cm2 molecule-1].
    line_structure
        beta [-], > 0.
    """
    if not (line_structure > 0.0):
        raise InputError("must be > 0", field="line_structure")
    tau = mean_cross_section_cm2 * ppm_m_to_molecules_cm2(column_ppm_m)
    x = 4.0 * tau / line_structure
    # sqrt(1 + x) - 1 = x / (sqrt(1 + x) + 1): no cancellation for thin columns.
    optical_depth = 0.5 * line_structure * x / (np.sqrt(1.0 + x) + 1.0)
    return -np.expm1(-optical_depth)


@dataclass(frozen=True)
class BandModelParameters:
    """Shape of the two-group Malkmus band model (all dimensionless).

    A camera band spans a whole vibrational band: a narrow strong part (Q branch, strong
    P/R lines) and a wide weak part (band wings, gaps between line clusters). One Malkmus
    term cannot follow both (its best fit to the methane-MWIR line-by-line table is off by
    up to 14 %); two spectral groups, each with Malkmus line statistics, follow it within
    3 %. This is a two-term k-distribution over the band with Malkmus statistics in each term.

    Attributes
    ----------
    strong_fraction
        Fraction f of the band (in wavenumber) in the strong group, 0 < f < 1.
    strong_intensity_fraction
        Fraction s of the band intensity in the strong group, f < s < 1.
    line_structure
        Malkmus beta = 2 pi gamma / delta of both groups, > 0.
    """

    strong_fraction: float
    strong_intensity_fraction: float
    line_structure: float

    def __post_init__(self) -> None:
        f, s, beta = self.strong_fraction, self.strong_intensity_fraction, self.line_structure
        if not (0.0 < f < 1.0 and f <= s < 1.0 and beta > 0.0):
            raise InputError(
                f"need 0 < strong_fraction <= strong_intensity_fraction < 1 and "
                f"line_structure > 0, got {f!r}, {s!r}, {beta!r}",
                field="band_model",
            )


def band_model_absorptance(
    column_ppm_m: ArrayLike, mean_cross_section_cm2: float, parameters: BandModelParameters
) -> NDArray[np.float64]:
    r"""Band-averaged absorptance of the two-group Malkmus band model [-].

    .. math:: 1 - \bar t = f\, A_M\!\left(\tfrac{s}{f} \bar k N; \beta\right)
              + (1 - f)\, A_M\!\left(\tfrac{1 - s}{1 - f} \bar k N; \beta\right)

    with ``A_M`` the Malkmus absorptance (:func:`malkmus_absorptance`). The thin limit is
    ``k N`` whatever the shape parameters.

    Parameters
    ----------
    column_ppm_m
        Column [ppm m] (296 K, 1 atm conversion).
    mean_cross_section_cm2
        Band-mean cross-section k [cm2 molecule-1].
    parameters
        Shape parameters (:func:`band_model_parameters` gives the fitted ones).
    """
    f = parameters.strong_fraction
    s = parameters.strong_intensity_fraction
    beta = parameters.line_structure
    strong = malkmus_absorptance(column_ppm_m, mean_cross_section_cm2 * s / f, beta)
    weak = malkmus_absorptance(column_ppm_m, mean_cross_section_cm2 * (1 - s) / (1 - f), beta)
    return f * strong + (1.0 - f) * weak


def _fit_columns(
    cog: CurveOfGrowth, fit_range_ppm_m: tuple[float, float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    c = cog.column_ppm_m
    sel = (c >= fit_range_ppm_m[0]) & (c <= fit_range_ppm_m[1])
    return c[sel], cog.absorptance[sel]


def fit_malkmus_line_structure(
    cog: CurveOfGrowth, fit_range_ppm_m: tuple[float, float] = _MALKMUS_FIT_RANGE_PPM_M
) -> tuple[float, float]:
    """Fit the single-group Malkmus line-structure parameter beta to a curve of growth.

    Least squares in ln(absorptance) over the columns in ``fit_range_ppm_m``, with the
    band-mean cross-section fixed to the table's (so the thin limit is exact).

    Returns
    -------
    (beta, max_relative_error)
        beta [-] and the largest |A_model / A_table - 1| over the fit range [-].
    """
    c_fit, a_fit = _fit_columns(cog, fit_range_ppm_m)

    def cost(log_beta: float) -> float:
        a = malkmus_absorptance(c_fit, cog.mean_cross_section_cm2, math.exp(log_beta))
        return float(np.sum(np.log(a / a_fit) ** 2))

    res = minimize_scalar(cost, bounds=(math.log(1e-6), math.log(1e3)), method="bounded")
    beta = math.exp(float(res.x))
    a_model = malkmus_absorptance(c_fit, cog.mean_cross_section_cm2, beta)
    return beta, float(np.max(np.abs(a_model / a_fit - 1.0)))


def _params_from_vector(p: NDArray[np.float64]) -> BandModelParameters:
    """Unconstrained (logit f, logit of s within (f, 1), ln beta) -> parameters."""
    f = 1.0 / (1.0 + math.exp(-p[0]))
    s = f + (1.0 - f) / (1.0 + math.exp(-p[1]))
    return BandModelParameters(f, min(s, 1.0 - 1e-12), math.exp(p[2]))


def fit_band_model(
    cog: CurveOfGrowth,
    fit_range_ppm_m: tuple[float, float] = _MALKMUS_FIT_RANGE_PPM_M,
    start: BandModelParameters | None = None,
) -> tuple[BandModelParameters, float]:
    """Fit the two-group Malkmus shape to a tabulated curve of growth.

    Least squares in ln(absorptance) over ``fit_range_ppm_m`` (Nelder-Mead, from ``start`` or
    from a small grid of starting points), band-mean cross-section fixed to the table's.

    Returns
    -------
    (parameters, max_relative_error)
        Fitted shape and the largest |A_model / A_table - 1| over the fit range [-].
    """
    c_fit, a_fit = _fit_columns(cog, fit_range_ppm_m)
    k_mean = cog.mean_cross_section_cm2

    def cost(p: NDArray[np.float64]) -> float:
        a = band_model_absorptance(c_fit, k_mean, _params_from_vector(p))
        return float(np.sum(np.log(a / a_fit) ** 2))

    if start is None:
        starts = [
            np.array([lf, ls, lb])
            for lf in (-2.0, 0.0)
            for ls in (-1.0, 1.0, 3.0)
            for lb in (-3.0, 0.0)
        ]
    else:
        f, s = start.strong_fraction, start.strong_intensity_fraction
        u = (s - f) / (1.0 - f)
        starts = [
            np.array([math.log(f / (1 - f)), math.log(u / (1 - u)), math.log(start.line_structure)])
        ]
    options = {"maxiter": 20_000, "xatol": 1e-9, "fatol": 1e-14}
    best = min(
        (minimize(cost, x0, method="Nelder-Mead", options=options) for x0 in starts),
        key=lambda r: float(r.fun),
    )
    params = _params_from_vector(best.x)
    a_model = band_model_absorptance(c_fit, k_mean, params)
    return params, float(np.max(np.abs(a_model / a_fit - 1.0)))


# --------------------------------------------------------------------------------------------
# Curve of growth
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CurveOfGrowth:
    """Band-averaged absorptance of a gas column versus column density.

    Attributes
    ----------
    species, band
        Names (``SPECIES_NAMES``, ``BAND_NAMES``).
    column_ppm_m
        Columns [ppm m], 1-D increasing, first value 0 (296 K, 1 atm conversion to
        molecules cm-2).
    absorptance
        Band-averaged absorptance ``1 - t`` [-], same length, first value 0.
    mean_cross_section_cm2
        Band-mean cross-section [cm2 molecule-1]: the thin-gas slope ``A ~ k N``.
    method
        How the table was made and under which assumptions.

    Notes
    -----
    Columns are converted at 296 K and 1 atm. For air at temperature T (and pressure p), the
    same number of molecules corresponds to ``column_ppm_m * (296 / T) * (p / 1 atm)`` ppm m
    at reference conditions; pass that if the temperature matters.
    """

    species: str
    band: str
    column_ppm_m: NDArray[np.float64]
    absorptance: NDArray[np.float64]
    mean_cross_section_cm2: float
    method: str
    _fast: tuple[float, float, NDArray[np.float64], float, float, float] = field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        c = np.asarray(self.column_ppm_m, dtype=np.float64)
        a = np.asarray(self.absorptance, dtype=np.float64)
        if c.ndim != 1 or c.shape != a.shape or c.size < 3:
            raise InputError("column_ppm_m and absorptance must be 1-D of equal length >= 3")
        if c[0] != 0.0 or a[0] != 0.0 or np.any(np.diff(c) <= 0.0):
            raise InputError("column_ppm_m must increase from 0 and absorptance start at 0")
        if np.any(np.diff(a) < 0.0) or not np.all(a < 1.0):
            raise InputError("absorptance must be non-decreasing and < 1")
        if not (self.mean_cross_section_cm2 > 0.0):
            raise InputError("mean_cross_section_cm2 must be > 0")
        object.__setattr__(self, "column_ppm_m", c)
        object.__setattr__(self, "absorptance", a)
        # Fast table: effective optical depth per thin-limit optical depth,
        # q = -ln(1 - A) / (k N) (1 in the thin limit, decreasing), uniform in ln(column),
        # resampled with a monotone cubic (PCHIP) from the tabulated points. Interpolating q
        # (not A) keeps the result < 1 and monotonic up to saturation.
        slope = self.mean_cross_section_cm2 * _MOLECULES_CM2_PER_PPM_M
        ln_c = np.log(c[1:])
        ratio = -np.log1p(-a[1:]) / (slope * c[1:])
        grid = np.linspace(ln_c[0], ln_c[-1], _COG_FAST_TABLE_SIZE)
        fine = PchipInterpolator(ln_c, ratio)(grid)
        inv_step = 1.0 / (grid[1] - grid[0])
        object.__setattr__(
            self, "_fast", (float(grid[0]), inv_step, fine, float(c[1]), float(c[-1]), slope)
        )

    def absorptance_of(self, column_ppm_m: ArrayLike) -> NDArray[np.floating]:
        """Band-averaged absorptance ``1 - t`` [-] of columns [ppm m].

        Interpolates the effective optical depth per unit thin-limit optical depth,
        ``-ln(1 - A) / (k N)``, linearly in ln(column) on a fine (2,048-point) precomputed
        table: exactly 0 at 0, the thin limit ``k N`` below the table's first column, the last
        value above its last column, < 1 and monotonic everywhere. float32 in gives float32
        out (float64 otherwise), same shape; about 5 ns per value (numba kernel).

        Raises
        ------
        InputError
            If any column is negative or NaN.
        """
        return self._evaluate(column_ppm_m, transmittance=False)

    def transmittance_of(self, column_ppm_m: ArrayLike) -> NDArray[np.floating]:
        """Band-averaged transmittance ``t = 1 - absorptance`` [-]; same rules as
        :meth:`absorptance_of` (computed directly as ``exp(-tau)``, precise near 0)."""
        return self._evaluate(column_ppm_m, transmittance=True)

    def _evaluate(self, column_ppm_m: ArrayLike, transmittance: bool) -> NDArray[np.floating]:
        col = _float_array(column_ppm_m)
        out = np.empty_like(col)
        ln_c0, inv_step, ratio, c_min, c_max, slope = self._fast
        n_bad = _cog_kernel(
            col.reshape(-1), out.reshape(-1), ln_c0, inv_step, ratio, c_min, c_max, slope
        )
        if n_bad:
            raise InputError(
                f"{n_bad} value(s) negative or NaN; columns must be >= 0", field="column_ppm_m"
            )
        # In place, with numpy's SIMD exp/expm1 (several times faster than numba's scalar ones).
        np.negative(out, out=out)
        if transmittance:
            np.exp(out, out=out)
        else:
            np.expm1(out, out=out)
            np.subtract(0.0, out, out=out)  # 0 - (-0) = +0: exact zero at zero column
        return out


def _read_table_csv(path: Path, species: str, band: str) -> tuple[CurveOfGrowth, dict[str, str]]:
    """Read a table written by :func:`write_curve_of_growth_csv`: (curve, header metadata).

    Raises
    ------
    DataError
        If the file is missing or malformed.
    """
    try:
        meta: dict[str, str] = {}
        rows: list[tuple[float, float]] = []
        header_seen = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#"):
                key, sep, value = line[1:].partition("=")
                if sep and key.strip().isidentifier():
                    meta[key.strip()] = value.strip()
            elif not header_seen:
                if [h.strip() for h in line.split(",")] != ["column_ppm_m", "absorptance"]:
                    raise ValueError(f"unexpected header {line!r}")
                header_seen = True
            elif line.strip():
                c, a = line.split(",")
                rows.append((float(c), float(a)))
        values = np.array(rows, dtype=np.float64)
        cog = CurveOfGrowth(
            species=species,
            band=band,
            column_ppm_m=values[:, 0],
            absorptance=values[:, 1],
            mean_cross_section_cm2=float(meta["mean_cross_section_cm2"]),
            method=meta["method"],
        )
    except (OSError, ValueError, KeyError, IndexError, InputError) as exc:
        raise DataError(f"cannot read curve-of-growth table {path}: {exc}") from exc
    return cog, meta


def read_curve_of_growth_csv(path: Path, species: str, band: str) -> CurveOfGrowth:
    """Read a curve-of-growth table written by :func:`write_curve_of_growth_csv`.

    Raises
    ------
    DataError
        If the file is missing or malformed.
    """
    return _read_table_csv(path, species, band)[0]


def write_curve_of_growth_csv(
    cog: CurveOfGrowth,
    path: Path,
    metadata: dict[str, str] | None = None,
    notes: Sequence[str] = (),
) -> None:
    """Write a curve-of-growth table as CSV with ``#`` header lines, atomically.

    Header lines ``# key = value`` carry ``species``, ``band``, ``method``,
    ``mean_cross_section_cm2`` and any ``metadata``; free-text ``notes`` follow as comments.
    Columns: ``column_ppm_m,absorptance``.
    """
    tau_per_ppm_m = cog.mean_cross_section_cm2 * _MOLECULES_CM2_PER_PPM_M
    lines = [
        "# plantwatch curve-of-growth table (band-averaged absorptance vs column density)",
        f"# species = {cog.species}",
        f"# band = {cog.band}",
        f"# method = {cog.method}",
        f"# mean_cross_section_cm2 = {cog.mean_cross_section_cm2:.8e}",
        f"# optical_depth_per_ppm_m = {tau_per_ppm_m:.8e}",
        *(f"# {key} = {value}" for key, value in (metadata or {}).items()),
        *(f"# {note}" for note in notes),
        "column_ppm_m,absorptance",
    ]
    lines += [f"{c:.8e},{a:.10e}" for c, a in zip(cog.column_ppm_m, cog.absorptance, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.cache
def _methane_mwir_table_and_meta() -> tuple[CurveOfGrowth, dict[str, str]]:
    return _read_table_csv(_data_path(METHANE_MWIR_TABLE_FILE), "methane", "mwir")


@functools.cache
def band_model_parameters() -> BandModelParameters:
    """Two-group Malkmus shape fitted to the shipped methane-MWIR line-by-line table.

    Read from the table's header (written by ``python -m plantwatch.gas.radiometry build``,
    which fits them with :func:`fit_band_model`); used for every band-model curve of growth.

    Raises
    ------
    DataError
        If the shipped table lacks them.
    """
    _, meta = _methane_mwir_table_and_meta()
    try:
        return BandModelParameters(
            strong_fraction=float(meta["band_model_strong_fraction"]),
            strong_intensity_fraction=float(meta["band_model_strong_intensity_fraction"]),
            line_structure=float(meta["band_model_line_structure"]),
        )
    except (KeyError, ValueError, InputError) as exc:
        raise DataError(f"band-model parameters missing from {METHANE_MWIR_TABLE_FILE}") from exc


@functools.cache
def _curve_of_growth_cached(species: str, band: str) -> CurveOfGrowth:
    if (species, band) == ("methane", "mwir"):
        return _methane_mwir_table_and_meta()[0]
    data = get_band_intensity(species, band)
    b = get_band(band)
    k_mean = data.intensity_cm_molecule / b.width_cm
    shape = band_model_parameters()
    columns = cog_columns_ppm_m()
    absorptance = band_model_absorptance(columns, k_mean, shape)
    method = (
        f"two-group Malkmus band model (f = {shape.strong_fraction:.4g}, "
        f"s = {shape.strong_intensity_fraction:.4g}, beta = {shape.line_structure:.4g}, fitted "
        f"to the methane-MWIR line-by-line table), 296 K, 1 atm, flat filter "
        f"{b.wavenumber_min_cm:.1f}-{b.wavenumber_max_cm:.1f} cm-1; band intensity "
        f"{data.intensity_cm_molecule:.4g} cm/molecule ({data.citation})"
        + ("; APPROXIMATE band intensity" if data.approximate else "")
    )
    return CurveOfGrowth(
        species=species,
        band=band,
        column_ppm_m=columns,
        absorptance=absorptance,
        mean_cross_section_cm2=k_mean,
        method=method,
    )


def curve_of_growth(species: str, band: str = "mwir") -> CurveOfGrowth:
    """Curve of growth of a species in a camera band (cached).

    * methane / mwir: the shipped line-by-line table (``data/absorption/methane_mwir_cog.csv``,
      built by :func:`build_methane_mwir_curve_of_growth`).
    * other species/bands: two-group Malkmus band model (:func:`band_model_absorptance`)
      with the band intensity of :data:`plantwatch.gas.species.BAND_INTENSITIES` and the
      shape (f, s, beta) fitted to the methane-MWIR line-by-line table. For methane LWIR
      (nu4: same molecule, similar P/Q/R contour, line-cluster pattern and air broadening)
      the same shape is a fair approximation. For propane the line structure is much denser
      (heavy asymmetric top with hot bands: a quasi-continuum at 1 atm) and the contour
      smoother, so its true curve of growth is closer to Beer-Lambert; the methane shape
      over-states saturation above ~1,000 ppm m (conservative: it under-states absorption).
      The thin limit ``k N``, which sets the smallest visible leak, depends only on the band
      intensity. Propane band intensities are approximate (see ``method`` and
      :mod:`plantwatch.gas.species`).

    Raises
    ------
    InputError
        For unknown species or band; the message lists the valid names.
    """
    name = get_species(species).name
    band_name = get_band(band).name
    return _curve_of_growth_cached(name, band_name)


# --------------------------------------------------------------------------------------------
# Command line: regenerate the shipped table
# --------------------------------------------------------------------------------------------
_CHECK_COLUMNS_PPM_M = (10.0, 100.0, 1_000.0, 10_000.0, 50_000.0)


def _table_metadata_and_notes(cog: CurveOfGrowth) -> tuple[dict[str, str], list[str]]:
    beta, err_single = fit_malkmus_line_structure(cog)
    shape, err_two = fit_band_model(cog)
    metadata = {
        "band_model_strong_fraction": f"{shape.strong_fraction:.8g}",
        "band_model_strong_intensity_fraction": f"{shape.strong_intensity_fraction:.8g}",
        "band_model_line_structure": f"{shape.line_structure:.8g}",
    }
    checks = np.array(_CHECK_COLUMNS_PPM_M)
    values = cog.absorptance_of(checks)
    beer = -np.expm1(-cog.mean_cross_section_cm2 * ppm_m_to_molecules_cm2(checks))
    notes = [
        "assumptions: 296 K; 1 atm air broadening (self-broadening neglected); line intensities",
        "  at 296 K; flat filter response over the band; columns converted at 296 K, 1 atm;",
        "  lines outside 2940-3125 cm-1 absent from the source list (< 0.3 % effect).",
        "source: HITRAN2012 CH4 line list from EAOgroup/FEAST (MIT licence), see README.md.",
        "regenerate: python -m plantwatch.gas.radiometry build",
        f"band-model fit over 1-1e5 ppm m: two-group Malkmus max relative error {err_two:.2%};",
        f"  single Malkmus (beta = {beta:.4g}) max relative error {err_single:.2%}",
    ]
    notes += [
        f"check: {c:g} ppm m -> absorptance {a:.4%} (single mean sigma Beer-Lambert {b:.4%})"
        for c, a, b in zip(checks, values, beer, strict=True)
    ]
    return metadata, notes


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m plantwatch.gas.radiometry build``: regenerate the methane-MWIR table."""
    parser = argparse.ArgumentParser(prog="python -m plantwatch.gas.radiometry")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="rebuild data/absorption/methane_mwir_cog.csv")
    build.add_argument("--output", type=Path, default=_data_path(METHANE_MWIR_TABLE_FILE))
    build.add_argument("--grid-step-cm", type=float, default=0.002)
    build.add_argument("--wing-cutoff-cm", type=float, default=5.0)
    build.add_argument("--profile", choices=("voigt", "lorentz"), default="voigt")
    args = parser.parse_args(argv)
    cog = build_methane_mwir_curve_of_growth(
        grid_step_cm=args.grid_step_cm, wing_cutoff_cm=args.wing_cutoff_cm, profile=args.profile
    )
    metadata, notes = _table_metadata_and_notes(cog)
    write_curve_of_growth_csv(cog, args.output, metadata=metadata, notes=notes)
    print(f"wrote {args.output} ({cog.column_ppm_m.size} rows)\n{cog.method}")
    print(f"mean cross-section {cog.mean_cross_section_cm2:.5e} cm2; {metadata}")
    print("\n".join(notes[-7:]))
    return 0


if __name__ == "__main__":  # pragma: no cover - command-line entry
    sys.exit(main())
