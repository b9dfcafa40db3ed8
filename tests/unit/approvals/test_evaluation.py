"""Score sheets, grading and the rectification an unqualified evaluation orders (pure domain, no database)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from approvals.adapters.policy_snapshot import parse_policy
from approvals.adapters.score_sheets import default_catalog, parse_catalog
from approvals.domain.evaluation import (
    FAILED,
    FINALISED,
    SUBMITTED,
    Evaluation,
    Evaluee,
    GradeBand,
    GradeScale,
    Invalid,
    SheetError,
    sheet_for,
)
from approvals.domain.model import DomainError, StateConflict
from approvals.domain.policy import EvaluationPolicy, Indicator

from tests.unit.approvals.nominations_events import policy_document

AT = dt.datetime(2024, 1, 10, 9, 0, tzinfo=dt.UTC)
SCALE = GradeScale((GradeBand("优秀", 90), GradeBand("合格", 60)), veto_grade="不合格", unqualified_grade="不合格")


def jiaozuo() -> EvaluationPolicy:
    return parse_policy(policy_document("jiaozuo-2022")).evaluation


def new_evaluation(kind: str = "cio_annual", policy: EvaluationPolicy | None = None) -> Evaluation:
    sheet = sheet_for(policy or jiaozuo(), kind, default_catalog())
    evaluee = Evaluee(uuid.uuid4(), "cio-1", "张三", "4108020001", "/4108/410802/4108020001", "jiaozuo-2022")
    return Evaluation(evaluee, kind, 2023, sheet, "school", AT)


def full_marks(evaluation: Evaluation, **overrides: float) -> list[dict[str, Any]]:
    return [{"code": i.code, "score": overrides.get(i.code, i.max_score)} for i in evaluation.score_sheet().scored]


def submitted(evaluation: Evaluation) -> Evaluation:
    evaluation.enter_self_assessment(full_marks(evaluation), "全年工作总结", None, True, "school", AT)
    return evaluation


def test_the_default_cio_sheet_is_a_100_point_sheet_with_four_first_level_indicators_and_a_veto() -> None:
    sheet = new_evaluation().score_sheet()
    assert sheet.source == "platform" and sheet.max_total == 100
    first_level = [i.name for i in sheet.indicators if i.parent is None and not i.veto]
    assert first_level == ["组织领导", "制度建设", "应用成效", "网络安全"]
    assert "发生重大网络安全事件" in [i.name for i in sheet.vetoes]
    assert all(i.notes for i in sheet.scored)  # every scored line says how it is scored
    assert new_evaluation("school_biennial").score_sheet().max_total == 100


@pytest.mark.parametrize(
    ("total", "vetoed", "grade"),
    [(100, False, "优秀"), (90, False, "优秀"), (89.5, False, "合格"), (60, False, "合格"), (59.9, False, "不合格"),
     (100, True, "不合格")],
)  # fmt: skip
def test_grade_follows_the_thresholds_and_a_veto_overrides_the_total(total: float, vetoed: bool, grade: str) -> None:
    assert SCALE.grade(total, 100, vetoed) == grade


def test_thresholds_are_shares_of_the_sheet_maximum() -> None:
    assert SCALE.grade(45, 50, False) == "优秀"  # 90 % of a 50-point sheet
    assert SCALE.grade(29, 50, False) == "不合格"


def test_the_policy_indicators_win_over_the_default_sheet() -> None:
    own = EvaluationPolicy(
        grades=("优秀", "合格", "不合格"),
        cadences=jiaozuo().cadences,
        on_unqualified="rectification",
        indicators=(
            Indicator("A", "网络安全", 50),
            Indicator("A1", "制度", 20, parent="A"),
            Indicator("A2", "演练", 30, parent="A"),
            Indicator("X", "重大事件", 0, veto=True),
        ),
    )
    sheet = sheet_for(own, "cio_annual", default_catalog())
    assert (sheet.source, sheet.max_total, [i.code for i in sheet.scored]) == ("policy", 50, ["A1", "A2"])
    broken = EvaluationPolicy(
        cadences=own.cadences, indicators=(Indicator("A", "x", 50), Indicator("A1", "y", 20, parent="A"))
    )
    with pytest.raises(DomainError, match="worth 50 but its items add up to 20"):
        sheet_for(broken, "cio_annual", default_catalog())


def test_a_kind_the_policy_does_not_order_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        sheet_for(parse_policy(policy_document("yichun-university")).evaluation, "cio_annual", default_catalog())
    assert refused.value.field == "kind" and "its evaluations: none" in refused.value.message
    helan = parse_policy(policy_document("helan-2024")).evaluation
    with pytest.raises(DomainError, match="school_biennial"):
        sheet_for(helan, "school_biennial", default_catalog())


def test_a_malformed_default_sheet_is_refused_when_loaded() -> None:
    data = {
        "scale": {
            "bands": [{"grade": "合格", "min_percent": 60}],
            "veto_grade": "不合格",
            "unqualified_grade": "不合格",
        },
        "default_rectification_due_days": 90,
        "sheets": {"cio_annual": {"name_zh": "x", "indicators": [{"code": "1", "name_zh": "y", "max_score": 10}]}},
    }
    assert parse_catalog(data).sheets["cio_annual"][0] == "x"
    data["sheets"]["cio_annual"]["indicators"].append({"code": "1.1", "parent": "9", "name_zh": "z", "max_score": 1})
    with pytest.raises(SheetError, match="unknown parent 9"):
        parse_catalog(data)


def test_self_assessment_names_each_bad_score_and_submitting_needs_every_score_and_a_summary() -> None:
    evaluation = new_evaluation()
    with pytest.raises(Invalid) as refused:
        evaluation.enter_self_assessment(
            [{"code": "1.1", "score": 11}, {"code": "9.9", "score": 1}, {"code": "V1", "score": 0}],
            None,
            None,
            False,
            "school",
            AT,
        )
    assert [f for f, _ in refused.value.errors] == ["scores.0.score", "scores.1.code", "scores.2.code"]
    assert evaluation.items[0]["self_score"] is None  # nothing half-written

    evaluation.enter_self_assessment(
        [{"code": "1.1", "score": 8, "evidence": ["会议纪要.pdf"]}], None, None, False, "s", AT
    )
    assert (evaluation.self_total, evaluation.status) == (8, "self_assessment")
    with pytest.raises(Invalid) as refused:
        evaluation.enter_self_assessment([], None, None, True, "school", AT)
    assert [f for f, _ in refused.value.errors] == ["scores", "summary"]
    submitted(evaluation)
    assert (evaluation.status, evaluation.self_total) == (SUBMITTED, 100)
    with pytest.raises(StateConflict):
        evaluation.enter_self_assessment([], None, None, False, "school", AT)


def test_verification_needs_a_deduction_reason_below_the_maximum_and_a_reason_for_a_triggered_veto() -> None:
    evaluation = submitted(new_evaluation())
    with pytest.raises(StateConflict):
        new_evaluation().enter_verification([], [], "bureau", AT)  # not submitted yet
    scores = full_marks(evaluation, **{"1.2": 6})
    with pytest.raises(Invalid) as refused:
        evaluation.enter_verification(
            scores, [{"code": "V1", "triggered": True}, {"code": "1.1", "triggered": False}], "b", AT
        )
    assert [f for f, _ in refused.value.errors] == ["scores.1.deduction_reason", "vetoes.0.reason", "vetoes.1.code"]
    scores[1]["deduction_reason"] = "未明确各部门信息化联络员"
    evaluation.enter_verification(scores, [], "bureau", AT)
    assert evaluation.verified_total == 96


def test_finalising_grades_and_records_the_result() -> None:
    evaluation = submitted(new_evaluation())
    with pytest.raises(Invalid, match="verified score"):
        evaluation.finalise(jiaozuo(), 90, "bureau", AT)
    scores = full_marks(evaluation, **{"3.1": 5})
    scores[4]["deduction_reason"] = "融合应用未常态化"
    evaluation.enter_verification(scores, [], "bureau", AT)
    assert evaluation.finalise(jiaozuo(), 90, "bureau", AT) is None  # 90: 优秀, nothing to rectify
    assert (evaluation.status, evaluation.grade, evaluation.verified_total) == (FINALISED, "优秀", 90)
    [recorded] = evaluation.events
    assert recorded.payload() == {
        "evaluation_id": str(evaluation.id),
        "appointment_id": str(evaluation.appointment_id),
        "person_user_id": "cio-1",
        "org_path": "/4108/410802/4108020001",
        "year": 2023,
        "kind": "cio_annual",
        "score": 90,
        "grade": "优秀",
        "org_code": "4108020001",
        "max_score": 100,
        "vetoed": False,
        "evaluee": "cio",
    }


def test_a_veto_makes_it_unqualified_and_orders_a_rectification_due_per_the_policy() -> None:
    evaluation = submitted(new_evaluation())
    evaluation.enter_verification(
        full_marks(evaluation), [{"code": "V1", "triggered": True, "reason": "2023年5月发生勒索病毒事件"}], "b", AT
    )
    rectification = evaluation.finalise(jiaozuo(), 30, "bureau", AT)
    assert (evaluation.grade, evaluation.verified_total, evaluation.vetoed) == ("不合格", 100, True)
    assert rectification is not None
    assert rectification.due_on == dt.date(2024, 4, 9)  # the policy's 90 days, not the default 30
    assert rectification.reason == "一票否决：发生重大网络安全事件（2023年5月发生勒索病毒事件）"
    [ordered] = rectification.events
    assert ordered.payload()["due_on"] == "2024-04-09" and ordered.payload()["evaluation_id"] == str(evaluation.id)
    assert rectification.revoke_on_failure  # Jiaozuo: 整改不合格的取消首席信息官任命

    with pytest.raises(DomainError) as refused:
        rectification.record_outcome(FAILED, " ", "bureau", AT)
    assert refused.value.field == "notes"
    assert rectification.record_outcome(FAILED, "复查仍不达标", "bureau", AT) is True
    assert "复查仍不达标" in rectification.revocation_reason()
    with pytest.raises(StateConflict):
        rectification.record_outcome("passed", None, "bureau", AT)


def test_a_low_total_lists_the_deductions_and_helan_does_not_revoke_on_failure() -> None:
    helan = parse_policy(policy_document("helan-2024")).evaluation
    evaluation = submitted(new_evaluation(policy=helan))
    scores = full_marks(evaluation, **{"3.1": 0, "3.2": 0, "3.3": 0, "3.4": 0, "4.1": 0})
    for n in (4, 5, 6, 7, 8):
        scores[n]["deduction_reason"] = "未开展"
    evaluation.enter_verification(scores, [], "bureau", AT)
    rectification = evaluation.finalise(helan, 90, "bureau", AT)
    assert (evaluation.grade, evaluation.verified_total) == ("不合格", 50)
    assert rectification is not None
    assert rectification.reason.startswith("测评不合格（核查得分 50/100）；信息技术与教育教学融合：未开展")
    assert rectification.revoke_on_failure is False
    assert rectification.record_outcome(FAILED, "仍未开展", "bureau", AT) is False


def test_no_rectification_where_the_policy_orders_none() -> None:
    policy = EvaluationPolicy(grades=("优秀", "合格", "不合格"), cadences=jiaozuo().cadences, on_unqualified=None)
    evaluation = submitted(new_evaluation(policy=policy))
    evaluation.enter_verification(
        full_marks(evaluation), [{"code": "V2", "triggered": True, "reason": "违规采集学生信息"}], "b", AT
    )
    assert evaluation.finalise(policy, 90, "bureau", AT) is None and evaluation.grade == "不合格"


def test_a_score_or_veto_naming_an_unknown_code_or_one_given_twice_is_refused_by_name() -> None:
    """The self-assessment's and the verification's lists follow one rule: each entry names a code of the sheet
    (a scored indicator, a veto item 一票否决), each code once; the message says which."""
    evaluation = submitted(new_evaluation())
    scores = full_marks(evaluation)
    scores += [{"code": "9.9", "score": 1}, {"code": scores[0]["code"], "score": 1}, {"code": ["1.1"], "score": 1}]
    vetoes = [
        {"code": "V1", "triggered": False},
        {"code": "V1", "triggered": False},
        {"code": "1.1", "triggered": False},
    ]

    with pytest.raises(Invalid) as refused:
        evaluation.enter_verification(scores, vetoes, "bureau", AT)

    n = len(scores) - 3
    assert refused.value.errors == [
        (f"scores.{n}.code", "'9.9' is not a scored indicator of this sheet"),
        (f"scores.{n + 1}.code", f"{scores[0]['code']} is given twice"),
        (f"scores.{n + 2}.code", "['1.1'] is not a scored indicator of this sheet"),
        ("vetoes.1.code", "V1 is given twice"),
        ("vetoes.2.code", "'1.1' is not a veto item (一票否决) of this sheet"),
    ]
