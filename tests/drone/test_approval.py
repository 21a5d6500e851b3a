"""Flight-plan approval: draft -> submitted -> approved | rejected; approved plans are immutable."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from plantwatch.drone.approval import (
    APPROVALS_FILE,
    append_record,
    approval_status,
    folder_manifest,
    manifest_sha256,
    read_records,
    transition,
)
from plantwatch.drone.cli_documents import register
from plantwatch.errors import DataError, InputError

JST = timezone(timedelta(hours=9))
T0 = datetime(2025, 4, 1, 9, 0, tzinfo=JST)


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "plan"
    folder.mkdir()
    (folder / "plan.json").write_text(json.dumps({"site": "test", "waypoints": []}))
    (folder / "route.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    (folder / "sub").mkdir()
    (folder / "sub" / "mission.plan").write_text("{}")
    return folder


def _approve(plan_dir: Path) -> None:
    transition(plan_dir, "submit", by="Sato", role="planner", now=T0)
    transition(plan_dir, "approve", by="Suzuki", role="approver", comment="ok", now=T0)


def test_new_plan_is_a_draft_version_1(plan_dir: Path) -> None:
    status = approval_status(plan_dir)
    assert (status.state, status.version, status.approved) == ("draft", 1, False)
    assert status.history == ()
    assert not (plan_dir / APPROVALS_FILE).exists()  # reading writes nothing


def test_submit_then_approve_records_who_role_when_comment(plan_dir: Path) -> None:
    status = transition(plan_dir, "submit", by="Sato", role="planner", comment="v1", now=T0)
    assert status.state == "submitted"
    status = transition(plan_dir, "approve", by="Suzuki", role="approver", now=T0 + timedelta(1))
    assert status.state == "approved" and status.approved and status.version == 1
    first, second = status.history
    assert (first.action, first.by, first.role, first.comment) == (
        "submit",
        "Sato",
        "planner",
        "v1",
    )
    assert first.when == "2025-04-01T09:00:00+09:00"
    assert (second.action, second.by, second.role) == ("approve", "Suzuki", "approver")
    assert second.folder_sha256 == manifest_sha256(folder_manifest(plan_dir))
    assert set(second.files) == {"plan.json", "route.geojson", "sub/mission.plan"}
    assert "approved (version 1) by Suzuki" in status.summary("en")
    assert "承認済み（第1版）" in status.summary("ja")


def test_change_after_approval_voids_it_and_resubmit_makes_a_new_version(plan_dir: Path) -> None:
    _approve(plan_dir)
    (plan_dir / "route.geojson").write_text('{"type": "FeatureCollection", "features": [1]}')
    status = approval_status(plan_dir)
    assert status.state == "approved" and not status.approved and status.modified
    assert status.changed_files == ("route.geojson (changed)",)
    assert "modified since approval" in status.summary("en")
    assert "承認は無効" in status.summary("ja")
    status = transition(plan_dir, "submit", by="Sato", role="planner", now=T0)
    assert (status.state, status.version, status.modified) == ("submitted", 2, False)
    assert [r.action for r in status.history] == ["submit", "approve", "revise", "submit"]
    assert status.history[2].comment == "modified since approval"
    status = transition(plan_dir, "approve", by="Suzuki", role="approver", now=T0)
    assert status.approved and status.version == 2


def test_added_and_removed_files_count_as_changes(plan_dir: Path) -> None:
    _approve(plan_dir)
    (plan_dir / "sub" / "mission.plan").unlink()
    (plan_dir / "extra.kml").write_text("<kml/>")
    assert approval_status(plan_dir).changed_files == (
        "extra.kml (added)",
        "sub/mission.plan (removed)",
    )


def test_records_and_documents_do_not_change_the_hash(plan_dir: Path) -> None:
    _approve(plan_dir)
    (plan_dir / "documents").mkdir()
    (plan_dir / "documents" / "flight_plan_ja.pdf").write_bytes(b"%PDF")
    (plan_dir / "checklist_runs.jsonl").write_text("")
    (plan_dir / ".tmp123").write_text("x")
    assert approval_status(plan_dir).approved


def test_reject_then_resubmit_is_a_new_version(plan_dir: Path) -> None:
    transition(plan_dir, "submit", by="Sato", role="planner", now=T0)
    status = transition(plan_dir, "reject", by="Suzuki", role="approver", comment="no wind limit")
    assert status.state == "rejected" and status.history[-1].comment == "no wind limit"
    status = transition(plan_dir, "submit", by="Sato", role="planner", now=T0)
    assert (status.state, status.version) == ("submitted", 2)
    status = transition(plan_dir, "revise", by="Sato", role="planner", comment="withdrawn")
    assert (status.state, status.version) == ("draft", 3)


@pytest.mark.parametrize(
    ("setup", "action", "by", "role", "comment", "field"),
    [
        ([], "approve", "Suzuki", "approver", "", "action"),  # a draft cannot be approved
        ([], "revise", "Sato", "planner", "", "action"),  # nor revised
        ([], "publish", "Sato", "planner", "", "action"),  # unknown action
        ([], "submit", "Sato", "pilot", "", "role"),  # unknown role
        ([], "submit", "Sato", "approver", "", "role"),  # approvers do not submit
        ([], "submit", "  ", "planner", "", "by"),  # nobody
        (["submit"], "reject", "Suzuki", "approver", "", "comment"),  # rejection needs a reason
        (["submit"], "approve", "sato", "approver", "", "by"),  # no approving one's own plan
        (["submit"], "submit", "Sato", "planner", "", "action"),  # already submitted
        (["submit", "approve"], "submit", "Sato", "planner", "", "action"),  # unchanged
        (["submit", "approve"], "approve", "Suzuki", "approver", "", "action"),  # twice
    ],
)
def test_invalid_transitions_raise_and_write_nothing(
    plan_dir: Path, setup: list[str], action: str, by: str, role: str, comment: str, field: str
) -> None:
    for step in setup:
        who, as_role = ("Sato", "planner") if step == "submit" else ("Suzuki", "approver")
        transition(plan_dir, step, by=who, role=as_role, now=T0)
    journal = plan_dir / APPROVALS_FILE
    before = journal.read_bytes() if journal.exists() else None
    with pytest.raises(InputError) as info:
        transition(plan_dir, action, by=by, role=role, comment=comment, now=T0)
    assert info.value.field == field
    assert (journal.read_bytes() if journal.exists() else None) == before


def test_approve_refuses_a_plan_changed_after_submission(plan_dir: Path) -> None:
    transition(plan_dir, "submit", by="Sato", role="planner", now=T0)
    (plan_dir / "plan.json").write_text('{"site": "changed"}')
    status = approval_status(plan_dir)
    assert status.modified and "modified since submission" in status.summary()
    with pytest.raises(InputError, match="changed since version 1 was submitted"):
        transition(plan_dir, "approve", by="Suzuki", role="approver", now=T0)
    assert transition(plan_dir, "submit", by="Sato", role="planner", now=T0).version == 2


def test_naive_time_and_missing_folder_are_input_errors(plan_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="UTC offset"):
        transition(plan_dir, "submit", by="Sato", role="planner", now=datetime(2025, 4, 1))
    with pytest.raises(InputError, match="does not exist"):
        approval_status(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"plan\.json"):
        transition(tmp_path / "empty", "submit", by="Sato", role="planner")


def test_journal_is_append_only_and_tamper_evident(plan_dir: Path) -> None:
    _approve(plan_dir)
    journal = plan_dir / APPROVALS_FILE
    lines = journal.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(x)["prev_sha256"] for x in lines)
    journal.write_text(lines[0].replace("Sato", "Tanaka") + "\n" + lines[1] + "\n")
    with pytest.raises(DataError, match="line 1"):
        approval_status(plan_dir)
    journal.write_text(lines[1] + "\n")  # first record deleted
    with pytest.raises(DataError):
        read_records(journal)
    with pytest.raises(DataError):  # nothing is appended to a broken journal
        append_record(journal, {"x": 1})


def _cli() -> typer.Typer:
    app = typer.Typer()
    drone = typer.Typer()
    app.add_typer(drone, name="drone")
    register(drone)
    return app


def test_cli_approve_flow_and_bad_input(plan_dir: Path) -> None:
    app, runner = _cli(), CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["drone", "approve", str(plan_dir), *args])

    result = run("--action", "submit", "--by", "Sato", "--role", "planner")
    assert result.exit_code == 0, result.output
    assert "submitted (version 1) by Sato (planner)" in result.output
    result = run("--action", "approve", "--by", "Suzuki", "--role", "approver", "--comment", "ok")
    assert result.exit_code == 0 and "approved (version 1)" in result.output
    (plan_dir / "plan.json").write_text('{"site": "edited"}')
    result = run("--action", "status")
    assert result.exit_code == 0 and "modified since approval" in result.output
    bad = [
        ("--action", "approve", "--by", "Suzuki", "--role", "approver"),  # approved, not submitted
        ("--action", "submit", "--by", "Sato"),  # no role
        ("--action", "frobnicate"),
        ("--action", "status", "--lang", "fr"),
    ]
    for args in bad:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output
    result = runner.invoke(app, ["drone", "approve", str(plan_dir / "missing")])
    assert result.exit_code == 2 and "does not exist" in result.output
