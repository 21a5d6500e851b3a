"""Line-of-sight column density of a puff plume, with occlusion, for every pixel of every frame.

Each puff is an isotropic 3D Gaussian of mass m and size sigma. Along a camera ray the integral
of such a puff is closed-form: the ray through the puff at perpendicular distance r collects
``m / (2 pi sigma^2) exp(-r^2 / 2 sigma^2)`` [kg m-2], and only the part of the puff in front of
the first solid surface the ray meets counts. With depths measured along the optical axis
(puff centre ``z_c``, surface ``z_s``) that fraction is ``Phi((z_s - z_c) / sigma)``, so gas
behind a pipe is hidden and gas in front of it is seen against it, to within a fraction of a
puff size.

Column density in ppm·m is ``1e6 / rho_gas`` times the mass column (volume mixing ratio times
path, GAS-PHYSICS.md). Each pixel holds the average over its area, integrated exactly
(separable differences of the normal CDF), so a puff smaller than a pixel keeps its mass.

Cost: small puffs (sigma <= 3 px) are splatted at full resolution with the exact per-pixel
occlusion factor. Larger puffs are splatted on a pyramid level where they are 1.5-3 cells wide,
twice: with the occlusion factor at the nearest and at the farthest surface depth found around
each cell. Back at full resolution each pixel interpolates between the two according to its own
surface depth, which is exact wherever a neighbourhood holds two depths (a pipe edge against the
background) and smooth elsewhere. That keeps the cost per puff bounded (~20x20 cells) however
large it grows.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["column_density_frames", "ground_image_puffs", "ppm_m3_from_kg"]

FINE_SIGMA_PX = 3.0  # puffs wider than this go to a pyramid level
WINDOW_SIGMAS = 3.5  # splat radius in sigmas (misses 0.2 % of the mass)
PYRAMID_BLUR_CELLS2 = 0.25  # variance added by cell averaging + bilinear upsampling [cell^2]
NEAR_PLANE_M = 0.05  # puffs closer to the camera than this are not drawn
SKY_DEPTH_M = 1.0e6  # stand-in depth for rays that hit nothing


def ppm_m3_from_kg(mass_kg: NDArray[np.float64], gas_density_kg_m3: float) -> NDArray[np.float64]:
    """Mass of pure gas [kg] -> its volume times 1e6 [ppm m3] (integrates to ppm·m columns)."""
    return np.asarray(mass_kg) / gas_density_kg_m3 * 1e6


def ground_image_puffs(
    positions_m: NDArray[np.float64],
    sigma_m: NDArray[np.float64],
    amount: NDArray[np.float64],
    ground_height_m: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Append mirror puffs below a reflecting ground for puffs within 3.5 sigma of it.

    The method of images (as in the Gaussian plume's ground-reflection term) keeps mass above
    the ground; the ground itself hides the image's part below the surface.
    """
    near = (positions_m[:, 2] - ground_height_m) < WINDOW_SIGMAS * sigma_m
    if not np.any(near):
        return positions_m, sigma_m, amount
    mirror = positions_m[near].copy()
    mirror[:, 2] = 2.0 * ground_height_m - mirror[:, 2]
    return (
        np.concatenate([positions_m, mirror]),
        np.concatenate([sigma_m, sigma_m[near]]),
        np.concatenate([amount, amount[near]]),
    )


@njit(cache=True, fastmath=True)
def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x * 0.7071067811865476)


@njit(cache=True, fastmath=True)
def _splat_clip(
    out: np.ndarray,  # (T, H, W) float32, accumulated
    positions: np.ndarray,  # (P, 3) world
    sigma: np.ndarray,  # (P,)
    amount: np.ndarray,  # (P,) ppm m3
    offsets: np.ndarray,  # (T + 1,)
    rotation: np.ndarray,  # (3, 3) world -> camera
    cam_pos: np.ndarray,  # (3,)
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    depth: np.ndarray,  # (H, W) float64 along optical axis, sky = SKY_DEPTH_M
    pyr_lo: np.ndarray,  # (total_cells,) float64 scratch
    pyr_hi: np.ndarray,
    pyr_zmin: np.ndarray,  # (total_cells,)
    pyr_zmax: np.ndarray,
    level_offset: np.ndarray,  # (L + 1,) int64 start of each level in the flat buffers (1..L)
    level_h: np.ndarray,
    level_w: np.ndarray,
    n_levels: int,
) -> None:
    n_frames, height, width = out.shape
    wx_buf = np.zeros(max(height, width) + 2)
    for f in range(n_frames):
        used_lo_i = np.full(n_levels + 1, 1 << 30, np.int64)
        used_hi_i = np.full(n_levels + 1, -1, np.int64)
        used_lo_j = np.full(n_levels + 1, 1 << 30, np.int64)
        used_hi_j = np.full(n_levels + 1, -1, np.int64)
        for p in range(offsets[f], offsets[f + 1]):
            dx = positions[p, 0] - cam_pos[0]
            dy = positions[p, 1] - cam_pos[1]
            dz = positions[p, 2] - cam_pos[2]
            xc = rotation[0, 0] * dx + rotation[0, 1] * dy + rotation[0, 2] * dz
            yc = rotation[1, 0] * dx + rotation[1, 1] * dy + rotation[1, 2] * dz
            zc = rotation[2, 0] * dx + rotation[2, 1] * dy + rotation[2, 2] * dz
            sg = sigma[p]
            if zc < NEAR_PLANE_M + sg:
                continue
            u = fx * xc / zc + cx
            v = fy * yc / zc + cy
            sx = fx * sg / zc
            sy = fy * sg / zc
            # pixel-area averaged column: exact box integral of the Gaussian, separable in u, v
            area_px = amount[p] / ((zc / fx) * (zc / fy))  # [ppm m] for a unit-weight pixel
            reach_x = WINDOW_SIGMAS * sx + 0.5
            reach_y = WINDOW_SIGMAS * sy + 0.5
            if u + reach_x < -0.5 or u - reach_x > width - 0.5:
                continue
            if v + reach_y < -0.5 or v - reach_y > height - 0.5:
                continue
            e = max(sx, sy)
            level = 0
            if e > FINE_SIGMA_PX:
                level = int(math.ceil(math.log2(e / FINE_SIGMA_PX)))
                if level > n_levels:
                    level = n_levels
            inv_sig = 1.0 / sg
            if level == 0:
                i0 = max(0, int(math.floor(u - reach_x + 0.5)))
                i1 = min(width - 1, int(math.ceil(u + reach_x - 0.5)))
                j0 = max(0, int(math.floor(v - reach_y + 0.5)))
                j1 = min(height - 1, int(math.ceil(v + reach_y - 0.5)))
                for i in range(i0, i1 + 1):
                    wx_buf[i - i0] = _phi((i + 0.5 - u) / sx) - _phi((i - 0.5 - u) / sx)
                for j in range(j0, j1 + 1):
                    wy = _phi((j + 0.5 - v) / sy) - _phi((j - 0.5 - v) / sy)
                    if wy < 1e-9:
                        continue
                    row = area_px * wy
                    for i in range(i0, i1 + 1):
                        wx = wx_buf[i - i0]
                        if wx < 1e-9:
                            continue
                        zs = depth[j, i]
                        t = (zs - zc) * inv_sig
                        if t < -4.0:
                            continue
                        val = row * wx
                        if t < 4.0:
                            val *= _phi(t)
                        out[f, j, i] += val
            else:
                scale = float(1 << level)
                ul = (u + 0.5) / scale - 0.5
                vl = (v + 0.5) / scale - 0.5
                # cell averaging (1/12 cell^2) and bilinear reconstruction (~1/6 cell^2) widen
                # the puff; render it narrower by that variance so the composite keeps its size
                sxl = math.sqrt(max((sx / scale) ** 2 - PYRAMID_BLUR_CELLS2, 0.25))
                syl = math.sqrt(max((sy / scale) ** 2 - PYRAMID_BLUR_CELLS2, 0.25))
                rxl = reach_x / scale
                ryl = reach_y / scale
                cell_val = area_px / (scale * scale)
                hl = level_h[level]
                wl = level_w[level]
                base = level_offset[level]
                i0 = max(0, int(math.floor(ul - rxl + 0.5)))
                i1 = min(wl - 1, int(math.ceil(ul + rxl - 0.5)))
                j0 = max(0, int(math.floor(vl - ryl + 0.5)))
                j1 = min(hl - 1, int(math.ceil(vl + ryl - 0.5)))
                if i1 < i0 or j1 < j0:
                    continue
                used_lo_i[level] = min(used_lo_i[level], i0)
                used_hi_i[level] = max(used_hi_i[level], i1)
                used_lo_j[level] = min(used_lo_j[level], j0)
                used_hi_j[level] = max(used_hi_j[level], j1)
                for i in range(i0, i1 + 1):
                    wx_buf[i - i0] = _phi((i + 0.5 - ul) / sxl) - _phi((i - 0.5 - ul) / sxl)
                for j in range(j0, j1 + 1):
                    wy = _phi((j + 0.5 - vl) / syl) - _phi((j - 0.5 - vl) / syl)
                    if wy < 1e-9:
                        continue
                    row = cell_val * wy
                    for i in range(i0, i1 + 1):
                        wx = wx_buf[i - i0]
                        if wx < 1e-9:
                            continue
                        c = base + j * wl + i
                        t_hi = (pyr_zmax[c] - zc) * inv_sig
                        if t_hi < -4.0:
                            continue
                        val = row * wx
                        t_lo = (pyr_zmin[c] - zc) * inv_sig
                        vis_hi = 1.0 if t_hi >= 4.0 else _phi(t_hi)
                        vis_lo = 0.0 if t_lo <= -4.0 else (1.0 if t_lo >= 4.0 else _phi(t_lo))
                        pyr_lo[c] += val * vis_lo
                        pyr_hi[c] += val * vis_hi
        # composite the used pyramid levels back to full resolution
        for level in range(1, n_levels + 1):
            if used_hi_i[level] < 0:
                continue
            scale = float(1 << level)
            hl = level_h[level]
            wl = level_w[level]
            base = level_offset[level]
            # fine-pixel range touched by the used cells (+1 cell for bilinear support)
            fi0 = max(0, int((used_lo_i[level] - 1) * scale))
            fi1 = min(width - 1, int((used_hi_i[level] + 2) * scale))
            fj0 = max(0, int((used_lo_j[level] - 1) * scale))
            fj1 = min(height - 1, int((used_hi_j[level] + 2) * scale))
            for j in range(fj0, fj1 + 1):
                vc = (j + 0.5) / scale - 0.5
                jb = int(math.floor(vc))
                wy = vc - jb
                for i in range(fi0, fi1 + 1):
                    uc = (i + 0.5) / scale - 0.5
                    ib = int(math.floor(uc))
                    wx = uc - ib
                    zs = depth[j, i]
                    acc = 0.0
                    for dj in range(2):
                        jj = min(max(jb + dj, 0), hl - 1)
                        wyy = wy if dj == 1 else 1.0 - wy
                        for di in range(2):
                            ii = min(max(ib + di, 0), wl - 1)
                            wxx = wx if di == 1 else 1.0 - wx
                            c = base + jj * wl + ii
                            lo = pyr_lo[c]
                            hi = pyr_hi[c]
                            if lo == 0.0 and hi == 0.0:
                                continue
                            span = pyr_zmax[c] - pyr_zmin[c]
                            frac = 0.0
                            if span > 1e-9:
                                frac = (zs - pyr_zmin[c]) / span
                                frac = min(max(frac, 0.0), 1.0)
                            acc += wxx * wyy * (lo + (hi - lo) * frac)
                    out[f, j, i] += acc
            # clear the level for the next frame
            for jj in range(max(0, used_lo_j[level] - 1), min(hl, used_hi_j[level] + 2)):
                for ii in range(max(0, used_lo_i[level] - 1), min(wl, used_hi_i[level] + 2)):
                    c = base + jj * wl + ii
                    pyr_lo[c] = 0.0
                    pyr_hi[c] = 0.0


def _pyramid(depth_m: NDArray[np.float64], n_levels: int, depth_cap_m: float):
    """Flat pyramid buffers with each cell's min/max surface depth over 3x3 cells around it."""
    height, width = depth_m.shape
    capped = np.minimum(depth_m, depth_cap_m)
    level_h = np.zeros(n_levels + 1, dtype=np.int64)
    level_w = np.zeros(n_levels + 1, dtype=np.int64)
    level_offset = np.zeros(n_levels + 1, dtype=np.int64)
    zmins, zmaxs = [], []
    total = 0
    for level in range(1, n_levels + 1):
        s = 2**level
        hl, wl = math.ceil(height / s), math.ceil(width / s)
        level_h[level], level_w[level], level_offset[level] = hl, wl, total
        total += hl * wl
        size = 3 * s
        zmin = ndimage.minimum_filter(capped, size=size, mode="nearest")
        zmax = ndimage.maximum_filter(capped, size=size, mode="nearest")
        rows = np.minimum(np.arange(hl) * s + s // 2, height - 1)
        cols = np.minimum(np.arange(wl) * s + s // 2, width - 1)
        zmins.append(zmin[np.ix_(rows, cols)].ravel())
        zmaxs.append(zmax[np.ix_(rows, cols)].ravel())
    return (
        np.zeros(total),
        np.zeros(total),
        np.concatenate(zmins).astype(np.float64),
        np.concatenate(zmaxs).astype(np.float64),
        level_offset,
        level_h,
        level_w,
    )


def column_density_frames(
    rotation_world_to_camera: NDArray[np.float64],
    camera_position_m: NDArray[np.float64],
    fx_px: float,
    fy_px: float,
    cx_px: float,
    cy_px: float,
    depth_m: NDArray[np.float64],
    positions_m: NDArray[np.float64],
    sigma_m: NDArray[np.float64],
    amount_ppm_m3: NDArray[np.float64],
    offsets: NDArray[np.int64],
    n_levels: int = 5,
) -> NDArray[np.float32]:
    """Visible gas column density per pixel and frame [ppm·m].

    Parameters
    ----------
    rotation_world_to_camera, camera_position_m, fx_px, fy_px, cx_px, cy_px
        Pinhole camera (OpenCV axes: x right, y down, z forward).
    depth_m
        (H, W) depth of the first solid surface along the optical axis [m]; ``inf`` for sky.
    positions_m, sigma_m, amount_ppm_m3, offsets
        Puffs of all frames in CSR layout (frame f = rows ``offsets[f]:offsets[f+1]``); amount is
        the pure-gas volume times 1e6 [ppm m3] (``ppm_m3_from_kg``).
    n_levels
        Pyramid depth: puffs up to ``3 * 2^n_levels`` px sigma keep full accuracy.

    Returns
    -------
    (T, H, W) float32 column density [ppm·m].
    """
    height, width = depth_m.shape
    n_frames = offsets.shape[0] - 1
    out = np.zeros((n_frames, height, width), dtype=np.float32)
    depth = np.where(np.isfinite(depth_m), depth_m, SKY_DEPTH_M).astype(np.float64)
    positions = np.ascontiguousarray(positions_m, dtype=np.float64)
    rot = np.ascontiguousarray(rotation_world_to_camera, dtype=np.float64)
    cam = np.ascontiguousarray(camera_position_m, dtype=np.float64)
    if positions.shape[0]:
        zc = (positions - cam) @ rot[2]
        cap = float(np.max(zc + 5.0 * sigma_m)) + 1.0
    else:
        cap = 1.0
    pyramid = _pyramid(depth, n_levels, cap)
    splat: Any = _splat_clip
    splat(
        out,
        positions,
        np.ascontiguousarray(sigma_m, dtype=np.float64),
        np.ascontiguousarray(amount_ppm_m3, dtype=np.float64),
        np.ascontiguousarray(offsets, dtype=np.int64),
        rot,
        cam,
        float(fx_px),
        float(fy_px),
        float(cx_px),
        float(cy_px),
        np.minimum(depth, cap),
        *pyramid,
        n_levels,
    )
    return out


def _warm() -> None:
    """Compile (and cache) the numba kernels on a tiny problem."""
    depth = np.full((8, 8), np.inf)
    column_density_frames(
        np.eye(3),
        np.zeros(3),
        10.0,
        10.0,
        3.5,
        3.5,
        depth,
        np.array([[0.0, 0.0, 2.0], [0.0, 0.0, 3.0]]),
        np.array([0.05, 1.0]),
        np.array([1.0, 1.0]),
        np.array([0, 2]),
        n_levels=2,
    )


if __name__ == "__main__":  # pragma: no cover - used by setup.sh
    if "--warm" in sys.argv:
        _warm()
