"""Training of the leak-source models: seeded, checkpointed, resumable, one code path for DDP.

``plantwatch gas train --config cfg.yaml --out runs/NAME`` runs :func:`train`. The same code runs
on one CPU core, one GPU or many (``torchrun --nproc-per-node N -m plantwatch gas train ...``):
when ``WORLD_SIZE > 1`` it joins the process group (NCCL on GPUs, Gloo on CPUs), shards every
epoch with :class:`~torch.utils.data.DistributedSampler` and averages gradients with
:class:`~torch.nn.parallel.DistributedDataParallel`; rank 0 writes the files.

Determinism: the model is initialised from ``seed``, the epoch order from ``(seed, epoch)`` and
every augmentation from ``(seed, epoch, clip)``, and the checkpoint holds the model, the optimiser
and the step, so a run resumed from a checkpoint ends in the same state as one never stopped.

Files in the run folder: ``config.yaml`` (the config that made it), ``checkpoint.pt`` (latest
state, rewritten atomically every ``checkpoint_every`` steps), ``log.jsonl`` (losses),
``model.pt`` (weights + config + validation threshold: what ``evaluate``/``detect`` load).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import yaml
from torch import Tensor

from plantwatch.errors import InputError
from plantwatch.gas.models import LeakModel, ModelConfig, build_model, soft_argmax
from plantwatch.gas.training_data import AugmentConfig, ClipWindows

__all__ = ["TrainConfig", "load_config", "loss_terms", "save_model_file", "train"]

LEAK_TARGETS = ("detectable", "leak")
CHECKPOINT = "checkpoint.pt"
MODEL_FILE = "model.pt"


@dataclass
class TrainConfig:
    """Everything a training run depends on (saved as config.yaml in the run folder)."""

    train_data: str | list[str]  # dataset folder(s) from `plantwatch gas dataset`
    val_data: str | None = None  # dataset folder for the detection threshold (disjoint seeds)
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    seed: int = 0
    steps: int = 2000  # optimiser steps (global batches)
    batch_size: int = 8  # clips per process per step
    lr: float = 2e-3  # peak learning rate (AdamW, linear warm-up, cosine decay)
    warmup_steps: int = 100
    weight_decay: float = 1e-4
    checkpoint_every: int = 100  # steps between checkpoints
    threads: int = 1  # torch CPU threads per process
    max_time_s: float | None = None  # checkpoint and stop after this wall time; resume continues
    xy_weight: float = 1.0
    z_weight: float = 1.0
    leak_weight: float = 1.0
    gas_weight: float = 1.0  # visible-gas map BCE (models with `gas_map`)
    workers: int = 0  # data-loader processes preparing batches beside the training step
    detection_rate: float = 0.95  # the threshold keeps at least this share of validation leaks
    # "detectable": the leak score, heatmap and Z learn only from leaks whose gas the camera sees
    # in the window (plantwatch.gas.visibility); an unseen leak counts as "no leak" for the score
    # and carries no position or Z target, since nothing in its frames says where or how fast.
    # "leak": every simulated leak is a positive with targets (the old behaviour).
    leak_target: str = "detectable"
    init_from: str | None = None  # model.pt whose weights a new run starts from (fine-tuning)

    def __post_init__(self) -> None:
        if self.leak_target not in LEAK_TARGETS:
            raise InputError(
                f"unknown leak_target {self.leak_target!r}; use one of {', '.join(LEAK_TARGETS)}",
                field="leak_target",
            )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        d["augment"] = {k: list(v) if isinstance(v, tuple) else v for k, v in d["augment"].items()}
        return d

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        if not isinstance(raw, dict) or "train_data" not in raw:
            raise InputError("needs at least `train_data: DATASET_FOLDER`", field="config")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InputError(
                f"unknown keys {unknown}; valid: {', '.join(sorted(known))}", field="config"
            )
        d = dict(raw)
        try:
            d["model"] = ModelConfig(**(d.get("model") or {}))
            aug: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v
                for k, v in (d.get("augment") or {}).items()
            }
            d["augment"] = AugmentConfig(**aug)
            return cls(**d)
        except TypeError as exc:
            raise InputError(f"bad config: {exc}", field="config") from exc


def load_config(path: str | Path) -> TrainConfig:
    """Read a training config YAML (see docs/models.md)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{str(p)!r} does not exist", field="config")
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"{str(p)!r} is not valid YAML: {exc}".splitlines()[0], "config") from exc
    return TrainConfig.from_dict(raw)


# ------------------------------------------------------------------ losses


def _gaussian_target(xy: Tensor, h: int, w: int, sigma: float) -> Tensor:
    """(B, 2) centres [model px] -> (B, H*W) normalised Gaussian distributions."""
    us = torch.arange(w, dtype=xy.dtype, device=xy.device)
    vs = torch.arange(h, dtype=xy.dtype, device=xy.device)
    du = (us[None, :] - xy[:, :1]) ** 2  # (B, W)
    dv = (vs[None, :] - xy[:, 1:]) ** 2  # (B, H)
    logp = -(dv[:, :, None] + du[:, None, :]) / (2 * sigma**2)  # (B, H, W)
    return logp.reshape(xy.shape[0], -1).softmax(dim=1)


def loss_terms(
    out: dict[str, Tensor], batch: dict[str, Tensor], cfg: TrainConfig
) -> dict[str, Tensor]:
    """Loss of one batch: leak BCE, source position (where in view), Z (leak clips).

    With ``leak_target: detectable`` the positives are the leaks the camera sees; the others
    neither count as leaks nor carry position and Z targets.
    """
    leak, valid = batch["leak"], batch["xy_valid"]
    if cfg.leak_target == "detectable":
        leak = batch["detectable"]
        valid = valid * leak
    leak_loss = F.binary_cross_entropy_with_logits(out["leak_logit"], leak)
    zs = cfg.model.z_scale_px_s
    z_each = F.smooth_l1_loss(out["z"] / zs, batch["z"] / zs, reduction="none")
    z_loss = (z_each * leak).sum() / leak.sum().clamp(min=1.0)
    if "heatmap" in out:
        logits = out["heatmap"]
        b, h, w = logits.shape
        target = _gaussian_target(batch["xy"], h, w, cfg.model.heatmap_sigma_px)
        ce = -(target * logits.reshape(b, -1).log_softmax(dim=1)).sum(dim=1)
        l1 = F.smooth_l1_loss(soft_argmax(logits), batch["xy"], reduction="none").sum(dim=1)
        xy_each = ce + 0.1 * l1
    else:
        xy_each = F.smooth_l1_loss(out["xy"], batch["xy"], reduction="none").sum(dim=1)
    xy_loss = (xy_each * valid).sum() / valid.sum().clamp(min=1.0)
    total = cfg.leak_weight * leak_loss + cfg.xy_weight * xy_loss + cfg.z_weight * z_loss
    terms = {"loss": total, "leak": leak_loss, "xy": xy_loss, "z": z_loss}
    if "gas" in out:
        # gas covers a few % of the pixels: weight them up so "no gas anywhere" is not a minimum
        target = batch["gas"]
        weight = 1.0 + 9.0 * target
        gas_loss = F.binary_cross_entropy_with_logits(out["gas"], target, weight=weight)
        terms["gas"] = gas_loss
        terms["loss"] = total + cfg.gas_weight * gas_loss
    return terms


# ------------------------------------------------------------------ files


def _atomic_torch_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_model_file(
    model: LeakModel, path: Path, threshold: float, meta: dict[str, Any] | None = None
) -> Path:
    """Write the inference file: config, float32 weights, leak threshold, provenance."""
    state = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
    _atomic_torch_save(
        {
            "config": model.cfg.to_dict(),
            "model": state,
            "threshold": float(threshold),
            "meta": meta or {},
        },
        path,
    )
    return path


def _init_weights(path: str, model_cfg: ModelConfig) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Weights and provenance of a model file to start from; its model config must be the run's."""
    from plantwatch.gas.evaluate import load_model

    try:
        model, _threshold, meta = load_model(path)
    except InputError as exc:
        raise InputError(str(exc).removeprefix("weights: "), field="init_from") from None
    if model.cfg != model_cfg:
        raise InputError(
            f"init_from {path!r} was made with a different model config; copy its `model:` "
            "section into this config",
            field="init_from",
        )
    return model.state_dict(), meta


def _collate(items: list[dict[str, Any]], device: torch.device) -> dict[str, Tensor]:
    keys = ("clip", "xy", "z", "leak", "detectable", "xy_valid", "gas")
    return {k: torch.stack([it[k] for it in items]).to(device) for k in keys}


def _as_list(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return items


def _worker_init(_worker_id: int) -> None:
    import cv2

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def _batches(
    data: ClipWindows, batches: list[list[int]], workers: int
) -> Iterator[list[dict[str, Any]]]:
    """The items of each batch, prepared in ``workers`` processes beside the training step
    (items depend only on (seed, epoch, index), so the result is the same with any count).

    Workers are spawned, not forked: a fork of a process with other threads running (pytest-xdist's
    I/O thread, OpenMP pools) can copy a held lock into the child, which then waits forever (seen
    in CI). Spawning costs a few seconds per epoch.
    """
    if workers <= 0:
        for idx in batches:
            yield [data[i] for i in idx]
        return
    loader = torch.utils.data.DataLoader(
        data,
        batch_sampler=batches,
        num_workers=workers,
        collate_fn=_as_list,
        worker_init_fn=_worker_init,
        prefetch_factor=4,
        multiprocessing_context="spawn",
    )
    yield from loader


def _lr(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, frac)))


# ------------------------------------------------------------------ the loop


def train(
    cfg: TrainConfig,
    out_dir: str | Path,
    resume: bool = False,
    progress: Callable[[int, int, dict[str, float]], None] | None = None,
    stop_after_steps: int | None = None,
) -> dict[str, Any]:
    """Train (or resume) one model; returns a summary (step, losses, threshold, time).

    ``stop_after_steps`` ends this invocation early (checkpoint written), as an interruption
    would; tests use it to check that resuming reproduces an uninterrupted run.
    """
    import torch.distributed as dist
    from torch.utils.data.distributed import DistributedSampler

    out = Path(out_dir)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    torch.set_num_threads(max(1, cfg.threads))

    ckpt_path = out / CHECKPOINT
    if out.exists() and (out / "config.yaml").exists() and not resume:
        raise InputError(f"{str(out)!r} already holds a run; use --resume or a new --out", "out")
    if resume and not ckpt_path.is_file():
        raise InputError(f"no {CHECKPOINT} in {str(out)!r} to resume from", field="resume")
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, elapsed_s = 0, 0.0
    init_meta: dict[str, Any] = {}
    if cfg.init_from:  # checked on resume too: the run's provenance names it
        init_state, init_meta = _init_weights(cfg.init_from, cfg.model)
        if not resume:
            model.load_state_dict(init_state)
    if resume:
        state = torch.load(ckpt_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, elapsed_s = int(state["step"]), float(state["elapsed_s"])
    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[local_rank] if cuda else None
        )

    data = ClipWindows(cfg.train_data, cfg.model, cfg.augment, seed=cfg.seed)
    sampler: DistributedSampler[int] = DistributedSampler(
        data, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed, drop_last=True
    )
    per_epoch = len(sampler) // cfg.batch_size
    if per_epoch < 1:
        raise InputError(
            f"{len(data)} clips give no full batch of {cfg.batch_size} per process",
            field="batch_size",
        )
    # the run folder appears only once every input is known to be good, so a bad config leaves
    # nothing behind that would make the corrected rerun say "already holds a run"
    if world > 1:
        dist.barrier()  # every rank has checked the folder before rank 0 writes into it
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))

    def save_checkpoint() -> None:
        if rank == 0:
            _atomic_torch_save(
                {
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "step": step,
                    "elapsed_s": elapsed_s,
                    "config": cfg.to_dict(),
                },
                ckpt_path,
            )

    log = out / "log.jsonl"
    started = time.monotonic()
    base_elapsed = elapsed_s
    terms: dict[str, float] = {}
    stopped_early = False
    net.train()
    epoch_cached = -1
    items_iter: Iterator[list[dict[str, Any]]] = iter(())
    while step < cfg.steps:
        epoch, b = divmod(step, per_epoch)
        if epoch != epoch_cached:
            sampler.set_epoch(epoch)
            data.set_epoch(epoch)
            order = [int(i) for i in sampler]
            batches = [
                order[k * cfg.batch_size : (k + 1) * cfg.batch_size] for k in range(b, per_epoch)
            ]
            items_iter, epoch_cached = _batches(data, batches, cfg.workers), epoch
        batch = _collate(next(items_iter), device)
        for group in opt.param_groups:
            group["lr"] = _lr(cfg, step)
        losses = loss_terms(net(batch["clip"]), batch, cfg)
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        elapsed_s = base_elapsed + time.monotonic() - started
        terms = {k: float(v.detach()) for k, v in losses.items()}
        if rank == 0:
            with log.open("a") as fh:
                fh.write(
                    json.dumps({"step": step, "elapsed_s": round(elapsed_s, 1), **terms}) + "\n"
                )
            if progress:
                progress(step, cfg.steps, terms)
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            save_checkpoint()
        out_of_time = cfg.max_time_s is not None and elapsed_s >= cfg.max_time_s
        if (stop_after_steps is not None and step >= stop_after_steps) or out_of_time:
            save_checkpoint()
            stopped_early = step < cfg.steps
            break

    threshold = 0.5
    if rank == 0 and cfg.val_data and not (stop_after_steps is not None and stopped_early):
        from plantwatch.gas.evaluate import choose_threshold, predict

        model.eval()
        val = ClipWindows(cfg.val_data, cfg.model, None, seed=cfg.seed)
        pred = predict(model, val)
        positives = pred["detectable"] if cfg.leak_target == "detectable" else pred["leak"]
        threshold = choose_threshold(pred["prob"], positives, cfg.detection_rate)
        model.train()
    if rank == 0:
        meta: dict[str, Any] = {
            "step": step,
            "train_time_s": round(elapsed_s, 1),
            "train_data": cfg.train_data,
            "seed": cfg.seed,
            "device": str(device),
            "world_size": world,
            "complete": step >= cfg.steps,
            "leak_target": cfg.leak_target,
        }
        if cfg.init_from:
            meta["init_from"] = {"path": cfg.init_from, **init_meta}
        save_model_file(model, out / MODEL_FILE, threshold, meta)
    if world > 1:
        dist.barrier()
    return {
        "step": step,
        "elapsed_s": elapsed_s,
        "threshold": threshold,
        "stopped_early": stopped_early,
        **terms,
    }
