"""The whole-store check behind ``plantwatch admin verify``: audit chain, sealed rows, stored
files, plan folders against their approval journals, orphan files.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plantwatch.errors import DataError, InputError
from plantwatch.store import audit
from plantwatch.store.db import Store
from plantwatch.store.models import (
    ChecklistRun,
    Finding,
    Flight,
    GasAnalysis,
    GasVideo,
    Photo,
    Plan,
    Site,
    User,
)

__all__ = ["Orphan", "StoreReport", "count_rows", "remove_orphans", "verify_store"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Orphan:
    """A file or folder under ``files/`` that no row references."""

    path: Path
    age_s: float

    def __str__(self) -> str:
        return f"{self.path} (no row refers to it; {self.age_s:.0f} s old)"


@dataclass
class StoreReport:
    """Outcome of :func:`verify_store`.

    Attributes
    ----------
    audit
        The hash chain's check.
    problems
        Rows changed or deleted behind the store's back, rows whose file is missing or changed,
        plan folders that disagree with their row; one line each.
    orphans
        Files without a row (left by a crash between the file and its row, or by hand).
    """

    audit: audit.VerifyResult
    problems: list[str] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No broken chain and no problem (orphans are reported but are not corruption)."""
        return self.audit.ok and not self.problems

    def lines(self) -> list[str]:
        """The report for people, one finding per line."""
        out = [self.audit.message if self.audit.ok else f"audit chain broken: {self.audit.message}"]
        out += [f"problem: {p}" for p in self.problems]
        out += [f"orphan: {o}" for o in self.orphans]
        return out


def _check_file(
    store: Store, table: str, row_id: int, rel: str, size: int | None, sha: str | None, deep: bool
) -> str | None:
    try:
        path = store.path(rel)
    except DataError as exc:
        return f"{table} id {row_id}: {exc}"
    if not path.is_file():
        return f"{table} id {row_id}: file {rel} is missing"
    if size is not None and path.stat().st_size != size:
        return (
            f"{table} id {row_id}: file {rel} has {path.stat().st_size} bytes, the row says {size}"
        )
    if deep and sha is not None:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != sha:
            return f"{table} id {row_id}: file {rel} does not match its SHA-256 (changed)"
    return None


def _check_plan_folder(store: Store, plan: Plan) -> list[str]:
    from plantwatch.drone.approval import approval_status

    where = f"plans id {plan.id}"
    try:
        folder = store.path(plan.plan_dir)
    except DataError as exc:
        return [f"{where}: {exc}"]
    if not (folder / "plan.json").is_file():
        return [f"{where}: plan folder {plan.plan_dir or '(none)'} is missing"]
    try:
        status = approval_status(folder)
    except (DataError, InputError) as exc:
        return [f"{where}: {exc}"]
    problems = []
    if status.state != plan.status or status.version != plan.version:
        problems.append(
            f"{where}: the folder's approval journal says {status.state} version "
            f"{status.version}, the database {plan.status} version {plan.version}"
        )
    if plan.status in ("approved", "submitted") and status.changed_files:
        since = "approval" if plan.status == "approved" else "submission"
        problems.append(
            f"{where}: files changed since {since}: {', '.join(status.changed_files[:5])}"
        )
    return problems


def _referenced(s: Session) -> tuple[set[str], set[str], set[int]]:
    files: set[str] = set()
    files.update(s.execute(select(Photo.file)).scalars())
    files.update(s.execute(select(GasVideo.file)).scalars())
    for column in (GasAnalysis.overlay_file, GasAnalysis.heatmap_file):
        files.update(f for f in s.execute(select(column)).scalars() if f)
    plan_dirs = set(s.execute(select(Plan.plan_dir)).scalars())
    analyses = set(s.execute(select(GasAnalysis.id)).scalars())
    return files, plan_dirs, analyses


def _find_orphans(store: Store, s: Session, now: float) -> list[Orphan]:
    files, plan_dirs, analyses = _referenced(s)
    orphans: list[Orphan] = []

    def add(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            orphans.append(Orphan(path, max(0.0, now - path.lstat().st_mtime)))

    def rel(path: Path) -> str:
        return path.relative_to(store.data_dir).as_posix()

    for folder in ("photos", "gas_videos"):
        root = store.files_dir / folder
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if (path.is_file() or path.is_symlink()) and rel(path) not in files:
                    add(path)
    plans_root = store.files_dir / "plans"
    if plans_root.is_dir():
        for path in sorted(plans_root.iterdir()):
            if rel(path) not in plan_dirs:
                add(path)
    analyses_root = store.files_dir / "analyses"
    if analyses_root.is_dir():
        for path in sorted(analyses_root.iterdir()):
            if not (path.name.isdigit() and int(path.name) in analyses):
                add(path)
    return orphans


def verify_store(s: Session, store: Store, *, deep: bool = False) -> StoreReport:
    """Check the audit chain, the sealed rows, the files and the plan folders.

    Parameters
    ----------
    deep
        Also recompute every photo's and video's SHA-256 (reads all the files).
    """
    import time

    report = StoreReport(audit=audit.verify(s))
    report.problems.extend(audit.verify_rows(s))
    uploads: list[Photo | GasVideo] = [*s.execute(select(Photo).order_by(Photo.id)).scalars()]
    uploads += s.execute(select(GasVideo).order_by(GasVideo.id)).scalars()
    for row in uploads:
        table = row.__tablename__
        problem = _check_file(store, table, row.id, row.file, row.size_bytes, row.sha256, deep)
        if problem:
            report.problems.append(problem)
    for analysis in s.execute(select(GasAnalysis).order_by(GasAnalysis.id)).scalars():
        for rel in (analysis.overlay_file, analysis.heatmap_file):
            if rel:
                problem = _check_file(store, "gas_analyses", analysis.id, rel, None, None, False)
                if problem:
                    report.problems.append(problem)
    for plan in s.execute(select(Plan).order_by(Plan.id)).scalars():
        report.problems.extend(_check_plan_folder(store, plan))
    report.orphans.extend(_find_orphans(store, s, time.time()))
    return report


def remove_orphans(
    store: Store, orphans: Sequence[Orphan], *, grace_s: float = 300.0
) -> list[Path]:
    """Delete orphans older than ``grace_s`` (younger ones may belong to an upload still in
    progress); returns what was removed."""
    removed = []
    files_root = store.files_dir.resolve()
    for orphan in orphans:
        if orphan.age_s < grace_s:
            continue
        path = orphan.path
        if not path.parent.resolve().is_relative_to(files_root):
            continue  # never outside files/
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def count_rows(s: Session) -> dict[str, int]:
    """Rows per table (for ``admin init``/``verify`` summaries)."""
    out = {}
    for model in (User, Site, Plan, ChecklistRun, Flight, Photo, Finding, GasVideo, GasAnalysis):
        out[model.__tablename__] = s.execute(select(func.count()).select_from(model)).scalar_one()
    return out
