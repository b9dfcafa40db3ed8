"""避免重复采集: the directory's profile of a teacher (学历, 民族, 教龄, 职务, 职称, 政治面貌) as a rule."""

from __future__ import annotations

import pytest
from identity.domain.model import DomainError, User, clean_profile


def test_避免重复采集_only_the_known_keys_are_kept_and_教龄_is_a_number_of_years() -> None:
    assert clean_profile({"education": " 本科 ", "teaching_years": "18", "shoe_size": "42", "ethnicity": ""}) == {
        "education": "本科",
        "teaching_years": 18,
    }
    with pytest.raises(DomainError) as words:
        clean_profile({"teaching_years": "十八"})
    assert words.value.field == "teaching_years"
    with pytest.raises(DomainError):
        clean_profile({"teaching_years": 61})


def test_避免重复采集_a_profile_update_merges_and_is_published_once() -> None:
    user = User("t.sun", "孙老师", profile={"education": "本科", "ethnicity": "汉族"})
    assert user.events[0].payload()["user"]["profile"] == {"education": "本科", "ethnicity": "汉族"}
    user.events.clear()
    user.update_profile(profile={"professional_title": "高级教师"})
    assert user.profile == {"education": "本科", "ethnicity": "汉族", "professional_title": "高级教师"}
    (updated,) = user.events
    assert updated.payload()["changed"] == ["profile"]
    user.update_profile(profile={"education": "本科"})  # nothing new: nothing published
    assert len(user.events) == 1
