"""Signing in through the city's unified sign-on (统一身份认证) from the portal's sign-in page, in Chromium, against
the test OIDC provider (npm oidc-provider): the button, the provider's own login and consent pages, and back on
the page the person wanted with only the HttpOnly session cookie."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from playwright.sync_api import Browser, Route, expect

from tests.browser.conftest import LOCALE, _portal_dist
from tests.browser.helpers import assert_accessible, screenshot
from tests.e2e.conftest import Stack, free_port, running_stack
from tests.e2e.test_sso_e2e import teacher
from tests.idp.fixtures import OidcIdp
from tests.infrastructure import Infrastructure

pytestmark = pytest.mark.browser

SECRET = "portal-oidc-secret-" + uuid.uuid4().hex
PROVIDER = "city-oidc"
PROVIDER_NAME = "乌海市教育数字基座"
SUB = "w-3001"


@pytest.fixture(scope="module")
def sso_portal(
    infra: Infrastructure, oidc_idp: OidcIdp, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, OidcIdp]]:
    """The whole platform serving the portal, with the city's OIDC provider configured as its sign-on."""
    run = tmp_path_factory.mktemp("sso-portal")
    port = free_port()
    gateway = f"http://127.0.0.1:{port}"
    oidc_idp.add_client(
        "cio-portal", SECRET, [f"{gateway}/sso/{PROVIDER}/callback"], post_logout_redirect_uris=[f"{gateway}/"]
    )
    oidc_idp.set_account(SUB, teacher("赵敏", preferred_username="zhaomin"))
    providers = Path(run / "providers.yaml")
    entry = {
        "id": PROVIDER,
        "name": PROVIDER_NAME,
        "protocol": "oidc",
        "issuer": oidc_idp.issuer,
        "client_id": "cio-portal",
        "client_secret_env": "PORTAL_OIDC_SECRET",
        "mapping": "standard-oidc",
        "org_scope": ["1503"],
    }
    providers.write_text(yaml.safe_dump({"providers": [entry]}, allow_unicode=True), encoding="utf-8")
    env = {"SSO_PROVIDERS_FILE": str(providers), "PORTAL_OIDC_SECRET": SECRET, "AUTHLIB_INSECURE_TRANSPORT": "1"}
    with running_stack(infra, run, gateway_port=port, extra_env=env, portal_dir=_portal_dist()) as stack:
        yield stack, oidc_idp


def test_a_principal_signs_in_through_the_citys_unified_sign_on_and_lands_where_they_wanted(
    browser: Browser, sso_portal: tuple[Stack, OidcIdp]
) -> None:
    stack, idp = sso_portal
    context = browser.new_context(base_url=stack.gateway, locale=LOCALE, viewport={"width": 1280, "height": 800})
    allowed = {urlsplit(stack.gateway).netloc, urlsplit(idp.issuer).netloc}
    elsewhere: list[str] = []

    def only_the_platform_and_the_provider(route: Route) -> None:
        if urlsplit(route.request.url).netloc in allowed:
            route.continue_()
            return
        # The test provider's development login page asks for web fonts; only our own pages must ask for nothing.
        if urlsplit(route.request.frame.url).netloc == urlsplit(stack.gateway).netloc:
            elsewhere.append(route.request.url)
        route.abort("blockedbyclient")

    context.route(re.compile(r"^(https?|wss?)://"), only_the_platform_and_the_provider)
    page = context.new_page()
    try:
        page.goto("/school/rounds")
        page.wait_for_url(re.compile(r"/login"))
        button = page.locator(f'[data-test="sso-{PROVIDER}"]')
        expect(button).to_contain_text(PROVIDER_NAME)
        assert_accessible(page)
        screenshot(page, "sign-in-with-sso")
        button.click()

        # The provider's own pages: its login form, then its consent form.
        page.wait_for_url(lambda url: urlsplit(url).netloc == urlsplit(idp.issuer).netloc)
        page.locator('input[name="login"]').fill(SUB)
        page.locator('input[name="password"]').fill("password")
        page.locator('button[type="submit"]').first.click()
        page.wait_for_load_state()
        if urlsplit(page.url).netloc == urlsplit(idp.issuer).netloc:
            page.locator('button[type="submit"]').first.click()  # consent

        page.wait_for_url(f"{stack.gateway}/school/rounds")
        expect(page.get_by_text("赵敏").first).to_be_visible()
        session = next(c for c in context.cookies() if c["name"] == "cio_session")
        assert session["httpOnly"] and session["sameSite"] == "Lax"
        assert page.evaluate("document.cookie") == ""  # nothing a page script could read
        me = page.request.get(f"{stack.gateway}/api/me").json()
        assert me["sso"] is True and me["sso_provider"] == PROVIDER
        assert {(g["role"], g["org_path"]) for g in me["grants"]} == {("school_admin", "/1503/150302/1503020001")}
        assert_accessible(page)
        screenshot(page, "sso-landed-school-rounds")
        assert elsewhere == []
    finally:
        context.close()
