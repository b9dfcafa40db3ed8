"""Swagger UI's pages render in Chromium with every request refused that would leave the platform: its files
are the gateway's own (deploy/swagger-ui), not a CDN's."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import problems


@pytest.mark.parametrize("service", ["identity", "nominations"])
def test_the_api_docs_render_without_internet(page: Page, service: str) -> None:
    response = page.goto(f"/openapi/{service}/docs")
    assert response is not None and response.status == 200
    page.locator(".swagger-ui .info .title").wait_for(timeout=20000)
    assert page.locator(".swagger-ui .opblock").count() > 0, "the operations are listed"
    assert not problems(page).external_requests
    assert not problems(page).page_errors
