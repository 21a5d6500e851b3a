"""Approval of a flight plan: draft -> submitted -> approved | rejected, with a tamper-evident log.

MHLW-2022 §3.1: the flight-plan author (飛行計画立案者) writes the flight plan and the flight-plan
approver (飛行計画承認者) approves it before the flight. This module keeps that approval for one
plan folder (the output of ``plantwatch drone plan``):

* **States** ``draft`` -> ``submitted`` -> ``approved`` | ``rejected``; ``revise`` starts a new
  version (``version`` + 1) in ``draft`` from ``rejected``, ``submitted`` (withdraw) or
  ``approved``. ``submit`` from ``rejected``, or from an ``approved`` or ``submitted`` plan whose
  files changed since, records the ``revise`` first, so a resubmission is always a new version.
* **Immutability.** ``submit`` and ``approve`` store the SHA-256 of every file of the folder
  (a manifest) and of the manifest itself. An approval applies to exactly those bytes: any change
  afterwards shows as "modified since approval" and :attr:`ApprovalStatus.approved` turns false;
  the next ``submit`` makes a new version. ``approve`` refuses a plan that changed after it was
  submitted (the approver must see what the planner submitted).
* **Record.** Every transition (who, role, when, comment, hashes) is appended to
  ``approvals.jsonl`` in the plan folder. Each line carries its own SHA-256 and that of the line
  before it (``prev_sha256``), so editing, inserting or deleting a line is detected on the next read
  (:class:`~plantwatch.errors.DataError`). Appends are atomic (temp file + rename) under a lock.
* **Separation of duties.** ``submit``/``revise`` need role ``planner``; ``approve``/``reject``
  need role ``approver``; a person cannot approve a version they submitted; a rejection needs a
  comment saying why.

Files not hashed (they are records about the plan, not the plan): ``approvals.jsonl``,
``checklist_runs.jsonl``, anything under ``documents/`` and hidden files (names starting with
``.``, e.g. temp and lock files).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from plantwatch.errors import DataError, InputError
from plantwatch.fileio import atomic_write_text as _atomic_write_text

__all__ = [
    "ACTIONS",
    "APPROVALS_FILE",
    "ROLES",
    "STATES",
    "ApprovalRecord",
    "ApprovalStatus",
    "append_record",
    "approval_status",
    "check_plan_dir",
    "folder_manifest",
    "manifest_sha256",
    "read_records",
    "transition",
]

APPROVALS_FILE = "approvals.jsonl"
CHECKLIST_RUNS_FILE = "checklist_runs.jsonl"
DOCUMENTS_DIR = "documents"
UNHASHED_FILES: tuple[str, ...] = (APPROVALS_FILE, CHECKLIST_RUNS_FILE)

STATES: tuple[str, ...] = ("draft", "submitted", "approved", "rejected")
ACTIONS: tuple[str, ...] = ("submit", "approve", "reject", "revise")
ROLES: tuple[str, ...] = ("planner", "approver")
ACTION_ROLE: dict[str, str] = {
    "submit": "planner",
    "revise": "planner",
    "approve": "approver",
    "reject": "approver",
}
_GENESIS = "0" * 64
_CHUNK = 1 << 20


# --------------------------------------------------------------------------- append-only journal


def _record_sha256(record: Mapping[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON (sorted keys, UTF-8), its own ``sha256`` left out."""
    body = {k: v for k, v in record.items() if k != "sha256"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Read an append-only JSONL journal and verify it.

    Every line holds its own ``sha256`` (of its canonical JSON) and the ``prev_sha256`` of the
    line before it (``0`` x 64 for the first), so an edited, inserted or deleted line is found.

    Parameters
    ----------
    path
        The journal (``approvals.jsonl``, ``checklist_runs.jsonl``). A missing file is an empty
        journal.

    Returns
    -------
    records
        The records in order, without ``sha256`` and ``prev_sha256``.

    Raises
    ------
    DataError
        A line is not JSON, its content does not match its ``sha256`` (edited), or its
        ``prev_sha256`` does not match the line before it (a line removed or inserted).
    """
    journal = Path(path)
    if not journal.exists():
        return []
    records: list[dict[str, Any]] = []
    previous = _GENESIS
    for number, line in enumerate(journal.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{journal}: line {number} is not JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or record.get("sha256") != _record_sha256(record):
            raise DataError(
                f"{journal}: line {number} was edited outside plantwatch (its content does not "
                "match its sha256; records are append-only)"
            )
        if record.get("prev_sha256") != previous:
            raise DataError(
                f"{journal}: line {number} does not follow the line before it (a record was "
                "removed or inserted outside plantwatch; records are append-only)"
            )
        previous = str(record["sha256"])
        records.append({k: v for k, v in record.items() if k not in ("sha256", "prev_sha256")})
    return records


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _append_unlocked(journal: Path, record: Mapping[str, Any]) -> None:
    read_records(journal)  # refuse to extend a broken chain
    old = journal.read_text(encoding="utf-8") if journal.exists() else ""
    lines = [line for line in old.splitlines() if line.strip()]
    previous = str(json.loads(lines[-1])["sha256"]) if lines else _GENESIS
    linked = {**record, "prev_sha256": previous}
    line = json.dumps(
        {**linked, "sha256": _record_sha256(linked)}, ensure_ascii=False, sort_keys=True
    )
    _atomic_write_text(journal, "".join(f"{x}\n" for x in [*lines, line]))


def append_record(path: str | Path, record: Mapping[str, Any]) -> None:
    """Append one record to a hash-chained JSONL journal, atomically and under a file lock.

    Parameters
    ----------
    path
        The journal; created when missing (its folder must exist).
    record
        JSON-serialisable mapping; ``prev_sha256`` and ``sha256`` are added.
    """
    journal = Path(path)
    with _locked(journal):
        _append_unlocked(journal, record)


# --------------------------------------------------------------------------- folder hashing


def check_plan_dir(plan_dir: str | Path, field: str = "PLAN_DIR") -> Path:
    """The plan folder as a Path; InputError unless it is a folder holding ``plan.json``."""
    folder = Path(plan_dir)
    if not folder.is_dir():
        raise InputError(f"plan folder {str(folder)!r} does not exist", field=field)
    if not (folder / "plan.json").is_file():
        raise InputError(
            f"{str(folder)!r} holds no plan.json; give a folder written by `plantwatch drone plan`",
            field=field,
        )
    return folder


def _hashed(relative: Path) -> bool:
    parts = relative.parts
    if any(part.startswith(".") for part in parts):
        return False
    if parts[0] == DOCUMENTS_DIR:
        return False
    return not (len(parts) == 1 and parts[0] in UNHASHED_FILES)


def folder_manifest(plan_dir: str | Path) -> dict[str, str]:
    """SHA-256 of every file of the plan folder that makes up the plan.

    Parameters
    ----------
    plan_dir
        The plan folder.

    Returns
    -------
    manifest
        ``{relative POSIX path: hex SHA-256}``, sorted by path. Records about the plan
        (``approvals.jsonl``, ``checklist_runs.jsonl``, ``documents/``, hidden files) are left out.
    """
    folder = Path(plan_dir)
    manifest: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        relative = path.relative_to(folder)
        if not _hashed(relative):
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        manifest[relative.as_posix()] = digest.hexdigest()
    return manifest


def manifest_sha256(manifest: Mapping[str, str]) -> str:
    """One SHA-256 over a manifest (``path<TAB>sha256<LF>`` lines in path order)."""
    text = "".join(f"{path}\t{manifest[path]}\n" for path in sorted(manifest))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _changed(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[str, ...]:
    names = sorted(set(old) | set(new))
    out = []
    for name in names:
        if name not in new:
            out.append(f"{name} (removed)")
        elif name not in old:
            out.append(f"{name} (added)")
        elif old[name] != new[name]:
            out.append(f"{name} (changed)")
    return tuple(out)


# --------------------------------------------------------------------------- state machine


@dataclass(frozen=True)
class ApprovalRecord:
    """One transition as stored in ``approvals.jsonl``."""

    seq: int
    action: str
    from_state: str
    to_state: str
    version: int
    by: str
    role: str
    when: str  # ISO 8601 with UTC offset
    comment: str = ""
    folder_sha256: str = ""
    files: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApprovalRecord:
        try:
            return cls(
                seq=int(data["seq"]),
                action=str(data["action"]),
                from_state=str(data["from_state"]),
                to_state=str(data["to_state"]),
                version=int(data["version"]),
                by=str(data["by"]),
                role=str(data["role"]),
                when=str(data["when"]),
                comment=str(data.get("comment", "")),
                folder_sha256=str(data.get("folder_sha256", "")),
                files=dict(data.get("files") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{APPROVALS_FILE}: malformed record {data!r} ({exc})") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "action": self.action,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "version": self.version,
            "by": self.by,
            "role": self.role,
            "when": self.when,
            "comment": self.comment,
            "folder_sha256": self.folder_sha256,
            "files": self.files,
        }


@dataclass(frozen=True)
class ApprovalStatus:
    """Where a plan folder stands, compared with its files as they are now.

    Attributes
    ----------
    state
        ``draft`` | ``submitted`` | ``approved`` | ``rejected`` (as recorded).
    version
        Version of the plan the state refers to (1 for a plan never revised).
    current_sha256
        SHA-256 of the folder's manifest now.
    submitted_sha256, approved_sha256
        Of the current version's submission / approval ("" when none).
    changed_files
        Files added, removed or changed since the approval (state ``approved``) or the submission
        (state ``submitted``).
    history
        Every recorded transition, oldest first.
    """

    state: str
    version: int
    current_sha256: str
    submitted_sha256: str = ""
    approved_sha256: str = ""
    changed_files: tuple[str, ...] = ()
    history: tuple[ApprovalRecord, ...] = ()

    @property
    def modified(self) -> bool:
        """Whether the folder changed since the recorded submission/approval of this version."""
        return bool(self.changed_files)

    @property
    def approved(self) -> bool:
        """Whether a valid approval applies to the files as they are now."""
        return self.state == "approved" and not self.changed_files

    def last(self, action: str) -> ApprovalRecord | None:
        """The latest record of ``action`` for the current version, if any."""
        for record in reversed(self.history):
            if record.version == self.version and record.action == action:
                return record
        return None

    def summary(self, lang: str = "en") -> str:
        """One line for people: state, version, who and when, and whether it changed since."""
        ja = lang == "ja"
        state_ja = {
            "draft": "作成中",
            "submitted": "提出済み",
            "approved": "承認済み",
            "rejected": "差戻し",
        }
        text = (
            f"{state_ja[self.state]}（第{self.version}版）"
            if ja
            else f"{self.state} (version {self.version})"
        )
        record = self.history[-1] if self.history else None
        if record is not None:
            text += (
                f" {record.when} {record.by}（{record.role}）"
                if ja
                else f" by {record.by} ({record.role}) at {record.when}"
            )
            if record.comment:
                text += f"「{record.comment}」" if ja else f": {record.comment!r}"
        if self.changed_files:
            since = {"approved": ("approval", "承認"), "submitted": ("submission", "提出")}
            en_since, ja_since = since.get(self.state, ("submission", "提出"))
            files = ", ".join(self.changed_files[:5]) + (
                f" (+{len(self.changed_files) - 5})" if len(self.changed_files) > 5 else ""
            )
            if ja:
                text += f" — {ja_since}後に変更あり（{files}）。"
                text += (
                    "承認は無効です。新しい版として再提出してください"
                    if (self.state == "approved")
                    else "再提出してください"
                )
            else:
                text += f" - modified since {en_since}: {files}; "
                text += (
                    "the approval no longer applies; submit a new version"
                    if (self.state == "approved")
                    else "resubmit"
                )
        return text


def approval_status(plan_dir: str | Path) -> ApprovalStatus:
    """Read ``approvals.jsonl`` and compare the recorded hashes with the folder now.

    Parameters
    ----------
    plan_dir
        The plan folder (must hold ``plan.json``).

    Returns
    -------
    status
        A plan without records is ``draft``, version 1.

    Raises
    ------
    InputError
        The folder is missing or is not a plan folder.
    DataError
        ``approvals.jsonl`` was edited by hand.
    """
    folder = check_plan_dir(plan_dir)
    return _status(folder, folder_manifest(folder))


def _status(folder: Path, manifest: Mapping[str, str]) -> ApprovalStatus:
    history = tuple(ApprovalRecord.from_json(r) for r in read_records(folder / APPROVALS_FILE))
    current = manifest_sha256(manifest)
    if not history:
        return ApprovalStatus(state="draft", version=1, current_sha256=current)
    last = history[-1]
    version = last.version
    submitted = next(
        (r for r in reversed(history) if r.version == version and r.action == "submit"), None
    )
    approved = next(
        (r for r in reversed(history) if r.version == version and r.action == "approve"), None
    )
    reference: ApprovalRecord | None = None
    if last.to_state == "approved":
        reference = approved
    elif last.to_state == "submitted":
        reference = submitted
    changed = (
        _changed(reference.files, manifest)
        if reference is not None and reference.folder_sha256 != current
        else ()
    )
    return ApprovalStatus(
        state=last.to_state,
        version=version,
        current_sha256=current,
        submitted_sha256=submitted.folder_sha256 if submitted else "",
        approved_sha256=approved.folder_sha256 if approved else "",
        changed_files=changed,
        history=history,
    )


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _when(now: datetime | None) -> str:
    if now is None:
        return _now()
    if now.tzinfo is None:
        raise InputError(f"must carry a UTC offset, got {now.isoformat()!r}", field="when")
    return now.isoformat(timespec="seconds")


def transition(
    plan_dir: str | Path,
    action: str,
    *,
    by: str,
    role: str,
    comment: str = "",
    now: datetime | None = None,
) -> ApprovalStatus:
    """Apply one approval action to a plan folder and record it.

    Parameters
    ----------
    plan_dir
        The plan folder (must hold ``plan.json``).
    action
        ``submit`` | ``approve`` | ``reject`` | ``revise`` (see the module docstring).
    by
        Name of the person acting (non-empty).
    role
        ``planner`` (submit, revise) or ``approver`` (approve, reject).
    comment
        Free text; required for ``reject``.
    now
        Time of the action (timezone-aware); default now, in the local timezone.

    Returns
    -------
    status
        The status after the action.

    Raises
    ------
    InputError
        Unknown action or role, the wrong role for the action, an empty name, a transition the
        current state does not allow (e.g. approving a draft, approving a plan changed since it was
        submitted, approving one's own submission, submitting an unchanged approved plan), or a
        rejection without comment. Nothing is written then.
    """
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r}; valid: {', '.join(ACTIONS)}", field="action")
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; valid: {', '.join(ROLES)}", field="role")
    if role != ACTION_ROLE[action]:
        raise InputError(
            f"{action!r} is done by the {ACTION_ROLE[action]}, not the {role}", field="role"
        )
    who = by.strip()
    if not who:
        raise InputError("must name the person acting, got an empty name", field="by")
    note = comment.strip()
    if action == "reject" and not note:
        raise InputError("a rejection must say why; give a comment", field="comment")
    when = _when(now)
    folder = check_plan_dir(plan_dir)
    journal = folder / APPROVALS_FILE
    with _locked(journal):
        manifest = folder_manifest(folder)
        status = _status(folder, manifest)
        for record in _plan_records(status, action, who, role, note, when, manifest):
            _append_unlocked(journal, record.to_json())
        return _status(folder, manifest)


def _record(
    status: ApprovalStatus,
    seq: int,
    action: str,
    to_state: str,
    version: int,
    who: str,
    role: str,
    note: str,
    when: str,
    manifest: Mapping[str, str] | None = None,
    from_state: str | None = None,
) -> ApprovalRecord:
    return ApprovalRecord(
        seq=seq,
        action=action,
        from_state=from_state or status.state,
        to_state=to_state,
        version=version,
        by=who,
        role=role,
        when=when,
        comment=note,
        folder_sha256=manifest_sha256(manifest) if manifest is not None else "",
        files=dict(manifest) if manifest is not None else {},
    )


def _plan_records(
    status: ApprovalStatus,
    action: str,
    who: str,
    role: str,
    note: str,
    when: str,
    manifest: Mapping[str, str],
) -> list[ApprovalRecord]:
    state, version, seq = status.state, status.version, len(status.history) + 1
    bad = InputError(
        f"cannot {action} a plan that is {state} (version {version}); allowed: " + _allowed(status),
        field="action",
    )
    if action == "revise":
        if state == "draft":
            raise bad
        why = note or f"new version after {state} version {version}"
        return [_record(status, seq, "revise", "draft", version + 1, who, role, why, when)]
    if action == "submit":
        records: list[ApprovalRecord] = []
        if state == "approved" and not status.modified:
            raise InputError(
                f"version {version} is approved and unchanged; change the plan first (a change "
                "makes a new version)",
                field="action",
            )
        if state in ("rejected", "approved", "submitted"):
            if state == "submitted" and not status.modified:
                raise InputError(
                    f"version {version} is already submitted and unchanged; the approver approves "
                    "or rejects it",
                    field="action",
                )
            why = (
                f"modified since {'approval' if state == 'approved' else 'submission'}"
                if status.modified
                else f"new version after {state}"
            )
            records.append(
                _record(status, seq, "revise", "draft", version + 1, who, role, why, when)
            )
            version, seq = version + 1, seq + 1
        return [
            *records,
            _record(
                status,
                seq,
                "submit",
                "submitted",
                version,
                who,
                role,
                note,
                when,
                manifest,
                from_state="draft",
            ),
        ]
    # approve / reject: only a submitted plan
    if state != "submitted":
        raise bad
    if status.modified:
        raise InputError(
            f"the plan changed since version {version} was submitted "
            f"({', '.join(status.changed_files[:3])}); the planner must resubmit",
            field="action",
        )
    submitted = status.last("submit")
    if action == "approve":
        if submitted is not None and submitted.by.casefold() == who.casefold():
            raise InputError(
                f"{who!r} submitted version {version}; another person must approve it",
                field="by",
            )
        return [
            _record(status, seq, "approve", "approved", version, who, role, note, when, manifest)
        ]
    return [_record(status, seq, "reject", "rejected", version, who, role, note, when)]


def _allowed(status: ApprovalStatus) -> str:
    allowed = {
        "draft": "submit (planner)",
        "submitted": "approve or reject (approver)" + (", submit (planner) after a change"),
        "approved": "revise (planner); submit after a change",
        "rejected": "submit or revise (planner)",
    }
    return allowed[status.state]
