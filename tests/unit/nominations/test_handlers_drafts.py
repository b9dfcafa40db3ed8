"""The school's 推荐表 through the draft handlers, against the fake unit of work: starting it with the candidate
prefilled, one live form per school and round, who may be the candidate, and edits against the version read."""

from __future__ import annotations

import uuid

import pytest
from nominations.domain.model import Status
from nominations.service_layer import drafts

from shared.errors import Conflict, PreconditionFailed, Unprocessable
from tests.unit.nominations.fakes import CANDIDATE, SCHOOL, principal, version_is
from tests.unit.nominations.steps import JIAOZUO_FORM, NOW, open_round, ready, start, with_directory


def test_the_school_starts_its_form_with_the_candidate_prefilled_from_the_directory() -> None:
    """避免重复采集: name, gender, date of birth, mobile and the unit's name come from the directory."""
    uow = with_directory()
    nomination = start(uow, open_round(uow))
    assert nomination.status == Status.DRAFT and nomination.candidate_user_id == CANDIDATE
    assert nomination.form["name"] == "张三" and nomination.form["unit_name"] == "解放区第一实验小学"
    assert nomination.form["mobile"] == "13800008000" and nomination.form["birth_date"] == "1980-05-01"
    assert [c.action for c in nomination.changes] == ["created", "candidate_chosen"]
    assert uow.nominations.items[nomination.id] is nomination


def test_a_school_has_one_live_form_per_round() -> None:
    uow = with_directory()
    round_ = open_round(uow)
    start(uow, round_)
    with pytest.raises(Conflict) as refused:
        start(uow, round_)
    assert refused.value.errors[0]["field"] == "school_org_code"
    assert len(uow.nominations.items) == 1


def test_the_candidate_must_be_one_of_the_school_s_people() -> None:
    """首席信息官（CIO）由学校主要负责人担任: someone of another school cannot be this school's candidate."""
    uow = with_directory()
    stranger = uuid.uuid4()
    uow.directory.add_user(stranger, "李四", "4108210001")
    with pytest.raises(Unprocessable) as refused:
        start(uow, open_round(uow), candidate_user_id=stranger)
    assert refused.value.errors[0]["field"] == "candidate_user_id"
    assert not uow.nominations.items


def test_an_edit_based_on_an_old_version_is_refused_and_changes_nothing() -> None:
    uow = with_directory()
    nomination = start(uow, open_round(uow))
    read_at = nomination.version
    ready(uow, nomination)
    form_before = dict(nomination.form)
    with pytest.raises(PreconditionFailed):
        drafts.update_nomination(
            uow,
            principal(SCHOOL),
            nomination.id,
            version_is(read_at),
            candidate_user_id=None,
            form={**JIAOZUO_FORM, "education": "硕士"},
            now=NOW,
        )
    assert nomination.form == form_before


def test_a_form_filled_again_needs_a_new_signature() -> None:
    """填写人签字 vouches for the content as it was signed."""
    uow = with_directory()
    nomination = ready(uow, start(uow, open_round(uow)))
    assert nomination.attested_name == "张三"
    drafts.update_nomination(
        uow,
        principal(SCHOOL),
        nomination.id,
        version_is(nomination.version),
        candidate_user_id=None,
        form={"education": "硕士"},
        now=NOW,
    )
    assert nomination.attested_at is None and nomination.form["education"] == "硕士"
    assert uow.nominations.photo(nomination.id) is not None
