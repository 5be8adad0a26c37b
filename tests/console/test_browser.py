"""The console in a real browser (Debian's chromium and chromium-driver, via Selenium) against a
live server: sign in as a leader and an admin, every page's charts drawn (a canvas with pixels
on it), no console errors, a leader kept out of another group's page, logout.

Screenshots of every page go to test-artifacts/console/ (CONSOLE_SCREENSHOTS overrides it).
Skipped where chromedriver is missing, unless CONSOLE_BROWSER_TESTS=required (CI sets it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.console.world import PASSWORD, build_world

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REQUIRED = os.environ.get("CONSOLE_BROWSER_TESTS") == "required"
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "test-artifacts" / "console")

if not Path(CHROMEDRIVER).exists() and not REQUIRED:
    pytest.skip("chromium-driver is not installed (apt install chromium chromium-driver)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

PAGES = ["reach", "engagement", "recognition", "voice", "surveys"]


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1100",
        "--lang=en-GB",
    ):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def sign_in(driver, base: str, email: str) -> None:
    driver.get(f"{base}/console/login/")
    driver.find_element(By.ID, "id_username").send_keys(email)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 20).until(EC.url_contains("/console/reach/"))


def page_checked(driver, base: str, path: str, shot: str) -> int:
    """Open a page; every chart with numbers is drawn, with pixels on its canvas; no console errors."""
    driver.get(f"{base}{path}")
    figures = driver.find_elements(By.CSS_SELECTOR, "figure.chart")
    with_numbers = [f for f in figures if f.find_elements(By.TAG_NAME, "canvas")]
    WebDriverWait(driver, 20).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "figure.chart[data-rendered='true']")) == len(with_numbers)
    )
    for figure in with_numbers:
        painted = driver.execute_script(
            """const c = arguments[0].querySelector('canvas');
               if (!c.width || !c.height) return 0;
               const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
               let n = 0; for (let i = 3; i < data.length; i += 16) { if (data[i] > 0) n++; } return n;""",
            figure,
        )
        assert painted > 100, f"{path}: chart {figure.get_attribute('id')} has a blank canvas"
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{shot}.png"))
    return len(with_numbers)


def test_leader_and_admin_walk_every_page(browser, live_server):
    world = build_world()
    base = live_server.url

    sign_in(browser, base, world.leader.email)
    drawn = sum(page_checked(browser, base, f"/console/{page}/", f"leader-{page}") for page in PAGES)
    assert drawn >= 6
    assert world.foreign_marker not in browser.page_source
    # Remind now (htmx): the answer replaces the result area without a page load.
    browser.get(f"{base}/console/reach/?post={world.announcement.pk}")
    browser.find_element(By.ID, "remind-now").click()
    WebDriverWait(browser, 20).until(lambda d: "Reminded" in d.find_element(By.ID, "remind-result").text)
    # Another group's page is not the leader's: the 404 page, no charts.
    browser.get(f"{base}/console/reach/?group={world.depot.pk}")
    assert "allergenenbeleid" not in browser.page_source
    assert browser.find_elements(By.CSS_SELECTOR, "figure.chart") == []
    refused = browser.get_log("browser")  # the 404 itself is expected here, and only here
    assert refused and all("404" in entry["message"] for entry in refused)
    browser.get(f"{base}/console/engagement/")
    browser.find_element(By.ID, "logout").click()
    WebDriverWait(browser, 20).until(EC.url_contains("/console/login/"))
    browser.get(f"{base}/console/reach/")
    assert "/console/login/" in browser.current_url

    sign_in(browser, base, world.admin.email)
    for page in PAGES:
        page_checked(browser, base, f"/console/{page}/", f"admin-{page}")
    browser.get(f"{base}/console/reach/")
    assert "allergenenbeleid" in browser.page_source
    page_checked(browser, base, f"/console/reach/?group={world.depot.pk}", "admin-reach-kitchen")
