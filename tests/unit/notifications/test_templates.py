"""Templates: what a delivery that is never sent keeps (its subject) is what rendering it in full would give."""

from __future__ import annotations

import pytest
from notifications.adapters.templates import Rendered, Templates
from notifications.domain.model import CHANNELS, Channel

# a kind whose e-mail has a subject of its own, and a translation for one locale only
RAW = {
    "notice": {
        "zh-CN": {
            "default": {"subject": "通知：{{ title }}", "body": "{{ title }}"},
            "email": {"subject": "邮件通知：{{ title }}（{{ recipient.display_name }}）", "body": "<p>{{ title }}</p>"},
        },
        "en": {"default": {"subject": "Notice: {{ title }}", "body": "{{ title }}"}},
    }
}
CONTEXT = {"title": "推荐批次  已开启\n<b>", "recipient": {"display_name": "李审核"}}


@pytest.mark.parametrize("locale", ["zh-CN", "en", "fr", None])
@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_a_skipped_deliverys_subject_is_the_one_its_channel_would_have_sent(channel: str, locale: str | None) -> None:
    templates = Templates(RAW)
    in_app = templates.render("notice", locale, Channel.IN_APP, CONTEXT)

    subject_only = templates.render_subject("notice", locale, channel, CONTEXT, in_app)

    full = templates.render("notice", locale, channel, CONTEXT)
    assert subject_only == Rendered(full.subject, "", html=full.html)


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_every_shipped_kind_keeps_its_channels_subject_when_skipped(channel: str) -> None:
    templates = Templates.load()
    for kind in sorted(templates.kinds):
        for locale in ("zh-CN", "en"):
            in_app = templates.render(kind, locale, Channel.IN_APP, CONTEXT)
            full = templates.render(kind, locale, channel, CONTEXT)
            assert templates.render_subject(kind, locale, channel, CONTEXT, in_app) == Rendered(
                full.subject, "", html=full.html
            )


def test_only_what_greets_the_recipient_reads_the_recipient() -> None:
    templates = Templates(RAW)

    assert templates.reads("notice", "zh-CN", Channel.EMAIL, "recipient")
    assert not templates.reads("notice", "zh-CN", Channel.IN_APP, "recipient")
    # English has no e-mail of its own: its default reads no recipient
    assert not templates.reads("notice", "en", Channel.EMAIL, "recipient")
    assert templates.reads("notice", "fr", Channel.EMAIL, "recipient")
