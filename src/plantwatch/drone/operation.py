r"""The operation file (``ops.yaml``): when, how and with what an inspection flight is flown.

The route and the site say *where* the aircraft flies; the operation file says the rest that the
law and the plant's rules ask about: date and time (local, Asia/Tokyo), purpose and capture
methods, day or night, within sight or not, tethered, third-party area closed, events,
dangerous goods, dropping, indoor flight, wind forecast, emergency airspace, the aircraft with
its registration, remote ID, explosion-proof rating, maintenance state and radios, the pilot,
the crew by role (Table 2.3), answers to the questions of ``check: person`` rules
(``confirmations``), permissions already held (``permits``) and, optionally, which airspace
layer set to use (``airspace``). ``docs/compliance.md`` documents every field.

:func:`load_operation` validates the file once, at the boundary, and raises
:class:`~plantwatch.errors.InputError` naming the field: missing or unknown fields, wrong types,
NaN or infinite numbers, contradictions (end before start, more hours since maintenance than
in total), dates before today, unknown crew roles, unknown confirmation or permit rule ids and
aircraft or pilots given by id without a registry that knows them.

Day and night
-------------
The Aviation Act counts as night the time before sunrise and after sunset at the place of the
flight. :func:`sun_times` computes both with the NOAA general solar-position formulas [1]_
(the apparent sunrise/sunset: the upper limb of the Sun on the horizon with 34' of refraction,
solar zenith 90.833 deg); they agree with the National Astronomical Observatory of Japan's
tables to about a minute over Japan, which is why :data:`DAYLIGHT_MARGIN_MIN` exists.

References
----------
.. [1] NOAA Global Monitoring Laboratory, "General Solar Position Calculations",
   https://gml.noaa.gov/grad/solcalc/solareqns.PDF (fractional year, equation of time, solar
   declination, hour angle of sunrise/sunset).
.. [2] Aviation Act (航空法) Art. 132-2 (1) (v) (flight in the daytime only without approval);
   MHLW-2022 §2.1.1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from plantwatch.errors import DataError, InputError

__all__ = [
    "DAYLIGHT_MARGIN_MIN",
    "JST",
    "Aircraft",
    "HeldPermit",
    "Operation",
    "Pilot",
    "Radio",
    "load_operation",
    "operation_from_dict",
    "sun_times",
    "today_jst",
]

JST = timezone(timedelta(hours=9), "JST")
"""Japan Standard Time, UTC+9 (no daylight saving time since 1951): the time zone of every time
in an operation file."""

DAYLIGHT_MARGIN_MIN = 10.0
"""An operation that says ``daylight: true`` may start or end this many minutes outside the
computed sunrise-sunset window before it counts as a contradiction [min] (the NOAA formulas'
~1 min accuracy plus a margin for local horizon and rounding in the file)."""

_SUNRISE_ZENITH_DEG = 90.833  # NOAA [1]: apparent sunrise/sunset (refraction + solar radius)

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]


class _FieldError(ValueError):
    """A validator's error about one field (``field`` relative to the model validated)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, str_strip_whitespace=True)


class Radio(BaseModel):
    """A radio link of the aircraft (control, telemetry, video)."""

    model_config = _CONFIG
    name: NonEmpty
    band_ghz: Positive  # centre of the band used [GHz], e.g. 2.4, 5.7
    licensed: bool = False  # a radio-station licence (and operator licence) is held for it
    certified: bool  # carries Japanese technical conformity (技適) certification


class Aircraft(BaseModel):
    """The aircraft flown (Table 2.4 state)."""

    model_config = _CONFIG
    id: NonEmpty
    model: NonEmpty
    registration: str | None = None  # MLIT registration number, e.g. "JU0123456789"
    remote_id: str | bool | None = None  # remote-ID device serial, or true when built in
    explosion_proof: bool = False  # certified for hazardous areas (Zone 0/1/2)
    mass_kg: Positive  # take-off mass [kg]
    max_wind_m_s: Positive  # maker's wind limit [m/s]
    flight_hours: NonNegative  # total [h]
    hours_since_maintenance: NonNegative  # since the last 20-hour maintenance [h]
    radios: list[Radio] = Field(default_factory=list)

    @model_validator(mode="after")
    def _hours(self) -> Aircraft:
        if self.hours_since_maintenance > self.flight_hours:
            raise _FieldError(
                "hours_since_maintenance",
                f"{self.hours_since_maintenance:g} h exceeds flight_hours "
                f"({self.flight_hours:g} h)",
            )
        return self

    @property
    def has_remote_id(self) -> bool:
        """A remote-ID device is fitted (a serial given, or ``true``)."""
        if isinstance(self.remote_id, str):
            return bool(self.remote_id.strip())
        return self.remote_id is True


class Pilot(BaseModel):
    """The remote pilot."""

    model_config = _CONFIG
    name: NonEmpty
    id: str | None = None
    flight_hours: NonNegative  # total flight time [h]
    skills_evidence: dict[str, NonEmpty] = Field(default_factory=dict)  # skill id -> evidence


class HeldPermit(BaseModel):
    """A permission already granted (e.g. MLIT's one-year comprehensive approval)."""

    model_config = _CONFIG
    reference: NonEmpty  # approval number
    valid_until: date | None = None


class Operation(BaseModel):
    """One inspection operation, as read from ``ops.yaml``.

    Omitted booleans ``tethered``, ``event``, ``dangerous_goods``, ``dropping`` and ``indoor``
    mean "no"; ``visual_line_of_sight`` and ``third_party_area_closed`` must be stated;
    ``daylight`` and ``emergency_airspace`` may be left out (then daylight is computed, and
    emergency airspace becomes a question for a person unless a layer says otherwise).
    """

    model_config = _CONFIG
    date: date
    start_time: time
    end_time: time
    purpose: NonEmpty
    capture: Annotated[list[Literal["visible", "infrared"]], Field(min_length=1)]
    daylight: bool | None = None
    visual_line_of_sight: bool
    tethered: bool = False
    third_party_area_closed: bool
    event: bool = False
    dangerous_goods: bool = False
    dropping: bool = False
    indoor: bool = False
    wind_forecast_m_s: NonNegative
    wind_stop_m_s: Positive | None = None  # the operation's own stop criterion [m/s]
    emergency_airspace: bool | None = None
    aircraft: Aircraft
    pilot: Pilot
    crew: dict[str, NonEmpty]
    confirmations: dict[str, bool] = Field(default_factory=dict)
    permits: dict[str, HeldPermit] = Field(default_factory=dict)
    airspace: NonEmpty | None = None  # layer folder (relative to this file) or sample set name

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("start_time", "end_time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(f"give the time as a quoted 'HH:MM', got the number {value}")
        return value

    @field_validator("capture")
    @classmethod
    def _unique_capture(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"lists a method twice: {value}")
        return value

    @model_validator(mode="after")
    def _times(self) -> Operation:
        if self.start_time.tzinfo is not None or self.end_time.tzinfo is not None:
            raise _FieldError("start_time", "give local Japan time without a time zone")
        if self.end_time <= self.start_time:
            raise _FieldError(
                "end_time",
                f"{self.end_time:%H:%M} is not after start_time {self.start_time:%H:%M} "
                "(split a flight past midnight into two operations)",
            )
        return self

    @property
    def source_path(self) -> Path | None:
        """The file the operation was read from (``None`` when built in code)."""
        return self._source

    @property
    def start(self) -> datetime:
        """Start of the flight window (aware, JST)."""
        return datetime.combine(self.date, self.start_time, tzinfo=JST)

    @property
    def end(self) -> datetime:
        """End of the flight window (aware, JST)."""
        return datetime.combine(self.date, self.end_time, tzinfo=JST)


# -- sunrise and sunset -----------------------------------------------------------------------


def sun_times(day: date, lat_deg: float, lon_deg: float) -> tuple[datetime, datetime] | None:
    r"""Apparent sunrise and sunset (JST) at a place, by the NOAA formulas [1]_.

    .. math::

        \gamma &= \tfrac{2\pi}{N}(d - 1) \quad (N = 365 \text{ or } 366,\ d \text{ day of year})\\
        E &= 229.18\,(0.000075 + 0.001868\cos\gamma - 0.032077\sin\gamma
             - 0.014615\cos 2\gamma - 0.040849\sin 2\gamma) \ \text{[min]}\\
        \delta &= 0.006918 - 0.399912\cos\gamma + 0.070257\sin\gamma - 0.006758\cos 2\gamma
                  + 0.000907\sin 2\gamma - 0.002697\cos 3\gamma + 0.00148\sin 3\gamma\\
        \omega_0 &= \arccos\!\left(\frac{\cos 90.833^\circ}{\cos\varphi\cos\delta}
                    - \tan\varphi\tan\delta\right)\\
        t_{rise,set} &= 720 - 4(\lambda \pm \omega_0) - E \ \text{[min UTC]}

    with :math:`\varphi` latitude, :math:`\lambda` longitude (east positive) in degrees
    for :math:`4\lambda`. The fractional year is evaluated at local noon (``hour = 12``), and
    each event is then refined once with the fractional year at its own time.

    Parameters
    ----------
    day
        The local (JST) date.
    lat_deg, lon_deg
        Place [deg], WGS84.

    Returns
    -------
    times
        ``(sunrise, sunset)`` as aware JST datetimes, or ``None`` where the Sun does not rise
        or set that day (polar day or night; never in Japan).

    Examples
    --------
    Tokyo (35.6895 N, 139.6917 E) at the June solstice 2024: NAOJ gives 04:25 and 19:00.

    >>> rise, sett = sun_times(date(2024, 6, 21), 35.6895, 139.6917)
    >>> f"{rise:%H:%M} {sett:%H:%M}"
    '04:25 19:00'
    """
    start_utc = datetime.combine(day, time(0), tzinfo=UTC)
    days_in_year = 366 if _is_leap(day.year) else 365
    phi = math.radians(lat_deg)
    times: list[datetime] = []
    for sign in (+1.0, -1.0):  # sunrise (+omega), sunset (-omega)
        minutes_utc = 720.0 - 4.0 * lon_deg  # first guess: solar noon [min after 00:00 UTC]
        for _ in range(2):
            moment = start_utc + timedelta(minutes=minutes_utc)
            doy = moment.timetuple().tm_yday
            hour = moment.hour + moment.minute / 60.0 + moment.second / 3600.0
            gamma = 2.0 * math.pi / days_in_year * (doy - 1 + (hour - 12.0) / 24.0)
            eqtime, decl = _eqtime_min(gamma), _declination_rad(gamma)
            cos_omega = math.cos(math.radians(_SUNRISE_ZENITH_DEG)) / (
                math.cos(phi) * math.cos(decl)
            ) - math.tan(phi) * math.tan(decl)
            if not -1.0 <= cos_omega <= 1.0:
                return None
            omega_deg = math.degrees(math.acos(cos_omega))
            # minutes after 00:00 UTC of the (JST) date; negative = the UTC day before
            minutes_utc = 720.0 - 4.0 * (lon_deg + sign * omega_deg) - eqtime
        times.append((start_utc + timedelta(minutes=minutes_utc)).astimezone(JST))
    return times[0], times[1]


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _eqtime_min(gamma: float) -> float:
    return 229.18 * (
        0.000075
        + 0.001868 * math.cos(gamma)
        - 0.032077 * math.sin(gamma)
        - 0.014615 * math.cos(2 * gamma)
        - 0.040849 * math.sin(2 * gamma)
    )


def _declination_rad(gamma: float) -> float:
    return (
        0.006918
        - 0.399912 * math.cos(gamma)
        + 0.070257 * math.sin(gamma)
        - 0.006758 * math.cos(2 * gamma)
        + 0.000907 * math.sin(2 * gamma)
        - 0.002697 * math.cos(3 * gamma)
        + 0.00148 * math.sin(3 * gamma)
    )


# -- loading ----------------------------------------------------------------------------------

_HINTS: dict[str, str] = {
    "date": "give the flight date as YYYY-MM-DD",
    "start_time": "give the local start time as 'HH:MM'",
    "end_time": "give the local end time as 'HH:MM'",
    "purpose": "say what the flight is for",
    "capture": "list the capture methods: visible, infrared",
    "visual_line_of_sight": "true when the pilot keeps the aircraft in sight all the time",
    "third_party_area_closed": "true when third parties are kept out of the flight area",
    "wind_forecast_m_s": "give the forecast mean wind [m/s]",
    "aircraft": "describe the aircraft (id, model, registration, remote_id, …)",
    "pilot": "describe the pilot (name, flight_hours)",
    "crew": "map each crew role id to a name",
}


def today_jst() -> date:
    """Today's date in Japan."""
    return datetime.now(JST).date()


def _field_path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _input_error(exc: ValidationError) -> InputError:
    first = exc.errors()[0]
    loc = [p for p in first["loc"] if p not in ("function-after", "function-before")]
    field = _field_path(loc)
    kind = first["type"]
    value = first.get("input")
    if kind == "missing":
        hint = _HINTS.get(field, "")
        return InputError("is missing" + (f"; {hint}" if hint else ""), field=field)
    if kind == "extra_forbidden":
        return InputError("unknown field (see docs/compliance.md for the operation file)", field)
    if kind == "finite_number":
        return InputError(f"must be a finite number, got {value!r}", field=field)
    message = str(first["msg"]).removeprefix("Value error, ")
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, _FieldError):
        field = f"{field}.{cause.field}" if field else cause.field
        message = str(cause)
    shown = f", got {value!r:.60}" if kind != "value_error" and not isinstance(value, dict) else ""
    return InputError(f"{message}{shown}", field=field or None)


def _resolve_registered(
    raw: dict[str, Any], key: str, registry: Mapping[str, Any] | None, what: str
) -> None:
    value = raw.get(key)
    if not isinstance(value, str):
        return
    if registry is None:
        raise InputError(
            f"{value!r} names a {what} by id, but no {what} registry is available; describe "
            f"the {what} in the file instead",
            field=key,
        )
    if value not in registry:
        known = ", ".join(sorted(registry)) or "none"
        raise InputError(f"unknown {what} id {value!r}; known: {known}", field=key)
    entry = registry[value]
    raw[key] = entry.model_dump() if isinstance(entry, BaseModel) else dict(entry)


def _normalise_crew(raw: dict[str, Any], role_ids: Sequence[str] | None) -> None:
    crew = raw.get("crew")
    if not isinstance(crew, dict) or role_ids is None:
        return
    normalised: dict[str, Any] = {}
    for key, name in crew.items():
        role = str(key) if str(key).startswith("role.") else f"role.{key}"
        if role not in role_ids:
            raise InputError(
                f"unknown role {key!r}; known: {', '.join(role_ids)}", field=f"crew.{key}"
            )
        if role in normalised:
            raise InputError("role given twice", field=f"crew.{key}")
        normalised[role] = name
    raw["crew"] = normalised


def _check_rule_ids(operation: Operation, rule_ids: Sequence[str] | None) -> None:
    if rule_ids is None:
        return
    known = set(rule_ids)
    for section, keys in (
        ("confirmations", operation.confirmations),
        ("permits", operation.permits),
    ):
        for key in keys:
            if key not in known:
                raise InputError(
                    "unknown rule id (see `plantwatch drone check` output for the ids)",
                    field=f"{section}.{key}",
                )


def _check_skills(operation: Operation, skill_ids: Sequence[str] | None) -> None:
    if skill_ids is None:
        return
    for key in operation.pilot.skills_evidence:
        if key not in skill_ids:
            raise InputError(
                f"unknown skill id; known: {', '.join(skill_ids)}",
                field=f"pilot.skills_evidence.{key}",
            )


def operation_from_dict(
    raw: Mapping[str, Any],
    today: date | None = None,
    *,
    role_ids: Sequence[str] | None = None,
    rule_ids: Sequence[str] | None = None,
    skill_ids: Sequence[str] | None = None,
    aircraft_registry: Mapping[str, Any] | None = None,
    pilot_registry: Mapping[str, Any] | None = None,
) -> Operation:
    """Validate a parsed operation mapping (see :func:`load_operation`).

    ``role_ids``/``rule_ids``/``skill_ids`` given: crew roles, confirmation and permit keys and
    skill ids must be among them (``None`` skips the check). Crew roles may be written without
    the ``role.`` prefix.
    """
    if not isinstance(raw, Mapping):
        raise InputError(f"must be a mapping of fields, got {type(raw).__name__}", field="ops")
    data = dict(raw)
    _resolve_registered(data, "aircraft", aircraft_registry, "aircraft")
    _resolve_registered(data, "pilot", pilot_registry, "pilot")
    _normalise_crew(data, role_ids)
    try:
        operation = Operation.model_validate(data)
    except ValidationError as exc:
        raise _input_error(exc) from None
    if today is not None and operation.date < today:
        raise InputError(
            f"{operation.date.isoformat()} is in the past (today is {today.isoformat()}); "
            "plan a future flight",
            field="date",
        )
    _check_rule_ids(operation, rule_ids)
    _check_skills(operation, skill_ids)
    return operation


def load_operation(
    path: str | Path,
    today: date | None = None,
    *,
    data_dir: str | Path | None = None,
    aircraft_registry: Mapping[str, Any] | None = None,
    pilot_registry: Mapping[str, Any] | None = None,
) -> Operation:
    """Read and validate an operation file.

    Parameters
    ----------
    path
        The ``ops.yaml`` file.
    today
        Reference date for "in the past" (default: today in Japan).
    data_dir
        Regulatory data folder (default: the packaged one) for crew roles, rule ids and
        skill ids.
    aircraft_registry, pilot_registry
        Known aircraft / pilots by id (``plantwatch.drone.records``); needed when the file
        gives ``aircraft: <id>`` or ``pilot: <id>`` instead of a description.

    Returns
    -------
    operation
        The validated operation; ``operation.source_path`` is ``path``.

    Raises
    ------
    InputError
        One line naming the field: missing or unknown fields, wrong types, NaN, end before
        start, the date before ``today``, unknown crew roles, unknown rule ids in
        ``confirmations``/``permits``, unknown skills, aircraft/pilot ids that cannot be
        resolved.
    DataError
        The regulatory data (roles, rules, skills) is missing or broken.
    """
    from plantwatch.drone import regdata

    raw = regdata.read_yaml(path, field="--ops")
    if raw is None:
        raise InputError(f"{str(path)!r} is empty", field="--ops")
    skills: list[str] | None
    try:
        skills = [s.id for s in regdata.load_pilot_skills(data_dir)]
    except DataError:  # skills data optional: without it, skill ids are not checked
        skills = None
    operation = operation_from_dict(
        raw,
        today if today is not None else today_jst(),
        role_ids=[r.id for r in regdata.load_roles(data_dir)],
        rule_ids=[r.id for r in regdata.load_rules(data_dir)],
        skill_ids=skills,
        aircraft_registry=aircraft_registry,
        pilot_registry=pilot_registry,
    )
    operation._source = Path(path)
    return operation
