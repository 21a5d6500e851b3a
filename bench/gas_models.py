"""Leak-source models: seed 000's Table 1 on plantwatch's test set, and detect speed.

Run from the repository root (data: ``examples/gas-models/make_data.sh``, ~12 min on one core)::

    .venv/bin/python bench/gas_models.py --test data-local/gas/test --val data-local/gas/val
    .venv/bin/python bench/gas_models.py ... --no-write   # print only

(a) Both models (default: the shipped weights in ``src/plantwatch/data/models``) on the same
    test clips, per split: MAE of X, Y [px] and Z [px/s], detection and false-alarm rates at the
    threshold chosen on the validation set for >= 95 % detection of its detectable leaks, and
    the "all" row again at the threshold for >= 95 % of all its leaks
    (:func:`plantwatch.gas.evaluate.evaluate_models`).
(b) ``detect_video`` throughput on a simulated 320x240 clip of 90 frames at 30 fps, eager
    PyTorch vs ONNX Runtime, one thread (whole pipeline: read, stabilise, windows, model).
(c) Writes the section "Gas leak-source models" of BENCHMARKS.md (between markers).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _benchutil import REPO_ROOT, machine_lines, update_section

SECTION = "gas-models"
SEED_TABLE_1 = (
    "Seed 000 (Konica Minolta Technology Report 18, 2021, Table 1), its own data: numeric output "
    "X 10.39 px, Y 7.35 px, Z 89 px/s; heatmap output X 4.0 px, Y 4.6 px, Z 14.8 px/s. "
    "Issue targets (heatmap, occluded split, 320x240): X, Y <= 2.0 px, Z <= 7 px/s; "
    "false alarms <= 2 % at >= 95 % detection; detect >= 25 frames/s."
)


def detect_speed(weights: dict[str, Path], repeats: int = 3) -> list[list[str]]:
    """Frames per second of detect_video on a 90-frame 320x240 clip, PyTorch and ONNX."""
    import torch

    from plantwatch.gas.clip import simulate_clip
    from plantwatch.gas.detect import detect_video
    from plantwatch.gas.randomize import RandomSceneOptions, random_scene

    torch.set_num_threads(1)
    opts = RandomSceneOptions(frames=90, fps_choices=(30.0,))
    clip = simulate_clip(random_scene(2_000_001, opts), 2_000_001)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.npy"
        np.save(path, clip.frames_k)
        for kind, w in weights.items():
            fps_by = {}
            for onnx in (False, True):
                detect_video(path, model=kind, weights=w, fps=30.0, onnx=onnx)  # warm-up/export
                times = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    detect_video(path, model=kind, weights=w, fps=30.0, onnx=onnx)
                    times.append(time.perf_counter() - t0)
                fps_by[onnx] = 90 / float(np.median(times))
            rows.append(
                [
                    kind,
                    f"{fps_by[False]:.1f}",
                    f"{fps_by[True]:.1f}",
                    f"{fps_by[True] / fps_by[False]:.2f}",
                ]
            )
    return rows


def prior_baseline(train: Path, test: Path) -> str:
    """MAE of a constant guess (training-set mean source and Z): what "learned nothing" scores."""
    import json

    rows_train = json.loads((train / "index.json").read_text())["clips"]
    rows_test = json.loads((test / "index.json").read_text())["clips"]
    leaks = [r for r in rows_train if r["leak"]]
    xy = np.mean([r["source_px"] for r in leaks], axis=0)
    z = float(np.mean([r["z_px_s"] for r in leaks]))
    parts = []
    for name, keep in (("all", lambda r: True), ("occluded", lambda r: bool(r["occluded"]))):
        sel = [r for r in rows_test if r["leak"] and keep(r)]
        err = np.abs(np.array([r["source_px"] for r in sel]) - xy).mean(axis=0)
        z_err = float(np.mean([abs(r["z_px_s"] - z) for r in sel]))
        parts.append(f"{name}: X {err[0]:.2f} px, Y {err[1]:.2f} px, Z {z_err:.1f} px/s")
    return (
        f"Constant-guess reference (training mean source ({xy[0]:.1f}, {xy[1]:.1f}) px, "
        f"Z {z:.1f} px/s), leak clips: " + "; ".join(parts) + "."
    )


def visible_gas_reference(test: Path, threshold_ppm_m: float = 50.0) -> str:
    """How far the test sources are from any gas the camera can see (occluded vs visible)."""
    from plantwatch.gas.dataset import open_dataset
    from plantwatch.gas.evaluate import nearest_visible_gas_px

    data = open_dataset(test)
    gaps: dict[str, list[float]] = {"occluded": [], "visible": []}
    unseen = {"occluded": 0, "visible": 0}
    for i in range(len(data)):
        labels = data.labels(i)
        if not labels["leak"] or not labels["source_in_view"]:
            continue
        split = "occluded" if labels["occluded"] else "visible"
        gap = nearest_visible_gas_px(data[i][1], labels["source_px"], threshold_ppm_m)
        if gap is None:
            unseen[split] += 1
        else:
            gaps[split].append(gap)
    parts = []
    for split, values in gaps.items():
        v = np.asarray(values)
        parts.append(
            f"{split}: {len(v)} clips, median {np.median(v):.1f} px, mean {v.mean():.1f} px, "
            f"> 2 px in {100 * (v > 2).mean():.0f} %, > 8 px in {100 * (v > 8).mean():.0f} % "
            f"({unseen[split]} more with no pixel >= {threshold_ppm_m:g} ppm·m)"
        )
    return (
        "Distance from the true source to the nearest pixel with >= "
        f"{threshold_ppm_m:g} ppm·m of visible gas (clip mean; "
        "`evaluate.nearest_visible_gas_px`), leak clips with the source in view: "
        + "; ".join(parts)
        + ". A source hidden behind a pipe is that far from any gas in the image."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=Path, default=Path("data-local/gas/test"))
    parser.add_argument("--val", type=Path, default=Path("data-local/gas/val"))
    parser.add_argument("--train", type=Path, default=Path("data-local/gas/train"))
    parser.add_argument("--weights", type=Path, nargs="*", help="model.pt files (default shipped)")
    parser.add_argument("--no-speed", action="store_true", help="skip the detect timing")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args()
    os.chdir(REPO_ROOT)
    import torch

    from plantwatch.gas.evaluate import default_weights, evaluate_models, format_table, load_model

    torch.set_num_threads(1)
    machine = machine_lines()
    print("\n".join(machine))
    paths = args.weights or [default_weights(k) for k in ("numeric", "heatmap")]
    weights = {load_model(p)[0].cfg.kind: p for p in paths}
    t0 = time.perf_counter()
    rows, thresholds = evaluate_models(weights, args.test, args.val)
    eval_s = time.perf_counter() - t0
    table = format_table(rows, thresholds)
    print(table)
    provenance = []
    for kind, p in weights.items():
        model, _thr, meta = load_model(p)
        cfg = model.cfg
        provenance.append(
            f"- {kind}: `{p.relative_to(REPO_ROOT) if p.is_relative_to(REPO_ROOT) else p}`, "
            f"{sum(x.numel() for x in model.parameters())} parameters, input {cfg.frames} frames "
            f"at {cfg.fps:g} fps, {cfg.width_px}x{cfg.height_px} px; trained {meta.get('step')} "
            f"steps in {meta.get('train_time_s')} s on {meta.get('device')} "
            f"(world size {meta.get('world_size')})"
            + (
                f", starting from `{meta['init_from'].get('path')}` (itself "
                f"{meta['init_from'].get('step')} steps, {meta['init_from'].get('train_time_s')} s)"
                if meta.get("init_from")
                else ""
            )
            + f"; leak target: {meta.get('leak_target', 'leak')}"
        )
    speed = (
        ""
        if args.no_speed
        else "\n".join(
            [
                "",
                "### detect throughput (90 frames of 320x240 at 30 fps, one thread)",
                "",
                "| model | PyTorch eager [frames/s] | ONNX Runtime [frames/s] | ONNX / PyTorch |",
                "|---|---:|---:|---:|",
                *("| " + " | ".join(r) + " |" for r in detect_speed(weights)),
            ]
        )
    )
    if speed:
        print(speed)
    body = "\n".join(
        [
            "## Gas leak-source models (seed 000 Table 1)",
            "",
            *machine,
            f"- Test set `{args.test}`, validation `{args.val}` (made by "
            "`examples/gas-models/make_data.sh`; disjoint seeds); evaluation took "
            f"{eval_s:.0f} s",
            *provenance,
            "",
            SEED_TABLE_1,
            "",
            "MAE X, Y over leak clips whose source is in view (input pixels of the 320x240 clip); "
            "Z over all leak clips; detection over leak clips, false alarms over no-leak clips. "
            "Detectable: the camera sees the leak's gas in the window (window-mean gas signal "
            ">= NETD on >= 10 px; `plantwatch.gas.visibility`).",
            "",
            table,
            "",
            prior_baseline(args.train, args.test),
            "",
            visible_gas_reference(args.test),
            speed,
        ]
    )
    if not args.no_write:
        update_section(SECTION, body)
        print(f"\nupdated {REPO_ROOT / 'BENCHMARKS.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
