"""The portal's first page loads in Chromium from the gateway: the app mounts, nothing fails in the console, and
nothing is fetched from outside the platform."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.helpers import problems, screenshot


def test_the_portal_index_loads_without_console_errors_or_outside_requests(page: Page) -> None:
    response = page.goto("/")
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    page.wait_for_load_state("networkidle")
    # The Vue app has mounted: its root element has content.
    assert page.locator("#app > *").count() > 0, page.content()
    screenshot(page, "portal-index")
    problems(page).assert_clean()
