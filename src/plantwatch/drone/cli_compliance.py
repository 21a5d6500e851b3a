"""``plantwatch drone check`` and ``plantwatch drone risk``: thin CLI over the compliance engine.

:func:`register` adds both commands to the ``drone`` sub-app (``plantwatch.cli`` calls it). Exit
status of ``check``: 0 the flight may proceed (``confirm`` findings are listed for a person but
do not block), 1 a permission is required or something is prohibited, 2 bad input (one line on
stderr, via :func:`plantwatch.cli.handle_errors`).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from plantwatch.drone.compliance import CheckResult

__all__ = ["register"]

_STATUS_STYLE = {
    "prohibited": "bold red",
    "permit_required": "yellow",
    "confirm": "cyan",
    "ok": "green",
}
_STATUS_ORDER = {"prohibited": 0, "permit_required": 1, "confirm": 2, "ok": 3}


def _parse_today(today: str | None) -> date | None:
    from plantwatch.errors import InputError

    if today is None:
        return None
    try:
        return date.fromisoformat(today)
    except ValueError:
        raise InputError(f"must be a date YYYY-MM-DD, got {today!r}", field="--today") from None


def _check_lang(lang: str) -> str:
    from plantwatch.errors import InputError

    if lang not in ("en", "ja"):
        raise InputError(f"must be 'en' or 'ja', got {lang!r}", field="--lang")
    return lang


def _run_check(
    plan_dir: Path, ops: Path, airspace_dir: Path | None, today: date | None
) -> tuple[CheckResult, str]:
    """Load everything, resolve the airspace, check; return the result and the airspace note."""
    from plantwatch.drone.airspace import load_airspace, resolve_airspace
    from plantwatch.drone.compliance import check_plan, load_route
    from plantwatch.drone.operation import load_operation, today_jst
    from plantwatch.drone.site import load_site
    from plantwatch.errors import InputError

    reference = today or today_jst()
    operation = load_operation(ops, reference)
    load_route(plan_dir)  # a clear error for a bad PLAN_DIR before anything else
    site_path = plan_dir / "site.geojson"
    if not site_path.is_file():
        raise InputError(f"{str(site_path)!r} is missing", field="PLAN_DIR")
    site = load_site(site_path)
    folder, note = resolve_airspace(airspace_dir, operation, plan_dir, site)
    airspace = load_airspace(folder, site, source=note) if folder is not None else None
    return check_plan(plan_dir, operation, airspace, reference, site=site), note


def _print_findings(result: CheckResult, note: str, lang: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False, width=160)
    ops = result.context.operation
    console.print(
        f"{result.context.site.name}: flight {ops.date.isoformat()} "
        f"{ops.start_time:%H:%M}-{ops.end_time:%H:%M} JST, {len(result.context.route)} waypoints"
    )
    console.print(note, style="dim")
    table = Table("status", "rule", "message", "deadline", "citation", show_lines=False)
    ordered = sorted(result.findings, key=lambda f: _STATUS_ORDER[f.status])
    for finding in ordered:
        message = finding.message[lang]
        if finding.status == "confirm" and finding.question:
            message += f"\n? {finding.question[lang]}"
        table.add_row(
            f"[{_STATUS_STYLE[finding.status]}]{finding.status}[/]",
            finding.id,
            message,
            finding.deadline or "",
            finding.citation,
        )
    console.print(table)
    counts = {s: sum(f.status == s for f in result.findings) for s in _STATUS_ORDER}
    verdict = (
        "the flight may proceed once the confirm items are answered"
        if result.exit_status == 0
        else "the flight may NOT proceed as planned"
    )
    console.print(
        f"{counts['prohibited']} prohibited, {counts['permit_required']} permission(s) required, "
        f"{counts['confirm']} to confirm, {counts['ok']} ok: {verdict}"
    )


def _risk_json(register: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(register)


def register(drone_app: typer.Typer) -> None:
    """Add ``check`` and ``risk`` to the ``plantwatch drone`` sub-app."""
    from plantwatch.cli import handle_errors

    @drone_app.command("check")
    @handle_errors
    def drone_check(
        plan_dir: Annotated[
            Path, typer.Argument(metavar="PLAN_DIR", help="Output folder of `drone plan`.")
        ],
        ops: Annotated[Path, typer.Option("--ops", help="Operation file (ops.yaml).")],
        airspace: Annotated[
            Path | None,
            typer.Option(
                "--airspace",
                help="Folder of airspace layers (did.geojson, airport_surfaces.geojson, "
                "small_uav_act.geojson, port.geojson, emergency.geojson). Default: the ops "
                "file's 'airspace', PLAN_DIR/airspace/, or the packaged sample for the site.",
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print findings as JSON.")] = False,
        today: Annotated[
            str | None,
            typer.Option("--today", help="Reference date YYYY-MM-DD (default: today, JST)."),
        ] = None,
        lang: Annotated[str, typer.Option("--lang", help="Table language: en or ja.")] = "en",
    ) -> None:
        """Check a planned flight against the law and the plant's rules. Exit 0: may proceed
        (confirm items listed); 1: a permission is required or something is prohibited;
        2: bad input."""
        from plantwatch.drone.compliance import findings_to_json

        _check_lang(lang)
        result, note = _run_check(plan_dir, ops, airspace, _parse_today(today))
        if as_json:
            typer.echo(note, err=True)
            typer.echo(findings_to_json(result.findings))
        else:
            _print_findings(result, note, lang)
        raise typer.Exit(code=result.exit_status)

    @drone_app.command("risk")
    @handle_errors
    def drone_risk(
        plan_dir: Annotated[
            Path, typer.Argument(metavar="PLAN_DIR", help="Output folder of `drone plan`.")
        ],
        ops: Annotated[Path, typer.Option("--ops", help="Operation file (ops.yaml).")],
        airspace: Annotated[
            Path | None, typer.Option("--airspace", help="Folder of airspace layers.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
        today: Annotated[
            str | None,
            typer.Option("--today", help="Reference date YYYY-MM-DD (default: today, JST)."),
        ] = None,
        lang: Annotated[str, typer.Option("--lang", help="Language: en or ja.")] = "en",
    ) -> None:
        """Risk assessment (MHLW-2022 Table 3.2) for a planned flight: the items that apply,
        likelihood x severity before and after mitigation, and the fall range of the route."""
        from plantwatch.drone.risk import risk_register

        _check_lang(lang)
        result, _ = _run_check(plan_dir, ops, airspace, _parse_today(today))
        ctx = result.context
        holds = {name: fact.holds for name, fact in result.facts.items()}
        reg = risk_register(ctx.operation, holds, ctx.route, ctx.site)
        if as_json:
            typer.echo(json.dumps(_risk_json(reg), ensure_ascii=False, indent=1))
            return
        _print_risk(reg, lang)


def _print_risk(reg: Any, lang: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False, width=160)
    console.print(f"risk matrix: {reg.matrix}", style="dim")
    table = Table("id", "hazard", "L x S", "level", "residual", "why")
    for item in reg.items:
        table.add_row(
            item.id,
            item.hazard[lang],
            f"{item.likelihood} x {item.severity}",
            item.level,
            f"{item.residual_likelihood} x {item.residual_severity} {item.residual_level}",
            item.reason[lang],
        )
    console.print(table)
    for note in reg.notes:
        console.print(f"note: {note[lang]}")
    fall = reg.fall_range
    console.print(
        f"fall range (ballistic, wind {fall.wind_m_s:g} m/s): up to {fall.max_range_m:.1f} m from "
        f"{fall.max_height_m:.1f} m; by height: "
        + ", ".join(f"<= {b['height_m']:g} m: {b['range_m']:.1f} m" for b in fall.by_height)
    )
    for reach in fall.reaches:
        console.print(f"  reaches {reach['kind']} {reach['id']!r}: {reach['area_m2']:.0f} m2")
