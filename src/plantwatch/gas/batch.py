"""Batch detection: a folder of videos through :func:`~plantwatch.gas.detect.detect_video`.

One per-video function (:func:`_detect_one`) runs on every executor, so a batch gives the same
numbers as ``plantwatch gas detect VIDEO`` on each file:

- ``"local"``: in this process, one video after another (``workers=1``, the default: PyTorch and
  OpenCV already use every core inside one video), or ``workers`` spawned processes;
- ``"ray"``: one Ray task per video, on a Ray runtime started here (``ray_address=None`` or
  ``"local"``) or on a cluster (``"auto"``, ``"ray://host:10001"``). On a cluster the videos,
  the mask, the weights and ``out_dir`` must be at the same paths on every node (shared storage).

A video that fails (unreadable, too short, wrong mask size …) becomes an error entry; the batch
goes on. Options that would fail every video (unknown model, unreadable weights, no ONNX Runtime,
missing mask) are checked once, before the first video.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from plantwatch.errors import InputError, PlantwatchError, require
from plantwatch.fileio import atomic_write_text
from plantwatch.gas.video import ARRAY_SUFFIXES, TIFF_SUFFIXES, VIDEO_SUFFIXES

__all__ = [
    "BATCH_SUFFIXES",
    "EXECUTORS",
    "BatchResult",
    "VideoOutcome",
    "detect_many",
    "find_videos",
    "output_names",
]

BATCH_SUFFIXES = VIDEO_SUFFIXES + TIFF_SUFFIXES + ARRAY_SUFFIXES
EXECUTORS = ("local", "ray")
SUMMARY_JSON = "summary.json"
SUMMARY_CSV = "summary.csv"
CSV_COLUMNS = (
    "file",
    "leak_detected",
    "source_x_px",
    "source_y_px",
    "z_px_s",
    "confidence",
    "error",
    "out",
)
_MAX_ERROR_CHARS = 300

Progress = Callable[[int, int, "VideoOutcome"], None]


# ------------------------------------------------------------------ inputs


def find_videos(
    folder: str | Path, *, recursive: bool = False, exclude: str | Path | None = None
) -> list[Path]:
    """Every video, TIFF stack and ``.npy`` in ``folder`` (suffix case-insensitive), sorted.

    Hidden files (``.name``, e.g. macOS ``._clip.mp4`` resource forks) are skipped, and so is
    anything under ``exclude`` (the output folder, so a rerun does not detect its own overlays).

    Raises
    ------
    InputError
        ``folder`` is not a folder, or holds no file with a suffix in :data:`BATCH_SUFFIXES`.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{str(root)!r} is not a folder", field="path")
    skip = Path(exclude).resolve() if exclude is not None else None
    candidates = root.rglob("*") if recursive else root.iterdir()
    found = []
    for p in candidates:
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.suffix.lower() not in BATCH_SUFFIXES or not p.is_file():
            continue
        if skip is not None and p.resolve().is_relative_to(skip):
            continue
        found.append(p)
    if not found:
        where = f"{str(root)!r}" + (" or its subfolders" if recursive else "")
        raise InputError(
            f"no videos in {where}; expected files ending in {', '.join(BATCH_SUFFIXES)}",
            field="path",
        )
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def output_names(labels: Sequence[str]) -> list[str]:
    """Output sub-folder per video: its name without suffix (``sub/a.mp4`` -> ``sub/a``).

    Names that would clash (``a.mp4`` and ``a.npy``; compared case-insensitively, for macOS and
    Windows disks) keep their suffix (``a_mp4``, ``a_npy``); any clash left gets ``_2``, ``_3``.
    """
    stems = [PurePosixPath(label).with_suffix("").as_posix() for label in labels]
    counts = Counter(s.lower() for s in stems)
    used: set[str] = set()
    names = []
    for label, stem in zip(labels, stems, strict=True):
        base = stem
        if counts[stem.lower()] > 1:
            base = f"{stem}_{PurePosixPath(label).suffix.lstrip('.').lower()}"
        name, k = base, 2
        while name.lower() in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name.lower())
        names.append(name)
    return names


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class VideoOutcome:
    """One video of a batch: ``result`` (``DetectionResult.to_json()``) or ``error``.

    In JSON the file name is ``file`` (``video`` already holds the video's size and frame rate).
    """

    file: str  # path relative to the batch folder (or the file name)
    path: str
    out: str | None  # output sub-folder name, relative to the batch out_dir
    result: dict[str, Any] | None
    error: str | None
    elapsed_s: float

    def to_json(self) -> dict[str, Any]:
        if self.result is None:
            return {"file": self.file, "error": self.error}
        head: dict[str, Any] = {"file": self.file}
        if self.out is not None:
            head["out"] = self.out
        return {**head, **self.result}


@dataclass(frozen=True)
class BatchResult:
    """All videos of a batch, in input order."""

    videos: list[VideoOutcome]
    elapsed_s: float
    executor: str

    @property
    def n_leaks(self) -> int:
        return sum(bool(v.result and v.result["leak_detected"]) for v in self.videos)

    @property
    def n_errors(self) -> int:
        return sum(v.result is None for v in self.videos)

    def to_json(self) -> dict[str, Any]:
        return {
            "videos": [v.to_json() for v in self.videos],
            "n_videos": len(self.videos),
            "n_leaks": self.n_leaks,
            "n_errors": self.n_errors,
        }

    def to_csv(self) -> str:
        """One row per video (source and Z empty without a leak, everything empty on error)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for v in self.videos:
            r = v.result or {}
            xy = r.get("source_px") or ("", "")
            z = r.get("z_px_s")
            writer.writerow(
                [
                    v.file,
                    "" if not r else str(bool(r["leak_detected"])).lower(),
                    xy[0],
                    xy[1],
                    "" if z is None else z,
                    r.get("confidence", ""),
                    v.error or "",
                    (v.out or "") if v.result else "",
                ]
            )
        return buf.getvalue()

    def write_summary(self, out_dir: str | Path) -> tuple[Path, Path]:
        """``summary.json`` (as :meth:`to_json`) and ``summary.csv``, each written atomically."""
        out = Path(out_dir)
        text = json.dumps(self.to_json(), indent=2) + "\n"
        return atomic_write_text(out / SUMMARY_JSON, text), atomic_write_text(
            out / SUMMARY_CSV, self.to_csv()
        )


# ------------------------------------------------------------------ the per-video function


@dataclass(frozen=True)
class _DetectOptions:
    """``detect_video`` keyword arguments, the same for every video of a batch."""

    model: str
    weights: str | None
    mask: str | None
    palette: str
    fps: float | None
    stabilise: bool
    onnx: bool


@dataclass(frozen=True)
class _Job:
    index: int
    path: str  # absolute, so Ray workers with another working folder find it
    label: str
    out_dir: str | None  # absolute per-video folder
    out_name: str | None
    options: _DetectOptions


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, PlantwatchError):
        text = f"{type(exc).__name__}: {text}"
    return text[:_MAX_ERROR_CHARS]


def _detect_one(job: _Job) -> VideoOutcome:
    """Detect one video; every failure becomes the outcome's ``error`` (one line)."""
    from plantwatch.gas.detect import detect_video

    t0 = time.perf_counter()
    opts = job.options
    result: dict[str, Any] | None = None
    error: str | None = None
    try:
        found = detect_video(
            Path(job.path),
            None if job.out_dir is None else Path(job.out_dir),
            model=opts.model,
            weights=None if opts.weights is None else Path(opts.weights),
            mask=None if opts.mask is None else Path(opts.mask),
            palette=opts.palette,
            fps=opts.fps,
            stabilise=opts.stabilise,
            onnx=opts.onnx,
        )
        result = found.to_json()
    except Exception as exc:  # one bad file among hundreds must not stop the batch
        error = _one_line(exc)
    return VideoOutcome(job.label, job.path, job.out_name, result, error, time.perf_counter() - t0)


def _failed(job: _Job, exc: BaseException) -> VideoOutcome:
    """Outcome for a video whose worker died (out of memory, killed) instead of returning."""
    return VideoOutcome(
        job.label, job.path, job.out_name, None, f"worker failed: {_one_line(exc)}", 0.0
    )


# ------------------------------------------------------------------ executors


def _init_worker(threads: int) -> None:
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)


def _run_local(jobs: Sequence[_Job], workers: int) -> Iterator[tuple[_Job, VideoOutcome]]:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield job, _detect_one(job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: forking a process whose PyTorch/OpenMP threads have run can deadlock
    threads = max(1, (os.cpu_count() or 1) // workers)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(threads,)
    ) as pool:
        futures = {pool.submit(_detect_one, job): job for job in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            try:
                yield job, fut.result()
            except Exception as exc:  # BrokenProcessPool: a worker died
                yield job, _failed(job, exc)


def _run_ray(
    jobs: Sequence[_Job], address: str | None, workers: int | None
) -> Iterator[tuple[_Job, VideoOutcome]]:
    import logging

    ray: Any = require("ray", "dist")
    started = False
    if not ray.is_initialized():
        if address in (None, "local"):
            ray.init(
                num_cpus=workers or os.cpu_count(),
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(_detect_one)
        pending = {remote.remote(job): job for job in jobs}
        while pending:
            done, _rest = ray.wait(list(pending), num_returns=1)
            job = pending.pop(done[0])
            try:
                yield job, ray.get(done[0])
            except Exception as exc:  # RayTaskError / WorkerCrashedError
                yield job, _failed(job, exc)
    finally:
        if started:
            ray.shutdown()


# ------------------------------------------------------------------ entry point


def _preflight(model: str, weights: Path | None, mask: Path | None, onnx: bool) -> Path:
    """Fail once, before any video, on options that would fail every video."""
    from plantwatch.gas.detect import _resolve_weights, onnx_session
    from plantwatch.gas.evaluate import load_model
    from plantwatch.gas.models import MODEL_KINDS

    if model not in MODEL_KINDS:
        raise InputError(f"unknown model {model!r}; use one of {', '.join(MODEL_KINDS)}", "model")
    path = _resolve_weights(model, weights)
    kind = load_model(path)[0].cfg.kind  # a weights file says which model it is
    if mask is not None and (mask.suffix.lower() != ".png" or not mask.is_file()):
        raise InputError(f"{str(mask)!r} is not an existing .png file", field="mask")
    if onnx:
        onnx_session(kind, path)  # exports the ONNX file once, not in every worker
    return path.resolve()


def detect_many(
    paths: Sequence[str | Path],
    out_dir: str | Path | None = None,
    *,
    root: str | Path | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    model: str = "heatmap",
    weights: Path | None = None,
    mask: Path | None = None,
    palette: str = "white-hot",
    fps: float | None = None,
    stabilise: bool = True,
    onnx: bool = False,
) -> BatchResult:
    """Detect leaks in many videos; one outcome per video, in input order.

    Parameters
    ----------
    paths
        Videos (see :func:`find_videos`).
    out_dir
        If given: each video's ``overlay.mp4``, ``heatmap.png``, ``result.json`` in
        ``out_dir/<name>/`` (:func:`output_names`), then ``summary.json`` and ``summary.csv``.
    root
        Folder the videos' labels are relative to (default: labels are the file names).
    executor
        ``"local"`` or ``"ray"``.
    ray_address
        For ``"ray"``: ``None``/``"local"`` starts Ray here; ``"auto"`` or ``ray://host:port``
        joins a cluster.
    workers
        Local: processes (default 1, in this process). Ray started here: CPUs (default: all).
    progress
        Called as each video finishes (completion order): ``(done, total, outcome)``.
    model, weights, mask, palette, fps, stabilise, onnx
        As :func:`~plantwatch.gas.detect.detect_video`, for every video.

    Raises
    ------
    InputError
        No paths, unknown executor, bad ``workers``, or an option that fails every video.
    DependencyError
        ``executor="ray"`` without Ray, ``onnx=True`` without ONNX Runtime.
    """
    if executor not in EXECUTORS:
        raise InputError(
            f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}", field="executor"
        )
    if workers is not None and workers < 1:
        raise InputError(f"{workers} workers; use 1 or more", field="workers")
    if not paths:
        raise InputError("no videos to process", field="path")
    out = None if out_dir is None else Path(out_dir)
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"{str(out)!r} exists and is not a folder", field="out")
    if executor == "ray":
        require("ray", "dist")
    weights_path = _preflight(model, weights, mask, onnx)
    options = _DetectOptions(
        model=model,
        weights=str(weights_path),
        mask=None if mask is None else str(Path(mask).resolve()),
        palette=palette,
        fps=fps,
        stabilise=stabilise,
        onnx=onnx,
    )
    base = None if root is None else Path(root).resolve()
    files = [Path(p).resolve() for p in paths]
    labels = [
        f.relative_to(base).as_posix() if base is not None and f.is_relative_to(base) else f.name
        for f in files
    ]
    names = output_names(labels)
    jobs = [
        _Job(
            index=k,
            path=str(f),
            label=label,
            out_dir=None if out is None else str((out / name).resolve()),
            out_name=None if out is None else name,
            options=options,
        )
        for k, (f, label, name) in enumerate(zip(files, labels, names, strict=True))
    ]
    t0 = time.perf_counter()
    runner = (
        _run_ray(jobs, ray_address, workers)
        if executor == "ray"
        else _run_local(jobs, workers or 1)
    )
    outcomes: list[VideoOutcome | None] = [None] * len(jobs)
    for done, (job, outcome) in enumerate(runner, start=1):
        outcomes[job.index] = outcome
        if progress is not None:
            progress(done, len(jobs), outcome)
    videos = [o for o in outcomes if o is not None]
    batch = BatchResult(videos, time.perf_counter() - t0, executor)
    if out is not None:
        batch.write_summary(out)
    return batch
