"""Seed 001 「每2年对学校信息化工作考核一次，信息化工作不合格者限期整改」 as rules: the assessment is the school's,
not an appointment's; every school in scope is assessed (with or without a CIO) every two years; the annual 测评
stays the CIO's."""

from __future__ import annotations

import copy
import datetime as dt
import uuid

import pytest
from approvals.adapters.policy_snapshot import parse_policy
from approvals.adapters.score_sheets import default_catalog
from approvals.domain.evaluation import Evaluation, Evaluee, plan_school_assessments, sheet_for
from approvals.domain.model import DomainError
from approvals.domain.policy import SUBJECT_CIO, SUBJECT_SCHOOL

from tests.unit.approvals.nominations_events import policy_document

AT = dt.datetime(2024, 9, 1, 9, tzinfo=dt.UTC)
SCHOOL, SCHOOL2, SCHOOL3 = "4108020001", "4108210001", "4108000001"


def test_每2年对学校信息化工作考核一次_every_school_in_scope_with_or_without_a_cio_every_two_years() -> None:
    jiaozuo = parse_policy(policy_document("jiaozuo-2022"))
    biennial = jiaozuo.cadence("school_biennial")
    assert biennial is not None and (biennial.subject, biennial.every_years) == (SUBJECT_SCHOOL, 2)
    annual = jiaozuo.cadence("cio_annual")
    assert annual is not None and annual.subject == SUBJECT_CIO  # 首席信息官每年组织一次测评 stays per CIO
    assert jiaozuo.unit_levels == ("school",)

    # nothing is known of a school's CIO here: the plan is by school alone
    first = plan_school_assessments(biennial, [SCHOOL, SCHOOL2, SCHOOL3], {}, 2023)
    assert (first.to_open, first.already) == ((SCHOOL, SCHOOL2, SCHOOL3), ())
    # 2023 assessed: 2024 is within the two years, 2025 is due again; a school last assessed in 2022 is due in 2024
    assessed = {SCHOOL: [2023], SCHOOL2: [2023], SCHOOL3: [2022]}
    soon = plan_school_assessments(biennial, [SCHOOL, SCHOOL2, SCHOOL3], assessed, 2024)
    assert (soon.to_open, soon.already) == ((SCHOOL3,), (SCHOOL, SCHOOL2))
    later = plan_school_assessments(biennial, [SCHOOL, SCHOOL2, SCHOOL3], assessed, 2025)
    assert later.to_open == (SCHOOL, SCHOOL2, SCHOOL3)
    # the CIO's annual 测评 is not planned per school
    with pytest.raises(DomainError) as refused:
        plan_school_assessments(annual, [SCHOOL], {}, 2024)
    assert refused.value.field == "kind"


def test_宜春学院_orders_no_assessment_and_its_units_are_the_university() -> None:
    yichun = parse_policy(policy_document("yichun-university"))
    assert yichun.cadence("school_biennial") is None and yichun.evaluation.cadences == ()
    assert yichun.unit_levels == ("university",)


def test_a_snapshot_from_before_subjects_evaluates_the_cio() -> None:
    document = copy.deepcopy(policy_document("jiaozuo-2022"))
    for cadence in document["evaluation"]["cadences"]:
        del cadence["subject"]
    assert {c.subject for c in parse_policy(document).evaluation.cadences} == {SUBJECT_CIO}
    document["evaluation"]["cadences"][0]["subject"] = "teacher"
    with pytest.raises(ValueError, match=r"evaluation.cadences\[0\].subject"):
        parse_policy(document)


def test_信息化工作不合格者限期整改_the_school_assessment_has_no_appointment_and_orders_its_rectification() -> None:
    jiaozuo = parse_policy(policy_document("jiaozuo-2022"))
    sheet = sheet_for(jiaozuo.evaluation, "school_biennial", default_catalog())
    round_id = uuid.uuid4()
    evaluee = Evaluee.school(SCHOOL2, "/4108/410821/4108210001", jiaozuo.id, round_id)
    evaluation = Evaluation(evaluee, "school_biennial", 2024, sheet, "ev", AT)
    assert (evaluation.appointment_id, evaluation.person_user_id, evaluation.subject, evaluation.round_id) == (
        None,
        None,
        SUBJECT_SCHOOL,
        round_id,
    )
    scored = sheet.scored
    evaluation.enter_self_assessment(
        [{"code": i.code, "score": 0} for i in scored], "未开展信息化工作", None, True, "sa", AT
    )
    evaluation.enter_verification(
        [{"code": i.code, "score": 0, "deduction_reason": "无佐证"} for i in scored], [], "ev", AT
    )
    rectification = evaluation.finalise(jiaozuo.evaluation, 90, "ev", AT)
    (recorded,) = evaluation.events
    assert (recorded.appointment_id, recorded.person_user_id, recorded.evaluee) == (None, None, SUBJECT_SCHOOL)
    assert evaluation.grade == "不合格" and rectification is not None
    # 整改不合格的取消首席信息官任命: the policy's revocation stands; the service revokes the school's CIO if it has one
    assert (rectification.appointment_id, rectification.org_code, rectification.revoke_on_failure) == (
        None,
        SCHOOL2,
        True,
    )
    (ordered,) = rectification.events
    assert ordered.payload()["appointment_id"] is None and ordered.payload()["kind"] == "school_biennial"
