"""``plantwatch drone log|maintenance|pilot|aircraft|incident``: the records commands.

Thin: parse, call :mod:`plantwatch.drone.records`, format. Library errors become one line and
exit status 2 (:func:`plantwatch.cli.handle_errors`); nothing is written then.
``maintenance status`` exits 1 when any aircraft is overdue for its 20-hour maintenance.
``cli.py`` wires these in with :func:`register`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from plantwatch.errors import InputError

if TYPE_CHECKING:
    from plantwatch.drone.records import FileRegistry, FlightTimes

__all__ = ["register"]

log_app = typer.Typer(help="Flight log (Form 2): add, list, totals.", no_args_is_help=True)
maintenance_app = typer.Typer(
    help="Aircraft maintenance every 20 flight hours: status, record.", no_args_is_help=True
)
pilot_app = typer.Typer(help="Pilots and their flight hours.", no_args_is_help=True)
aircraft_app = typer.Typer(help="Aircraft, hours and batteries.", no_args_is_help=True)
incident_app = typer.Typer(help="Incident and near-miss reports.", no_args_is_help=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="PLANTWATCH_RECORDS_DIR",
        help="Records folder (default ./plantwatch-data/records).",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(drone_app: typer.Typer) -> None:
    """Add the ``log``, ``maintenance``, ``pilot``, ``aircraft`` and ``incident`` sub-commands.

    Parameters
    ----------
    drone_app
        The ``plantwatch drone`` typer app.
    """
    drone_app.add_typer(log_app, name="log")
    drone_app.add_typer(maintenance_app, name="maintenance")
    drone_app.add_typer(pilot_app, name="pilot")
    drone_app.add_typer(aircraft_app, name="aircraft")
    drone_app.add_typer(incident_app, name="incident")


# ---- helpers

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """:func:`plantwatch.cli.handle_errors`, looked up when the command runs, so that
    ``plantwatch.cli`` may import this module at any point of its own import."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from plantwatch.cli import handle_errors as cli_handle_errors

        return cli_handle_errors(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _registry(data_dir: Path | None) -> FileRegistry:
    from plantwatch.drone.records import DEFAULT_DATA_DIR, FileRegistry

    return FileRegistry(DEFAULT_DATA_DIR if data_dir is None else data_dir)


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", field=option) from None


def _time(text: str, option: str) -> dt.time:
    try:
        value = dt.time.fromisoformat(text.strip())
    except ValueError:
        value = None
    if value is None or value.tzinfo is not None or len(text.strip()) not in (5, 8):
        raise InputError(f"{text!r} is not a local time (HH:MM or HH:MM:SS)", field=option)
    return value


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=1))


def _print_table(columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


# ---- log


@log_app.command("add")
@handle_errors
def log_add(
    pilot: Annotated[str, typer.Option("--pilot", help="Pilot id.")],
    aircraft: Annotated[str, typer.Option("--aircraft", help="Aircraft id.")],
    date: Annotated[
        str | None, typer.Option("--date", help="Flight date YYYY-MM-DD (JST).")
    ] = None,
    takeoff: Annotated[str | None, typer.Option("--takeoff", help="Take-off HH:MM (JST).")] = None,
    landing: Annotated[str | None, typer.Option("--landing", help="Landing HH:MM (JST).")] = None,
    place: Annotated[str, typer.Option("--place", help="Take-off/landing place.")] = "",
    purpose: Annotated[str, typer.Option("--purpose", help="Purpose and route.")] = "",
    anomalies: Annotated[
        str, typer.Option("--anomalies", help="Matters affecting flight safety.")
    ] = "",
    notes: Annotated[str, typer.Option("--notes", help="Other remarks.")] = "",
    route: Annotated[str, typer.Option("--route", help="Route flown.")] = "",
    takeoff_place: Annotated[str, typer.Option("--takeoff-place", help="Take-off place.")] = "",
    landing_place: Annotated[str, typer.Option("--landing-place", help="Landing place.")] = "",
    defects: Annotated[str, typer.Option("--defects", help="Defects found.")] = "",
    defect_action: Annotated[
        str, typer.Option("--defect-action", help="Action taken on defects.")
    ] = "",
    battery: Annotated[
        list[str] | None, typer.Option("--battery", help="Battery id used; repeatable.")
    ] = None,
    from_ulog: Annotated[
        Path | None, typer.Option("--from-ulog", help="PX4 ULog giving the times.")
    ] = None,
    from_csv: Annotated[
        Path | None, typer.Option("--from-csv", help="CSV log (time, armed|altitude).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Record a flight (Form 2).

    Times come from --takeoff/--landing or from a log: a log with absolute time (GPS time, ISO
    times) gives date and times; a log without gives the landing from --date and --takeoff."""
    from plantwatch.drone.records import (
        FlightLogEntry,
        flight_blocked,
        import_csv,
        import_ulog,
        maintenance_status,
    )

    if from_ulog is not None and from_csv is not None:
        raise InputError("give one log, not --from-ulog and --from-csv", field="--from-csv")
    times = None
    if from_ulog is not None:
        times = import_ulog(from_ulog)
    elif from_csv is not None:
        times = import_csv(from_csv)
    fields: dict[str, Any] = (
        _manual_times(date, takeoff, landing)
        if times is None
        else _log_times(times, date, takeoff, landing)
    )
    registry = _registry(data_dir)
    entry = registry.add_flight(
        FlightLogEntry(
            pilot_id=pilot,
            aircraft_id=aircraft,
            place=place,
            purpose=purpose,
            anomalies=anomalies,
            notes=notes,
            route=route,
            takeoff_place=takeoff_place,
            landing_place=landing_place,
            defects=defects,
            defect_action=defect_action,
            batteries=tuple(battery or ()),
            **fields,
        )
    )
    pilot_now, aircraft_now = registry.get_pilot(pilot), registry.get_aircraft(aircraft)
    status = maintenance_status(aircraft_now)
    typer.echo(
        f"{entry.id}: {entry.date} {entry.takeoff_time}-{entry.landing_time} "
        f"({(entry.duration_s or 0.0) / 60.0:.1f} min) pilot {pilot} now "
        f"{pilot_now.flight_hours:.2f} h, aircraft {aircraft} now "
        f"{aircraft_now.flight_hours:.2f} h, maintenance {status['state']} "
        f"({status['hours_left']:.2f} h left)"
    )
    for reason in flight_blocked(aircraft_now, pilot_now):
        _warn(f"before the next inspection flight: {reason}")


def _manual_times(date: str | None, takeoff: str | None, landing: str | None) -> dict[str, Any]:
    for value, option in ((date, "--date"), (takeoff, "--takeoff"), (landing, "--landing")):
        if value is None:
            raise InputError("is required without --from-ulog/--from-csv", field=option)
    assert date is not None and takeoff is not None and landing is not None
    return {
        "date": _date(date, "--date"),
        "takeoff_time": _time(takeoff, "--takeoff"),
        "landing_time": _time(landing, "--landing"),
    }


def _log_times(
    times: FlightTimes, date: str | None, takeoff: str | None, landing: str | None
) -> dict[str, Any]:
    start, end = times.takeoff_at, times.landing_at
    if start is not None and end is not None:
        for value, option in ((takeoff, "--takeoff"), (landing, "--landing")):
            if value is not None:
                raise InputError(
                    f"the log {Path(times.source).name} gives take-off and landing; leave "
                    f"{option} out",
                    field=option,
                )
        if date is not None and _date(date, "--date") != start.date():
            raise InputError(f"{date} is not the log's flight date {start.date()}", field="--date")
    else:
        if date is None or takeoff is None:
            raise InputError(
                f"the log {Path(times.source).name} has no absolute time; give --date and "
                "--takeoff",
                field="--takeoff" if date is not None else "--date",
            )
        if landing is not None:
            raise InputError(
                "comes from the log (take-off + logged flight time); leave it out",
                field="--landing",
            )
        start = dt.datetime.combine(_date(date, "--date"), _time(takeoff, "--takeoff"))
        end = start + dt.timedelta(seconds=times.landing_s - times.takeoff_s)
    start = start.replace(microsecond=0)
    if end.microsecond:
        end = end.replace(microsecond=0) + dt.timedelta(seconds=1)
    if end.date() != start.date():
        raise InputError(
            f"the flight crosses midnight ({start} to {end}); record it as two flights",
            field="landing_time",
        )
    return {
        "date": start.date(),
        "takeoff_time": start.time().replace(tzinfo=None),
        "landing_time": end.time().replace(tzinfo=None),
        "duration_s": round(times.duration_s, 3),
        "source_file": times.source,
    }


@log_app.command("list")
@handle_errors
def log_list(
    pilot: Annotated[str | None, typer.Option("--pilot", help="Only this pilot.")] = None,
    aircraft: Annotated[str | None, typer.Option("--aircraft", help="Only this aircraft.")] = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
) -> None:
    """List the flight log in the order recorded."""
    registry = _registry(data_dir)
    flights = registry.flights(pilot_id=pilot, aircraft_id=aircraft)
    if as_json:
        total_h = registry.aircraft_hours_after()
        _print_json(
            [
                {
                    **f.model_dump(mode="json"),
                    "total_flight_time_h": (round(total_h[f.id], 4) if f.id in total_h else None),
                }
                for f in flights
            ]
        )
        return
    _print_table(
        [
            "id",
            "date",
            "pilot",
            "aircraft",
            "registration",
            "take-off",
            "landing",
            "min",
            "place",
            "purpose",
            "anomalies",
        ],
        [
            [
                f.id or "",
                f.date.isoformat(),
                f.pilot_id,
                f.aircraft_id,
                f.registration or "",
                f.takeoff_time.isoformat(),
                f.landing_time.isoformat(),
                f"{(f.duration_s or 0.0) / 60.0:.1f}",
                f.place,
                f.purpose,
                f.anomalies,
            ]
            for f in flights
        ],
    )


@log_app.command("totals")
@handle_errors
def log_totals(
    by: Annotated[str, typer.Option("--by", help="pilot or aircraft.")] = "pilot",
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
) -> None:
    """Flights, hours, last flight and incidents per pilot or aircraft."""
    if by not in ("pilot", "aircraft"):
        raise InputError(f"must be 'pilot' or 'aircraft', got {by!r}", field="--by")
    rows = _registry(data_dir).totals("pilot" if by == "pilot" else "aircraft")
    if as_json:
        _print_json([row.as_dict() for row in rows])
        return
    _print_table(
        [
            by,
            "name" if by == "pilot" else "model",
            "flights",
            "logged h",
            "total h",
            "last flight",
            "incidents",
        ],
        [
            [
                r.id,
                r.name,
                str(r.flights),
                f"{r.hours:.2f}",
                f"{r.total_hours:.2f}",
                r.last_flight.isoformat() if r.last_flight else "-",
                str(r.incidents),
            ]
            for r in rows
        ],
    )


# ---- maintenance


@maintenance_app.command("status")
@handle_errors
def maintenance_status_command(as_json: JsonFlag = False, data_dir: DataDir = None) -> None:
    """Hours since the last maintenance per aircraft; exit 1 if any is overdue.

    Maintenance is due every 20 flight hours (MHLW-2022 §2.5)."""
    overview = _registry(data_dir).maintenance_overview()
    if as_json:
        _print_json(
            [
                {"aircraft_id": a.id, "model": a.model, "flight_hours": a.flight_hours, **status}
                for a, status in overview
            ]
        )
    else:
        _print_table(
            [
                "aircraft",
                "model",
                "flight h",
                "since maintenance h",
                "left h",
                "state",
                "last maintenance",
            ],
            [
                [
                    a.id,
                    a.model,
                    f"{a.flight_hours:.2f}",
                    f"{status['hours_since']:.2f}",
                    f"{status['hours_left']:.2f}",
                    status["state"],
                    status["last_maintenance_date"] or "-",
                ]
                for a, status in overview
            ],
        )
    if any(status["state"] == "overdue" for _, status in overview):
        raise typer.Exit(code=1)


@maintenance_app.command("record")
@handle_errors
def maintenance_record(
    aircraft: Annotated[str, typer.Option("--aircraft", help="Aircraft id.")],
    date: Annotated[str, typer.Option("--date", help="Inspection date YYYY-MM-DD.")],
    notes: Annotated[str, typer.Option("--notes", help="Results and remarks.")] = "",
    inspector: Annotated[str, typer.Option("--inspector", help="Who inspected.")] = "",
    item: Annotated[
        list[str] | None,
        typer.Option("--item", help="Table 2.4 item inspected (aircraft.NN); repeatable."),
    ] = None,
    parts: Annotated[str, typer.Option("--parts", help="Parts replaced.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Record a 20-hour maintenance (Table 2.4); it restarts the aircraft's count."""
    from plantwatch.drone.records import MaintenanceRecord

    record = _registry(data_dir).add_maintenance(
        MaintenanceRecord(
            aircraft_id=aircraft,
            date=_date(date, "--date"),
            notes=notes,
            inspector=inspector,
            items_checked=tuple(item or ()),
            parts_replaced=parts,
        )
    )
    typer.echo(
        f"{record.id}: {aircraft} maintained on {record.date} at {record.aircraft_hours:.2f} h"
    )


# ---- pilots and aircraft


def _skill(text: str) -> dict[str, str]:
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise InputError(
            f"{text!r} is not ITEM:DATE:EVIDENCE (e.g. skill.basic.01:2024-04-01:course)",
            field="--skill",
        )
    return {"item_id": parts[0].strip(), "date": parts[1].strip(), "evidence": parts[2].strip()}


@pilot_app.command("add")
@handle_errors
def pilot_add(
    pilot_id: Annotated[str, typer.Option("--id", help="Pilot id.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    hours: Annotated[float, typer.Option("--hours", help="Flight hours so far [h].")] = 0.0,
    skill: Annotated[
        list[str] | None,
        typer.Option("--skill", help="ITEM:DATE:EVIDENCE (Table 2.1/2.2); repeatable."),
    ] = None,
    update: Annotated[bool, typer.Option("--update", help="Revise a registered pilot.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Register a pilot (or, with --update, append a revision: hours are the total now)."""
    from plantwatch.drone.records import Pilot, pilot_may_inspect

    pilot = Pilot.from_dict(
        {
            "id": pilot_id,
            "name": name,
            "flight_hours": hours,
            "skills": [_skill(s) for s in skill or ()],
        }
    )
    registry = _registry(data_dir)
    saved = registry.update_pilot(pilot) if update else registry.add_pilot(pilot)
    may = "may inspect" if pilot_may_inspect(saved) else "trainee (< 10 h, may not inspect)"
    typer.echo(f"pilot {saved.id}: {saved.flight_hours:.2f} h, {may}")


@pilot_app.command("list")
@handle_errors
def pilot_list(as_json: JsonFlag = False, data_dir: DataDir = None) -> None:
    """Pilots with current hours, whether they may inspect and skills without evidence."""
    from plantwatch.drone.records import missing_skills, pilot_may_inspect

    pilots = _registry(data_dir).pilots()
    if as_json:
        _print_json(
            [
                {
                    **p.model_dump(mode="json"),
                    "may_inspect": pilot_may_inspect(p),
                    "missing_skills": missing_skills(p),
                }
                for p in pilots
            ]
        )
        return
    _print_table(
        ["pilot", "name", "hours", "may inspect", "skills without evidence"],
        [
            [
                p.id,
                p.name,
                f"{p.flight_hours:.2f}",
                "yes" if pilot_may_inspect(p) else "no (< 10 h)",
                ", ".join(missing_skills(p)) or "-",
            ]
            for p in pilots
        ],
    )


def _battery(text: str) -> tuple[str, int]:
    name, _, cycles = text.partition("=")
    try:
        return name.strip(), int(cycles) if cycles.strip() else 0
    except ValueError:
        raise InputError(f"{text!r} is not ID or ID=CYCLES", field="--battery") from None


@aircraft_app.command("add")
@handle_errors
def aircraft_add(
    aircraft_id: Annotated[str, typer.Option("--id", help="Aircraft id.")],
    model: Annotated[str, typer.Option("--model", help="Make and model.")],
    mass_kg: Annotated[float, typer.Option("--mass-kg", help="Take-off mass [kg].")],
    registration: Annotated[
        str | None, typer.Option("--registration", help="Registration mark (JU...).")
    ] = None,
    remote_id: Annotated[str | None, typer.Option("--remote-id", help="Remote ID serial.")] = None,
    explosion_proof: Annotated[
        bool, typer.Option("--explosion-proof", help="Certified for Ex zones.")
    ] = False,
    hours: Annotated[float, typer.Option("--hours", help="Flight hours so far [h].")] = 0.0,
    battery: Annotated[
        list[str] | None, typer.Option("--battery", help="ID or ID=CYCLES; repeatable.")
    ] = None,
    last_maintenance_hours: Annotated[
        float | None,
        typer.Option("--last-maintenance-hours", help="Flight hours at the last maintenance."),
    ] = None,
    last_maintenance_date: Annotated[
        str | None, typer.Option("--last-maintenance-date", help="YYYY-MM-DD.")
    ] = None,
    update: Annotated[bool, typer.Option("--update", help="Revise a registered aircraft.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Register an aircraft (or, with --update, append a revision)."""
    from plantwatch.drone.records import Aircraft, maintenance_status

    aircraft = Aircraft.from_dict(
        {
            "id": aircraft_id,
            "model": model,
            "mass_kg": mass_kg,
            "registration": registration,
            "remote_id": remote_id,
            "explosion_proof": explosion_proof,
            "flight_hours": hours,
            "battery_cycles": dict(_battery(b) for b in battery or ()),
            "last_maintenance_hours": last_maintenance_hours,
            "last_maintenance_date": (
                None
                if last_maintenance_date is None
                else _date(last_maintenance_date, "--last-maintenance-date")
            ),
        }
    )
    registry = _registry(data_dir)
    saved = registry.update_aircraft(aircraft) if update else registry.add_aircraft(aircraft)
    status = maintenance_status(saved)
    typer.echo(
        f"aircraft {saved.id}: {saved.flight_hours:.2f} h, maintenance {status['state']} "
        f"({status['hours_left']:.2f} h left)"
    )


@aircraft_app.command("list")
@handle_errors
def aircraft_list(as_json: JsonFlag = False, data_dir: DataDir = None) -> None:
    """Aircraft with hours, maintenance state and battery cycles."""
    from plantwatch.drone.records import maintenance_status

    fleet = _registry(data_dir).aircraft()
    if as_json:
        _print_json(
            [{**a.model_dump(mode="json"), "maintenance": maintenance_status(a)} for a in fleet]
        )
        return
    _print_table(
        ["aircraft", "model", "registration", "Ex", "hours", "maintenance", "batteries (cycles)"],
        [
            [
                a.id,
                a.model,
                a.registration or "-",
                "yes" if a.explosion_proof else "no",
                f"{a.flight_hours:.2f}",
                maintenance_status(a)["state"],
                ", ".join(f"{b} ({n})" for b, n in sorted(a.battery_cycles.items())) or "-",
            ]
            for a in fleet
        ],
    )


# ---- incidents


@incident_app.command("add")
@handle_errors
def incident_add(
    kind: Annotated[str, typer.Option("--kind", help="incident or near-miss.")],
    date: Annotated[str, typer.Option("--date", help="YYYY-MM-DD.")],
    description: Annotated[str, typer.Option("--description", help="What happened.")],
    actions: Annotated[str, typer.Option("--actions", help="What was done / changes.")] = "",
    place: Annotated[str, typer.Option("--place", help="Where.")] = "",
    pilot: Annotated[str | None, typer.Option("--pilot", help="Pilot id.")] = None,
    aircraft: Annotated[str | None, typer.Option("--aircraft", help="Aircraft id.")] = None,
    flight: Annotated[str | None, typer.Option("--flight", help="Flight id (F00001).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Report an incident or near miss (shared within the plant, MHLW-2022 §4.4)."""
    from plantwatch.drone.records import IncidentReport

    kinds = {"incident": "incident", "near-miss": "near_miss", "near_miss": "near_miss"}
    if kind not in kinds:
        raise InputError(f"must be 'incident' or 'near-miss', got {kind!r}", field="--kind")
    report = _registry(data_dir).add_incident(
        IncidentReport(
            kind=kinds[kind],
            date=_date(date, "--date"),
            description=description,
            actions=actions,
            place=place,
            pilot_id=pilot,
            aircraft_id=aircraft,
            flight_id=flight,
        )
    )
    typer.echo(f"{report.id}: {report.kind} on {report.date} recorded")


@incident_app.command("list")
@handle_errors
def incident_list(as_json: JsonFlag = False, data_dir: DataDir = None) -> None:
    """Incident and near-miss reports in the order recorded."""
    reports = _registry(data_dir).incidents()
    if as_json:
        _print_json([r.model_dump(mode="json") for r in reports])
        return
    _print_table(
        ["id", "kind", "date", "pilot", "aircraft", "flight", "description", "actions"],
        [
            [
                r.id or "",
                r.kind,
                r.date.isoformat(),
                r.pilot_id or "-",
                r.aircraft_id or "-",
                r.flight_id or "-",
                r.description,
                r.actions,
            ]
            for r in reports
        ],
    )
