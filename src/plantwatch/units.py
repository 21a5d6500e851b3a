"""Physical constants and unit conversions, each with its source.

SI inside plantwatch; conversions happen only at the edges (CLI, files, UI) through these.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "AIR_MOLAR_MASS_KG_MOL",
    "AVOGADRO_PER_MOL",
    "BOLTZMANN_J_K",
    "G0_M_S2",
    "GAS_CONSTANT_J_MOL_K",
    "NTP_PRESSURE_PA",
    "NTP_TEMPERATURE_K",
    "PLANCK_J_S",
    "SPEED_OF_LIGHT_M_S",
    "celsius_to_kelvin",
    "gas_density_kg_m3",
    "kelvin_to_celsius",
    "leak_rate_g_s_from_l_min",
    "leak_rate_l_min_from_g_s",
]

# CODATA 2018 exact values (SI redefinition of 2019).
PLANCK_J_S = 6.62607015e-34
SPEED_OF_LIGHT_M_S = 299_792_458.0
BOLTZMANN_J_K = 1.380649e-23
AVOGADRO_PER_MOL = 6.02214076e23
GAS_CONSTANT_J_MOL_K = BOLTZMANN_J_K * AVOGADRO_PER_MOL  # 8.314462618 J mol-1 K-1
# Standard gravity, CGPM 1901 (exact by definition).
G0_M_S2 = 9.80665
# Dry air mean molar mass, U.S. Standard Atmosphere 1976, Table 3.
AIR_MOLAR_MASS_KG_MOL = 0.0289644
# "Normal" conditions for volumetric leak rates: 20 degC, 1 atm (NIST; the convention of gas
# flow meters used in OGI controlled-release tests). Standard litres in plantwatch mean these.
NTP_TEMPERATURE_K = 293.15
NTP_PRESSURE_PA = 101_325.0


def celsius_to_kelvin(temperature_c: ArrayLike) -> NDArray[np.float64]:
    """Temperature [degC] -> [K]."""
    return np.asarray(temperature_c, dtype=np.float64) + 273.15


def kelvin_to_celsius(temperature_k: ArrayLike) -> NDArray[np.float64]:
    """Temperature [K] -> [degC]."""
    return np.asarray(temperature_k, dtype=np.float64) - 273.15


def gas_density_kg_m3(
    molar_mass_kg_mol: float,
    temperature_k: float = NTP_TEMPERATURE_K,
    pressure_pa: float = NTP_PRESSURE_PA,
) -> float:
    """Ideal-gas density ``rho = p M / (R T)`` [kg m-3].

    At 20 degC and 1 atm this gives 0.667 kg m-3 for methane (M = 16.04 g/mol) and
    1.204 kg m-3 for air, matching GAS-PHYSICS.md within 0.2 %.
    """
    return pressure_pa * molar_mass_kg_mol / (GAS_CONSTANT_J_MOL_K * temperature_k)


def leak_rate_g_s_from_l_min(rate_l_min: float, molar_mass_kg_mol: float) -> float:
    """Volumetric leak rate in standard litres per minute (20 degC, 1 atm) -> mass rate [g s-1]."""
    density_kg_m3 = gas_density_kg_m3(molar_mass_kg_mol)
    return rate_l_min * 1e-3 / 60.0 * density_kg_m3 * 1e3


def leak_rate_l_min_from_g_s(rate_g_s: float, molar_mass_kg_mol: float) -> float:
    """Mass leak rate [g s-1] -> standard litres per minute (20 degC, 1 atm)."""
    density_kg_m3 = gas_density_kg_m3(molar_mass_kg_mol)
    return rate_g_s * 1e-3 / density_kg_m3 * 1e3 * 60.0
