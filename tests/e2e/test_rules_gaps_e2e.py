"""Issue 17's remaining gaps through the gateway, the real bus and every service:

- 「取得合格证者」: a certificate claimed on the 推荐表 that the training administrator rejects shows rejected, with the
  administrator's reason, on the nomination's evidence (it used to stay "pending" for ever);
- 避免重复采集, 教龄: an import's 教龄 reaches the form through identity's events, kept as the year teaching began and
  counted again on the day the form is filled (a year on, one more year: tests/integration/nominations/
  test_prefill_api.py; the identity API shows no profile to read it back here).

Each test makes its own org or person, so it shares the session's stack with the other journeys.
"""

from __future__ import annotations

import secrets

import pytest

from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import (
    JIAOZUO_FORM,
    Client,
    account,
    candidate,
    open_round,
    poll,
    prepared_nomination,
    tag,
)

pytestmark = pytest.mark.e2e


def city_school(stack: Stack, admin: Client, name: str) -> tuple[str, Client]:
    """A 市直 school of Jiaozuo (unit → city) with its administrator signed in."""
    code = f"4108{secrets.randbelow(10**6):06d}"
    admin.call(
        "POST",
        "/api/orgs",
        expect=201,
        json={"code": code, "name": f"{name}{tag()}", "level": "school", "parent_code": "4108"},
    )
    return code, account(stack, admin, "school_admin", code, f"{name}管理员")


def test_取得合格证者_a_rejected_claim_shows_rejected_with_the_administrators_reason(stack: Stack) -> None:
    admin, city, trainer = Client(stack, "admin"), Client(stack, "city.reviewer"), Client(stack, "training.admin")
    code, school = city_school(stack, admin, "焦作市直属申报学校")
    person = candidate(admin, code, "钱申报")
    round_ = open_round(city, "jiaozuo-2022", "4108", f"焦作合格证-{tag()}")
    nomination = prepared_nomination(school, round_["id"], code, person["id"], JIAOZUO_FORM, photo=False)
    number = f"HN-CIO-{tag()}"
    claim = {
        "number": number,
        "kind": "cio",
        "level": "provincial",
        "issuer": "河南省教育厅",
        "issued_on": "2021-07-01",
    }
    school.call(
        "POST", f"/api/nominations/{nomination.id}/certificate-claim", json=claim, headers={"If-Match": nomination.etag}
    )
    evidence = f"/api/nominations/{nomination.id}/evidence"
    assert school.call("GET", evidence).json()["certificate_claim"]["status"] == "pending"

    def arrived() -> dict[str, object] | None:
        items = trainer.call("GET", "/api/certificates/claims", params={"status": "pending"}).json()["items"]
        return next((c for c in items if c["number"] == number), None)

    pending = poll(arrived, "training holds the claim")
    reason = "培训记录中无此证书编号，请上传合格证扫描件"
    trainer.call(
        "POST", f"/api/certificates/claims/{pending['id']}/decision", json={"decision": "reject", "note": reason}
    )

    def rejected() -> dict[str, object] | None:
        shown = school.call("GET", evidence).json()["certificate_claim"]
        return shown if shown["status"] == "rejected" else None

    shown = poll(rejected, "the nomination shows the claim rejected")
    assert (shown["number"], shown["rejection_reason"]) == (number, reason)
    history = school.call("GET", f"/api/nominations/{nomination.id}/history").json()["items"]
    assert any(h["action"] == "certificate_claim_rejected" for h in history)


def test_避免重复采集_教龄_imported_reaches_the_form_counted_from_the_year_teaching_began(stack: Stack) -> None:
    admin, city = Client(stack, "admin"), Client(stack, "city.reviewer")
    code, school = city_school(stack, admin, "焦作市直属教龄学校")
    username = f"t{tag()}.teacher"
    rows = f"username,display_name,org_code,education,teaching_years\n{username},冯教龄,{code},本科,18\n"
    report = admin.call("POST", "/api/users/import", data=rows.encode(), headers={"Content-Type": "text/csv"}).json()
    assert report["created"] == 1, report
    users = admin.call("GET", "/api/users", params={"org_code": code, "limit": 100}).json()["items"]
    [listed] = [u for u in users if u["username"] == username]
    person = admin.call("GET", f"/api/users/{listed['id']}").json()

    round_ = open_round(city, "jiaozuo-2022", "4108", f"焦作教龄-{tag()}")

    def created() -> dict[str, object] | None:
        response = school.call(
            "POST",
            "/api/nominations",
            expect=None,
            json={"round_id": round_["id"], "school_org_code": code, "candidate_user_id": person["id"]},
        )
        assert response.status_code in (201, 422), response.text
        return response.json() if response.status_code == 201 else None

    form = poll(created, "nominations knows the teacher")["form"]
    assert (form["education"], form["teaching_years"]) == ("本科", 18)
