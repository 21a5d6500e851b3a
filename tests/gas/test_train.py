"""Training: exact resume, run-folder rules, config errors, DDP on Gloo, CLI train + evaluate."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from plantwatch.errors import InputError
from plantwatch.gas.cli_models import register
from plantwatch.gas.dataset import DatasetSpec, generate_dataset
from plantwatch.gas.evaluate import choose_threshold
from plantwatch.gas.models import ModelConfig
from plantwatch.gas.train import TrainConfig, train
from plantwatch.gas.training_data import AugmentConfig, ClipWindows

TINY_MODEL = {"frames": 8, "height_px": 24, "width_px": 32, "widths": [4, 8, 8, 16]}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("gasdata") / "ds"
    spec = DatasetSpec(n=4, seed=30, frames=8, width_px=64, height_px=48, no_leak_fraction=0.25)
    generate_dataset(spec, root, workers=1)
    return root


def _cfg(data, **kw):
    raw = {
        "train_data": str(data),
        "val_data": str(data),
        "steps": 4,
        "batch_size": 2,
        "warmup_steps": 1,
        "checkpoint_every": 2,
        "model": TINY_MODEL,
        **kw,
    }
    return TrainConfig.from_dict(raw)


def _state(path):
    return torch.load(path, weights_only=True)["model"]


def test_resume_gives_the_uninterrupted_state(data, tmp_path):
    cfg = _cfg(data)
    whole = train(cfg, tmp_path / "a")
    first = train(cfg, tmp_path / "b", stop_after_steps=2)
    assert first["stopped_early"] and first["step"] == 2
    second = train(cfg, tmp_path / "b", resume=True)
    assert second["step"] == whole["step"] == 4
    a, b = _state(tmp_path / "a" / "model.pt"), _state(tmp_path / "b" / "model.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    ckpt = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 4 and ckpt["config"]["model"]["widths"] == [4, 8, 8, 16]
    assert len((tmp_path / "b" / "log.jsonl").read_text().splitlines()) == 4
    assert 0.0 <= second["threshold"] <= 1.0


def test_loader_workers_and_two_datasets_give_the_same_run(data, tmp_path):
    """Items depend only on (seed, epoch, index): a data-loader process changes nothing, and a
    list of dataset folders reads as their concatenation (here the same folder twice)."""
    gas_model = {**TINY_MODEL, "gas_map": True}
    base = train(_cfg(data, model=gas_model, train_data=[str(data), str(data)]), tmp_path / "a")
    loaded = train(
        _cfg(data, model=gas_model, train_data=[str(data), str(data)], workers=1), tmp_path / "b"
    )
    assert base["gas"] == loaded["gas"] and base["loss"] == loaded["loss"]
    a, b = _state(tmp_path / "a" / "model.pt"), _state(tmp_path / "b" / "model.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert a["to_heatmap.weight"].shape[0] == 2  # source heatmap + gas map


def test_run_folder_rules(data, tmp_path):
    cfg = _cfg(data, steps=1)
    with pytest.raises(InputError, match="resume"):
        train(cfg, tmp_path / "r", resume=True)
    train(cfg, tmp_path / "r")
    with pytest.raises(InputError, match="already holds a run"):
        train(cfg, tmp_path / "r")


@pytest.mark.parametrize(
    "raw, match",
    [
        ({"steps": 3}, "train_data"),
        ({"train_data": "x", "learning_rate": 1}, "unknown keys"),
        ({"train_data": "x", "model": {"kind": "gauss"}}, "unknown model"),
    ],
)
def test_config_invalid(raw, match):
    with pytest.raises(InputError, match=match):
        TrainConfig.from_dict(raw)


def test_augmented_windows_are_seeded(data):
    cfg = ModelConfig(**TINY_MODEL)
    ds = ClipWindows(data, cfg, AugmentConfig(eight_bit_probability=1.0, text_probability=1.0))
    one = ds[1]["clip"]
    assert one.shape == (1, 8, 24, 32) and torch.isfinite(one).all()
    assert torch.equal(ds[1]["clip"], one)
    ds.set_epoch(1)
    assert not torch.equal(ds[1]["clip"], one)


def test_choose_threshold_detects_95_percent():
    rng = np.random.default_rng(0)
    prob = np.concatenate([rng.uniform(0.3, 1.0, 200), rng.uniform(0.0, 0.5, 50)])
    leak = np.r_[np.ones(200, bool), np.zeros(50, bool)]
    thr = choose_threshold(prob, leak)
    assert (prob[leak] >= thr).mean() >= 0.95
    assert (prob[leak] >= np.nextafter(thr, 1)).mean() < 0.95 + 1 / 200


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world, port, cfg_dict, out):
    os.environ.update(
        {
            "WORLD_SIZE": str(world),
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    import torch.distributed as dist

    try:
        train(TrainConfig.from_dict(cfg_dict), out)
    finally:
        dist.destroy_process_group()


def test_ddp_two_processes_on_gloo(data, tmp_path):
    """The same train() under two Gloo processes: one model file, made by world size 2."""
    cfg = _cfg(data, steps=2, val_data=None).to_dict()
    # fork: the worker is a test function, not importable by a spawned interpreter
    torch.multiprocessing.start_processes(
        _ddp_worker,
        args=(2, _free_port(), cfg, str(tmp_path / "ddp")),
        nprocs=2,
        join=True,
        start_method="fork",
    )
    blob = torch.load(tmp_path / "ddp" / "model.pt", weights_only=True)
    assert blob["meta"]["world_size"] == 2 and blob["meta"]["step"] == 2


def test_cli_train_then_evaluate(data, tmp_path):
    app = typer.Typer()
    register(app)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"train_data: {data}\nval_data: {data}\nsteps: 2\nbatch_size: 2\nwarmup_steps: 1\n"
        "model: {frames: 8, height_px: 24, width_px: 32, widths: [4, 8, 8, 16]}\n"
    )
    runner = CliRunner()
    res = runner.invoke(app, ["train", "--config", str(cfg), "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    assert "step 2/2 done" in res.output
    table = tmp_path / "t.md"
    res = runner.invoke(
        app,
        [
            "evaluate",
            "--weights",
            str(tmp_path / "run" / "model.pt"),
            "--data",
            str(data),
            "--val",
            str(data),
            "--out",
            str(table),
        ],
    )
    assert res.exit_code == 0, res.output
    text = table.read_text()
    assert "| all | heatmap | 4 |" in text
    assert "| all, any-leak threshold | heatmap | 4 |" in text
    assert "detectable leaks" in text
    res = runner.invoke(app, ["train", "--config", str(cfg), "--out", str(tmp_path / "run")])
    assert res.exit_code == 2 and "already holds a run" in res.output


@pytest.mark.parametrize("kind", ["heatmap", "numeric"])
def test_overfits_a_few_clips(data, kind):
    """Sanity check: on a handful of clips the loss/target path must reach sub-pixel error.

    If labels, coordinate scaling, target construction or loss weighting were wrong, a model
    could not memorise three clips' sources; this runs in a few seconds.
    """
    from plantwatch.gas.models import build_model, peak_from_logits
    from plantwatch.gas.train import loss_terms

    torch.set_num_threads(1)
    cfg = _cfg(data, model={**TINY_MODEL, "kind": kind})
    windows = ClipWindows(data, cfg.model, None)
    items = [windows[i] for i in range(len(windows))]
    batch = {
        k: torch.stack([it[k] for it in items])
        for k in ("clip", "xy", "z", "leak", "detectable", "xy_valid")
    }
    # leak_target "detectable": leaks the camera sees are the positives and carry the targets
    assert (batch["xy_valid"] * batch["detectable"]).sum() >= 2
    torch.manual_seed(0)
    model = build_model(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(120):
        loss = loss_terms(model(batch["clip"]), batch, cfg)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        out = model(batch["clip"])
    xy = peak_from_logits(out["heatmap"]) if kind == "heatmap" else out["xy"]
    valid = (batch["xy_valid"] * batch["detectable"]).bool()
    assert (xy - batch["xy"]).abs()[valid].max() < 0.5  # model px: 1 px at 64x48
    prob = torch.sigmoid(out["leak_logit"])
    assert ((prob > 0.5) == batch["detectable"].bool()).all()


def test_nearest_visible_gas_px():
    from plantwatch.gas.evaluate import nearest_visible_gas_px

    column = np.zeros((4, 40, 60), np.float32)
    column[:, 10:20, 30:40] = 200.0  # a patch of gas; the source 10 px left of its edge
    assert nearest_visible_gas_px(column, (20.0, 15.0)) == pytest.approx(10.0)
    assert nearest_visible_gas_px(column, (35.0, 12.0)) == 0.0  # source inside the gas
    column[:2] = 0.0  # seen in half the frames: 100 ppm·m on average, still >= 50
    assert nearest_visible_gas_px(column, (20.0, 15.0)) == pytest.approx(10.0)
    assert nearest_visible_gas_px(column, (20.0, 15.0), threshold_ppm_m=150.0) is None


def test_init_from_starts_from_a_model_file_and_records_it(data, tmp_path):
    first = train(_cfg(data), tmp_path / "a")
    assert first["step"] == 4
    # lr 0 and no weight decay: the second run's weights stay those it started from
    cfg = _cfg(data, init_from=str(tmp_path / "a" / "model.pt"), lr=0.0, weight_decay=0.0, steps=1)
    train(cfg, tmp_path / "b")
    a, b = _state(tmp_path / "a" / "model.pt"), _state(tmp_path / "b" / "model.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    meta = torch.load(tmp_path / "b" / "model.pt", weights_only=True)["meta"]
    assert meta["init_from"]["path"] == str(tmp_path / "a" / "model.pt")
    assert meta["init_from"]["step"] == 4 and meta["leak_target"] == "detectable"


def test_init_from_and_leak_target_errors(data, tmp_path):
    train(_cfg(data), tmp_path / "a")
    other = {**TINY_MODEL, "widths": [4, 8, 16, 16]}
    with pytest.raises(InputError, match="different model config"):
        train(_cfg(data, init_from=str(tmp_path / "a" / "model.pt"), model=other), tmp_path / "b")
    with pytest.raises(InputError, match="does not exist"):
        train(_cfg(data, init_from=str(tmp_path / "nope.pt")), tmp_path / "c")
    # a bad input leaves no run folder behind (a corrected rerun must not hit "already holds")
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()
    with pytest.raises(InputError, match="not a plantwatch dataset"):
        train(_cfg(data, train_data=str(tmp_path / "no-data")), tmp_path / "d")
    assert not (tmp_path / "d").exists()
    with pytest.raises(InputError, match="unknown leak_target"):
        _cfg(data, leak_target="visible")


def test_format_table_orders_rows_and_names_the_thresholds():
    from plantwatch.gas.evaluate import ANY_LEAK_SPLIT, SplitRow, format_table

    rows = [
        SplitRow("heatmap", "occluded", 2, 3.0, 4.0, 5.0, 1.0, float("nan")),
        SplitRow("heatmap", ANY_LEAK_SPLIT, 3, 1.0, 2.0, 3.0, 1.0, 0.5),
        SplitRow("heatmap", "all", 3, 1.0, 2.0, 3.0, 0.5, 0.0),
    ]
    text = format_table(rows, {"heatmap": 0.4, "heatmap any-leak": 0.2})
    lines = [ln for ln in text.splitlines() if ln.startswith("| ") and "heatmap" in ln]
    assert [ln.split(" | ")[0][2:] for ln in lines] == ["all", ANY_LEAK_SPLIT, "occluded"]
    assert "detectable leaks): heatmap 0.400." in text and "heatmap any-leak 0.200" in text
    stored = format_table(rows[2:], {"heatmap": 0.4})
    assert "stored in the model files" in stored and "any-leak" not in stored
