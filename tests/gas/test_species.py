"""Tests for plantwatch.gas.species: bulk properties against GAS-PHYSICS.md and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from plantwatch.errors import InputError
from plantwatch.gas import species
from plantwatch.gas.species import (
    BAND_INTENSITIES,
    SPECIES_NAMES,
    band_intensity_from_einstein_a,
    get_band_intensity,
    get_species,
)
from plantwatch.units import GAS_CONSTANT_J_MOL_K

# IUPAC 2021 conventional atomic weights (C 12.011, H 1.008) [g/mol].
_ATOMIC_WEIGHT_G_MOL = {"C": 12.011, "H": 1.008}


@pytest.mark.parametrize(
    ("name", "density_kg_m3"),
    [("methane", 0.668), ("propane", 1.83)],  # GAS-PHYSICS.md, 20 degC, 1 atm
)
def test_density_kg_m3(name: str, density_kg_m3: float) -> None:
    assert_allclose(get_species(name).density_kg_m3(293.15, 101325.0), density_kg_m3, rtol=0.01)


def test_density_kg_m3_ideal_gas_scaling() -> None:
    gas = get_species("methane")
    # rho ~ p / T: doubling p and T leaves it unchanged; halving T doubles it.
    assert_allclose(gas.density_kg_m3(586.3, 202650.0), gas.density_kg_m3(), rtol=1e-12)
    assert_allclose(gas.density_kg_m3(146.575), 2.0 * gas.density_kg_m3(), rtol=1e-12)


@pytest.mark.parametrize(("temperature_k", "pressure_pa"), [(0.0, 1e5), (-5.0, 1e5), (300, 0.0)])
def test_density_kg_m3_invalid(temperature_k: float, pressure_pa: float) -> None:
    with pytest.raises(InputError):
        get_species("methane").density_kg_m3(temperature_k, pressure_pa)


@pytest.mark.parametrize(
    ("name", "reduced_gravity_m_s2"),
    [("methane", 4.3), ("propane", -5.1)],  # GAS-PHYSICS.md: methane rises, propane sinks
)
def test_reduced_gravity_m_s2(name: str, reduced_gravity_m_s2: float) -> None:
    gas = get_species(name)
    assert_allclose(gas.reduced_gravity_m_s2(), reduced_gravity_m_s2, atol=0.2)
    # Same temperature for gas and air: independent of temperature.
    assert_allclose(gas.reduced_gravity_m_s2(250.0), gas.reduced_gravity_m_s2(), rtol=1e-12)


def test_reduced_gravity_m_s2_cold_gas_sinks_more() -> None:
    gas = get_species("methane")
    # Methane at 110 K (boil-off) is denser than 293 K air: it sinks.
    assert gas.reduced_gravity_m_s2(110.0, air_temperature_k=293.15) < 0.0
    assert gas.reduced_gravity_m_s2(350.0, air_temperature_k=293.15) > gas.reduced_gravity_m_s2()


def test_reduced_gravity_m_s2_invalid() -> None:
    with pytest.raises(InputError):
        get_species("propane").reduced_gravity_m_s2(0.0)
    with pytest.raises(InputError):
        get_species("propane").reduced_gravity_m_s2(290.0, air_temperature_k=math.nan)


@pytest.mark.parametrize(
    ("name", "gamma"),
    [("methane", 1.304), ("propane", 1.127)],  # Cp/(Cp-R) with NIST Cp(298.15 K)
)
def test_heat_capacity_ratio(name: str, gamma: float) -> None:
    assert_allclose(get_species(name).heat_capacity_ratio, gamma, atol=0.002)


@pytest.mark.parametrize("name", SPECIES_NAMES)
def test_sound_speed_m_s(name: str) -> None:
    gas = get_species(name)
    expected = math.sqrt(
        gas.heat_capacity_ratio * GAS_CONSTANT_J_MOL_K * 293.15 / gas.molar_mass_kg_mol
    )
    assert_allclose(gas.sound_speed_m_s(293.15), expected, rtol=1e-12)
    # c ~ sqrt(T)
    assert_allclose(gas.sound_speed_m_s(4 * 293.15), 2 * gas.sound_speed_m_s(293.15), rtol=1e-12)


@pytest.mark.parametrize(("name", "speed_m_s"), [("methane", 445.0), ("propane", 250.0)])
def test_sound_speed_m_s_magnitude(name: str, speed_m_s: float) -> None:
    # Ideal-gas values at 20 degC; real-gas tables differ by < 1 % at 1 atm.
    assert_allclose(get_species(name).sound_speed_m_s(293.15), speed_m_s, rtol=0.02)


def test_sound_speed_m_s_invalid() -> None:
    with pytest.raises(InputError):
        get_species("methane").sound_speed_m_s(-1.0)


@pytest.mark.parametrize(
    ("name", "formula"), [("methane", {"C": 1, "H": 4}), ("propane", {"C": 3, "H": 8})]
)
def test_molar_mass_kg_mol(name: str, formula: dict[str, int]) -> None:
    expected = sum(_ATOMIC_WEIGHT_G_MOL[el] * n for el, n in formula.items()) * 1e-3
    assert_allclose(get_species(name).molar_mass_kg_mol, expected, rtol=5e-4)


@pytest.mark.parametrize(
    ("name", "lel_range"),
    [("methane", (4.4, 5.0)), ("propane", (1.7, 2.2))],  # IEC 60079-20-1 .. USBM Bull. 627
)
def test_lower_explosive_limit_vol_pct(name: str, lel_range: tuple[float, float]) -> None:
    lel = get_species(name).lower_explosive_limit_vol_pct
    assert lel_range[0] <= lel <= lel_range[1]


@pytest.mark.parametrize("name", ["methane", "Methane", " PROPANE ", "propane"])
def test_get_species(name: str) -> None:
    gas = get_species(name)
    assert gas.name == name.strip().lower()
    assert gas.citation


@pytest.mark.parametrize("name", ["butane", "", "CH4", "meth ane"])
def test_get_species_invalid(name: str) -> None:
    with pytest.raises(InputError) as info:
        get_species(name)
    message = str(info.value)
    assert all(valid in message for valid in SPECIES_NAMES)
    assert "\n" not in message


def test_band_intensity_from_einstein_a() -> None:
    # Closed-form scalings: S ~ A, S ~ g_u/g_l, S ~ nu^-2 (1 - exp(-c2 nu / T)).
    base = band_intensity_from_einstein_a(1.0, 1000.0, 1.0)
    assert_allclose(band_intensity_from_einstein_a(3.0, 1000.0, 1.0), 3 * base, rtol=1e-12)
    assert_allclose(band_intensity_from_einstein_a(1.0, 1000.0, 3.0), 3 * base, rtol=1e-12)
    c2 = 1.438776877  # cm K, CODATA 2018
    ratio = (
        (1000.0 / 2000.0) ** 2 * (1 - math.exp(-c2 * 2000 / 296)) / (1 - math.exp(-c2 * 1000 / 296))
    )
    assert_allclose(band_intensity_from_einstein_a(1.0, 2000.0, 1.0), base * ratio, rtol=1e-9)
    # Absolute value: A / (8 pi c nu^2) with c in cm/s, no stimulated-emission factor at 1 K.
    expected = 1.0 / (8 * math.pi * 2.99792458e10 * 1000.0**2)
    assert_allclose(band_intensity_from_einstein_a(1.0, 1000.0, 1.0, 1.0), expected, rtol=1e-12)


def test_band_intensities_methane_mwir_matches_line_list() -> None:
    from plantwatch.gas.radiometry import load_methane_hitran_lines

    total = float(np.sum(load_methane_hitran_lines().intensity_cm_molecule))
    assert_allclose(BAND_INTENSITIES[("methane", "mwir")].intensity_cm_molecule, total, rtol=1e-4)


def test_band_intensities_methane_lwir_nu4() -> None:
    # nu4 band strength from its Einstein A: about 32 km/mol (1 km/mol = 1.6605e-19 cm/molecule).
    s = get_band_intensity("methane", "lwir").intensity_cm_molecule
    assert_allclose(s / (1e5 / 6.02214076e23), 32.2, rtol=0.01)


@pytest.mark.parametrize(("key", "approximate"), [(k, k[0] == "propane") for k in BAND_INTENSITIES])
def test_band_intensities_flags(key: tuple[str, str], approximate: bool) -> None:
    entry = BAND_INTENSITIES[key]
    assert (entry.species, entry.band) == key
    assert entry.approximate is approximate
    assert entry.intensity_cm_molecule > 0.0
    assert entry.citation
    if approximate:
        assert "ASSUMED" in entry.citation


def test_get_band_intensity_invalid() -> None:
    with pytest.raises(InputError, match="mwir"):
        get_band_intensity("methane", "swir")
    with pytest.raises(InputError, match="methane"):
        get_band_intensity("ethane", "mwir")


def test_module_exports() -> None:
    for name in species.__all__:
        assert hasattr(species, name)
