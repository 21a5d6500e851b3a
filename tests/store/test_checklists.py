"""Checklist runs: answers, go/stop from the stop-flight items, completed runs sealed."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from plantwatch.drone.documents import load_checklist_data
from plantwatch.errors import ImmutableError, InputError, PermissionDenied
from plantwatch.store import audit, service
from plantwatch.store.models import ChecklistRun

TABLE = load_checklist_data("4.1")
STOP_ITEMS = [str(i["id"]) for i in TABLE["items"] if i.get("stops_flight")]
OTHER_ITEMS = [str(i["id"]) for i in TABLE["items"] if not i.get("stops_flight")]


def all_ok() -> list[dict[str, str]]:
    return [{"id": str(i["id"]), "status": "ok"} for i in TABLE["items"]]


def test_complete_run_is_go_and_then_immutable(store, people, approved_plan):
    assert STOP_ITEMS and OTHER_ITEMS  # the data has both kinds
    with store.session() as s:
        run = service.start_checklist(s, "4.1", approved_plan, "en", people["pilot"])
        run_id = run.id
        service.set_checklist_item(s, run_id, STOP_ITEMS[0], "ng", "prop chipped", people["pilot"])
        service.set_checklist_item(s, run_id, STOP_ITEMS[0], "ok", "prop replaced", people["pilot"])
    with store.session() as s:
        run = service.complete_checklist(s, run_id, people["pilot"], all_ok()[1:])
        assert run.result == "go" and run.completed_at is not None
        answers = {a["id"]: a for a in run.items_json}
        assert len(answers) == len(TABLE["items"])
        assert answers[STOP_ITEMS[0]]["note"] == "prop replaced"  # the later answer won
        assert answers[STOP_ITEMS[0]]["by"] == "pilot"
    with pytest.raises(ImmutableError, match="completed"), store.session() as s:
        service.set_checklist_item(s, run_id, OTHER_ITEMS[0], "ng", "", people["pilot"])
    with pytest.raises(ImmutableError), store.session() as s:
        s.get(ChecklistRun, run_id).result = "stop"
    with pytest.raises(ImmutableError), store.session() as s:
        s.execute(text("UPDATE checklist_runs SET result = 'stop' WHERE id = :id"), {"id": run_id})
    with store.session() as s:
        assert s.get(ChecklistRun, run_id).result == "go"
        assert audit.verify(s).ok and audit.verify_rows(s) == []


def test_stop_when_a_stop_flight_item_is_ng_or_unanswered(store, people):
    with store.session() as s:
        ng = service.start_checklist(s, "4.1", None, "ja", people["pilot"])
        answers = all_ok()
        answers[[a["id"] for a in answers].index(STOP_ITEMS[-1])]["status"] = "ng"
        assert service.complete_checklist(s, ng.id, people["pilot"], answers).result == "stop"
        # a non-stop item ng does not stop the flight
        other = service.start_checklist(s, "4.1", None, "ja", people["pilot"])
        answers = all_ok()
        answers[[a["id"] for a in answers].index(OTHER_ITEMS[0])]["status"] = "ng"
        assert service.complete_checklist(s, other.id, people["pilot"], answers).result == "go"
        # unanswered stop items stop it too (evaluate_run: not checked = not done)
        empty = service.start_checklist(s, "4.1", None, "ja", people["pilot"])
        assert service.complete_checklist(s, empty.id, people["pilot"]).result == "stop"


def test_checklist_input_errors(store, people, make_plan):
    draft = make_plan()
    with store.session() as s:
        with pytest.raises(InputError, match=r"4\.1"):
            service.start_checklist(s, "9.9", None, "ja", people["pilot"])
        with pytest.raises(InputError) as err:
            service.start_checklist(s, "4.1", None, "fr", people["pilot"])
        assert err.value.field == "--lang"
        with pytest.raises(InputError, match="approved"):
            service.start_checklist(s, "4.1", draft, "ja", people["pilot"])
        with pytest.raises(PermissionDenied):
            service.start_checklist(s, "4.1", None, "ja", people["inspector"])
        run = service.start_checklist(s, "4.1", None, "ja", people["pilot"])
        with pytest.raises(InputError) as err:
            service.set_checklist_item(s, run.id, "t4.1.99", "ok", "", people["pilot"])
        assert err.value.field == "item_id"
        with pytest.raises(InputError) as err:
            service.set_checklist_item(s, run.id, STOP_ITEMS[0], "fine", "", people["pilot"])
        assert err.value.field == "status"
