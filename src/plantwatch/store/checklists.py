"""Checklist runs (MHLW-2022 Tables 3.3, 4.1-4.9): start, answer items, complete.

:func:`plantwatch.drone.documents.evaluate_run` decides ``go``/``stop``; a completed run is
sealed (append-only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from plantwatch.errors import ImmutableError, InputError
from plantwatch.store import audit
from plantwatch.store.access import (
    Actor,
    actor_of,
    clean_text,
    get_row,
)
from plantwatch.store.db import write_lock
from plantwatch.store.models import (
    ITEM_STATUSES,
    ChecklistRun,
    Plan,
    utcnow,
)
from plantwatch.store.plans import require_latest

__all__ = ["complete_checklist", "set_checklist_item", "start_checklist"]


def _checklist(table: str) -> dict[str, Any]:
    from plantwatch.drone.documents import load_checklist_data

    if not isinstance(table, str):
        raise InputError(f"must be a table number such as 4.1, got {table!r}", field="table")
    return load_checklist_data(table.strip())


def start_checklist(
    s: Session, table: str, plan_id: int | None, lang: str, by: Actor
) -> ChecklistRun:
    """Start a run of a checklist table (``3.3``, ``4.1`` … ``4.9``), optionally for a plan.

    A run for a plan needs the plan's newest version, approved (fly only approved plans).
    """
    from plantwatch.drone.documents import check_lang

    actor, _ = actor_of(s, by, "checklist.run")
    data = _checklist(table)
    language = check_lang(lang)
    write_lock(s)
    if plan_id is not None:
        plan = get_row(s, Plan, plan_id, "plan")
        require_latest(s, plan)
        if plan.status != "approved":
            raise InputError(
                f"plan {plan.id} is {plan.status}; checklists run for approved plans",
                field="plan_id",
            )
    run = ChecklistRun(
        plan_id=plan_id,
        table=str(data["table"]),
        lang=language,
        started_by=actor,
        items_json=[],
    )
    s.add(run)
    s.flush()
    audit.record(
        s,
        actor,
        "checklist.start",
        "checklist_run",
        run.id,
        {"table": run.table, "plan_id": plan_id},
    )
    return run


def _open_run(s: Session, run_id: int) -> ChecklistRun:
    run = get_row(s, ChecklistRun, run_id, "checklist_run")
    if run.completed_at is not None:
        raise ImmutableError(
            f"checklist run {run.id} was completed at {run.completed_at.isoformat()}; "
            "start a new run"
        )
    return run


def _answer(
    data: Mapping[str, Any], item_id: str, status: str, note: str, who: str
) -> dict[str, Any]:
    known = [str(item["id"]) for item in data.get("items") or []]
    if item_id not in known:
        raise InputError(
            f"table {data.get('table')} has no item {item_id!r}; items: {', '.join(known)}",
            field="item_id",
        )
    if status not in ITEM_STATUSES:
        raise InputError(
            f"unknown status {status!r}; valid: {', '.join(ITEM_STATUSES)}", field="status"
        )
    return {
        "id": item_id,
        "status": status,
        "note": clean_text(note, "note", max_len=2000),
        "by": who,
        "at": utcnow().isoformat(timespec="seconds"),
    }


def set_checklist_item(
    s: Session, run_id: int, item_id: str, status: str, note: str = "", by: Actor = None
) -> ChecklistRun:
    """Answer one item (``ok`` / ``ng`` / ``na``) of an open run; a later answer replaces it."""
    actor, _ = actor_of(s, by, "checklist.run")
    write_lock(s)
    run = _open_run(s, run_id)
    answer = _answer(_checklist(run.table), item_id, status, note, actor)
    run.items_json = [a for a in run.items_json if a.get("id") != item_id] + [answer]
    s.flush()
    audit.record(
        s,
        actor,
        "checklist.item",
        "checklist_run",
        run.id,
        {"item": item_id, "status": status, "note": answer["note"]},
    )
    return run


def complete_checklist(
    s: Session,
    run_id: int,
    by: Actor,
    answers: Sequence[Mapping[str, str]] | None = None,
) -> ChecklistRun:
    """Complete a run: the result is ``stop`` when an item that stops the flight is ``ng`` or
    unanswered (:func:`plantwatch.drone.documents.evaluate_run`), else ``go``. Sealed after.

    Parameters
    ----------
    answers
        Answers to record first (``{"id", "status", "note"}`` each), e.g. a whole form.
    """
    from plantwatch.drone.documents import ChecklistRun as RunRecord
    from plantwatch.drone.documents import ItemResult, evaluate_run

    actor, _ = actor_of(s, by, "checklist.run")
    write_lock(s)
    run = _open_run(s, run_id)
    data = _checklist(run.table)
    items = {a["id"]: a for a in run.items_json}
    for index, raw in enumerate(answers or ()):
        if not isinstance(raw, Mapping):
            raise InputError("must be a mapping with id and status", field=f"answers.{index}")
        answer = _answer(
            data, str(raw.get("id", "")), str(raw.get("status", "")), raw.get("note", ""), actor
        )
        items[answer["id"]] = answer
    now = utcnow()
    record = RunRecord(
        table=run.table,
        who=actor,
        when=now,
        results=tuple(
            ItemResult(item_id=a["id"], status=a["status"], note=a.get("note", ""))
            for a in items.values()
        ),
    )
    can_fly, failed = evaluate_run(record, data)
    run.items_json = list(items.values())
    run.completed_at = now
    run.completed_by = actor
    run.result = "go" if can_fly else "stop"
    audit.record(
        s,
        actor,
        "checklist.complete",
        "checklist_run",
        run.id,
        {"table": run.table, "result": run.result, "failed_stop_items": list(failed)},
        seal=[run],
    )
    return run
