"""Synthetic turbulence: configured rms velocities and Taylor's dispersion limits."""

from __future__ import annotations

import numpy as np
import pytest

from plantwatch.errors import InputError
from plantwatch.gas.turbulence import (
    SyntheticTurbulence,
    TurbulenceConfig,
    taylor_dispersion_variance_m2,
)


def test_velocity_variance_matches_configuration():
    cfg = TurbulenceConfig(sigma_u_m_s=0.5, sigma_v_m_s=0.4, sigma_w_m_s=0.25)
    samples = []
    for seed in range(40):
        field = SyntheticTurbulence(cfg, np.random.default_rng(seed))
        points = np.random.default_rng(100 + seed).uniform(-20, 20, (200, 3))
        samples.append(field.velocity_m_s(points))
    v = np.concatenate(samples)
    np.testing.assert_allclose(v.std(axis=0), [0.5, 0.4, 0.25], rtol=0.08)
    np.testing.assert_allclose(v.mean(axis=0), 0.0, atol=0.05)


def test_taylor_limits():
    var = np.array([0.04])
    tl = np.array([2.0])
    short = taylor_dispersion_variance_m2(0.01, var, tl)
    long = taylor_dispersion_variance_m2(1000.0, var, tl)
    assert short == pytest.approx(0.04 * 0.01**2, rel=1e-2)  # sigma = sigma_v t
    assert long == pytest.approx(2 * 0.04 * 2.0 * 1000.0, rel=1e-2)  # 2 sigma_v^2 T_L t


def test_field_is_spatially_coherent():
    """Nearby points move together (eddies), distant ones do not."""
    cfg = TurbulenceConfig(sigma_u_m_s=0.3, sigma_v_m_s=0.3, sigma_w_m_s=0.3, length_scale_m=3.0)
    near, far = [], []
    for seed in range(60):
        field = SyntheticTurbulence(cfg, np.random.default_rng(seed))
        v = field.velocity_m_s(np.array([[0, 0, 0], [0.05, 0, 0], [40.0, 0, 0]]))
        near.append((v[0, 1], v[1, 1]))
        far.append((v[0, 1], v[2, 1]))
    assert np.corrcoef(np.array(near).T)[0, 1] > 0.9
    assert abs(np.corrcoef(np.array(far).T)[0, 1]) < 0.4


def test_turbulence_config_invalid():
    with pytest.raises(InputError, match="sigma_u_m_s"):
        TurbulenceConfig(sigma_u_m_s=-1, sigma_v_m_s=0.1, sigma_w_m_s=0.1)
    with pytest.raises(InputError, match="n_modes"):
        TurbulenceConfig(sigma_u_m_s=0.1, sigma_v_m_s=0.1, sigma_w_m_s=0.1, n_modes=2)
