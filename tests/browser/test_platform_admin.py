"""The platform administrator's pages in Chromium (平台管理员): a CSV of orgs with a bad row is refused with its
report, the corrected file imports a county and a school that the tree then finds; a CSV of users imports; a user
is created with an initial password and given 学校管理员 at the new school, and that person signs in through the
sign-in page and acts there. The SSO and delivery-log pages are checked too. Photographed as
artifacts/screenshots/admin-*.png."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.helpers import sign_in
from tests.browser.test_bureau_appointments import settled
from tests.browser.test_review_chains import NewPage, Person, check
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import Client


def upload(page: Page, path: Path) -> None:
    page.locator("[data-test=import-file]").set_input_files(str(path))
    expect(page.locator("[data-test=import-file-info]")).to_contain_text(path.name)
    page.locator("[data-test=import-start]").click()


def test_an_administrator_imports_orgs_and_users_gives_a_grant_and_the_new_user_signs_in(
    portal_stack: Stack, new_page: NewPage, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:6].upper()
    county, school = f"C{suffix}", f"S{suffix}"
    county_name, school_name = f"焦作市新区{suffix}教育局", f"新区{suffix}第一小学"
    admin = Person(portal_stack, "admin")
    page = admin.browse(new_page, "/admin/orgs")

    bad = tmp_path / "机构（有误）.csv"
    bad.write_text(
        "code,name,level,parent_code\n"
        f"{county},{county_name},county,4108\n"
        f"{school},{school_name},school,{county}\n"
        f"X{suffix},无上级的学校,school,NOPE{suffix}\n",
        encoding="utf-8",
    )
    upload(page, bad)
    expect(page.locator("[data-test=import-result]")).to_contain_text("未导入任何记录")
    report = page.locator("[data-test=import-errors] tbody tr")
    expect(report.first).to_be_visible()
    assert {r.locator("td").first.inner_text().strip() for r in report.all()} == {"4"}
    check(page, "admin-orgs-import-report")

    fixed = tmp_path / "机构.csv"
    fixed.write_text(
        f"code,name,level,parent_code\n{county},{county_name},county,4108\n{school},{school_name},school,{county}\n",
        encoding="utf-8",
    )
    upload(page, fixed)
    expect(page.locator("[data-test=import-result]")).to_contain_text("新建 2 条")
    page.locator("[data-test=org-search]").fill(school)
    # No opened org's name or code holds the school's code: the tree is not shown empty, a line says to find it.
    expect(page.locator("[data-test=org-tree-empty]")).to_be_visible()
    expect(page.locator("[data-test=org-tree]")).to_be_hidden()
    page.locator("[data-test=org-find]").click()
    selected = page.locator("[data-test=org-selected]")
    expect(selected).to_contain_text(school_name)
    expect(selected).to_contain_text(f"/4108/{county}/{school}")
    check(page, "admin-orgs")

    # Users: a CSV of two teachers of the new school.
    page.goto("/admin/users")
    users = tmp_path / "用户.csv"
    users.write_text(
        "username,display_name,org_code\n"
        f"t1.{suffix.lower()},新区教师甲{suffix},{school}\n"
        f"t2.{suffix.lower()},新区教师乙{suffix},{school}\n",
        encoding="utf-8",
    )
    upload(page, users)
    expect(page.locator("[data-test=import-result]")).to_contain_text("新建 2 条")

    # A user created with an initial password, then given 学校管理员 at the new school.
    username, password = f"head.{suffix.lower()}", f"Xinqu-{suffix}-2026!"
    page.locator("[data-test=create-user]").click()
    dialog = page.locator("[data-test=create-dialog]")
    dialog.locator("[data-test=new-username]").fill(username)
    dialog.locator("[data-test=new-display-name]").fill(f"新区{suffix}校长")
    dialog.locator("[data-test=new-org]").fill(school)
    dialog.locator("[data-test=new-password]").fill(password)
    dialog.locator("[data-test=submit-user]").click()
    expect(dialog).to_be_hidden()
    row = page.locator("[data-test=user-table] tbody tr", has_text=username)
    expect(row).to_have_count(1)
    row.locator("[data-test=manage-grants]").click()
    drawer = page.locator("[data-test=grants-drawer]")
    expect(drawer.locator("[data-test=grant-org]")).to_have_value(school)
    drawer.locator("[data-test=give-grant]").click()  # 学校管理员 is the first role offered
    expect(drawer.locator("[data-test=grant-table]")).to_contain_text("学校管理员")
    expect(drawer.locator("[data-test=grant-table]")).to_contain_text(f"/4108/{county}/{school}")
    settled(page)
    check(page, "admin-users-grants")
    api = Client(portal_stack, "admin")
    listed = api.call("GET", "/api/users", params={"q": suffix.lower(), "limit": 10}).json()["items"]
    assert sorted(u["username"] for u in listed) == sorted([f"t1.{suffix.lower()}", f"t2.{suffix.lower()}", username])

    # The new person signs in through the portal and acts as the school's administrator.
    person = new_page()
    sign_in(person, username, password)
    expect(person.locator(".acting")).to_contain_text(school_name)
    expect(person.locator(".acting")).to_contain_text("学校管理员")
    person.wait_for_url(re.compile(r"/school/rounds$"))  # the school administrator's start page

    # SSO providers with recent outcomes, and the delivery log (dead deliveries first).
    page.goto("/admin/sso")
    expect(page.locator("[data-test=sso-providers]")).to_be_visible()
    check(page, "admin-sso")
    page.goto("/admin/deliveries")
    expect(page.locator("[data-test=delivery-table]").or_(page.locator(".el-empty"))).to_be_visible()
    check(page, "admin-deliveries")
