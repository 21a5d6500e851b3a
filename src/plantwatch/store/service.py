"""The store's operations: the only way the CLI and the web app write.

Every function takes an open session (``with store.session() as s:``), checks the acting user's
role (:data:`PERMISSIONS`), validates, takes the store's write lock, writes, and appends one
audit entry (:mod:`plantwatch.store.audit`) — all in the caller's transaction, so a failure
leaves nothing behind: let the exception leave the ``with`` block, which rolls back.

Errors: :class:`~plantwatch.errors.InputError` (bad input, naming the field),
:class:`~plantwatch.errors.PermissionDenied` (wrong role or inactive user),
:class:`~plantwatch.errors.NotFound` (unknown id), :class:`~plantwatch.errors.ImmutableError`
(changing an append-only record).

The acting user (``by``/``user`` arguments) is a :class:`~plantwatch.store.models.User`, a
username, or ``None`` for a trusted local caller (the ``plantwatch admin`` CLI, the background
analysis worker), recorded as ``system``. Submit, approve, reject and revise record a person's
decision and need a real user.

One module per topic, gathered here: :mod:`~plantwatch.store.users`,
:mod:`~plantwatch.store.sites`, :mod:`~plantwatch.store.plans` (wraps
:func:`plantwatch.drone.mission.plan_and_export` and :func:`plantwatch.drone.approval.transition`),
:mod:`~plantwatch.store.checklists` (wraps :func:`plantwatch.drone.documents.evaluate_run`),
:mod:`~plantwatch.store.records` (:class:`SqlRecords`, the drone records' rules on tables),
:mod:`~plantwatch.store.files` (photos, findings, gas videos, analyses),
:mod:`~plantwatch.store.verify` (``plantwatch admin verify``).
"""

from __future__ import annotations

from plantwatch.store.access import PERMISSIONS, SYSTEM, can, require
from plantwatch.store.checklists import complete_checklist, set_checklist_item, start_checklist
from plantwatch.store.files import (
    PHOTO_TYPES,
    SEVERITY_NAMES,
    VIDEO_TYPES,
    add_finding,
    add_gas_video,
    add_photo,
    analysis_dir,
    claim_next_analysis,
    fail_analysis,
    finish_analysis,
    queue_analysis,
    start_analysis,
)
from plantwatch.store.plans import (
    PLAN_SETTINGS,
    approve_plan,
    create_plan,
    latest_version,
    plan_versions,
    reject_plan,
    revise_plan,
    set_plan_ops,
    submit_plan,
)
from plantwatch.store.records import SqlRecords
from plantwatch.store.sites import import_site, site_model
from plantwatch.store.users import (
    MIN_PASSWORD_LENGTH,
    authenticate,
    create_user,
    set_password,
    set_user_active,
)
from plantwatch.store.verify import Orphan, StoreReport, count_rows, remove_orphans, verify_store

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PERMISSIONS",
    "PHOTO_TYPES",
    "PLAN_SETTINGS",
    "SEVERITY_NAMES",
    "SYSTEM",
    "VIDEO_TYPES",
    "Orphan",
    "SqlRecords",
    "StoreReport",
    "add_finding",
    "add_gas_video",
    "add_photo",
    "analysis_dir",
    "approve_plan",
    "authenticate",
    "can",
    "claim_next_analysis",
    "complete_checklist",
    "count_rows",
    "create_plan",
    "create_user",
    "fail_analysis",
    "finish_analysis",
    "import_site",
    "latest_version",
    "plan_versions",
    "queue_analysis",
    "reject_plan",
    "remove_orphans",
    "require",
    "revise_plan",
    "set_checklist_item",
    "set_password",
    "set_plan_ops",
    "set_user_active",
    "site_model",
    "start_analysis",
    "start_checklist",
    "submit_plan",
    "verify_store",
]
