"""The web page in a real browser: Debian's Chromium, headless, driven by Playwright.

The session fixture installs Chromium with ``scripts/install_browser.sh`` (apt-get) when
``/usr/bin/chromium`` is missing; Playwright's own browser download cannot work here. The test is
skipped, with the installer's output as the reason, only when that installation fails. The
service runs under uvicorn on a loopback port; the screenshot is kept in ``tests/artifacts/``.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright
from test_service_api import make_workbook

from compliance.service import Settings, create_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
INSTALLER = ROOT / "scripts" / "install_browser.sh"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PROBE = '<img src=x onerror="window.__xss=1">'
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        try:
            done = subprocess.run(["bash", str(INSTALLER)], capture_output=True, text=True,
                                  timeout=900, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"Chromium could not be installed ({INSTALLER.name}: {exc})")
        if done.returncode != 0 or not CHROMIUM.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            pytest.skip(f"Chromium could not be installed with apt-get ({INSTALLER.name} exit "
                        f"{done.returncode}: {' | '.join(tail)})")
    return CHROMIUM


TOKEN = "browser-test-token"


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    yield from _serve(Settings(token=None))


@pytest.fixture(scope="session")
def token_server() -> Iterator[str]:
    yield from _serve(Settings(token=TOKEN))


def _serve(settings: Settings) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=2)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the service did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture()
def page(chromium: Path, tmp_path: Path) -> Iterator[Page]:
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(chromium), headless=True,
            args=LAUNCH_ARGS, accept_downloads=True, viewport={"width": 1200, "height": 900})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            context.close()


def test_person_audits_a_workbook(page: Page, server: str, tmp_path: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    outside: list[str] = []
    page.on("request", lambda req: None if req.url.startswith(server) or req.url.startswith(
        ("blob:", "data:")) else outside.append(req.url))

    workbook = tmp_path / "supplier-bom.xlsx"
    workbook.write_bytes(make_workbook(probe=PROBE))
    page.goto(server + "/")
    expect(page.get_by_role("heading", name="Battery sourcing compliance check")).to_be_visible()
    ruleset = page.get_by_role("checkbox", name=re.compile("us-ira-30d"))
    expect(ruleset).to_be_checked()

    page.get_by_label("Workbook (.xlsx)").set_input_files(str(workbook))
    page.get_by_label(re.compile("As-of date")).fill("2025-06-30")
    page.get_by_role("button", name="Check workbook").click()

    status = page.get_by_role("status")
    expect(status).to_contain_text("Audit finished", timeout=60_000)
    results = page.locator("#results")
    expect(results).to_be_visible()
    expect(page.locator("#verdict")).to_contain_text("Overall verdict")
    expect(page.locator("#verdict .badge")).to_have_text("Fail")
    expect(page.locator("#summary")).to_contain_text("3 batteries")
    expect(page.locator("#summary")).to_contain_text("As of 2025-06-30")

    rows = page.locator("#battery-table tbody tr")
    expect(rows).to_have_count(3)
    verdicts = {rows.nth(i).locator("th").inner_text():
                rows.nth(i).locator("td .badge").first.inner_text() for i in range(3)}
    assert verdicts == {"BAT-OK": "PASS", "BAT-FAIL": "FAIL", "BAT-GAP": "INSUFFICIENT DATA"}

    # Findings grouped by sheet, cell-precise, with the cell's text shown as text.
    minerals = page.locator("#findings details", has_text="minerals")
    expect(minerals.locator("summary")).to_contain_text("minerals:")
    bad = minerals.locator("tbody tr", has_text="unknown-country")
    expect(bad.locator("td.cell")).to_have_text("E5")
    expect(bad).to_contain_text(PROBE)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#findings img").count() == 0

    # Every download format is offered; the JSON one is a complete report.
    buttons = page.locator("#download-list button")
    labels = [buttons.nth(i).inner_text() for i in range(buttons.count())]
    assert "JSON" in labels
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the report as JSON").click()
    download = info.value
    assert download.suggested_filename == "supplier-bom-audit.json"
    saved = tmp_path / "report.json"
    download.save_as(saved)
    report = json.loads(saved.read_text())
    assert report["as_of"] == "2025-06-30" and report["status"] == "fail"

    with page.expect_download() as info:
        page.get_by_role("link", name="Download the blank template").click()
    assert info.value.suggested_filename == "bom-template.xlsx"

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "service-audit.png"), full_page=True)
    assert not errors, errors
    assert not outside, f"the page fetched from elsewhere: {outside}"


def test_dropped_non_workbook_shows_the_problem(page: Page, server: str) -> None:
    page.goto(server + "/")
    expect(page.get_by_role("checkbox", name=re.compile("us-ira-30d"))).to_be_checked()
    # Drop a CSV saved with an .xlsx name onto the drop zone, as a person would drag it in.
    transfer = page.evaluate_handle("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File(["battery_id,placed_in_service\\nB1,2025-01-01\\n"],
                              "export.xlsx", {type: "text/csv"}));
        return dt;
    }""")
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    expect(page.get_by_role("status")).to_contain_text("Chosen: export.xlsx")
    page.get_by_role("button", name="Check structure only").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("not-a-workbook", timeout=60_000)
    expect(alert).to_contain_text("CSV")
    expect(page.locator("#results")).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "service-error.png"), full_page=True)


def test_page_is_keyboard_usable_and_every_control_is_labelled(page: Page,
                                                               server: str) -> None:
    page.goto(server + "/")
    expect(page.get_by_role("checkbox", name=re.compile("us-ira-30d"))).to_be_visible()
    unlabelled: list[Any] = page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, button')].filter(el => !el.closest('[hidden]'))
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !(el.tagName === 'BUTTON' && el.textContent.trim()))
        .map(el => el.outerHTML)""")
    assert not unlabelled
    assert page.locator("html").get_attribute("lang") == "en"
    # Tab from the top reaches the skip link, the file chooser, the ruleset and the buttons.
    reached: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(
            "() => document.activeElement.id || document.activeElement.textContent.trim()"))
        if reached[-1] == "validate-button":
            break
    for wanted in ("Skip to the form", "file", "as-of", "audit-button", "validate-button"):
        assert wanted in reached, reached


def test_protected_service_asks_for_the_token(page: Page, token_server: str,
                                               tmp_path: Path) -> None:
    page.goto(token_server + "/")
    expect(page.get_by_role("alert")).to_contain_text("needs an access token")
    token = page.get_by_label("Access token")
    expect(token).to_be_visible()
    token.fill(TOKEN)
    token.press("Tab")  # the change event loads the rulesets with the token
    expect(page.get_by_role("checkbox", name=re.compile("us-ira-30d"))).to_be_checked()
    workbook = tmp_path / "bom.xlsx"
    workbook.write_bytes(make_workbook())
    page.get_by_label("Workbook (.xlsx)").set_input_files(str(workbook))
    page.get_by_role("button", name="Check workbook").click()
    expect(page.get_by_role("status")).to_contain_text("Audit finished", timeout=60_000)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the blank template").click()
    assert info.value.suggested_filename == "bom-template.xlsx"
