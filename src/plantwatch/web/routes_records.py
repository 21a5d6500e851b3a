"""Checklist runs (MHLW-2022 Tables 3.3, 4.1-4.9), the flight log (Form 2), maintenance every
20 flight hours, pilots and aircraft. The rules live in the library
(:mod:`plantwatch.drone.documents` checklists, :mod:`plantwatch.drone.records`); writes go
through ``store.service`` and its ``SqlRecords`` repository."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from plantwatch.errors import InputError
from plantwatch.web.auth import SessionUser, permission, require
from plantwatch.web.context import WebContext, redirect, web
from plantwatch.web.queries import checklist_runs, get_or_404, plans_of, row_dict

router = APIRouter()

ANY = require()
CHECKLIST = permission("checklist.run")
RECORDS = permission("records.write")
_STATUSES = ("ok", "ng", "na")


# ---------------------------------------------------------------------------- checklists


@functools.lru_cache(maxsize=32)
def checklist_data(table: str) -> dict[str, Any]:
    """A checklist of the packaged regulatory data (read once: it does not change while the
    server runs)."""
    from plantwatch.drone.documents import load_checklist_data

    return load_checklist_data(table)


@functools.lru_cache(maxsize=1)
def checklist_tables() -> tuple[tuple[str, dict[str, str]], ...]:
    """(table, title) of every checklist."""
    from plantwatch.drone.documents import available_tables

    return tuple((t, dict(checklist_data(t).get("title") or {})) for t in available_tables())


def _checklist_view(run: Any) -> dict[str, Any]:
    """A run with its checklist's items (text, stops_flight) and the answers merged in."""
    data = checklist_data(run.table)
    answers = {str(a.get("id")): a for a in run.items_json or []}
    items = []
    for item in data.get("items") or []:
        answer = answers.get(str(item["id"]), {})
        items.append(
            {
                "id": item["id"],
                "text": item.get("text") or {},
                "stops_flight": bool(item.get("stops_flight")),
                "citation": item.get("citation", ""),
                "check": item.get("check", ""),
                "status": answer.get("status"),
                "note": answer.get("note", ""),
                "by": answer.get("by", ""),
            }
        )
    out = row_dict(run)
    out.update(title=data.get("title") or {}, citation=data.get("citation", ""), items=items)
    out["open_stop_items"] = [
        i["id"] for i in items if i["stops_flight"] and i["status"] not in ("ok", "na")
    ]
    return out


def start_checklist(
    ctx: WebContext, user: SessionUser, table: str, plan_id: int | None, lang: str
) -> int:
    from plantwatch.drone.documents import check_lang
    from plantwatch.store import service

    tables = [t for t, _ in checklist_tables()]
    if table not in tables:
        raise InputError(f"unknown table {table!r}; valid: {', '.join(tables)}", field="table")
    check_lang(lang)
    with ctx.store.session() as s:
        run = service.start_checklist(s, table, plan_id, lang, user.username)
        return int(run.id)


def answer_items(
    ctx: WebContext, user: SessionUser, run_id: int, answers: list[tuple[str, str, str]]
) -> None:
    """Record answers ``(item_id, status, note)``; all in one transaction."""
    from plantwatch.store import service

    with ctx.store.session() as s:
        for item_id, status, note in answers:
            if status not in _STATUSES:
                raise InputError(
                    f"must be one of {', '.join(_STATUSES)}, got {status!r}", field=item_id
                )
            service.set_checklist_item(s, run_id, item_id, status, note, user.username)


def complete_checklist(ctx: WebContext, user: SessionUser, run_id: int) -> dict[str, Any]:
    from plantwatch.store import service
    from plantwatch.store.models import ChecklistRun

    with ctx.store.session() as s:
        service.complete_checklist(s, run_id, user.username)
    with ctx.store.session() as s:
        return _checklist_view(get_or_404(s, ChecklistRun, run_id))


@router.get("/checklists")
def checklists_page(
    request: Request,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    tables = checklist_tables()

    def compute() -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
        with ctx.store.session() as s:
            runs = [row_dict(r) for r in checklist_runs(s)]
            return runs, [(p.id, f"{p.name} v{p.version} ({p.status})") for p in plans_of(s)]

    runs, plans = ctx.cached(("checklists",), compute)
    return ctx.page(
        request,
        "checklists.html",
        runs=runs,
        tables=tables,
        plans=plans,
        section="checklists",
        title="Checklists",
    )


@router.post("/checklists")
def checklist_start_page(
    request: Request,
    user: Annotated[SessionUser, Depends(CHECKLIST)],
    ctx: Annotated[WebContext, Depends(web)],
    table: Annotated[str, Form()],
    plan_id: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "ja",
) -> Response:
    run_id = start_checklist(ctx, user, table, int(plan_id) if plan_id else None, lang)
    return redirect(f"/checklists/{run_id}")


@router.get("/checklists/{run_id}")
def checklist_page(
    request: Request,
    run_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    from plantwatch.store.models import ChecklistRun

    def compute() -> dict[str, Any]:
        with ctx.store.session() as s:
            return _checklist_view(get_or_404(s, ChecklistRun, run_id))

    run: dict[str, Any] = ctx.cached(("checklist", run_id), compute)
    return ctx.page(
        request,
        "checklist.html",
        run=run,
        lang=run["lang"],
        section="checklists",
        title=f"Checklist {run['table']}",
    )


@router.post("/checklists/{run_id}")
async def checklist_answer_page(
    request: Request,
    run_id: int,
    user: Annotated[SessionUser, Depends(CHECKLIST)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    """The whole form at once: ``status-<item>`` radio and ``note-<item>`` text per item;
    ``complete=1`` also completes the run."""
    from fastapi.concurrency import run_in_threadpool

    form = await request.form()
    answers = []
    for key, value in form.multi_items():
        if key.startswith("status-") and isinstance(value, str) and value:
            item_id = key.removeprefix("status-")
            note = form.get(f"note-{item_id}")
            answers.append((item_id, value, note if isinstance(note, str) else ""))
    await run_in_threadpool(answer_items, ctx, user, run_id, answers)
    if form.get("complete"):
        run = await run_in_threadpool(complete_checklist, ctx, user, run_id)
        verdict = (
            "GO: the flight may go ahead"
            if run["result"] == "go"
            else ("STOP: a stop-flight item is NG or open")
        )
        return redirect(f"/checklists/{run_id}", request, f"checklist completed — {verdict}")
    return redirect(f"/checklists/{run_id}", request, f"{len(answers)} answers saved")


class StartBody(BaseModel):
    table: str
    plan_id: int | None = None
    lang: str = "ja"


class ItemBody(BaseModel):
    item_id: str
    status: str
    note: str = Field("", max_length=2000)


@router.get("/api/checklists")
def api_checklists(
    user: Annotated[SessionUser, Depends(ANY)], ctx: Annotated[WebContext, Depends(web)]
) -> list[dict[str, Any]]:
    with ctx.store.session() as s:
        return [row_dict(r) for r in checklist_runs(s)]


@router.post("/api/checklists")
def api_checklist_start(
    body: StartBody,
    user: Annotated[SessionUser, Depends(CHECKLIST)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return {"id": start_checklist(ctx, user, body.table, body.plan_id, body.lang)}


@router.get("/api/checklists/{run_id}")
def api_checklist(
    run_id: int,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    from plantwatch.store.models import ChecklistRun

    with ctx.store.session() as s:
        return _checklist_view(get_or_404(s, ChecklistRun, run_id))


@router.post("/api/checklists/{run_id}/items")
def api_checklist_item(
    run_id: int,
    body: ItemBody,
    user: Annotated[SessionUser, Depends(CHECKLIST)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    answer_items(ctx, user, run_id, [(body.item_id, body.status, body.note)])
    return {"ok": True}


@router.post("/api/checklists/{run_id}/complete")
def api_checklist_complete(
    run_id: int,
    user: Annotated[SessionUser, Depends(CHECKLIST)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return complete_checklist(ctx, user, run_id)


# ---------------------------------------------------------------------------- flights


def _records(s: Any, user: SessionUser | None = None) -> Any:
    from plantwatch.store.service import SqlRecords

    return SqlRecords(s, by=user.username if user else "")


def fleet_status(ctx: WebContext) -> dict[str, Any]:
    """Aircraft with their 20-hour maintenance state, pilots with their hours, and which pairs
    may not fly (``records.flight_blocked``); cached until a write."""
    result: dict[str, Any] = ctx.cached(("fleet",), lambda: _fleet_status(ctx))
    return result


def flight_list(ctx: WebContext) -> list[dict[str, Any]]:
    """The flight log, oldest first (cached until a write)."""

    def compute() -> list[dict[str, Any]]:
        with ctx.store.session() as s:
            return [f.model_dump(mode="json") for f in _records(s).flights()]

    result: list[dict[str, Any]] = ctx.cached(("flights",), compute)
    return result


def _fleet_status(ctx: WebContext) -> dict[str, Any]:
    from plantwatch.drone.records import (
        MAINTENANCE_CITATION,
        flight_blocked,
        maintenance_status,
        missing_skills,
        pilot_may_inspect,
    )

    with ctx.store.session() as s:
        repo = _records(s)
        aircraft = repo.aircraft()
        pilots = repo.pilots()
    rows = []
    for a in aircraft:
        status = maintenance_status(a)
        rows.append(
            {
                "id": a.id,
                "model": a.model,
                "registration": a.registration,
                "flight_hours": round(a.flight_hours, 3),
                **status,
                "blocked": bool(status["state"] == "overdue"),
            }
        )
    pilot_rows = [
        {
            "id": p.id,
            "name": p.name,
            "flight_hours": round(p.flight_hours, 3),
            "may_inspect": pilot_may_inspect(p),
            "missing_skills": missing_skills(p),
        }
        for p in pilots
    ]
    blocked = {
        f"{p.id}/{a.id}": reasons
        for p in pilots
        for a in aircraft
        if (reasons := flight_blocked(a, p))
    }
    return {
        "aircraft": rows,
        "pilots": pilot_rows,
        "blocked": blocked,
        "citation": MAINTENANCE_CITATION,
    }


class FlightBody(BaseModel):
    date: dt.date
    pilot_id: str
    aircraft_id: str
    takeoff_time: dt.time
    landing_time: dt.time
    place: str = ""
    purpose: str = ""
    anomalies: str = ""
    notes: str = ""
    batteries: list[str] = Field(default_factory=list)


def add_flight(ctx: WebContext, user: SessionUser, body: FlightBody) -> dict[str, Any]:
    """Log a flight (Form 2). Refused when the pair may not fly (maintenance overdue or pilot
    below 10 h): the log is for flights that were allowed to happen."""
    from plantwatch.drone.records import FlightLogEntry, flight_blocked

    entry = FlightLogEntry.from_dict(body.model_dump(mode="json"))
    with ctx.store.session() as s:
        repo = _records(s, user)
        reasons = flight_blocked(
            repo.get_aircraft(entry.aircraft_id), repo.get_pilot(entry.pilot_id)
        )
        if reasons:
            raise InputError("flight blocked: " + "; ".join(reasons), field="aircraft_id")
        saved = repo.add_flight(entry)
        return saved.model_dump(mode="json")


@router.get("/flights")
def flights_page(
    request: Request,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    fleet = fleet_status(ctx)
    return ctx.page(
        request,
        "flights.html",
        flights=list(reversed(flight_list(ctx))),
        fleet=fleet,
        today=dt.date.today().isoformat(),
        section="flights",
        title="Flight log",
    )


@router.post("/flights")
def flight_add_page(
    request: Request,
    user: Annotated[SessionUser, Depends(RECORDS)],
    ctx: Annotated[WebContext, Depends(web)],
    date: Annotated[dt.date, Form()],
    pilot_id: Annotated[str, Form()],
    aircraft_id: Annotated[str, Form()],
    takeoff_time: Annotated[dt.time, Form()],
    landing_time: Annotated[dt.time, Form()],
    place: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    anomalies: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    batteries: Annotated[str, Form()] = "",
) -> Response:
    body = FlightBody(
        date=date,
        pilot_id=pilot_id,
        aircraft_id=aircraft_id,
        takeoff_time=takeoff_time,
        landing_time=landing_time,
        place=place,
        purpose=purpose,
        anomalies=anomalies,
        notes=notes,
        batteries=[b.strip() for b in batteries.split(",") if b.strip()],
    )
    saved = add_flight(ctx, user, body)
    return redirect("/flights", request, f"flight {saved.get('id')} logged")


@router.get("/api/flights")
def api_flights(
    user: Annotated[SessionUser, Depends(ANY)], ctx: Annotated[WebContext, Depends(web)]
) -> list[dict[str, Any]]:
    return flight_list(ctx)


@router.post("/api/flights")
def api_flight_add(
    body: FlightBody,
    user: Annotated[SessionUser, Depends(RECORDS)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return add_flight(ctx, user, body)


# ---------------------------------------------------------------------------- maintenance


class MaintenanceBody(BaseModel):
    aircraft_id: str
    date: dt.date
    inspector: str = ""
    items_checked: list[str] = Field(default_factory=list)
    parts_replaced: str = ""
    notes: str = ""


def add_maintenance(ctx: WebContext, user: SessionUser, body: MaintenanceBody) -> dict[str, Any]:
    from plantwatch.drone.records import MaintenanceRecord

    record = MaintenanceRecord.from_dict(body.model_dump(mode="json"))
    with ctx.store.session() as s:
        return _records(s, user).add_maintenance(record).model_dump(mode="json")


@router.get("/maintenance")
def maintenance_page(
    request: Request,
    user: Annotated[SessionUser, Depends(ANY)],
    ctx: Annotated[WebContext, Depends(web)],
) -> Response:
    fleet = fleet_status(ctx)

    def compute() -> list[dict[str, Any]]:
        with ctx.store.session() as s:
            return [r.model_dump(mode="json") for r in _records(s).maintenance_records()]

    records: list[dict[str, Any]] = ctx.cached(("maintenance",), compute)
    return ctx.page(
        request,
        "maintenance.html",
        fleet=fleet,
        records=list(reversed(records)),
        today=dt.date.today().isoformat(),
        section="maintenance",
        title="Maintenance",
    )


@router.post("/maintenance")
def maintenance_add_page(
    request: Request,
    user: Annotated[SessionUser, Depends(RECORDS)],
    ctx: Annotated[WebContext, Depends(web)],
    aircraft_id: Annotated[str, Form()],
    date: Annotated[dt.date, Form()],
    inspector: Annotated[str, Form()] = "",
    parts_replaced: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    saved = add_maintenance(
        ctx,
        user,
        MaintenanceBody(
            aircraft_id=aircraft_id,
            date=date,
            inspector=inspector or user.username,
            parts_replaced=parts_replaced,
            notes=notes,
        ),
    )
    return redirect("/maintenance", request, f"maintenance {saved.get('id')} recorded")


@router.get("/api/maintenance")
def api_maintenance(
    user: Annotated[SessionUser, Depends(ANY)], ctx: Annotated[WebContext, Depends(web)]
) -> dict[str, Any]:
    return fleet_status(ctx)


@router.post("/api/maintenance")
def api_maintenance_add(
    body: MaintenanceBody,
    user: Annotated[SessionUser, Depends(RECORDS)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    return add_maintenance(ctx, user, body)


# ---------------------------------------------------------------------------- pilots, aircraft


class PilotBody(BaseModel):
    id: str
    name: str
    flight_hours: float = 0.0


class AircraftBody(BaseModel):
    id: str
    model: str
    mass_kg: float
    registration: str | None = None
    flight_hours: float = 0.0
    last_maintenance_hours: float | None = None
    explosion_proof: bool = False


@router.post("/api/pilots")
def api_pilot_add(
    body: PilotBody,
    user: Annotated[SessionUser, Depends(RECORDS)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    from plantwatch.drone.records import Pilot

    with ctx.store.session() as s:
        return (
            _records(s, user).add_pilot(Pilot.from_dict(body.model_dump())).model_dump(mode="json")
        )


@router.post("/api/aircraft")
def api_aircraft_add(
    body: AircraftBody,
    user: Annotated[SessionUser, Depends(RECORDS)],
    ctx: Annotated[WebContext, Depends(web)],
) -> dict[str, Any]:
    from plantwatch.drone.records import Aircraft

    with ctx.store.session() as s:
        return (
            _records(s, user)
            .add_aircraft(Aircraft.from_dict(body.model_dump()))
            .model_dump(mode="json")
        )


@router.post("/pilots")
def pilot_add_page(
    request: Request,
    user: Annotated[SessionUser, Depends(RECORDS)],
    ctx: Annotated[WebContext, Depends(web)],
    id: Annotated[str, Form()],
    name: Annotated[str, Form()],
    flight_hours: Annotated[float, Form()] = 0.0,
) -> Response:
    api_pilot_add(PilotBody(id=id, name=name, flight_hours=flight_hours), user, ctx)
    return redirect("/maintenance", request, f"pilot {id} added")


@router.post("/aircraft")
def aircraft_add_page(
    request: Request,
    user: Annotated[SessionUser, Depends(RECORDS)],
    ctx: Annotated[WebContext, Depends(web)],
    id: Annotated[str, Form()],
    model: Annotated[str, Form()],
    mass_kg: Annotated[float, Form()],
    registration: Annotated[str, Form()] = "",
    flight_hours: Annotated[float, Form()] = 0.0,
) -> Response:
    api_aircraft_add(
        AircraftBody(
            id=id,
            model=model,
            mass_kg=mass_kg,
            registration=registration or None,
            flight_hours=flight_hours,
            last_maintenance_hours=flight_hours,
        ),
        user,
        ctx,
    )
    return redirect("/maintenance", request, f"aircraft {id} added")
