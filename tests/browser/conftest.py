"""A live server in a thread and headless Chromium driven by Playwright.

When Chromium cannot start, these tests fail rather than skip if CNN_REQUIRE_BROWSER is set (CI sets
it), so browser coverage cannot vanish silently.
"""

import os
import shutil
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or None


@pytest.fixture(scope="session")
def live_server(serve):
    return serve()


def require_chromium() -> str:
    """Chromium's path; a skip without it (a failure when CNN_REQUIRE_BROWSER is set, as in CI)."""
    executable = chromium_path()
    if executable is None:
        message = "Chromium not found: install it (apt-get install chromium) or set CHROMIUM_PATH"
        if os.environ.get("CNN_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return executable


@pytest.fixture(scope="session")
def playwright_driver():
    """The session's one Playwright: a second sync_playwright() in the same process fails ("Sync
    API inside the asyncio loop"), so modules that need their own Chromium (a fake camera)
    launch it from this one."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(
        executable_path=require_chromium(), args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    """A fresh page. Any test that makes the browser refuse something under our
    Content-Security-Policy (an inline script, an eval, a foreign resource) fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)  # fmt: skip
    page.csp_refusals = refused  # a test that provokes a refusal on purpose empties it
    yield page
    context.close()
    assert not refused, refused


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
