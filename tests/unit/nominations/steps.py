"""The Jiaozuo path through the handlers against the fake unit of work, step by step, for the handler tests."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from nominations.adapters.policies import PolicyCatalog
from nominations.domain.model import Nomination, Round
from nominations.service_layer import drafts, rounds, submission

from shared.principal import Grant
from tests.unit.nominations.fakes import CANDIDATE, CITY, SCHOOL, FakeUnitOfWork, principal, version_is

CATALOG = PolicyCatalog.load()
NOW = dt.datetime(2022, 9, 1, 8, tzinfo=dt.UTC)
DEADLINE = dt.datetime(2022, 10, 1, tzinfo=dt.UTC)
# A real 2×3 PNG: the handler reads an upload's size from its header and refuses what it cannot read.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAFElEQVR4nGM8ISfHwMDAxMDAgKAAFEoBCqHkTQMAAAAASUVORK5CYII="
)
# The 焦作市首席教育信息官推荐表's own fields (the directory prefills name, gender, birth date, mobile, unit).
JIAOZUO_FORM = {
    "education": "本科",
    "ethnicity": "汉族",
    "teaching_years": 20,
    "administrative_post": "校长",
    "professional_title": "高级教师",
    "postal_address": "焦作市解放区民主路1号",
    "honours": [{"award_name": "市级优秀教师", "awarded_on": "2021-09-10", "granted_by": "焦作市教育局"}],
    "work_achievements": "推进智慧校园建设。",
    "post_kind": "principal",
    "years_in_it_management": 3,
}


def with_directory() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.directory.add_user(CANDIDATE, "张三", "4108020001")
    return uow


def open_round(uow: FakeUnitOfWork) -> Round:
    return rounds.open_round(
        uow,
        CATALOG,
        principal(CITY, subject="city"),
        title="2022年焦作市首席教育信息官推荐",
        policy_id="jiaozuo-2022",
        issuing_org_code="4108",
        deadline=DEADLINE,
        now=NOW,
    )


def start(uow: FakeUnitOfWork, round_: Round, school: str = "4108020001", **kwargs: Any) -> Nomination:
    kwargs.setdefault("candidate_user_id", CANDIDATE)
    admin = Grant("school_admin", uow.directory.orgs[school]["path"])
    return drafts.create_nomination(
        uow,
        principal(admin, subject="school"),
        round_id=round_.id,
        school_org_code=school,
        form=None,
        now=NOW,
        **kwargs,
    )


def ready(uow: FakeUnitOfWork, nomination: Nomination) -> Nomination:
    """Fill the form, upload the photo and sign: what a school does before it submits."""
    school = principal(SCHOOL, subject="school")
    n = drafts.update_nomination(
        uow, school, nomination.id, version_is(nomination.version), candidate_user_id=None, form=JIAOZUO_FORM, now=NOW
    )
    n = drafts.upload_photo(uow, school, n.id, version_is(n.version), PNG, NOW)
    return drafts.attest(uow, school, n.id, version_is(n.version), "张三", NOW)


def submitted(uow: FakeUnitOfWork, round_: Round) -> Nomination:
    uow.directory.certificates[CANDIDATE] = [("cio", "city")]
    n = ready(uow, start(uow, round_))
    return submission.submit(uow, principal(SCHOOL, subject="school"), n.id, version_is(n.version), NOW)
