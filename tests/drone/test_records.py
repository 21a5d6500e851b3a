"""Pilots, aircraft and flight records: the 10-hour pilot rule, the 20-hour maintenance rule,
the append-only log, totals, CSV/ULog imports, and bad input that names the field and writes
nothing (library: InputError; CLI: one line, exit 2)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import struct
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from plantwatch.drone import records
from plantwatch.drone.cli_records import register
from plantwatch.drone.records import (
    Aircraft,
    FileRegistry,
    FlightLogEntry,
    IncidentReport,
    MaintenanceRecord,
    Pilot,
    flight_blocked,
    import_csv,
    import_ulog,
    maintenance_status,
    missing_skills,
    pilot_may_inspect,
)
from plantwatch.errors import DataError, InputError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "records"
DATA = ROOT / "src" / "plantwatch" / "data"
TODAY = dt.date(2024, 12, 31)

runner = CliRunner()
app = typer.Typer()
_drone = typer.Typer()
app.add_typer(_drone, name="drone")
register(_drone)


def cli(data_dir: Path, *args: str):
    return runner.invoke(app, ["drone", *args, "--data-dir", str(data_dir)])


def snapshot(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def aircraft(hours: float, last: float | None = 0.0, **kw) -> Aircraft:
    return Aircraft(
        id="ac1", model="X", mass_kg=2.0, flight_hours=hours, last_maintenance_hours=last, **kw
    )


def pilot(hours: float) -> Pilot:
    return Pilot(id="p1", name="Pilot One", flight_hours=hours)


@pytest.fixture
def reg(tmp_path) -> FileRegistry:
    registry = FileRegistry(tmp_path / "rec", today=TODAY)
    registry.add_pilot(Pilot(id="p1", name="Sato", flight_hours=12.0))
    registry.add_pilot(Pilot(id="p2", name="Ito", flight_hours=9.0))
    registry.add_aircraft(
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
    return registry


def flight(**kw) -> FlightLogEntry:
    fields = {
        "date": "2024-05-01",
        "pilot_id": "p1",
        "aircraft_id": "ac1",
        "takeoff_time": "10:00",
        "landing_time": "10:30",
    }
    fields.update(kw)
    return FlightLogEntry(**fields)


# ---- the 20-hour maintenance rule (MHLW-2022 §2.5)


@pytest.mark.parametrize(
    ("hours_since", "state"),
    [(0.0, "ok"), (17.99, "ok"), (18.0, "due_soon"), (19.99, "due_soon"), (20.0, "overdue"),
     (25.0, "overdue")],
)  # fmt: skip
def test_maintenance_states_at_the_boundaries(hours_since, state):
    status = maintenance_status(aircraft(100.0 + hours_since, last=100.0))
    assert status["state"] == state
    assert status["hours_since"] == pytest.approx(hours_since)
    assert status["hours_left"] == pytest.approx(20.0 - hours_since)


def test_never_maintained_counts_from_zero_hours():
    assert maintenance_status(aircraft(21.0, last=None))["state"] == "overdue"
    assert maintenance_status(aircraft(5.0, last=None))["state"] == "ok"


def test_overdue_aircraft_is_blocked_with_the_citation():
    reasons = flight_blocked(aircraft(120.5, last=100.0), pilot(50.0))
    assert len(reasons) == 1 and "maintenance overdue" in reasons[0] and "§2.5" in reasons[0]
    assert flight_blocked(aircraft(119.0, last=100.0), pilot(50.0)) == []


# ---- the 10-hour pilot rule (MHLW-2022 §2.4.1, seed 004 line 589)


def test_pilot_needs_ten_hours_to_inspect():
    assert not pilot_may_inspect(pilot(9.99)) and pilot_may_inspect(pilot(10.0))
    reasons = flight_blocked(aircraft(1.0), pilot(6.0))
    assert len(reasons) == 1 and ">= 10 h" in reasons[0] and "§2.4.1" in reasons[0]
    assert flight_blocked(aircraft(1.0), pilot(10.0)) == []
    assert len(flight_blocked(aircraft(30.0), pilot(6.0))) == 2


def test_seed_states_both_numbers():
    seed = (ROOT.parent / "shared" / "seeds" / "004_a47552635a8b6365.txt").resolve()
    if not seed.exists():
        pytest.skip("seed 004 not available here")
    lines = seed.read_text(encoding="utf-8").splitlines()
    assert "10時間以上の飛行経験" in lines[589 - 1]
    assert "20 時間の飛行毎に機体の点検整備" in lines[718 - 1]
    assert "様式2" in lines[1153 - 1]


def test_rule_data_agrees_with_the_constants():
    path = DATA / "crew" / "aircraft_requirements.yaml"
    if not path.exists():
        pytest.skip("crew/aircraft_requirements.yaml not there yet")
    intervals = [
        item["interval_flight_hours"]
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))
        if "interval_flight_hours" in item
    ]
    assert intervals in ([], [records.MAINTENANCE_INTERVAL_HOURS])


def test_skills_evidence_and_missing_items():
    p = Pilot(
        id="p1",
        name="A",
        flight_hours=1.0,
        skills=[{"item_id": "skill.basic.01", "date": "2024-01-02", "evidence": "course"}],
    )
    missing = missing_skills(p)
    assert "skill.basic.01" not in missing and "skill.work.03" in missing
    with pytest.raises(InputError) as err:
        Pilot(
            id="p1",
            name="A",
            flight_hours=1.0,
            skills=[{"item_id": "skill.fancy.01", "date": "2024-01-02", "evidence": "x"}],
        )
    assert err.value.field == "skills.0.item_id"


# ---- the log updates hours and cycles; it is append-only


def test_log_add_updates_pilot_and_aircraft_hours_and_battery_cycles(reg):
    entry = reg.add_flight(flight(batteries=["B1", "B2"]))
    assert entry.id == "F00001" and entry.registration == "JU0000000001"
    assert entry.duration_s == 1800.0
    assert reg.get_pilot("p1").flight_hours == pytest.approx(12.5)
    ac = reg.get_aircraft("ac1")
    assert ac.flight_hours == pytest.approx(100.5)
    assert ac.battery_cycles == {"B1": 11, "B2": 4}
    assert reg.get_pilot("p2").flight_hours == 9.0  # the other pilot is untouched


def test_revision_states_hours_now_and_later_flights_add(reg):
    reg.add_flight(flight())
    renamed = reg.get_pilot("p1").model_copy(update={"name": "Sato Ken"})
    reg.update_pilot(renamed)  # a revision carrying 12.5 h must not count the flight again
    assert reg.get_pilot("p1").flight_hours == pytest.approx(12.5)
    reg.add_flight(flight(takeoff_time="11:00", landing_time="11:15"))
    p1 = reg.get_pilot("p1")
    assert p1.name == "Sato Ken" and p1.flight_hours == pytest.approx(12.75)
    assert len((reg.data_dir / "pilots.jsonl").read_text().splitlines()) == 3  # revisions kept


def test_flights_crossing_twenty_hours_block_the_next_inspection(reg):
    # 18 h since maintenance: two 1-hour flights take it to 20 h -> overdue -> blocked
    assert maintenance_status(reg.get_aircraft("ac1"))["state"] == "due_soon"
    reg.add_flight(flight(takeoff_time="09:00", landing_time="10:00"))
    reg.add_flight(flight(takeoff_time="13:00", landing_time="14:00"))
    ac = reg.get_aircraft("ac1")
    assert maintenance_status(ac)["state"] == "overdue"
    assert flight_blocked(ac, reg.get_pilot("p1"))
    reg.add_maintenance(MaintenanceRecord(aircraft_id="ac1", date="2024-05-02", notes="ok"))
    ac = reg.get_aircraft("ac1")
    status = maintenance_status(ac)
    assert status == {
        "state": "ok",
        "hours_since": 0.0,
        "hours_left": 20.0,
        "interval_hours": 20.0,
        "last_maintenance_date": "2024-05-02",
    }
    assert reg.maintenance_records("ac1")[0].aircraft_hours == pytest.approx(102.0)
    assert flight_blocked(ac, reg.get_pilot("p1")) == []


def test_log_is_append_only(reg):
    reg.add_flight(flight())
    path = reg.data_dir / "flights.jsonl"
    first = path.read_bytes()
    reg.add_flight(flight(takeoff_time="12:00", landing_time="12:20"))
    assert path.read_bytes().startswith(first)  # earlier lines are byte-for-byte unchanged
    for name in ("update_flight", "edit_flight", "delete_flight", "remove_flight"):
        assert not hasattr(reg, name)
    with pytest.raises(InputError) as err:
        reg.add_flight(flight(id="F00001", takeoff_time="15:00", landing_time="15:10"))
    assert err.value.field == "id"
    # an edit by hand breaks the hash chain and is reported on read
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace('"place": ""', '"place": "elsewhere"')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"line 1: the log was edited"):
        reg.flights()


def test_edit_of_the_last_line_is_detected(reg):
    reg.add_flight(flight())
    path = reg.data_dir / "flights.jsonl"
    path.write_text(path.read_text().replace('"duration_s": 1800.0', '"duration_s": 60.0'))
    with pytest.raises(DataError, match="edited"):
        reg.get_pilot("p1")


def test_deleted_line_is_detected(reg):
    reg.add_flight(flight())
    reg.add_flight(flight(takeoff_time="12:00", landing_time="12:20"))
    path = reg.data_dir / "flights.jsonl"
    path.write_text(path.read_text().splitlines()[1] + "\n")
    with pytest.raises(DataError, match="edited or a line removed"):
        reg.totals()


def test_totals_per_pilot_and_per_aircraft(reg):
    reg.add_aircraft(Aircraft(id="ac2", model="Mini", mass_kg=0.9, flight_hours=3.0))
    reg.add_flight(flight(date="2024-05-01"))
    reg.add_flight(flight(date="2024-05-03", aircraft_id="ac2"))
    reg.add_flight(flight(date="2024-05-02", pilot_id="p2", takeoff_time="12:00",
                          landing_time="12:45"))  # fmt: skip
    reg.add_incident(
        IncidentReport(kind="near_miss", date="2024-05-02", description="gust", pilot_id="p2",
                       aircraft_id="ac1", flight_id="F00003")
    )  # fmt: skip
    pilots = {row.id: row for row in reg.totals("pilot")}
    assert pilots["p1"].flights == 2 and pilots["p1"].hours == pytest.approx(1.0)
    assert pilots["p1"].total_hours == pytest.approx(13.0)
    assert pilots["p1"].last_flight == dt.date(2024, 5, 3) and pilots["p1"].incidents == 0
    assert pilots["p2"].incidents == 1 and pilots["p2"].hours == pytest.approx(0.75)
    fleet = {row.id: row for row in reg.totals("aircraft")}
    assert fleet["ac1"].flights == 2 and fleet["ac1"].hours == pytest.approx(1.25)
    assert fleet["ac1"].incidents == 1 and fleet["ac2"].total_hours == pytest.approx(3.5)
    assert reg.aircraft_hours_after() == pytest.approx(
        {"F00001": 100.5, "F00002": 3.5, "F00003": 101.25}
    )
    with pytest.raises(InputError):
        reg.totals("crew")  # type: ignore[arg-type]


# ---- bad input names the field and writes nothing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pilot_id": "nobody"}, "pilot_id"),
        ({"aircraft_id": "ghost"}, "aircraft_id"),
        ({"registration": "JU9999999999"}, "registration"),
        ({"batteries": ["B9"]}, "batteries"),
        ({"date": "2099-01-01"}, "date"),
        ({"takeoff_time": "10:10", "landing_time": "10:20"}, "takeoff_time"),  # overlaps
    ],
)
def test_bad_flights_name_the_field_and_write_nothing(reg, change, field):
    reg.add_flight(flight())
    before = snapshot(reg.data_dir)
    with pytest.raises(InputError) as err:
        reg.add_flight(flight(**change))
    assert err.value.field == field
    assert snapshot(reg.data_dir) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"landing_time": "09:00"}, "landing_time"),
        ({"landing_time": "10:00"}, "landing_time"),
        ({"duration_s": -5}, "duration_s"),
        ({"duration_s": 4000}, "duration_s"),
        ({"takeoff_time": "25:00"}, "takeoff_time"),
        ({"batteries": ["B1", "B1"]}, "batteries"),
    ],
)
def test_bad_entries_are_rejected_before_the_registry(change, field):
    with pytest.raises(InputError) as err:
        flight(**change)
    assert err.value.field == field


def test_negative_hours_and_bad_records(tmp_path):
    with pytest.raises(InputError, match="flight_hours") as err:
        Pilot(id="p1", name="A", flight_hours=-1.0)
    assert err.value.field == "flight_hours"
    with pytest.raises(InputError) as err:
        Aircraft(id="a", model="m", mass_kg=1.0, flight_hours=5.0, last_maintenance_hours=6.0)
    assert err.value.field == "last_maintenance_hours"
    with pytest.raises(InputError) as err:
        Aircraft(id="a", model="m", mass_kg=1.0, battery_cycles={"B1": -1})
    assert err.value.field == "battery_cycles"
    with pytest.raises(InputError) as err:
        MaintenanceRecord(aircraft_id="a", date="2024-01-01", items_checked=["propellers"])
    assert err.value.field == "items_checked"


def test_registry_refuses_duplicates_and_unknown_revisions(reg):
    before = snapshot(reg.data_dir)
    with pytest.raises(InputError, match="already registered"):
        reg.add_pilot(Pilot(id="p1", name="Again", flight_hours=1.0))
    with pytest.raises(InputError, match="unknown"):
        reg.update_aircraft(Aircraft(id="nope", model="m", mass_kg=1.0))
    with pytest.raises(InputError) as err:
        reg.add_maintenance(MaintenanceRecord(aircraft_id="ac1", date="2023-12-01"))
    assert err.value.field == "date"  # before the last maintenance
    with pytest.raises(InputError) as err:
        reg.add_incident(IncidentReport(kind="incident", date="2024-01-01", description="x",
                                        flight_id="F09999"))  # fmt: skip
    assert err.value.field == "flight_id"
    assert snapshot(reg.data_dir) == before


def test_failed_first_write_creates_no_folder(tmp_path):
    registry = FileRegistry(tmp_path / "fresh", today=TODAY)
    with pytest.raises(InputError):
        registry.add_flight(flight())
    assert not (tmp_path / "fresh").exists()


# ---- CSV import


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_armed_column_with_iso_times(tmp_path):
    times = import_csv(
        write(
            tmp_path / "log.csv",
            "time,armed\n2024-05-01T09:59:00,0\n2024-05-01T10:00:05,1\n"
            "2024-05-01T10:20:00,1\n2024-05-01T10:24:35,0\n2024-05-01T10:25:00,0\n",
        )
    )
    assert times.method == "armed" and times.flights == 1
    assert times.takeoff_s == 65.0 and times.landing_s == 1535.0
    assert times.duration_s == 1470.0
    assert times.takeoff_at == dt.datetime(2024, 5, 1, 10, 0, 5, tzinfo=records.JST)
    assert times.landing_at is not None and times.landing_at.time() == dt.time(10, 24, 35)


def test_csv_altitude_column_with_seconds_and_two_hops(tmp_path):
    rows = [(0, 3.0), (10, 3.2), (20, 8.0), (80, 30.0), (140, 3.5), (150, 3.0), (200, 3.1),
            (210, 6.0), (260, 3.0)]  # fmt: skip
    text = "Time,Altitude_m\n" + "".join(f"{t},{a}\n" for t, a in rows)
    times = import_csv(write(tmp_path / "alt.csv", text))
    assert times.method == "altitude" and times.start_utc is None and times.takeoff_at is None
    assert (times.takeoff_s, times.landing_s, times.flights) == (20.0, 260.0, 2)
    assert times.duration_s == (140 - 20) + (260 - 210)


def test_csv_utc_times_are_converted_to_jst(tmp_path):
    times = import_csv(
        write(tmp_path / "utc.csv", "time,armed\n2024-05-01T01:00:00Z,1\n2024-05-01T01:10:00Z,0\n")
    )
    assert times.takeoff_at == dt.datetime(2024, 5, 1, 10, 0, tzinfo=records.JST)
    assert times.duration_s == 600.0


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ("when,armed\n1,0\n2,1\n", "csv.time", "no 'time' column"),
        ("time,speed\n1,0\n2,1\n", "csv.armed", "'armed' or an 'altitude'"),
        ("time,armed\n1,0\nsoon,1\n", "csv.time", "line 3"),
        ("time,armed\n1,0\n2,maybe\n", "csv.armed", "line 3"),
        ("time,altitude\n1,0\n2,high\n", "csv.altitude", "line 3"),
        ("time,armed\n5,0\n4,1\n", "csv.time", "does not increase"),
        ("time,armed\n1,0\n2024-05-01T10:00:00,1\n", "csv.time", "mixes"),
        ("time,armed\n1,0\n2,0\n3,0\n", "log", "no take-off"),
        ("time,armed\n1,0\n", "csv", "needs >= 2"),
    ],
)
def test_malformed_csv_names_the_field(tmp_path, text, field, fragment):
    with pytest.raises(InputError, match=fragment) as err:
        import_csv(write(tmp_path / "bad.csv", text))
    assert err.value.field == field


def test_missing_log_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        import_csv(tmp_path / "none.csv")
    with pytest.raises(InputError, match="no such file"):
        import_ulog(tmp_path / "none.ulg")


# ---- ULog import, on a ULog written here in the ULog binary format (pyulog reads it)


def _msg(kind: str, payload: bytes) -> bytes:
    return struct.pack("<HB", len(payload), ord(kind)) + payload


def write_ulog(
    path: Path,
    topics: dict[str, tuple[str, list[tuple[int, int]]]],
    gps: tuple[int, int] | None = None,
    start_us: int = 1_000_000,
) -> Path:
    """A minimal ULog v1: header, flag bits, one format per topic (uint64 timestamp + one
    field), subscriptions and data messages. ``topics``: name -> (field "type name", samples
    (timestamp_us, value)); ``gps``: (timestamp_us, time_utc_usec) in vehicle_gps_position."""
    codes = {"uint8_t": "B", "bool": "B", "uint64_t": "Q"}
    out = bytearray(b"ULog\x01\x12\x35" + bytes([1]) + struct.pack("<Q", start_us))
    out += _msg("B", bytes(16) + struct.pack("<3Q", 0, 0, 0))
    all_topics = dict(topics)
    if gps is not None:
        all_topics["vehicle_gps_position"] = ("uint64_t time_utc_usec", [gps])
    for name, (field, _) in all_topics.items():
        out += _msg("F", f"{name}:uint64_t timestamp;{field};".encode())
    items: list[tuple[int, bytes]] = []
    for msg_id, (name, (field, samples)) in enumerate(all_topics.items()):
        out += _msg("A", struct.pack("<BH", 0, msg_id) + name.encode())
        code = codes[field.split()[0]]
        for stamp, value in samples:
            items.append((stamp, _msg("D", struct.pack("<HQ" + code, msg_id, stamp, value))))
    for _, data in sorted(items, key=lambda item: item[0]):
        out += data
    path.write_bytes(bytes(out))
    return path


def test_ulog_land_detector_and_gps_time(tmp_path):
    s = 1_000_000
    utc_us = int(dt.datetime(2024, 5, 1, 1, 0, 0, tzinfo=dt.UTC).timestamp() * 1e6)
    path = write_ulog(
        tmp_path / "flight.ulg",
        {
            "vehicle_land_detected": ("bool landed", [(2 * s, 1), (12 * s, 0), (612 * s, 1)]),
            "vehicle_status": ("uint8_t arming_state", [(2 * s, 1), (10 * s, 2), (620 * s, 1)]),
        },
        gps=(4 * s, utc_us),  # GPS says UTC 01:00:00 at 4 s after boot
    )
    times = import_ulog(path)
    assert times.method == "land_detected" and times.flights == 1
    assert times.takeoff_s == pytest.approx(11.0) and times.duration_s == pytest.approx(600.0)
    # log start (1 s after boot) is 3 s before the fix: take-off at 01:00:08 UTC = 10:00:08 JST
    assert times.takeoff_at == dt.datetime(2024, 5, 1, 10, 0, 8, tzinfo=records.JST)
    assert times.landing_at == dt.datetime(2024, 5, 1, 10, 10, 8, tzinfo=records.JST)


def test_ulog_armed_state_without_land_detector(tmp_path):
    s = 1_000_000
    path = write_ulog(
        tmp_path / "armed.ulg",
        {"vehicle_status": ("uint8_t arming_state", [(1 * s, 1), (5 * s, 2), (65 * s, 1),
                                                     (70 * s, 1)])},
    )  # fmt: skip
    times = import_ulog(path)
    assert times.method == "armed" and times.start_utc is None
    assert (times.takeoff_s, times.landing_s, times.duration_s) == (4.0, 64.0, 60.0)


def test_ulog_bad_files(tmp_path):
    junk = write(tmp_path / "junk.ulg", "not a ulog")
    with pytest.raises(InputError, match="not a readable ULog") as err:
        import_ulog(junk)
    assert err.value.field == "ulog"
    gps_only = write_ulog(tmp_path / "gps.ulg", {}, gps=(2_000_000, 1))
    with pytest.raises(InputError, match="no vehicle_land_detected"):
        import_ulog(gps_only)
    grounded = write_ulog(
        tmp_path / "ground.ulg",
        {"vehicle_land_detected": ("bool landed", [(1_000_000, 1), (9_000_000, 1)])},
    )
    with pytest.raises(InputError, match="no take-off"):
        import_ulog(grounded)


# ---- CLI


@pytest.fixture
def example(tmp_path) -> Path:
    folder = tmp_path / "records"
    shutil.copytree(EXAMPLE, folder)
    return folder


def test_example_registry_loads_and_maintenance_status_exits_1(example):
    result = cli(example, "maintenance", "status", "--json")
    assert result.exit_code == 1, result.output
    states = {row["aircraft_id"]: row["state"] for row in json.loads(result.output)}
    assert states == {"ac-m350": "ok", "ac-m30t": "overdue"}
    pilots = json.loads(cli(example, "pilot", "list", "--json").output)
    hours = {p["id"]: (round(p["flight_hours"]), p["may_inspect"]) for p in pilots}
    assert hours == {"p-tanaka": (50, True), "p-suzuki": (6, False)}
    assert cli(example, "log", "list").exit_code == 0
    assert cli(example, "aircraft", "list").exit_code == 0
    assert cli(example, "incident", "list", "--json").exit_code == 0


def test_cli_log_add_list_totals_and_maintenance(example):
    result = cli(example, "log", "add", "--pilot", "p-tanaka", "--aircraft", "ac-m350",
                 "--date", "2024-10-03", "--takeoff", "09:00", "--landing", "09:45",
                 "--place", "Column C-3", "--battery", "TB65-01")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "F00004" in result.output
    log = json.loads(cli(example, "log", "list", "--json").output)
    assert log[-1]["duration_s"] == 2700.0 and log[-1]["registration"] == "JU0123456789"
    assert log[-1]["total_flight_time_h"] == pytest.approx(131.218, abs=1e-3)
    totals = json.loads(cli(example, "log", "totals", "--by", "aircraft", "--json").output)
    m350 = next(row for row in totals if row["id"] == "ac-m350")
    assert m350["flights"] == 2 and m350["last_flight"] == "2024-10-03"
    result = cli(example, "maintenance", "record", "--aircraft", "ac-m30t", "--date",
                 "2024-10-04", "--notes", "props replaced", "--item", "aircraft.04")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert cli(example, "maintenance", "status").exit_code == 0
    assert "overdue" not in cli(example, "maintenance", "status").output


def test_cli_log_add_from_csv_takes_times_from_the_log(example, tmp_path):
    csv_path = write(
        tmp_path / "f.csv",
        "time,altitude\n2024-10-05T14:00:00,0\n2024-10-05T14:00:30,5\n"
        "2024-10-05T14:12:30,0.2\n2024-10-05T14:13:00,0\n",
    )
    result = cli(example, "log", "add", "--pilot", "p-tanaka", "--aircraft", "ac-m350",
                 "--from-csv", str(csv_path))  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = json.loads(cli(example, "log", "list", "--json").output)[-1]
    assert (entry["date"], entry["takeoff_time"], entry["landing_time"]) == (
        "2024-10-05", "14:00:30", "14:12:30"
    )  # fmt: skip
    assert entry["duration_s"] == 720.0 and entry["source_file"] == str(csv_path)
    # seconds-only log: the date and take-off come from the options, landing from the log
    rel = write(tmp_path / "rel.csv", "time,armed\n0,0\n5,1\n605,0\n")
    result = cli(example, "log", "add", "--pilot", "p-tanaka", "--aircraft", "ac-m350",
                 "--from-csv", str(rel), "--date", "2024-10-06", "--takeoff", "08:00")  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = json.loads(cli(example, "log", "list", "--json").output)[-1]
    assert (entry["takeoff_time"], entry["landing_time"], entry["duration_s"]) == (
        "08:00:00", "08:10:00", 600.0
    )  # fmt: skip


def test_cli_pilot_and_aircraft_add(tmp_path):
    folder = tmp_path / "new"
    result = cli(folder, "pilot", "add", "--id", "p9", "--name", "Mori", "--hours", "3",
                 "--skill", "skill.basic.01:2024-02-01:course A")  # fmt: skip
    assert result.exit_code == 0 and "may not inspect" in result.output
    result = cli(folder, "aircraft", "add", "--id", "a9", "--model", "Mini", "--mass-kg", "0.9",
                 "--battery", "B1=4", "--battery", "B2")  # fmt: skip
    assert result.exit_code == 0, result.output
    fleet = json.loads(cli(folder, "aircraft", "list", "--json").output)
    assert fleet[0]["battery_cycles"] == {"B1": 4, "B2": 0}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["log", "add", "--pilot", "nobody", "--aircraft", "ac-m350", "--date", "2024-10-03",
          "--takeoff", "09:00", "--landing", "09:30"], "pilot_id: unknown pilot 'nobody'"),
        (["log", "add", "--pilot", "p-tanaka", "--aircraft", "ghost", "--date", "2024-10-03",
          "--takeoff", "09:00", "--landing", "09:30"], "aircraft_id: unknown aircraft"),
        (["log", "add", "--pilot", "p-tanaka", "--aircraft", "ac-m350", "--date", "2024-10-03",
          "--takeoff", "09:30", "--landing", "09:00"], "landing_time: must be after"),
        (["log", "add", "--pilot", "p-tanaka", "--aircraft", "ac-m350", "--date", "2024-13-03",
          "--takeoff", "09:00", "--landing", "09:30"], "--date:"),
        (["log", "add", "--pilot", "p-tanaka", "--aircraft", "ac-m350", "--date", "2024-10-03",
          "--takeoff", "9h", "--landing", "09:30"], "--takeoff:"),
        (["log", "add", "--pilot", "p-tanaka", "--aircraft", "ac-m350", "--date", "2024-10-03",
          "--takeoff", "09:00"], "--landing: is required"),
        (["pilot", "add", "--id", "p-x", "--name", "X", "--hours", "-2"], "flight_hours:"),
        (["pilot", "add", "--id", "p-x", "--name", "X", "--skill", "skill.basic.01"], "--skill:"),
        (["log", "totals", "--by", "crew"], "--by:"),
        (["maintenance", "record", "--aircraft", "ghost", "--date", "2024-10-04"],
         "aircraft_id: unknown"),
        (["incident", "add", "--kind", "oops", "--date", "2024-10-04", "--description", "x"],
         "--kind:"),
    ],
)  # fmt: skip
def test_cli_bad_input_is_one_line_exit_2_and_writes_nothing(example, args, fragment):
    before = snapshot(example)
    result = cli(example, *args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]
    assert snapshot(example) == before


def test_cli_malformed_csv_exits_2_and_writes_nothing(example, tmp_path):
    bad = write(tmp_path / "bad.csv", "time,armed\n1,0\n2,perhaps\n")
    before = snapshot(example)
    result = cli(example, "log", "add", "--pilot", "p-tanaka", "--aircraft", "ac-m350",
                 "--from-csv", str(bad))  # fmt: skip
    assert result.exit_code == 2 and "csv.armed" in result.output and "line 3" in result.output
    assert snapshot(example) == before


def test_form2_fields_are_all_recorded():
    path = DATA / "forms" / "flight_log.yaml"
    if not path.exists():
        pytest.skip("forms/flight_log.yaml not there yet")
    ids = {item["id"] for item in yaml.safe_load(path.read_text(encoding="utf-8"))}
    derived = {"total_flight_time"}  # aircraft hours after the flight (aircraft_hours_after)
    assert ids - derived <= set(FlightLogEntry.model_fields)


def test_concurrent_writers_do_not_lose_or_break_lines(reg):
    from concurrent.futures import ThreadPoolExecutor

    def add(hour: int) -> str | None:
        entry = reg.add_flight(flight(takeoff_time=f"{hour:02d}:00", landing_time=f"{hour:02d}:10"))
        return entry.id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(add, range(6, 18)))
    assert sorted(ids) == [f"F{i:05d}" for i in range(1, 13)]
    assert len(reg.flights()) == 12  # the hash chain reads back whole
    assert reg.get_pilot("p1").flight_hours == pytest.approx(12.0 + 12 * 10 / 60)


def test_corrupt_store_is_a_data_error_and_exit_2(reg):
    path = reg.data_dir / "pilots.jsonl"
    good = path.read_text()
    path.write_text(good + "{not json\n")
    with pytest.raises(DataError, match="line 3: not a plantwatch record"):
        reg.pilots()
    bad = json.loads(good.splitlines()[0])
    bad["record"]["flight_hours"] = -4
    path.write_text(good + json.dumps(bad) + "\n")
    with pytest.raises(DataError, match="stored record is invalid"):
        reg.pilots()
    result = cli(reg.data_dir, "pilot", "list")
    assert result.exit_code == 2 and result.output.startswith("error: ")
