"""Plans: planned by :func:`plantwatch.drone.mission.plan_and_export`, versioned, approved.

A plan is planned into a staging folder under ``files/plans/`` (outside the write lock: it takes
seconds) and moved to ``files/plans/<plan id>`` when its row exists. Each transition (submit,
approve, reject, revise) goes through :func:`plantwatch.drone.approval.transition` first, which
records it in the folder's hash-chained ``approvals.jsonl`` with the SHA-256 manifest of the
folder and applies its rules (nobody approves what they submitted; a rejection says why; an
approval applies to the files as submitted). The row is the index the web app queries; ``admin
verify`` checks that both agree and that approved files are unchanged. Approved and rejected
plans are sealed; :func:`revise_plan` makes the next version with ``previous_id``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantwatch.errors import DataError, InputError
from plantwatch.jsonutil import jsonable
from plantwatch.store import audit
from plantwatch.store.access import (
    Actor,
    actor_of,
    clean_text,
    get_row,
    person_of,
    store_of,
)
from plantwatch.store.db import Store, write_lock
from plantwatch.store.files import fsync_dir
from plantwatch.store.models import (
    Approval,
    Base,
    Plan,
    Site,
    User,
)

__all__ = [
    "PLAN_SETTINGS",
    "approve_plan",
    "create_plan",
    "latest_version",
    "plan_versions",
    "reject_plan",
    "require_latest",
    "revise_plan",
    "set_plan_ops",
    "submit_plan",
]

# settings of create_plan -> (type, default); the options of plantwatch.drone.mission.plan_mission
PLAN_SETTINGS: dict[str, tuple[type, Any]] = {
    "gsd_mm": (float, None),  # required: target ground sample distance [mm/px]
    "camera_name": (str, None),
    "overlap": (float, 0.7),
    "wind_m_s": (float, 5.0),
    "min_distance_m": (float, 5.0),
    "battery_s": (float, 1200.0),
    "explosion_proof": (bool, False),
    "close": (list, ["controlled"]),
}


def _plan_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Checked, typed settings with defaults filled in (keys of :data:`PLAN_SETTINGS`)."""
    if not isinstance(settings, Mapping):
        raise InputError("must be a mapping of plan settings", field="settings")
    unknown = sorted(set(settings) - set(PLAN_SETTINGS))
    if unknown:
        raise InputError(
            f"unknown setting {unknown[0]!r}; valid: {', '.join(PLAN_SETTINGS)}",
            field=f"settings.{unknown[0]}",
        )
    out: dict[str, Any] = {}
    for key, (kind, default) in PLAN_SETTINGS.items():
        value = settings.get(key, default)
        where = f"settings.{key}"
        if value is None or value == "":
            if key == "gsd_mm":
                raise InputError("is required (target GSD on the surface [mm/px])", field=where)
            out[key] = default
            continue
        if kind is float:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InputError(f"must be a number, got {value!r}", field=where) from None
            if (
                isinstance(value, bool)
                or number != number
                or number in (float("inf"), -float("inf"))
            ):
                raise InputError(f"must be a finite number, got {value!r}", field=where)
            out[key] = number
        elif kind is bool:
            if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
                value = True
            elif isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
                value = False
            if not isinstance(value, bool):
                raise InputError(f"must be true or false, got {value!r}", field=where)
            out[key] = value
        elif kind is list:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
                raise InputError(f"must be a list of zone ids, got {value!r}", field=where)
            out[key] = [v for v in items if v]
        else:
            out[key] = clean_text(value, where, max_len=100) or None
    return out


def _check_ops_yaml(ops_yaml: str | None) -> str | None:
    if ops_yaml is None or not ops_yaml.strip():
        return None
    import yaml

    try:
        data = yaml.safe_load(ops_yaml)
    except yaml.YAMLError as exc:
        raise InputError(f"is not valid YAML: {exc}".splitlines()[0], field="ops_yaml") from None
    if not isinstance(data, dict):
        raise InputError("must be a YAML mapping (the operation file)", field="ops_yaml")
    return ops_yaml


def _plans_root(store: Store) -> Path:
    root = store.files_dir / "plans"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _staging(root: Path, kind: str) -> Path:
    return root / f".{kind}-{secrets.token_hex(8)}"


def _run_planner(
    store: Store, site: Site, settings: Mapping[str, Any], out: Path, ops_yaml: str | None
) -> dict[str, Any]:
    """Plan ``site`` into the folder ``out`` (created); return the plan's summary."""
    from plantwatch.drone.mission import plan_and_export

    root = out.parent
    site_file = root / f"{out.name}.site.geojson"
    site_file.write_text(site.geojson, encoding="utf-8")
    try:
        options = dict(settings)
        options["close"] = tuple(options.get("close") or ())
        line = plan_and_export(site_file, out, **options)
    finally:
        site_file.unlink(missing_ok=True)
    if ops_yaml is not None:
        (out / "ops.yaml").write_text(ops_yaml, encoding="utf-8")
    return _plan_summary(out, line)


def _plan_summary(folder: Path, line: str) -> dict[str, Any]:
    try:
        plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
        coverage = json.loads((folder / "coverage.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"the planner's output in {folder} cannot be read: {exc}") from None
    return jsonable(
        {
            "line": line,
            "coverage": coverage.get("totals", {}),
            "photos": plan.get("photos"),
            "flight_time_s": plan.get("flight_time_s"),
            "sorties": len(plan.get("sorties") or []),
            "standoff_m": plan.get("standoff_m"),
            "camera": plan.get("camera"),
            "skipped": plan.get("skipped") or [],
        }
    )


def _place_folder(staging: Path, final: Path) -> None:
    """Move a finished staging folder to its final name (an unreferenced leftover goes first)."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    fsync_dir(final.parent)


@contextlib.contextmanager
def _cleanup_on_error(*paths: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for path in paths:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise


def create_plan(
    s: Session,
    store: Store,
    site_id: int,
    name: str,
    settings: Mapping[str, Any],
    by: Actor,
    ops_yaml: str | None = None,
) -> Plan:
    """Plan a site's inspection (version 1, draft) into ``files/plans/<plan id>/``.

    Parameters
    ----------
    settings
        Planner options (:data:`PLAN_SETTINGS`; ``gsd_mm`` required), as
        :func:`plantwatch.drone.mission.plan_mission` takes them.
    ops_yaml
        The operation file (``drone document --ops``), stored and written into the folder as
        ``ops.yaml``, so that the approval covers it.

    Raises
    ------
    InputError
        Bad settings, a name already used on this site (revise that plan instead), or what the
        planner refuses.
    """
    actor, _ = actor_of(s, by, "plan.create")
    plan_name = clean_text(name, "name", max_len=200, required=True)
    options = _plan_settings(settings)
    ops = _check_ops_yaml(ops_yaml)
    site = get_row(s, Site, site_id, "site")
    _name_free(s, site.id, plan_name)
    root = _plans_root(store)
    staging = _staging(root, "new")
    with _cleanup_on_error(staging):
        summary = _run_planner(store, site, options, staging, ops)
        write_lock(s)
        _name_free(s, site.id, plan_name)
        plan = Plan(
            site_id=site.id,
            name=plan_name,
            version=1,
            previous_id=None,
            status="draft",
            settings_json=options,
            plan_dir="",
            summary_json=summary,
            ops_yaml=ops,
            created_by=actor,
        )
        s.add(plan)
        s.flush()
        final = root / str(plan.id)
        plan.plan_dir = store.relative(final)
        with _cleanup_on_error(final):
            _place_folder(staging, final)
            s.flush()
            audit.record(
                s,
                actor,
                "plan.create",
                "plan",
                plan.id,
                {"site_id": site.id, "name": plan_name, "settings": options, "summary": summary},
            )
    return plan


def _name_free(s: Session, site_id: int, name: str) -> None:
    taken = s.execute(
        select(Plan.id).where(Plan.site_id == site_id, Plan.name == name).limit(1)
    ).scalar()
    if taken is not None:
        raise InputError(
            f"site {site_id} already has a plan named {name!r} (plan {taken}); revise it for a "
            "new version or choose another name",
            field="name",
        )


def latest_version(s: Session, plan: Plan) -> Plan:
    """The newest version of the plan's line (the plan itself when nothing revised it)."""
    newest = plan
    while True:
        nxt = s.execute(
            select(Plan).where(Plan.previous_id == newest.id).order_by(Plan.id).limit(1)
        ).scalar()
        if nxt is None:
            return newest
        newest = nxt


def plan_versions(s: Session, plan_id: int) -> list[Plan]:
    """Every version of a plan's line, oldest first."""
    plan = get_row(s, Plan, plan_id, "plan")
    while plan.previous_id is not None:
        plan = get_row(s, Plan, plan.previous_id, "plan")
    versions = [plan]
    while True:
        nxt = s.execute(
            select(Plan).where(Plan.previous_id == versions[-1].id).order_by(Plan.id).limit(1)
        ).scalar()
        if nxt is None:
            return versions
        versions.append(nxt)


def require_latest(s: Session, plan: Plan) -> None:
    newest = latest_version(s, plan)
    if newest.id != plan.id:
        raise InputError(
            f"plan {plan.id} (version {plan.version}) was superseded by plan {newest.id} "
            f"(version {newest.version}); act on the newest version",
            field="plan_id",
        )


def _transition(
    store: Store, plan: Plan, action: str, user: User, comment: str, folder: Path | None = None
) -> None:
    from plantwatch.drone.approval import ACTION_ROLE, transition

    transition(
        folder or store.path(plan.plan_dir),
        action,
        by=user.username,
        role=ACTION_ROLE[action],
        comment=comment,
    )


def _decide(
    s: Session,
    plan_id: int,
    user: User | str,
    comment: str,
    *,
    action: Literal["submit", "approve", "reject"],
    store: Store | None,
) -> Plan:
    permission = f"plan.{action}"
    person = person_of(s, user, permission)
    note = clean_text(comment, "comment")
    st = store_of(s, store)
    write_lock(s)
    plan = get_row(s, Plan, plan_id, "plan")
    require_latest(s, plan)
    needed = "draft" if action == "submit" else "submitted"
    if plan.status != needed:
        hint = {
            "draft": "submit it first",
            "submitted": "the approver approves or rejects it",
            "approved": "revise it to make a new version",
            "rejected": "revise it to make a new version",
        }[plan.status]
        raise InputError(
            f"cannot {action} plan {plan.id}: it is {plan.status} ({hint})", field="status"
        )
    # the folder's journal applies its own rules (separation of duties, comment on reject,
    # files unchanged since submission) before anything is written here
    _transition(st, plan, action, person, note)
    plan.status = {"submit": "submitted", "approve": "approved", "reject": "rejected"}[action]
    approval = Approval(plan_id=plan.id, action=action, user_id=person.id, comment=note)
    s.add(approval)
    seal: list[Base] = [approval] + ([plan] if plan.status in ("approved", "rejected") else [])
    audit.record(
        s,
        person.username,
        f"plan.{action}",
        "plan",
        plan.id,
        {"status": plan.status, "version": plan.version, "comment": note},
        seal=seal,
    )
    return plan


def submit_plan(
    s: Session, plan_id: int, user: User | str, comment: str = "", *, store: Store | None = None
) -> Plan:
    """Submit a draft for approval (planner or admin)."""
    return _decide(s, plan_id, user, comment, action="submit", store=store)


def approve_plan(
    s: Session, plan_id: int, user: User | str, comment: str = "", *, store: Store | None = None
) -> Plan:
    """Approve a submitted plan (approver or admin, not the person who submitted it).

    The plan row and its folder are sealed from now on (:class:`ImmutableError`).
    """
    return _decide(s, plan_id, user, comment, action="approve", store=store)


def reject_plan(
    s: Session, plan_id: int, user: User | str, comment: str = "", *, store: Store | None = None
) -> Plan:
    """Reject a submitted plan, saying why (``comment`` required)."""
    return _decide(s, plan_id, user, comment, action="reject", store=store)


def revise_plan(
    s: Session,
    plan_id: int,
    user: User | str,
    comment: str = "",
    *,
    store: Store | None = None,
    settings: Mapping[str, Any] | None = None,
    ops_yaml: str | None = None,
) -> Plan:
    """Make the next version (draft) of a submitted, approved or rejected plan.

    The new plan has ``version + 1`` and ``previous_id`` = this plan; its folder starts as a
    copy of this one's (with the approval journal, which records the revision), re-planned when
    ``settings`` are given. The old version stays as it was.
    """
    person = person_of(s, user, "plan.revise")
    note = clean_text(comment, "comment")
    st = store_of(s, store)
    plan = get_row(s, Plan, plan_id, "plan")
    _check_revisable(s, plan)
    options = _plan_settings(settings) if settings is not None else dict(plan.settings_json)
    ops = _check_ops_yaml(ops_yaml) if ops_yaml is not None else plan.ops_yaml
    site = get_row(s, Site, plan.site_id, "site")
    root = _plans_root(st)
    staging = _staging(root, "rev")
    old_folder = st.path(plan.plan_dir)
    with _cleanup_on_error(staging):
        if settings is not None or ops != plan.ops_yaml:
            summary = _run_planner(st, site, options, staging, ops)
            shutil.copy2(old_folder / "approvals.jsonl", staging / "approvals.jsonl")
        else:
            summary = dict(plan.summary_json)
            shutil.copytree(
                old_folder,
                staging,
                ignore=shutil.ignore_patterns(".*", "documents", "checklist_runs.jsonl"),
            )
        _transition(st, plan, "revise", person, note, folder=staging)
        write_lock(s)
        s.refresh(plan)
        _check_revisable(s, plan)
        new = Plan(
            site_id=plan.site_id,
            name=plan.name,
            version=plan.version + 1,
            previous_id=plan.id,
            status="draft",
            settings_json=options,
            plan_dir="",
            summary_json=summary,
            ops_yaml=ops,
            created_by=person.username,
        )
        s.add(new)
        s.flush()
        final = root / str(new.id)
        new.plan_dir = st.relative(final)
        with _cleanup_on_error(final):
            _place_folder(staging, final)
            approval = Approval(plan_id=new.id, action="revise", user_id=person.id, comment=note)
            s.add(approval)
            audit.record(
                s,
                person.username,
                "plan.revise",
                "plan",
                new.id,
                {
                    "previous_id": plan.id,
                    "version": new.version,
                    "comment": note,
                    "settings": options,
                    "replanned": settings is not None,
                },
                seal=[approval],
            )
    return new


def _check_revisable(s: Session, plan: Plan) -> None:
    require_latest(s, plan)
    if plan.status == "draft":
        raise InputError(
            f"plan {plan.id} is a draft; submit it (a draft has no decision to revise)",
            field="status",
        )


def set_plan_ops(s: Session, store: Store, plan_id: int, ops_yaml: str, by: Actor) -> Plan:
    """Attach or replace the operation file of a **draft** plan (row and folder ``ops.yaml``).

    A submitted, approved or rejected plan keeps its file: a change after submission is a new
    version (:func:`revise_plan` with ``ops_yaml``). The file is replaced atomically before the
    row is written; if the transaction then fails, the draft's folder holds the newer text until
    the next call (a draft is covered by no approval manifest yet).
    """
    actor, _ = actor_of(s, by, "plan.create")
    ops = _check_ops_yaml(ops_yaml)
    if ops is None:
        raise InputError("is empty; give the operation file's YAML", field="ops_yaml")
    write_lock(s)
    plan = get_row(s, Plan, plan_id, "plan")
    if plan.status != "draft":
        raise InputError(
            f"plan {plan.id} is {plan.status}; its operation file is fixed, revise the plan "
            "for a new version",
            field="ops_yaml",
        )
    folder = store.path(plan.plan_dir)
    fd, tmp_name = tempfile.mkstemp(prefix=".ops-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(ops)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, folder / "ops.yaml")
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    plan.ops_yaml = ops
    s.flush()
    digest = hashlib.sha256(ops.encode("utf-8")).hexdigest()
    audit.record(s, actor, "plan.ops", "plan", plan.id, {"ops_sha256": digest})
    return plan
