"""The governance domain without I/O: the duplication check, a plan's life, the registry's overview."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from governance.domain.events import PlanAccepted, PlanDecided, PlanResubmitted, PlanSubmitted
from governance.domain.model import (
    AcceptanceKind,
    ApplicationSystem,
    CapabilityKind,
    CatalogueEntry,
    Declaration,
    District,
    DomainError,
    Integration,
    OrgNode,
    PlanContent,
    PlanStatus,
    ProjectPlan,
    StateConflict,
    coverage,
    district_of,
    duplication_flags,
    normalized,
)

AT = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)


def entry(code: str, kind: CapabilityKind, name: str, *keywords: str, active: bool = True) -> CatalogueEntry:
    made = CatalogueEntry(
        code=code, kind=kind, name=name, keywords=keywords, description=None, org_path="/1503", by="city", at=AT
    )
    made.active = active
    return made


CATALOGUE = [
    entry("unified-identity", CapabilityKind.FUNCTION, "统一身份认证", "单点登录"),
    entry("data-center", CapabilityKind.DATA_CENTER, "市级教育数据中心", "数据中心"),
    entry("teacher-data", CapabilityKind.DATA, "教师基础数据", "教师信息"),
    entry("retired", CapabilityKind.FUNCTION, "智慧课堂", active=False),
]


def content(**overrides: Any) -> PlanContent:
    values: dict[str, Any] = {
        "title": "海勃湾区智慧校园建设项目",
        "budget": decimal.Decimal("1200000.00"),
        "funding_source": "区级财政预算",
        "functions": ["智慧课堂", "家校互通"],
        "data_collected": ["学生作业数据"],
        "connects_to": ["市级教育数字基座"],
        "builds_data_center": False,
        "starts_on": dt.date(2024, 3, 1),
        "ends_on": dt.date(2024, 12, 31),
        "milestones": [{"name": "完成招标", "due_on": dt.date(2024, 4, 30)}],
        "attachments": [],
        **overrides,
    }
    return PlanContent(**values)


def plan(flags: list[dict[str, Any]] | None = None) -> ProjectPlan:
    return ProjectPlan(
        unit_org_code="150302",
        unit_org_path="/1503/150302",
        unit_name="海勃湾区教育局",
        content=content(),
        flags=flags or [],
        by="district",
        at=AT,
    )


# -- the duplication check ----------------------------------------------------------------------------
def test_names_compare_ignoring_width_case_and_punctuation() -> None:
    assert normalized("统一 身份认证。") == normalized("统一身份认证") and normalized("ＳＳＯ") == "sso"


def test_a_plan_building_its_own_data_center_is_flagged() -> None:
    """乌海: 「各区、各校不得规划建设数据中心」."""
    flags = duplication_flags(Declaration(["区级数据中心"], [], True), CATALOGUE)
    assert flags == [
        {
            "code": "data-center",
            "kind": "data_center",
            "name": "市级教育数据中心",
            "matched": ["builds_data_center", "区级数据中心"],
        }
    ]


def test_a_function_the_city_platform_has_is_flagged_by_its_name_or_keyword() -> None:
    """乌海: 「不得规划建设…与市级平台系统功能相同的应用系统」."""
    flags = duplication_flags(Declaration(["区级单点登录门户", "家校互通"], [], False), CATALOGUE)
    assert [(f["code"], f["matched"]) for f in flags] == [("unified-identity", ["区级单点登录门户"])]


def test_collecting_data_the_city_already_holds_is_flagged() -> None:
    """乌海: 「避免重复采集」 teachers' basic data."""
    flags = duplication_flags(Declaration([], ["教师基础数据", "学生作业"], False), CATALOGUE)
    assert [f["code"] for f in flags] == ["teacher-data"]


def test_an_inactive_catalogue_entry_flags_nothing() -> None:
    assert duplication_flags(Declaration(["智慧课堂"], [], False), CATALOGUE) == []


# -- a plan's life ------------------------------------------------------------------------------------
def test_a_schedule_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        content(ends_on=dt.date(2024, 1, 1)).check()
    assert refused.value.field == "ends_on"


def test_a_flagged_plan_is_sent_only_with_the_units_reason() -> None:
    flagged = plan([{"code": "unified-identity", "kind": "function", "name": "统一身份认证", "matched": ["x"]}])
    with pytest.raises(DomainError) as refused:
        flagged.submit("  ", "district", AT)
    assert refused.value.field == "justification"
    flagged.submit("市级平台尚未覆盖教师端", "district", AT)
    assert flagged.status == PlanStatus.IN_REVIEW and flagged.justification == "市级平台尚未覆盖教师端"
    [sent] = flagged.events
    assert isinstance(sent, PlanSubmitted) and sent.flags[0]["code"] == "unified-identity"


def review(p: ProjectPlan, task: str, decision: str, outcome: str, opinion: str | None = None) -> bool:
    return p.apply_review(
        case_id="c1",
        task_id=task,
        stage_name=task,
        stage_key=task,
        decision=decision,
        opinion=opinion,
        outcome=outcome,
        decided_by="city",
        at=AT,
    )


def test_a_returned_plan_is_revised_and_resubmitted_as_the_next_revision() -> None:
    p = plan()
    p.submit(None, "district", AT)
    assert review(p, "t1", "return", "returned", "预算不全")
    assert p.status == PlanStatus.RETURNED
    p.revise(content(budget=decimal.Decimal("900000")), [], AT)
    p.submit(None, "district", AT)
    assert p.revision == 2 and isinstance(p.events[-1], PlanResubmitted)


def test_a_plan_under_review_cannot_be_changed() -> None:
    p = plan()
    p.submit(None, "district", AT)
    with pytest.raises(StateConflict):
        p.revise(content(), [], AT)


def test_the_deciding_stages_opinion_is_the_city_bureaus_advice_and_a_decision_applies_once() -> None:
    """乌海: 「审核评估并提出合理化建议」."""
    p = plan()
    p.submit(None, "district", AT)
    assert review(p, "t1", "approve", "in_review", "同意")
    assert review(p, "t3", "approve", "approved", "建议复用市级统一身份认证")
    assert not review(p, "t3", "approve", "approved", "建议复用市级统一身份认证")
    assert p.status == PlanStatus.APPROVED and p.suggestions == "建议复用市级统一身份认证"
    assert [type(e) for e in p.events] == [PlanSubmitted, PlanDecided]


def test_acceptances_come_after_approval_with_evidence_and_completion_closes_the_plan() -> None:
    """宜春学院: 「阶段性验收和竣工验收」."""
    p = plan()
    evidence = [{"name": "验收报告", "url": "https://files.example.cn/a.pdf"}]
    with pytest.raises(StateConflict):
        p.accept(AcceptanceKind.STAGE, accepted_on=AT.date(), evidence=evidence, opinion=None, by="city", at=AT)
    p.submit(None, "district", AT)
    review(p, "t3", "approve", "approved", "同意")
    with pytest.raises(DomainError) as refused:
        p.accept(AcceptanceKind.STAGE, accepted_on=AT.date(), evidence=[], opinion=None, by="city", at=AT)
    assert refused.value.field == "evidence"
    p.accept(AcceptanceKind.STAGE, accepted_on=dt.date(2024, 6, 30), evidence=evidence, opinion=None, by="c", at=AT)
    assert p.status == PlanStatus.APPROVED
    p.accept(
        AcceptanceKind.COMPLETION, accepted_on=dt.date(2024, 12, 20), evidence=evidence, opinion="通过", by="c", at=AT
    )
    assert p.status == PlanStatus.COMPLETED and isinstance(p.events[-1], PlanAccepted)


# -- the registry -----------------------------------------------------------------------------------
HAIBOWAN = District("150302", "/1503/150302", "海勃湾区教育局")


def system(
    name: str, integration: Integration, target: dt.date | None, district: District = HAIBOWAN
) -> ApplicationSystem:
    return ApplicationSystem(
        org_code="1503020001",
        org_path=district.path + "/1503020001",
        org_name="海勃湾区第一中学",
        district=district,
        name=name,
        owner="信息中心",
        purpose="教学",
        integration=integration,
        target_date=target,
        by="school",
        at=AT,
    )


def test_connected_means_unified_identity_and_single_sign_on() -> None:
    """乌海: 「实现用户统一身份认证和单点登录」 — data exchange alone does not connect a system."""
    assert Integration(True, True, False).connected
    assert not Integration(True, False, True).connected


def test_an_unconnected_system_past_its_target_date_is_overdue() -> None:
    late = system("校园安防", Integration(True, False, False), dt.date(2024, 3, 1))
    assert late.overdue(dt.date(2024, 3, 2)) and not late.overdue(dt.date(2024, 3, 1))
    assert not system("无期限", Integration(False, False, False), None).overdue(dt.date(2030, 1, 1))


def test_the_overview_gives_the_connected_share_per_district() -> None:
    other = District("150303", "/1503/150303", "海南区教育局")
    systems = [
        system("a", Integration(True, True, False), None),
        system("b", Integration(False, False, False), dt.date(2024, 1, 1)),
        system("c", Integration(False, False, False), None),
        system("d", Integration(True, True, True), None, other),
    ]
    lines = coverage(systems, dt.date(2024, 3, 1))
    assert [(c.district_code, c.systems, c.connected, c.connected_share, c.overdue) for c in lines] == [
        ("150302", 3, 1, 0.3333, 1),
        ("150303", 1, 1, 1.0, 0),
    ]


def test_integration_changes_are_announced_and_other_edits_are_not() -> None:
    s = system("a", Integration(False, False, False), None)
    s.events.clear()
    s.update(name="a2", owner="o", purpose="p", integration=Integration(False, False, False), target_date=None, at=AT)
    assert s.events == []
    s.update(name="a2", owner="o", purpose="p", integration=Integration(True, True, False), target_date=None, at=AT)
    assert s.events[0].connected is True and s.connected_at == AT


def test_a_school_counts_under_its_district_and_a_city_school_under_the_city() -> None:
    city = OrgNode("1503", "乌海市教育局", "city", "/1503")
    county = OrgNode("150302", "海勃湾区教育局", "county", "/1503/150302")
    school = OrgNode("1503020001", "海勃湾区第一中学", "school", "/1503/150302/1503020001")
    city_school = OrgNode("1503000001", "乌海市第一中学", "school", "/1503/1503000001")
    assert district_of(school, [city, county, school]).code == "150302"
    assert district_of(city_school, [city, city_school]).code == "1503"
    assert district_of(city_school, []).code == "1503000001"
