"""`plantwatch drone ...`: outputs read back by real readers; bad input exits 2, writes nothing."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from xml.dom import minidom

import pytest
from typer.testing import CliRunner

from plantwatch.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sites" / "tank_farm.geojson"


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan") / "out"
    result = run("drone", "plan", str(EXAMPLE), "--gsd-mm", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out, result.output


def test_plan_writes_missions_that_real_readers_load(planned):
    out, output = planned
    from pymavlink import mavwp

    loader = mavwp.MAVWPLoader()
    n = loader.load(str(out / "mission.waypoints"))
    assert n > 10
    heights = [loader.wp(i).z for i in range(1, n) if loader.wp(i).command == 16]
    assert heights and max(heights) <= 150.0
    plan = json.loads((out / "mission.plan").read_text())
    assert plan["fileType"] == "Plan" and plan["mission"]["items"]
    minidom.parse(str(out / "mission.kml"))
    with zipfile.ZipFile(out / "mission.kmz") as kmz:
        assert {"wpmz/template.kml", "wpmz/waylines.wpml"} <= set(kmz.namelist())
        minidom.parseString(kmz.read("wpmz/waylines.wpml"))
    route = json.loads((out / "route.geojson").read_text())
    assert route["type"] == "FeatureCollection"
    assert (out / "coverage.png").stat().st_size > 10_000
    assert "sorties" in output


def test_every_tank_shell_and_roof_is_covered(planned):
    out, _ = planned
    coverage = json.loads((out / "coverage.json").read_text())
    tanks = [r for r in coverage["facilities"] if r["facility_type"].endswith("_tank")]
    assert len(tanks) >= 8
    assert min(r["coverage_pct"] for r in tanks) >= 98.0
    # what the drone may not fly (fire-restricted area, people) goes to conventional inspection
    unflown = {r["facility_id"] for r in coverage["facilities"] if r["coverage_pct"] == 0.0}
    listed = {item["facility_id"] for item in coverage["conventional_inspection"]}
    assert unflown <= listed


def test_every_mission_file_stays_under_the_item_bound(planned):
    out, _ = planned
    for path in out.glob("mission*.waypoints"):
        assert len(path.read_text().splitlines()) - 1 <= 500, path.name


def test_cameras_lists_presets():
    result = run("drone", "cameras")
    assert result.exit_code == 0 and "dji-phantom4-rtk" in result.output


def test_site_synth_then_plan(tmp_path):
    site = tmp_path / "big.geojson"
    assert (
        run("drone", "site-synth", "--tanks", "6", "--seed", "2", "--out", str(site)).exit_code == 0
    )
    result = run("drone", "plan", str(site), "--gsd-mm", "3", "--out", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p" / "coverage.json").is_file()


def _feature_collection(features):
    return {"type": "FeatureCollection", "features": features}


def _tank(lon, lat, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "kind": "facility",
            "type": "fixed_roof_tank",
            "id": "T-1",
            "diameter_m": 20,
            "height_m": 15,
            **props,
        },
    }


def _takeoff(lon, lat):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"kind": "takeoff", "id": "TO-1"},
    }


BAD_SITES = {
    "not json": ("{not json", "not valid"),
    "missing height": (
        _feature_collection([_tank(139.8, 35.5, height_m=None), _takeoff(139.801, 35.5)]),
        "height_m",
    ),
    "self-intersecting": (
        _feature_collection(
            [
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [139.8, 35.5],
                                [139.801, 35.501],
                                [139.801, 35.5],
                                [139.8, 35.501],
                                [139.8, 35.5],
                            ]
                        ],
                    },
                    "properties": {"kind": "no_fly", "id": "NF"},
                },
                _tank(139.80, 35.499),
                _takeoff(139.802, 35.5),
            ]
        ),
        "NF",
    ),
    "all take-offs in a zone": (
        _feature_collection(
            [
                _tank(139.80, 35.50),
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [139.801, 35.499],
                                [139.803, 35.499],
                                [139.803, 35.501],
                                [139.801, 35.501],
                                [139.801, 35.499],
                            ]
                        ],
                    },
                    "properties": {"kind": "zone1", "id": "Z1"},
                },
                _takeoff(139.802, 35.50),
            ]
        ),
        "take-off",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SITES))
def test_plan_bad_site_exits_2_and_writes_nothing(tmp_path, case):
    content, expected = BAD_SITES[case]
    site = tmp_path / "site.geojson"
    site.write_text(content if isinstance(content, str) else json.dumps(content))
    out = tmp_path / "out"
    result = run("drone", "plan", str(site), "--gsd-mm", "2", "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.geojson"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--camera", "nokia-3310"], "dji-phantom4-rtk"),
        (["--gsd-mm", "0.5"], "minimum distance"),
        (["--overlap", "1.5"], "--overlap"),
        (["--close", "R-99"], "--close"),
    ],
)
def test_plan_bad_options_exit_2(tmp_path, args, expected):
    argv = ["drone", "plan", str(EXAMPLE), "--out", str(tmp_path / "out"), *args]
    if "--gsd-mm" not in args:
        argv += ["--gsd-mm", "2"]
    result = run(*argv)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert not (tmp_path / "out").exists()
