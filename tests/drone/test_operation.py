"""The operation file: valid examples load; bad ones fail with one line naming the field."""

from __future__ import annotations

import copy
from datetime import date, datetime, time
from pathlib import Path

import pytest
import yaml

from plantwatch.drone.operation import (
    JST,
    Operation,
    load_operation,
    operation_from_dict,
    sun_times,
)
from plantwatch.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ops"
TODAY = date(2026, 1, 1)


def _raw(name: str = "routine.yaml") -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "ops.yaml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_examples_load():
    routine = load_operation(EXAMPLES / "routine.yaml", TODAY)
    assert isinstance(routine, Operation)
    assert routine.start == datetime(2030, 5, 7, 9, 30, tzinfo=JST)
    assert routine.visual_line_of_sight and routine.third_party_area_closed
    assert routine.aircraft.has_remote_id and routine.aircraft.radios[0].certified
    assert routine.source_path == EXAMPLES / "routine.yaml"
    night = load_operation(EXAMPLES / "night_bvlos.yaml", TODAY)
    assert night.daylight is False and not night.visual_line_of_sight
    assert night.airspace == "did_over_site"


def _error(tmp_path: Path, data: dict | str, today: date = TODAY) -> InputError:
    with pytest.raises(InputError) as err:
        load_operation(_write(tmp_path, data), today)
    message = str(err.value)
    assert "\n" not in message
    return err.value


def test_missing_date(tmp_path):
    raw = _raw()
    del raw["date"]
    err = _error(tmp_path, raw)
    assert err.field == "date" and "is missing" in str(err) and "YYYY-MM-DD" in str(err)


def test_end_before_start(tmp_path):
    raw = _raw()
    raw["start_time"], raw["end_time"] = "15:00", "09:00"
    err = _error(tmp_path, raw)
    assert err.field == "end_time" and "09:00 is not after start_time 15:00" in str(err)


def test_date_in_the_past(tmp_path):
    err = _error(tmp_path, _raw(), today=date(2031, 1, 1))
    assert err.field == "date" and "2030-05-07 is in the past" in str(err)


def test_nan(tmp_path):
    text = (EXAMPLES / "routine.yaml").read_text(encoding="utf-8")
    text = text.replace("wind_forecast_m_s: 3.0", "wind_forecast_m_s: .nan")
    err = _error(tmp_path, text)
    assert err.field == "wind_forecast_m_s" and "finite" in str(err)


def test_nan_in_a_nested_field(tmp_path):
    raw = _raw()
    raw["aircraft"]["radios"][1]["band_ghz"] = float("nan")
    err = _error(tmp_path, raw)
    assert err.field == "aircraft.radios[1].band_ghz"


def test_unknown_role(tmp_path):
    raw = _raw()
    raw["crew"]["role.tea_maker"] = "Nakamura"
    err = _error(tmp_path, raw)
    assert err.field == "crew.role.tea_maker" and "unknown role" in str(err)
    assert "role.pilot" in str(err)


def test_roles_without_prefix_are_accepted(tmp_path):
    raw = _raw()
    raw["crew"] = {key.removeprefix("role."): name for key, name in raw["crew"].items()}
    operation = load_operation(_write(tmp_path, raw), TODAY)
    assert "role.pilot" in operation.crew


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        (lambda r: r.update(colour="red"), "colour", "unknown field"),
        (lambda r: r.pop("visual_line_of_sight"), "visual_line_of_sight", "is missing"),
        (lambda r: r.update(capture=["visible", "visible"]), "capture", "twice"),
        (lambda r: r.update(capture=["ultraviolet"]), "capture[0]", "visible"),
        (lambda r: r.update(date="next tuesday"), "date", "date"),
        (lambda r: r["aircraft"].update(mass_kg=-1), "aircraft.mass_kg", "greater than 0"),
        (
            lambda r: r["aircraft"].update(hours_since_maintenance=500.0),
            "aircraft.hours_since_maintenance",
            "exceeds flight_hours",
        ),
        (lambda r: r["pilot"].pop("flight_hours"), "pilot.flight_hours", "is missing"),
        (
            lambda r: r["confirmations"].update({"no.such.rule": True}),
            "confirmations.no.such.rule",
            "unknown rule",
        ),
        (
            lambda r: r.update(permits={"nope.rule": {"reference": "X"}}),
            "permits.nope.rule",
            "unknown rule",
        ),
        (
            lambda r: r["pilot"]["skills_evidence"].update({"skill.juggling": "yes"}),
            "pilot.skills_evidence.skill.juggling",
            "unknown skill",
        ),
    ],
)
def test_bad_fields_are_named(tmp_path, change, field, text):
    raw = copy.deepcopy(_raw())
    change(raw)
    err = _error(tmp_path, raw)
    assert err.field == field and text in str(err)


def test_aircraft_and_pilot_by_id_need_a_registry(tmp_path):
    raw = _raw()
    described = raw["aircraft"]
    raw["aircraft"] = "UAV-01"
    err = _error(tmp_path, raw)
    assert err.field == "aircraft" and "no aircraft registry" in str(err)
    with pytest.raises(InputError, match="unknown aircraft id 'UAV-01'; known: UAV-09"):
        load_operation(_write(tmp_path, raw), TODAY, aircraft_registry={"UAV-09": described})
    operation = load_operation(
        _write(tmp_path, raw), TODAY, aircraft_registry={"UAV-01": described}
    )
    assert operation.aircraft.model == described["model"]
    raw["pilot"] = "P-7"
    with pytest.raises(InputError, match="unknown pilot id 'P-7'"):
        load_operation(
            _write(tmp_path, raw), TODAY, aircraft_registry={"UAV-01": described}, pilot_registry={}
        )


def test_unquoted_times_read_as_times(tmp_path):
    text = (EXAMPLES / "routine.yaml").read_text(encoding="utf-8")
    text = text.replace('start_time: "09:30"', "start_time: 10:30")
    operation = load_operation(_write(tmp_path, text), TODAY)
    assert operation.start_time == time(10, 30)


def test_empty_and_missing_files(tmp_path):
    err = _error(tmp_path, "")
    assert err.field == "--ops" and "empty" in str(err)
    with pytest.raises(InputError, match="no such file"):
        load_operation(tmp_path / "nope.yaml", TODAY)


def test_operation_from_dict_without_data_checks():
    raw = _raw()
    raw["crew"] = {"anything": "x"}
    operation = operation_from_dict(raw, TODAY)
    assert operation.crew == {"anything": "x"}


# -- sunrise and sunset -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "rise", "sett"),
    [
        # National Astronomical Observatory of Japan, Tokyo (35.6895 N, 139.6917 E)
        (date(2024, 6, 21), "04:25", "19:00"),
        (date(2024, 12, 21), "06:47", "16:32"),
        (date(2024, 3, 20), "05:45", "17:53"),
    ],
)
def test_sun_times_match_naoj_within_two_minutes(day, rise, sett):
    times = sun_times(day, 35.6895, 139.6917)
    assert times is not None
    for computed, expected in zip(times, (rise, sett), strict=True):
        hour, minute = map(int, expected.split(":"))
        want = datetime.combine(day, time(hour, minute), tzinfo=JST)
        assert abs((computed - want).total_seconds()) <= 120, (computed, expected)


def test_sun_times_polar_night():
    assert sun_times(date(2024, 12, 21), 80.0, 15.0) is None
