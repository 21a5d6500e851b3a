"""Gas species: molar mass, heat-capacity ratio, flammability and infrared band data, each cited.

Only species with cited band data are listed (``SPECIES_NAMES``). Bulk properties come from the
NIST Chemistry WebBook [1]_ and flammability limits from IEC 60079-20-1 [2]_. Band-integrated
infrared intensities, which the band-model curves of growth in :mod:`plantwatch.gas.radiometry`
need, are in ``BAND_INTENSITIES``; each entry says where its number comes from and whether part
of it is an engineering assumption (``approximate=True``) rather than a measured figure.

References
----------
.. [1] NIST Chemistry WebBook, SRD 69 (P. J. Linstrom, W. G. Mallard, eds.), National Institute
   of Standards and Technology, https://doi.org/10.18434/T4D303 — methane CAS 74-82-8, propane
   CAS 74-98-6: molecular weight; gas-phase heat capacity Cp at 298.15 K.
.. [2] IEC 60079-20-1:2010, Explosive atmospheres — Part 20-1: Material characteristics for gas
   and vapour classification — Test methods and data, Annex B (Table B.1): lower flammable
   limits methane 4.4 vol%, propane 1.7 vol% (older US data, Zabetakis 1965, USBM Bulletin 627,
   give 5.0 and 2.1 vol%; the IEC values are lower, hence conservative).
.. [3] A&A 2022, article aa41933-21, Table B.2 "CH4 vibrational bands included in the model"
   (https://www.aanda.org/articles/aa/full_html/2022/06/aa41933-21/T3.html): Einstein
   coefficient of the CH4 nu4 fundamental, A = 2.325 s-1 at nu0 = 1310.76 cm-1.
.. [4] S. D. Williams, T. J. Johnson, S. W. Sharpe, V. Yavelak, R. P. Oates, C. S. Brauer,
   "Quantitative vapor-phase IR intensities and DFT computations to predict absolute IR
   spectra based on molecular structure: I. Alkanes", JQSRT 129 (2013) 298-307 (PNNL data):
   C-H stretching band intensity of alkanes ``(34 +- 3) n_CH - (41 +- 60)`` [km mol-1].
.. [5] K. Sung, G. C. Toon, A. W. Mantz, M. A. H. Smith, "FT-IR measurements of cold C3H8
   cross sections at 7-15 um for Titan atmosphere", Icarus 226 (2013) 1499-1513: total
   propane intensity 690-1550 cm-1 = 52.93e-19 cm molecule-1 (+-3 %) at 296 K.
.. [6] L. S. Rothman et al., "The HITRAN2012 molecular spectroscopic database", JQSRT 130
   (2013) 4-50; L. R. Brown et al., "Methane line parameters in the HITRAN2012 database",
   JQSRT 130 (2013) 201-219 (line list shipped in ``plantwatch/data/absorption``).
.. [7] M. Simeckova, D. Jacquemart, L. S. Rothman, R. R. Gamache, A. Goldman, "Einstein
   A-coefficients and statistical weights for molecular absorption transitions in the HITRAN
   database", JQSRT 98 (2006) 130-155 (relation between intensity and Einstein A).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from plantwatch.errors import InputError
from plantwatch.units import (
    AIR_MOLAR_MASS_KG_MOL,
    AVOGADRO_PER_MOL,
    BOLTZMANN_J_K,
    G0_M_S2,
    GAS_CONSTANT_J_MOL_K,
    NTP_PRESSURE_PA,
    NTP_TEMPERATURE_K,
    PLANCK_J_S,
    SPEED_OF_LIGHT_M_S,
    gas_density_kg_m3,
)

__all__ = [
    "BAND_INTENSITIES",
    "SPECIES_NAMES",
    "BandIntensity",
    "Species",
    "band_intensity_from_einstein_a",
    "get_band_intensity",
    "get_species",
]

SPECIES_NAMES: tuple[str, ...] = ("methane", "propane")

# 1 km mol-1 expressed in cm molecule-1: 1e5 cm / N_A (definition of the unit).
_KM_PER_MOL_TO_CM_PER_MOLECULE = 1.0e5 / AVOGADRO_PER_MOL
# Second radiation constant h c / k in cm K (CODATA 2018 exact constants, via units.py).
_C2_CM_K = PLANCK_J_S * SPEED_OF_LIGHT_M_S / BOLTZMANN_J_K * 100.0


@dataclass(frozen=True)
class Species:
    """Bulk properties of one gas.

    Attributes
    ----------
    name
        Lower-case name, one of ``SPECIES_NAMES``.
    formula
        Chemical formula.
    molar_mass_kg_mol
        Molar mass [kg mol-1] (NIST WebBook [1]_).
    heat_capacity_ratio
        Ratio of specific heats gamma = Cp / (Cp - R) of the ideal gas near 300 K [-], from the
        WebBook Cp at 298.15 K [1]_; used for the choked-flow check and the sound speed.
    lower_explosive_limit_vol_pct
        Lower flammable (explosive) limit in air [vol %] (IEC 60079-20-1 [2]_).
    citation
        Where the numbers come from.
    """

    name: str
    formula: str
    molar_mass_kg_mol: float
    heat_capacity_ratio: float
    lower_explosive_limit_vol_pct: float
    citation: str

    def density_kg_m3(
        self, temperature_k: float = NTP_TEMPERATURE_K, pressure_pa: float = NTP_PRESSURE_PA
    ) -> float:
        """Ideal-gas density ``rho = p M / (R T)`` [kg m-3] of the pure gas.

        Parameters
        ----------
        temperature_k
            Gas temperature [K].
        pressure_pa
            Pressure [Pa].
        """
        _check_positive(temperature_k, "temperature_k")
        _check_positive(pressure_pa, "pressure_pa")
        return gas_density_kg_m3(self.molar_mass_kg_mol, temperature_k, pressure_pa)

    def reduced_gravity_m_s2(
        self, temperature_k: float = NTP_TEMPERATURE_K, air_temperature_k: float | None = None
    ) -> float:
        r"""Reduced gravity of the pure gas in air [m s-2]; positive means it rises.

        .. math:: g' = g_0 \frac{\rho_{air} - \rho_{gas}}{\rho_{air}}

        with ideal-gas densities at the same pressure. When gas and air share one temperature
        this is ``g0 (1 - M_gas / M_air)``, independent of temperature: +4.38 m s-2 for methane
        and -5.12 m s-2 for propane (GAS-PHYSICS.md: +4.3 and -5.1).

        Parameters
        ----------
        temperature_k
            Gas temperature [K].
        air_temperature_k
            Ambient air temperature [K]; defaults to ``temperature_k``.
        """
        _check_positive(temperature_k, "temperature_k")
        air_k = temperature_k if air_temperature_k is None else air_temperature_k
        _check_positive(air_k, "air_temperature_k")
        rho_gas = gas_density_kg_m3(self.molar_mass_kg_mol, temperature_k)
        rho_air = gas_density_kg_m3(AIR_MOLAR_MASS_KG_MOL, air_k)
        return G0_M_S2 * (rho_air - rho_gas) / rho_air

    def sound_speed_m_s(self, temperature_k: float = NTP_TEMPERATURE_K) -> float:
        """Ideal-gas speed of sound ``c = sqrt(gamma R T / M)`` [m s-1].

        Parameters
        ----------
        temperature_k
            Gas temperature [K].
        """
        _check_positive(temperature_k, "temperature_k")
        return math.sqrt(
            self.heat_capacity_ratio * GAS_CONSTANT_J_MOL_K * temperature_k / self.molar_mass_kg_mol
        )


def _gamma_from_cp(cp_j_mol_k: float) -> float:
    """Ideal-gas heat-capacity ratio from molar Cp [J mol-1 K-1]: Cp / (Cp - R)."""
    return cp_j_mol_k / (cp_j_mol_k - GAS_CONSTANT_J_MOL_K)


# NIST WebBook [1]: M(CH4) = 16.0425 g/mol, Cp,gas(298.15 K) = 35.69 J/mol/K.
# NIST WebBook [1]: M(C3H8) = 44.0956 g/mol, Cp,gas(298.15 K) = 73.60 J/mol/K.
_SPECIES: dict[str, Species] = {
    "methane": Species(
        name="methane",
        formula="CH4",
        molar_mass_kg_mol=16.0425e-3,
        heat_capacity_ratio=_gamma_from_cp(35.69),
        lower_explosive_limit_vol_pct=4.4,
        citation=(
            "NIST Chemistry WebBook SRD 69 (M = 16.0425 g/mol, Cp(298.15 K) = 35.69 J/mol/K); "
            "IEC 60079-20-1:2010 Table B.1 (LFL 4.4 vol%)"
        ),
    ),
    "propane": Species(
        name="propane",
        formula="C3H8",
        molar_mass_kg_mol=44.0956e-3,
        heat_capacity_ratio=_gamma_from_cp(73.60),
        lower_explosive_limit_vol_pct=1.7,
        citation=(
            "NIST Chemistry WebBook SRD 69 (M = 44.0956 g/mol, Cp(298.15 K) = 73.60 J/mol/K); "
            "IEC 60079-20-1:2010 Table B.1 (LFL 1.7 vol%)"
        ),
    ),
}


def get_species(name: str) -> Species:
    """Species by name (case-insensitive).

    Parameters
    ----------
    name
        One of ``SPECIES_NAMES``.

    Raises
    ------
    InputError
        If the name is not known; the message lists the valid names.
    """
    key = str(name).strip().lower()
    if key not in _SPECIES:
        raise InputError(
            f"unknown species {name!r}; allowed: {', '.join(SPECIES_NAMES)}", field="species"
        )
    return _SPECIES[key]


def band_intensity_from_einstein_a(
    einstein_a_s: float,
    wavenumber_cm: float,
    degeneracy_ratio: float,
    temperature_k: float = 296.0,
    lower_state_fraction: float = 1.0,
) -> float:
    r"""Integrated intensity of a vibrational band from its Einstein A coefficient [cm molecule-1].

    .. math:: S = \frac{g_u}{g_l} \frac{A}{8 \pi c \tilde\nu^2}
              \frac{N_l}{N} \left(1 - e^{-c_2 \tilde\nu / T}\right)

    (the band form of the intensity/Einstein-A relation in [7]_), with ``c`` in cm s-1 and
    ``c2 = hc/k`` [cm K].

    Parameters
    ----------
    einstein_a_s
        Band Einstein coefficient A [s-1].
    wavenumber_cm
        Band origin [cm-1].
    degeneracy_ratio
        Vibrational degeneracy ratio g_u / g_l [-] (3 for a triply degenerate fundamental
        from the ground state).
    temperature_k
        Temperature [K].
    lower_state_fraction
        Fraction of molecules in the lower vibrational state N_l / N [-].
    """
    c_cm_s = SPEED_OF_LIGHT_M_S * 100.0
    stimulated = -math.expm1(-_C2_CM_K * wavenumber_cm / temperature_k)
    return (
        degeneracy_ratio
        * einstein_a_s
        / (8.0 * math.pi * c_cm_s * wavenumber_cm**2)
        * lower_state_fraction
        * stimulated
    )


@dataclass(frozen=True)
class BandIntensity:
    """Band-integrated line intensity of one species inside one camera band, with its source.

    Attributes
    ----------
    species, band
        Names (``SPECIES_NAMES``, ``radiometry.BAND_NAMES``).
    intensity_cm_molecule
        Integrated intensity inside the camera band at 296 K [cm molecule-1]; the band-mean
        cross-section is this divided by the band width [cm-1].
    approximate
        True where part of the number is an engineering assumption, not a measured figure.
    citation
        Source and derivation, including any assumption.
    """

    species: str
    band: str
    intensity_cm_molecule: float
    approximate: bool
    citation: str


# CH4 nu4 (7.7 um) from its Einstein A [3] with the intensity/A relation of [7]: g_u/g_l = 3
# (F2 fundamental from the A1 ground state); ground-state fraction 1/Q_vib at 296 K with the nu4
# (x3, 1310.76 cm-1) and nu2 (x2, 1533.33 cm-1) levels [3] -> 0.9935. Result 5.35e-18
# cm/molecule (32.2 km/mol). The nu4 band (about 1200-1380 cm-1 at 296 K) lies inside the LWIR
# camera band (1176.5-1428.6 cm-1); hot bands (~1 %), 13CH4 (1.1 % abundance, same band
# strength) and the weak nu2 band edge are neglected.
_CH4_Q_VIB_296 = (
    1.0 + 3.0 * math.exp(-_C2_CM_K * 1310.76 / 296.0) + 2.0 * math.exp(-_C2_CM_K * 1533.33 / 296.0)
)
_CH4_NU4_INTENSITY = band_intensity_from_einstein_a(
    2.325, 1310.76, 3.0, temperature_k=296.0, lower_state_fraction=1.0 / _CH4_Q_VIB_296
)

# Propane C-H stretch, whole band (about 2840-3000 cm-1): 34 * 8 - 41 = 231 km/mol from the
# PNNL-based alkane model of [4] (stated uncertainty of the model +-3 per C-H bond and +-60
# intercept, i.e. roughly +-30 % here).
_C3H8_CH_STRETCH_TOTAL = (34.0 * 8.0 - 41.0) * _KM_PER_MOL_TO_CM_PER_MOLECULE
# ASSUMPTION (no measured in-band figure found): half of that band lies inside 2941-3125 cm-1.
# The camera band edge (3.4 um = 2941 cm-1) cuts the propane C-H stretch band near its middle:
# the antisymmetric CH3/CH2 stretches (~2960-2975 cm-1, the strongest alkane C-H stretch
# features) fall inside, the symmetric stretches and Fermi-resonance features (~2850-2940 cm-1)
# outside. Uncertain by about +-50 %; replace with the PNNL propane spectrum integrated over the
# band when it can be shipped.
_C3H8_MWIR_IN_BAND_FRACTION = 0.5
# Propane 690-1550 cm-1 total 52.93e-19 cm/molecule [5].
_C3H8_LWIR_REGION_TOTAL = 52.93e-19
# ASSUMPTION (no measured in-band figure found): a quarter of it lies inside 1176.5-1428.6 cm-1.
# That window holds the CH3 symmetric deformation (~1370-1390 cm-1) and CH2 wag/twist and
# skeletal features (~1150-1340 cm-1), but not the stronger CH3/CH2 antisymmetric deformations
# (~1460-1476 cm-1) nor the CH2 rock (748 cm-1) that carry most of the region's intensity.
# Uncertain by about +-50 %.
_C3H8_LWIR_IN_BAND_FRACTION = 0.25

BAND_INTENSITIES: dict[tuple[str, str], BandIntensity] = {
    ("methane", "mwir"): BandIntensity(
        species="methane",
        band="mwir",
        # Sum of the 12,738 HITRAN2012 line intensities in 2940-3125 cm-1 [6] (the shipped
        # line list); the line-by-line table, not this sum, is what the simulator uses.
        intensity_cm_molecule=9.5266e-18,
        approximate=False,
        citation="sum of HITRAN2012 CH4 line intensities 2940-3125 cm-1 (Rothman et al. 2013)",
    ),
    ("methane", "lwir"): BandIntensity(
        species="methane",
        band="lwir",
        intensity_cm_molecule=_CH4_NU4_INTENSITY,
        approximate=False,
        citation=(
            "CH4 nu4 band from A = 2.325 s-1 at 1310.76 cm-1 (A&A 2022 aa41933-21 Table B.2) "
            "via Simeckova et al. 2006, g_u/g_l = 3, 296 K; hot bands neglected"
        ),
    ),
    ("propane", "mwir"): BandIntensity(
        species="propane",
        band="mwir",
        intensity_cm_molecule=_C3H8_CH_STRETCH_TOTAL * _C3H8_MWIR_IN_BAND_FRACTION,
        approximate=True,
        citation=(
            "C-H stretch total 231 km/mol from the alkane model of Williams et al. 2013 "
            "(JQSRT 129:298) x ASSUMED in-band fraction 0.5 (+-50 %)"
        ),
    ),
    ("propane", "lwir"): BandIntensity(
        species="propane",
        band="lwir",
        intensity_cm_molecule=_C3H8_LWIR_REGION_TOTAL * _C3H8_LWIR_IN_BAND_FRACTION,
        approximate=True,
        citation=(
            "690-1550 cm-1 total 52.93e-19 cm/molecule (Sung et al. 2013, Icarus 226:1499) x "
            "ASSUMED in-band fraction 0.25 (+-50 %)"
        ),
    ),
}


def get_band_intensity(species: str, band: str) -> BandIntensity:
    """Cited band-integrated intensity of ``species`` in camera band ``band``.

    Raises
    ------
    InputError
        If the species or band is unknown; the message lists the valid names.
    """
    name = get_species(species).name
    band_key = str(band).strip().lower()
    if (name, band_key) not in BAND_INTENSITIES:
        bands = sorted({b for _, b in BAND_INTENSITIES})
        raise InputError(f"unknown band {band!r}; allowed: {', '.join(bands)}", field="band")
    return BAND_INTENSITIES[(name, band_key)]


def _check_positive(value: float, field: str) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise InputError(f"must be a positive finite number, got {value!r}", field=field)
