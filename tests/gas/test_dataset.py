"""Dataset generation: resume, worker processes, and the same code path on a local Ray."""

from __future__ import annotations

import json

import numpy as np
import pytest

from plantwatch.errors import InputError
from plantwatch.gas.dataset import DatasetSpec, generate_dataset, open_dataset

SMALL = dict(frames=3, width_px=48, height_px=36)


def test_processes_and_resume(tmp_path):
    spec = DatasetSpec(n=4, seed=10, no_leak_fraction=0.5, **SMALL)
    index = generate_dataset(spec, tmp_path / "ds", workers=2, shard_size=2)
    assert index["n"] == 4 and index["complete"]
    assert [c["seed"] for c in index["clips"]] == [10, 11, 12, 13]
    assert index["counts"]["no_leak"] + sum(c["leak"] for c in index["clips"]) == 4
    undetectable = sum(c["leak"] and not c["detectable"] for c in index["clips"])
    assert index["counts"]["undetectable_leak"] == undetectable
    assert all(c["detectable"] is False for c in index["clips"] if not c["leak"])
    shard = tmp_path / "ds" / "shards" / "shard-00000.zarr"
    stamp = shard.stat().st_mtime_ns
    seen = []
    again = generate_dataset(spec, tmp_path / "ds", workers=1, shard_size=2, progress=seen.append)
    assert shard.stat().st_mtime_ns == stamp  # complete shards are not redone
    assert sum(seen) == 4 and again["clips"] == index["clips"]


def test_resume_refuses_other_settings(tmp_path):
    generate_dataset(DatasetSpec(n=1, seed=0, **SMALL), tmp_path / "ds", workers=1)
    with pytest.raises(InputError, match="different settings"):
        generate_dataset(DatasetSpec(n=2, seed=0, **SMALL), tmp_path / "ds", workers=1)


def test_ray_local_matches_processes(tmp_path):
    pytest.importorskip("ray")
    spec = DatasetSpec(n=2, seed=20, **SMALL)
    local = generate_dataset(spec, tmp_path / "a", workers=1, shard_size=1)
    ray_index = generate_dataset(spec, tmp_path / "b", ray_address="local", shard_size=1)
    assert ray_index["clips"] == local["clips"]
    a, b = open_dataset(tmp_path / "a"), open_dataset(tmp_path / "b")
    np.testing.assert_array_equal(a[1][0], b[1][0])
    assert json.loads((tmp_path / "b" / "index.json").read_text())["complete"] is True


def test_open_dataset_invalid(tmp_path):
    with pytest.raises(InputError, match="not a plantwatch dataset"):
        open_dataset(tmp_path)
