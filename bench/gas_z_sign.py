"""Is the sign of Z (flow towards / away from the camera) in the video at all?

Run from the repository root (~2 min on one core)::

    .venv/bin/python bench/gas_z_sign.py            # updates BENCHMARKS.md
    .venv/bin/python bench/gas_z_sign.py --no-write

An infrared gas camera sees the gas column along each ray, not its depth, so one may suspect that
a plume and its mirror image in depth give the same video; then no model could tell +Z from -Z,
and the best possible Z error would be mean |Z| (~180 px/s on the test set), far from the issue's
7 px/s. Two measurements:

(a) **Depth-mirror twins.** For random training scenes (objects and distractors removed, a uniform
    warm wall behind the source, no noise), the same plume (same seed) is filmed by camera A and
    by camera B on the opposite side, both level and aimed at the source: every puff's velocity
    along B's axis is minus that along A's, so Z_B = -Z_A exactly. If B's video, mirrored left to
    right, equalled A's, the sign would be invisible. Reported: the rms difference of the gas
    signal (clip minus the same scene without gas) between A and mirrored B, relative to the rms
    signal, and the fraction of gas pixels where they differ by more than the camera's NETD.
(b) **A physics estimate of Z from the clip: looming.** Gas at depth d moving at v along the
    optical axis makes image structure shrink at the rate v/d, so Z = f v/d = -(f/2) div(u) of the
    image flow u. Estimated from the simulator's *true* column density (Farneback flow of
    log(1 + N/10 ppm m), divergence averaged within 1 m of the source weighted by N) and compared
    with the Z label: if this worked it would be a feature for the model.
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np

from _benchutil import machine_lines, markdown_table, publish

SECTION = "gas-z-sign"


def _mirror_pair(seed: int) -> tuple[float, float, float, float]:
    """(Z_A, Z_B, rms twin difference / rms signal, fraction of gas px differing > NETD)."""
    from plantwatch.gas.clip import simulate_clip
    from plantwatch.gas.randomize import RandomSceneOptions, random_scene
    from plantwatch.gas.scene import scene_from_dict

    scene = random_scene(seed, RandomSceneOptions(frames=16, fps_choices=(30.0,)))
    d = scene.model_dump()
    src = np.array(d["leak"]["position_m"])
    cam = d["camera"]
    axis = src - np.array(cam["position_m"])
    axis[2] = 0.0
    distance_m = float(np.linalg.norm(axis))
    axis /= distance_m
    wall_m = distance_m + 3.0 + 15.0 * 2**0.5  # a 30 m cube's nearest point >= distance + 3 m
    d["distractors"] = []
    d["ground"] = {**d["ground"], "enabled": False}
    d["objects"] = [
        {
            "type": "box",
            "center_m": tuple(src + s * wall_m * axis),
            "size_m": (30.0, 30.0, 30.0),
            "temperature_offset_k": 10.0,
            "emissivity": 1.0,
            "texture_k": 0.0,
        }
        for s in (-1.0, 1.0)
    ]
    netd_k = cam["netd_mk"] / 1e3
    cam = {**cam, "vibration_px": 0.0, "netd_mk": 0.0, "fixed_pattern_mk": 0.0}
    cam.update(yaw_deg=0.0, pitch_deg=0.0, roll_deg=0.0, look_at_m=tuple(src))
    signals, zs = [], []
    for side in (-1.0, 1.0):
        view = {**cam, "position_m": tuple(src + side * distance_m * axis)}
        gas = simulate_clip(scene_from_dict({**d, "camera": view}), seed)
        empty = simulate_clip(scene_from_dict({**d, "camera": view, "leak": None}), seed)
        signals.append(gas.frames_k - empty.frames_k)
        zs.append(float(gas.labels["z_px_s"]))
    sig_a, sig_b = signals[0], signals[1][:, :, ::-1]
    gas_px = np.abs(sig_a) > netd_k
    if not gas_px.any():
        return zs[0], zs[1], float("nan"), float("nan")
    diff = (sig_a - sig_b)[gas_px]
    rel = float(np.sqrt(np.mean(diff**2)) / np.sqrt(np.mean(sig_a[gas_px] ** 2)))
    return zs[0], zs[1], rel, float(np.mean(np.abs(diff) > netd_k))


def _looming_z(seed: int) -> tuple[float, float] | None:
    """(Z label, -(f/2) div u near the source from the true column), or None without a source."""
    from plantwatch.gas.clip import simulate_clip
    from plantwatch.gas.randomize import RandomSceneOptions, random_scene

    clip = simulate_clip(random_scene(seed, RandomSceneOptions(frames=16)), seed)
    lab = clip.labels
    if not lab["leak"] or not lab["source_in_view"]:
        return None
    col = clip.column_ppm_m.astype(np.float32)
    img = np.log1p(col / 10.0)
    if img.max() <= 0:
        return None
    img8 = np.clip(img / img.max() * 255.0, 0, 255).astype(np.uint8)
    f_px, depth_m = lab["camera"]["fx_px"], lab["source_depth_m"]
    u0, v0 = lab["source_px"]
    radius_px = max(6.0, f_px / depth_m)  # 1 m
    yy, xx = np.mgrid[0 : col.shape[1], 0 : col.shape[2]]
    near = (xx - u0) ** 2 + (yy - v0) ** 2 <= radius_px**2
    divs = []
    for t in range(len(img8) - 1):
        flow = cv2.calcOpticalFlowFarneback(img8[t], img8[t + 1], None, 0.5, 3, 9, 3, 5, 1.1, 0)
        div = (np.gradient(flow[..., 0], axis=1) + np.gradient(flow[..., 1], axis=0)) * lab["fps"]
        w = col[t] * near
        if w.sum() > 0:
            divs.append(float((div * w).sum() / w.sum()))
    if not divs:
        return None
    return float(lab["z_px_s"]), -f_px / 2.0 * float(np.mean(divs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=40, help="mirror pairs (seeds 0..n-1)")
    parser.add_argument("--clips", type=int, default=80, help="clips for the looming estimate")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    machine = machine_lines()
    t0 = time.monotonic()
    pairs = [_mirror_pair(s) for s in range(args.pairs)]
    pairs = [p for p in pairs if np.isfinite(p[2])]
    za = np.array([p[0] for p in pairs])
    rel = np.array([p[2] for p in pairs])
    frac = np.array([p[3] for p in pairs])
    antisym = float(np.max(np.abs(za + np.array([p[1] for p in pairs]))))
    rows = []
    for lo, hi in ((0, 50), (50, 200), (200, np.inf)):
        sel = (np.abs(za) >= lo) & (np.abs(za) < hi)
        if sel.any():
            rows.append(
                [
                    f"{lo}-{hi if np.isfinite(hi) else '…'}",
                    int(sel.sum()),
                    f"{np.median(rel[sel]):.2f}",
                    f"{np.min(rel[sel]):.2f}",
                    f"{np.median(frac[sel]) * 100:.0f} %",
                ]
            )
    table_a = markdown_table(
        [
            "abs(Z_A) [px/s]",
            "pairs",
            "median rms(A − mirrored B) / rms(A)",
            "smallest",
            "median share of gas px differing > NETD",
        ],
        rows,
    )
    loom = [r for r in (_looming_z(s) for s in range(args.clips)) if r is not None]
    z = np.array([r[0] for r in loom])
    zhat = np.array([r[1] for r in loom])
    corr = float(np.corrcoef(z, zhat)[0, 1])
    a = np.c_[zhat, np.ones_like(zhat)]
    coef, *_ = np.linalg.lstsq(a, z, rcond=None)
    mae_fit = float(np.mean(np.abs(a @ coef - z)))
    elapsed = time.monotonic() - t0
    body = "\n".join(
        [
            "## Gas: is the sign of Z in the video? (`bench/gas_z_sign.py`)",
            "",
            *machine,
            f"- Command: `.venv/bin/python bench/gas_z_sign.py --pairs {args.pairs} "
            f"--clips {args.clips}` ({elapsed:.0f} s)",
            "",
            "(a) Depth-mirror twins: one plume filmed from both sides (Z_B = −Z_A; largest "
            f"|Z_A + Z_B| {antisym:.2g} px/s), gas signal of A vs B mirrored left to right, "
            f"{len(pairs)} random scenes with a uniform wall behind the source:",
            "",
            table_a,
            "",
            "(b) Looming estimate −(f/2)·div(flow) of the *true* column within 1 m of the source "
            f"vs the Z label, {len(loom)} random training clips: correlation {corr:+.2f}; "
            f"MAE of its best linear fit {mae_fit:.0f} px/s against {np.mean(np.abs(z)):.0f} "
            "px/s for predicting 0.",
        ]
    )
    publish(SECTION, body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
