"""The store's tables as SQLAlchemy 2 typed declarative models.

Conventions
-----------
* Times are timezone-aware UTC (:class:`UTCDateTime`; SQLite keeps them as naive UTC text).
* ``*_json`` columns are JSON columns: Python ``dict``/``list`` values, not strings. Assign a new
  object to change one (in-place edits are not tracked).
* ``*_by`` columns hold the acting user's *username* (readable in reports and in the audit log);
  ``Approval.user_id`` is the user's id.
* Files live under the data directory; ``file``/``plan_dir``/``*_file`` columns hold POSIX paths
  relative to it (:meth:`plantwatch.store.db.Store.path`).
* The drone records (pilots, aircraft, flights, maintenance, incidents) keep the validated
  pydantic record of :mod:`plantwatch.drone.records` in ``record_json``, with the key columns
  copied out for queries.

Append-only rows
----------------
Flights, maintenance records, incidents, approvals and audit entries are never changed or
deleted; plans once ``approved`` or ``rejected`` and checklist runs once completed are sealed the
same way. Two guards: the ``before_flush``/``do_orm_execute`` events below raise
:class:`~plantwatch.errors.ImmutableError` inside the ORM, and triggers created by the migration
refuse the same UPDATE/DELETE in the database itself (raw SQL, other programs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.orm.base import NO_VALUE

from plantwatch.errors import ImmutableError

__all__ = [
    "ANALYSIS_STATES",
    "APPROVAL_ACTIONS",
    "CHECKLIST_RESULTS",
    "DEFECTS",
    "ITEM_STATUSES",
    "PLAN_STATES",
    "ROLES",
    "SEALED_PLAN_STATES",
    "Aircraft",
    "Approval",
    "AuditLog",
    "Base",
    "ChecklistRun",
    "Facility",
    "Finding",
    "Flight",
    "GasAnalysis",
    "GasVideo",
    "Incident",
    "MaintenanceRecord",
    "Photo",
    "Pilot",
    "Plan",
    "Site",
    "UTCDateTime",
    "User",
    "Zone",
    "utcnow",
]

ROLES: tuple[str, ...] = ("planner", "approver", "pilot", "inspector", "admin")
PLAN_STATES: tuple[str, ...] = ("draft", "submitted", "approved", "rejected")
SEALED_PLAN_STATES: tuple[str, ...] = ("approved", "rejected")
APPROVAL_ACTIONS: tuple[str, ...] = ("submit", "approve", "reject", "revise")
ITEM_STATUSES: tuple[str, ...] = ("ok", "ng", "na")
CHECKLIST_RESULTS: tuple[str, ...] = ("go", "stop")
DEFECTS: tuple[str, ...] = (
    "corrosion",
    "coating_damage",
    "leak_trace",
    "crack",
    "deformation",
    "insulation_damage",
    "other",
)
ANALYSIS_STATES: tuple[str, ...] = ("queued", "running", "done", "failed")

_USERNAME = 64
_NAME = 200
_PATH = 255
_SHA = 64


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC (every stored time)."""
    return dt.datetime.now(dt.UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; store aware times")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base: SQLite tables use AUTOINCREMENT, so a row id is never reused (files
    and plan folders are named after ids)."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


def _table_args(*items: Any) -> tuple[Any, ...]:
    return (*items, {"sqlite_autoincrement": True})


class User(Base):
    __tablename__ = "users"
    __table_args__ = _table_args(CheckConstraint(_in("role", ROLES), name="ck_users_role"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(_USERNAME), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = _table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(_NAME), unique=True)
    geojson: Mapped[str] = mapped_column(Text)  # the file as imported
    created_by: Mapped[str] = mapped_column(String(_USERNAME), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Facility(Base):
    __tablename__ = "facilities"
    __table_args__ = _table_args(UniqueConstraint("site_id", "key", name="uq_facilities_key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    key: Mapped[str] = mapped_column(String(_USERNAME))  # facility id of the site model
    kind: Mapped[str] = mapped_column(String(32))  # facility type (floating_roof_tank, ...)
    name: Mapped[str] = mapped_column(String(_NAME))
    data_json: Mapped[dict[str, Any]] = mapped_column()


class Zone(Base):
    __tablename__ = "zones"
    __table_args__ = _table_args(UniqueConstraint("site_id", "key", name="uq_zones_key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    key: Mapped[str] = mapped_column(String(_USERNAME))
    kind: Mapped[str] = mapped_column(String(32))
    data_json: Mapped[dict[str, Any]] = mapped_column()


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = _table_args(
        UniqueConstraint("site_id", "name", "version", name="uq_plans_version"),
        CheckConstraint(_in("status", PLAN_STATES), name="ck_plans_status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(_NAME))
    version: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), default=None)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    settings_json: Mapped[dict[str, Any]] = mapped_column()
    plan_dir: Mapped[str] = mapped_column(String(_PATH), default="")
    summary_json: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ops_yaml: Mapped[str | None] = mapped_column(Text, default=None)
    created_by: Mapped[str] = mapped_column(String(_USERNAME))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = _table_args(
        CheckConstraint(_in("action", APPROVAL_ACTIONS), name="ck_approvals_action")
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ChecklistRun(Base):
    __tablename__ = "checklist_runs"
    __table_args__ = _table_args(
        CheckConstraint(
            "result IS NULL OR " + _in("result", CHECKLIST_RESULTS), name="ck_checklist_result"
        )
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), index=True, default=None)
    # the column is ``checklist_table``: TABLE is an SQL keyword
    table: Mapped[str] = mapped_column("checklist_table", String(16))
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    started_by: Mapped[str] = mapped_column(String(_USERNAME))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    completed_by: Mapped[str | None] = mapped_column(String(_USERNAME), default=None)
    # [{id, status 'ok'|'ng'|'na', note, by, at}], in the order answered
    items_json: Mapped[list[Any]] = mapped_column(default=list)
    result: Mapped[str | None] = mapped_column(String(8), default=None)


class Pilot(Base):
    __tablename__ = "pilots"
    __table_args__ = _table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(_USERNAME), unique=True)  # records.Pilot.id
    record_json: Mapped[dict[str, Any]] = mapped_column()  # latest revision
    # flight-log and maintenance rows that existed at the revision (records.FileRegistry rule:
    # flights logged after it are added on read)
    flights_seen: Mapped[int] = mapped_column(Integer, default=0)
    maintenance_seen: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(String(_USERNAME), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Aircraft(Base):
    __tablename__ = "aircraft"
    __table_args__ = _table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(_USERNAME), unique=True)  # records.Aircraft.id
    record_json: Mapped[dict[str, Any]] = mapped_column()
    flights_seen: Mapped[int] = mapped_column(Integer, default=0)
    maintenance_seen: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(String(_USERNAME), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MaintenanceRecord(Base):
    __tablename__ = "maintenance_records"
    __table_args__ = _table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(16), unique=True)  # M00001
    aircraft_key: Mapped[str] = mapped_column(String(_USERNAME), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    record_json: Mapped[dict[str, Any]] = mapped_column()
    recorded_by: Mapped[str] = mapped_column(String(_USERNAME), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Flight(Base):
    __tablename__ = "flights"
    __table_args__ = _table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(16), unique=True)  # F00001
    pilot_key: Mapped[str] = mapped_column(String(_USERNAME), index=True)
    aircraft_key: Mapped[str] = mapped_column(String(_USERNAME), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    record_json: Mapped[dict[str, Any]] = mapped_column()  # records.FlightLogEntry (Form 2)
    recorded_by: Mapped[str] = mapped_column(String(_USERNAME), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = _table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(16), unique=True)  # I00001
    pilot_key: Mapped[str | None] = mapped_column(String(_USERNAME), default=None)
    aircraft_key: Mapped[str | None] = mapped_column(String(_USERNAME), default=None)
    date: Mapped[dt.date] = mapped_column(Date)
    record_json: Mapped[dict[str, Any]] = mapped_column()
    recorded_by: Mapped[str] = mapped_column(String(_USERNAME), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = _table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True, default=None)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), index=True, default=None)
    file: Mapped[str] = mapped_column(String(_PATH))  # files/photos/ab/<sha256>.jpg
    original_name: Mapped[str] = mapped_column(String(_PATH), default="")
    sha256: Mapped[str] = mapped_column(String(_SHA), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(32), default="")
    meta_json: Mapped[dict[str, Any]] = mapped_column(default=dict)
    facility_key: Mapped[str | None] = mapped_column(String(_USERNAME), default=None)
    taken_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    uploaded_by: Mapped[str] = mapped_column(String(_USERNAME))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Finding(Base):
    __tablename__ = "findings"
    __table_args__ = _table_args(
        CheckConstraint(_in("defect", DEFECTS), name="ck_findings_defect"),
        CheckConstraint("severity BETWEEN 1 AND 5", name="ck_findings_severity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id"), index=True)
    facility_key: Mapped[str | None] = mapped_column(String(_USERNAME), default=None)
    defect: Mapped[str] = mapped_column(String(32))
    severity: Mapped[int] = mapped_column(Integer)  # 1 observe .. 4 urgent (defects.yaml)
    region_json: Mapped[dict[str, Any]] = mapped_column()  # {x, y, w, h} [px]
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(_USERNAME))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GasVideo(Base):
    __tablename__ = "gas_videos"
    __table_args__ = _table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True, default=None)
    facility_key: Mapped[str | None] = mapped_column(String(_USERNAME), default=None)
    file: Mapped[str] = mapped_column(String(_PATH))
    original_name: Mapped[str] = mapped_column(String(_PATH), default="")
    sha256: Mapped[str] = mapped_column(String(_SHA), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(32), default="")
    uploaded_by: Mapped[str] = mapped_column(String(_USERNAME))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GasAnalysis(Base):
    __tablename__ = "gas_analyses"
    __table_args__ = _table_args(
        CheckConstraint(_in("status", ANALYSIS_STATES), name="ck_gas_analyses_status")
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gas_video_id: Mapped[int] = mapped_column(ForeignKey("gas_videos.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    result_json: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None
    )
    overlay_file: Mapped[str | None] = mapped_column(String(_PATH), default=None)
    heatmap_file: Mapped[str | None] = mapped_column(String(_PATH), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_by: Mapped[str] = mapped_column(String(_USERNAME), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AuditLog(Base):
    """One entry of the hash chain (:mod:`plantwatch.store.audit`). Ids are assigned by the
    chain itself (previous id + 1), so a gap is a deleted entry."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column()
    username: Mapped[str] = mapped_column(String(_USERNAME))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64), index=True)
    entity_id: Mapped[str] = mapped_column(String(64))
    payload_json: Mapped[dict[str, Any]] = mapped_column()
    prev_hash: Mapped[str] = mapped_column(String(_SHA))
    hash: Mapped[str] = mapped_column(String(_SHA), unique=True)


# ---------------------------------------------------------------------------- append-only guards

ALWAYS_APPEND_ONLY: tuple[type[Base], ...] = (
    Flight,
    MaintenanceRecord,
    Incident,
    Approval,
    AuditLog,
)


def _committed(obj: Base, attribute: str) -> Any:
    """The value an attribute had at the last load or flush (before unflushed changes).

    An attribute changed without having been loaded has no known old value: ``None`` then (the
    database trigger still guards that row)."""
    state = inspect(obj)
    if attribute in state.committed_state:
        value = state.committed_state[attribute]
        return None if value is NO_VALUE else value
    return getattr(obj, attribute)


def sealed_reason(obj: Base) -> str | None:
    """Why a stored row may no longer change (``None``: it may)."""
    if isinstance(obj, ALWAYS_APPEND_ONLY):
        return f"{type(obj).__tablename__} rows are append-only"
    if isinstance(obj, Plan):
        status = _committed(obj, "status")
        if status in SEALED_PLAN_STATES:
            return f"plan {obj.id} is {status}; revise it to make a new version"
    if isinstance(obj, ChecklistRun) and _committed(obj, "completed_at") is not None:
        return f"checklist run {obj.id} is completed; start a new run"
    return None


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty):
        if isinstance(obj, Base) and session.is_modified(obj, include_collections=False):
            reason = sealed_reason(obj)
            if reason is not None:
                raise ImmutableError(f"append-only: {reason}")
    for obj in list(session.deleted):
        if isinstance(obj, Base):
            reason = sealed_reason(obj)
            if reason is not None:
                raise ImmutableError(f"append-only: {reason}; it cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, ALWAYS_APPEND_ONLY):
        raise ImmutableError(f"append-only: {mapper.class_.__tablename__} rows cannot change")
