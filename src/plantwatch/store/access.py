"""Who may do what: roles to permissions, the acting user, and small shared helpers of the
store's write modules (lookups that raise NotFound, text fields that raise InputError).

The acting user (``by``/``user`` arguments) is a :class:`~plantwatch.store.models.User`, a
username, or ``None`` for a trusted local caller (the ``plantwatch admin`` CLI, the background
analysis worker), recorded as ``system``. Actions that record a person's decision (submit,
approve, reject, revise) need a real user.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantwatch.errors import InputError, NotFound, PermissionDenied
from plantwatch.store.db import Store
from plantwatch.store.models import (
    Base,
    User,
)

__all__ = [
    "PERMISSIONS",
    "SYSTEM",
    "Actor",
    "actor_of",
    "can",
    "clean_text",
    "get_row",
    "person_of",
    "require",
    "resolve_user",
    "store_of",
]

SYSTEM = "system"  # the actor recorded for trusted local callers (by=None)

# permission -> roles that have it (admin has every one)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "user.manage": ("admin",),
    "site.import": ("planner", "admin"),
    "plan.create": ("planner", "admin"),
    "plan.submit": ("planner", "admin"),
    "plan.revise": ("planner", "admin"),
    "plan.approve": ("approver", "admin"),
    "plan.reject": ("approver", "admin"),
    "checklist.run": ("pilot", "planner", "approver", "admin"),
    "records.write": ("pilot", "planner", "admin"),
    "photo.add": ("pilot", "inspector", "admin"),
    "finding.add": ("inspector", "admin"),
    "gas_video.add": ("pilot", "inspector", "admin"),
    "analysis.queue": ("inspector", "admin"),
    "analysis.run": ("admin",),
}

Actor = User | str | None
_M = TypeVar("_M", bound=Base)


def store_of(session: Session, store: Store | None = None) -> Store:
    found = store if store is not None else session.info.get("store")
    if not isinstance(found, Store):
        raise TypeError("pass store=, or use a session from Store.session()")
    return found


def get_row(session: Session, model: type[_M], row_id: int | None, what: str) -> _M:
    if row_id is None:
        raise InputError(f"give the {what} id", field=f"{what}_id")
    try:
        key = int(row_id)
    except (TypeError, ValueError):
        raise InputError(f"must be a number, got {row_id!r}", field=f"{what}_id") from None
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} with id {key}")
    return row


def can(user: User | None, permission: str) -> bool:
    """Whether ``user`` (active) holds ``permission`` (see :data:`PERMISSIONS`)."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)
    return user is not None and user.active and user.role in PERMISSIONS[permission]


def require(user: User | None, permission: str) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` holds ``permission``."""
    if not can(user, permission):
        who = f"{user.username} ({user.role})" if user is not None else "anonymous"
        roles = " or ".join(PERMISSIONS[permission])
        raise PermissionDenied(f"{who} may not {permission.replace('.', ' ')}; needs {roles}")


def resolve_user(session: Session, by: User | str) -> User:
    if isinstance(by, User):
        return by
    user = session.execute(select(User).where(User.username == by)).scalar_one_or_none()
    if user is None:
        raise PermissionDenied(f"unknown user {by!r}")
    return user


def actor_of(session: Session, by: Actor, permission: str) -> tuple[str, User | None]:
    """(username for the audit log, user) after the permission check; ``None`` is trusted."""
    if by is None:
        return SYSTEM, None
    user = resolve_user(session, by)
    require(user, permission)
    return user.username, user


def person_of(session: Session, by: User | str, permission: str) -> User:
    if by is None:
        raise PermissionDenied(f"{permission.replace('.', ' ')} needs a signed-in user")
    user = resolve_user(session, by)
    require(user, permission)
    return user


def clean_text(value: object, field: str, *, max_len: int = 10_000, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InputError(f"must be text, got {type(value).__name__}", field=field)
    value = value.strip()
    if required and not value:
        raise InputError("must not be empty", field=field)
    if len(value) > max_len:
        raise InputError(f"is {len(value)} characters long; at most {max_len}", field=field)
    return value
