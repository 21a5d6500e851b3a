"""Training throughput of the leak-source models: data pipeline vs training step, per core.

Run from the repository root (needs a dataset: ``examples/gas-models/make_data.sh``)::

    .venv/bin/python bench/gas_train_throughput.py --data data-local/gas/val
    .venv/bin/python bench/gas_train_throughput.py --data data-local/gas/val --no-write

Why: a training run consumes (clips/s) = min(data pipeline, training step). The data pipeline
(read the clip, camera emulation, visibility, stabilisation, normalisation: one
``ClipWindows`` item) runs on CPU cores whatever the accelerator, so its rate per core says how
many clips a run can see in a given time on a given machine, e.g. on a 16-core GPU machine in
the 15 minutes of device time a task may get. Both are measured with one thread.
"""

from __future__ import annotations

import argparse
import sys
import time

from _benchutil import machine_lines, markdown_table, publish

SECTION = "gas-train-throughput"
SHAPES = (  # (width, height, encoder widths): the shipped CPU models, and 160x120 input
    (80, 60, (8, 16, 32, 64)),
    (160, 120, (8, 16, 32, 64)),
    (160, 120, (16, 32, 64, 128)),
)
GPU_LOADER_CORES = 14  # of the lent 16-core GPU machine, two left for the trainer and the OS
GPU_TASK_BUDGET_S = 900  # device time a task may be lent (all tries together)


def _model_config(width: int, height: int, widths: tuple[int, ...]):
    """The shipped heatmap model's config at another input size and encoder width."""
    from dataclasses import replace

    from plantwatch.gas.evaluate import default_weights, load_model

    shipped = load_model(default_weights("heatmap"))[0].cfg
    return replace(shipped, width_px=width, height_px=height, widths=tuple(widths))


def loader_items_s(data: str, width: int, height: int, n: int) -> float:
    """Augmented training items per second on one core."""
    from plantwatch.gas.training_data import AugmentConfig, ClipWindows

    ds = ClipWindows(data, _model_config(width, height, (8, 16, 32, 64)), AugmentConfig(), seed=0)
    for i in range(3):
        ds[i]
    t0 = time.perf_counter()
    for i in range(n):
        ds[i % len(ds)]
    return n / (time.perf_counter() - t0)


def step_items_s(width: int, height: int, widths: tuple[int, ...], batch: int = 8) -> float:
    """Training items per second (forward, backward, AdamW step) on one thread."""
    import torch

    from plantwatch.gas.models import build_model
    from plantwatch.gas.train import TrainConfig, loss_terms

    torch.manual_seed(0)
    cfg = _model_config(width, height, widths)
    model = build_model(cfg)
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    tc = TrainConfig(train_data="unused", model=cfg)
    ones = torch.ones(batch)
    b = {
        "clip": torch.randn(batch, 1, 8, height, width),
        "xy": torch.rand(batch, 2) * torch.tensor([width - 1.0, height - 1.0]),
        "z": torch.randn(batch) * 100.0,
        "leak": ones,
        "detectable": ones,
        "xy_valid": ones,
        "gas": torch.rand(batch, height, width),
    }
    times = []
    for i in range(7):
        t0 = time.perf_counter()
        loss = loss_terms(model(b["clip"]), b, tc)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return batch / (sum(times) / len(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a dataset folder (e.g. the validation set)")
    parser.add_argument("--items", type=int, default=60, help="items timed per loader shape")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    args = parser.parse_args(argv)
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    machine = machine_lines()
    rows = []
    loader_cache: dict[tuple[int, int], float] = {}
    for width, height, widths in SHAPES:
        if (width, height) not in loader_cache:
            loader_cache[(width, height)] = loader_items_s(args.data, width, height, args.items)
        load = loader_cache[(width, height)]
        step = step_items_s(width, height, widths)
        rows.append(
            [
                f"{width}x{height}",
                "/".join(str(w) for w in widths),
                f"{load:.1f}",
                f"{step:.1f}",
                f"{GPU_LOADER_CORES * load * GPU_TASK_BUDGET_S / 1e3:.0f}k",
            ]
        )
    body = "\n".join(
        [
            "## Gas: training throughput (`bench/gas_train_throughput.py`)",
            "",
            *machine,
            f"- Command: `.venv/bin/python bench/gas_train_throughput.py --data {args.data}`",
            "",
            markdown_table(
                [
                    "model input",
                    "encoder widths",
                    "data pipeline [clips/s/core]",
                    "training step, batch 8 [clips/s/thread]",
                    f"clips {GPU_LOADER_CORES} loader cores feed in {GPU_TASK_BUDGET_S // 60} min",
                ],
                rows,
            ),
            "",
            "The shipped CPU runs used one loader process and one training thread, so they saw "
            "min(the two columns) clips/s. On an accelerator the step is no longer the limit "
            "and the data pipeline is: the last column is what a 16-core GPU machine's loaders "
            f"deliver in {GPU_TASK_BUDGET_S // 60} minutes.",
        ]
    )
    publish(SECTION, body, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
