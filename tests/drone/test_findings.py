"""Findings on photos and the inspection report (issue 7, MHLW-2022 §5.5): validation with clear
errors, HTML with findings by facility and the conventional-inspection list, PDF read back with
poppler's pdftotext, and the ``plantwatch drone report`` command."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import typer
import yaml
from typer.testing import CliRunner

from plantwatch.drone.camera import custom_camera
from plantwatch.drone.cli_photos import register
from plantwatch.drone.coverage import compute_coverage
from plantwatch.drone.findings import (
    Finding,
    conventional_from,
    defect_types,
    load_findings,
    render_inspection_report,
    severities,
    write_findings,
    write_inspection_report,
)
from plantwatch.drone.mission import MissionResult, write_mission
from plantwatch.drone.model import PlanOptions
from plantwatch.drone.photo_synth import write_plan_photos
from plantwatch.drone.photos import survey_photos
from plantwatch.drone.planner import plan_inspection
from plantwatch.drone.site import load_site
from plantwatch.errors import InputError

from .conftest import write_two_tank_site

pytest.importorskip("piexif")

JST = timezone(timedelta(hours=9))
TESTCAM = custom_camera("TestCam", 7.2, 5.4, 800, 600, 5.0)  # not a preset: 35 mm path
TAKEN = 12  # only the first shots are flown: the rest must show up as not taken
needs_pdftotext = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler missing")


@pytest.fixture(scope="module")
def flight(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A two-tank site planned with TESTCAM, and the first TAKEN shots flown: (plan, photos)."""
    folder = tmp_path_factory.mktemp("inspection")
    # no boundary: the flight (and the photos the test flies) are those of the site without one
    site_path = write_two_tank_site(folder, "report test site", boundary=False)
    site = load_site(site_path)
    plan = plan_inspection(site, TESTCAM, PlanOptions(gsd_mm=12.0))
    write_mission(
        MissionResult(site, plan, compute_coverage(site, plan), (), site_path), folder / "plan"
    )
    count = sum(1 for w in plan.waypoints if w.action == "photo")
    write_plan_photos(
        folder / "plan",
        folder / "photos",
        skip=set(range(TAKEN + 1, count + 1)),
        camera=TESTCAM,
        make="ACME",
        model="TestCam 1",
    )
    return folder / "plan", folder / "photos"


FINDINGS: dict[str, Any] = {
    "inspector": "山田 太郎",
    "time": "2031-05-13T10:00:00+09:00",
    "findings": [
        {
            "photo": "DJI_0001.JPG",
            "defect": "corrosion",
            "severity": 3,
            "region": {"x": 350, "y": 380, "w": 80, "h": 60},
            "note": "rust streaks near the bottom course",
        },
        {
            "photo": "DJI_0002.JPG",
            "defect": "coating_damage",
            "severity": "plan_repair",
            "region": {"x": 100, "y": 120, "w": 200, "h": 100},
            "inspector": "佐藤 花子",
        },
    ],
}


def _write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _app() -> typer.Typer:
    app, drone = typer.Typer(), typer.Typer()
    app.add_typer(drone, name="drone")
    register(drone)
    return app


# -- data and model ----------------------------------------------------------------------------


def test_defect_types_are_data_with_both_languages_and_citations() -> None:
    types = defect_types()
    expected = {
        "corrosion",
        "coating_damage",
        "leak_trace",
        "crack",
        "deformation",
        "insulation_damage",
        "other",
    }
    assert expected == set(types)
    for defect in types.values():
        assert defect.name["en"] and re.search(r"[\u3040-\u30ff\u4e00-\u9faf]", defect.name["ja"])
        assert defect.image_limit["en"] and defect.image_limit["ja"]
        assert defect.citation.startswith("MHLW-2022 §5.5")
    assert sorted(severities()) == [1, 2, 3, 4]
    assert conventional_from() in severities()


def test_load_findings_applies_defaults_and_numbers(tmp_path: Path) -> None:
    findings = load_findings(_write_yaml(tmp_path / "f.yaml", FINDINGS))
    assert [f.id for f in findings] == ["F-001", "F-002"]
    assert findings[0].inspector == "山田 太郎" and findings[1].inspector == "佐藤 花子"
    assert findings[1].severity == 2  # "plan_repair" by id
    assert findings[0].time == datetime(2031, 5, 13, 10, 0, tzinfo=JST)
    again = load_findings(write_findings(tmp_path / "copy.yaml", findings))
    assert again == findings


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"defect": "rust"}, "findings[0].defect", "unknown defect type"),
        ({"severity": 7}, "findings[0].severity", "unknown severity"),
        ({"region": {"x": 1, "y": 2, "w": 0, "h": 5}}, "findings[0].region.w", "greater than 0"),
        ({"time": "2031-05-13T10:00:00"}, "findings[0].time", "UTC offset"),
        ({"inspector": "  "}, "findings[0].inspector", "inspector"),
    ],
)
def test_bad_findings_name_the_field(
    tmp_path: Path, change: dict[str, Any], field: str, message: str
) -> None:
    data = {"findings": [{**FINDINGS["findings"][0], "inspector": "A", **change}]}
    if "time" not in change:
        data["findings"][0]["time"] = "2031-05-13T10:00:00+09:00"
    path = _write_yaml(tmp_path / "bad.yaml", data)
    with pytest.raises(InputError, match=message) as info:
        load_findings(path)
    assert field in str(info.value) and str(path) in str(info.value)


# -- report ------------------------------------------------------------------------------------


def test_report_html_lists_findings_by_facility_and_the_conventional_list(
    flight: tuple[Path, Path], tmp_path: Path
) -> None:
    plan_dir, photos_dir = flight
    findings = load_findings(_write_yaml(tmp_path / "f.yaml", FINDINGS))
    html = render_inspection_report(plan_dir, photos_dir, findings, "en", today=date(2031, 5, 14))
    assert "Image-based inspection report" in html and "2031-05-14" in html
    assert "tank T-1 (T-1)" in html
    for text in ("F-001", "F-002", "Corrosion", "Coating damage", "rust streaks", "佐藤 花子"):
        assert text in html
    # each finding carries a crop of its region as a JPEG data URI, outlined in red
    uris = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(uris) == 2
    crop = cv2.imdecode(np.frombuffer(base64.b64decode(uris[0]), np.uint8), cv2.IMREAD_COLOR)
    red = (crop[..., 2] > 170) & (crop[..., 1] < 100) & (crop[..., 0] < 100)
    assert red.sum() > 50
    # the conventional-inspection list: shots not taken, blind spots of the photos as taken,
    # and the severity-3 finding
    section = html.split("3. Spots for conventional visual inspection")[1]
    assert "Planned shots not taken" in section
    assert f"{TAKEN + 1}-" in section  # the shot range not flown
    assert "Blind spots (photos as taken)" in section
    assert "by conventional visual inspection" in section  # coverage's action text
    high_risk = section.split("Findings that need conventional inspection")[1]
    assert "F-001" in high_risk and "F-002" not in high_risk.split("4. Photos by facility")[0]
    survey = survey_photos([photos_dir], plan_dir=plan_dir)
    assert len(survey.photos) == TAKEN and survey.coverage is not None
    assert survey.coverage.report.conventional_inspection


def test_report_rejects_findings_that_do_not_fit_the_photos(
    flight: tuple[Path, Path], tmp_path: Path
) -> None:
    plan_dir, photos_dir = flight
    base = load_findings(_write_yaml(tmp_path / "f.yaml", FINDINGS))[0]
    outside = base.model_copy(update={"region": base.region.model_copy(update={"x": 790})})
    with pytest.raises(InputError, match="outside the 800 x 600 px photo") as info:
        render_inspection_report(plan_dir, photos_dir, [outside], "en")
    assert "findings[0].region" in str(info.value)
    unknown_photo = base.model_copy(update={"photo": "DJI_0099.JPG"})
    with pytest.raises(InputError, match="not among the photos"):
        render_inspection_report(plan_dir, photos_dir, [unknown_photo], "en")
    unknown_facility = base.model_copy(update={"facility": "T-9"})
    with pytest.raises(InputError, match="unknown facility 'T-9'"):
        render_inspection_report(plan_dir, photos_dir, [unknown_facility], "en")


@needs_pdftotext
def test_japanese_pdf_and_cli(flight: tuple[Path, Path], tmp_path: Path) -> None:
    plan_dir, photos_dir = flight
    findings = _write_yaml(tmp_path / "findings.yaml", FINDINGS)
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    result = CliRunner().invoke(
        _app(),
        [
            "drone",
            "report",
            str(plan_dir),
            "--photos",
            str(photos_dir),
            "--findings",
            str(findings),
            "--out",
            str(html),
            "--pdf",
            str(pdf),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "画像による点検結果報告書" in text
    assert "腐食" in text and "F-001" in text
    assert "従来の目視検査が必要な箇所" in text
    assert "未撮影の計画撮影点" in html.read_text(encoding="utf-8")

    bad = _write_yaml(tmp_path / "bad.yaml", {"findings": [{"photo": "x.jpg"}]})
    out = tmp_path / "never.html"
    result = CliRunner().invoke(
        _app(),
        [
            "drone",
            "report",
            str(plan_dir),
            "--photos",
            str(photos_dir),
            "--findings",
            str(bad),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2 and "error:" in result.output
    assert not out.exists()


def test_write_report_needs_an_output(flight: tuple[Path, Path]) -> None:
    plan_dir, photos_dir = flight
    with pytest.raises(InputError, match="HTML and/or a PDF"):
        write_inspection_report(plan_dir, photos_dir, [], "en")
    finding = Finding.model_validate(
        {**FINDINGS["findings"][0], "inspector": "A", "time": "2031-05-13T10:00+09:00"}
    )
    assert finding.defect == "corrosion"
