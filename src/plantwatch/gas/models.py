"""Leak-source models: a 3D-CNN over a gas-camera clip, with a numeric or a heatmap head.

Seed 000 (Asano, Morimoto and Kiuchi, Konica Minolta Technology Report 18, 2021, §2.4 and
Table 1) compares two 3D-CNNs that read an infrared clip and output the leak-source pixel (X, Y),
even when the source is hidden behind piping, and the depth-direction flow speed Z [px/s]:

* **numeric**: the encoder's pooled features regress (X, Y, Z) directly;
* **heatmap**: a decoder with skip connections paints a source heatmap whose peak is (X, Y);
  the seed found this about 2x better for X, Y and 6x better for Z.

Both models here share one encoder design and also output a leak/no-leak logit (for the
false-alarm rate). The model runs on a clip resampled to ``frames`` frames at ``fps`` and
downsampled to ``height_px x width_px``; :func:`to_original_px` maps its coordinates back to the
input pixels exactly (pixel-centre convention of docs/labels.md: integer = pixel centre).

Shapes are annotated as ``(B, C, T, H, W)``: batch, channels, frames, rows, columns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from plantwatch.errors import InputError

__all__ = [
    "MODEL_KINDS",
    "LeakModel",
    "ModelConfig",
    "build_model",
    "peak_from_logits",
    "soft_argmax",
    "to_model_px",
    "to_original_px",
]

MODEL_KINDS = ("heatmap", "numeric")


@dataclass
class ModelConfig:
    """Hyper-parameters of a leak-source model (stored in every checkpoint)."""

    kind: str = "heatmap"  # "heatmap" or "numeric" head
    frames: int = 8  # T: frames per clip window, after resampling to `fps`
    fps: float = 30.0  # frame rate the window is resampled to [s-1]; Z [px/s] needs a time base
    height_px: int = 60  # rows of the model input (the clip is downsampled to this)
    width_px: int = 80  # columns of the model input
    widths: tuple[int, ...] = (8, 16, 32, 64)  # channels of the stem and the 3 down stages
    fluctuation_channel: bool = True  # add x - mean_t(x), the fluctuation component (seed Fig. 3)
    z_scale_px_s: float = 100.0  # Z is predicted as Z / z_scale (keeps the target near unit size)
    heatmap_sigma_px: float = 1.0  # std of the target Gaussian, in model pixels
    groups: int = 4  # GroupNorm groups (batch-size independent: small CPU batches, DDP)
    # heatmap head also paints where gas is visible (trained on the simulator's column density):
    # a dense target that teaches the encoder to see gas far faster than one point per clip, and
    # whose top pixels feed the leak score
    gas_map: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes, ignored by the model

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        if self.kind not in MODEL_KINDS:
            raise InputError(
                f"unknown model {self.kind!r}; use one of {', '.join(MODEL_KINDS)}", field="kind"
            )
        if len(self.widths) != 4 or any(w % self.groups for w in self.widths):
            raise InputError(
                f"need 4 widths divisible by groups={self.groups}, got {self.widths}",
                field="widths",
            )
        if self.frames < 8 or self.height_px < 16 or self.width_px < 16:
            raise InputError(
                f"input {self.frames}x{self.height_px}x{self.width_px} is too small "
                "(need >= 8 frames and >= 16x16 px)",
                field="frames",
            )

    @property
    def in_channels(self) -> int:
        return 2 if self.fluctuation_channel else 1

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d


# ------------------------------------------------------------------ coordinates


def to_model_px(xy: Tensor, original_hw: tuple[int, int], model_hw: tuple[int, int]) -> Tensor:
    """Input-pixel (u, v) -> model-pixel coordinates, pixel centres at integers.

    A resize by factor ``s = model / original`` maps pixel edges onto pixel edges, so
    ``u_m = (u + 0.5) s - 0.5`` (exact for cv2.INTER_AREA and F.interpolate(align_corners=False)).
    """
    (h0, w0), (h1, w1) = original_hw, model_hw
    scale = xy.new_tensor([w1 / w0, h1 / h0])
    return (xy + 0.5) * scale - 0.5


def to_original_px(xy: Tensor, original_hw: tuple[int, int], model_hw: tuple[int, int]) -> Tensor:
    """Inverse of :func:`to_model_px`: model-pixel (u, v) -> input-pixel (u, v)."""
    (h0, w0), (h1, w1) = original_hw, model_hw
    scale = xy.new_tensor([w0 / w1, h0 / h1])
    return (xy + 0.5) * scale - 0.5


def soft_argmax(logits: Tensor) -> Tensor:
    """(B, H, W) heatmap logits -> (B, 2) expected (u, v) under softmax(logits) [model px].

    Differentiable, so the training loss can act on the coordinates themselves.
    """
    b, h, w = logits.shape
    prob = logits.reshape(b, -1).softmax(dim=1).reshape(b, h, w)
    us = torch.arange(w, dtype=logits.dtype, device=logits.device)
    vs = torch.arange(h, dtype=logits.dtype, device=logits.device)
    return torch.stack([(prob.sum(1) * us).sum(1), (prob.sum(2) * vs).sum(1)], dim=1)


def peak_from_logits(logits: Tensor) -> Tensor:
    """(B, H, W) heatmap logits -> (B, 2) sub-pixel peak (u, v) [model px].

    Argmax, then a parabola through the argmax and its two neighbours along each axis. The logits
    of a Gaussian heatmap are a quadratic in (u, v), so the fit is exact for a Gaussian peak
    (the target shape the heatmap head is trained on). At the border the integer peak is kept.
    """
    b, h, w = logits.shape
    flat = logits.reshape(b, -1).argmax(dim=1)
    v0, u0 = flat // w, flat % w
    batch = torch.arange(b, device=logits.device)

    def offset(left: Tensor, centre: Tensor, right: Tensor) -> Tensor:
        curvature = left - 2.0 * centre + right
        safe = torch.where(curvature < 0, curvature, torch.full_like(curvature, -1.0))
        d = 0.5 * (left - right) / safe
        return torch.where(curvature < 0, d.clamp(-0.5, 0.5), torch.zeros_like(d))

    c = logits[batch, v0, u0]
    ul, ur = (u0 - 1).clamp(0, w - 1), (u0 + 1).clamp(0, w - 1)
    vt, vb = (v0 - 1).clamp(0, h - 1), (v0 + 1).clamp(0, h - 1)
    du = offset(logits[batch, v0, ul], c, logits[batch, v0, ur])
    dv = offset(logits[batch, vt, u0], c, logits[batch, vb, u0])
    du = torch.where((u0 > 0) & (u0 < w - 1), du, torch.zeros_like(du))
    dv = torch.where((v0 > 0) & (v0 < h - 1), dv, torch.zeros_like(dv))
    return torch.stack([u0.to(logits.dtype) + du, v0.to(logits.dtype) + dv], dim=1)


# ------------------------------------------------------------------ building blocks


def _norm(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(groups, channels)


class ConvBlock3d(nn.Module):
    """Conv3d -> GroupNorm -> ReLU, twice; the first conv may stride (downsampling)."""

    def __init__(self, c_in: int, c_out: int, stride: tuple[int, int, int], groups: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv3d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            _norm(c_out, groups),
            nn.ReLU(inplace=True),
            nn.Conv3d(c_out, c_out, 3, padding=1, bias=False),
            _norm(c_out, groups),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Encoder3d(nn.Module):
    """3D-CNN over (B, C, T, H, W): a stem and three stride-2 stages (time and space).

    Returns the features of every stage, time-averaged to 2D for the decoder's skips, and the
    bottleneck (B, C3, T/8, H/8, W/8).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        w0, w1, w2, w3 = cfg.widths
        self.stem = ConvBlock3d(cfg.in_channels, w0, (1, 1, 1), cfg.groups)
        self.down1 = ConvBlock3d(w0, w1, (2, 2, 2), cfg.groups)
        self.down2 = ConvBlock3d(w1, w2, (2, 2, 2), cfg.groups)
        self.down3 = ConvBlock3d(w2, w3, (2, 2, 2), cfg.groups)
        self.fluctuation = cfg.fluctuation_channel

    def forward(self, clip: Tensor) -> tuple[list[Tensor], Tensor]:
        x = clip  # (B, 1, T, H, W), normalised intensity
        if self.fluctuation:
            # fluctuation component: the clip minus its temporal mean (seed 000, Fig. 3)
            # scaled to unit rms per clip: gas flicker is a small part of the scene contrast
            fluct = x - x.mean(dim=2, keepdim=True)
            rms = fluct.pow(2).mean(dim=(1, 2, 3, 4), keepdim=True).add(1e-8).sqrt()
            x = torch.cat([x, fluct / rms], dim=1)  # (B, 2, T, H, W)
        s0 = self.stem(x)  # (B, w0, T, H, W)
        s1 = self.down1(s0)  # (B, w1, T/2, H/2, W/2)
        s2 = self.down2(s1)  # (B, w2, T/4, H/4, W/4)
        s3 = self.down3(s2)  # (B, w3, T/8, H/8, W/8)
        skips = [s.mean(dim=2) for s in (s0, s1, s2)]  # 2D skips (B, C, H_i, W_i)
        return skips, s3


class UpBlock2d(nn.Module):
    """Upsample to the skip's size, concatenate the skip, two 3x3 convs (U-Net decoder)."""

    def __init__(self, c_in: int, c_skip: int, c_out: int, groups: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c_in + c_skip, c_out, 3, padding=1, bias=False),
            _norm(c_out, groups),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            _norm(c_out, groups),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.net(torch.cat([x, skip], dim=1))


# ------------------------------------------------------------------ the two models


class LeakModel(nn.Module):
    """Encoder + numeric or heatmap head.

    ``forward(clip)`` with clip (B, 1, T, H, W) returns a dict:

    * ``xy`` (B, 2): source (u, v) [model px] (heatmap: soft-argmax; use
      :func:`peak_from_logits` on ``heatmap`` for the sub-pixel argmax at inference);
    * ``z`` (B,): depth-direction flow Z [px/s];
    * ``leak_logit`` (B,): leak score (sigmoid -> probability);
    * ``heatmap`` (B, H, W): source logits (heatmap model only);
    * ``gas`` (B, H, W): visible-gas logits (heatmap model with ``gas_map`` only).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w0, w1, w2, w3 = cfg.widths
        self.encoder = Encoder3d(cfg)
        self.pool_head = nn.Sequential(nn.Linear(w3, 64), nn.ReLU(inplace=True))
        if cfg.kind == "numeric":
            # (u, v) as fractions of the image size, Z / z_scale, leak logit
            self.out = nn.Linear(64, 4)
            with torch.no_grad():
                self.out.bias.copy_(torch.tensor([0.5, 0.5, 0.0, 0.0]))
        else:
            self.up2 = UpBlock2d(w3, w2, w2, cfg.groups)
            self.up1 = UpBlock2d(w2, w1, w1, cfg.groups)
            self.up0 = UpBlock2d(w1, w0, w0, cfg.groups)
            self.to_heatmap = nn.Conv2d(w0, 2 if cfg.gas_map else 1, 1)
            # Z and leak read from pooled bottleneck features plus decoder features pooled under
            # the heatmap: Z is the flow *at the source*, so look where the source is; with a gas
            # map also its top-k mean and mean probability (how much gas is seen).
            self.out = nn.Linear(64 + w0 + (2 if cfg.gas_map else 0), 2)

    def forward(self, clip: Tensor) -> dict[str, Tensor]:
        cfg = self.cfg
        skips, bottleneck = self.encoder(clip)
        pooled = self.pool_head(bottleneck.mean(dim=(2, 3, 4)))  # (B, 64)
        if cfg.kind == "numeric":
            raw = self.out(pooled)  # (B, 4)
            size = raw.new_tensor([cfg.width_px, cfg.height_px])
            xy = raw[:, :2] * size - 0.5
            return {"xy": xy, "z": raw[:, 2] * cfg.z_scale_px_s, "leak_logit": raw[:, 3]}
        x = bottleneck.mean(dim=2)  # (B, w3, H/8, W/8)
        x = self.up2(x, skips[2])  # (B, w2, H/4, W/4)
        x = self.up1(x, skips[1])  # (B, w1, H/2, W/2)
        x = self.up0(x, skips[0])  # (B, w0, H, W)
        maps = self.to_heatmap(x)  # (B, 1 or 2, H, W)
        logits = maps[:, 0]  # (B, H, W)
        b = logits.shape[0]
        prob = logits.reshape(b, -1).softmax(dim=1)  # (B, H*W)
        at_source = torch.einsum("bn,bcn->bc", prob, x.reshape(b, x.shape[1], -1))  # (B, w0)
        features = [pooled, at_source]
        if cfg.gas_map:
            gas_p = maps[:, 1].reshape(b, -1).sigmoid()  # (B, H*W)
            k = max(1, gas_p.shape[1] // 100)
            features.append(torch.stack([gas_p.topk(k, dim=1).values.mean(1), gas_p.mean(1)], 1))
        raw = self.out(torch.cat(features, dim=1))  # (B, 2)
        result = {
            "xy": soft_argmax(logits),
            "z": raw[:, 0] * cfg.z_scale_px_s,
            "leak_logit": raw[:, 1],
            "heatmap": logits,
        }
        if cfg.gas_map:
            result["gas"] = maps[:, 1]
        return result


def build_model(cfg: ModelConfig) -> LeakModel:
    """The model of ``cfg`` with seeded-by-caller default initialisation."""
    return LeakModel(cfg)
