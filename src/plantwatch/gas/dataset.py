"""Labelled datasets of random simulated clips, written as zarr shards with a JSON index.

Layout of a dataset folder::

    index.json                 what was asked (n, seed, options), one summary row per clip
    shards/shard-00000.zarr    frames (N, T, H, W) float32 [K], column_ppm_m (N, T, H, W)
                               float32 [ppm·m], attrs["labels"] = full labels per clip

Clip ``i`` of a dataset made with ``--seed S`` has seed ``S + i`` (scene draw and simulation),
so ``plantwatch gas simulate --scene random --seed S+i`` reproduces it exactly and splits made
from disjoint seed ranges never share a clip.

Work is split into shards; each worker (a local process, or a Ray task on a cluster: same
function) simulates a shard and writes it under a temporary name, renamed when complete. A rerun
with the same arguments skips complete shards, so an interrupted generation resumes.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from plantwatch import __version__
from plantwatch.errors import InputError, require
from plantwatch.gas.clip import simulate_clip
from plantwatch.gas.outputs import write_json_atomic
from plantwatch.gas.randomize import RandomSceneOptions, random_scene

__all__ = [
    "DatasetSpec",
    "ShardTask",
    "SimDataset",
    "SimDatasets",
    "generate_dataset",
    "open_dataset",
    "open_datasets",
    "simulate_shard",
]

INDEX_FILE = "index.json"
SUMMARY_KEYS = (
    "seed",
    "species",
    "leak",
    "detectable",
    "occluded",
    "source_px",
    "z_px_s",
    "leak_rate_g_s",
    "fps",
    "frames",
    "source_depth_m",
    "distractors",
)


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is made of: used to check that a resumed run asks for the same thing."""

    n: int
    seed: int
    frames: int = 32
    width_px: int = 320
    height_px: int = 240
    no_leak_fraction: float = 0.0
    occlusion_probability: float = 0.5

    def __post_init__(self) -> None:
        if self.n < 1:
            raise InputError(f"must be >= 1, got {self.n}", field="n")
        if self.seed < 0:
            raise InputError(f"must be >= 0, got {self.seed}", field="seed")
        if not 0.0 <= self.no_leak_fraction <= 1.0:
            raise InputError(
                f"must be within [0, 1], got {self.no_leak_fraction}", field="no_leak_fraction"
            )
        if not 0.0 <= self.occlusion_probability <= 1.0:
            raise InputError(
                f"must be within [0, 1], got {self.occlusion_probability}",
                field="occlusion_probability",
            )
        if self.frames < 2:
            raise InputError(f"must be >= 2, got {self.frames}", field="frames")

    def options(self) -> RandomSceneOptions:
        return RandomSceneOptions(
            frames=self.frames,
            width_px=self.width_px,
            height_px=self.height_px,
            leak_probability=1.0 - self.no_leak_fraction,
            occlusion_probability=self.occlusion_probability,
        )


@dataclass(frozen=True)
class ShardTask:
    """One unit of work: simulate clips with these seeds into one shard."""

    index: int
    seeds: tuple[int, ...]
    spec: DatasetSpec
    out_dir: str

    @property
    def name(self) -> str:
        return f"shard-{self.index:05d}.zarr"


def _summary(labels: dict[str, Any]) -> dict[str, Any]:
    return {k: labels.get(k) for k in SUMMARY_KEYS}


def simulate_shard(task: ShardTask) -> list[dict[str, Any]]:
    """Simulate the clips of one shard and write it; returns one summary per clip.

    Runs in a worker process or a Ray task. The shard appears under its final name only once
    complete.
    """
    import zarr
    from zarr.codecs import BloscCodec

    shards = Path(task.out_dir) / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    final = shards / task.name
    tmp = shards / f".{task.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    spec = task.spec
    shape = (len(task.seeds), spec.frames, spec.height_px, spec.width_px)
    chunks = (1, spec.frames, spec.height_px, spec.width_px)
    codec = [BloscCodec(cname="zstd", clevel=1, shuffle="bitshuffle")]
    root = zarr.open_group(str(tmp), mode="w")
    frames_arr = root.create_array(
        "frames", shape=shape, chunks=chunks, dtype="float32", compressors=codec
    )
    column_arr = root.create_array(
        "column_ppm_m", shape=shape, chunks=chunks, dtype="float32", compressors=codec
    )
    options = spec.options()
    labels: list[dict[str, Any]] = []
    for k, seed in enumerate(task.seeds):
        clip = _simulate_seed(seed, options)
        frames_arr[k] = clip.frames_k
        column_arr[k] = clip.column_ppm_m
        labels.append(json.loads(json.dumps(clip.labels, default=float)))
    root.attrs["labels"] = labels
    root.attrs["seeds"] = list(task.seeds)
    root.attrs["complete"] = True
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return [{**_summary(lab), "shard": task.name, "position": k} for k, lab in enumerate(labels)]


def _simulate_seed(seed: int, options: RandomSceneOptions) -> Any:
    """Simulate the random scene of ``seed`` (which never puts the camera inside an object)."""
    return simulate_clip(random_scene(seed, options), seed)


def _tasks(spec: DatasetSpec, out: Path, shard_size: int) -> list[ShardTask]:
    seeds = [spec.seed + i for i in range(spec.n)]
    return [
        ShardTask(index=j, seeds=tuple(seeds[a : a + shard_size]), spec=spec, out_dir=str(out))
        for j, a in enumerate(range(0, spec.n, shard_size))
    ]


def _existing(task: ShardTask) -> list[dict[str, Any]] | None:
    """Summaries of a shard already complete with the same seeds (resume), else None."""
    import zarr

    path = Path(task.out_dir) / "shards" / task.name
    if not path.is_dir():
        return None
    try:
        root = zarr.open_group(str(path), mode="r")
        attrs: Any = root.attrs
        if not attrs.get("complete") or list(attrs.get("seeds", [])) != list(task.seeds):
            return None
        labels = attrs["labels"]
    except Exception:  # a damaged shard is simply redone
        return None
    return [{**_summary(lab), "shard": task.name, "position": k} for k, lab in enumerate(labels)]


def _run_local(tasks: Sequence[ShardTask], workers: int) -> Iterator[list[dict[str, Any]]]:
    if workers <= 1:
        for task in tasks:
            yield simulate_shard(task)
        return
    import multiprocessing

    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(simulate_shard, t) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()


def _run_ray(tasks: Sequence[ShardTask], address: str) -> Iterator[list[dict[str, Any]]]:
    ray: Any = require("ray", "dist")
    started = False
    if not ray.is_initialized():
        if address == "local":
            ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(simulate_shard)
        pending = [remote.remote(t) for t in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


def generate_dataset(
    spec: DatasetSpec,
    out_dir: str | Path,
    workers: int | None = None,
    ray_address: str | None = None,
    shard_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Generate (or resume) a dataset; returns the index written to ``out_dir/index.json``.

    Parameters
    ----------
    spec
        Number of clips, first seed, clip size and distribution knobs.
    out_dir
        Dataset folder (created).
    workers
        Local worker processes (default: all cores). Ignored with ``ray_address``.
    ray_address
        ``"local"`` to start a Ray runtime on this machine, ``"auto"`` or ``ray://host:port`` for
        a cluster: each shard becomes a Ray task running the same ``simulate_shard``.
    shard_size
        Clips per shard (default: enough shards to keep every worker busy, at most 32 clips).
    progress
        Called with the number of clips finished each time a shard completes.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{str(out)!r} exists and is not a folder", field="out")
    index_path = out / INDEX_FILE
    if index_path.is_file():
        previous = json.loads(index_path.read_text())
        if previous.get("spec") != asdict(spec):
            raise InputError(
                f"{str(out)!r} holds a dataset made with different settings; use a new --out "
                "folder or the same settings to resume"
            )
    n_workers = max(1, workers or os.cpu_count() or 1)
    if shard_size is None:
        shard_size = max(1, min(32, math.ceil(spec.n / (n_workers * 4))))
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(index_path, {"spec": asdict(spec), "complete": False, "clips": []})
    tasks = _tasks(spec, out, shard_size)
    rows: dict[str, list[dict[str, Any]]] = {}
    todo = []
    for task in tasks:
        found = _existing(task)
        if found is None:
            todo.append(task)
        else:
            rows[task.name] = found
            if progress:
                progress(len(found))
    runner = _run_ray(todo, ray_address) if ray_address else _run_local(todo, n_workers)
    for shard_rows in runner:
        rows[shard_rows[0]["shard"]] = shard_rows
        if progress:
            progress(len(shard_rows))
    clips = [row for task in tasks for row in rows[task.name]]
    index = {
        "spec": asdict(spec),
        "complete": True,
        "version": __version__,
        "n": len(clips),
        "seeds": [spec.seed, spec.seed + spec.n - 1],
        "layout": "shards/*.zarr: frames (N,T,H,W) float32 K, column_ppm_m (N,T,H,W) float32",
        "counts": {
            "occluded": sum(bool(c["occluded"]) for c in clips),
            "no_leak": sum(not c["leak"] for c in clips),
            "undetectable_leak": sum(bool(c["leak"] and not c["detectable"]) for c in clips),
            "methane": sum(c["species"] == "methane" for c in clips),
            "propane": sum(c["species"] == "propane" for c in clips),
        },
        "clips": clips,
    }
    write_json_atomic(index_path, index)
    return index


class SimDataset:
    """Read access to a generated dataset: ``len(ds)``, ``ds[i] -> (frames, column, labels)``."""

    def __init__(self, root: Path) -> None:
        import zarr

        self.root = root
        self.index = json.loads((root / INDEX_FILE).read_text())
        if not self.index.get("complete"):
            raise InputError(
                f"dataset {str(root)!r} is incomplete; rerun `plantwatch gas dataset` "
                "with the same arguments to finish it"
            )
        self._zarr = zarr
        self._groups: dict[str, Any] = {}

    def __len__(self) -> int:
        return len(self.index["clips"])

    def __getstate__(self) -> dict[str, Any]:
        # picklable for spawned data-loader processes: they reopen the shards themselves
        state = dict(self.__dict__)
        state.pop("_zarr", None)
        state["_groups"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import zarr

        self.__dict__.update(state)
        self._zarr = zarr

    def _group(self, shard: str) -> Any:
        if shard not in self._groups:
            self._groups[shard] = self._zarr.open_group(str(self.root / "shards" / shard), mode="r")
        return self._groups[shard]

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        row = self.index["clips"][i]
        group = self._group(row["shard"])
        k = row["position"]
        return (
            np.asarray(group["frames"][k]),
            np.asarray(group["column_ppm_m"][k]),
            group.attrs["labels"][k],
        )

    def labels(self, i: int) -> dict[str, Any]:
        """Clip i's labels without reading its frames."""
        row = self.index["clips"][i]
        labels: dict[str, Any] = self._group(row["shard"]).attrs["labels"][row["position"]]
        return labels


class SimDatasets:
    """Several datasets read as one (clip i of the whole = clip j of one part), e.g. a training
    set grown by a second ``plantwatch gas dataset`` run from another seed range."""

    def __init__(self, parts: list[SimDataset]) -> None:
        self.parts = parts
        self._starts = np.cumsum([0] + [len(p) for p in parts])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _locate(self, i: int) -> tuple[SimDataset, int]:
        if not 0 <= i < len(self):
            raise IndexError(i)
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        return self.parts[k], i - int(self._starts[k])

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        part, j = self._locate(i)
        return part[j]

    def labels(self, i: int) -> dict[str, Any]:
        part, j = self._locate(i)
        return part.labels(j)


def open_dataset(path: str | Path) -> SimDataset:
    """Open a dataset folder written by ``generate_dataset``."""
    root = Path(path)
    if not (root / INDEX_FILE).is_file():
        raise InputError(f"{str(root)!r} is not a plantwatch dataset (no {INDEX_FILE})")
    return SimDataset(root)


def open_datasets(paths: str | Path | Sequence[str | Path]) -> SimDataset | SimDatasets:
    """One dataset folder, or a list of them read as one."""
    if isinstance(paths, (str, Path)):
        return open_dataset(paths)
    if not paths:
        raise InputError("no dataset folders given", field="data")
    return SimDatasets([open_dataset(p) for p in paths])
