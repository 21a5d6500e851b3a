"""SqlRecords behaves like the file registry (same scenario, same answers, same errors) and keeps
the flight log append-only in the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text

from plantwatch.drone.records import (
    Aircraft,
    FileRegistry,
    FlightLogEntry,
    IncidentReport,
    MaintenanceRecord,
    Pilot,
    maintenance_status,
)
from plantwatch.errors import ImmutableError, InputError, PermissionDenied
from plantwatch.store import audit
from plantwatch.store.models import Flight
from plantwatch.store.service import SqlRecords

TODAY = dt.date(2024, 12, 31)


def flight(**kw: Any) -> FlightLogEntry:
    fields = {
        "date": "2024-05-01",
        "pilot_id": "p1",
        "aircraft_id": "ac1",
        "takeoff_time": "10:00",
        "landing_time": "10:30",
    }
    fields.update(kw)
    return FlightLogEntry(**fields)


class PerCall:
    """SqlRecords with one committed session per call, as the web app uses it."""

    def __init__(self, store: Any, by: Any = None) -> None:
        self.store, self.by = store, by

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self.store.session() as s:
                return getattr(SqlRecords(s, by=self.by, today=TODAY), name)(*args, **kwargs)

        return call


BAD_FLIGHTS = [
    ({"pilot_id": "nobody"}, "pilot_id"),
    ({"aircraft_id": "ghost"}, "aircraft_id"),
    ({"registration": "JU9999999999"}, "registration"),
    ({"batteries": ["B9"]}, "batteries"),
    ({"date": "2099-01-01"}, "date"),
    ({"takeoff_time": "10:10", "landing_time": "10:20"}, "takeoff_time"),  # overlaps F00001
    ({"id": "F00042", "takeoff_time": "15:00", "landing_time": "15:10"}, "id"),
]


def scenario(reg: Any) -> dict[str, Any]:
    """The records test ideas of tests/drone/test_records.py, run on any repository."""
    out: dict[str, Any] = {}
    reg.add_pilot(Pilot(id="p1", name="Sato", flight_hours=12.0))
    reg.add_pilot(Pilot(id="p2", name="Ito", flight_hours=9.0))
    reg.add_aircraft(
        Aircraft(
            id="ac1",
            model="Matrice",
            registration="JU0000000001",
            mass_kg=6.5,
            flight_hours=100.0,
            last_maintenance_hours=82.0,
            last_maintenance_date=dt.date(2024, 1, 10),
            battery_cycles={"B1": 10, "B2": 3},
        )
    )
    reg.add_aircraft(Aircraft(id="ac2", model="Mini", mass_kg=0.9, flight_hours=3.0))
    out["first"] = reg.add_flight(flight(batteries=["B1", "B2"])).model_dump(mode="json")
    out["p1_after_first"] = reg.get_pilot("p1").flight_hours
    out["ac1_after_first"] = reg.get_aircraft("ac1").model_dump(mode="json")
    renamed = reg.get_pilot("p1").model_copy(update={"name": "Sato Ken"})
    reg.update_pilot(renamed)  # a revision must not count the flight twice
    out["p1_after_revision"] = reg.get_pilot("p1").model_dump(mode="json")
    errors = []
    for change, _field in BAD_FLIGHTS:
        try:
            reg.add_flight(flight(**change))
        except InputError as exc:
            errors.append((exc.field, str(exc)))
    out["errors"] = errors
    out["count_after_errors"] = len(reg.flights())
    reg.add_flight(flight(date="2024-05-03", aircraft_id="ac2"))
    reg.add_flight(flight(date="2024-05-02", pilot_id="p2", takeoff_time="09:00",
                          landing_time="10:00"))  # fmt: skip
    out["state_before"] = maintenance_status(reg.get_aircraft("ac1"))["state"]
    reg.add_flight(flight(date="2024-05-02", takeoff_time="13:00", landing_time="14:00"))
    out["state_overdue"] = maintenance_status(reg.get_aircraft("ac1"))
    reg.add_incident(
        IncidentReport(kind="near_miss", date="2024-05-02", description="gust", pilot_id="p2",
                       aircraft_id="ac1", flight_id="F00003")
    )  # fmt: skip
    out["maintenance"] = reg.add_maintenance(
        MaintenanceRecord(aircraft_id="ac1", date="2024-05-04", notes="props replaced")
    ).model_dump(mode="json")
    out["state_after"] = maintenance_status(reg.get_aircraft("ac1"))
    out["totals_pilot"] = [row.as_dict() for row in reg.totals("pilot")]
    out["totals_aircraft"] = [row.as_dict() for row in reg.totals("aircraft")]
    out["hours_after"] = reg.aircraft_hours_after()
    out["flights_p2"] = [f.id for f in reg.flights(pilot_id="p2")]
    out["incidents"] = [i.model_dump(mode="json") for i in reg.incidents()]
    out["overview"] = [(a.id, s["state"]) for a, s in reg.maintenance_overview()]
    return out


def test_sql_records_match_the_file_registry(store, tmp_path):
    expected = scenario(FileRegistry(tmp_path / "records", today=TODAY))
    got = scenario(PerCall(store))
    assert got == expected
    # and the answers are the right ones, not just the same ones
    assert got["first"]["id"] == "F00001" and got["first"]["registration"] == "JU0000000001"
    assert got["p1_after_first"] == pytest.approx(12.5)
    assert got["ac1_after_first"]["battery_cycles"] == {"B1": 11, "B2": 4}
    assert got["p1_after_revision"]["flight_hours"] == pytest.approx(12.5)
    assert [field for field, _ in got["errors"]] == [f for _, f in BAD_FLIGHTS]
    assert got["count_after_errors"] == 1
    assert got["state_before"] == "due_soon"
    assert got["state_overdue"]["state"] == "overdue"
    assert got["state_after"]["state"] == "ok" and got["maintenance"]["aircraft_hours"] == 102.5
    assert got["flights_p2"] == ["F00003"]
    assert got["overview"] == [("ac1", "ok"), ("ac2", "ok")]


def test_flight_log_is_append_only_in_the_database(store, people):
    records = PerCall(store, by=people["pilot"])
    records.add_pilot(Pilot(id="p1", name="Sato", flight_hours=12.0))
    records.add_aircraft(Aircraft(id="ac1", model="M", mass_kg=2.0, flight_hours=1.0))
    records.add_flight(flight())
    with pytest.raises(PermissionDenied):
        PerCall(store, by=people["inspector"]).add_flight(flight(takeoff_time="12:00",
                                                                 landing_time="12:10"))  # fmt: skip
    with pytest.raises(ImmutableError), store.session() as s:
        s.execute(select(Flight)).scalar_one().record_json = {"forged": True}
    with pytest.raises(ImmutableError), store.session() as s:
        s.execute(text("UPDATE flights SET date = '2024-01-01'"))
    with pytest.raises(ImmutableError), store.session() as s:
        s.execute(text("DELETE FROM flights"))
    with store.session() as s:
        assert [f.key for f in s.execute(select(Flight)).scalars()] == ["F00001"]
        assert audit.verify(s).ok and audit.verify_rows(s) == []
        assert not hasattr(SqlRecords(s), "update_flight")
