"""证书查验 in Chromium, without signing in: anyone types a certificate's number and sees whether it is valid or
revoked, with the holder's name masked (王*明); a number nobody issued says so. The certificates are recorded and
one revoked by 焦作市培训管理员 through the API; the page is checked with axe-core and photographed
(artifacts/screenshots/public-certificate-*.png)."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_accessible, problems, screenshot
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import Client, new_user, poll


def record_certificate(trainer: Client, person_id: str, number: str) -> dict[str, Any]:
    """A city-level CIO certificate (首席信息官培训合格证), once training has heard of the person."""

    def recorded() -> dict[str, Any] | None:
        response = trainer.call(
            "POST",
            "/api/certificates",
            expect=None,
            json={
                "number": number,
                "person_user_id": person_id,
                "kind": "cio",
                "level": "city",
                "issuer": "焦作市教育局",
                "issued_on": "2026-01-10",
            },
        )
        assert response.status_code in (201, 404, 422), response.text
        return dict(response.json()) if response.status_code == 201 else None

    return poll(recorded, "training knows the holder")


def check_number(page: Page, number: str) -> None:
    page.locator("[data-test=certificate-number]").fill(number)
    page.locator("[data-test=check]").click()


def test_the_public_check_answers_for_a_real_and_a_revoked_certificate_without_sign_in(
    portal_stack: Stack, page: Page
) -> None:
    admin, trainer = Client(portal_stack, "admin"), Client(portal_stack, "training.admin")
    holder = new_user(admin, "4108020001", "王晓明")
    other = new_user(admin, "4108020001", "赵建国")
    suffix = uuid.uuid4().hex[:6].upper()
    valid = record_certificate(trainer, holder["id"], f"JZ-CIO-2026-{suffix}")
    revoked = record_certificate(trainer, other["id"], f"JZ-CIO-2026-{suffix}R")
    trainer.call("POST", f"/api/certificates/{revoked['id']}/revoke", json={"reason": "培训学时不实，予以撤销"})

    # No session: the page opens by itself, not through the sign-in page.
    page.goto("/verify")
    expect(page.get_by_role("heading", name="证书查验")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "cio_session"]

    check_number(page, valid["number"])
    status = page.locator("[data-test=certificate-status]")
    expect(status).to_contain_text("证书有效")
    expect(page.locator("[data-test=certificate-holder]")).to_have_text("王*明")
    expect(page.locator("[data-test=certificate-facts]")).to_contain_text("首席信息官培训合格证")
    expect(page.locator("[data-test=certificate-facts]")).not_to_contain_text("王晓明")
    # The number stays in the address: a printed link opens the answer.
    expect(page).to_have_url(f"{portal_stack.gateway}/verify/{valid['number']}")
    page.wait_for_timeout(400)  # Element Plus's fade-in: axe would measure a half-transparent alert's contrast
    assert_accessible(page)
    screenshot(page, "public-certificate-valid")

    check_number(page, revoked["number"])
    expect(status).to_contain_text("证书已撤销")
    expect(page.locator("[data-test=certificate-holder]")).to_have_text("赵*国")
    expect(page.locator("[data-test=certificate-facts]")).to_contain_text("撤销日期")
    page.wait_for_timeout(400)
    assert_accessible(page)
    screenshot(page, "public-certificate-revoked")

    check_number(page, f"NO-SUCH-{suffix}")
    expect(status).to_contain_text("未找到该编号的证书")

    # A printed link opens straight onto the answer, in English too.
    page.goto(f"/verify/{valid['number']}")
    expect(status).to_contain_text("证书有效")
    page.locator(".language-switch .el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text="English").click()
    expect(status).to_contain_text("Valid certificate")
    problems(page).assert_clean()
