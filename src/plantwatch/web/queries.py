"""Queries the pages and the API share, over the store's models.

These functions select and shape rows into plain dicts for templates and JSON. Writes go
through :mod:`plantwatch.store.service` (audit, locks, append-only rules).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plantwatch.errors import NotFound
from plantwatch.store import models as m

if TYPE_CHECKING:
    pass

__all__ = [
    "approvals_of",
    "checklist_runs",
    "get_or_404",
    "latest_analysis",
    "plan_dict",
    "row_dict",
    "site_dicts",
]

T = TypeVar("T", bound=m.Base)


def get_or_404(s: Session, model: type[T], obj_id: int) -> T:
    """The row with this id, or :class:`~plantwatch.errors.NotFound` (HTTP 404)."""
    obj = s.get(model, obj_id)
    if obj is None:
        raise NotFound(f"no {model.__tablename__.rstrip('s')} with id {obj_id}")
    return obj


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def row_dict(obj: m.Base, fields: Sequence[str] | None = None) -> dict[str, Any]:
    """Columns of a row as a JSON-ready dict (all columns, or ``fields``)."""
    names = fields or [c.key for c in obj.__mapper__.column_attrs]
    return {name: _jsonable(getattr(obj, name)) for name in names}


def site_dicts(s: Session) -> list[dict[str, Any]]:
    facilities = dict(
        s.execute(select(m.Facility.site_id, func.count()).group_by(m.Facility.site_id)).all()
    )
    plans = dict(s.execute(select(m.Plan.site_id, func.count()).group_by(m.Plan.site_id)).all())
    return [
        {
            "id": site.id,
            "name": site.name,
            "facilities": int(facilities.get(site.id, 0)),
            "plans": int(plans.get(site.id, 0)),
            "created_at": _jsonable(site.created_at),
        }
        for site in s.scalars(select(m.Site).order_by(m.Site.id))
    ]


_PLAN_FIELDS = (
    "id",
    "site_id",
    "name",
    "version",
    "previous_id",
    "status",
    "settings_json",
    "summary_json",
    "created_by",
    "created_at",
)


def plan_dict(plan: m.Plan) -> dict[str, Any]:
    data = row_dict(plan, _PLAN_FIELDS)
    data["has_ops"] = bool(plan.ops_yaml)
    return data


def plans_of(s: Session, site_id: int | None = None, limit: int = 200) -> list[m.Plan]:
    query = select(m.Plan).order_by(m.Plan.id.desc()).limit(limit)
    if site_id is not None:
        query = query.where(m.Plan.site_id == site_id)
    return list(s.scalars(query))


def approvals_of(s: Session, plan_id: int) -> list[dict[str, Any]]:
    """The plan's approval history, oldest first, with the acting user's name."""
    rows = s.execute(
        select(m.Approval, m.User.username)
        .join(m.User, m.User.id == m.Approval.user_id)
        .where(m.Approval.plan_id == plan_id)
        .order_by(m.Approval.id)
    ).all()
    return [
        row_dict(a, ("id", "action", "comment", "at")) | {"username": username}
        for a, username in rows
    ]


def checklist_runs(s: Session, limit: int = 100) -> list[m.ChecklistRun]:
    return list(s.scalars(select(m.ChecklistRun).order_by(m.ChecklistRun.id.desc()).limit(limit)))


def latest_analysis(s: Session, video_id: int) -> m.GasAnalysis | None:
    return s.scalars(
        select(m.GasAnalysis)
        .where(m.GasAnalysis.gas_video_id == video_id)
        .order_by(m.GasAnalysis.id.desc())
        .limit(1)
    ).first()


def photos(s: Session, limit: int = 300) -> list[m.Photo]:
    return list(s.scalars(select(m.Photo).order_by(m.Photo.id.desc()).limit(limit)))


def findings_of(s: Session, photo_id: int) -> list[m.Finding]:
    return list(
        s.scalars(select(m.Finding).where(m.Finding.photo_id == photo_id).order_by(m.Finding.id))
    )


def gas_videos(s: Session, limit: int = 200) -> list[tuple[m.GasVideo, m.GasAnalysis | None]]:
    videos = list(s.scalars(select(m.GasVideo).order_by(m.GasVideo.id.desc()).limit(limit)))
    return [(v, latest_analysis(s, v.id)) for v in videos]


def facility_keys(s: Session, site_id: int) -> list[tuple[str, str]]:
    return [
        (f.key, f.name)
        for f in s.scalars(
            select(m.Facility).where(m.Facility.site_id == site_id).order_by(m.Facility.key)
        )
    ]


def users(s: Session) -> list[m.User]:
    return list(s.scalars(select(m.User).order_by(m.User.id)))


def audit_entries(s: Session, limit: int = 200, before_id: int | None = None) -> list[m.AuditLog]:
    query = select(m.AuditLog).order_by(m.AuditLog.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(m.AuditLog.id < before_id)
    return list(s.scalars(query))
