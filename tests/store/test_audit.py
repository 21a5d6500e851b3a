"""The audit hash chain and the row seals find edits and deletions made behind the store's back."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select, text

from plantwatch.drone.records import Aircraft, FlightLogEntry, Pilot
from plantwatch.store import audit, service
from plantwatch.store.models import AuditLog, Flight
from plantwatch.store.service import SqlRecords

from .conftest import drop_trigger_sql


def _fill(store, people) -> None:
    with store.session() as s:
        records = SqlRecords(s, by=people["pilot"])
        records.add_pilot(Pilot(id="p1", name="Sato", flight_hours=12.0))
        records.add_aircraft(Aircraft(id="ac1", model="M", mass_kg=2.0, flight_hours=1.0))
        for start, end in (("09:00", "09:20"), ("10:00", "10:20")):
            records.add_flight(
                FlightLogEntry(date="2024-05-01", pilot_id="p1", aircraft_id="ac1",
                               takeoff_time=start, landing_time=end)
            )  # fmt: skip


def _tamper(store, table: str, *statements: str) -> None:
    with store.engine.begin() as conn:
        for sql in (*drop_trigger_sql(store, table), *statements):
            conn.execute(text(sql))


def test_chain_is_ok_and_links_every_entry(store, people):
    _fill(store, people)
    with store.session() as s:
        result = audit.verify(s)
        entries = s.execute(select(AuditLog).order_by(AuditLog.id)).scalars().all()
    assert result.ok and result.first_bad_id is None and result.count == len(entries) > 6
    assert [e.id for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert result.head_hash == entries[-1].hash
    assert [e.action for e in entries][-2:] == ["flight.add", "flight.add"]
    assert entries[-1].username == "pilot"


def test_audit_rows_refuse_changes(store, people):
    _fill(store, people)
    for sql in ("UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log WHERE id = 1"):
        with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(sql))


def test_edited_entry_is_named(store, people):
    _fill(store, people)
    _tamper(store, "audit_log", "UPDATE audit_log SET username = 'mallory' WHERE id = 4")
    with store.session() as s:
        result = audit.verify(s)
    assert not result.ok and result.first_bad_id == 4
    assert "audit entry 4" in result.message and "does not match its hash" in result.message


def test_deleted_entry_is_named(store, people):
    _fill(store, people)
    _tamper(store, "audit_log", "DELETE FROM audit_log WHERE id = 3")
    with store.session() as s:
        result = audit.verify(s)
    assert not result.ok and result.first_bad_id == 4
    assert "entry 3 was deleted" in result.message


def test_rewritten_entry_with_its_own_hash_breaks_the_next_link(store, people):
    _fill(store, people)
    with store.session() as s:
        entry = s.get(AuditLog, 2)
        forged = audit.entry_hash(2, entry.at, "mallory", entry.action, entry.entity,
                                  entry.entity_id, entry.payload_json, entry.prev_hash)  # fmt: skip
    _tamper(
        store,
        "audit_log",
        f"UPDATE audit_log SET username = 'mallory', hash = '{forged}' WHERE id = 2",
    )
    with store.session() as s:
        result = audit.verify(s)
    assert not result.ok and result.first_bad_id == 3 and "prev_hash" in result.message


def test_flight_changed_or_deleted_with_raw_sql_is_named(store, people):
    _fill(store, people)
    with store.session() as s:
        first, second = s.execute(select(Flight.id).order_by(Flight.id)).scalars().all()
    _tamper(
        store,
        "flights",
        f"UPDATE flights SET pilot_key = 'p2' WHERE id = {first}",
        f"DELETE FROM flights WHERE id = {second}",
    )
    with store.session() as s:
        assert audit.verify(s).ok  # the chain itself is intact ...
        problems = audit.verify_rows(s)  # ... but the seals are not
        report = service.verify_store(s, store)
    assert any(f"flights id {first}: changed after audit entry" in p for p in problems), problems
    assert any(f"flights id {second}: sealed by audit entry" in p and "deleted" in p
               for p in problems), problems  # fmt: skip
    assert not report.ok


def test_row_inserted_behind_the_stores_back_is_named(store, people):
    _fill(store, people)
    with store.session() as s:
        row = s.execute(select(Flight).order_by(Flight.id)).scalars().first()
        values = {"key": "F00099", "pk": row.pilot_key, "ak": row.aircraft_key, "d": row.date}
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO flights (key, pilot_key, aircraft_key, date, record_json, "
                "recorded_by, recorded_at) VALUES (:key, :pk, :ak, :d, '{}', 'x', :d)"
            ),
            values,
        )
    with store.session() as s:
        problems = audit.verify_rows(s)
    assert any("no audit entry seals it" in p for p in problems), problems


def test_concurrent_writers_keep_one_unbroken_chain(store, people):
    """Writers are serialised by the store's write lock: no forked chain, no duplicate ids."""
    from concurrent.futures import ThreadPoolExecutor

    def write(worker: int) -> None:
        for n in range(4):
            with store.session() as s:
                service.create_user(s, f"w{worker}-{n}", "long enough pw", "pilot", "admin")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))
    with store.session() as s:
        result = audit.verify(s)
    assert result.ok, result.message
    assert result.count == len(people) + 16
