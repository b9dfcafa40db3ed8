"""The training administrator's pages in Chromium (培训管理员, 焦作市): an attendance file with bad rows is refused
with its per-row report (row, column, the message in Chinese) and the file's name and size; the corrected file is
imported and the progress bar reaches the end; the same file again changes nothing. A certificate is revoked with
a reason and its public check link answers 已撤销. The compliance table is exported. 报名 in bulk: the CIOs in
office in the administrator's scope are searched and picked many at once. Photographed as
artifacts/screenshots/training-*.png."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from shared import clock
from tests.browser.appointed import appointed_cio, new_county
from tests.browser.test_bureau_appointments import settled
from tests.browser.test_review_chains import NewPage, Person, check
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import Client, new_user, poll

HEADER = "用户名,姓名,学时,结业日期\n"


def import_file(page: Page, path: Path) -> None:
    page.locator("[data-test=import-file]").set_input_files(str(path))
    expect(page.locator("[data-test=import-file-info]")).to_contain_text(path.name)
    page.locator("[data-test=import-start]").click()


def test_attendance_import_reports_bad_rows_then_imports_the_fixed_file_once(
    portal_stack: Stack, new_page: NewPage, tmp_path: Path
) -> None:
    admin = Client(portal_stack, "admin")
    trainer = Person(portal_stack, "training.admin")
    suffix = uuid.uuid4().hex[:4].upper()
    people = [new_user(admin, "4108020001", f"参训教师{suffix}{n}") for n in (1, 2)]
    today = clock.today()
    training = trainer.api.call(
        "POST",
        "/api/trainings",
        expect=201,
        json={
            "title": f"焦作市首席信息官集中培训（第{suffix}期）",
            "kind": "cio",
            "level": "city",
            "starts_on": f"{today - dt.timedelta(days=3)}",
            "ends_on": f"{today - dt.timedelta(days=1)}",
            "hours": 16,
            "centralized": True,
            "organiser_org_code": "4108",
        },
    ).json()
    # 报名 in bulk, once training has heard of both people from identity.
    poll(
        lambda: (
            trainer.api.call(
                "POST",
                f"/api/trainings/{training['id']}/enrolments",
                expect=None,
                json={"person_user_ids": [p["id"] for p in people]},
            ).status_code
            in (200, 201)
            or None
        ),
        "training knows the people",
    )

    page = trainer.browse(new_page, "/training/trainings")
    expect(page.locator("[data-test=training-table]").get_by_role("link", name=training["title"])).to_be_visible()
    check(page, "training-trainings")
    page.locator("[data-test=training-table]").get_by_role("link", name=training["title"]).click()
    expect(page.locator("[data-test=attendance-table] tbody tr")).to_have_count(2)

    finished = f"{today - dt.timedelta(days=1)}"
    bad = tmp_path / "参训名单（有误）.csv"
    bad.write_text(
        HEADER
        + f"{people[0]['username']},{people[0]['display_name']},16,{finished}\n"
        + f"{people[1]['username']},{people[1]['display_name']},十六,{finished}\n"
        + f"nobody.{suffix.lower()},查无此人,16,{finished}\n",
        encoding="utf-8",
    )
    import_file(page, bad)
    expect(page.locator("[data-test=import-file-info]")).to_contain_text(f"{bad.stat().st_size} B")
    result = page.locator("[data-test=import-result]")
    expect(result).to_contain_text("未导入任何记录")
    report = page.locator("[data-test=import-errors] tbody tr")
    expect(report).to_have_count(2)
    rows = [[c.strip() for c in report.nth(i).locator("td").all_inner_texts()] for i in range(2)]
    assert [(r[0], r[1]) for r in rows] == [("3", "学时"), ("4", "用户名")], rows
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r[2]) for r in rows), rows  # the reader's language
    check(page, "training-import-report")
    expect(page.locator("[data-test=attendance-table]")).not_to_contain_text("已结业")

    fixed = tmp_path / "参训名单.csv"
    fixed.write_text(
        HEADER
        + f"{people[0]['username']},{people[0]['display_name']},16,{finished}\n"
        + f"{people[1]['username']},{people[1]['display_name']},16,{finished}\n",
        encoding="utf-8",
    )
    import_file(page, fixed)
    expect(page.locator("[data-test=import-progress]")).to_have_attribute("aria-valuenow", "100")
    expect(result).to_contain_text("导入完成")
    expect(result).to_contain_text("新增或更新 2 行")
    expect(page.locator("[data-test=import-errors]")).to_have_count(0)
    expect(page.locator("[data-test=attendance-table] tbody tr", has_text="已结业")).to_have_count(2)
    check(page, "training-import-done")

    # The same file again: the service answers with the earlier import, and nothing is written twice.
    import_file(page, fixed)
    expect(result).to_contain_text("此文件已导入过")
    attendance = trainer.api.call("GET", f"/api/trainings/{training['id']}/attendance").json()["items"]
    assert sorted((a["status"], a["hours"]) for a in attendance) == [("completed", 16.0), ("completed", 16.0)]


def test_a_certificate_is_revoked_with_a_reason_and_the_compliance_table_is_exported(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin = Client(portal_stack, "admin")
    trainer = Person(portal_stack, "training.admin")
    holder = new_user(admin, "4108020001", f"持证教师{uuid.uuid4().hex[:3].upper()}")
    number = f"JZ-CIO-2026-{uuid.uuid4().hex[:6].upper()}"

    def recorded() -> bool:
        response = trainer.api.call(
            "POST",
            "/api/certificates",
            expect=None,
            json={
                "number": number,
                "person_user_id": holder["id"],
                "kind": "cio",
                "level": "city",
                "issuer": "焦作市教育局",
                "issued_on": "2026-01-10",
            },
        )
        return response.status_code == 201

    poll(lambda: recorded() or None, "training knows the holder")

    page = trainer.browse(new_page, "/training/certificates")
    row = page.locator("[data-test=certificate-table] tbody tr", has_text=number)
    page.locator(".status .el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text="有效").click()
    expect(row).to_contain_text("有效")
    check(page, "training-certificates")
    row.locator("[data-test=revoke]").click()
    dialog = page.locator("[data-test=revoke-dialog]")
    dialog.locator("[data-test=confirm-revoke]").click()
    expect(dialog).to_contain_text("请填写撤销理由")
    dialog.locator("[data-test=revoke-reason]").fill("培训学时不实，予以撤销")
    dialog.locator("[data-test=confirm-revoke]").click()
    expect(dialog).to_be_hidden()
    page.locator(".status .el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text="已撤销").click()
    expect(row.locator(".el-tag")).to_have_text("已撤销")
    certificate = trainer.api.call("GET", "/api/certificates", params={"person": holder["id"]}).json()["items"][0]
    assert (certificate["status"], certificate["revoked_reason"]) == ("revoked", "培训学时不实，予以撤销")

    # Its public check link (printed on the certificate) answers 已撤销.
    row.get_by_role("link", name="查验链接").click()
    expect(page.locator("[data-test=certificate-status]")).to_contain_text("证书已撤销")

    page.goto("/training/compliance")
    year = clock.today().year
    listed = trainer.api.call("GET", "/api/training-compliance", params={"year": year}).json()
    expect(page.locator("[data-test=compliance-total]")).to_have_text(str(listed["total"]))
    expect(page.locator("[data-test=compliance-missing]")).to_have_text(str(listed["missing"]))
    check(page, "training-compliance")
    if listed["items"]:
        with page.expect_download() as started:
            page.locator("[data-test=export-compliance]").click()
        saved = started.value.path()
        assert saved is not None
        rows = list(csv.reader(io.StringIO(Path(saved).read_text("utf-8-sig"))))
        assert rows[0][0] == "姓名" and len(rows) == 1 + len(listed["items"])


def test_批量报名_the_administrator_searches_the_cios_in_scope_and_enrols_several_at_once(
    portal_stack: Stack, new_page: NewPage
) -> None:
    admin = Client(portal_stack, "admin")
    trainer = Person(portal_stack, "training.admin")
    suffix = uuid.uuid4().hex[:4].upper()
    county = new_county(portal_stack, admin, f"焦作市报名示范区{suffix}教育局")
    cios = [
        appointed_cio(portal_stack, admin, county, f"报名示范区{suffix}第{n}小学", f"报名{suffix}{n}").person
        for n in ("一", "二")
    ]
    year = clock.today().year
    poll(
        lambda: (
            {c["id"] for c in cios}
            <= {
                i["person_user_id"]
                for i in trainer.api.call("GET", "/api/training-compliance", params={"year": year}).json()["items"]
            }
            or None
        ),
        "training knows both CIOs in office",
    )
    training = trainer.api.call(
        "POST",
        "/api/trainings",
        expect=201,
        json={
            "title": f"焦作市首席信息官集中培训（报名{suffix}）",
            "kind": "cio",
            "level": "city",
            "starts_on": f"{clock.today() + dt.timedelta(days=10)}",
            "ends_on": f"{clock.today() + dt.timedelta(days=12)}",
            "hours": 16,
            "centralized": True,
            "organiser_org_code": "4108",
        },
    ).json()

    page = trainer.browse(new_page, f"/training/trainings/{training['id']}")
    expect(page.locator("[data-test=attendance-table] tbody tr")).to_have_count(0)
    page.locator("[data-test=open-enrol]").click()
    dialog = page.locator("[data-test=enrol-dialog]")
    # Nothing picked: refused in the page, nothing sent.
    dialog.locator("[data-test=enrol-submit]").click()
    expect(dialog.locator("[data-test=enrol-refused]")).to_contain_text("请至少选择一人")
    dialog.locator("[data-test=enrol-search]").fill(f"报名{suffix}")
    rows = dialog.locator("[data-test=enrol-table] tbody tr")
    expect(rows).to_have_count(2)
    for index in range(2):
        rows.nth(index).locator(".el-checkbox").click()
    expect(dialog.locator("[data-test=enrol-picked]")).to_have_text("已选 2 人")
    expect(dialog.locator("[data-test=enrol-refused]")).to_have_count(0)
    settled(page)
    check(page, "training-enrol")
    dialog.locator("[data-test=enrol-submit]").click()
    expect(page.get_by_text("已报名 2 人（0 人此前已报名）")).to_be_visible()
    expect(dialog).to_be_hidden()
    attendance = page.locator("[data-test=attendance-table] tbody tr")
    expect(attendance).to_have_count(2)
    for cio in cios:
        expect(attendance.filter(has_text=cio["display_name"])).to_contain_text("已报名")
    enrolled = trainer.api.call("GET", f"/api/trainings/{training['id']}/attendance").json()["items"]
    assert sorted(a["person_user_id"] for a in enrolled) == sorted(c["id"] for c in cios)

    # One of them again (search by name): the enrolment stays as it was, nobody is enrolled twice.
    page.locator("[data-test=open-enrol]").click()
    dialog.locator("[data-test=enrol-search]").fill(cios[0]["display_name"])
    expect(rows).to_have_count(1)
    rows.first.locator(".el-checkbox").click()
    dialog.locator("[data-test=enrol-submit]").click()
    expect(page.get_by_text("已报名 0 人（1 人此前已报名）")).to_be_visible()
    expect(attendance).to_have_count(2)
