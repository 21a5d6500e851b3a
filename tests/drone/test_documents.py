"""Flight-plan documents (Table 3.1) as HTML and PDF, checklists, and checklist runs.

PDFs are checked with their real readers (poppler's pdftotext, pdftoppm, pdffonts).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from plantwatch.drone import cli_documents
from plantwatch.drone.approval import transition
from plantwatch.drone.cli_documents import register
from plantwatch.drone.documents import (
    TABLE_3_1_HEADINGS,
    ChecklistRun,
    ItemResult,
    append_run,
    evaluate_run,
    load_runs,
    render_checklist_html,
    render_checklist_text,
    render_flight_plan_html,
    write_flight_plan,
)
from plantwatch.drone.mission import plan_and_export
from plantwatch.errors import DataError, InputError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SITE = ROOT / "examples" / "sites" / "tank_farm.geojson"
ROUTINE_OPS = ROOT / "examples" / "ops" / "routine.yaml"
JST = timezone(timedelta(hours=9))
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9faf]")
needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
    reason="poppler-utils (pdftotext, pdftoppm) not installed",
)

# Stand-ins with the fields of Operation, Finding and RiskEntry (plain mappings are accepted).
OPERATION: dict[str, Any] = {
    "date": date(2031, 5, 12),
    "start_time": time(9, 0),
    "end_time": time(11, 30),
    "purpose": "equipment_inspection",
    "capture": ["visible", "infrared"],
    "visual_line_of_sight": True,
    "third_party_area_closed": True,
    "wind_forecast_m_s": 4.0,
    "aircraft": {
        "id": "AC-1",
        "model": "Matrice 350 RTK",
        "registration": "JU0123456789",
        "explosion_proof": False,
    },
    "pilot": {"name": "山田 太郎", "flight_hours": 52.5},
    "crew": {"role.pilot": "山田 太郎", "role.observer": "佐藤 花子"},
    "emergency_contacts": {"fire": "119", "plant control room": "045-000-0000"},
}
FINDINGS: list[dict[str, Any]] = [
    {
        "id": "aviation.method.night",
        "status": "permit_required",
        "citation": "Aviation Act Art. 132-2 (1) (v)",
        "title": {"en": "Night flight", "ja": "夜間飛行"},
        "message": {"en": "the flight ends after sunset", "ja": "日没後に飛行する"},
        "permit": {
            "name": {"en": "MLIT approval", "ja": "国土交通大臣の承認"},
            "authority": {"en": "MLIT", "ja": "国土交通大臣"},
        },
        "deadline": "2031-04-25",
    },
    {
        "id": "privacy.capture",
        "status": "confirm",
        "citation": "MHLW-2022 §6.6",
        "title": {"en": "Privacy", "ja": "プライバシー"},
        "message": {"en": "photos may show the neighbours", "ja": "隣地が写る可能性がある"},
        "question": {"en": "Were the neighbours told?", "ja": "近隣に周知したか"},
    },
    {
        "id": "aviation.airspace.did",
        "status": "ok",
        "citation": "Aviation Act Art. 132 (1) (ii)",
        "title": {"en": "Densely inhabited district", "ja": "人口集中地区"},
        "message": {"en": "not over a DID", "ja": "人口集中地区の上空ではない"},
    },
]
RISKS: list[dict[str, Any]] = [
    {
        "id": "a1",
        "group": "general",
        "hazard": {"en": "Flight over workers and vehicles", "ja": "作業員・車両の上空での飛行"},
        "mitigations": [{"en": "Tell everyone on site", "ja": "入構者への周知"}],
        "likelihood": 3,
        "severity": 4,
        "residual_likelihood": 1,
        "citation": "MHLW-2022 Table 3.2 a1",
    },
]
CHECKLIST: dict[str, Any] = {
    "table": "4.1",
    "title": {"en": "Pre-flight inspection", "ja": "飛行前の機体点検"},
    "citation": "MHLW-2022 Table 4.1",
    "items": [
        {
            "id": "t4.1.01",
            "text": {"en": "Camera works", "ja": "カメラが正常"},
            "check": "person",
            "stops_flight": True,
        },
        {
            "id": "t4.1.02",
            "text": {"en": "Screws tight", "ja": "ねじの緩みがない"},
            "check": "person",
            "stops_flight": True,
        },
        {
            "id": "t4.1.12",
            "text": {"en": "Spare parts", "ja": "予備品がある"},
            "check": "person",
            "stops_flight": False,
        },
        {
            "id": "t4.1.16",
            "text": {"en": "Maintenance not overdue", "ja": "整備期限内"},
            "check": "auto",
            "when": "maintenance_overdue",
            "stops_flight": True,
        },
    ],
}


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("documents") / "plan"
    plan_and_export(EXAMPLE_SITE, out, gsd_mm=2.0)
    return out


@pytest.fixture(scope="module")
def pdfs(plan_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("pdf")
    paths = {}
    for lang in ("ja", "en"):
        written = write_flight_plan(
            plan_dir,
            OPERATION,
            FINDINGS,
            RISKS,
            lang,
            html_path=out / f"plan_{lang}.html",
            pdf_path=out / f"plan_{lang}.pdf",
        )
        assert [p.name for p in written] == [f"plan_{lang}.html", f"plan_{lang}.pdf"]
        paths[lang] = out / f"plan_{lang}.pdf"
    return paths


def _pdftotext(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@needs_poppler
@pytest.mark.parametrize(("lang", "title"), [("ja", "飛行計画"), ("en", "Flight plan")])
def test_pdf_renders_with_title_and_sections(
    pdfs: dict[str, Path], lang: str, title: str, tmp_path: Path
) -> None:
    pdf = pdfs[lang]
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = _pdftotext(pdf)
    assert title in text
    for heading in TABLE_3_1_HEADINGS.values():
        assert heading[lang] in text
    assert "2031-04-25" in text  # the permit's application deadline
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    pages = list(tmp_path.glob("page*.png"))
    assert len(pages) == 1 and pages[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pages[0].stat().st_size > 5_000


@needs_poppler
def test_japanese_pdf_embeds_a_cjk_font(pdfs: dict[str, Path]) -> None:
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts not installed")
    fonts = subprocess.run(
        ["pdffonts", str(pdfs["ja"])], capture_output=True, text=True, check=True
    ).stdout
    assert "Noto-Sans-CJK-JP" in fonts  # Japanese glyphs come from Noto CJK, not tofu boxes
    assert "飛行計画書" in _pdftotext(pdfs["ja"]).replace("\n", "")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_html_has_every_table_3_1_item(plan_dir: Path, lang: str) -> None:
    html = render_flight_plan_html(plan_dir, OPERATION, FINDINGS, RISKS, lang)
    for heading in TABLE_3_1_HEADINGS.values():
        assert heading[lang] in html
    assert ("飛行計画書" if lang == "ja" else "Flight plan") in html
    plan = json.loads((plan_dir / "plan.json").read_text())
    facilities = {wp[-1] for wp in plan["waypoints"] if wp[-1]}
    assert facilities and all(f">{fid}<" in html for fid in facilities)  # targets
    assert "data:image/png;base64," in html  # coverage.png embedded
    assert "<svg" in html and "<polyline" in html  # route drawn from plan.json
    assert ("赤外線撮影" if lang == "ja" else "Infrared (thermal) imaging") in html
    assert ("国土交通大臣の承認" if lang == "ja" else "MLIT approval") in html
    assert "3 × 4 = <b>12</b>" in html and "1 × 4 = <b>4</b>" in html  # risk before / after
    assert "Z2-LPG" in html  # hazardous areas near the route are listed
    assert ("近傍" if lang == "ja" else "Near an area") in html  # tank Zone 2 within 30 m
    conventional = json.loads((plan_dir / "coverage.json").read_text())["conventional_inspection"]
    assert conventional and conventional[0]["facility_id"] in html
    assert "119" in html  # emergency contacts


def test_real_operation_compliance_and_risk_register(plan_dir: Path) -> None:
    operation_module = pytest.importorskip("plantwatch.drone.operation")
    raw = {
        **{k: v for k, v in OPERATION.items() if k != "emergency_contacts"},
        "purpose": "equipment_inspection",
        "aircraft": {
            **OPERATION["aircraft"],
            "remote_id": True,
            "mass_kg": 6.5,
            "max_wind_m_s": 12.0,
            "flight_hours": 40.0,
            "hours_since_maintenance": 5.0,
        },
    }
    operation = operation_module.operation_from_dict(raw, today=date(2031, 5, 1))
    findings, risks, _ = cli_documents._assess(plan_dir, operation, None, date(2031, 5, 1))
    assert findings and risks is not None
    html = render_flight_plan_html(plan_dir, operation, findings, risks, "ja")
    assert "山田 太郎" in html and "可視光撮影" in html and "JU0123456789" in html
    assert "落下範囲" in html  # the register's fall-range report
    assert all(f">{f.id}<" in html for f in findings)  # every finding is listed


def test_html_says_when_compliance_and_risks_are_missing(plan_dir: Path) -> None:
    html = render_flight_plan_html(plan_dir, OPERATION, None, None, "en")
    assert "compliance was not evaluated" in html
    assert "risk assessment is not included" in html


def test_document_shows_the_approval_state(plan_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(plan_dir, folder)
    transition(folder, "submit", by="Sato", role="planner")
    transition(folder, "approve", by="Suzuki", role="approver")
    html = render_flight_plan_html(folder, OPERATION, FINDINGS, RISKS, "ja")
    assert "承認済み（第1版）" in html and "Suzuki" in html


def test_bad_input_raises_and_writes_nothing(plan_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown language 'fr'"):
        render_flight_plan_html(plan_dir, OPERATION, [], [], "fr")
    with pytest.raises(InputError, match="does not exist"):
        render_flight_plan_html(tmp_path / "missing", OPERATION, [], [], "ja")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"plan\.json"):
        render_flight_plan_html(tmp_path / "empty", OPERATION, [], [], "ja")
    with pytest.raises(InputError, match="--html/--pdf"):
        write_flight_plan(plan_dir, OPERATION, [], [], "ja")
    with pytest.raises(InputError, match=r"must end in \.pdf"):
        write_flight_plan(
            plan_dir,
            OPERATION,
            [],
            [],
            "ja",
            html_path=tmp_path / "a.html",
            pdf_path=tmp_path / "a.txt",
        )
    assert not (tmp_path / "a.html").exists()


def test_checklist_text_format() -> None:
    ja = render_checklist_text(CHECKLIST, "ja").splitlines()
    assert ja[0] == "表 4.1 飛行前の機体点検 (MHLW-2022 Table 4.1)"
    assert ja[1] == "4.1-01 □ カメラが正常 [飛行中止]"
    assert ja[3] == "4.1-12 □ 予備品がある"
    assert ja[4] == "4.1-16 □ 整備期限内 [飛行中止] [自動確認]"
    en = render_checklist_text(CHECKLIST, "en").splitlines()
    assert en[0].startswith("Table 4.1 Pre-flight inspection")
    assert en[2] == "4.1-02 □ Screws tight [stops flight]"


def test_checklist_form_has_answer_columns_and_signatures() -> None:
    html = render_checklist_html(CHECKLIST, "en")
    for column in ("OK", "NG", "N/A", "Note", "Checked by", "Confirmed by", "Signature"):
        assert f">{column}<" in html
    assert html.count('class="box"') == 3 * len(CHECKLIST["items"])


def test_shipped_checklist_4_1_in_japanese() -> None:
    text = render_checklist_text("4.1", "ja")
    lines = [line for line in text.splitlines() if JAPANESE.search(line)]
    assert len(lines) >= 5
    assert any("[飛行中止]" in line for line in lines)


def _run(statuses: dict[str, str], **kw: Any) -> ChecklistRun:
    return ChecklistRun(
        table="4.1",
        who="Yamada",
        when=datetime(2031, 5, 12, 8, 30, tzinfo=JST),
        results=tuple(
            ItemResult.model_validate({"item_id": i, "status": s}) for i, s in statuses.items()
        ),
        **kw,
    )


def test_failed_stop_item_means_no_flight() -> None:
    ok = {"t4.1.01": "ok", "t4.1.02": "ok", "t4.1.12": "ng", "t4.1.16": "na"}
    assert evaluate_run(_run(ok), CHECKLIST) == (True, ())  # a non-stop item may fail
    assert evaluate_run(_run(ok | {"t4.1.02": "ng"}), CHECKLIST) == (False, ("t4.1.02",))
    unanswered = {"t4.1.02": "ok", "t4.1.12": "ok", "t4.1.16": "ok"}
    assert evaluate_run(_run(unanswered), CHECKLIST) == (False, ("t4.1.01",))


def test_run_with_unknown_or_repeated_item_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"no item 't4\.1\.99'"):
        evaluate_run(_run({"t4.1.99": "ok"}), CHECKLIST)
    twice = _run({"t4.1.01": "ok"})
    twice = twice.model_copy(update={"results": twice.results * 2})
    with pytest.raises(InputError, match="answered twice"):
        evaluate_run(twice, CHECKLIST)
    with pytest.raises(InputError, match=r"run\.when"):
        ChecklistRun.parse({"table": "4.1", "who": "Y", "when": "2031-05-12T08:30", "results": []})
    with pytest.raises(InputError, match=r"run\.results\.0\.status"):
        ChecklistRun.parse(
            {
                "table": "4.1",
                "who": "Y",
                "when": "2031-05-12T08:30+09:00",
                "results": [{"item_id": "t4.1.01", "status": "maybe"}],
            }
        )


def test_runs_are_append_only(tmp_path: Path) -> None:
    run = _run({"t4.1.01": "ok", "t4.1.02": "ng", "t4.1.16": "ok"})
    journal = append_run(run, tmp_path, CHECKLIST)
    assert journal.name == "checklist_runs.jsonl"
    stored = json.loads(journal.read_text().splitlines()[0])
    assert stored["can_fly"] is False and stored["failed_stop_items"] == ["t4.1.02"]
    with pytest.raises(InputError, match="cannot be edited"):
        append_run(run.model_copy(update={"results": ()}), journal, CHECKLIST)
    second = _run({"t4.1.01": "ok", "t4.1.02": "ok", "t4.1.16": "ok"}, run_id="second")
    append_run(second, journal, CHECKLIST)
    loaded = load_runs(journal)
    assert [r.key() for r in loaded] == [run.key(), "second"]
    assert loaded[0].results == run.results and loaded[0].when == run.when
    journal.write_text(journal.read_text().replace('"ng"', '"ok"'))  # someone fixes a result
    with pytest.raises(DataError, match="edited"):
        load_runs(journal)


# ------------------------------------------------------------------------------------ CLI


def _cli() -> typer.Typer:
    app = typer.Typer()
    drone = typer.Typer()
    app.add_typer(drone, name="drone")
    register(drone)
    return app


def test_cli_checklist(tmp_path: Path) -> None:
    runner, app = CliRunner(), _cli()
    result = runner.invoke(
        app, ["drone", "checklist", "4.1", "--lang", "ja", "--html", str(tmp_path / "form.html")]
    )
    assert result.exit_code == 0, result.output
    assert sum(bool(JAPANESE.search(line)) for line in result.stdout.splitlines()) >= 5
    assert "<table" in (tmp_path / "form.html").read_text()
    result = runner.invoke(app, ["drone", "checklist", "9.9"])
    assert result.exit_code == 2 and "4.1" in result.output and "9.9" in result.output
    result = runner.invoke(app, ["drone", "checklist", "4.1", "--lang", "de"])
    assert result.exit_code == 2 and "--lang" in result.output


def test_cli_document(plan_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = (
        ROUTINE_OPS.is_file()
        and cli_documents._optional("plantwatch.drone.operation", "load_operation") is not None
    )
    if not real:  # until the operation files exist: stand-ins for what the command loads
        monkeypatch.setattr(cli_documents, "_load_operation", lambda path, today: OPERATION)
        monkeypatch.setattr(cli_documents, "_assess", lambda *a: (FINDINGS, RISKS, []))
    runner, app = CliRunner(), _cli()
    pdf, html = tmp_path / "plan.pdf", tmp_path / "plan.html"
    result = runner.invoke(
        app,
        [
            "drone",
            "document",
            str(plan_dir),
            "--ops",
            str(ROUTINE_OPS),
            "--lang",
            "ja",
            "--pdf",
            str(pdf),
            "--html",
            str(html),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes()[:5] == b"%PDF-" and "飛行計画書" in html.read_text()
    if shutil.which("pdftotext"):
        assert "飛行計画" in _pdftotext(pdf)
    for args in (
        [str(tmp_path / "missing"), "--ops", str(ROUTINE_OPS)],
        [str(plan_dir), "--ops", str(ROUTINE_OPS), "--lang", "fr"],
        [str(plan_dir), "--ops", str(ROUTINE_OPS), "--today", "12/05/2031"],
    ):
        out = tmp_path / "bad.pdf"
        result = runner.invoke(app, ["drone", "document", *args, "--pdf", str(out)])
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("error:") and not out.exists()
