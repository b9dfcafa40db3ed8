"""After signing in through the portal's page, page scripts can read no token: the session cookie is HttpOnly
and nothing token-like is kept in the page's storage."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from tests.browser.helpers import problems, sign_in

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.")


def test_signing_in_leaves_no_token_where_page_scripts_can_read_it(page: Page) -> None:
    sign_in(page, "school.admin")
    page.wait_for_load_state("networkidle")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["cio_session"]["httpOnly"] and cookies["cio_session"]["sameSite"] == "Lax"
    assert "cio_session" not in page.evaluate("() => document.cookie")
    stored = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])"
    )
    assert not JWT.search(stored), stored
    # The page's own fetches carry the session: /api/me answers for the signed-in person.
    me = page.evaluate("() => fetch('/api/me').then(r => r.json())")
    assert me["username"] == "school.admin"
    problems(page).assert_clean()
