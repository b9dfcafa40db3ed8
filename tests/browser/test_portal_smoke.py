"""The portal's first page loads in Chromium from the gateway: the app mounts, nothing fails in the console, and
nothing is fetched from outside the platform."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, Route, expect

from tests.browser.helpers import SIGN_IN_PATH, USERNAME_FIELD, problems, screenshot


def test_the_portal_index_loads_without_console_errors_or_outside_requests(page: Page) -> None:
    response = page.goto("/")
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    page.wait_for_load_state("networkidle")
    # The Vue app has mounted: its root element has content.
    assert page.locator("#app > *").count() > 0, page.content()
    screenshot(page, "portal-index")
    problems(page).assert_clean()


def test_a_page_whose_code_is_refused_once_is_loaded_afresh(page: Page) -> None:
    """A page's code is fetched when it is first opened; a tab opened before a deploy, or a proxy refusing one file
    (429), must not leave a dead page: the portal loads the address again, once."""
    refused: list[str] = []

    def refuse_on_the_first_document(route: Route) -> None:
        # Vite preloads a page's file before importing it: both fetches of the document that opened at
        # /school/rounds are refused, so its import fails; the address loaded afresh (/login) gets the file.
        if urlsplit(route.request.frame.url).path != "/school/rounds":
            route.fallback()
            return
        refused.append(route.request.url)
        route.fulfill(status=429, body="")

    page.route(re.compile(r"/assets/SignInPage-[^/]+\.js$"), refuse_on_the_first_document)
    page.goto("/school/rounds")
    expect(page.locator(USERNAME_FIELD)).to_be_visible()
    assert refused
    assert urlsplit(page.url).path == SIGN_IN_PATH
    assert parse_qs(urlsplit(page.url).query)["redirect"] == ["/school/rounds"]
    problems(page).assert_clean()
