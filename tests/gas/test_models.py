"""Leak-source models: output shapes, sub-pixel peak, coordinate mapping, config checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from plantwatch.errors import InputError
from plantwatch.gas.models import (
    ModelConfig,
    build_model,
    peak_from_logits,
    soft_argmax,
    to_model_px,
    to_original_px,
)

SMALL = dict(frames=8, height_px=24, width_px=32)


@pytest.mark.parametrize("kind", ["heatmap", "numeric"])
def test_output_shapes(kind):
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, **SMALL)).eval()
    with torch.no_grad():
        out = model(torch.randn(3, 1, 8, 24, 32))
    assert out["xy"].shape == (3, 2)
    assert out["z"].shape == (3,) and out["leak_logit"].shape == (3,)
    assert ("heatmap" in out) == (kind == "heatmap")
    if kind == "heatmap":
        assert out["heatmap"].shape == (3, 24, 32)
    assert all(torch.isfinite(v).all() for v in out.values())


def test_without_fluctuation_channel():
    model = build_model(ModelConfig(fluctuation_channel=False, **SMALL))
    assert model.encoder.stem.net[0].in_channels == 1
    assert model(torch.randn(1, 1, 8, 24, 32))["heatmap"].shape == (1, 24, 32)


@pytest.mark.parametrize("centre", [(10.0, 7.0), (12.3, 5.71), (20.49, 14.5), (3.02, 17.88)])
def test_subpixel_peak_exact_on_gaussian(centre):
    h, w, sigma = 24, 32, 1.3
    vv, uu = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    logits = -((uu - centre[0]) ** 2 + (vv - centre[1]) ** 2) / (2 * sigma**2)
    peak = peak_from_logits(logits[None])[0]
    np.testing.assert_allclose(peak.numpy(), centre, atol=1e-9)
    # soft-argmax of a narrow Gaussian away from the border is its centre too
    np.testing.assert_allclose(soft_argmax(logits[None] * 2.0)[0].numpy(), centre, atol=1e-3)


def test_peak_at_border_keeps_integer():
    logits = torch.full((1, 6, 8), -10.0)
    logits[0, 0, 7] = 5.0
    assert peak_from_logits(logits)[0].tolist() == [7.0, 0.0]


def test_coordinates_map_back_to_original_resolution():
    """A blob at a sub-pixel position, downsampled 4x by INTER_AREA, maps back exactly."""
    h, w = 240, 320
    vv, uu = np.mgrid[0:h, 0:w]
    for u, v in [(100.3, 60.8), (27.25, 200.6), (281.9, 31.1)]:
        img = np.exp(-((uu - u) ** 2 + (vv - v) ** 2) / (2 * 6.0**2)).astype(np.float32)
        small = cv2.resize(img, (80, 60), interpolation=cv2.INTER_AREA).astype(np.float64)
        ys, xs = np.mgrid[0:60, 0:80]
        centroid = torch.tensor([(small * xs).sum(), (small * ys).sum()]) / small.sum()
        back = to_original_px(centroid, (h, w), (60, 80)).numpy()
        np.testing.assert_allclose(back, (u, v), atol=0.05)
        there = to_model_px(torch.tensor([u, v]), (h, w), (60, 80))
        np.testing.assert_allclose(there.numpy(), centroid.numpy(), atol=0.02)
    xy = torch.tensor([[0.0, 0.0], [319.0, 239.0], [-0.5, -0.5]])
    np.testing.assert_allclose(
        to_original_px(to_model_px(xy, (h, w), (60, 80)), (h, w), (60, 80)).numpy(), xy.numpy()
    )
    # pixel edges map onto pixel edges
    np.testing.assert_allclose(
        to_model_px(torch.tensor([-0.5, 319.5]), (240, 320), (60, 80)).numpy()[0], -0.5
    )


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(kind="gaussian"), "kind"),
        (dict(widths=(8, 16, 32)), "widths"),
        (dict(widths=(6, 16, 32, 64)), "widths"),
        (dict(frames=4), "frames"),
    ],
)
def test_config_invalid(kwargs, field):
    with pytest.raises(InputError) as err:
        ModelConfig(**kwargs)
    assert err.value.field == field


def test_checkpoint_config_round_trip():
    cfg = ModelConfig(kind="numeric", widths=[4, 8, 16, 32], **SMALL)
    assert cfg.widths == (4, 8, 16, 32)
    assert ModelConfig(**cfg.to_dict()) == cfg
