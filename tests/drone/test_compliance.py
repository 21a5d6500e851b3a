"""Compliance engine: every rule fires and stays quiet, deadlines over Golden Week and New
Year, airspace layers, and the ``drone check`` command (exit 0/1/2, ``--json``)."""

from __future__ import annotations

import filecmp
import json
import math
import shutil
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
import typer
import yaml
from shapely.geometry import Polygon
from typer.testing import CliRunner

from plantwatch.drone import regdata
from plantwatch.drone.airspace import (
    Airspace,
    AirspaceArea,
    load_airspace,
    packaged_airspace_dir,
    resolve_airspace,
)
from plantwatch.drone.cli_compliance import register
from plantwatch.drone.compliance import (
    PREDICATES,
    Context,
    Route,
    business_days_before,
    compute_facts,
    evaluate_rules,
    exit_status,
    is_administrative_business_day,
    permit_deadline,
)
from plantwatch.drone.model import Facility, Site, Zone
from plantwatch.drone.operation import JST, Operation, load_operation, operation_from_dict
from plantwatch.drone.site import load_site
from plantwatch.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SITE = ROOT / "examples" / "sites" / "tank_farm.geojson"
OPS = ROOT / "examples" / "ops"
TODAY = date(2026, 1, 1)


def _rules() -> tuple[regdata.Rule, ...]:
    try:
        return regdata.load_rules()
    except Exception as exc:  # pragma: no cover - only while the data is being written
        pytest.skip(f"rules not loadable yet: {exc}")


def _roles() -> tuple[regdata.Role, ...]:
    try:
        return regdata.load_roles()
    except Exception as exc:  # pragma: no cover
        pytest.skip(f"roles not loadable yet: {exc}")


# -- a small synthetic site, route, airspace and operation ------------------------------------


def _square(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


SITE = Site(
    name="synthetic",
    origin_lat_deg=35.5,
    origin_lon_deg=139.78,
    origin_alt_m=0.0,
    facilities=(
        Facility(
            id="T-1",
            name="tank",
            type="fixed_roof_tank",
            center_m=(0.0, 200.0, 0.0),
            height_m=15.0,
            diameter_m=20.0,
        ),
    ),
    zones=(
        Zone("BOUNDARY", "boundary", _square(-500, -500, 500, 500)),
        Zone("P-1", "people", _square(300, 300, 340, 340)),
        Zone("R-1", "road", _square(-500, -310, 500, -300)),
        Zone("Z1", "zone1", _square(200, -200, 220, -180), ceiling_m=10.0),
        Zone("FR", "fire_restricted", _square(-220, 200, -200, 220)),
    ),
    takeoff_points_m=((0.0, 0.0),),
)
BASE_ROUTE = [(0.0, 0.0, 5.0), (0.0, 50.0, 20.0), (50.0, 50.0, 20.0), (50.0, 0.0, 5.0)]


def _area(layer: str, square: tuple, **kwargs: Any) -> AirspaceArea:
    polygon = Polygon(square)
    if layer == "small_uav_act":
        return AirspaceArea(layer, f"{layer}-1", layer, polygon.buffer(300.0), premises=polygon)
    return AirspaceArea(layer, f"{layer}-1", f"{layer} area", polygon, **kwargs)


def _airspace(**override: AirspaceArea) -> Airspace:
    areas = {
        "did": _area("did", _square(2000, 2000, 3000, 3000)),
        "airport_surfaces": _area(
            "airport_surfaces", _square(-1000, -1000, 1000, 1000), floor_m=45
        ),
        "small_uav_act": _area("small_uav_act", _square(1500, 1500, 1600, 1600)),
        "port": _area("port", _square(3000, -500, 4000, 500)),
    }
    areas.update(override)
    return Airspace(tuple(areas.values()), tuple(areas), source="test layers")


def _ops_raw() -> dict[str, Any]:
    raw = yaml.safe_load((OPS / "routine.yaml").read_text(encoding="utf-8"))
    raw.update(start_time="10:00", end_time="11:00", emergency_airspace=False)
    raw["confirmations"] = {}
    raw["crew"] = {r.id: f"person {i}" for i, r in enumerate(_roles()) if r.required}
    return raw


def _operation(**changes: Any) -> Operation:
    raw = _ops_raw()
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".", 1)
            raw[outer] = {**raw[outer], inner: value}
        else:
            raw[key] = value
    return operation_from_dict(raw, TODAY)


def _context(
    route: list[tuple[float, float, float]] | None = None,
    *,
    heading: list[float] | float = 0.0,
    airspace: Airspace | None = None,
    **ops: Any,
) -> Context:
    positions = route or BASE_ROUTE
    return Context(
        route=Route.from_points(positions, heading_deg=heading, speed_m_s=4.0),
        site=SITE,
        operation=_operation(**ops),
        airspace=airspace if airspace is not None else _airspace(),
        roles=_roles(),
    )


def _crew_without_pilot() -> dict[str, str]:
    return {r.id: "x" for r in _roles() if r.required and r.id != "role.pilot"}


CASES: dict[str, Callable[[bool], Context]] = {
    "airspace_above_150m": lambda on: _context([(0, 0, 5), (0, 50, 160 if on else 140), (0, 0, 5)]),
    "airspace_airport_surfaces": lambda on: _context(
        airspace=_airspace(
            airport_surfaces=_area(
                "airport_surfaces", _square(-1000, -1000, 1000, 1000), floor_m=10 if on else 45
            )
        )
    ),
    "airspace_did": lambda on: (
        _context(airspace=_airspace(did=_area("did", _square(-100, -100, 100, 100))))
        if on
        else _context()
    ),
    "airspace_emergency": lambda on: _context(emergency_airspace=on),
    "method_night": lambda on: _context(
        start_time="19:00" if on else "10:00", end_time="20:00" if on else "11:00"
    ),
    "method_bvlos": lambda on: _context(visual_line_of_sight=not on),
    "method_within_30m": lambda on: _context(
        [(0, 0, 5), (320, 280, 10), (0, 0, 5)] if on else None, third_party_area_closed=False
    ),
    "method_event": lambda on: _context(event=on),
    "method_dangerous_goods": lambda on: _context(dangerous_goods=on),
    "method_dropping": lambda on: _context(dropping=on),
    "aircraft_unregistered": lambda on: _context(
        **{"aircraft.registration": None if on else "JU0000000001"}
    ),
    "radio_licence_needed": lambda on: _context(
        **{
            "aircraft.radios": [
                {"name": "video", "band_ghz": 5.7 if on else 2.4, "certified": True}
            ]
        }
    ),
    "radio_uncertified": lambda on: _context(
        **{"aircraft.radios": [{"name": "video", "band_ghz": 2.4, "certified": not on}]}
    ),
    "small_uav_protected_site": lambda on: _context(
        airspace=_airspace(
            small_uav_act=_area("small_uav_act", _square(150, 0, 250, 100))
            if on
            else _area("small_uav_act", _square(1000, 1000, 1100, 1100))
        )
    ),
    "port_area": lambda on: (
        _context(airspace=_airspace(port=_area("port", _square(20, 20, 80, 80))))
        if on
        else _context()
    ),
    "privacy_capture": lambda on: _context(
        [(0, 0, 5), (480, 0, 20)] if on else [(0, 0, 5), (380, 0, 20)], heading=[0.0, 90.0]
    ),
    "ex_zone_non_explosion_proof": lambda on: _context(
        [(0, 0, 5), (210, -190, 5), (0, 0, 5)] if on else None
    ),
    "near_hazardous_area": lambda on: _context(
        [(0, 0, 5), (190, -190, 5), (0, 0, 5)] if on else None
    ),
    "fire_restricted_area": lambda on: _context(
        [(0, 0, 5), (-210, 210, 20), (0, 0, 5)] if on else None
    ),
    "indoor": lambda on: _context(indoor=on),
    "pilot_hours_insufficient": lambda on: _context(**{"pilot.flight_hours": 5 if on else 50}),
    "maintenance_overdue": lambda on: _context(
        **{"aircraft.hours_since_maintenance": 19.99 if on else 1.0}
    ),
    "crew_incomplete": lambda on: _context(crew=_crew_without_pilot()) if on else _context(),
    "wind_over_limit": lambda on: _context(wind_forecast_m_s=15.0 if on else 3.0),
    "always": lambda on: _context(),
}


def test_every_predicate_has_a_case():
    assert set(CASES) == set(PREDICATES)


def test_the_base_case_holds_nothing_but_always():
    facts = compute_facts(_context())
    held = {name for name, fact in facts.items() if fact.holds is not False}
    assert held == {"always"}, {n: facts[n].en for n in held}
    for fact in facts.values():
        assert fact.en and fact.ja


@pytest.mark.parametrize("name", sorted(set(PREDICATES) - {"always"}))
def test_each_predicate_fires_and_stays_quiet(name):
    fires = PREDICATES[name](CASES[name](True))
    quiet = PREDICATES[name](CASES[name](False))
    assert fires.holds is True, fires.en
    assert quiet.holds is False, quiet.en


def _rule_ids() -> list[str]:
    try:
        return [r.id for r in regdata.load_rules()]
    except Exception:  # pragma: no cover
        return []


@pytest.mark.parametrize("rule_id", _rule_ids())
def test_every_rule_fires_and_does_not(rule_id):
    rule = next(r for r in _rules() if r.id == rule_id)
    fires = CASES[rule.predicate](True)
    [finding] = evaluate_rules(
        [rule], compute_facts(fires, [rule.predicate]), fires.operation, TODAY
    )
    expected = "confirm" if rule.check == "person" else rule.outcome
    assert finding.status == expected, finding.message["en"]
    assert finding.citation == rule.citation and finding.message["en"] and finding.message["ja"]
    if finding.status == "permit_required" and (
        rule.permit and rule.permit.lead_time_business_days is not None
    ):
        assert finding.deadline is not None
        assert date.fromisoformat(finding.deadline) < fires.operation.date
    if finding.status == "confirm":
        assert finding.question and finding.question["en"] and finding.question["ja"]

    if rule.predicate == "always":  # only a person's answer makes it ok
        quiet = fires
        operation = quiet.operation.model_copy(update={"confirmations": {rule.id: True}})
    else:
        quiet = CASES[rule.predicate](False)
        operation = quiet.operation
    [finding] = evaluate_rules([rule], compute_facts(quiet, [rule.predicate]), operation, TODAY)
    assert finding.status == "ok", finding.message["en"]
    assert finding.deadline is None


def test_unknown_airspace_becomes_a_question_not_ok():
    ctx = Context(Route.from_points(BASE_ROUTE), SITE, _operation(), airspace=None, roles=_roles())
    facts = compute_facts(ctx)
    for name in (
        "airspace_did",
        "airspace_airport_surfaces",
        "small_uav_protected_site",
        "port_area",
    ):
        assert facts[name].holds is None
    did_rules = [r for r in _rules() if r.predicate == "airspace_did"]
    findings = evaluate_rules(did_rules, facts, ctx.operation, TODAY)
    assert findings and all(f.status == "confirm" and f.question for f in findings)
    assert exit_status(findings) == 0


def test_messages_say_concretely_why():
    fact = PREDICATES["airspace_above_150m"](CASES["airspace_above_150m"](True))
    assert "waypoints[1] is 160.0 m above ground" in fact.en
    fact = PREDICATES["ex_zone_non_explosion_proof"](CASES["ex_zone_non_explosion_proof"](True))
    assert "inside zone1 'Z1'" in fact.en and "not explosion-proof" in fact.en
    fact = PREDICATES["airspace_airport_surfaces"](CASES["airspace_airport_surfaces"](False))
    assert "below the floor" in fact.en


def test_daylight_true_at_night_is_a_contradiction():
    ctx = _context(start_time="21:00", end_time="22:00", daylight=True)
    with pytest.raises(InputError) as err:
        PREDICATES["method_night"](ctx)
    assert err.value.field == "daylight"
    assert PREDICATES["method_night"](_context(daylight=False)).holds is True


def test_tethered_flight_is_noted():
    fact = PREDICATES["method_bvlos"](_context(visual_line_of_sight=False, tethered=True))
    assert fact.holds and fact.details["tethered"] and "30 m" in fact.details["note"]


# -- engine logic with hand-made rules --------------------------------------------------------


def _rule(**fields: Any) -> regdata.Rule:
    base = {
        "id": "test.rule",
        "title": {"en": "Test", "ja": "テスト"},
        "text": {"en": "Text", "ja": "本文"},
        "citation": "Test Act Art. 1",
        "check": "auto",
        "when": "method_night",
        "outcome": "permit_required",
        "permit": {
            "name": {"en": "night permission", "ja": "夜間承認"},
            "authority": {"en": "MLIT", "ja": "国土交通大臣"},
            "lead_time_business_days": 10,
        },
    }
    base.update(fields)
    return regdata.Rule.model_validate(base)


def _evaluate(rule: regdata.Rule, ctx: Context, today: date = TODAY, **ops: Any):
    operation = ctx.operation.model_copy(update=ops)
    facts = compute_facts(ctx, [rule.predicate])
    [finding] = evaluate_rules([rule], facts, operation, today)
    return finding


def test_permit_deadline_in_the_finding():
    night = CASES["method_night"](True)  # 2030-05-07 (Tuesday)
    finding = _evaluate(_rule(), night)
    assert finding.status == "permit_required"
    # back from 2030-05-07: [6 substitute holiday, 5, 4, 3 holidays/weekend], 2 1, 1 2, Apr 30 3,
    # [29 Showa Day, 28, 27], 26 4, 25 5, 24 6, 23 7, 22 8, [21, 20], 19 9, 18 10
    assert finding.deadline == "2030-04-18"
    assert "by 2030-04-18 (10 administrative business days" in finding.message["en"]
    assert "2030-04-18まで" in finding.message["ja"]
    late = _evaluate(_rule(), night, today=date(2030, 4, 30))
    assert "already passed (today is 2030-04-30)" in late.message["en"]
    assert late.details["deadline_passed"] is True


def test_lead_time_in_hours():
    rule = _rule(
        permit={
            "name": {"en": "police notice", "ja": "通報"},
            "authority": {"en": "police", "ja": "警察"},
            "lead_time_hours": 48,
        }
    )
    finding = _evaluate(rule, CASES["method_night"](True))  # starts 2030-05-07 19:00
    assert finding.deadline == "2030-05-05"  # calendar hours: the holiday counts
    assert finding.details["deadline_time"] == "2030-05-05T19:00:00+09:00"


def test_permit_held_and_expired():
    night = CASES["method_night"](True)
    held = {"test.rule": {"reference": "MLIT-123", "valid_until": date(2031, 1, 1)}}
    ops = operation_from_dict(
        {**_ops_raw(), "start_time": "19:00", "end_time": "20:00", "permits": held}, TODAY
    )
    ctx = Context(night.route, SITE, ops, night.airspace, _roles())
    finding = _evaluate(_rule(), ctx)
    assert finding.status == "ok" and "MLIT-123" in finding.message["en"]
    expired = {"test.rule": {"reference": "MLIT-9", "valid_until": date(2030, 1, 1)}}
    ops = ops.model_copy(
        update={"permits": operation_from_dict({**_ops_raw(), "permits": expired}, TODAY).permits}
    )
    finding = _evaluate(_rule(), Context(night.route, SITE, ops, night.airspace, _roles()))
    assert finding.status == "permit_required" and "expired on 2030-01-01" in finding.message["en"]


def test_person_rules_and_answers():
    rule = _rule(
        check="person",
        when="indoor",
        outcome=None,
        permit=None,
        question={"en": "Is the tank gas-free?", "ja": "ガスフリーか"},
    )
    assert _evaluate(rule, CASES["indoor"](False)).status == "ok"
    asked = _evaluate(rule, CASES["indoor"](True))
    assert asked.status == "confirm" and asked.question["en"] == "Is the tank gas-free?"
    yes = _evaluate(rule, CASES["indoor"](True), confirmations={"test.rule": True})
    assert yes.status == "ok"
    no = _evaluate(rule, CASES["indoor"](True), confirmations={"test.rule": False})
    assert no.status == "confirm" and "answered 'no'" in no.message["en"]
    blocking = _rule(
        check="person",
        when="indoor",
        outcome="prohibited",
        permit=None,
        question={"en": "Gas-free?", "ja": "ガスフリーか"},
    )
    no = _evaluate(blocking, CASES["indoor"](True), confirmations={"test.rule": False})
    assert no.status == "prohibited"


def test_auto_confirm_outcome_takes_a_confirmation():
    rule = _rule(outcome="confirm", permit=None, question={"en": "Q?", "ja": "確認？"})
    night = CASES["method_night"](True)
    assert _evaluate(rule, night).status == "confirm"
    assert _evaluate(rule, night, confirmations={"test.rule": True}).status == "ok"


def test_unknown_confirmation_ids_are_rejected():
    with pytest.raises(InputError) as err:
        _evaluate(_rule(), CASES["method_night"](True), confirmations={"nope": True})
    assert err.value.field == "confirmations.nope"


# -- deadlines --------------------------------------------------------------------------------


def test_golden_week_2027():
    # flight Monday 2027-05-10; counting back: 7 (Fri) 1, 6 (Thu) 2, [5, 4, 3 holidays,
    # 2, 1 weekend], Apr 30 (Fri) 3, [29 Showa Day], 28 4, 27 5, 26 6, [25, 24 weekend],
    # 23 7, 22 8, 21 9, 20 (Tue) 10
    assert business_days_before(date(2027, 5, 10), 10) == date(2027, 4, 20)
    for holiday in (date(2027, 4, 29), date(2027, 5, 3), date(2027, 5, 4), date(2027, 5, 5)):
        assert not is_administrative_business_day(holiday)
    assert is_administrative_business_day(date(2027, 5, 6))


def test_new_year_2027():
    # flight Friday 2027-01-08; 7 1, 6 2, 5 3, 4 (Mon) 4, [Jan 3-1 and Dec 31-29 closure,
    # Dec 27, 26 weekend], Dec 28 (Mon) 5, 25 6, 24 7, 23 8, 22 9, 21 (Mon) 10
    assert business_days_before(date(2027, 1, 8), 10) == date(2026, 12, 21)
    for closed in (date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 2)):
        assert not is_administrative_business_day(closed)
    assert is_administrative_business_day(date(2026, 12, 28))
    assert is_administrative_business_day(date(2027, 1, 4))


def test_substitute_holiday_and_zero_lead_time():
    # 2030-11-03 (Culture Day) is a Sunday, so Monday 2030-11-04 is a substitute holiday
    assert not is_administrative_business_day(date(2030, 11, 4))
    assert business_days_before(date(2030, 11, 12), 10) == date(2030, 10, 28)
    assert business_days_before(date(2030, 11, 12), 0) == date(2030, 11, 12)
    with pytest.raises(InputError):
        business_days_before(date(2030, 11, 12), -1)


def test_permit_deadline_hours_cross_midnight():
    permit = regdata.Permit.model_validate(
        {
            "name": {"en": "n", "ja": "名"},
            "authority": {"en": "a", "ja": "機関"},
            "lead_time_hours": 48,
        }
    )
    due = permit_deadline(permit, datetime(2027, 1, 4, 9, 0, tzinfo=JST))
    assert due == (date(2027, 1, 2), datetime(2027, 1, 2, 9, 0, tzinfo=JST))


# -- airspace layers --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_site() -> Site:
    return load_site(EXAMPLE_SITE)


def _layer(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _polygon_feature(ring: list[list[float]], **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


SQUARE = [[139.70, 35.50], [139.71, 35.50], [139.71, 35.51], [139.70, 35.51], [139.70, 35.50]]


@pytest.mark.parametrize(
    ("file", "content", "match"),
    [
        ("did.geojson", "{nope", r"did.geojson: not valid JSON"),
        ("did.geojson", {"type": "Feature"}, "did.geojson: must be a GeoJSON FeatureCollection"),
        (
            "port.geojson",
            _layer(
                [
                    _polygon_feature(SQUARE),
                    _polygon_feature([[139.7, 135.5], *SQUARE[1:]], id="P-2"),
                ]
            ),
            r"port.geojson features\[1\] \(id 'P-2'\).geometry.coordinates\[0\]: positions are",
        ),
        (
            "did.geojson",
            _layer(
                [
                    _polygon_feature(
                        [
                            [139.70, 35.50],
                            [139.71, 35.51],
                            [139.71, 35.50],
                            [139.70, 35.51],
                            [139.70, 35.50],
                        ],
                        id="BOW",
                    )
                ]
            ),
            r"did.geojson features\[0\] \(id 'BOW'\).*invalid polygon: Self-intersection",
        ),
        (
            "airport_surfaces.geojson",
            _layer([_polygon_feature(SQUARE, floor_m=50, ceiling_m=40)]),
            r"features\[0\].properties.ceiling_m: must be above floor_m",
        ),
        (
            "airport_surfaces.geojson",
            _layer([_polygon_feature(SQUARE, floor_m="high")]),
            r"features\[0\].properties.floor_m: must be a finite number",
        ),
        (
            "small_uav_act.geojson",
            _layer(
                [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [139.7, 35.5]},
                    }
                ]
            ),
            r"small_uav_act.geojson features\[0\].geometry: must be a Polygon or MultiPolygon",
        ),
        ("dids.geojson", _layer([]), "dids.geojson: not an airspace layer"),
        ("did.geojson", _layer([_polygon_feature(SQUARE[:3])]), "needs >= 4 positions"),
    ],
)
def test_malformed_airspace_names_file_and_feature(tmp_path, example_site, file, content, match):
    text = content if isinstance(content, str) else json.dumps(content)
    (tmp_path / file).write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match) as err:
        load_airspace(tmp_path, example_site)
    assert "\n" not in str(err.value)


def test_layer_heights_and_protected_site_buffer(tmp_path, example_site):
    (tmp_path / "airport_surfaces.geojson").write_text(
        json.dumps(_layer([_polygon_feature(SQUARE, height_m=45)])), encoding="utf-8"
    )
    (tmp_path / "small_uav_act.geojson").write_text(
        json.dumps(_layer([_polygon_feature(SQUARE, id="PS")])), encoding="utf-8"
    )
    airspace = load_airspace(tmp_path, example_site)
    assert set(airspace.layers) == {"airport_surfaces", "small_uav_act"}
    [surface] = airspace.of("airport_surfaces")
    assert surface.floor_m == 45.0 and math.isinf(surface.ceiling_m)
    [protected] = airspace.of("small_uav_act")
    assert protected.premises is not None
    grown = protected.polygon.area - protected.premises.area
    perimeter = protected.premises.length
    assert grown == pytest.approx(300 * perimeter + math.pi * 300**2, rel=0.01)


def test_sample_sets_load_and_examples_are_copies(example_site):
    for name in ("tank_farm", "did_over_site"):
        folder = packaged_airspace_dir() / name
        airspace = load_airspace(folder, example_site)
        assert set(airspace.layers) == {"did", "airport_surfaces", "small_uav_act", "port"}
        example = ROOT / "examples" / "airspace" / ("" if name == "tank_farm" else name)
        for file in folder.glob("*.geojson"):
            assert filecmp.cmp(file, example / file.name, shallow=False), file.name
    base = load_airspace(packaged_airspace_dir() / "tank_farm", example_site)
    over = load_airspace(packaged_airspace_dir() / "did_over_site", example_site)
    takeoff = shapely.Point(example_site.takeoff_points_m[0])
    assert not any(a.polygon.intersects(takeoff) for a in base.of("did"))
    assert any(a.polygon.intersects(takeoff) for a in over.of("did"))


def test_airspace_resolution_order(tmp_path, example_site):
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    routine = load_operation(OPS / "routine.yaml", TODAY)
    night = load_operation(OPS / "night_bvlos.yaml", TODAY)
    # 4. the packaged set made for this site
    folder, note = resolve_airspace(None, routine, plan_dir, example_site)
    assert folder == packaged_airspace_dir() / "tank_farm" and "illustrative" in note
    # 2. the ops file names a packaged set
    folder, note = resolve_airspace(None, night, plan_dir, example_site)
    assert folder == packaged_airspace_dir() / "did_over_site"
    # 3. PLAN_DIR/airspace wins over the default
    (plan_dir / "airspace").mkdir()
    folder, _ = resolve_airspace(None, routine, plan_dir, example_site)
    assert folder == plan_dir / "airspace"
    # 2. a folder next to the ops file wins over a packaged name
    ops_dir = tmp_path / "ops"
    (ops_dir / "did_over_site").mkdir(parents=True)
    shutil.copyfile(OPS / "night_bvlos.yaml", ops_dir / "night.yaml")
    local = load_operation(ops_dir / "night.yaml", TODAY)
    folder, _ = resolve_airspace(None, local, plan_dir, example_site)
    assert folder == ops_dir / "did_over_site"
    # 1. --airspace wins over everything
    folder, note = resolve_airspace(tmp_path, night, plan_dir, example_site)
    assert folder == tmp_path and "--airspace" in note
    # 5. none for another site
    other = Site("other", 35.0, 139.0, 0.0, (), (), ((0.0, 0.0),))
    folder, note = resolve_airspace(None, routine, tmp_path / "none", other)
    assert folder is None and "no airspace layers" in note
    bad = night.model_copy(update={"airspace": "no_such_set"})
    with pytest.raises(InputError) as err:
        resolve_airspace(None, bad, plan_dir, example_site)
    assert err.value.field == "airspace"


# -- the command ------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    drone = typer.Typer()
    app.add_typer(drone, name="drone")
    register(drone)
    return app


_FIELDS = [
    "sortie",
    "x_m",
    "y_m",
    "z_m",
    "lat_deg",
    "lon_deg",
    "heading_deg",
    "gimbal_pitch_deg",
    "speed_m_s",
    "action",
    "kind",
    "facility_id",
]


def _write_plan(folder: Path, rows: list[list[Any]], flight_time_s: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    plan = {
        "site": "Tokyo Bay coastal tank farm (example)",
        "flight_time_s": flight_time_s,
        "waypoint_fields": _FIELDS,
        "waypoints": rows,
    }
    (folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    shutil.copyfile(EXAMPLE_SITE, folder / "site.geojson")
    return folder


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory) -> Path:
    """A short flight from take-off point TO-1 over the office yard (west of the tanks)."""
    points = [(-330, -15, 0), (-330, -15, 20), (-300, 0, 20), (-330, -15, 20), (-330, -15, 0)]
    rows = [
        [0, x, y, z, None, None, 90.0, -90.0, 4.0, "none", "transit", None] for x, y, z in points
    ]
    return _write_plan(tmp_path_factory.mktemp("small") / "plan", rows, 120.0)


@pytest.fixture(scope="module")
def example_plan(tmp_path_factory, example_site) -> Path:
    """The example site's full inspection route (the planner only; no coverage, for speed)."""
    from plantwatch.drone.camera import DEFAULT_CAMERA, get_camera
    from plantwatch.drone.mission import closed_zone_ids
    from plantwatch.drone.model import PlanOptions
    from plantwatch.drone.planner import plan_inspection

    plan = plan_inspection(
        example_site,
        get_camera(DEFAULT_CAMERA),
        PlanOptions(gsd_mm=2.0),
        closed_zone_ids=closed_zone_ids(example_site, ("controlled",)),
    )
    rows = [
        [
            s.index,
            w.x_m,
            w.y_m,
            w.z_m,
            w.lat_deg,
            w.lon_deg,
            w.heading_deg,
            w.gimbal_pitch_deg,
            w.speed_m_s,
            w.action,
            w.kind,
            w.facility_id,
        ]
        for s in plan.sorties
        for w in s.waypoints
    ]
    return _write_plan(tmp_path_factory.mktemp("example") / "plan", rows, plan.flight_time_s)


def _check(cli: typer.Typer, *args: str):
    return runner.invoke(cli, ["drone", "check", *args])


def _json_findings(output: str) -> list[dict[str, Any]]:
    return json.loads(output[output.index("\n[") + 1 :] if not output.startswith("[") else output)


def test_examples_routine_passes_and_night_bvlos_needs_permits(cli, example_plan):
    routine = _check(
        cli,
        str(example_plan),
        "--ops",
        str(OPS / "routine.yaml"),
        "--json",
        "--today",
        "2026-01-01",
    )
    assert routine.exit_code == 0, routine.output[-2000:]
    findings = json.loads(routine.stdout)
    assert not [f for f in findings if f["status"] in ("permit_required", "prohibited")]
    assert "packaged sample airspace set 'tank_farm'" in routine.stderr

    night = _check(
        cli,
        str(example_plan),
        "--ops",
        str(OPS / "night_bvlos.yaml"),
        "--json",
        "--today",
        "2026-01-01",
    )
    assert night.exit_code == 1, night.output[-2000:]
    findings = json.loads(night.stdout)
    permits = {f["id"]: f for f in findings if f["status"] == "permit_required"}
    assert {"aviation.method.night", "aviation.method.bvlos", "aviation.airspace.did"} <= set(
        permits
    )
    for finding in permits.values():
        assert finding["deadline"] == "2030-10-28" and finding["citation"]
    assert "did_over_site" in night.stderr


def test_json_shape(cli, small_plan):
    result = _check(
        cli, str(small_plan), "--ops", str(OPS / "routine.yaml"), "--json", "--today", "2026-01-01"
    )
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)
    assert isinstance(findings, list) and len(findings) == len(_rules())
    for finding in findings:
        assert {
            "id",
            "status",
            "citation",
            "title",
            "message",
            "check",
            "question",
            "permit",
            "deadline",
            "details",
        } <= set(finding)
        assert finding["status"] in ("ok", "permit_required", "prohibited", "confirm")
        assert finding["message"]["en"] and finding["message"]["ja"]


def test_table_output(cli, small_plan):
    result = _check(
        cli,
        str(small_plan),
        "--ops",
        str(OPS / "night_bvlos.yaml"),
        "--today",
        "2026-01-01",
        "--lang",
        "ja",
    )
    assert result.exit_code == 1
    assert "permit_required" in result.stdout and "2030-10-28" in result.stdout
    assert "許可・承認が必要" in result.stdout


def test_exit_1_for_prohibited(cli, small_plan, tmp_path):
    raw = yaml.safe_load((OPS / "routine.yaml").read_text(encoding="utf-8"))
    raw["pilot"]["flight_hours"] = 3
    ops = tmp_path / "ops.yaml"
    ops.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = _check(cli, str(small_plan), "--ops", str(ops), "--json", "--today", "2026-01-01")
    assert result.exit_code == 1
    statuses = {f["id"]: f["status"] for f in json.loads(result.stdout)}
    assert "prohibited" in statuses.values()


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (lambda raw: raw.pop("date"), "error: date: is missing"),
        (lambda raw: raw.update(end_time="08:00"), "error: end_time:"),
        (lambda raw: raw["crew"].update({"role.cook": "x"}), "error: crew.role.cook: unknown role"),
        (lambda raw: raw.update(date=date(2025, 1, 1)), "is in the past"),
    ],
)
def test_exit_2_for_bad_ops(cli, small_plan, tmp_path, change, expect):
    raw = yaml.safe_load((OPS / "routine.yaml").read_text(encoding="utf-8"))
    change(raw)
    ops = tmp_path / "ops.yaml"
    ops.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = _check(cli, str(small_plan), "--ops", str(ops), "--json", "--today", "2026-01-01")
    assert result.exit_code == 2
    assert expect in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_exit_2_for_bad_airspace_plan_or_date(cli, small_plan, tmp_path):
    (tmp_path / "did.geojson").write_text('{"type": "Nope"}', encoding="utf-8")
    result = _check(
        cli,
        str(small_plan),
        "--ops",
        str(OPS / "routine.yaml"),
        "--airspace",
        str(tmp_path),
        "--today",
        "2026-01-01",
    )
    assert result.exit_code == 2 and "did.geojson" in result.stderr
    result = _check(
        cli, str(tmp_path / "nope"), "--ops", str(OPS / "routine.yaml"), "--today", "2026-01-01"
    )
    assert result.exit_code == 2 and "PLAN_DIR" in result.stderr
    result = _check(cli, str(small_plan), "--ops", str(OPS / "routine.yaml"), "--today", "soon")
    assert result.exit_code == 2 and "--today" in result.stderr


def test_risk_command(cli, small_plan):
    result = runner.invoke(
        cli,
        [
            "drone",
            "risk",
            str(small_plan),
            "--ops",
            str(OPS / "routine.yaml"),
            "--json",
            "--today",
            "2026-01-01",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [i["id"] for i in report["items"]][:8] == [f"a{i}" for i in range(1, 9)]
    assert report["fall_range"]["max_height_m"] == 20.0
    assert report["matrix"].startswith("score = likelihood")
    table = runner.invoke(
        cli,
        [
            "drone",
            "risk",
            str(small_plan),
            "--ops",
            str(OPS / "routine.yaml"),
            "--today",
            "2026-01-01",
        ],
    )
    assert table.exit_code == 0 and "fall range" in table.stdout
