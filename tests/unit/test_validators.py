"""The shared e-mail check: the addresses of 推荐表 contacts and of imported users."""

from __future__ import annotations

import pytest

from shared.validators import EMAIL_MAX_LENGTH, is_email


@pytest.mark.parametrize("address", ["wang@example.cn", "li.hua+cio@jzedu.gov.cn", "a@b.c"])
def test_ordinary_addresses_pass(address: str) -> None:
    assert is_email(address)


@pytest.mark.parametrize(
    "address", ["", "wang", "@example.cn", "wang@", "wang@example", "wang@@example.cn", "wang @example.cn"]
)
def test_malformed_addresses_fail(address: str) -> None:
    assert not is_email(address)


def test_an_address_longer_than_rfc_5321_allows_fails() -> None:
    assert not is_email("a" * (EMAIL_MAX_LENGTH - len("@example.cn") + 1) + "@example.cn")
    assert is_email("a" * (EMAIL_MAX_LENGTH - len("@example.cn")) + "@example.cn")


def test_the_backtracking_input_that_held_a_worker_is_refused() -> None:
    assert not is_email("a." * 20_000 + "@")
