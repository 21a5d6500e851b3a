"""Tests for plantwatch.gas.radiometry: Planck band radiance, radiance tables, curves of growth."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import quad

from plantwatch.errors import DataError, InputError
from plantwatch.gas import radiometry
from plantwatch.gas.radiometry import (
    BAND_NAMES,
    Band,
    BandModelParameters,
    apparent_radiance,
    band_model_absorptance,
    band_model_parameters,
    band_radiance,
    band_radiance_derivative,
    curve_of_growth,
    fit_band_model,
    fit_malkmus_line_structure,
    get_band,
    load_methane_hitran_lines,
    malkmus_absorptance,
    planck_radiance_wavenumber,
    ppm_m_to_molecules_cm2,
    radiance_table,
)
from plantwatch.gas.species import SPECIES_NAMES

# CODATA 2018 exact constants, written out here so the tests do not reuse the module's values.
H = 6.62607015e-34
C = 299792458.0
K = 1.380649e-23
STEFAN_BOLTZMANN = 2 * math.pi**5 * K**4 / (15 * H**3 * C**2)  # 5.670374e-8 W m-2 K-4
LOSCHMIDT_M3 = 2.686780111e25  # molecules m-3 at 273.15 K, 101325 Pa (CODATA 2018)
DATA_DIR = Path(radiometry.__file__).resolve().parents[1] / "data" / "absorption"


def _planck_wavelength(wavelength_m: float, temperature_k: float) -> float:
    """Planck spectral radiance per unit wavelength [W m-2 sr-1 m-1] (independent form)."""
    return 2 * H * C**2 / wavelength_m**5 / math.expm1(H * C / (wavelength_m * K * temperature_k))


# ---------------------------------------------------------------------------------------------
# Bands and Planck radiance
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "nu_min", "nu_max", "lam_min", "lam_max"),
    [("mwir", 2941.18, 3125.0, 3.2, 3.4), ("lwir", 1176.47, 1428.57, 7.0, 8.5)],
)
def test_get_band(name: str, nu_min: float, nu_max: float, lam_min: float, lam_max: float) -> None:
    band = get_band(name.upper())
    assert band.name == name
    assert_allclose([band.wavenumber_min_cm, band.wavenumber_max_cm], [nu_min, nu_max], atol=0.01)
    assert_allclose(
        [band.wavelength_min_um, band.wavelength_max_um], [lam_min, lam_max], rtol=1e-12
    )


@pytest.mark.parametrize("name", ["swir", "", "3.2-3.4"])
def test_get_band_invalid(name: str) -> None:
    with pytest.raises(InputError) as info:
        get_band(name)
    assert all(valid in str(info.value) for valid in BAND_NAMES)


@pytest.mark.parametrize(
    ("lo", "hi"), [(3000.0, 2900.0), (0.0, 100.0), (-5.0, 10.0), (1.0, math.inf)]
)
def test_band_invalid(lo: float, hi: float) -> None:
    with pytest.raises(InputError):
        Band("bad", lo, hi)


@pytest.mark.parametrize(
    ("wavenumber_cm", "temperature_k"), [(3000.0, 300.0), (1300.0, 250.0), (500.0, 1000.0)]
)
def test_planck_radiance_wavenumber(wavenumber_cm: float, temperature_k: float) -> None:
    # B_nu~ d nu~ = B_lambda d lambda: B_nu~[per cm-1] = B_lambda * lambda^2 * 100.
    lam = 0.01 / wavenumber_cm
    expected = _planck_wavelength(lam, temperature_k) * lam**2 * 100.0
    assert_allclose(planck_radiance_wavenumber(wavenumber_cm, temperature_k), expected, rtol=1e-12)


def test_planck_radiance_wavenumber_wien_peak() -> None:
    # Peak of B per unit wavenumber at nu~ = 2.821439 k T / (h c) (Wien, frequency form).
    nu = np.linspace(400.0, 800.0, 40001)
    peak = nu[np.argmax(planck_radiance_wavenumber(nu, 300.0))]
    assert_allclose(peak, 2.821439372 * K * 300.0 / (H * C) / 100.0, atol=0.02)


def test_planck_radiance_wavenumber_invalid() -> None:
    with pytest.raises(InputError):
        planck_radiance_wavenumber(3000.0, 0.0)
    with pytest.raises(InputError):
        planck_radiance_wavenumber(-1.0, 300.0)


@pytest.mark.parametrize("temperature_k", [200.0, 300.0, 1000.0])
def test_band_radiance_stefan_boltzmann(temperature_k: float) -> None:
    everything = Band("all", 0.5, 25_000.0)
    assert_allclose(
        band_radiance(temperature_k, everything),
        STEFAN_BOLTZMANN * temperature_k**4 / math.pi,
        rtol=1e-7,
    )


@pytest.mark.parametrize(
    ("band", "temperature_k"), [("mwir", 300.0), ("lwir", 300.0), ("mwir", 600.0)]
)
def test_band_radiance(band: str, temperature_k: float) -> None:
    # Independent: adaptive quadrature of the wavelength form over the band in metres.
    b = get_band(band)
    expected, _ = quad(
        _planck_wavelength,
        b.wavelength_min_um * 1e-6,
        b.wavelength_max_um * 1e-6,
        args=(temperature_k,),
        epsabs=0,
        epsrel=1e-12,
    )
    assert_allclose(band_radiance(temperature_k, band), expected, rtol=1e-9)
    assert_allclose(band_radiance(temperature_k, b), expected, rtol=1e-9)


def test_band_radiance_shapes() -> None:
    t = np.array([[250.0, 300.0], [350.0, 400.0], [500.0, 900.0]])
    out = band_radiance(t)
    assert out.shape == t.shape
    assert_allclose(out.ravel(), [float(band_radiance(x)) for x in t.ravel()], rtol=1e-14)
    assert band_radiance(300.0).shape == ()


def test_band_radiance_invalid() -> None:
    for bad in (0.0, -10.0, math.nan, [300.0, -1.0]):
        with pytest.raises(InputError):
            band_radiance(bad)
    with pytest.raises(InputError, match="lwir"):
        band_radiance(300.0, "nir")


@pytest.mark.parametrize(
    ("band", "relative_derivative_per_k"),
    # ~ c2 nu / T^2 with nu at the band centre: 4.84 %/K (MWIR), 2.09 %/K (LWIR) at 300 K.
    [("mwir", 0.0483), ("lwir", 0.0207)],
)
def test_band_radiance_derivative(band: str, relative_derivative_per_k: float) -> None:
    t = np.array([250.0, 300.0, 350.0])
    step = 1e-3
    finite = (band_radiance(t + step, band) - band_radiance(t - step, band)) / (2 * step)
    assert_allclose(band_radiance_derivative(t, band), finite, rtol=1e-7)
    rel = band_radiance_derivative(300.0, band) / band_radiance(300.0, band)
    assert_allclose(rel, relative_derivative_per_k, rtol=0.01)


def test_band_radiance_mwir_magnitude() -> None:
    # 300 K blackbody in 3.2-3.4 um: 0.0300 W m-2 sr-1; 15 mK NETD ~ 2.2e-5 W m-2 sr-1.
    assert_allclose(band_radiance(300.0), 0.0300, rtol=0.005)
    assert_allclose(0.015 * band_radiance_derivative(300.0), 2.17e-5, rtol=0.01)


# ---------------------------------------------------------------------------------------------
# Radiance table
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("band", BAND_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_radiance_table_round_trip(band: str, dtype: type) -> None:
    table = radiance_table(band)
    t = np.linspace(150.0, 1000.0, 200_001).astype(dtype)
    radiance = table.radiance(t)
    back = table.brightness_temperature(radiance)
    assert radiance.dtype == dtype and back.dtype == dtype
    assert np.max(np.abs(back.astype(np.float64) - t.astype(np.float64))) < 1e-3


@pytest.mark.parametrize("band", BAND_NAMES)
def test_radiance_table_radiance(band: str) -> None:
    table = radiance_table(band)
    t = np.linspace(100.0, 1200.0, 50_001)
    exact = band_radiance(t, band)
    # Radiance error expressed as a temperature error: < 1 mK (interpolation gives ~0.1 mK).
    error_k = (table.radiance(t) - exact) / band_radiance_derivative(t, band)
    assert np.max(np.abs(error_k)) < 1e-3
    assert np.max(np.abs(table.brightness_temperature(exact) - t)) < 1e-3
    assert np.all(np.diff(table.radiance(t)) > 0)
    assert np.all(np.diff(table.brightness_temperature(exact)) > 0)


def test_radiance_table_shapes_and_clamping() -> None:
    table = radiance_table("mwir")
    assert radiance_table("MWIR") is table  # cached
    t = np.full((4, 3, 2), 300.0, dtype=np.float32)
    assert table.radiance(t).shape == (4, 3, 2)
    low_high = table.brightness_temperature(np.array([-1.0, 0.0, 1e9, math.nan]))
    assert_allclose(low_high[:3], [100.0, 100.0, 1200.0])
    assert math.isnan(low_high[3])


@pytest.mark.parametrize("bad", [50.0, 1300.0, math.nan, -1.0])
def test_radiance_table_invalid(bad: float) -> None:
    with pytest.raises(InputError, match="100-1200 K"):
        radiance_table("lwir").radiance(np.array([300.0, bad]))


def test_radiance_table_large_batch() -> None:
    """The kernel path (large arrays) agrees with the small-array path; speed is benched in
    bench/gas_throughput.py, not asserted here (timed tests fail on loaded CI machines)."""
    table = radiance_table("mwir")
    t = np.random.default_rng(0).uniform(250.0, 350.0, 250_000).astype(np.float32)
    round_trip = table.brightness_temperature(table.radiance(t))
    small = np.concatenate(
        [table.brightness_temperature(table.radiance(c)) for c in np.split(t[:1000], 100)]
    )
    assert_allclose(round_trip[:1000], small, rtol=1e-6)
    assert_allclose(round_trip, t, atol=0.05)


def test_apparent_radiance() -> None:
    lb, lg = np.float32(0.03), np.float32(0.02)
    t = np.array([1.0, 0.0, 0.25], dtype=np.float32)
    out = apparent_radiance(lb, lg, t)
    assert out.dtype == np.float32
    assert_allclose(out, [0.03, 0.02, 0.25 * 0.03 + 0.75 * 0.02], rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Column density
# ---------------------------------------------------------------------------------------------
def test_ppm_m_to_molecules_cm2() -> None:
    # Loschmidt number scaled to 296 K: 1 ppm m = 2.4794e15 molecules cm-2.
    expected = LOSCHMIDT_M3 * 273.15 / 296.0 * 1e-6 * 1e-4
    assert_allclose(ppm_m_to_molecules_cm2(1.0), expected, rtol=1e-9)
    assert_allclose(
        ppm_m_to_molecules_cm2([0.0, 2.0], 592.0, 2 * 101325.0), [0.0, 2 * expected], rtol=1e-9
    )


def test_ppm_m_to_molecules_cm2_invalid() -> None:
    with pytest.raises(InputError):
        ppm_m_to_molecules_cm2(1.0, temperature_k=0.0)


# ---------------------------------------------------------------------------------------------
# Methane MWIR curve of growth (line-by-line table)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def methane_mwir() -> radiometry.CurveOfGrowth:
    return curve_of_growth("methane", "mwir")


def test_curve_of_growth_table(methane_mwir: radiometry.CurveOfGrowth) -> None:
    cog = methane_mwir
    assert (cog.species, cog.band) == ("methane", "mwir")
    assert "line-by-line HITRAN2012" in cog.method and "Voigt" in cog.method
    c, a = cog.column_ppm_m, cog.absorptance
    assert c[0] == 0.0 and a[0] == 0.0
    assert c.size >= 150 and c[1] <= 1e-2 and c[-1] >= 1e7
    assert np.all(np.diff(c) > 0) and np.all(np.diff(a) > 0)
    assert np.all(a < 1.0)
    # Concave (saturating) in the column: slopes decrease.
    slopes = np.diff(a) / np.diff(c)
    assert np.all(np.diff(slopes) < 0)


def test_curve_of_growth_mean_cross_section(methane_mwir: radiometry.CurveOfGrowth) -> None:
    assert_allclose(methane_mwir.mean_cross_section_cm2, 5.1e-20, rtol=0.02)
    tau_per_ppm_m = methane_mwir.mean_cross_section_cm2 * ppm_m_to_molecules_cm2(1.0)
    assert_allclose(tau_per_ppm_m, 1.26e-4, rtol=0.02)


def test_curve_of_growth_mean_cross_section_vs_line_sum(
    methane_mwir: radiometry.CurveOfGrowth,
) -> None:
    # Band mean = sum of line intensities / band width, less the wing area cut off at +-5 cm-1
    # (2 gamma / (pi * 5 cm-1) ~ 0.7 %) and lost outside the band edges.
    lines = load_methane_hitran_lines()
    band = get_band("mwir")
    line_sum_mean = lines.intensity_cm_molecule.sum() / band.width_cm
    assert_allclose(methane_mwir.mean_cross_section_cm2, line_sum_mean, rtol=0.015)
    assert methane_mwir.mean_cross_section_cm2 < line_sum_mean


@pytest.mark.parametrize("column_ppm_m", [1e-2, 0.1, 1.0, 3.0])
def test_curve_of_growth_thin_limit(
    methane_mwir: radiometry.CurveOfGrowth, column_ppm_m: float
) -> None:
    thin = methane_mwir.mean_cross_section_cm2 * ppm_m_to_molecules_cm2(column_ppm_m)
    assert_allclose(methane_mwir.absorptance_of(column_ppm_m), thin, rtol=0.05)
    assert methane_mwir.absorptance_of(column_ppm_m) <= thin


def test_curve_of_growth_pnnl_band_mean(methane_mwir: radiometry.CurveOfGrowth) -> None:
    # PNNL column is a base-10 cross-section [cm2]; x ln 10 -> natural-log band mean.
    data = np.loadtxt(
        DATA_DIR / "methane_pnnl_2940-3125cm-1.csv", delimiter=",", skiprows=1, usecols=(0, 1)
    )
    band = get_band("mwir")
    inside = (data[:, 0] >= band.wavenumber_min_cm) & (data[:, 0] <= band.wavenumber_max_cm)
    pnnl_mean = float(np.mean(data[inside, 1])) * math.log(10.0)
    assert_allclose(pnnl_mean, methane_mwir.mean_cross_section_cm2, rtol=0.10)


@pytest.mark.parametrize(
    ("column_ppm_m", "absorptance"),
    # Figures given with the data (Lorentz line-by-line, data/absorption/README.md).
    [(10.0, 0.0013), (100.0, 0.0117), (1_000.0, 0.070), (10_000.0, 0.206), (50_000.0, 0.409)],
)
def test_curve_of_growth_reference_figures(
    methane_mwir: radiometry.CurveOfGrowth, column_ppm_m: float, absorptance: float
) -> None:
    assert_allclose(methane_mwir.absorptance_of(column_ppm_m), absorptance, rtol=0.03)


def test_curve_of_growth_saturates(methane_mwir: radiometry.CurveOfGrowth) -> None:
    beer = -math.expm1(
        -methane_mwir.mean_cross_section_cm2 * float(ppm_m_to_molecules_cm2(10_000.0))
    )
    a = float(methane_mwir.absorptance_of(10_000.0))
    assert beer > 0.7 and a < 0.25 and a < 0.4 * beer


def test_curve_of_growth_independent_line_by_line(methane_mwir: radiometry.CurveOfGrowth) -> None:
    """Recompute the table at a few columns with a separate, coarser code (no drift allowed).

    Lorentz profile (Doppler HWHM 0.005 cm-1 << Lorentz 0.05 cm-1 at 1 atm), all lines, wings
    cut at +-5 cm-1, 0.01 cm-1 grid, line-by-line accumulation in a plain loop.
    """
    data = np.loadtxt(DATA_DIR / "methane_hitran2012_2940-3125cm-1.csv", delimiter=",")
    nu0 = data[:, 0] + data[:, 4]  # pressure shift at 1 atm
    strength, gamma = data[:, 1], data[:, 2]
    lo, hi = 1e4 / 3.4, 1e4 / 3.2
    n = int(math.ceil((hi - lo) / 0.01))
    nu = lo + (hi - lo) / n * (np.arange(n) + 0.5)
    step = (hi - lo) / n
    sigma = np.zeros(n)
    for centre, s, g in zip(nu0, strength, gamma, strict=True):
        i0 = max(0, int((centre - 5.0 - lo) / step))
        i1 = min(n, int((centre + 5.0 - lo) / step) + 2)
        x = nu[i0:i1] - centre
        sigma[i0:i1] += np.where(np.abs(x) <= 5.0, s * g / math.pi / (x * x + g * g), 0.0)
    columns = np.array([100.0, 1_000.0, 10_000.0, 50_000.0])
    n_cm2 = columns * 1e-6 * 101325.0 / (K * 296.0) * 1e-4
    recomputed = np.array([1.0 - np.mean(np.exp(-sigma * x)) for x in n_cm2])
    assert_allclose(np.mean(sigma), methane_mwir.mean_cross_section_cm2, rtol=0.01)
    assert_allclose(methane_mwir.absorptance_of(columns), recomputed, rtol=0.02)


def test_absorptance_of_matches_table(methane_mwir: radiometry.CurveOfGrowth) -> None:
    # Fine-table (2,048 points, linear in ln column) error at the table's own nodes: < 1e-5.
    assert_allclose(
        methane_mwir.absorptance_of(methane_mwir.column_ppm_m),
        methane_mwir.absorptance,
        rtol=1e-5,
        atol=0,
    )
    # Between nodes: within the bracketing table values.
    mid = np.sqrt(methane_mwir.column_ppm_m[1:-1] * methane_mwir.column_ppm_m[2:])
    a_mid = methane_mwir.absorptance_of(mid)
    assert np.all(a_mid > methane_mwir.absorptance[1:-1]) and np.all(
        a_mid < methane_mwir.absorptance[2:]
    )


@pytest.mark.parametrize("species", SPECIES_NAMES)
@pytest.mark.parametrize("band", BAND_NAMES)
def test_absorptance_of_monotonic_below_one(species: str, band: str) -> None:
    cog = curve_of_growth(species, band)
    a = cog.absorptance_of(np.geomspace(1e-3, 1e8, 200_001))
    assert np.all(np.diff(a) >= 0.0) and np.all(a < 1.0)


def test_absorptance_of_dtype_shape_and_limits(methane_mwir: radiometry.CurveOfGrowth) -> None:
    cols32 = np.array([[0.0, 1e-6], [1e3, 1e9]], dtype=np.float32)
    a32 = methane_mwir.absorptance_of(cols32)
    assert a32.dtype == np.float32 and a32.shape == (2, 2)
    assert a32[0, 0] == 0.0
    assert_allclose(
        a32[0, 1], methane_mwir.mean_cross_section_cm2 * ppm_m_to_molecules_cm2(1e-6), rtol=1e-4
    )
    assert a32[1, 1] == np.float32(methane_mwir.absorptance[-1]) and a32[1, 1] < 1.0
    a64 = methane_mwir.absorptance_of([0, 1000])  # ints -> float64
    assert a64.dtype == np.float64
    assert_allclose(a64[1], a32[1, 0], rtol=1e-6)
    t = methane_mwir.transmittance_of(cols32)
    assert t.dtype == np.float32
    assert_allclose(t, 1.0 - a32, rtol=0, atol=1e-7)  # t = exp(-tau) directly, a32 rounded
    assert methane_mwir.absorptance_of(5.0).shape == ()


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_absorptance_of_invalid(methane_mwir: radiometry.CurveOfGrowth, bad: float) -> None:
    with pytest.raises(InputError, match="column_ppm_m"):
        methane_mwir.absorptance_of(np.array([1.0, bad], dtype=np.float32))


def test_absorptance_of_speed(methane_mwir: radiometry.CurveOfGrowth) -> None:
    cols = (10 ** np.random.default_rng(1).uniform(-1, 5, 2_500_000)).astype(np.float32)
    cols[::5] = 0.0
    big = methane_mwir.absorptance_of(cols)
    small = np.concatenate([methane_mwir.absorptance_of(c) for c in np.split(cols[:1000], 100)])
    assert_allclose(big[:1000], small, rtol=1e-6)
    assert np.all(big[::5] == 0.0) and np.all((big >= 0.0) & (big < 1.0))


# ---------------------------------------------------------------------------------------------
# Band models and the other species/bands
# ---------------------------------------------------------------------------------------------
def test_malkmus_absorptance() -> None:
    k = 5e-20
    n = ppm_m_to_molecules_cm2(np.array([1e-3, 1e6]))
    a = malkmus_absorptance([1e-3, 1e6], k, 0.1)
    assert_allclose(a[0], k * n[0], rtol=1e-5)  # thin limit (correction k N / beta ~ 1e-6)
    assert_allclose(-np.log1p(-a[1]), math.sqrt(0.1 * k * n[1]) - 0.05, rtol=1e-3)  # strong lines
    beer = -np.expm1(-k * ppm_m_to_molecules_cm2(1000.0))
    assert_allclose(malkmus_absorptance(1000.0, k, 1e9), beer, rtol=1e-6)  # beta -> inf


def test_malkmus_absorptance_invalid() -> None:
    with pytest.raises(InputError):
        malkmus_absorptance(1.0, 5e-20, 0.0)


def test_band_model_absorptance() -> None:
    k = 5e-20
    shape = BandModelParameters(0.2, 0.9, 1.0)
    cols = np.array([1e-3, 10.0, 1e4])
    a = band_model_absorptance(cols, k, shape)
    assert_allclose(a[0], k * ppm_m_to_molecules_cm2(1e-3), rtol=1e-5)
    expected = 0.2 * malkmus_absorptance(cols, k * 4.5, 1.0) + 0.8 * malkmus_absorptance(
        cols, k * 0.125, 1.0
    )
    assert_allclose(a, expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("f", "s", "beta"), [(0.0, 0.5, 1.0), (0.5, 0.4, 1.0), (0.2, 1.0, 1.0), (0.2, 0.9, -1.0)]
)
def test_band_model_parameters_invalid(f: float, s: float, beta: float) -> None:
    with pytest.raises(InputError):
        BandModelParameters(f, s, beta)


def test_fit_band_model(methane_mwir: radiometry.CurveOfGrowth) -> None:
    shipped = band_model_parameters()
    refit, max_error = fit_band_model(methane_mwir, start=shipped)
    assert max_error < 0.03  # two-group Malkmus within 3 % over 1-1e5 ppm m
    assert_allclose(
        [refit.strong_fraction, refit.strong_intensity_fraction, refit.line_structure],
        [shipped.strong_fraction, shipped.strong_intensity_fraction, shipped.line_structure],
        rtol=0.01,
    )
    beta, single_error = fit_malkmus_line_structure(methane_mwir)
    assert 0.01 < beta < 1.0 and 0.05 < single_error < 0.2  # one Malkmus term: ~14 % off


@pytest.mark.parametrize("species", SPECIES_NAMES)
@pytest.mark.parametrize("band", BAND_NAMES)
def test_curve_of_growth(species: str, band: str) -> None:
    cog = curve_of_growth(species.upper(), band)
    assert curve_of_growth(species, band) is cog  # cached
    a = cog.absorptance
    assert a[0] == 0.0 and np.all(np.diff(a) > 0) and np.all(a < 1.0)
    thin = cog.mean_cross_section_cm2 * ppm_m_to_molecules_cm2(0.1)
    assert_allclose(cog.absorptance_of(0.1), thin, rtol=0.01)
    if (species, band) != ("methane", "mwir"):
        assert "Malkmus" in cog.method
    assert ("APPROXIMATE" in cog.method) == (species == "propane")


def test_curve_of_growth_relative_strengths() -> None:
    # Thin-limit sensitivities: methane LWIR (nu4) below methane MWIR (nu3) per ppm m.
    mwir = curve_of_growth("methane", "mwir").mean_cross_section_cm2
    lwir = curve_of_growth("methane", "lwir").mean_cross_section_cm2
    assert 0.3 < lwir / mwir < 0.5


@pytest.mark.parametrize(("species", "band"), [("ethane", "mwir"), ("methane", "swir"), ("", "")])
def test_curve_of_growth_invalid(species: str, band: str) -> None:
    with pytest.raises(InputError) as info:
        curve_of_growth(species, band)
    message = str(info.value)
    assert all(n in message for n in SPECIES_NAMES) or all(n in message for n in BAND_NAMES)


def test_write_curve_of_growth_csv_round_trip(
    methane_mwir: radiometry.CurveOfGrowth, tmp_path: Path
) -> None:
    path = tmp_path / "cog.csv"
    radiometry.write_curve_of_growth_csv(
        methane_mwir, path, metadata={"answer": "42"}, notes=["a note"]
    )
    back = radiometry.read_curve_of_growth_csv(path, "methane", "mwir")
    assert_allclose(back.column_ppm_m, methane_mwir.column_ppm_m, rtol=1e-8)
    assert_allclose(back.absorptance, methane_mwir.absorptance, rtol=1e-9)
    assert back.method == methane_mwir.method
    assert list(tmp_path.iterdir()) == [path]  # atomic write leaves no temporary file


def test_read_curve_of_growth_csv_invalid(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text("# method = x\nfoo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError):
        radiometry.read_curve_of_growth_csv(path, "methane", "mwir")


def test_module_exports() -> None:
    for name in radiometry.__all__:
        assert hasattr(radiometry, name)
