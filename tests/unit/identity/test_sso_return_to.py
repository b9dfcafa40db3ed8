"""Where a browser goes after SSO sign-in: only a path on this platform, never another site."""

from __future__ import annotations

import pytest
from identity.service_layer.sso import safe_return_to


@pytest.mark.parametrize(
    "return_to",
    [
        "/\t/evil.example/x",  # ?return_to=/%09/evil.example/x: browsers drop the tab, leaving //evil.example
        "/%09/evil.example/x",
        "/\n/evil.example",
        "/%0A/evil.example",
        "/portal\r\nSet-Cookie: x=1",
        "//evil.example/x",
        "/\\evil.example/x",
        "/%5Cevil.example",
        "/%2F/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example",
        "/\x00",
        "/" + "a" * 600,
    ],
)
def test_a_return_to_that_could_leave_the_platform_becomes_the_start_page(return_to: str) -> None:
    assert safe_return_to(return_to) == "/"


@pytest.mark.parametrize(
    ("return_to", "expected"),
    [
        ("/portal/nominations", "/portal/nominations"),
        ("/portal/nominations?round=2026&tab=mine#top", "/portal/nominations?round=2026&tab=mine#top"),
        ("/portal/推荐表", "/portal/%E6%8E%A8%E8%8D%90%E8%A1%A8"),
        ("/portal/a%20b", "/portal/a%20b"),
        (None, "/"),
        ("", "/"),
    ],
)
def test_a_path_on_the_platform_is_kept_and_quoted(return_to: str | None, expected: str) -> None:
    assert safe_return_to(return_to) == expected
