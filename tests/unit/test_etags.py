"""Optimistic concurrency without the web framework (shared.etags): what If-Match must name for an update to pass."""

from __future__ import annotations

import pytest

from shared.errors import PreconditionFailed, PreconditionRequired
from shared.etags import if_match_tags, require_current


def test_an_update_without_if_match_is_refused_naming_the_header() -> None:
    with pytest.raises(PreconditionRequired) as refused:
        if_match_tags(None)
    assert refused.value.errors == [{"field": "If-Match", "in": "header", "messages": ["required"]}]


def test_weak_and_listed_etags_are_compared_as_strong() -> None:
    assert if_match_tags('W/"3", "4"') == {'"3"', '"4"'}
    require_current({'"4"'}, 4)
    require_current({"*"}, 9)


def test_a_stale_version_is_refused_with_the_current_etag() -> None:
    with pytest.raises(PreconditionFailed) as refused:
        require_current({'"3"'}, 4, "The preferences changed.")
    assert (refused.value.detail, refused.value.extensions) == ("The preferences changed.", {"current_etag": '"4"'})
