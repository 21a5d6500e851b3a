"""Column-density rendering: mass conservation, occlusion, pyramid accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from plantwatch.gas.render import column_density_frames, ground_image_puffs, ppm_m3_from_kg

W, H = 320, 240
FX = FY = 752.74
CX, CY = (W - 1) / 2, (H - 1) / 2


def render(positions, sigma, amount, depth=None):
    depth = np.full((H, W), np.inf) if depth is None else depth
    return column_density_frames(
        np.eye(3),
        np.zeros(3),
        FX,
        FY,
        CX,
        CY,
        depth,
        np.asarray(positions, float),
        np.asarray(sigma, float),
        np.asarray(amount, float),
        np.array([0, len(sigma)]),
    )[0]


@pytest.mark.parametrize("sigma_m", [0.001, 0.01, 0.05, 0.2, 0.4])
def test_mass_is_conserved_from_subpixel_to_pyramid_puffs(sigma_m):
    """Sum of pixel columns x pixel area at the puff depth == puff volume (ppm m3)."""
    image = render([[0.1, -0.05, 10.0]], [sigma_m], [1000.0])
    pixel_area_m2 = (10.0 / FX) * (10.0 / FY)
    assert image.sum() * pixel_area_m2 == pytest.approx(1000.0, rel=5e-3)


def test_peak_column_matches_line_integral_of_a_gaussian():
    sigma_m = 0.3  # wide: pyramid level, far larger than a pixel
    image = render([[0.0, 0.0, 10.0]], [sigma_m], [1000.0])
    assert image.max() == pytest.approx(1000.0 / (2 * np.pi * sigma_m**2), rel=0.02)


@pytest.mark.parametrize("sigma_m", [0.02, 0.5])
def test_occluder_in_front_hides_gas_exactly_at_its_edge(sigma_m):
    """Left half of the image is a wall 1 m in front of the puff: the hidden fraction is
    Phi((z_wall - z_puff)/sigma) on the wall side and 1 on the open side, with a sharp edge."""
    depth = np.full((H, W), np.inf)
    depth[:, :160] = 9.0
    open_image = render([[0.0, 0.0, 10.0]], [sigma_m], [1000.0])
    image = render([[0.0, 0.0, 10.0]], [sigma_m], [1000.0], depth)
    from scipy.stats import norm

    visible = norm.cdf((9.0 - 10.0) / sigma_m)
    rows = slice(110, 130)
    np.testing.assert_allclose(image[rows, 160:170], open_image[rows, 160:170], rtol=1e-5)
    np.testing.assert_allclose(
        image[rows, 150:160],
        open_image[rows, 150:160] * visible,
        rtol=1e-3,
        atol=1e-6 * open_image.max(),
    )


def test_gas_in_front_of_a_surface_is_fully_seen():
    depth = np.full((H, W), 11.0)
    np.testing.assert_allclose(
        render([[0, 0, 10.0]], [0.05], [1.0], depth),
        render([[0, 0, 10.0]], [0.05], [1.0]),
        rtol=1e-4,
    )


def test_ground_images_mirror_only_puffs_near_the_ground():
    pos = np.array([[0, 0, 0.1], [0, 0, 5.0]])
    p, _s, _a = ground_image_puffs(pos, np.array([0.2, 0.2]), np.array([1.0, 1.0]), 0.0)
    assert p.shape == (3, 3)
    np.testing.assert_allclose(p[2], [0, 0, -0.1])


def test_ppm_m3_from_kg():
    assert ppm_m3_from_kg(np.array([0.668e-6]), 0.668)[0] == pytest.approx(1.0)
