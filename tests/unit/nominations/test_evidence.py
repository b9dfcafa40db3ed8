"""证明材料 on the 推荐表 as rules: seed 001 「经学校班子研究授权，由单位副职领导担任」 and 「取得合格证者」."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from nominations.adapters.policies import PolicyCatalog
from nominations.domain.model import DomainError, Nomination, Round, sniff_evidence
from nominations.service_layer.drafts import prefilled_profile

CATALOG = PolicyCatalog.load()
NOW = dt.datetime(2022, 9, 1, 8, tzinfo=dt.UTC)


def jiaozuo_nomination() -> Nomination:
    policy = CATALOG.get("jiaozuo-2022")
    assert policy is not None
    round_ = Round.open(
        title="2022",
        policy=policy,
        issuing_org_code="4108",
        issuing_org_path="/4108",
        deadline=NOW + dt.timedelta(days=30),
        created_by="city",
        now=NOW,
    )
    return Nomination.start(
        round_=round_,
        school_org_code="4108020001",
        school_org_path="/4108/410802/4108020001",
        school_name="解放区第一实验小学",
        actor="school",
        now=NOW,
    )


def test_经学校班子研究授权_a_deputy_needs_the_minutes_a_principal_does_not() -> None:
    policy = CATALOG.get("jiaozuo-2022")
    assert policy is not None
    assert {e["kind"] for e in policy.evidence} == {"leadership_minutes", "certificate_scan"}
    [problem] = policy.missing_evidence({"post_kind": "deputy"}, set())
    assert problem.field == "evidence.leadership_minutes" and "班子研究授权会议纪要" in problem.message
    assert policy.missing_evidence({"post_kind": "deputy"}, {"leadership_minutes"}) == []
    assert policy.missing_evidence({"post_kind": "principal"}, set()) == []
    helan = CATALOG.get("helan-2024")
    assert helan is not None and helan.evidence == []


def test_evidence_is_of_a_kind_the_form_takes_and_is_a_pdf_or_an_image() -> None:
    policy = CATALOG.get("jiaozuo-2022")
    assert policy is not None
    nomination = jiaozuo_nomination()
    nomination.attested_at = NOW
    nomination.attach_evidence(policy, "leadership_minutes", size=100, sha256="x", actor="sa", now=NOW)
    assert nomination.attested_at is None  # new content needs a new signature
    with pytest.raises(DomainError) as unknown:
        nomination.attach_evidence(policy, "diploma", size=100, sha256="x", actor="sa", now=NOW)
    assert unknown.value.field == "kind"
    assert sniff_evidence(b"%PDF-1.7") == "application/pdf"
    assert sniff_evidence(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff_evidence(b"MZ\x90") is None


def test_取得合格证者_a_claimed_certificate_goes_to_training_to_confirm() -> None:
    nomination = jiaozuo_nomination()
    claim = {
        "number": "HN-1",
        "kind": "cio",
        "level": "provincial",
        "issuer": "河南省教育厅",
        "issued_on": "2021-07-01",
    }
    with pytest.raises(DomainError) as nobody:
        nomination.claim_certificate(claim, actor="sa", now=NOW)
    assert nobody.value.field == "candidate_user_id"
    nomination.candidate_user_id = uuid.uuid4()
    nomination.candidate = {"display_name": "张三"}
    nomination.claim_certificate(claim, actor="sa", now=NOW)
    (event,) = nomination.events
    assert event.event_type == "nominations.certificate.claimed"
    assert (event.payload()["number"], event.payload()["person_name"]) == ("HN-1", "张三")
    assert nomination.certificate_claim is not None and nomination.certificate_claim["claim_id"] == event.claim_id


def test_取得合格证者_a_rejected_claim_shows_rejected_with_the_reason_until_the_school_claims_again() -> None:
    nomination = jiaozuo_nomination()
    nomination.candidate_user_id = uuid.uuid4()
    claim = {
        "number": "HN-1",
        "kind": "cio",
        "level": "provincial",
        "issuer": "河南省教育厅",
        "issued_on": "2021-07-01",
    }
    nomination.claim_certificate(claim, actor="sa", now=NOW)
    assert nomination.certificate_claim is not None
    first = nomination.certificate_claim["claim_id"]
    assert not nomination.reject_certificate_claim("another-claim", "编号不符", actor="ta", now=NOW)
    assert nomination.reject_certificate_claim(first, "培训记录中无此证书编号", actor="ta", now=NOW)
    assert nomination.certificate_claim["status"] == "rejected"
    assert nomination.certificate_claim["rejection_reason"] == "培训记录中无此证书编号"
    assert nomination.changes[-1].action == "certificate_claim_rejected"
    assert not nomination.reject_certificate_claim(first, "again", actor="ta", now=NOW)  # a redelivery: once
    nomination.claim_certificate({**claim, "number": "HN-2"}, actor="sa", now=NOW)
    assert "status" not in nomination.certificate_claim  # the new claim is pending again
    assert not nomination.reject_certificate_claim(first, "late", actor="ta", now=NOW)  # the old one's rejection


def test_避免重复采集_the_directorys_profile_is_prefilled_and_a_choice_only_when_it_is_one() -> None:
    """Helan's 政治面貌 is a choice: the directory's wording is taken when it is one of the choices."""
    helan = CATALOG.get("helan-2024")
    assert helan is not None
    round_ = Round.open(
        title="2024",
        policy=helan,
        issuing_org_code="640122",
        issuing_org_path="/640122",
        deadline=NOW + dt.timedelta(days=30),
        created_by="county",
        now=NOW,
    )
    nomination = Nomination.start(
        round_=round_,
        school_org_code="6401220001",
        school_org_path="/640122/6401220001",
        school_name="贺兰县第一小学",
        actor="school",
        now=NOW,
    )
    member = {
        "display_name": "王五",
        "political_status": "中共党员",
        "education": "本科",
        "administrative_post": "校长",
    }
    nomination.choose_candidate(helan, uuid.uuid4(), member, actor="sa", now=NOW)
    assert (nomination.form["political_status"], nomination.form["highest_education"], nomination.form["position"]) == (
        "中共党员",
        "本科",
        "校长",
    )
    odd = {"display_name": "王五", "political_status": "党员"}  # not one of the form's choices
    nomination.choose_candidate(helan, uuid.uuid4(), odd, actor="sa", now=NOW)
    nomination.form.pop("political_status", None)
    nomination.choose_candidate(helan, uuid.uuid4(), odd, actor="sa", now=NOW)
    assert "political_status" not in nomination.form
    nomination.fill(helan, {"political_status": "群众"}, actor="sa", now=NOW)  # the school chooses
    assert nomination.form["political_status"] == "群众"


def test_教龄_a_form_filled_a_year_later_shows_one_more_year() -> None:
    """The directory keeps the year teaching began; the form counts 教龄 to the day it is filled."""
    profile = {"education": "本科", "teaching_since": 2004, "teaching_years": 22, "shoe_size": 42}
    assert prefilled_profile(profile, dt.date(2026, 9, 1)) == {"education": "本科", "teaching_years": 22}
    assert prefilled_profile(profile, dt.date(2027, 9, 1))["teaching_years"] == 23
    # a projection row of before (the count only) is taken as it is
    assert prefilled_profile({"teaching_years": 22}, dt.date(2027, 9, 1)) == {"teaching_years": 22}
