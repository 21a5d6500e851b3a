"""The audit log: every write of the store as one entry of a SHA-256 hash chain.

Each entry's ``hash`` is the SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of its
``id``, ``at`` (UTC, microseconds), ``username``, ``action``, ``entity``, ``entity_id``,
``payload`` and ``prev_hash`` — the ``hash`` of the entry before it (64 zeros for the first).
Ids are 1, 2, 3 … without gaps, assigned under the store's write lock. So :func:`verify` finds

* an edited entry (its content no longer matches its hash),
* a deleted entry (a gap in the ids, or a ``prev_hash`` that points nowhere),
* a replaced entry (the next entry's ``prev_hash`` does not match).

Rows that must not change after a moment (flight log entries, approvals, approved plans,
completed checklist runs …) are **sealed**: the entry recording that moment carries the
SHA-256 of the row's canonical content under ``payload["seals"]["<table>:<id>"]``.
:func:`verify_rows` recomputes them, so a row changed with raw SQL after its trigger was dropped,
or deleted, is named even though the chain itself is intact.

What it does not stop: someone with write access who deletes the *last* entries together with
the rows they sealed, or who rewrites every later hash. Keep the head hash that
``plantwatch admin verify`` prints somewhere else (a ticket, a report) to anchor the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantwatch.jsonutil import jsonable
from plantwatch.store.db import write_lock
from plantwatch.store.models import (
    Approval,
    AuditLog,
    Base,
    ChecklistRun,
    Flight,
    Incident,
    MaintenanceRecord,
    Plan,
    utcnow,
)

__all__ = [
    "GENESIS",
    "VerifyResult",
    "entry_hash",
    "record",
    "row_digest",
    "seal_key",
    "verify",
    "verify_rows",
]

GENESIS = "0" * 64
# tables whose rows must carry a seal: always, or once in the given state
SEALED_TABLES: dict[str, type[Base]] = {
    "flights": Flight,
    "maintenance_records": MaintenanceRecord,
    "incidents": Incident,
    "approvals": Approval,
    "plans": Plan,
    "checklist_runs": ChecklistRun,
}


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    ok
        The chain is intact.
    count
        Entries checked.
    first_bad_id
        Id of the first entry where the chain breaks (``None`` when ok).
    message
        One line for people.
    head_hash
        Hash of the last entry (``GENESIS`` for an empty log); record it elsewhere to anchor
        the chain.
    """

    ok: bool
    count: int
    first_bad_id: int | None
    message: str
    head_hash: str = GENESIS


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(value: Any) -> Any:
    """JSON values only; datetimes and dates as ISO text (UTC for datetimes)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return jsonable(value)


def entry_hash(
    entry_id: int,
    at: dt.datetime,
    username: str,
    action: str,
    entity: str,
    entity_id: str,
    payload: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of one entry's canonical JSON (see module doc)."""
    body = {
        "id": entry_id,
        "at": _plain(at),
        "username": username,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "payload": _plain(payload),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def _stored_hash(entry: AuditLog) -> str:
    return entry_hash(
        entry.id,
        entry.at,
        entry.username,
        entry.action,
        entry.entity,
        entry.entity_id,
        entry.payload_json,
        entry.prev_hash,
    )


def row_digest(row: Base) -> str:
    """SHA-256 of a row's canonical content: every column, by attribute name."""
    mapper = row.__mapper__
    content = {attr.key: _plain(getattr(row, attr.key)) for attr in mapper.column_attrs}
    return hashlib.sha256(_canonical(content).encode("utf-8")).hexdigest()


def seal_key(row: Base) -> str:
    """``<table>:<id>``, the key of a row's seal."""
    return f"{row.__tablename__}:{row.id}"  # type: ignore[attr-defined]


def record(
    session: Session,
    username: str,
    action: str,
    entity: str,
    entity_id: object,
    payload: Mapping[str, Any],
    *,
    seal: Iterable[Base] = (),
) -> AuditLog:
    """Append one entry to the chain (in the caller's transaction).

    Parameters
    ----------
    session
        The session doing the write; the entry commits or rolls back with it.
    username
        Who acted (``system`` for local administration without a user).
    action
        What was done, ``<entity>.<verb>`` (``plan.approve``).
    entity, entity_id
        What it was done to (table-ish name and id).
    payload
        What changed (JSON values; datetimes become ISO text).
    seal
        Rows to seal now: their :func:`row_digest` goes into ``payload["seals"]``. They are
        flushed first so that ids and defaults are final.

    Returns
    -------
    entry
        The new entry, flushed.
    """
    write_lock(session)
    rows = list(seal)
    if rows:
        session.flush()
    body = _plain(dict(payload))
    if rows:
        body["seals"] = {seal_key(row): row_digest(row) for row in rows}
    last = session.execute(select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).scalar()
    entry_id = 1 if last is None else last.id + 1
    prev_hash = GENESIS if last is None else last.hash
    at = utcnow()
    entity_key = str(entity_id)
    entry = AuditLog(
        id=entry_id,
        at=at,
        username=username,
        action=action,
        entity=entity,
        entity_id=entity_key,
        payload_json=body,
        prev_hash=prev_hash,
        hash=entry_hash(entry_id, at, username, action, entity, entity_key, body, prev_hash),
    )
    session.add(entry)
    session.flush()
    return entry


def verify(session: Session) -> VerifyResult:
    """Walk the chain from the first entry and report the first break.

    Returns
    -------
    result
        ``ok`` with the count and head hash, or the first bad entry's id and what is wrong
        with it.
    """
    count = 0
    prev_id = 0
    prev_hash = GENESIS
    entries = session.execute(select(AuditLog).order_by(AuditLog.id)).scalars()
    for entry in entries.yield_per(500):
        count += 1
        problem = None
        if entry.id != prev_id + 1:
            missing = (
                f"{prev_id + 1}" if entry.id == prev_id + 2 else f"{prev_id + 1}..{entry.id - 1}"
            )
            problem = f"audit entry {entry.id} follows entry {prev_id}: entry {missing} was deleted"
        elif entry.prev_hash != prev_hash:
            problem = (
                f"audit entry {entry.id}: prev_hash does not match entry {prev_id}'s hash "
                "(an entry before it was changed or replaced)"
            )
        elif _stored_hash(entry) != entry.hash:
            problem = (
                f"audit entry {entry.id} ({entry.action} {entry.entity} {entry.entity_id}): "
                "its content does not match its hash (changed after it was written)"
            )
        if problem is not None:
            return VerifyResult(False, count, entry.id, problem, prev_hash)
        prev_id, prev_hash = entry.id, entry.hash
    message = f"audit chain ok: {count} entries, head {prev_hash[:16]}"
    return VerifyResult(True, count, None, message, prev_hash)


def _seals(session: Session) -> dict[str, tuple[str, int]]:
    """Latest seal per row key: ``{"flights:3": (digest, audit entry id)}``."""
    seals: dict[str, tuple[str, int]] = {}
    entries = session.execute(select(AuditLog).order_by(AuditLog.id)).scalars()
    for entry in entries.yield_per(500):
        payload = entry.payload_json if isinstance(entry.payload_json, dict) else {}
        for key, digest in (payload.get("seals") or {}).items():
            seals[str(key)] = (str(digest), entry.id)
    return seals


def _must_be_sealed(row: Base) -> bool:
    if isinstance(row, Plan):
        return row.status in ("approved", "rejected")
    if isinstance(row, ChecklistRun):
        return row.completed_at is not None
    return True


def verify_rows(session: Session) -> list[str]:
    """Check every sealed row against its seal; one line per problem (empty: all intact).

    Finds rows changed after they were sealed, sealed rows that are gone (deleted), and rows of
    append-only tables (or approved plans, completed runs) that no audit entry sealed (inserted
    behind the store's back, or their audit entry was deleted).
    """
    problems: list[str] = []
    seals = _seals(session)
    seen: set[str] = set()
    for table, model in SEALED_TABLES.items():
        for row in session.execute(select(model).order_by(model.id)).scalars():  # type: ignore[attr-defined]
            key = seal_key(row)
            seen.add(key)
            sealed = seals.get(key)
            if sealed is None:
                if _must_be_sealed(row):
                    problems.append(
                        f"{table} id {row.id}: no audit entry seals it (written outside "  # type: ignore[attr-defined]
                        "plantwatch, or its audit entry was deleted)"
                    )
                continue
            digest, entry_id = sealed
            if row_digest(row) != digest:
                problems.append(
                    f"{table} id {row.id}: changed after audit entry {entry_id} sealed it"  # type: ignore[attr-defined]
                )
    for key, (_digest, entry_id) in sorted(seals.items()):
        if key not in seen:
            table, _, row_id = key.partition(":")
            problems.append(f"{table} id {row_id}: sealed by audit entry {entry_id} but deleted")
    return problems
