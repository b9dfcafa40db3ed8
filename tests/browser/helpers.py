"""Helpers for the portal's browser tests: sign in through the portal, axe-core checks, screenshots, and what a
page recorded going wrong (console errors, uncaught exceptions, requests off the gateway's origin)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Page

from tests.conftest import ROOT
from tests.e2e.conftest import DEMO_PASSWORD

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AXE = ROOT / "portal" / "node_modules" / "axe-core" / "axe.min.js"
# axe-core impacts that fail a test; "moderate" and "minor" are reported by axe but not failed on.
FAILING_IMPACTS = ("serious", "critical")
# The sign-in page's fields, by their autocomplete tokens (what password managers and screen readers use too).
SIGN_IN_PATH = "/login"
USERNAME_FIELD = "input[autocomplete='username']"
PASSWORD_FIELD = "input[autocomplete='current-password']"


@dataclass
class PageProblems:
    """What went wrong in a page that the page itself may not show."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.page_errors, f"uncaught exceptions: {self.page_errors}"
        assert not self.external_requests, f"requests leaving the gateway (offline-unsafe): {self.external_requests}"
        assert not self.server_errors, f"answers of 500 or more: {self.server_errors}"


# Chromium's own console line for any response of 400 or more. A 4xx is an API answer the page handles (401
# before sign-in, 404 out of scope, 412 stale edit), so it is no console error; a 5xx is kept in server_errors.
NETWORK_STATUS_LINE = re.compile(r"^Failed to load resource: the server responded with a status of \d{3}\b")


PROBLEMS_ATTR = "_cio_problems"


def problems(page: Page) -> PageProblems:
    """The console errors, uncaught exceptions and off-origin requests recorded for `page` so far."""
    recorded: PageProblems = getattr(page, PROBLEMS_ATTR)
    return recorded


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD, *, then: str = "/") -> None:
    """Sign `username` in through the portal's sign-in page (SIGN_IN_PATH: the username and current-password
    fields and the form's submit button) asking to come back to `then`, and wait until the portal has left it."""
    page.goto(f"{SIGN_IN_PATH}?redirect={quote(then)}")
    page.locator(USERNAME_FIELD).fill(username)
    page.locator(PASSWORD_FIELD).fill(password)
    page.locator("form button[type='submit']").click()
    page.wait_for_url(lambda url: urlsplit(url).path != SIGN_IN_PATH, timeout=15000)


def assert_accessible(page: Page, selector: str | None = None) -> None:
    """Run axe-core (portal's devDependency, injected through DevTools so the page's CSP still holds) on the
    page or the element `selector`; fail listing every serious or critical violation."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: it is a devDependency of portal/ (`make portal` installs it)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate("() => {" + AXE.read_text(encoding="utf-8") + "\n}")
    results = page.evaluate(
        "async (selector) => await window.axe.run(selector ? document.querySelector(selector) : document,"
        " {resultTypes: ['violations']})",
        selector,
    )
    failing = [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]
    report = "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']} ({v['helpUrl']})\n    at "
        + "; ".join(", ".join(node["target"]) for node in v["nodes"][:5])
        for v in failing
    )
    assert not failing, f"axe-core found {len(failing)} serious/critical violation(s) on {page.url}:\n{report}"


def screenshot(page: Page, name: str) -> Path:
    """Write artifacts/screenshots/<name>.png (the whole page; gitignored) and return its path."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ValueError(f"screenshot names are file names: {name!r}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
