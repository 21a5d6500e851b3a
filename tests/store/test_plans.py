"""Users, sites and plans: Argon2 sign-in, site import, plan versions and approvals (issue 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text

from plantwatch.drone.approval import approval_status
from plantwatch.drone.site import load_site
from plantwatch.errors import ImmutableError, InputError, NotFound, PermissionDenied
from plantwatch.store import audit, service
from plantwatch.store import users as users_module
from plantwatch.store.models import Approval, Facility, Plan, Site, User, Zone

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SITE = ROOT / "examples" / "sites" / "tank_farm.geojson"
PRODUCTION_HASHER = users_module._hasher  # taken before the fast_hash fixture patches it


# ---- users


def test_users_authenticate_with_argon2(store, fast_hash):
    from argon2 import PasswordHasher, Type

    default = PRODUCTION_HASHER()  # what the store uses outside these tests
    assert isinstance(default, PasswordHasher) and default.type is Type.ID
    assert default.time_cost >= 2 and default.memory_cost >= 19 * 1024  # OWASP minimum
    with store.session() as s:
        service.create_user(s, "sato", PASSWORD, "planner")
    with store.session() as s:
        user = service.authenticate(s, "sato", PASSWORD)
        assert user is not None and user.role == "planner"
        stored = s.execute(select(User.password_hash)).scalar_one()
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        assert service.authenticate(s, "sato", PASSWORD + "x") is None
        assert service.authenticate(s, "nobody", PASSWORD) is None


def test_user_rules(store, people):
    with store.session() as s:
        for args, field in [
            (("sato", "short", "pilot"), "password"),
            (("sato", PASSWORD, "captain"), "role"),
            (("bad name!", PASSWORD, "pilot"), "username"),
            (("planner", PASSWORD, "pilot"), "username"),  # exists
        ]:
            with pytest.raises(InputError) as err:
                service.create_user(s, *args, by=people["admin"])
            assert err.value.field == field
        with pytest.raises(PermissionDenied, match="needs admin"):
            service.create_user(s, "mallory", PASSWORD, "admin", by=people["planner"])
    with store.session() as s:
        service.set_user_active(s, "pilot", False, by=people["admin"])
    with store.session() as s:
        assert service.authenticate(s, "pilot", PASSWORD) is None  # deactivated
        with pytest.raises(PermissionDenied):
            service.set_password(s, "admin", "new password 1", by="pilot")


# ---- sites


def test_example_site_import_fills_facilities_and_zones(store, people):
    model = load_site(EXAMPLE_SITE)
    with store.session() as s:
        site = service.import_site(s, EXAMPLE_SITE.read_text(), None, people["planner"])
        site_id = site.id
    with store.session() as s:
        site = s.get(Site, site_id)
        assert site.name == model.name
        facilities = s.execute(select(Facility).where(Facility.site_id == site_id)).scalars()
        by_key = {f.key: f for f in facilities}
        assert set(by_key) == {f.id for f in model.facilities}
        assert by_key["T-101"].kind == "floating_roof_tank"
        assert by_key["T-101"].data_json["diameter_m"] == 60
        zones = s.execute(select(Zone).where(Zone.site_id == site_id)).scalars().all()
        assert {z.key for z in zones} == {z.id for z in model.zones}  # derived Zone 2 included
        assert any(z.kind == "zone2" and z.data_json["source"] for z in zones)
        assert service.site_model(s, site_id).facilities == model.facilities
        with pytest.raises(InputError, match="exists") as err:
            service.import_site(s, EXAMPLE_SITE.read_text(), None, people["planner"])
        assert err.value.field == "name"
        with pytest.raises(InputError) as err:
            service.import_site(s, "{not json", "x", people["planner"])
        assert err.value.field == "geojson"
        with pytest.raises(PermissionDenied):
            service.import_site(s, EXAMPLE_SITE.read_text(), "other", people["pilot"])


# ---- plans


def test_plan_create_submit_approve_and_sealed(store, people, make_plan):
    plan_id = make_plan()
    with store.session() as s:
        plan = s.get(Plan, plan_id)
        folder = store.path(plan.plan_dir)
        assert plan.plan_dir == f"files/plans/{plan_id}" and (folder / "plan.json").is_file()
        assert {"mission.plan", "coverage.json", "site.geojson"} <= {
            p.name for p in folder.iterdir()
        }
        assert plan.status == "draft" and plan.version == 1
        assert plan.summary_json["photos"] > 0 and plan.summary_json["coverage"]["coverage_pct"] > 0
        assert plan.settings_json["gsd_mm"] == 5.0 and plan.settings_json["overlap"] == 0.7
        with pytest.raises(InputError, match="draft"):
            service.approve_plan(s, plan_id, people["approver"])
        service.submit_plan(s, plan_id, people["planner"], "please check")
    with store.session() as s:
        with pytest.raises(PermissionDenied, match="pilot"):
            service.approve_plan(s, plan_id, people["pilot"])  # a pilot cannot approve
        service.approve_plan(s, plan_id, people["approver"], "ok")
    assert approval_status(folder).approved  # the folder's journal agrees, files unchanged
    with store.session() as s:
        actions = s.execute(select(Approval.action).where(Approval.plan_id == plan_id)).scalars()
        assert list(actions) == ["submit", "approve"]
    # approved: refused in the ORM ...
    with pytest.raises(ImmutableError, match="approved"), store.session() as s:
        s.get(Plan, plan_id).name = "renamed"
    with pytest.raises(ImmutableError), store.session() as s:
        s.delete(s.get(Plan, plan_id))
    # ... and by the database trigger for raw SQL
    with pytest.raises(ImmutableError, match="append-only"), store.session() as s:
        s.execute(text("UPDATE plans SET name = 'renamed' WHERE id = :id"), {"id": plan_id})
    with store.session() as s:
        assert s.get(Plan, plan_id).name == "inspection"
        assert audit.verify(s).ok and audit.verify_rows(s) == []


def test_revise_makes_version_two_with_previous_id(store, people, approved_plan):
    with store.session() as s:
        new = service.revise_plan(s, approved_plan, people["planner"], "wind changed")
        new_id = new.id
    with store.session() as s:
        new = s.get(Plan, new_id)
        assert (new.version, new.previous_id, new.status) == (2, approved_plan, "draft")
        assert new.plan_dir != s.get(Plan, approved_plan).plan_dir
        assert approval_status(store.path(new.plan_dir)).version == 2
        assert [p.id for p in service.plan_versions(s, approved_plan)] == [approved_plan, new_id]
        with pytest.raises(InputError, match="superseded"):
            service.revise_plan(s, approved_plan, people["planner"])
        # re-planned with other settings
        service.submit_plan(s, new_id, people["planner"])
        service.reject_plan(s, new_id, people["approver"], "use a finer GSD")
    with store.session() as s:
        third = service.revise_plan(s, new_id, people["planner"], settings={"gsd_mm": 4.0})
        assert third.version == 3 and third.settings_json["gsd_mm"] == 4.0
        assert third.summary_json["photos"] > new.summary_json["photos"]
        assert approval_status(store.path(third.plan_dir)).version == 3
    with store.session() as s:
        report = service.verify_store(s, store)
        assert report.ok, report.lines()


def test_reject_path_and_separation_of_duties(store, people, make_plan):
    plan_id = make_plan()
    with store.session() as s:
        service.submit_plan(s, plan_id, people["admin"])
    with store.session() as s:
        with pytest.raises(InputError, match="another person"):
            service.approve_plan(s, plan_id, people["admin"])  # own submission
        with pytest.raises(InputError, match="say why") as err:
            service.reject_plan(s, plan_id, people["approver"], "")
        assert err.value.field == "comment"
        service.reject_plan(s, plan_id, people["approver2"], "route crosses the road")
    with store.session() as s:
        plan = s.get(Plan, plan_id)
        assert plan.status == "rejected"
        with pytest.raises(InputError, match="rejected"):
            service.submit_plan(s, plan_id, people["planner"])
        assert approval_status(store.path(plan.plan_dir)).state == "rejected"
    with pytest.raises(ImmutableError), store.session() as s:
        s.execute(text("DELETE FROM plans WHERE id = :id"), {"id": plan_id})


def test_plan_input_errors_write_nothing(store, people, site_id):
    cases = [
        ({"gsd_mm": 5.0, "speed": 3}, "settings.speed"),
        ({}, "settings.gsd_mm"),
        ({"gsd_mm": "fine"}, "settings.gsd_mm"),
        ({"gsd_mm": 5.0, "overlap": 0.99}, "--overlap"),  # the planner's own check
    ]
    with store.session() as s:
        for settings, field in cases:
            with pytest.raises(InputError) as err:
                service.create_plan(s, store, site_id, "p", settings, people["planner"])
            assert err.value.field == field
        with pytest.raises(NotFound):
            service.create_plan(s, store, 999, "p", {"gsd_mm": 5}, people["planner"])
        with pytest.raises(PermissionDenied):
            service.create_plan(s, store, site_id, "p", {"gsd_mm": 5}, people["inspector"])
        assert s.execute(select(Plan)).first() is None
    plans_dir = store.files_dir / "plans"
    assert not plans_dir.exists() or list(plans_dir.iterdir()) == []  # no staging left


def test_ops_file_is_stored_in_the_plan_folder(store, people, make_plan, site_id):
    ops = (ROOT / "examples" / "ops" / "routine.yaml").read_text()
    with store.session() as s:
        plan = service.create_plan(s, store, site_id, "with ops", {"gsd_mm": 5}, "planner", ops)
        assert plan.ops_yaml == ops
        assert (store.path(plan.plan_dir) / "ops.yaml").read_text() == ops
        with pytest.raises(InputError) as err:
            service.create_plan(s, store, site_id, "bad", {"gsd_mm": 5}, "planner", "- a list")
        assert err.value.field == "ops_yaml"
        draft = service.create_plan(s, store, site_id, "later ops", {"gsd_mm": 5}, "planner")
        service.set_plan_ops(s, store, draft.id, ops, "planner")
        assert (store.path(draft.plan_dir) / "ops.yaml").read_text() == ops == draft.ops_yaml
        service.submit_plan(s, draft.id, "planner")
        with pytest.raises(InputError, match="submitted"):
            service.set_plan_ops(s, store, draft.id, ops, "planner")
    assert json.loads((store.path(plan.plan_dir) / "plan.json").read_text())["photos"] > 0
