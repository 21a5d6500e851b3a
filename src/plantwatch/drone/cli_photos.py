"""``plantwatch drone photos`` and ``plantwatch drone report``: photos in, inspection report out.

Thin: parse, call :mod:`plantwatch.drone.photos` / :mod:`plantwatch.drone.findings`, format.
Exit status of ``photos``: 0 when every photo was read, 1 when some could not be (each is listed:
one ``{"file", "error"}`` object in the ``--json`` list, a red row in the table), 2 for bad input
(a path that does not exist, no JPEG at all, a bad site or plan folder). ``cli.py`` wires these
in with :func:`register`.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from plantwatch.drone.photos import PhotoSurvey

__all__ = ["register"]

F = TypeVar("F", bound=Callable[..., Any])
_PROGRESS_FROM = 20  # show a progress bar from this many photos on (table output only)


def handle_errors(func: F) -> F:
    """:func:`plantwatch.cli.handle_errors`, looked up when the command runs (so that
    ``plantwatch.cli`` may import this module at any point of its own import)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from plantwatch.cli import handle_errors as cli_handle_errors

        return cli_handle_errors(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def register(drone_app: typer.Typer) -> None:
    """Add the ``photos`` and ``report`` sub-commands to the ``plantwatch drone`` app."""
    drone_app.command("photos")(photos_command)
    drone_app.command("report")(report_command)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _print_table(survey: PhotoSurvey) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    with_site = survey.site is not None
    with_plan = survey.plan is not None
    table = Table(show_lines=False, header_style="bold")
    for name, justify in (
        ("file", "left"),
        ("time", "left"),
        ("lat", "right"),
        ("lon", "right"),
        ("alt rel [m]", "right"),
        ("pitch", "right"),
        ("yaw", "right"),
        ("camera", "left"),
        ("GSD [cm/px]", "right"),
        ("at", "left"),
    ):
        table.add_column(escape(name), justify=justify)  # type: ignore[arg-type]
    if with_site:
        table.add_column("facility")
    if with_plan:
        table.add_column("shot", justify="right")
    for record in survey.photos:
        meta = record.meta
        row = [
            escape(meta.path.name),
            "-" if meta.time is None else meta.time.isoformat(timespec="seconds"),
            f"{meta.lat_deg:.6f}",
            f"{meta.lon_deg:.6f}",
            _fmt(meta.alt_rel_m, ".1f"),
            _fmt(meta.gimbal_pitch_deg, ".1f"),
            _fmt(meta.gimbal_yaw_deg, ".1f"),
            escape(meta.camera_label),
            _fmt(record.gsd_cm, ".2f"),
            record.gsd_at or "-",
        ]
        if with_site:
            row.append(record.facility_id or "-")
        if with_plan:
            match = record.planned
            row.append(
                "-" if match is None else f"{match.shot.shot}{' (retake)' if match.retake else ''}"
            )
        table.add_row(*row)
    for error in survey.errors:
        table.add_row(
            f"[red]{escape(error.file.name)}[/red]", f"[red]error: {escape(error.error)}[/red]"
        )
    console = Console()
    console.print(table)
    if survey.plan is not None:
        shots = survey.plan.shots
        by_facility: dict[str, int] = {}
        for shot in survey.not_taken:
            by_facility[shot.facility_id or "-"] = by_facility.get(shot.facility_id or "-", 0) + 1
        detail = ", ".join(f"{k} {v}" for k, v in by_facility.items())
        console.print(
            f"planned shots: {len(shots)}, taken: {len(shots) - len(survey.not_taken)}, "
            f"not taken: {len(survey.not_taken)}" + (f" ({detail})" if detail else "")
        )
    if survey.coverage is not None:
        report = survey.coverage.report
        planned = ((survey.plan.coverage or {}) if survey.plan else {}).get("totals") or {}
        console.print(
            f"coverage from the photos as taken: {report.coverage_pct:.1f} % "
            f"(planned {planned.get('coverage_pct', '-')} %); "
            f"{len(report.conventional_inspection)} spot(s) for conventional inspection"
        )
    for note in (*survey.notes, *(survey.coverage.notes if survey.coverage else ())):
        console.print(f"note: {escape(note)}")


@handle_errors
def photos_command(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH...", help="Photos (.jpg/.jpeg) or folders of photos."),
    ],
    site_path: Annotated[
        Path | None,
        typer.Option("--site", help="Site GeoJSON: cast against its facilities and match them."),
    ] = None,
    plan_dir: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="Plan folder: match planned shots, list those not taken, recompute blind spots.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list, one per photo.")] = (
        False
    ),
    survey_path: Annotated[
        Path | None,
        typer.Option(
            "--survey",
            help="Also write the whole check (photos, errors, shots not taken, coverage) as JSON.",
        ),
    ] = None,
) -> None:
    """Read drone photos (EXIF, DJI XMP): position, gimbal, time, camera, GSD, footprint;
    with --site the facility each shows, with --plan the planned shot and the gaps.
    Exit 1 when some photos could not be read."""
    from plantwatch.drone.photos import photo_to_json, survey_photos, survey_to_json
    from plantwatch.drone.site import load_site

    site = load_site(site_path) if site_path is not None else None
    progress: Callable[[int, int], None] | None = None
    bar: Any = None
    if not as_json:
        from plantwatch.drone.photos import find_photos

        total = len(find_photos(paths))
        if total >= _PROGRESS_FROM:
            from rich.progress import Progress

            bar = Progress(transient=True)
            task = bar.add_task("reading photos", total=total)
            bar.start()

            def progress(done: int, _total: int) -> None:
                bar.update(task, completed=done)

    try:
        survey = survey_photos(paths, site, plan_dir, progress=progress)
    finally:
        if bar is not None:
            bar.stop()
    if survey_path is not None:
        from plantwatch.fileio import atomic_write_bytes as _atomic_write_bytes

        text = json.dumps(survey_to_json(survey), indent=1, ensure_ascii=False) + "\n"
        _atomic_write_bytes(survey_path, text.encode("utf-8"))
    if as_json:
        with_site, with_plan = survey.site is not None, survey.plan is not None
        rows: list[dict[str, Any]] = [
            photo_to_json(r, with_site=with_site, with_plan=with_plan) for r in survey.photos
        ]
        rows += [{"file": str(e.file), "error": e.error} for e in survey.errors]
        sys.stdout.write(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    else:
        _print_table(survey)
    if survey.errors:
        raise typer.Exit(code=1)


@handle_errors
def report_command(
    plan_dir: Annotated[
        Path, typer.Argument(metavar="PLAN_DIR", help="Plan folder the flight followed.")
    ],
    photos_dir: Annotated[Path, typer.Option("--photos", help="Folder of the flight's photos.")],
    findings_path: Annotated[
        Path, typer.Option("--findings", help="Findings YAML (photo, defect, severity, region).")
    ],
    out: Annotated[Path, typer.Option("--out", help="HTML report to write.")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Also write the report as PDF.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language: ja or en.")] = "ja",
) -> None:
    """Inspection report (MHLW-2022 §5.5): findings by facility with photo crops, and the spots
    for conventional inspection (blind spots of the photos as taken, parts not flown, shots not
    taken, high-severity findings)."""
    from plantwatch.drone.findings import write_inspection_report

    written = write_inspection_report(
        plan_dir, photos_dir, findings_path, lang, html_path=out, pdf_path=pdf
    )
    typer.echo(" ".join(str(p) for p in written))
