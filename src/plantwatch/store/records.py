"""Pilots, aircraft, flight log, maintenance and incidents in the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantwatch.drone import records as drone_records
from plantwatch.errors import DataError, InputError
from plantwatch.store import audit
from plantwatch.store.access import (
    Actor,
    actor_of,
)
from plantwatch.store.db import Store, write_lock
from plantwatch.store.models import (
    Aircraft,
    Base,
    Flight,
    Incident,
    MaintenanceRecord,
    Pilot,
    utcnow,
)

__all__ = ["SqlRecords"]


_KIND_MODEL: dict[str, type[Any]] = {
    "pilot": Pilot,
    "aircraft": Aircraft,
    "maintenance": MaintenanceRecord,
    "flight": Flight,
    "incident": Incident,
}


class SqlRecords(drone_records.FileRegistry):
    """Pilots, aircraft, flight log, maintenance and incidents in the database.

    :class:`plantwatch.drone.records.FileRegistry` with its two storage hooks replaced
    (``_snapshot``: read every record; ``_append``: validate against a fresh snapshot under the
    write lock, then insert): same rules, same ids (``F00001`` …), same errors. Writes belong to
    the session's transaction (commit by leaving ``with store.session()``). Pilots and aircraft
    keep their latest revision in place (each revision is in the audit log); flights,
    maintenance and incidents are append-only and sealed.

    Parameters
    ----------
    session
        Open session.
    by
        Acting user for writes (role pilot, planner or admin), or ``None`` (trusted).
    today
        Date for the "not in the future" checks (default today in JST).
    """

    def __init__(self, session: Session, *, by: Actor = None, today: dt.date | None = None) -> None:
        store = session.info.get("store")
        super().__init__(store.data_dir if isinstance(store, Store) else Path("."), today=today)
        self.session = session
        self._by = by

    def _snapshot(self) -> drone_records._Snapshot:
        s = self.session
        lines: dict[str, list[dict[str, Any]]] = {}
        for kind, model in _KIND_MODEL.items():
            rows = s.execute(select(model).order_by(model.id)).scalars()
            lines[kind] = [self._envelope(kind, row) for row in rows]
        try:
            return drone_records._Snapshot(lines)
        except (InputError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"a stored record is invalid: {exc}") from None

    @staticmethod
    def _envelope(kind: str, row: Any) -> dict[str, Any]:
        envelope: dict[str, Any] = {"record": row.record_json}
        if kind in ("pilot", "aircraft"):
            envelope["flights_seen"] = row.flights_seen
            envelope["maintenance_seen"] = row.maintenance_seen
        return envelope

    def _append(self, kind: str, build: Callable[[Any], Any]) -> Any:
        s = self.session
        actor, _ = actor_of(s, self._by, "records.write")
        build(self._snapshot())  # validate before taking the lock
        write_lock(s)
        snap = self._snapshot()  # again under the lock: another writer may have appended
        record = build(snap)
        data = record.model_dump(mode="json")
        row: Any
        seal: list[Base] = []
        if kind in ("pilot", "aircraft"):
            model = Pilot if kind == "pilot" else Aircraft
            row_or_none = s.execute(select(model).where(model.key == record.id)).scalar()
            if row_or_none is None:
                row = model(key=record.id, record_json=data)
                s.add(row)
            else:
                row = row_or_none
                row.record_json = data
            row.flights_seen = len(snap.flights)
            row.maintenance_seen = len(snap.maintenance)
            row.updated_by = actor
            row.updated_at = utcnow()
            action = f"{kind}.{'create' if row_or_none is None else 'revise'}"
        else:
            common = {"key": record.id, "date": record.date, "record_json": data}
            if kind == "flight":
                row = Flight(
                    **common,
                    pilot_key=record.pilot_id,
                    aircraft_key=record.aircraft_id,
                    recorded_by=actor,
                )
            elif kind == "maintenance":
                row = MaintenanceRecord(
                    **common, aircraft_key=record.aircraft_id, recorded_by=actor
                )
            else:
                row = Incident(
                    **common,
                    pilot_key=record.pilot_id,
                    aircraft_key=record.aircraft_id,
                    recorded_by=actor,
                )
            s.add(row)
            seal = [row]
            action = f"{kind}.add"
        s.flush()
        audit.record(
            s,
            actor,
            action,
            kind,
            row.id,
            {"key": record.id, "record": data},
            seal=seal,
        )
        return record
