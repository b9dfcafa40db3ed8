"""The portal in a real Chromium (Debian's /usr/bin/chromium driven by Playwright; Playwright never downloads a
browser here), against the whole stack as `make run` starts it: every service behind nginx, which serves the
built portal at `/` on the same origin as `/api`.

Fixtures: `portal_stack` (session), `browser` (session), `page` (a fresh zh-CN context at 1280×800 per test),
`phone_page` (the same at a phone's width), `new_page` (more people in one test). Helpers in helpers.py:
`sign_in`, `assert_accessible` (axe-core), `screenshot`, `problems`.

Every page records what a test must never see: console errors, uncaught exceptions, answers of 500 or more, and
requests to any host but the gateway (the portal must work on a network without internet; those are refused, not
sent).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    Route,
    expect,
    sync_playwright,
)

from tests.browser.helpers import NETWORK_STATUS_LINE, PROBLEMS_ATTR, PageProblems
from tests.conftest import ROOT
from tests.e2e.conftest import Stack, running_stack
from tests.infrastructure import Infrastructure

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LOCALE = "zh-CN"

# How long an expectation waits for its condition (Playwright's default is 5 s). The suite runs the whole platform,
# Chromium and the tests on two cores, where a page's first render can take longer than that; the conditions checked
# are unchanged, only the wait before calling one false.
expect.set_options(timeout=20_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser carries the `browser` marker (select or skip them with -m browser)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


def _portal_dist() -> Path:
    """The built portal: CIO_PORTAL_DIST when set (a dist built elsewhere), else portal/dist, rebuilt by
    `make portal` when its sources changed (quick when nothing did)."""
    prebuilt = os.environ.get("CIO_PORTAL_DIST")
    if prebuilt:
        return Path(prebuilt).resolve()
    subprocess.run(["make", "-s", "portal"], cwd=ROOT, check=True)
    return ROOT / "portal" / "dist"


@pytest.fixture(scope="session")
def portal_stack(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole platform on the README's default (the embedded PostgreSQL) with the gateway serving the built
    portal, shared by the browser tests of a session."""
    dist = _portal_dist()
    if not (dist / "index.html").is_file():
        pytest.fail(f"no built portal at {dist}: `make portal` builds it")
    with running_stack(infra, tmp_path_factory.mktemp("portal-stack"), portal_dir=dist) as running:
        yield running


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is required at {CHROMIUM}: apt-get install chromium (make test installs it)")
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield launched
    finally:
        launched.close()


def _new_context(browser: Browser, stack: Stack, viewport: dict[str, int]) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=stack.gateway, locale=LOCALE, viewport=viewport)  # type: ignore[arg-type]
    recorded = PageProblems()
    gateway_host = urlsplit(stack.gateway).netloc

    def only_the_gateway(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != gateway_host:
            recorded.external_requests.append(url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    context.route(re.compile(r"^(https?|wss?)://"), only_the_gateway)
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not NETWORK_STATUS_LINE.match(message.text):
            recorded.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_response(response: Response) -> None:
        if response.status >= 500:
            recorded.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: recorded.page_errors.append(str(error)))
    setattr(page, PROBLEMS_ATTR, recorded)
    return context, page


@pytest.fixture
def new_page(browser: Browser, portal_stack: Stack) -> Iterator[Callable[[dict[str, int]], Page]]:
    """Make a page in a fresh context (no cookies) of the given viewport; several per test for several people."""
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int] = DESKTOP) -> Page:
        context, page = _new_context(browser, portal_stack, viewport)
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[dict[str, int]], Page]) -> Page:
    """A fresh zh-CN context at 1280×800 on the portal's origin (relative URLs: page.goto("/"))."""
    return new_page(DESKTOP)


@pytest.fixture
def phone_page(new_page: Callable[[dict[str, int]], Page]) -> Page:
    """The same at a phone's width (390×844), for the school administrator's pages."""
    return new_page(PHONE)
