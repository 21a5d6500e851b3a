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


def write_text_atomic(path: Path, text: str) -> Path:
    """Write text through a temporary sibling file and an atomic rename."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from plantwatch.gas.train import load_config, train

    cfg = load_config(config)
    tty = sys.stderr.isatty()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=_console(),
        disable=not tty,
    ) as bar:
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
        write_text_atomic(out, table + "\n")
    typer.echo(table)


def gas_detect(
    video: Annotated[
        Path, typer.Argument(help="MP4/AVI/MOV/MKV video, 16-bit TIFF stack or .npy.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for overlay.mp4, heatmap.png, result.json.")
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
) -> None:
    """Find a gas leak and its source in a video: sliding windows, aggregated."""
    from plantwatch.gas.detect import detect_video

    _check_model(model)
    result = detect_video(
        video,
        out,
        model=model,
        weights=weights,
        mask=mask,
        palette=palette,
        fps=fps,
        stabilise=stabilise,
        onnx=onnx,
    )
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
