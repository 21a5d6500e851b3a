"""Time-resolved 3D gas plume from a leak: Lagrangian Gaussian puffs in synthetic turbulence.

A leak of rate Q releases puffs of equal mass. Each puff moves with

* the **jet** excess velocity of a round turbulent free jet along the leak direction, decaying as
  ``u = u0 B d / s`` beyond the potential core (s = distance along the jet) [1];
* the **mean wind** with gusts (Ornstein-Uhlenbeck speed and direction, uniform in space);
* the **turbulent** velocity of a synthetic field (``plantwatch.gas.turbulence``) sampled at the
  puff centre: neighbouring puffs see the same eddies, which is what makes the plume meander and
  flicker coherently as real plumes do;
* a **buoyant** vertical velocity from the reduced gravity of the gas-air mixture at the puff
  centre, ``g' = g X (rho_air - rho_gas) / rho_air``, limited by quadratic drag (thermal
  model [3]): methane rises, propane sinks, both fade as the plume dilutes.

Puff size grows deterministically with age: jet spreading (``sigma = 0.0798 s``, half-width
spreading rate 0.094 [1]) combined with relative dispersion by eddies smaller than the smallest
resolved mode, Richardson's law ``d sigma/dt = a eps^(1/3) sigma^(1/3)`` [2] switching to
Fickian growth beyond that size. Solid occluders push puff centres out of them; the ground
reflects them.

Puffs are emitted densely (hundreds per second) and thinned as they grow: at ages ``A_j`` only
every ``2^j``-th puff survives with ``2^j`` times the mass, chosen so that the spacing between
surviving puffs stays below their size. Near the orifice, where puffs would be far apart compared
with the thin jet, the renderer uses a dense chain of *virtual* puffs along the analytic jet path
(``jet_chain``). Mass is conserved in aggregate.

References
----------
.. [1] S. B. Pope, *Turbulent Flows* (2000), Sec. 5.1 and Table 5.1: round jet centreline
   velocity ``U0/Uc = (x - x0)/(B d)`` with B = 5.8, spreading rate S = 0.094.
.. [2] J. P. L. C. Salazar, L. R. Collins, "Two-particle dispersion in isotropic turbulent flows",
   Annu. Rev. Fluid Mech. 41 (2009): Richardson constant g ~ 0.5 (<r^2> = g eps t^3).
.. [3] J. S. Turner, *Buoyancy Effects in Fluids*, Cambridge (1973), Ch. 6 (thermals).
.. [4] M. Birch et al., "The structure and concentration decay of high pressure jets of natural
   gas", Combust. Sci. Technol. 36 (1984): pseudo-diameter of under-expanded (choked) jets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from plantwatch.errors import InputError
from plantwatch.gas.turbulence import SyntheticTurbulence, TurbulenceConfig
from plantwatch.units import AIR_MOLAR_MASS_KG_MOL, G0_M_S2, gas_density_kg_m3

__all__ = [
    "JET_DECAY_CONSTANT",
    "JET_SIGMA_PER_M",
    "LeakSource",
    "PlumeConfig",
    "PlumeFrames",
    "WindConfig",
    "jet_distance_m",
    "jet_excess_speed_m_s",
    "puff_sigma_m",
    "simulate_plume",
    "wind_unit_vectors",
]

JET_DECAY_CONSTANT = 5.8  # B in U0/Uc = x/(B d), round jet (Pope 2000, Table 5.1)
JET_SIGMA_PER_M = 0.094 / math.sqrt(2.0 * math.log(2.0))  # Gaussian sigma per metre of jet
RICHARDSON_COEFFICIENT = 0.66  # a in d sigma/dt = a eps^(1/3) sigma^(1/3); from g = 0.5 [2]
SPINUP_STEP_S = 0.05  # time step before the first frame [s]
BUOYANCY_DRAG_COEFFICIENT = 1.0  # quadratic drag of a buoyant puff (thermal) [3], order one


@dataclass(frozen=True)
class LeakSource:
    """A leak: where, which way, how fast and how much.

    ``orifice_diameter_m`` follows from rate, exit speed and density when not given; an exit
    speed above the speed of sound is choked: the speed is capped and the diameter becomes the
    pseudo-diameter of the expanded jet [4].
    """

    position_m: tuple[float, float, float]
    direction: tuple[float, float, float]  # unit vector of the jet (normalised on creation)
    exit_speed_m_s: float  # speed of the gas leaving the orifice [m s-1]; 0 = passive release
    rate_kg_s: float  # mass leak rate [kg s-1]
    molar_mass_kg_mol: float  # of the leaking gas [kg mol-1]
    air_temperature_k: float = 293.15  # gas reaches ambient temperature quickly [K]
    orifice_diameter_m: float | None = None  # derived when None [m]
    sound_speed_m_s: float = 450.0  # cap for choked flow [m s-1]

    def __post_init__(self) -> None:
        d = np.asarray(self.direction, dtype=float)
        norm = float(np.linalg.norm(d))
        if not np.isfinite(norm) or norm == 0:
            raise InputError(
                f"must be a non-zero vector, got {self.direction!r}", field="leak.direction"
            )
        object.__setattr__(self, "direction", tuple(float(v) for v in d / norm))
        if not (np.isfinite(self.rate_kg_s) and self.rate_kg_s >= 0):
            raise InputError(f"must be >= 0, got {self.rate_kg_s!r}", field="leak.rate")
        if not (np.isfinite(self.exit_speed_m_s) and self.exit_speed_m_s >= 0):
            raise InputError(
                f"must be >= 0, got {self.exit_speed_m_s!r}", field="leak.exit_speed_m_s"
            )
        speed = min(self.exit_speed_m_s, self.sound_speed_m_s)
        object.__setattr__(self, "exit_speed_m_s", float(speed))
        if self.orifice_diameter_m is None:
            if speed > 0 and self.rate_kg_s > 0:
                area = self.rate_kg_s / (self.gas_density_kg_m3 * speed)
                diameter = math.sqrt(4.0 * area / math.pi)
            else:
                diameter = 0.01
            object.__setattr__(self, "orifice_diameter_m", float(diameter))

    @property
    def gas_density_kg_m3(self) -> float:
        """Density of the pure gas at ambient temperature and 1 atm [kg m-3]."""
        return gas_density_kg_m3(self.molar_mass_kg_mol, self.air_temperature_k)

    @property
    def air_density_kg_m3(self) -> float:
        """Ambient air density [kg m-3]."""
        return gas_density_kg_m3(AIR_MOLAR_MASS_KG_MOL, self.air_temperature_k)

    @property
    def volume_rate_m3_s(self) -> float:
        """Volumetric rate of pure gas at ambient conditions [m3 s-1]."""
        return self.rate_kg_s / self.gas_density_kg_m3

    @property
    def diameter_m(self) -> float:
        """Orifice (or pseudo-) diameter [m]."""
        assert self.orifice_diameter_m is not None
        return self.orifice_diameter_m


@dataclass(frozen=True)
class WindConfig:
    """Mean wind with gusts and turbulence."""

    speed_m_s: float = 1.5  # mean wind speed at source height [m s-1]
    from_deg: float = 270.0  # meteorological direction the wind blows FROM, clockwise from north
    gust_intensity: float = 0.0  # rms relative fluctuation of the mean speed (0.2 = 20 %)
    gust_time_s: float = 3.0  # correlation time of gusts [s]
    direction_jitter_deg: float = 0.0  # rms swing of the mean direction [deg]
    turbulence_intensity: float = 0.2  # sigma_v / U (near-ground 0.1-0.3)
    length_scale_m: float = 4.0  # integral length scale of turbulence [m]
    lagrangian_time_s: float = 2.0  # Lagrangian time scale of the largest eddies [s]

    def __post_init__(self) -> None:
        checks = {
            "wind.speed_m_s": self.speed_m_s >= 0,
            "wind.gust_intensity": 0 <= self.gust_intensity <= 1,
            "wind.gust_time_s": self.gust_time_s > 0,
            "wind.direction_jitter_deg": 0 <= self.direction_jitter_deg <= 90,
            "wind.turbulence_intensity": 0 <= self.turbulence_intensity <= 1,
            "wind.length_scale_m": self.length_scale_m > 0,
            "wind.lagrangian_time_s": self.lagrangian_time_s > 0,
        }
        for name, ok in checks.items():
            value = getattr(self, name.split(".")[1])
            if not (np.isfinite(value) and ok):
                raise InputError(f"out of range: {value!r}", field=name)

    def turbulence(self) -> TurbulenceConfig:
        """Turbulence statistics implied by this wind (neutral surface layer)."""
        return TurbulenceConfig.from_intensity(
            self.speed_m_s,
            self.turbulence_intensity,
            length_scale_m=self.length_scale_m,
            lagrangian_time_s=self.lagrangian_time_s,
        )


@dataclass(frozen=True)
class PlumeConfig:
    """Numerical knobs of the puff model (physics lives in LeakSource and WindConfig)."""

    emission_rate_per_s: float = 400.0  # puffs released per second before thinning
    max_age_s: float = 15.0  # puffs older than this are dropped (far out of view) [s]
    spacing_ratio: float = 1.0  # thin only while puff spacing <= sigma / spacing_ratio
    max_thinning_level: int = 7  # at most every 2^7-th puff survives
    spinup_s: float | None = None  # simulated time before the first frame; None = automatic
    ground_height_m: float | None = 0.0  # reflecting ground; None = no ground
    steps_per_frame: int | None = None  # None = enough for dt <= 1/60 s


@dataclass
class PlumeFrames:
    """Puff snapshots per frame, concatenated (CSR): frame i is rows offsets[i]:offsets[i+1]."""

    positions_m: NDArray[np.float64]  # (P, 3) world ENU
    sigma_m: NDArray[np.float64]  # (P,) isotropic Gaussian standard deviation
    mass_kg: NDArray[np.float64]  # (P,)
    velocity_m_s: NDArray[np.float64]  # (P, 3) world
    offsets: NDArray[np.int64]  # (T + 1,)
    times_s: NDArray[np.float64]  # (T,) time of each frame since the first frame
    source: LeakSource
    wind_velocity_m_s: NDArray[np.float64]  # (T, 3) mean wind incl. gusts per frame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.offsets.shape[0] - 1)

    def frame(self, index: int) -> tuple[NDArray[np.float64], ...]:
        """(positions, sigma, mass, velocity) of one frame."""
        a, b = int(self.offsets[index]), int(self.offsets[index + 1])
        return (self.positions_m[a:b], self.sigma_m[a:b], self.mass_kg[a:b], self.velocity_m_s[a:b])


def wind_unit_vectors(from_deg: float) -> NDArray[np.float64]:
    """Rows: along-wind, cross-wind (to the left), up — the wind frame in world ENU."""
    to_rad = math.radians(from_deg + 180.0)
    along = np.array([math.sin(to_rad), math.cos(to_rad), 0.0])
    up = np.array([0.0, 0.0, 1.0])
    cross = np.cross(up, along)
    return np.stack([along, cross, up])


def jet_distance_m(age_s: NDArray[np.float64], source: LeakSource) -> NDArray[np.float64]:
    """Distance travelled along the jet axis after ``age_s`` [m] (integral of the jet law).

    Potential core ``s = u0 t`` up to ``x_c = B d``; beyond, ``ds/dt = u0 x_c / s`` gives
    ``s^2 = x_c^2 + 2 u0 x_c (t - x_c/u0)``.
    """
    age = np.asarray(age_s, dtype=np.float64)
    u0 = source.exit_speed_m_s
    if u0 <= 0:
        return np.zeros_like(age)
    x_c = JET_DECAY_CONSTANT * source.diameter_m
    t_c = x_c / u0
    far = np.sqrt(x_c**2 + 2.0 * u0 * x_c * np.maximum(age - t_c, 0.0))
    return np.where(age < t_c, u0 * age, far)


def jet_excess_speed_m_s(
    distance_m: NDArray[np.float64], source: LeakSource
) -> NDArray[np.float64]:
    """Centreline jet speed above the ambient at distance ``s`` along the jet [m s-1]."""
    s = np.asarray(distance_m, dtype=np.float64)
    x_c = JET_DECAY_CONSTANT * source.diameter_m
    return source.exit_speed_m_s * np.minimum(1.0, x_c / np.maximum(s, 1e-12))


def puff_sigma_m(
    age_s: NDArray[np.float64],
    source: LeakSource,
    turbulence: TurbulenceConfig,
    jet_distance: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Puff standard deviation after ``age_s`` [m]: jet spreading and sub-resolved dispersion.

    ``sigma^2 = (d/4)^2 + (0.0798 s)^2 + sigma_r^2`` where the relative-dispersion part follows
    Richardson, ``sigma_r^(2/3) = (2/3) a eps^(1/3) t``, until it reaches half the smallest
    resolved eddy ``l_c``, then grows as ``sigma_r^2 = l_c^2 + 2 K (t - t_c)`` with
    ``K = a eps^(1/3) l_c^(4/3)`` (continuous slope).
    """
    age = np.asarray(age_s, dtype=np.float64)
    eps13 = turbulence.dissipation_m2_s3 ** (1.0 / 3.0)
    a = RICHARDSON_COEFFICIENT
    l_c = 0.5 * turbulence.smallest_eddy_m
    rate = (2.0 / 3.0) * a * eps13  # d(sigma^(2/3))/dt
    t_c = l_c ** (2.0 / 3.0) / rate
    k_fick = a * eps13 * l_c ** (4.0 / 3.0)
    sigma_r2 = np.where(
        age < t_c,
        (rate * age) ** 3,
        l_c**2 + 2.0 * k_fick * np.maximum(age - t_c, 0.0),
    )
    s = jet_distance_m(age, source) if jet_distance is None else jet_distance
    return np.sqrt((source.diameter_m / 4.0) ** 2 + (JET_SIGMA_PER_M * s) ** 2 + sigma_r2)


def _nominal_speed_m_s(age: NDArray[np.float64], source: LeakSource, wind: WindConfig):
    direction = np.asarray(source.direction)
    wind_vec = wind.speed_m_s * wind_unit_vectors(wind.from_deg)[0]
    jet = jet_excess_speed_m_s(jet_distance_m(age, source), source)[:, None] * direction
    return np.linalg.norm(jet + wind_vec, axis=1)


def _thinning_schedule(
    source: LeakSource, wind: WindConfig, turbulence: TurbulenceConfig, config: PlumeConfig
) -> tuple[float, NDArray[np.float64]]:
    """Age below which the virtual jet chain is drawn, and the thinning ages A_1..A_J [s].

    Level j (every 2^j-th puff) is allowed once the spacing of survivors, speed * 2^j / rate,
    is below sigma / spacing_ratio for a puff on the nominal (turbulence-free) path.
    """
    ages = np.geomspace(1e-4, config.max_age_s, 600)
    sigma = puff_sigma_m(ages, source, turbulence)
    speed = np.maximum(_nominal_speed_m_s(ages, source, wind), 0.05)
    ratio = sigma / (config.spacing_ratio * speed / config.emission_rate_per_s)

    def first_age(threshold: float) -> float:
        # smallest age beyond which the ratio stays above threshold
        bad = np.nonzero(ratio < threshold)[0]
        if bad.size == 0:
            return float(ages[0])
        if bad[-1] + 1 >= ages.size:
            return float(config.max_age_s)
        return float(ages[bad[-1] + 1])

    chain_age = min(first_age(1.0), 1.0)
    thresholds = [
        max(first_age(2.0**j), chain_age) for j in range(1, config.max_thinning_level + 1)
    ]
    return chain_age, np.maximum.accumulate(np.asarray(thresholds))


def _jet_chain_ages(
    source: LeakSource,
    wind_velocity_m_s: NDArray[np.float64],
    max_age_s: float,
    turbulence: TurbulenceConfig,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ages (mid-points) and age steps of the virtual chain puffs: path step <= 0.4 sigma."""
    ages = [0.0]
    direction = np.asarray(source.direction)
    while ages[-1] < max_age_s and len(ages) < 4000:
        a = np.asarray([ages[-1]])
        sig = float(puff_sigma_m(a, source, turbulence)[0])
        jet = float(jet_excess_speed_m_s(jet_distance_m(a, source), source)[0])
        speed = float(np.linalg.norm(jet * direction + wind_velocity_m_s)) + 1e-3
        ages.append(ages[-1] + 0.4 * sig / speed)
    edges = np.minimum(np.asarray(ages), max_age_s)
    mid = 0.5 * (edges[:-1] + edges[1:])
    dt = np.diff(edges)
    keep = dt > 0
    return mid[keep], dt[keep]


def jet_chain(
    source: LeakSource,
    wind_velocity_m_s: NDArray[np.float64],
    max_age_s: float,
    turbulence: TurbulenceConfig,
    ages: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> tuple[NDArray[np.float64], ...]:
    """Dense virtual puffs along the analytic jet path for ages below ``max_age_s``.

    Spacing along the path is a fixed fraction of the local puff size, so the thin, fast
    near-orifice jet renders as a continuous cone instead of beads. ``ages`` (from
    ``_jet_chain_ages``) may be passed to reuse the grid between frames. Returns
    (positions, sigma, mass, velocity) like a frame of ``PlumeFrames``.
    """
    if source.rate_kg_s <= 0 or max_age_s <= 0:
        empty = np.zeros((0, 3))
        return empty, np.zeros(0), np.zeros(0), empty
    mid, dt = ages or _jet_chain_ages(source, wind_velocity_m_s, max_age_s, turbulence)
    direction = np.asarray(source.direction)
    s = jet_distance_m(mid, source)
    jet_speed = jet_excess_speed_m_s(s, source)
    positions = (
        np.asarray(source.position_m) + s[:, None] * direction + mid[:, None] * wind_velocity_m_s
    )
    velocity = jet_speed[:, None] * direction + wind_velocity_m_s
    sigma = puff_sigma_m(mid, source, turbulence, jet_distance=s)
    mass = source.rate_kg_s * dt
    return positions, sigma, mass, velocity


def _ou_step(
    value: NDArray[np.float64] | float,
    sigma: float,
    tau_s: float,
    dt_s: float,
    rng: np.random.Generator,
) -> float:
    decay = math.exp(-dt_s / tau_s)
    return float(value * decay + sigma * math.sqrt(1.0 - decay**2) * rng.standard_normal())


def simulate_plume(
    source: LeakSource,
    wind: WindConfig,
    n_frames: int,
    fps: float,
    rng: np.random.Generator,
    config: PlumeConfig | None = None,
    obstacles: tuple[Any, ...] = (),
    view_filter: Any = None,
) -> PlumeFrames:
    """Simulate the plume and return puff snapshots at each frame time.

    Parameters
    ----------
    source, wind
        The leak and the weather.
    n_frames, fps
        Number of frames and frame rate [s-1] of the clip.
    rng
        Random generator (turbulence, gusts); the same seed gives the same plume.
    config
        Numerical settings.
    obstacles
        Solid primitives (``plantwatch.geometry``) with ``contains`` and
        ``closest_surface_point``: puff centres entering them are put back on their surface.
    view_filter
        Optional callable ``positions (P,3), sigma (P,) -> bool (P,)`` selecting puffs worth
        keeping in the snapshots (e.g. those inside the camera frustum).
    """
    config = config or PlumeConfig()
    if n_frames < 1 or not (fps > 0):
        raise InputError(f"need n_frames >= 1 and fps > 0, got {n_frames}, {fps}", field="clip")
    turbulence_cfg = wind.turbulence()
    field_rng, gust_rng = rng.spawn(2)
    turbulence = SyntheticTurbulence(turbulence_cfg, field_rng)
    wind_frame = wind_unit_vectors(wind.from_deg)  # rows along, cross, up
    frame_dt = 1.0 / fps
    steps = config.steps_per_frame or max(1, math.ceil(frame_dt / (1.0 / 60.0)))
    dt = frame_dt / steps
    chain_age, thinning_ages = _thinning_schedule(source, wind, turbulence_cfg, config)
    if config.spinup_s is not None:
        spinup = config.spinup_s
    else:
        # long enough for gas to cross ~8 m or the thinning to reach steady state
        spinup = min(config.max_age_s, max(3.0, 8.0 / max(wind.speed_m_s, 0.5)))
    # spin-up needs no frame-rate resolution: coarser steps (exact OU, Euler advection)
    n_spin = math.ceil(spinup / max(dt, SPINUP_STEP_S))
    dt_spin = spinup / n_spin if n_spin else dt
    total_steps = n_spin + (n_frames - 1) * steps + 1
    step_dt = np.full(total_steps, dt)
    step_dt[:n_spin] = dt_spin
    chain_ages = (
        _jet_chain_ages(
            source, wind.speed_m_s * wind_unit_vectors(wind.from_deg)[0], chain_age, turbulence_cfg
        )
        if source.rate_kg_s > 0
        else None
    )
    obstacle_bounds = [obstacle.bounds() for obstacle in obstacles]

    origin = np.asarray(source.position_m, dtype=np.float64)
    direction = np.asarray(source.direction, dtype=np.float64)
    g_sign = (source.air_density_kg_m3 - source.gas_density_kg_m3) / source.air_density_kg_m3
    m0 = source.rate_kg_s / config.emission_rate_per_s if source.rate_kg_s > 0 else 0.0
    vol_rate = source.volume_rate_m3_s

    ids = np.zeros(0, dtype=np.int64)
    age = np.zeros(0)
    free = np.zeros((0, 3))  # displacement by wind + turbulence + buoyancy
    w_buoy = np.zeros(0)
    next_id = 0
    carry = 0.0
    pattern_offset = np.zeros(3)  # mean-wind displacement of the turbulence pattern (world)
    gust_speed, gust_dir = 0.0, 0.0

    pos_out: list[Any] = []
    sig_out: list[Any] = []
    mass_out: list[Any] = []
    vel_out: list[Any] = []
    counts: list[int] = []
    wind_out: list[NDArray[np.float64]] = []
    frame_steps = {n_spin + i * steps for i in range(n_frames)}
    ground = config.ground_height_m

    for step in range(total_steps):
        dt = float(step_dt[step])
        # gusts: OU on relative speed and on direction
        if wind.gust_intensity > 0:
            gust_speed = _ou_step(gust_speed, wind.gust_intensity, wind.gust_time_s, dt, gust_rng)
        if wind.direction_jitter_deg > 0:
            gust_dir = _ou_step(gust_dir, wind.direction_jitter_deg, wind.gust_time_s, dt, gust_rng)
        speed_now = max(0.0, wind.speed_m_s * (1.0 + gust_speed))
        wind_vec = speed_now * wind_unit_vectors(wind.from_deg + gust_dir)[0]

        # emit new puffs with sub-step ages so emission is uniform in time
        if m0 > 0:
            carry += config.emission_rate_per_s * dt
            n_new = int(carry)
            carry -= n_new
            if n_new:
                new_age = (np.arange(n_new)[::-1] + 0.5) / n_new * dt
                ids = np.concatenate([ids, np.arange(next_id, next_id + n_new)])
                next_id += n_new
                age = np.concatenate([age, new_age])
                free = np.concatenate([free, new_age[:, None] * wind_vec[None, :]])
                w_buoy = np.concatenate([w_buoy, np.zeros(n_new)])

        # thinning and expiry
        if ids.size:
            level = np.searchsorted(thinning_ages, age, side="right")
            keep = (age < config.max_age_s) & (ids % (2**level) == 0)
            ids, age, free, w_buoy = ids[keep], age[keep], free[keep], w_buoy[keep]
            level = level[keep]
        else:
            level = np.zeros(0, dtype=np.int64)

        s_jet = jet_distance_m(age, source)
        positions = origin + s_jet[:, None] * direction + free
        sigma = puff_sigma_m(age, source, turbulence_cfg, jet_distance=s_jet)
        jet_speed = jet_excess_speed_m_s(s_jet, source)
        rel = (positions - pattern_offset) @ wind_frame.T  # pattern coordinates, wind frame
        turb = turbulence.velocity_m_s(rel) @ wind_frame  # world
        adv = jet_speed[:, None] * direction + wind_vec
        # buoyancy: centre volume fraction of a continuous plume, Q_v / (|v| 2 pi sigma^2)
        if ids.size and g_sign != 0.0:
            along = np.maximum(np.linalg.norm(adv, axis=1), 0.1)
            fraction = np.minimum(1.0, vol_rate / (along * 2.0 * np.pi * sigma**2))
            g_red = G0_M_S2 * fraction * g_sign
            w_buoy = (w_buoy + dt * g_red) / (
                1.0 + dt * BUOYANCY_DRAG_COEFFICIENT * np.abs(w_buoy) / sigma
            )
        velocity = adv + turb
        velocity[:, 2] += w_buoy

        if step in frame_steps:
            mass = m0 * (2.0**level)
            chain = (
                jet_chain(source, wind_vec, chain_age, turbulence_cfg, chain_ages)
                if m0 > 0
                else None
            )
            young = age < chain_age
            p, sg, ms, vl = positions[~young], sigma[~young], mass[~young], velocity[~young]
            if chain is not None:
                p = np.concatenate([chain[0], p])
                sg = np.concatenate([chain[1], sg])
                ms = np.concatenate([chain[2], ms])
                vl = np.concatenate([chain[3], vl])
            if view_filter is not None and p.shape[0]:
                sel = view_filter(p, sg)
                p, sg, ms, vl = p[sel], sg[sel], ms[sel], vl[sel]
            pos_out.append(p)
            sig_out.append(sg)
            mass_out.append(ms)
            vel_out.append(vl)
            counts.append(p.shape[0])
            wind_out.append(wind_vec)

        # advance: free displacement by wind, turbulence and buoyancy (jet part is analytic)
        free = free + dt * (wind_vec + turb + np.array([0.0, 0.0, 1.0]) * w_buoy[:, None])
        age = age + dt
        pattern_offset = pattern_offset + dt * wind_vec
        turbulence.step(dt)
        if ids.size:
            new_pos = origin + jet_distance_m(age, source)[:, None] * direction + free
            if ground is not None:
                below = new_pos[:, 2] < ground
                if np.any(below):
                    free[below, 2] += 2.0 * (ground - new_pos[below, 2])
                    w_buoy[below] = np.maximum(w_buoy[below], 0.0)
                    new_pos[below, 2] = 2.0 * ground - new_pos[below, 2]
            low, high = new_pos.min(axis=0), new_pos.max(axis=0)
            for obstacle, (o_low, o_high) in zip(obstacles, obstacle_bounds, strict=True):
                if np.any(o_low > high) or np.any(o_high < low):
                    continue  # the obstacle is nowhere near the puffs
                inside = obstacle.contains(new_pos)
                if np.any(inside):
                    target = obstacle.closest_surface_point(new_pos[inside])
                    free[inside] += target - new_pos[inside]

    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(counts)
    return PlumeFrames(
        positions_m=np.concatenate(pos_out) if pos_out else np.zeros((0, 3)),
        sigma_m=np.concatenate(sig_out) if sig_out else np.zeros(0),
        mass_kg=np.concatenate(mass_out) if mass_out else np.zeros(0),
        velocity_m_s=np.concatenate(vel_out) if vel_out else np.zeros((0, 3)),
        offsets=offsets,
        times_s=np.arange(n_frames) / fps,
        source=source,
        wind_velocity_m_s=np.asarray(wind_out),
        meta={
            "jet_chain_age_s": chain_age,
            "thinning_ages_s": thinning_ages.tolist(),
            "spinup_s": n_spin * dt_spin,
            "dt_s": frame_dt / steps,
            "orifice_diameter_m": source.diameter_m,
            "turbulence": turbulence,
        },
    )
