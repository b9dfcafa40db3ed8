"""Every notification kind notifications can send has a name in the portal, in both locales: 通知设置 lists the kinds
from the service's rules, and a kind without a label showed its raw key (`committee_meeting_missed`) to the user."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "services/notifications/notifications/rules.yaml"


def portal_kind_labels(locale: str) -> set[str]:
    text = (ROOT / "portal/src/i18n" / locale / "common.ts").read_text(encoding="utf-8")
    block = re.search(r"\n  kinds: \{\n(.*?)\n  \},", text, re.S)
    assert block, f"no common.kinds block in {locale}"
    return set(re.findall(r"^\s+(\w+):", block.group(1), re.M))


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_notification_kind_has_a_name_in_the_portal(locale: str) -> None:
    kinds = set(yaml.safe_load(RULES.read_text(encoding="utf-8"))["kinds"])
    assert kinds - portal_kind_labels(locale) == set()
