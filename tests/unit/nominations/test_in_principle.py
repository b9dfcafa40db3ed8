"""Issue 17 item 8, "in principle" is not "must": Helan 「原则上由学校法定代表人担任」 and Yichun
「CIO一般由以下人员担任」 are warnings. The form declares the field where the school states its reason; with the
reason the nomination is eligible and the rule is flagged (warnings); without it, it is not."""

from __future__ import annotations

import copy

import pytest
from nominations.adapters.policies import PolicyCatalog
from nominations.domain.policy import Facts, Policy, PolicyError

YICHUN_FORM = {
    "post_kind": "other",
    "political_status": "中共党员",
    "professional_title_grade": "正高级",
    "admin_rank": "县处级",
    "years_at_university": 12,
}


@pytest.fixture(scope="module")
def catalog() -> PolicyCatalog:
    return PolicyCatalog.load()


def test_原则上由学校法定代表人担任_a_stated_reason_makes_it_a_warning_not_a_block(catalog: PolicyCatalog) -> None:
    helan = catalog.get("helan-2024")
    reason = "法定代表人长期外派支教，由分管信息化的副校长担任"
    result = helan.evaluate(Facts({"is_legal_representative": False, "exception_reason": reason}))
    assert result.eligible and result.reasons == ()
    assert [(w.rule, w.exception_reason) for w in result.warnings] == [("legal_representative", reason)]
    assert helan.evaluate(Facts({"is_legal_representative": True})).warnings == ()


def test_原则上由学校法定代表人担任_without_a_reason_it_blocks_and_asks_for_one(catalog: PolicyCatalog) -> None:
    helan = catalog.get("helan-2024")
    result = helan.evaluate(Facts({"is_legal_representative": False, "exception_reason": "  "}))
    assert not result.eligible and [r.rule for r in result.reasons] == ["legal_representative"]
    assert any("未由学校法定代表人担任的理由" in d for d in result.reasons[0].details_zh)


def test_原则上由学校法定代表人担任_the_form_declares_the_reason_field(catalog: PolicyCatalog) -> None:
    """The portal renders forms from the policy: the reason is a declared field, required when it applies."""
    helan = catalog.get("helan-2024")
    spec = helan.field_named("exception_reason")
    assert spec is not None and spec.label_zh == "未由学校法定代表人担任的理由"
    problems = helan.validate_form({"is_legal_representative": False}, complete=True)
    assert "form.exception_reason" in {p.field for p in problems}
    problems = helan.validate_form({"is_legal_representative": True}, complete=True)
    assert "form.exception_reason" not in {p.field for p in problems}


def test_CIO一般由以下人员担任_another_post_with_a_reason_is_flagged_not_refused(catalog: PolicyCatalog) -> None:
    yichun = catalog.get("yichun-university")
    form = {**YICHUN_FORM, "exception_reason": "现代教育技术与信息中心主任，主持智慧校园建设八年"}
    result = yichun.evaluate(Facts(form))
    assert "candidate_post" not in [r.rule for r in result.reasons]
    assert [w.rule for w in result.warnings] == ["candidate_post"]
    # the 须 rules stay rules: a non-member is refused whatever the reason
    refused = yichun.evaluate(Facts({**form, "political_status": "群众"}))
    assert [r.rule for r in refused.reasons] == ["party_member"]


def test_a_warning_rule_must_name_the_field_for_the_reason(catalog: PolicyCatalog) -> None:
    document = copy.deepcopy(catalog.get("helan-2024").document)
    del document["eligibility"][0]["exception_field"]
    with pytest.raises(PolicyError, match="exception_field"):
        Policy.from_document(document)
    document["eligibility"][0]["exception_field"] = "no_such_field"
    with pytest.raises(PolicyError, match="exception_field"):
        Policy.from_document(document)
