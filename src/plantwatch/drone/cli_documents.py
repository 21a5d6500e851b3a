"""``plantwatch drone document|checklist|approve``: flight-plan documents, checklists, approval.

Thin: parse, call :mod:`plantwatch.drone.documents` and :mod:`plantwatch.drone.approval`, format.
Library errors become one line on stderr and exit status 2
(:func:`plantwatch.cli.handle_errors`); nothing is written then. ``cli.py`` wires these in with
:func:`register`.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from plantwatch.errors import InputError

__all__ = ["register"]

F = TypeVar("F", bound=Callable[..., Any])
_APPROVE_ACTIONS = ("submit", "approve", "reject", "revise", "status")


def _parse_day(value: str | None, field: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"must be a date YYYY-MM-DD, got {value!r}", field=field) from None


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    found = getattr(mod, name, None)
    return found if callable(found) else None


def _load_operation(path: Path, today: dt.date | None) -> Any:
    from plantwatch.drone.operation import load_operation

    return load_operation(path, today=today)


def _airspace(
    plan_dir: Path, operation: Any, airspace_dir: Path | None, site: Any
) -> tuple[Any, str]:
    """The airspace layers ``drone check`` would use, and one line saying which."""
    resolve = _optional("plantwatch.drone.airspace", "resolve_airspace")
    load = _optional("plantwatch.drone.airspace", "load_airspace")
    if resolve is None or load is None:
        if airspace_dir is not None:
            raise InputError(
                "airspace layers cannot be loaded (no airspace module)", field="--airspace"
            )
        return None, ""
    folder, note = resolve(airspace_dir, operation, plan_dir, site)
    return (load(folder, site) if folder is not None else None), str(note)


def _assess(
    plan_dir: Path, operation: Any, airspace_dir: Path | None, today: dt.date | None
) -> tuple[list[Any] | None, Any, list[str]]:
    """Compliance findings and the risk register for the document, as far as the engines exist.

    Returns
    -------
    findings, risks, notes
        ``None`` for a part whose engine is not available; notes say what was used or left out.
    """
    check_plan = _optional("plantwatch.drone.compliance", "check_plan")
    if check_plan is None:
        return (
            None,
            None,
            [
                "compliance engine not available: the document says compliance and risks were not "
                "evaluated"
            ],
        )
    from plantwatch.drone.site import load_site

    site = load_site(plan_dir / "site.geojson")
    airspace, note = _airspace(plan_dir, operation, airspace_dir, site)
    notes = [note] if note else []
    result = check_plan(plan_dir, operation, airspace, today)
    facts = {name: getattr(fact, "holds", fact) for name, fact in result.facts.items()}
    register = _optional("plantwatch.drone.risk", "risk_register")
    select = _optional("plantwatch.drone.risk", "select_risks")
    risks: Any = None
    if register is not None:
        risks = register(operation, facts, result.context.route, result.context.site)
    elif select is not None:
        risks = select(operation, facts)
    else:
        notes.append("risk selection not available: the document says so")
    return list(result.findings), risks, notes


def _count_risks(risks: Any) -> str:
    if risks is None:
        return "no"
    items = getattr(risks, "items", risks)
    return str(len(items)) if isinstance(items, list | tuple) else "?"


def handle_errors(func: F) -> F:
    """:func:`plantwatch.cli.handle_errors`, looked up when the command runs, so that
    ``plantwatch.cli`` may import this module (and call :func:`register`) at any point of its
    own import."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from plantwatch.cli import handle_errors as cli_handle_errors

        return cli_handle_errors(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def register(drone_app: typer.Typer) -> None:
    """Add the ``document``, ``checklist`` and ``approve`` commands to ``plantwatch drone``.

    Parameters
    ----------
    drone_app
        The ``plantwatch drone`` typer app.
    """
    drone_app.command("document")(drone_document)
    drone_app.command("checklist")(drone_checklist)
    drone_app.command("approve")(drone_approve)


@handle_errors
def drone_document(
    plan_dir: Annotated[
        Path, typer.Argument(metavar="PLAN_DIR", help="Plan folder from `drone plan`.")
    ],
    ops: Annotated[Path, typer.Option("--ops", help="Operation file (YAML).")],
    lang: Annotated[str, typer.Option("--lang", help="Document language: ja or en.")] = "ja",
    pdf: Annotated[Path | None, typer.Option("--pdf", help="PDF file to write.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="HTML file to write.")] = None,
    airspace: Annotated[
        Path | None, typer.Option("--airspace", help="Folder of airspace GeoJSON layers.")
    ] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="Today's date YYYY-MM-DD (deadlines).")
    ] = None,
) -> None:
    """Write the flight plan (MHLW-2022 Table 3.1) with compliance findings and the Table 3.2
    risk assessment as PDF and/or HTML. Without --pdf/--html both go to
    PLAN_DIR/documents/."""
    from plantwatch.drone.approval import check_plan_dir
    from plantwatch.drone.documents import check_lang, write_flight_plan

    check_lang(lang)
    folder = check_plan_dir(plan_dir)
    day = _parse_day(today, "--today")
    operation = _load_operation(ops, day)
    findings, risks, notes = _assess(folder, operation, airspace, day)
    if pdf is None and html is None:
        pdf = folder / "documents" / f"flight_plan_{lang}.pdf"
        html = folder / "documents" / f"flight_plan_{lang}.html"
    written = write_flight_plan(
        folder, operation, findings, risks, lang, html_path=html, pdf_path=pdf, today=day
    )
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    counts: dict[str, int] = {}
    for finding in findings or []:
        status = str(getattr(finding, "status", None) or finding.get("status"))
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "not evaluated"
    typer.echo(
        f"flight plan ({lang}): findings {summary}; "
        f"{_count_risks(risks)} risk items -> " + ", ".join(str(p) for p in written)
    )


@handle_errors
def drone_checklist(
    table: Annotated[str, typer.Argument(metavar="TABLE", help="Table number, e.g. 4.1.")],
    lang: Annotated[str, typer.Option("--lang", help="Language: ja or en.")] = "ja",
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write a printable form (.html, or .pdf)."),
    ] = None,
) -> None:
    """Print a checklist (Table 3.3, 4.1-4.9): one line per item, [stops flight] marked."""
    from plantwatch.drone.documents import (
        check_lang,
        render_checklist_text,
        write_checklist_html,
    )

    check_lang(lang)
    text = render_checklist_text(table, lang)
    if html is not None:
        write_checklist_html(table, lang, html)
    typer.echo(text, nl=False)
    if html is not None:
        typer.echo(f"form -> {html}", err=True)


@handle_errors
def drone_approve(
    plan_dir: Annotated[
        Path, typer.Argument(metavar="PLAN_DIR", help="Plan folder from `drone plan`.")
    ],
    action: Annotated[
        str, typer.Option("--action", help="submit | approve | reject | revise | status.")
    ] = "status",
    by: Annotated[str | None, typer.Option("--by", help="Name of the person acting.")] = None,
    role: Annotated[
        str | None, typer.Option("--role", help="planner (submit, revise) or approver.")
    ] = None,
    comment: Annotated[str, typer.Option("--comment", help="Comment (reject: why).")] = "",
    lang: Annotated[str, typer.Option("--lang", help="Language of the status line.")] = "en",
) -> None:
    """Flight-plan approval: draft -> submitted -> approved | rejected, recorded in
    PLAN_DIR/approvals.jsonl; an approved plan changed afterwards needs a new version."""
    from plantwatch.drone.approval import approval_status, transition
    from plantwatch.drone.documents import check_lang

    check_lang(lang)
    if action not in _APPROVE_ACTIONS:
        raise InputError(
            f"unknown action {action!r}; valid: {', '.join(_APPROVE_ACTIONS)}",
            field="--action",
        )
    if action == "status":
        status = approval_status(plan_dir)
    else:
        if by is None:
            raise InputError(f"{action} needs the name of the person acting", field="--by")
        if role is None:
            raise InputError(f"{action} needs --role planner or approver", field="--role")
        status = transition(plan_dir, action, by=by, role=role, comment=comment)
    typer.echo(status.summary(lang))
