"""The three shipped policies, the schema check of a policy file, and each eligibility rule both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from nominations.adapters.policies import POLICY_DIR, PolicyCatalog, PolicyLoadError, parse_policy
from nominations.domain.policy import Facts, Policy


@pytest.fixture(scope="module")
def catalog() -> PolicyCatalog:
    return PolicyCatalog.load()


def _raw(policy_id: str) -> dict[str, Any]:
    data = yaml.safe_load((POLICY_DIR / f"{policy_id}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_three_policies_load_with_their_chains(catalog: PolicyCatalog) -> None:
    assert [p.id for p in catalog.all()] == ["helan-2024", "jiaozuo-2022", "yichun-university"]
    jiaozuo, helan, yichun = (catalog.get(i) for i in ("jiaozuo-2022", "helan-2024", "yichun-university"))
    assert jiaozuo and helan and yichun
    assert [(s.role, s.org_level) for s in jiaozuo.stages] == [
        ("school_admin", "school"),
        ("county_reviewer", "county"),
        ("city_reviewer", "city"),
    ]
    assert [s.org_level for s in helan.stages] == ["school", "county"]
    assert [s.role for s in yichun.stages] == ["university_president", "university_office_meeting", "party_committee"]
    assert yichun.document["term"] == {
        "length_years": 3,
        "max_consecutive_terms": 2,
        "renewable": True,
        "change_requires_refiling": False,
        "renewal": "by_nomination",  # 连聘 through the three bodies again (issue 17.5)
    }
    assert helan.document["training"]["requirement"] == {"centralized_per_year": 1}
    assert helan.document["term"]["change_requires_refiling"] is True
    achievements = jiaozuo.field_named("work_achievements")
    assert achievements is not None and achievements.max_length == 2000
    assert [c["every_years"] for c in jiaozuo.document["evaluation"]["cadences"]] == [1, 2]


def test_a_malformed_policy_is_rejected_naming_the_place() -> None:
    raw = _raw("jiaozuo-2022")
    raw["approval"]["stages"][1]["due_days"] = "ten"
    with pytest.raises(PolicyLoadError, match=r"(?s)broken\.yaml.*approval/stages/1/due_days.*'ten' is not of type"):
        parse_policy(yaml.safe_dump(raw, allow_unicode=True), origin="broken.yaml")


def test_a_rule_naming_an_unknown_field_is_rejected() -> None:
    raw = _raw("helan-2024")
    raw["eligibility"][0]["check"] = {"field_true": "is_principal"}
    with pytest.raises(PolicyLoadError, match="unknown form field 'is_principal'"):
        parse_policy(yaml.safe_dump(raw, allow_unicode=True), origin="helan.yaml")


def test_a_fourth_region_needs_only_a_yaml_file(tmp_path: Path) -> None:
    raw = _raw("helan-2024")
    raw["id"] = "another-county-2025"
    (tmp_path / "another-county-2025.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    loaded = PolicyCatalog.load(tmp_path)
    assert [p.id for p in loaded.all()] == ["another-county-2025"]


def test_a_broken_file_stops_loading_the_catalog_naming_the_file(tmp_path: Path) -> None:
    """What bootstrap() does at start-up: one bad file among good ones and nothing loads."""
    for good in ("helan-2024", "jiaozuo-2022"):
        (tmp_path / f"{good}.yaml").write_text(yaml.safe_dump(_raw(good), allow_unicode=True), encoding="utf-8")
    broken = _raw("yichun-university")
    del broken["approval"]
    broken["form"]["fields"][0]["type"] = "photo"
    (tmp_path / "yichun-university.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyLoadError) as refused:
        PolicyCatalog.load(tmp_path)
    message = str(refused.value)
    assert message.startswith("yichun-university.yaml: does not match the policy schema")
    assert "'approval' is a required property" in message
    assert "at form/fields/0/type: 'photo' is not one of" in message


def test_a_file_that_is_not_yaml_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyLoadError, match=r"bad\.yaml: not valid YAML"):
        PolicyCatalog.load(tmp_path)


def test_file_name_must_match_the_id(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(_raw("helan-2024"), allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyLoadError, match="must match the file name"):
        PolicyCatalog.load(tmp_path)


# -- field limits --------------------------------------------------------------------------------
def test_work_achievements_at_most_2000_characters(catalog: PolicyCatalog) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    assert policy.validate_form({"work_achievements": "事" * 2000}, complete=False) == []
    problems = policy.validate_form({"work_achievements": "事" * 2001}, complete=False)
    assert [p.field for p in problems] == ["form.work_achievements"]
    assert "2000" in problems[0].message


def test_honours_are_a_list_of_award_date_body_remarks(catalog: PolicyCatalog) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    good = [{"award_name": "市级优秀教师", "awarded_on": "2021-09-10", "granted_by": "焦作市教育局", "remarks": ""}]
    assert policy.validate_form({"honours": good}, complete=False) == []
    bad = [{"award_name": "x", "awarded_on": "2021-13-40", "granted_by": ""}, "nope"]
    fields = sorted(p.field for p in policy.validate_form({"honours": bad}, complete=False))
    assert fields == ["form.honours.0.awarded_on", "form.honours.0.granted_by", "form.honours.1"]


def test_types_choices_and_required_fields(catalog: PolicyCatalog) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    problems = policy.validate_form(
        {"teaching_years": "ten", "post_kind": "boss", "mobile": "call me", "nickname": "x"}, complete=False
    )
    assert sorted(p.field for p in problems) == [
        "form.mobile",
        "form.nickname",
        "form.post_kind",
        "form.teaching_years",
    ]
    required = {p.field for p in policy.validate_form({"post_kind": "deputy"}, complete=True)}
    assert {"form.name", "form.work_achievements", "form.authorization_record"} <= required
    assert "form.authorization_record" not in {
        p.field for p in policy.validate_form({"post_kind": "principal"}, complete=True)
    }


# -- eligibility ---------------------------------------------------------------------------------
def _rules(policy: Policy, facts: Facts) -> list[str]:
    return [r.rule for r in policy.evaluate(facts).reasons]


JIAOZUO_PRINCIPAL = {"post_kind": "principal", "years_in_it_management": 0}


def test_jiaozuo_cio_certificate_qualifies(catalog: PolicyCatalog) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    assert policy.evaluate(Facts(JIAOZUO_PRINCIPAL, certificates=(("cio", "county"),))).eligible


def test_jiaozuo_without_certificates_is_ineligible_with_reasons(catalog: PolicyCatalog) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    result = policy.evaluate(Facts(JIAOZUO_PRINCIPAL, certificates=(("cio", "school"),)))
    assert not result.eligible
    (reason,) = result.reasons
    assert reason.rule == "qualification"
    assert "informatization certificate + 2 years of IT management not met" in reason.message_en
    assert "首席信息官培训合格证" in reason.message_zh
    assert "no cio certificate at national/provincial/city/county level" in reason.details_en


def test_jiaozuo_informatization_certificate_plus_two_years_qualifies(catalog: PolicyCatalog) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    form = {"post_kind": "principal", "years_in_it_management": 2}
    assert policy.evaluate(Facts(form, certificates=(("informatization", "city"),))).eligible


def test_jiaozuo_informatization_certificate_needs_two_years_and_city_level(catalog: PolicyCatalog) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    one_year = Facts(
        {"post_kind": "principal", "years_in_it_management": 1}, certificates=(("informatization", "city"),)
    )
    assert _rules(policy, one_year) == ["qualification"]
    county_level = Facts(
        {"post_kind": "principal", "years_in_it_management": 5}, certificates=(("informatization", "county"),)
    )
    assert _rules(policy, county_level) == ["qualification"]


def test_jiaozuo_deputy_needs_leadership_authorization(catalog: PolicyCatalog) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    certs = (("cio", "provincial"),)
    deputy = {"post_kind": "deputy", "years_in_it_management": 3}
    assert _rules(policy, Facts(deputy, certs)) == ["deputy_authorization"]
    authorized = {**deputy, "leadership_authorization": True, "authorization_record": "2022-09-01 班子会议纪要第5号"}
    assert policy.evaluate(Facts(authorized, certs)).eligible


@pytest.mark.parametrize(
    ("authorization", "record"),
    [(False, "2022-09-01 班子会议纪要第5号"), (True, ""), (True, None)],
    ids=["record-without-authorization", "authorization-with-empty-record", "authorization-without-record"],
)
def test_jiaozuo_deputy_needs_both_the_authorization_and_its_record(
    catalog: PolicyCatalog, authorization: bool, record: str | None
) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    form: dict[str, Any] = {"post_kind": "deputy", "years_in_it_management": 3}
    form["leadership_authorization"] = authorization
    if record is not None:
        form["authorization_record"] = record
    result = policy.evaluate(Facts(form, (("cio", "provincial"),)))
    assert [r.rule for r in result.reasons] == ["deputy_authorization"]
    assert "班子研究授权" in result.reasons[0].message_zh and "leadership team" in result.reasons[0].message_en


def test_jiaozuo_principal_needs_no_authorization(catalog: PolicyCatalog) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    result = policy.evaluate(Facts({"post_kind": "principal", "years_in_it_management": 0}, (("cio", "national"),)))
    assert result.eligible and "deputy_authorization" not in result.checked_rules


def test_jiaozuo_other_posts_are_not_candidates(catalog: PolicyCatalog) -> None:
    policy = catalog.get("jiaozuo-2022")
    assert policy is not None
    assert _rules(policy, Facts({"post_kind": "other"}, (("cio", "city"),))) == ["candidate_post"]


def test_helan_legal_representative_rule(catalog: PolicyCatalog) -> None:
    policy = catalog.get("helan-2024")
    assert policy is not None
    assert policy.evaluate(Facts({"is_legal_representative": True})).eligible
    result = policy.evaluate(Facts({"is_legal_representative": False}))
    assert [r.rule for r in result.reasons] == ["legal_representative"]
    assert "法定代表人" in result.reasons[0].message_zh


YICHUN_OK = {
    "post_kind": "vice_president",
    "political_status": "中共党员",
    "professional_title_grade": "副高级",
    "admin_rank": "县处级",
    "years_at_university": 3,
}


def test_yichun_eligible_candidate(catalog: PolicyCatalog) -> None:
    policy = catalog.get("yichun-university")
    assert policy is not None
    assert policy.evaluate(Facts(YICHUN_OK)).eligible
    assert policy.evaluate(Facts({**YICHUN_OK, "admin_rank": "无", "professional_title_grade": "正高级"})).eligible


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"post_kind": "other"}, "candidate_post"),
        ({"political_status": "群众"}, "party_member"),
        ({"admin_rank": "乡科级", "professional_title_grade": "副高级"}, "title_or_rank"),
        ({"years_at_university": 2}, "years_at_university"),
    ],
)
def test_yichun_each_rule_refuses(catalog: PolicyCatalog, change: dict[str, Any], rule: str) -> None:
    policy = catalog.get("yichun-university")
    assert policy is not None
    assert _rules(policy, Facts({**YICHUN_OK, **change})) == [rule]


def test_yichun_at_most_two_consecutive_terms(catalog: PolicyCatalog) -> None:
    policy = catalog.get("yichun-university")
    assert policy is not None
    assert policy.evaluate(Facts(YICHUN_OK, consecutive_terms=1)).eligible
    result = policy.evaluate(Facts(YICHUN_OK, consecutive_terms=2))
    assert [r.rule for r in result.reasons] == ["term_limit"]
    assert "already served 2 consecutive terms" in result.reasons[0].details_en[0]


def test_a_policy_says_which_facts_its_rules_check(catalog: PolicyCatalog) -> None:
    """What a submission reads: Jiaozuo's rules look at certificates and never at past terms, 宜春学院's at terms."""
    jiaozuo, yichun = catalog.get("jiaozuo-2022"), catalog.get("yichun-university")
    assert jiaozuo is not None and yichun is not None
    assert jiaozuo.checks("certificate") and not jiaozuo.checks("within_term_limit")
    assert yichun.checks("within_term_limit")
