"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Without Chromium the tests skip with the reason (tests/e2e/chromium.py); .ci/run installs it. Every step saves a
screenshot under test-artifacts/e2e/<test name>/, and a failing test saves the page it failed on.
"""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.chromium import chromium_or_skip
from tests.roles import admin_roles_reset

ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
# A step waits at most this long for an element or a page: the live server answers in milliseconds, so a missing
# label fails the test in seconds instead of Playwright's default 30.
STEP_TIMEOUT_MS = 5_000
# What the environment probe ran Chromium with as root in this closed network: without the background-networking
# flags Chromium keeps trying to reach Google's hosts. --no-sandbox because CI runs as root, where Chromium's
# sandbox refuses to start; the pages are our own.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 900}

_call_failed = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_call_failed] = report.failed
    return report


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    return chromium_or_skip()


@pytest.fixture(scope="module")
def orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an asyncio event loop running in the test thread (it switches greenlets inside
    it), so Django's async-safety check refuses every ORM call the test, its fixtures and the transactional flush
    make there ("You cannot call this from an async context"). Nothing here is async: the test thread only waits
    on the browser while the live server's own thread serves the pages. Allowed for this module only, and module
    scoped so that it outlives the last test's flush."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(chromium_executable, orm_beside_playwright):
    """One Chromium for the module (starting it is the slow part); each test gets a fresh context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable, headless=True, chromium_sandbox=False, args=list(CHROMIUM_ARGS)
        )
        yield chromium
        chromium.close()


@pytest.fixture
def admin_roles(db) -> None:
    """The groups of the latest roles migration: a transactional test (every live-server test is one) ends by
    emptying the tables, groups included. Running the migration again is harmless."""
    admin_roles_reset()


class Screenshots:
    """Numbered screenshots of one test: test-artifacts/e2e/<test>/01-<step>.png, ..."""

    def __init__(self, page, directory: Path) -> None:
        self.page = page
        self.directory = directory
        self.taken = 0

    def take(self, step: str, *, full_page: bool = False) -> Path:
        """The visible window unless full_page: a picture of a long page costs a few hundred milliseconds."""
        self.taken += 1
        path = self.directory / f"{self.taken:02d}-{step}.png"
        self.page.screenshot(path=path, full_page=full_page)
        return path


@pytest.fixture
def page(request, browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
    browser_page = context.new_page()
    yield browser_page
    if request.node.stash.get(_call_failed, False):
        browser_page.screenshot(path=_artifacts_dir(request) / "failed.png", full_page=True)
    context.close()


@pytest.fixture
def screenshots(request, page) -> Screenshots:
    directory = _artifacts_dir(request)
    # Last run's pictures would mix with this run's.
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return Screenshots(page, directory)


def _artifacts_dir(request) -> Path:
    directory = ARTIFACTS_DIR / re.sub(r"[^\w.-]+", "_", request.node.name)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
