"""End to end in a real browser (issue 7): Debian's Chromium driven by Playwright against a real
``plantwatch serve`` process on a loopback port.

planner imports the example site, creates a plan with the routine operation, submits ->
approver approves -> pilot completes checklist 4.1 (GO) and logs a flight -> inspector uploads
a photo with EXIF/XMP, draws a finding on it -> inspector uploads a gas clip and sees the
result. Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from .conftest import EXAMPLE_SITE, REPO, ROUTINE_OPS, Server, make_store, password_of, start_server

CHROMIUM = Path("/usr/bin/chromium")
GAS_WEIGHTS = REPO / "src" / "plantwatch" / "data" / "models" / "heatmap.pt"
ARTIFACTS = REPO / "test-artifacts" / "web"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is not installed"
)


@pytest.fixture(scope="module")
def gas_clip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Future[Path] | None]:
    """The gas clip, simulated on a thread while the browser steps before it run."""
    if not GAS_WEIGHTS.is_file():
        yield None
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(_small_clip, tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, gas_clip: Future[Path] | None
) -> Iterator[Server]:
    from plantwatch.drone.records import Aircraft, Pilot
    from plantwatch.store import service

    data_dir = tmp_path_factory.mktemp("e2e")
    store = make_store(data_dir)
    with store.session() as s:
        repo = service.SqlRecords(s, by="admin")
        repo.add_pilot(Pilot.from_dict({"id": "p-sato", "name": "Sato Hanako", "flight_hours": 50}))
        repo.add_aircraft(
            Aircraft.from_dict(
                {
                    "id": "UAV-01",
                    "model": "X4",
                    "mass_kg": 6.3,
                    "flight_hours": 12.0,
                    "last_maintenance_hours": 10.0,
                }
            )
        )
    store.close()
    # the detector (PyTorch) is loaded at start-up only when the gas step can run
    srv = start_server(data_dir, preload=GAS_WEIGHTS.is_file())
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # kept between runs; each run overwrites
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# script errors and Content-Security-Policy refusals seen by any page (none allowed)
BROWSER_ERRORS: list[str] = []


def _page(browser: Any, server: Server, role: str) -> Any:
    """A fresh browser context (own cookies) logged in through the login form; its script
    errors and CSP refusals go to ``BROWSER_ERRORS``."""
    context = browser.new_context(viewport={"width": 1180, "height": 900}, base_url=server.url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on(
        "console",
        lambda msg: (
            BROWSER_ERRORS.append(f"{page.url}: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: BROWSER_ERRORS.append(f"{page.url}: {exc}"))
    page.goto("/plans")
    assert "/login" in page.url  # anonymous: sent to the login page
    page.fill("#username", role)
    page.fill("#password", password_of(role))
    page.click("button[type=submit]")
    page.wait_for_url("**/plans")
    assert page.get_by_test_id("whoami").inner_text().startswith(role)
    return page


def _shot(page: Any, name: str, full_page: bool = False) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def test_plan_approve_fly_inspect(browser: Any, server: Server, tmp_path: Path) -> None:
    """The whole day in one test (each step needs the one before; one test keeps them together
    when pytest-xdist spreads tests over workers)."""
    flow: dict[str, Any] = {}
    _planner_creates_and_submits_a_plan(browser, server, flow)
    _approver_approves(browser, server, flow)
    _pilot_completes_checklist_and_logs_flight(browser, server, flow)
    _inspector_uploads_photo_and_records_finding(browser, server, flow, tmp_path)
    assert BROWSER_ERRORS == []


def _planner_creates_and_submits_a_plan(browser: Any, server: Server, flow: dict[str, Any]) -> None:
    page = _page(browser, server, "planner")
    page.goto("/sites")
    page.set_input_files("#site-file", str(EXAMPLE_SITE))
    page.click("form[action='/sites'] button[type=submit]")
    page.wait_for_url("**/sites/*")
    flow["site_url"] = page.url
    assert page.locator("svg.sitemap .facility").count() == 17
    _shot(page, "01-site-map")
    page.fill("#plan-name", "tank shells (e2e)")
    page.fill("#gsd", "10")
    page.fill("#ops", ROUTINE_OPS.read_text())
    page.click("[data-testid=new-plan] button[type=submit]")
    page.wait_for_url("**/plans/*", timeout=90_000)
    flow["plan_url"] = page.url
    flow["plan_id"] = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_test_id("plan-status").inner_text() == "draft"
    assert page.locator("svg.sitemap .route").count() >= 1
    assert page.locator("[data-testid=coverage] tbody tr").count() == 17
    assert "may proceed" in page.get_by_test_id("verdict").inner_text()
    _shot(page, "02-plan-draft", full_page=True)
    page.fill("#submit-comment", "May inspection")
    page.click("[data-testid=submit-form] button")
    page.wait_for_load_state()
    assert page.get_by_test_id("plan-status").inner_text() == "submitted"
    # the site map's plan picker reloads the page with the plan's route (static/app.js)
    page.goto(flow["site_url"])
    assert page.locator("svg.sitemap .route").count() == 0
    page.select_option("#plan-overlay", str(flow["plan_id"]))
    page.wait_for_url(f"**plan={flow['plan_id']}")
    assert page.locator("svg.sitemap .route").count() >= 1
    page.context.close()


def _approver_approves(browser: Any, server: Server, flow: dict[str, Any]) -> None:
    page = _page(browser, server, "approver")
    page.goto(flow["plan_url"])
    page.fill("#approve-comment", "OK, close R-5 during sortie 2")
    page.click("[data-testid=approve-form] button")
    page.wait_for_load_state()
    assert page.get_by_test_id("plan-status").inner_text() == "approved"
    history = page.get_by_test_id("approvals").inner_text()
    assert "submit" in history and "approve" in history and "close R-5" in history
    _shot(page, "03-plan-approved")
    page.context.close()


def _pilot_completes_checklist_and_logs_flight(
    browser: Any, server: Server, flow: dict[str, Any]
) -> None:
    page = _page(browser, server, "pilot")
    page.goto("/checklists")
    page.select_option("#table", "4.1")
    page.select_option("#cl-plan", str(flow["plan_id"]))
    page.select_option("#cl-lang", "en")
    page.click("[data-testid=start-checklist] button")
    page.wait_for_url("**/checklists/*")
    page.click("text=Mark the rest OK")
    page.click("[data-testid=complete]")
    page.wait_for_load_state()
    assert page.get_by_test_id("checklist-result").inner_text() == "GO"
    _shot(page, "04-checklist-go")
    page.goto("/flights")
    page.fill("#f-takeoff", "09:30")
    page.fill("#f-landing", "10:05")
    page.fill("#f-place", "tank farm, TO-1")
    page.fill("#f-purpose", "tank shell inspection")
    page.click("[data-testid=flight-form] button")
    page.wait_for_load_state()
    rows = page.locator("[data-testid=flights] tbody tr")
    assert rows.count() == 1 and "F00001" in rows.first.inner_text()
    _shot(page, "05-flight-log")
    page.goto("/maintenance")
    assert "UAV-01" in page.get_by_test_id("maintenance").inner_text()
    _shot(page, "06-maintenance")
    page.context.close()


def _inspector_uploads_photo_and_records_finding(
    browser: Any, server: Server, flow: dict[str, Any], tmp_path: Path
) -> None:
    from plantwatch.drone.photo_synth import write_plan_photos

    plan_dir = server.data_dir / "files" / "plans" / str(flow["plan_id"])
    shots = json.loads((plan_dir / "plan.json").read_text())["photos"]
    (photo,) = write_plan_photos(
        plan_dir, tmp_path, skip=set(range(1, shots + 1)) - {40}, scale=0.15
    )
    page = _page(browser, server, "inspector")
    page.goto("/photos")
    page.select_option("#ph-plan", str(flow["plan_id"]))
    page.set_input_files("#ph-files", str(photo))
    assert page.inner_text("#ph-size").startswith("1 file(s), ")  # static/app.js
    page.click("#photo-upload button[type=submit]")
    page.wait_for_url("**/photos/*")
    facility = page.get_by_test_id("photo-facility").inner_text()
    assert facility.startswith(("T-", "SP-", "C-", "PR-", "OF-")), facility
    meta = page.get_by_test_id("photo-meta").inner_text()
    assert "gsd_cm" in meta and "gimbal_pitch_deg" in meta
    # draw the region with the mouse (pointer events), then fill in the rest of the form
    image = page.locator("#photo")
    image.wait_for()
    box = image.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 40, box["y"] + 30)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 90, steps=5)
    page.mouse.up()
    assert int(page.input_value("#fw")) > 10 and int(page.input_value("#fh")) > 10
    page.select_option("#defect", "corrosion")
    page.fill("#note", "rust below the weld seam")
    page.click("[data-testid=finding-form] button")
    page.wait_for_load_state()
    findings = page.get_by_test_id("findings").inner_text()
    assert "corrosion" in findings and "rust below the weld seam" in findings
    assert page.locator(".box[data-finding]").count() == 1
    _shot(page, "07-photo-finding")
    page.context.close()


def test_gas_clip_upload_shows_result(
    browser: Any, server: Server, gas_clip: Future[Path] | None
) -> None:
    """A short clip of the built-in scene (small frames: fast) -> background analysis -> the
    page shows the overlay video, the source marker, Z and the confidence."""
    if gas_clip is None:
        pytest.skip(f"gas detector weights not shipped yet ({GAS_WEIGHTS.relative_to(REPO)})")
    clip = gas_clip.result(timeout=300)
    page = _page(browser, server, "inspector")
    page.goto("/gas")
    page.fill("#g-fac", "T-101")
    page.set_input_files("#g-file", str(clip))
    page.click("[data-testid=gas-upload] button[type=submit]")
    page.wait_for_url("**/gas/*")
    page.wait_for_selector(
        "[data-testid=analysis-status]:text-matches('done|failed')", timeout=120_000
    )
    assert page.get_by_test_id("analysis-status").inner_text() == "done", page.content()[:2000]
    assert page.get_by_test_id("leak").inner_text() in ("yes", "no")
    assert page.get_by_test_id("z").count() == 1 and page.get_by_test_id("confidence").count() == 1
    assert page.get_by_test_id("overlay").count() == 1
    if page.get_by_test_id("leak").inner_text() == "yes":
        assert page.get_by_test_id("source-marker").count() == 1
    assert page.get_by_test_id("gas-facility").inner_text() == "T-101"
    _shot(page, "08-gas-result")
    page.context.close()
    assert BROWSER_ERRORS == []


def _small_clip(tmp_path: Path) -> Path:
    """frames.npy of the built-in hidden-leak scene, 16 frames of 80 x 60 px (what `plantwatch
    gas simulate` writes, smaller: the shipped model's own input size)."""
    import numpy as np

    from plantwatch.cli import DEFAULT_DEMO_SCENE, builtin_scene_path
    from plantwatch.gas.clip import simulate_clip
    from plantwatch.gas.scene import load_scene

    scene = load_scene(builtin_scene_path(DEFAULT_DEMO_SCENE))
    camera = scene.camera.model_copy(update={"width_px": 80, "height_px": 60})
    clip = simulate_clip(scene.model_copy(update={"camera": camera, "frames": 16}), 1)
    path = tmp_path / "clip.npy"
    np.save(path, clip.frames_k.astype(np.float32))
    return path
