"""``plantwatch gas train|evaluate|detect|export-onnx``: the leak-source model commands.

Thin: parse, call :mod:`plantwatch.gas.train`, :mod:`plantwatch.gas.evaluate` and
:mod:`plantwatch.gas.detect`, format. Library errors become one line and exit status 2
(:func:`plantwatch.cli.handle_errors`). ``cli.py`` wires these in with :func:`register`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from plantwatch.errors import InputError

__all__ = ["register"]

_VALID_MODELS = ("heatmap", "numeric")


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _progress_bar(tty: bool) -> Any:
    """A rich progress bar on stderr (count, time left), silent when stderr is not a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=_console(),
        disable=not tty,
    )


def _check_model(model: str) -> str:
    if model not in _VALID_MODELS:
        raise InputError(
            f"unknown model {model!r}; use one of {', '.join(_VALID_MODELS)}", field="--model"
        )
    return model


def gas_train(
    config: Annotated[Path, typer.Option("--config", help="Training config YAML.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (checkpoints, model.pt).")],
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint.")] = False,
) -> None:
    """Train a leak-source model (CPU, CUDA, or DDP under torchrun); resumable."""
    from plantwatch.gas.train import load_config, train

    cfg = load_config(config)
    tty = sys.stderr.isatty()
    with _progress_bar(tty) as bar:
        task = bar.add_task(f"training {cfg.model.kind}", total=cfg.steps)

        def progress(step: int, total: int, terms: dict[str, float]) -> None:
            bar.update(
                task, completed=step, description=f"{cfg.model.kind} loss {terms['loss']:.3f}"
            )
            if not tty and (step % 25 == 0 or step == total):
                losses = " ".join(f"{k} {v:.4f}" for k, v in terms.items())
                print(f"step {step}/{total} {losses}", file=sys.stderr, flush=True)

        summary = train(cfg, out, resume=resume, progress=progress)
    state = "stopped (time limit; rerun with --resume)" if summary["stopped_early"] else "done"
    typer.echo(
        f"{cfg.model.kind}: step {summary['step']}/{cfg.steps} {state}, "
        f"{summary['elapsed_s']:.0f} s, threshold {summary['threshold']:.3f} -> {out / 'model.pt'}"
    )


def gas_evaluate(
    data: Annotated[Path, typer.Option("--data", help="Test dataset folder.")],
    weights: Annotated[
        list[Path] | None,
        typer.Option("--weights", help="model.pt files (repeat); default: the shipped pair."),
    ] = None,
    val: Annotated[
        Path | None, typer.Option("--val", help="Validation dataset to choose thresholds on.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the table (Markdown).")] = None,
) -> None:
    """Table-1 comparison of the models on one test set, per split."""
    from plantwatch.fileio import atomic_write_text
    from plantwatch.gas.evaluate import default_weights, evaluate_models, format_table, load_model

    paths = list(weights) if weights else [default_weights(k) for k in _VALID_MODELS]
    named: dict[str, Path] = {}
    for p in paths:
        kind = load_model(p)[0].cfg.kind
        name = kind if kind not in named else f"{kind}:{p}"
        named[name] = p
    rows, thresholds = evaluate_models(named, data, val)
    table = format_table(rows, thresholds)
    if out is not None:
        atomic_write_text(out, table + "\n")
    typer.echo(table)


def gas_detect(
    video: Annotated[
        Path,
        typer.Argument(
            help="MP4/AVI/MOV/MKV video, 16-bit TIFF stack or .npy; or a folder of them (batch)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for overlay.mp4, heatmap.png, result.json (batch: one sub-folder per "
            "video, plus summary.json and summary.csv).",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    mask: Annotated[
        Path | None,
        typer.Option("--mask", help="PNG: non-zero pixels are ignored (on-screen text)."),
    ] = None,
    model: Annotated[str, typer.Option("--model", help="heatmap or numeric.")] = "heatmap",
    weights: Annotated[
        Path | None, typer.Option("--weights", help="model.pt (default: shipped).")
    ] = None,
    palette: Annotated[str, typer.Option(help="Palette of 8-bit video.")] = "white-hot",
    fps: Annotated[float | None, typer.Option(help="Frame rate for .npy/.tiff.")] = None,
    stabilise: Annotated[bool, typer.Option(help="Remove camera shake.")] = True,
    onnx: Annotated[bool, typer.Option("--onnx", help="Run with ONNX Runtime.")] = False,
    recursive: Annotated[
        bool, typer.Option("--recursive", help="Folder: include its subfolders.")
    ] = False,
    ray: Annotated[
        bool, typer.Option("--ray", help="Folder: one Ray task per video, on this machine.")
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="Folder: run on a Ray cluster (auto, ray://HOST:10001); paths must be shared.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", help="Folder: videos at a time (local processes; Ray: CPUs to start)."
        ),
    ] = None,
) -> None:
    """Find a gas leak and its source in a video: sliding windows, aggregated.

    VIDEO may be a folder: every video in it is processed (progress bar on stderr). Videos that
    fail are reported as `error: NAME: reason` on stderr, the others are still written, and the
    exit status is then 2.
    """
    from plantwatch.gas.detect import detect_video

    _check_model(model)
    options: dict[str, Any] = dict(
        model=model,
        weights=weights,
        mask=mask,
        palette=palette,
        fps=fps,
        stabilise=stabilise,
        onnx=onnx,
    )
    if video.is_dir():
        _detect_folder(
            video,
            out,
            json_out=json_out,
            recursive=recursive,
            executor="ray" if ray or ray_address else "local",
            ray_address=ray_address,
            workers=workers,
            detect_options=options,
        )
        return
    result = detect_video(video, out, **options)
    if json_out:
        typer.echo(json.dumps(result.to_json()))
        return
    if result.leak_detected and result.source_px is not None:
        x, y = result.source_px
        typer.echo(
            f"leak at ({x:.1f}, {y:.1f}) px, Z {result.z_px_s:.1f} px/s, "
            f"confidence {result.confidence:.2f} ({len(result.windows)} windows)"
        )
    else:
        typer.echo(f"no leak (confidence {result.confidence:.2f}, {len(result.windows)} windows)")
    if out is not None:
        typer.echo(f"  -> {out}")


def _video_line(item: dict[str, Any]) -> str:
    """One human line for a batch entry (``VideoOutcome.to_json()``) that succeeded."""
    n = len(item["windows"])
    if item["leak_detected"] and item["source_px"] is not None:
        x, y = item["source_px"]
        return (
            f"{item['file']}: leak at ({x:.1f}, {y:.1f}) px, Z {item['z_px_s']:.1f} px/s, "
            f"confidence {item['confidence']:.2f} ({n} windows)"
        )
    return f"{item['file']}: no leak (confidence {item['confidence']:.2f}, {n} windows)"


def _detect_folder(
    folder: Path,
    out: Path | None,
    *,
    json_out: bool,
    recursive: bool,
    executor: str,
    ray_address: str | None,
    workers: int | None,
    detect_options: dict[str, Any],
) -> None:
    """Batch mode of ``gas detect``: every video in ``folder``; exit 2 if any failed."""
    from plantwatch.gas.batch import VideoOutcome, detect_many, find_videos

    paths = find_videos(folder, recursive=recursive, exclude=out)
    tty = sys.stderr.isatty()
    with _progress_bar(tty) as bar:
        task = bar.add_task("detecting", total=len(paths))

        def progress(done: int, total: int, outcome: VideoOutcome) -> None:
            bar.update(task, completed=done, description=outcome.file[-40:])
            if not tty:
                state = "failed" if outcome.error else "done"
                print(f"detect {done}/{total} {outcome.file} {state}", file=sys.stderr, flush=True)

        batch = detect_many(
            paths,
            out,
            root=folder,
            executor=executor,
            ray_address=ray_address,
            workers=workers,
            progress=progress,
            **detect_options,
        )
    if json_out:
        typer.echo(json.dumps(batch.to_json()))
    else:
        for item in batch.to_json()["videos"]:
            if "error" not in item:
                typer.echo(_video_line(item))
        n = len(batch.videos)
        typer.echo(
            f"{n} video(s): {batch.n_leaks} leak(s), {batch.n_errors} failed, "
            f"{batch.elapsed_s:.1f} s" + (f" -> {out}" if out is not None else "")
        )
    for v in batch.videos:
        if v.error is not None:
            typer.echo(f"error: {v.file}: {v.error}", err=True)
    if batch.n_errors:
        raise typer.Exit(code=2)


def gas_export_onnx(
    out: Annotated[Path, typer.Option("--out", help="ONNX file to write.")],
    model: Annotated[str, typer.Option("--model", help="heatmap or numeric.")] = "heatmap",
    weights: Annotated[
        Path | None, typer.Option("--weights", help="model.pt (default: shipped).")
    ] = None,
) -> None:
    """Export a model to ONNX (input: one window (1, 1, T, H, W))."""
    from plantwatch.gas.detect import export_onnx

    _check_model(model)
    typer.echo(str(export_onnx(out, model=model, weights=weights)))


def register(gas_app: typer.Typer) -> None:
    """Add ``train``, ``evaluate``, ``detect`` and ``export-onnx`` to ``plantwatch gas``."""
    from plantwatch.cli import handle_errors

    gas_app.command("train")(handle_errors(gas_train))
    gas_app.command("evaluate")(handle_errors(gas_evaluate))
    gas_app.command("detect")(handle_errors(gas_detect))
    gas_app.command("export-onnx")(handle_errors(gas_export_onnx))
