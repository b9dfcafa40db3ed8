"""聘任文件 / 聘书 and the term chosen at appointment: 贺兰 「由教育体育局发文聘任」「每届任期一般不少于3年」,
宜春学院 「正式聘任并公布」."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from approvals.adapters.letter_pdf import render_html
from approvals.adapters.policy_snapshot import parse_policy
from approvals.domain.letters import letter_of, term_years
from approvals.domain.model import Appointment, DomainError, term_length

from tests.unit.approvals.nominations_events import policy_document

AT = dt.datetime(2024, 8, 20, 9, tzinfo=dt.UTC)
HELAN = parse_policy(policy_document("helan-2024"))
JIAOZUO = parse_policy(policy_document("jiaozuo-2022"))
YICHUN = parse_policy(policy_document("yichun-university"))


def appointment(policy: Any, term_years_chosen: int | None = None, term_number: int = 1) -> Appointment:
    return Appointment(
        person_user_id="u1", person_name="王五", org_code="6401220001", org_path="/6401/640122/6401220001",
        term_number=term_number, starts_on=dt.date(2024, 9, 1), term=policy.term,
        training_requirement=policy.training_requirement, document_number="贺教体发〔2024〕12号", round_id=None,
        nomination_id=None, case_id=None, policy={}, policy_id=policy.id, appointing_role="county_reviewer",
        appointing_org_path="/6401/640122", term_years=term_years_chosen, at=AT,
    )  # fmt: skip


def test_每届任期一般不少于3年_helan_chooses_the_term_at_appointment_at_least_three_years() -> None:
    assert HELAN.term.length_chosen_at_appointment
    assert term_length(HELAN.term, None) == 3  # not chosen: the policy's length
    assert term_length(HELAN.term, 5) == 5
    five = appointment(HELAN, 5)
    assert (five.starts_on, five.ends_on) == (dt.date(2024, 9, 1), dt.date(2029, 8, 31))
    with pytest.raises(DomainError) as short:
        term_length(HELAN.term, 2)
    assert short.value.field == "term_years"


def test_任期3年_yichun_and_jiaozuo_do_not_let_the_term_be_chosen() -> None:
    """宜春学院 「任期3年」 is fixed; Jiaozuo sets no term at all."""
    for policy in (YICHUN, JIAOZUO):
        assert not policy.term.length_chosen_at_appointment
        with pytest.raises(DomainError) as chosen:
            term_length(policy.term, 4)
        assert chosen.value.field == "term_years"
    assert term_length(YICHUN.term, None) == 3 and term_length(JIAOZUO.term, None) is None


def test_由教育体育局发文聘任_the_letter_names_the_document_the_term_and_the_issuing_body() -> None:
    letter = letter_of(appointment(HELAN, 5), school_name="贺兰县第一小学", issuer_name="贺兰县教育体育局")
    assert letter.document_number == "贺教体发〔2024〕12号"
    assert letter.title == "关于聘任王五同志为贺兰县第一小学首席信息官的通知"
    assert letter.term_text == "任期5年，自2024年9月1日至2029年8月31日"
    assert letter.term_text in letter.body and letter.term_text in letter.certificate_text
    assert letter.issued_on == "2024年8月20日"
    html = render_html(letter)
    for expected in ("贺兰县教育体育局文件", "贺教体发〔2024〕12号", "聘书", "任期5年"):
        assert expected in html, expected


def test_an_open_ended_appointment_lasts_until_it_is_ended_and_a_second_term_says_so() -> None:
    jiaozuo = letter_of(appointment(JIAOZUO), school_name="解放区第一实验小学", issuer_name="焦作市教育局")
    assert jiaozuo.term_text == "自2024年9月1日起，至免聘或取消任命止"
    second = letter_of(appointment(YICHUN, term_number=2), school_name="宜春学院", issuer_name="宜春学院")
    assert "（第2届）" in second.certificate_text and "任期3年" in second.term_text
    assert term_years(dt.date(2024, 2, 29), dt.date(2027, 2, 27)) is None  # not whole years: no count given


def test_the_letter_escapes_what_people_typed() -> None:
    odd = letter_of(appointment(HELAN), school_name="<b>一小</b>", issuer_name="贺兰县教育体育局")
    assert "<b>一小</b>" not in render_html(odd) and "&lt;b&gt;" in render_html(odd)
