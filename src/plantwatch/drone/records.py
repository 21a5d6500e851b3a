"""Pilots, aircraft and flight records: the paper side of seed 004 §2.4, §2.5 and §4.4 as data.

What the seed asks and what this module checks
----------------------------------------------
* **Pilot experience** (MHLW-2022 §2.4.1, seed 004 line 589): as a guide a pilot should have
  *at least 10 hours of flight experience* (目安として10時間以上の飛行経験を有することが望ましい),
  after the MLIT review guideline for flight permissions, 4-2. :data:`MIN_PILOT_HOURS`;
  :func:`flight_blocked` refuses inspection flights by a pilot with less. The skills of Tables
  2.1 (basic, ``skill.basic.NN``) and 2.2 (for the work, ``skill.work.NN``) are kept as evidence
  (date + what shows it); :func:`missing_skills` lists the items without evidence, which a person
  must judge.
* **Aircraft maintenance** (MHLW-2022 §2.5, seed 004 line 718, repeated in §4.3 line 1125): the
  aircraft is inspected and serviced *every 20 hours of flight* (20 時間の飛行毎に機体の点検整備を
  行い) and a record is kept (Table 2.4, items ``aircraft.NN``). :data:`MAINTENANCE_INTERVAL_HOURS`;
  :func:`maintenance_status` says ``ok`` / ``due_soon`` / ``overdue``, and an overdue aircraft is
  blocked by :func:`flight_blocked`.
* **Flight records** (MHLW-2022 §4.4, seed 004 line 1153): each flight is recorded after the
  MLIT standard manual's "flight record" (無人航空機の飛行記録, Form 2 / 様式2):
  :class:`FlightLogEntry`. Near misses are shared within the plant (§4.4, ヒヤリハット):
  :class:`IncidentReport`.

Storage
-------
:class:`FileRegistry` keeps one JSON Lines file per kind in a data folder (default
``./plantwatch-data/records/``): ``pilots.jsonl``, ``aircraft.jsonl``, ``maintenance.jsonl``,
``flights.jsonl``, ``incidents.jsonl``. Every line is an envelope around one record:

* pilots and aircraft are **revised** by appending a new revision; the latest revision of an id
  wins. A revision states the pilot's or aircraft's hours (and battery cycles) *as of that
  moment* and how many flight-log and maintenance lines existed then; flights logged after it are
  added on read. So logging a flight updates the pilot's and the aircraft's hours and the battery
  cycles without a second write, and hours are never counted twice.
* flights, maintenance records and incidents are **never edited, only appended**; each line
  carries the SHA-256 of its record and of the line before it, so an edited or deleted line is
  detected on read (:class:`~plantwatch.errors.DataError`; a deliberate forger who rewrites
  every hash is not stopped, that needs the database of issue 7).

Every write validates first (a failed validation writes nothing, not even the folder), then,
holding an exclusive ``flock`` on the folder, writes the whole new file to a temporary file,
fsyncs it and renames it over the old one: a crash leaves the old file or the new one, never
half a line.
:class:`RecordsRepository` is the interface the SQLAlchemy store of issue 7 will implement.

Imports: :func:`import_ulog` (PX4 ULog through pyulog) and :func:`import_csv` turn a flight
controller log into take-off and landing times and the airborne duration (:class:`FlightTimes`).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from plantwatch.errors import DataError, InputError
from plantwatch.fileio import atomic_write_bytes as _atomic_write

__all__ = [
    "DEFAULT_DATA_DIR",
    "FORM2_CITATION",
    "JST",
    "MAINTENANCE_CITATION",
    "MAINTENANCE_DUE_SOON_HOURS",
    "MAINTENANCE_INTERVAL_HOURS",
    "MIN_PILOT_HOURS",
    "MIN_PILOT_HOURS_CITATION",
    "Aircraft",
    "FileRegistry",
    "FlightLogEntry",
    "FlightTimes",
    "IncidentReport",
    "MaintenanceRecord",
    "MaintenanceStatus",
    "Pilot",
    "RecordsRepository",
    "RequirementEvidence",
    "SkillEvidence",
    "TotalsRow",
    "flight_blocked",
    "import_csv",
    "import_ulog",
    "maintenance_status",
    "missing_skills",
    "pilot_may_inspect",
]

# MHLW-2022 §2.4.1 (seed 004 line 589): "目安として10時間以上の飛行経験を有することが望ましい"
# (as a guide, 10 hours or more of flight experience), after the MLIT review guideline for
# flight permissions and approvals, 4-2. "10 時間以上" includes 10 h itself.
MIN_PILOT_HOURS = 10.0
MIN_PILOT_HOURS_CITATION = "MHLW-2022 §2.4.1 (seed 004 line 589); MLIT review guideline 4-2"
# MHLW-2022 §2.5 (seed 004 line 718) and §4.3 (line 1125): "20 時間の飛行毎に機体の点検整備を行い"
# (inspect and service the aircraft every 20 hours of flight), after the MLIT standard manual.
MAINTENANCE_INTERVAL_HOURS = 20.0
MAINTENANCE_CITATION = "MHLW-2022 §2.5, Table 2.4 (seed 004 line 718); §4.3 (line 1125)"
# plantwatch's own warning margin before maintenance falls due (not from the seed): one short
# inspection day of flying.
MAINTENANCE_DUE_SOON_HOURS = 2.0
FORM2_CITATION = "MHLW-2022 §4.4 (seed 004 line 1153); MLIT standard manual Form 2 (様式2)"
# Japan Standard Time: UTC+9 all year (Japan has no daylight saving time). Form 2 times are local.
JST = dt.timezone(dt.timedelta(hours=9), "JST")
DEFAULT_DATA_DIR = Path("plantwatch-data") / "records"
# Tables 2.1 (five basic skills) and 2.2 (three skills for the work), seed 004 lines 594-621;
# used when data/crew/pilot_skills.yaml is not there.
DEFAULT_SKILL_IDS: tuple[str, ...] = (
    *(f"skill.basic.{i:02d}" for i in range(1, 6)),
    *(f"skill.work.{i:02d}" for i in range(1, 4)),
)
# CSV import: height above the first sample that counts as airborne when only altitude is logged
# (plantwatch's choice: above GPS/baro noise on the ground, below any working height).
AIRBORNE_ALTITUDE_M = 1.0
# PX4 vehicle_status.arming_state: 2 = ARMED (ARMING_STATE_ARMED in both the old and the new
# state enumerations of msg/VehicleStatus.msg).
PX4_ARMING_STATE_ARMED = 2

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_SKILL_PATTERN = r"^skill\.(basic|work)\.\d{2}$"
_REQUIREMENT_PATTERN = r"^aircraft\.\d{2}$"
_FILES = {
    "pilot": "pilots.jsonl",
    "aircraft": "aircraft.jsonl",
    "maintenance": "maintenance.jsonl",
    "flight": "flights.jsonl",
    "incident": "incidents.jsonl",
}
_CHAINED = ("flight", "maintenance", "incident")  # append-only: each line hashes the one before
_ID_PREFIX = {"flight": "F", "maintenance": "M", "incident": "I"}


# --------------------------------------------------------------------------------------------
# records


class _Record(BaseModel):
    """Base of the records: frozen, no unknown fields, and :class:`InputError` on bad input."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _input_error(exc, type(self).__name__) from None

    @classmethod
    def from_dict(cls: type[_R], data: dict[str, Any]) -> _R:
        """Validate a mapping (a file, a form); errors are :class:`InputError` naming the field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _input_error(exc, cls.__name__) from None


_R = TypeVar("_R", bound=_Record)


def _input_error(exc: ValidationError, what: str) -> InputError:
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"])
    inner = err.get("ctx", {}).get("error")
    if isinstance(inner, InputError):  # a record's own __init__ (nested or not) already said it
        prefix = f"{inner.field}: " if inner.field else ""
        field = ".".join(part for part in (loc, inner.field) if part) or what
        return InputError(str(inner).removeprefix(prefix), field=field)
    field = loc or what
    message = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    if (
        err["type"] != "missing"
        and "got " not in message
        and repr(value) not in message
        and not isinstance(value, dict | BaseModel)
    ):
        message += f" (got {value!r})"
    return InputError(message, field=field)


class SkillEvidence(_Record):
    """Evidence that a pilot has one skill of Table 2.1 or 2.2 (MHLW-2022 §2.4.1).

    Parameters
    ----------
    item_id
        ``skill.basic.NN`` (Table 2.1 item NN) or ``skill.work.NN`` (Table 2.2 item NN).
    date
        When the skill was shown.
    evidence
        What shows it (course certificate, supervised practice log, examiner's name).
    """

    item_id: str = Field(pattern=_SKILL_PATTERN)
    date: dt.date
    evidence: str = Field(min_length=1)

    @field_validator("item_id")
    @classmethod
    def _known_skill(cls, value: str) -> str:
        return _check_known(value, _skill_ids(), "pilot_skills.yaml")


class RequirementEvidence(_Record):
    """Evidence for one aircraft requirement / inspection item of Table 2.4 (``aircraft.NN``)."""

    item_id: str = Field(pattern=_REQUIREMENT_PATTERN)
    date: dt.date
    evidence: str = Field(min_length=1)

    @field_validator("item_id")
    @classmethod
    def _known_requirement(cls, value: str) -> str:
        return _check_known(value, _requirement_ids(), "aircraft_requirements.yaml")


class Pilot(_Record):
    """A remote pilot.

    Parameters
    ----------
    id
        Stable id (letters, digits, ``_.-``).
    name
        Full name, as on Form 2 (飛行させた者の氏名).
    flight_hours
        Total flight experience [h]. In a revision it is the total *as of that revision*; the
        registry returns it with every flight logged since added.
    skills
        Evidence per Table 2.1/2.2 item.
    """

    id: str = Field(pattern=_ID_PATTERN)
    name: str = Field(min_length=1)
    flight_hours: float = Field(ge=0.0, allow_inf_nan=False)
    skills: tuple[SkillEvidence, ...] = ()
    notes: str = ""


class Aircraft(_Record):
    """An aircraft with its registration, hours, batteries and maintenance state.

    Parameters
    ----------
    id
        Stable id used by the records (``ac-01``).
    model
        Make and model.
    registration
        Japanese registration mark (登録記号, ``JU...``), required for aircraft of 100 g or more
        (Aviation Act Art. 131-4); ``None`` when not registered.
    remote_id
        Remote ID serial, ``None`` when the aircraft has none.
    explosion_proof
        Certified for use in hazardous (Ex) zones.
    mass_kg
        Take-off mass [kg].
    flight_hours
        Total flight hours [h] (as of the revision; the registry adds later flights).
    battery_cycles
        Charge cycles per battery id (one flight = one cycle per battery used).
    last_maintenance_hours, last_maintenance_date
        Flight hours and date of the last 20-hour maintenance (Table 2.4); ``None``: none yet,
        hours are counted from 0 h.
    requirements
        Evidence per Table 2.4 item ``aircraft.NN``.
    """

    id: str = Field(pattern=_ID_PATTERN)
    model: str = Field(min_length=1)
    registration: str | None = None
    remote_id: str | None = None
    explosion_proof: bool = False
    mass_kg: float = Field(gt=0.0, allow_inf_nan=False)
    flight_hours: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    battery_cycles: dict[str, int] = Field(default_factory=dict)
    last_maintenance_hours: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    last_maintenance_date: dt.date | None = None
    requirements: tuple[RequirementEvidence, ...] = ()
    notes: str = ""

    @field_validator("battery_cycles")
    @classmethod
    def _cycles(cls, value: dict[str, int]) -> dict[str, int]:
        for battery, cycles in value.items():
            _check_id(battery, "battery id")
            if cycles < 0:
                raise ValueError(f"battery {battery!r} has {cycles} cycles; must be >= 0")
        return value

    @field_validator("last_maintenance_hours")
    @classmethod
    def _maintenance_within_hours(cls, value: float | None, info: ValidationInfo) -> float | None:
        hours = info.data.get("flight_hours")
        if value is not None and hours is not None and value > hours:
            raise ValueError(f"must be <= flight_hours ({hours:g} h), got {value:g} h")
        return value


class FlightLogEntry(_Record):
    """One flight, with the fields of Form 2 (様式2, 無人航空機の飛行記録; MHLW-2022 §4.4).

    Parameters
    ----------
    id
        Assigned by the registry (``F00001``); leave ``None`` when adding.
    date
        Flight date (飛行年月日), local time (JST).
    pilot_id, aircraft_id
        Who flew (飛行させた者) and what (registered ids).
    registration
        Registration mark (登録記号); filled from the aircraft when ``None``.
    place
        Take-off/landing place (離着陸場所).
    purpose
        Purpose and route of the flight (飛行の目的及び経路).
    takeoff_time, landing_time
        Take-off and landing (離陸時刻, 着陸時刻), local time; landing after take-off.
    duration_s
        Flight time (飛行時間) [s]; default landing - take-off. A log import gives the airborne
        time, which may be shorter (several hops), never longer.
    anomalies
        Matters affecting flight safety (飛行の安全に影響のあった事項), empty when none.
    notes
        Other remarks (その他の特記事項).
    batteries
        Battery ids used (each gets one cycle).
    source_file
        Log file the times came from, if any.
    pilot_licence_number, route, specified_flight, takeoff_place, landing_place
        Further fields of ``data/forms/flight_log.yaml`` (Form 2 and the Aviation Act flight
        log, Art. 132-89), optional.
    defects, defect_action, post_flight_check, maintenance, indoor_events
        Further fields of the form, optional.
    submitted_to, submitted_on, lessons_shared
        Submission to the flight-plan approver and lessons shared (§4.4), optional. The form's
        ``total_flight_time`` is derived: the aircraft's hours after the flight
        (:meth:`FileRegistry.aircraft_hours_after`).
    """

    id: str | None = None
    date: dt.date
    pilot_id: str = Field(pattern=_ID_PATTERN)
    aircraft_id: str = Field(pattern=_ID_PATTERN)
    registration: str | None = None
    place: str = ""
    purpose: str = ""
    takeoff_time: dt.time
    landing_time: dt.time
    duration_s: float | None = Field(default=None, validate_default=True, allow_inf_nan=False)
    anomalies: str = ""
    notes: str = ""
    batteries: tuple[str, ...] = ()
    source_file: str | None = None
    # the further Form 2 / flight-log fields of data/forms/flight_log.yaml (all optional)
    pilot_licence_number: str = ""
    route: str = ""
    specified_flight: str = ""
    takeoff_place: str = ""
    landing_place: str = ""
    defects: str = ""
    defect_action: str = ""
    post_flight_check: str = ""
    maintenance: str = ""
    indoor_events: str = ""
    submitted_to: str = ""
    submitted_on: dt.date | None = None
    lessons_shared: str = ""

    @field_validator("landing_time")
    @classmethod
    def _landing_after_takeoff(cls, value: dt.time, info: ValidationInfo) -> dt.time:
        takeoff = info.data.get("takeoff_time")
        if takeoff is not None and value <= takeoff:
            raise ValueError(
                f"must be after takeoff_time {takeoff.isoformat()} on the same day, "
                f"got {value.isoformat()}"
            )
        return value

    @field_validator("duration_s")
    @classmethod
    def _duration(cls, value: float | None, info: ValidationInfo) -> float:
        takeoff, landing = info.data.get("takeoff_time"), info.data.get("landing_time")
        span_s = (
            _seconds_of_day(landing) - _seconds_of_day(takeoff)
            if takeoff is not None and landing is not None
            else math.inf
        )
        if value is None:
            if not math.isfinite(span_s):
                raise ValueError("needs takeoff_time and landing_time")
            return span_s
        if value <= 0.0:
            raise ValueError(f"must be > 0 s, got {value:g}")
        if value > span_s + 1.0:  # 1 s: times are kept to the second
            raise ValueError(f"{value:g} s is longer than landing - takeoff ({span_s:g} s)")
        return value

    @field_validator("batteries")
    @classmethod
    def _battery_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for battery in value:
            _check_id(battery, "battery id")
        if len(set(value)) != len(value):
            raise ValueError(f"lists a battery twice: {', '.join(value)}")
        return value

    @property
    def hours(self) -> float:
        """Flight time [h]."""
        return (self.duration_s or 0.0) / 3600.0


class MaintenanceRecord(_Record):
    """A 20-hour inspection and service of an aircraft (Table 2.4 record).

    Parameters
    ----------
    id
        Assigned by the registry (``M00001``).
    aircraft_id
        The aircraft (点検機体名).
    date
        Inspection date (点検日).
    inspector
        Who inspected (点検者).
    items_checked
        Table 2.4 items inspected (``aircraft.NN``).
    parts_replaced
        Parts replaced (交換部品等).
    notes
        Results and remarks (点検結果, 特記事項).
    aircraft_hours
        The aircraft's flight hours at the inspection; the registry fills in the current hours.
    """

    id: str | None = None
    aircraft_id: str = Field(pattern=_ID_PATTERN)
    date: dt.date
    inspector: str = ""
    items_checked: tuple[str, ...] = ()
    parts_replaced: str = ""
    notes: str = ""
    aircraft_hours: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)

    @field_validator("items_checked")
    @classmethod
    def _items(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = _requirement_ids()
        for item in value:
            if not _matches(item, _REQUIREMENT_PATTERN):
                raise ValueError(f"{item!r} is not a Table 2.4 item id (aircraft.NN)")
            _check_known(item, known, "aircraft_requirements.yaml")
        return value


class IncidentReport(_Record):
    """An accident, incident or near miss (ヒヤリハット; MHLW-2022 §4.4, shared in the plant).

    Parameters
    ----------
    id
        Assigned by the registry (``I00001``).
    kind
        ``incident`` or ``near_miss``.
    date
        When it happened.
    description
        What happened.
    actions
        What was done and what changes (countermeasures).
    pilot_id, aircraft_id, flight_id
        Registered ids it concerns, when known.
    """

    id: str | None = None
    kind: Literal["incident", "near_miss"]
    date: dt.date
    description: str = Field(min_length=1)
    actions: str = ""
    place: str = ""
    pilot_id: str | None = None
    aircraft_id: str | None = None
    flight_id: str | None = None


# --------------------------------------------------------------------------------------------
# rules


class MaintenanceStatus(TypedDict):
    """Result of :func:`maintenance_status`."""

    state: Literal["ok", "due_soon", "overdue"]
    hours_since: float
    hours_left: float
    interval_hours: float
    last_maintenance_date: str | None


def maintenance_status(
    aircraft: Aircraft,
    *,
    interval_hours: float = MAINTENANCE_INTERVAL_HOURS,
    due_soon_hours: float = MAINTENANCE_DUE_SOON_HOURS,
) -> MaintenanceStatus:
    """Where an aircraft stands in its 20-flight-hour maintenance cycle (MHLW-2022 §2.5).

    Parameters
    ----------
    aircraft
        With current ``flight_hours`` (as returned by a registry).
    interval_hours
        Hours of flight between inspections (20 h, seed 004 line 718).
    due_soon_hours
        ``due_soon`` when at most this many hours are left (plantwatch's margin).

    Returns
    -------
    status
        ``state``: ``overdue`` once ``hours_since >= interval_hours`` (the inspection falls due
        at 20 h and the next flight waits for it), ``due_soon`` when ``hours_left <=
        due_soon_hours``, else ``ok``; ``hours_since`` since the last maintenance (from 0 h if
        none), ``hours_left`` (negative when overdue).
    """
    hours_since = round(aircraft.flight_hours - (aircraft.last_maintenance_hours or 0.0), 6)
    hours_left = round(interval_hours - hours_since, 6)
    state: Literal["ok", "due_soon", "overdue"]
    if hours_left <= 0.0:
        state = "overdue"
    elif hours_left <= due_soon_hours:
        state = "due_soon"
    else:
        state = "ok"
    last = aircraft.last_maintenance_date
    return {
        "state": state,
        "hours_since": hours_since,
        "hours_left": hours_left,
        "interval_hours": interval_hours,
        "last_maintenance_date": last.isoformat() if last else None,
    }


def pilot_may_inspect(pilot: Pilot) -> bool:
    """Whether the pilot has the 10 h of flight experience for inspection work (§2.4.1)."""
    return pilot.flight_hours >= MIN_PILOT_HOURS


def missing_skills(pilot: Pilot) -> list[str]:
    """Table 2.1/2.2 skill ids without evidence for this pilot (a person judges the evidence)."""
    shown = {skill.item_id for skill in pilot.skills}
    return [item for item in sorted(_skill_ids() or DEFAULT_SKILL_IDS) if item not in shown]


def flight_blocked(aircraft: Aircraft, pilot: Pilot) -> list[str]:
    """Reasons this pilot may not fly this aircraft on an inspection flight; empty when none.

    Parameters
    ----------
    aircraft, pilot
        With current hours (as returned by a registry).

    Returns
    -------
    reasons
        One line each, with the rule's citation: the aircraft's 20-hour maintenance is overdue
        (§2.5), the pilot has less than 10 h of flight experience (§2.4.1).
    """
    reasons = []
    status = maintenance_status(aircraft)
    if status["state"] == "overdue":
        reasons.append(
            f"aircraft {aircraft.id}: maintenance overdue, {status['hours_since']:.2f} h flown "
            f"since the last maintenance (due every {MAINTENANCE_INTERVAL_HOURS:g} flight hours; "
            f"{MAINTENANCE_CITATION})"
        )
    if not pilot_may_inspect(pilot):
        reasons.append(
            f"pilot {pilot.id}: {pilot.flight_hours:.2f} h of flight experience, inspection "
            f"flights need >= {MIN_PILOT_HOURS:g} h ({MIN_PILOT_HOURS_CITATION})"
        )
    return reasons


# --------------------------------------------------------------------------------------------
# totals and the repository interface


@dataclass(frozen=True)
class TotalsRow:
    """Totals of one pilot or aircraft over the flight log.

    Attributes
    ----------
    id, name
        Pilot id and name, or aircraft id and model.
    flights
        Logged flights.
    hours
        Logged flight hours [h].
    total_hours
        All flight hours including those before the registry [h].
    last_flight
        Date of the latest logged flight.
    incidents
        Incident and near-miss reports naming it.
    """

    id: str
    name: str
    flights: int
    hours: float
    total_hours: float
    last_flight: dt.date | None
    incidents: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {
            "id": self.id,
            "name": self.name,
            "flights": self.flights,
            "hours": round(self.hours, 4),
            "total_hours": round(self.total_hours, 4),
            "last_flight": self.last_flight.isoformat() if self.last_flight else None,
            "incidents": self.incidents,
        }


class RecordsRepository(Protocol):
    """What a records store offers (files today, SQLAlchemy in issue 7).

    Pilots and aircraft are added and revised; flights, maintenance and incidents are only
    appended. Getters return pilots and aircraft with their current hours and cycles. Unknown ids
    and bad records raise :class:`InputError` naming the field, and then nothing is written.
    """

    def add_pilot(self, pilot: Pilot) -> Pilot: ...
    def update_pilot(self, pilot: Pilot) -> Pilot: ...
    def get_pilot(self, pilot_id: str) -> Pilot: ...
    def pilots(self) -> list[Pilot]: ...
    def add_aircraft(self, aircraft: Aircraft) -> Aircraft: ...
    def update_aircraft(self, aircraft: Aircraft) -> Aircraft: ...
    def get_aircraft(self, aircraft_id: str) -> Aircraft: ...
    def aircraft(self) -> list[Aircraft]: ...
    def add_flight(self, entry: FlightLogEntry) -> FlightLogEntry: ...
    def flights(
        self, *, pilot_id: str | None = None, aircraft_id: str | None = None
    ) -> list[FlightLogEntry]: ...
    def aircraft_hours_after(self) -> dict[str, float]: ...
    def add_maintenance(self, record: MaintenanceRecord) -> MaintenanceRecord: ...
    def maintenance_records(self, aircraft_id: str | None = None) -> list[MaintenanceRecord]: ...
    def add_incident(self, report: IncidentReport) -> IncidentReport: ...
    def incidents(self) -> list[IncidentReport]: ...
    def totals(self, kind: Literal["pilot", "aircraft"] = "pilot") -> list[TotalsRow]: ...


# --------------------------------------------------------------------------------------------
# file registry


class _Snapshot:
    """All records as read at one moment, with the derived hours, cycles and maintenance."""

    def __init__(self, lines: dict[str, list[dict[str, Any]]]) -> None:
        self.lines = lines
        self.flights = [FlightLogEntry.model_validate(e["record"]) for e in lines["flight"]]
        self.maintenance = [
            MaintenanceRecord.model_validate(e["record"]) for e in lines["maintenance"]
        ]
        self.incidents = [IncidentReport.model_validate(e["record"]) for e in lines["incident"]]
        self.pilots = {p.id: p for p in (self._pilot(e) for e in self._latest("pilot"))}
        self.aircraft = {a.id: a for a in (self._aircraft(e) for e in self._latest("aircraft"))}

    def _latest(self, kind: str) -> list[dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for envelope in self.lines[kind]:
            latest[envelope["record"]["id"]] = envelope
        return [latest[key] for key in sorted(latest)]

    def _pilot(self, envelope: dict[str, Any]) -> Pilot:
        pilot = Pilot.model_validate(envelope["record"])
        later = self.flights[envelope["flights_seen"] :]
        logged_s = sum(f.duration_s or 0.0 for f in later if f.pilot_id == pilot.id)
        return pilot.model_copy(update={"flight_hours": pilot.flight_hours + logged_s / 3600.0})

    def _aircraft(self, envelope: dict[str, Any]) -> Aircraft:
        aircraft = Aircraft.model_validate(envelope["record"])
        later = [
            f for f in self.flights[envelope["flights_seen"] :] if f.aircraft_id == aircraft.id
        ]
        cycles = dict(aircraft.battery_cycles)
        for flight in later:
            for battery in flight.batteries:
                cycles[battery] = cycles.get(battery, 0) + 1
        update: dict[str, Any] = {
            "flight_hours": aircraft.flight_hours + sum(f.hours for f in later),
            "battery_cycles": cycles,
        }
        services = [
            m
            for m in self.maintenance[envelope["maintenance_seen"] :]
            if m.aircraft_id == aircraft.id
        ]
        if services:
            update["last_maintenance_hours"] = services[-1].aircraft_hours
            update["last_maintenance_date"] = services[-1].date
        return aircraft.model_copy(update=update)

    def pilot(self, pilot_id: str, field: str = "pilot_id") -> Pilot:
        if pilot_id not in self.pilots:
            raise InputError(
                f"unknown pilot {pilot_id!r}; registered: {', '.join(self.pilots) or 'none'}",
                field=field,
            )
        return self.pilots[pilot_id]

    def aircraft_by_id(self, aircraft_id: str, field: str = "aircraft_id") -> Aircraft:
        if aircraft_id not in self.aircraft:
            raise InputError(
                f"unknown aircraft {aircraft_id!r}; registered: "
                f"{', '.join(self.aircraft) or 'none'}",
                field=field,
            )
        return self.aircraft[aircraft_id]


class FileRegistry:
    """Pilots, aircraft and records in JSON Lines files under ``data_dir`` (see module doc).

    Parameters
    ----------
    data_dir
        The folder; created on the first successful write.
    today
        Today's date for the "not in the future" checks (default: today in JST).
    """

    def __init__(
        self, data_dir: str | Path = DEFAULT_DATA_DIR, *, today: dt.date | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        self._today = today

    # ---- pilots and aircraft (revised)

    def add_pilot(self, pilot: Pilot) -> Pilot:
        """Register a new pilot (``InputError`` if the id exists)."""
        self._revise("pilot", pilot, new=True)
        return self.get_pilot(pilot.id)

    def update_pilot(self, pilot: Pilot) -> Pilot:
        """Append a revision of a registered pilot; its ``flight_hours`` is the total now."""
        self._revise("pilot", pilot, new=False)
        return self.get_pilot(pilot.id)

    def get_pilot(self, pilot_id: str) -> Pilot:
        """A pilot with current hours (``InputError`` naming ``pilot_id`` if unknown)."""
        return self._snapshot().pilot(pilot_id)

    def pilots(self) -> list[Pilot]:
        """All pilots by id, with current hours."""
        return list(self._snapshot().pilots.values())

    def add_aircraft(self, aircraft: Aircraft) -> Aircraft:
        """Register a new aircraft (``InputError`` if the id exists)."""
        self._revise("aircraft", aircraft, new=True)
        return self.get_aircraft(aircraft.id)

    def update_aircraft(self, aircraft: Aircraft) -> Aircraft:
        """Append a revision of a registered aircraft (hours and cycles are totals now)."""
        self._revise("aircraft", aircraft, new=False)
        return self.get_aircraft(aircraft.id)

    def get_aircraft(self, aircraft_id: str) -> Aircraft:
        """An aircraft with current hours, cycles and last maintenance."""
        return self._snapshot().aircraft_by_id(aircraft_id)

    def aircraft(self) -> list[Aircraft]:
        """All aircraft by id, with current hours, cycles and last maintenance."""
        return list(self._snapshot().aircraft.values())

    # ---- append-only records

    def add_flight(self, entry: FlightLogEntry) -> FlightLogEntry:
        """Append a flight to the log; the pilot's and aircraft's hours and cycles follow.

        Raises
        ------
        InputError
            Unknown ``pilot_id``/``aircraft_id``/battery, a registration that is not the
            aircraft's, a date in the future, a flight overlapping another of the same pilot or
            aircraft, or an ``id`` set by the caller. Nothing is written then.
        """

        def build(snap: _Snapshot) -> FlightLogEntry:
            if entry.id is not None:
                raise InputError(f"is assigned by the registry, got {entry.id!r}", field="id")
            self._not_future(entry.date, "date")
            snap.pilot(entry.pilot_id)
            aircraft = snap.aircraft_by_id(entry.aircraft_id)
            registration = entry.registration or aircraft.registration
            if entry.registration and entry.registration != aircraft.registration:
                raise InputError(
                    f"{entry.registration!r} is not aircraft {aircraft.id}'s registration "
                    f"({aircraft.registration!r})",
                    field="registration",
                )
            for battery in entry.batteries:
                if battery not in aircraft.battery_cycles:
                    raise InputError(
                        f"unknown battery {battery!r} for aircraft {aircraft.id}; registered: "
                        f"{', '.join(sorted(aircraft.battery_cycles)) or 'none'}",
                        field="batteries",
                    )
            for other in snap.flights:
                same = other.pilot_id == entry.pilot_id or other.aircraft_id == entry.aircraft_id
                if same and other.date == entry.date and _overlaps(other, entry):
                    raise InputError(
                        f"{entry.takeoff_time}-{entry.landing_time} overlaps flight {other.id} "
                        f"({other.takeoff_time}-{other.landing_time}, pilot {other.pilot_id}, "
                        f"aircraft {other.aircraft_id})",
                        field="takeoff_time",
                    )
            return entry.model_copy(
                update={"id": _next_id("flight", snap), "registration": registration}
            )

        return self._append("flight", build)

    def flights(
        self, *, pilot_id: str | None = None, aircraft_id: str | None = None
    ) -> list[FlightLogEntry]:
        """The flight log in the order recorded, optionally for one pilot or aircraft."""
        return [
            f
            for f in self._snapshot().flights
            if (pilot_id is None or f.pilot_id == pilot_id)
            and (aircraft_id is None or f.aircraft_id == aircraft_id)
        ]

    def aircraft_hours_after(self) -> dict[str, float]:
        """Each logged flight's aircraft total flight hours after it (Form 2 総飛行時間) [h].

        Returns
        -------
        hours
            Flight id -> the aircraft's current hours less the flights it made after that one.
        """
        snap = self._snapshot()
        after: dict[str, float] = {}
        later_h: dict[str, float] = {}
        for flight in reversed(snap.flights):
            aircraft = snap.aircraft.get(flight.aircraft_id)
            if aircraft is None or flight.id is None:
                continue
            done = later_h.get(flight.aircraft_id, 0.0)
            after[flight.id] = aircraft.flight_hours - done
            later_h[flight.aircraft_id] = done + flight.hours
        return after

    def add_maintenance(self, record: MaintenanceRecord) -> MaintenanceRecord:
        """Append a maintenance record; it restarts the aircraft's 20-hour count.

        ``aircraft_hours`` defaults to the aircraft's current hours; a given value must lie
        between the last maintenance and now. The date may not be in the future nor before the
        last maintenance.
        """

        def build(snap: _Snapshot) -> MaintenanceRecord:
            if record.id is not None:
                raise InputError(f"is assigned by the registry, got {record.id!r}", field="id")
            self._not_future(record.date, "date")
            aircraft = snap.aircraft_by_id(record.aircraft_id)
            last_date, last_hours = aircraft.last_maintenance_date, aircraft.last_maintenance_hours
            if last_date is not None and record.date < last_date:
                raise InputError(
                    f"{record.date} is before the last maintenance ({last_date})", field="date"
                )
            hours = (
                aircraft.flight_hours if record.aircraft_hours is None else record.aircraft_hours
            )
            if hours > aircraft.flight_hours + 1e-9 or hours < (last_hours or 0.0) - 1e-9:
                raise InputError(
                    f"must lie between the last maintenance ({last_hours or 0.0:g} h) and the "
                    f"aircraft's hours now ({aircraft.flight_hours:g} h), got {hours:g}",
                    field="aircraft_hours",
                )
            return record.model_copy(
                update={"id": _next_id("maintenance", snap), "aircraft_hours": hours}
            )

        return self._append("maintenance", build)

    def maintenance_records(self, aircraft_id: str | None = None) -> list[MaintenanceRecord]:
        """Maintenance records in the order recorded."""
        return [
            m
            for m in self._snapshot().maintenance
            if aircraft_id is None or m.aircraft_id == aircraft_id
        ]

    def add_incident(self, report: IncidentReport) -> IncidentReport:
        """Append an incident or near-miss report (ids it names must be registered)."""

        def build(snap: _Snapshot) -> IncidentReport:
            if report.id is not None:
                raise InputError(f"is assigned by the registry, got {report.id!r}", field="id")
            self._not_future(report.date, "date")
            if report.pilot_id is not None:
                snap.pilot(report.pilot_id)
            if report.aircraft_id is not None:
                snap.aircraft_by_id(report.aircraft_id)
            if report.flight_id is not None and report.flight_id not in {
                f.id for f in snap.flights
            }:
                raise InputError(f"unknown flight {report.flight_id!r}", field="flight_id")
            return report.model_copy(update={"id": _next_id("incident", snap)})

        return self._append("incident", build)

    def incidents(self) -> list[IncidentReport]:
        """Incident and near-miss reports in the order recorded."""
        return list(self._snapshot().incidents)

    # ---- queries

    def totals(self, kind: Literal["pilot", "aircraft"] = "pilot") -> list[TotalsRow]:
        """Flights, hours, last flight and incidents per pilot or per aircraft.

        Parameters
        ----------
        kind
            ``"pilot"`` or ``"aircraft"``.
        """
        if kind not in ("pilot", "aircraft"):
            raise InputError(f"must be 'pilot' or 'aircraft', got {kind!r}", field="kind")
        snap = self._snapshot()
        entities: Sequence[Pilot | Aircraft] = list(
            snap.pilots.values() if kind == "pilot" else snap.aircraft.values()
        )
        rows = []
        for entity in entities:
            key = "pilot_id" if kind == "pilot" else "aircraft_id"
            mine = [f for f in snap.flights if getattr(f, key) == entity.id]
            rows.append(
                TotalsRow(
                    id=entity.id,
                    name=entity.name if isinstance(entity, Pilot) else entity.model,
                    flights=len(mine),
                    hours=sum(f.hours for f in mine),
                    total_hours=entity.flight_hours,
                    last_flight=max((f.date for f in mine), default=None),
                    incidents=sum(1 for i in snap.incidents if getattr(i, key) == entity.id),
                )
            )
        return rows

    def maintenance_overview(self) -> list[tuple[Aircraft, MaintenanceStatus]]:
        """Every aircraft with its :func:`maintenance_status`."""
        return [(a, maintenance_status(a)) for a in self._snapshot().aircraft.values()]

    # ---- storage

    def _not_future(self, day: dt.date, field: str) -> None:
        today = self._today or dt.datetime.now(JST).date()
        if day > today:
            raise InputError(f"{day} is in the future (today is {today})", field=field)

    def _revise(self, kind: str, record: Pilot | Aircraft, *, new: bool) -> None:
        def build(snap: _Snapshot) -> Pilot | Aircraft:
            known = snap.pilots if kind == "pilot" else snap.aircraft
            if new and record.id in known:
                raise InputError(f"{kind} {record.id!r} is already registered", field="id")
            if not new and record.id not in known:
                raise InputError(f"unknown {kind} {record.id!r}", field="id")
            return record

        self._append(kind, build)

    def _path(self, kind: str) -> Path:
        return self.data_dir / _FILES[kind]

    def _read_lines(self, kind: str) -> tuple[list[dict[str, Any]], bytes]:
        path = self._path(kind)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return [], b""
        except OSError as exc:
            raise DataError(f"{path}: cannot be read: {exc.strerror}") from None
        envelopes: list[dict[str, Any]] = []
        previous = ""
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                envelope = json.loads(line)
                if not isinstance(envelope["record"]["id"], str):
                    raise TypeError("record id")
            except (ValueError, KeyError, TypeError):
                raise DataError(f"{path} line {number}: not a plantwatch record") from None
            if kind in _CHAINED:
                chained = envelope.get("prev_sha256") == previous
                if not chained or envelope.get("record_sha256") != _record_hash(envelope):
                    raise DataError(
                        f"{path} line {number}: the log was edited or a line removed "
                        "(append-only records; the hash chain breaks here)"
                    )
                previous = hashlib.sha256(line).hexdigest()
            envelopes.append(envelope)
        return envelopes, raw

    def _snapshot(self) -> _Snapshot:
        lines = {kind: self._read_lines(kind)[0] for kind in _FILES}
        try:
            return _Snapshot(lines)
        except (ValidationError, InputError, KeyError, TypeError) as exc:
            raise DataError(f"{self.data_dir}: a stored record is invalid: {exc}") from None

    def _append(self, kind: str, build: Callable[[_Snapshot], _R]) -> _R:
        build(self._snapshot())  # validate before creating anything
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            snap = self._snapshot()  # again under the lock: another writer may have appended
            record = build(snap)
            _, raw = self._read_lines(kind)
            envelope: dict[str, Any] = {
                "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            }
            if kind in ("pilot", "aircraft"):
                envelope["flights_seen"] = len(snap.flights)
                envelope["maintenance_seen"] = len(snap.maintenance)
            if kind in _CHAINED:
                last = [line for line in raw.splitlines() if line.strip()]
                envelope["prev_sha256"] = hashlib.sha256(last[-1]).hexdigest() if last else ""
            envelope["record"] = record.model_dump(mode="json")
            if kind in _CHAINED:
                envelope["record_sha256"] = _record_hash(envelope)
            line = json.dumps(envelope, ensure_ascii=False, allow_nan=False).encode()
            if raw and not raw.endswith(b"\n"):
                raw += b"\n"
            _atomic_write(self._path(kind), raw + line + b"\n")
        return record

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        import fcntl  # POSIX; the registry is a single-host store until issue 7's database

        fd = os.open(self.data_dir, os.O_RDONLY)  # lock the folder itself: no stray lock file
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


def _record_hash(envelope: dict[str, Any]) -> str:
    """SHA-256 of a record in canonical JSON (sorted keys), to catch an edit of the last line."""
    canonical = json.dumps(envelope["record"], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _next_id(kind: str, snap: _Snapshot) -> str:
    return f"{_ID_PREFIX[kind]}{len(snap.lines[kind]) + 1:05d}"


def _overlaps(a: FlightLogEntry, b: FlightLogEntry) -> bool:
    return a.takeoff_time < b.landing_time and b.takeoff_time < a.landing_time


def _seconds_of_day(value: dt.time) -> float:
    return value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6


def _matches(value: str, pattern: str) -> bool:
    return re.match(pattern, value) is not None


def _check_id(value: str, what: str) -> None:
    if not _matches(value, _ID_PATTERN):
        raise ValueError(f"{what} {value!r} must be letters, digits, '_', '.', '-' (max 64)")


def _check_known(value: str, known: frozenset[str] | None, source: str) -> str:
    if known is not None and value not in known:
        raise ValueError(f"{value!r} is not an item of data/crew/{source}")
    return value


@functools.cache
def _crew_ids(name: str) -> frozenset[str] | None:
    """Item ids of a ``data/crew`` YAML file, or ``None`` while the file is not there."""
    path = resources.files("plantwatch") / "data" / "crew" / name
    if not path.is_file():
        return None
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
        return frozenset(str(item["id"]) for item in items)
    except (yaml.YAMLError, TypeError, KeyError) as exc:
        raise DataError(f"data/crew/{name} is not a list of items with ids: {exc}") from None


def _skill_ids() -> frozenset[str] | None:
    return _crew_ids("pilot_skills.yaml")


def _requirement_ids() -> frozenset[str] | None:
    return _crew_ids("aircraft_requirements.yaml")


# --------------------------------------------------------------------------------------------
# log imports


@dataclass(frozen=True)
class FlightTimes:
    """Take-off, landing and airborne time read from a flight-controller log.

    Attributes
    ----------
    takeoff_s, landing_s
        First take-off and last landing [s after the log's first sample].
    duration_s
        Time airborne [s] (the sum over all take-off/landing pairs).
    flights
        Number of take-off/landing pairs in the log.
    start_utc
        Absolute time of the log's first sample (UTC), when the log has it (GPS time in a ULog,
        ISO times in a CSV); ``None`` otherwise.
    method
        How airborne was decided: ``land_detected``, ``armed`` or ``altitude``.
    source
        The file read.
    """

    takeoff_s: float
    landing_s: float
    duration_s: float
    flights: int
    start_utc: dt.datetime | None
    method: str
    source: str

    @property
    def takeoff_at(self) -> dt.datetime | None:
        """Take-off in JST, when the log has absolute time."""
        return self._at(self.takeoff_s)

    @property
    def landing_at(self) -> dt.datetime | None:
        """Landing in JST, when the log has absolute time."""
        return self._at(self.landing_s)

    def _at(self, offset_s: float) -> dt.datetime | None:
        if self.start_utc is None:
            return None
        return (self.start_utc + dt.timedelta(seconds=offset_s)).astimezone(JST)


def _airborne_segments(
    times_s: Sequence[float], airborne: Sequence[bool], end_s: float
) -> list[tuple[float, float]]:
    """Take-off/landing pairs from airborne flags sampled at ``times_s`` (held until the next)."""
    segments: list[tuple[float, float]] = []
    start: float | None = None
    for t, up in zip(times_s, airborne, strict=True):
        if up and start is None:
            start = t
        elif not up and start is not None:
            segments.append((start, t))
            start = None
    if start is not None and end_s > start:
        segments.append((start, end_s))
    return [(a, b) for a, b in segments if b > a]


def _flight_times(
    segments: list[tuple[float, float]],
    start_utc: dt.datetime | None,
    method: str,
    source: Path,
) -> FlightTimes:
    if not segments:
        raise InputError(f"no take-off found in {source.name} ({method})", field="log")
    return FlightTimes(
        takeoff_s=segments[0][0],
        landing_s=segments[-1][1],
        duration_s=sum(b - a for a, b in segments),
        flights=len(segments),
        start_utc=start_utc,
        method=method,
        source=str(source),
    )


def import_ulog(path: str | Path) -> FlightTimes:
    """Take-off and landing from a PX4 ULog file (read with pyulog).

    Airborne is ``not landed`` of ``vehicle_land_detected`` when the log has that topic with a
    take-off, otherwise ``arming_state == ARMED`` of ``vehicle_status`` (or ``armed`` of
    ``actuator_armed`` in older logs). Absolute time comes from the first GPS fix with a UTC time
    (``time_utc_usec`` of ``vehicle_gps_position`` or ``sensor_gps``).

    Parameters
    ----------
    path
        ``.ulg`` file.

    Raises
    ------
    InputError
        Missing or unreadable file, no land-detector or arming topic, no take-off.
    """
    from pyulog import ULog

    source = Path(path)
    topics = [
        "vehicle_land_detected",
        "vehicle_status",
        "actuator_armed",
        "vehicle_gps_position",
        "sensor_gps",
    ]
    if not source.is_file():
        raise InputError(f"no such file: {source}", field="ulog")
    try:
        ulog = ULog(str(source), topics, True)
    except Exception as exc:  # pyulog raises ULogException, struct.error, ValueError, ...
        raise InputError(
            f"{source.name} is not a readable ULog file: {exc}", field="ulog"
        ) from None
    datasets = {d.name: d.data for d in ulog.data_list if d.multi_id == 0}
    t0_us = float(ulog.start_timestamp)
    end_s = (float(ulog.last_timestamp) - t0_us) / 1e6

    def series(topic: str, field: str, up: Callable[[float], bool]) -> list[tuple[float, float]]:
        data = datasets.get(topic)
        if data is None or field not in data:
            return []
        times = [(float(t) - t0_us) / 1e6 for t in data["timestamp"]]
        return _airborne_segments(times, [up(float(v)) for v in data[field]], end_s)

    sources = [
        ("vehicle_land_detected", "landed", "land_detected", lambda v: v == 0),
        ("vehicle_status", "arming_state", "armed", lambda v: v == PX4_ARMING_STATE_ARMED),
        ("actuator_armed", "armed", "armed", lambda v: v != 0),
    ]
    present = [s for s in sources if s[1] in datasets.get(s[0], {})]
    if not present:
        raise InputError(
            f"{source.name} has no vehicle_land_detected, vehicle_status or actuator_armed "
            "topic to find take-off and landing",
            field="ulog",
        )
    method, segments = present[0][2], []
    for topic, field, name, up in present:
        segments = series(topic, field, up)
        if segments:
            method = name
            break
    return _flight_times(segments, _ulog_start_utc(datasets, t0_us), method, source)


def _ulog_start_utc(datasets: dict[str, dict[str, Any]], t0_us: float) -> dt.datetime | None:
    for topic in ("vehicle_gps_position", "sensor_gps"):
        data = datasets.get(topic)
        if data is None or "time_utc_usec" not in data:
            continue
        for stamp, utc_us in zip(data["timestamp"], data["time_utc_usec"], strict=True):
            if int(utc_us) > 0:
                start_us = int(utc_us) - (int(stamp) - int(t0_us))
                return dt.datetime.fromtimestamp(start_us / 1e6, dt.UTC)
    return None


_TRUE = {"1", "true", "yes", "armed", "on"}
_FALSE = {"0", "false", "no", "disarmed", "off", "standby"}


def import_csv(path: str | Path) -> FlightTimes:
    """Take-off and landing from a CSV flight log.

    Columns (header row, case-insensitive): ``time`` — seconds (any origin) or ISO 8601 date-times
    (naive times are JST) — and either ``armed`` (1/0, true/false, armed/disarmed) or
    ``altitude`` / ``altitude_m`` [m]. With ``armed``, airborne is armed; with altitude only,
    airborne is more than :data:`AIRBORNE_ALTITUDE_M` above the first sample.

    Raises
    ------
    InputError
        Missing file or column, a value that does not parse (names the line and column), times
        not increasing, no take-off.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"no such file: {source}", field="csv") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{source.name} cannot be read as UTF-8 text: {exc}", field="csv"
        ) from None
    reader = csv.DictReader(text.splitlines())
    header = {name.strip().lower(): name for name in (reader.fieldnames or []) if name}
    if "time" not in header:
        raise InputError(
            f"{source.name} has no 'time' column (columns: {', '.join(header) or 'none'})",
            field="csv.time",
        )
    flag_column = "armed" if "armed" in header else None
    altitude_column = next((c for c in ("altitude", "altitude_m") if c in header), None)
    if flag_column is None and altitude_column is None:
        raise InputError(
            f"{source.name} needs an 'armed' or an 'altitude' column "
            f"(columns: {', '.join(header)})",
            field="csv.armed",
        )
    rows = list(reader)
    if len(rows) < 2:
        raise InputError(f"{source.name} has {len(rows)} data rows, needs >= 2", field="csv")
    absolute: dt.datetime | None = None
    times_s: list[float] = []
    values: list[float | bool] = []
    for number, row in enumerate(rows, start=2):
        where = f"{source.name} line {number}"
        raw_time = (row.get(header["time"]) or "").strip()
        t_s, stamp = _csv_time(raw_time, f"{where}: time")
        if number == 2:
            absolute = stamp
        elif (stamp is None) != (absolute is None):
            raise InputError(f"{where}: time {raw_time!r} mixes seconds and ISO times", "csv.time")
        if stamp is not None and absolute is not None:
            t_s = (stamp - absolute).total_seconds()
        if times_s and t_s <= times_s[-1]:
            raise InputError(f"{where}: time {raw_time!r} does not increase", field="csv.time")
        times_s.append(t_s)
        if flag_column is not None:
            flag = (row.get(header[flag_column]) or "").strip().lower()
            if flag not in _TRUE | _FALSE:
                raise InputError(
                    f"{where}: armed {flag!r} is not 1/0, true/false or armed/disarmed",
                    field="csv.armed",
                )
            values.append(flag in _TRUE)
        else:
            assert altitude_column is not None
            raw_alt = (row.get(header[altitude_column]) or "").strip()
            try:
                altitude = float(raw_alt)
            except ValueError:
                altitude = math.nan
            if not math.isfinite(altitude):
                raise InputError(
                    f"{where}: {altitude_column} {raw_alt!r} is not a number [m]",
                    field=f"csv.{altitude_column}",
                )
            values.append(altitude)
    origin = times_s[0]
    rel = [t - origin for t in times_s]
    if flag_column is not None:
        airborne, method = [bool(v) for v in values], "armed"
    else:
        ground = float(values[0])
        airborne = [float(v) - ground > AIRBORNE_ALTITUDE_M for v in values]
        method = "altitude"
    segments = _airborne_segments(rel, airborne, rel[-1])
    return _flight_times(segments, absolute, method, source)


def _csv_time(raw: str, where: str) -> tuple[float, dt.datetime | None]:
    """Seconds, or an ISO date-time (returned in UTC; naive means JST)."""
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise InputError(f"{where} {raw!r} is not finite", field="csv.time")
        return seconds, None
    try:
        stamp = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(
            f"{where} {raw!r} is neither seconds nor an ISO 8601 date-time", field="csv.time"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=JST)
    return 0.0, stamp.astimezone(dt.UTC)
