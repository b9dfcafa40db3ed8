"""Jinja2 templates per kind, locale and channel; zh-CN is the default and the fallback.

E-mail bodies are HTML rendered with autoescaping, so a school name like `<b>` arrives as text;
every other channel is plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, Template, TemplateError, Undefined, meta, select_autoescape

from notifications.domain.model import CHANNELS, Channel
from notifications.domain.rules import RulesError
from shared.schemas import schema_problems

DEFAULT_LOCALE = "zh-CN"
TEMPLATES_FILE = Path(__file__).resolve().parent.parent / "templates.yaml"
TEMPLATES_SCHEMA = Path(__file__).resolve().parent.parent / "templates.schema.yaml"

_EMAIL_LAYOUT = (
    '<!doctype html><html lang="{{ locale }}"><head><meta charset="utf-8"><title>{{ subject }}</title></head>'
    '<body>{{ body }}<hr><p style="color:#888">{{ footer }}</p></body></html>'
)
_FOOTER = {"zh-CN": "此邮件由首席信息官平台自动发送，请勿回复。", "en": "Sent by the CIO platform; do not reply."}
_TERMS = {"autumn": ("{year}年秋季学期", "autumn {year}"), "spring": ("{year}年春季学期", "spring {year}")}


def semester_name(key: object, locale: str = DEFAULT_LOCALE) -> str:
    """A semester as governance keys it (`2026-autumn`: the one starting in September 2026) in words, as the portal's
    committee page names it: 2026年秋季学期, autumn 2026. A key of another shape is printed as it came rather than
    hidden (an absent one as nothing, as any absent variable)."""
    text = str(key)
    year, _, term = text.partition("-")
    if not year.isdigit() or term not in _TERMS:
        return text
    zh, en = _TERMS[term]
    return (zh if locale == "zh-CN" else en).format(year=year)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: bool = False


class Templates:
    """Compiled templates; `render` picks (kind, locale, channel) with fallbacks to default and zh-CN."""

    def __init__(self, raw: Any) -> None:
        self._text = Environment(autoescape=False, undefined=Undefined)  # noqa: S701 - plain-text channels
        self._html = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
        for env in (self._text, self._html):
            env.filters["semester_name"] = semester_name
        self._compiled: dict[tuple[str, str, str, str], Template] = {}
        self._names: dict[Template, frozenset[str]] = {}  # the variables each template reads
        # The shape (a zh-CN default with subject and body per kind, only subject and body) is the schema's;
        # that a channel exists and that each text compiles is checked here.
        problems = schema_problems(TEMPLATES_SCHEMA, raw, root="templates")
        if problems:
            raise RulesError(problems)
        for kind, locales in raw.items():
            for locale, channels in locales.items():
                for channel, parts in (channels or {}).items():
                    where = f"templates.{kind}.{locale}.{channel}"
                    if channel != "default" and channel not in CHANNELS:
                        problems.append(f"{where}: unknown channel")
                        continue
                    env = self._html if channel == Channel.EMAIL else self._text
                    for part, source in (parts or {}).items():
                        # The subject is a header, never HTML, whatever the channel.
                        use = self._text if part == "subject" else env
                        try:
                            self._compiled[(kind, locale, channel, part)] = use.from_string(str(source))
                            names = meta.find_undeclared_variables(use.parse(str(source)))
                            self._names[self._compiled[(kind, locale, channel, part)]] = frozenset(names)
                        except TemplateError as exc:
                            problems.append(f"{where}.{part}: {exc}")
        if problems:
            raise RulesError(problems)
        self.kinds = frozenset(raw)
        # the (kind, locale) pairs that have a translation, and each (kind, locale, channel, part)'s pick, once
        self._translated = frozenset((kind, locale) for kind, locale, _, _ in self._compiled)
        self._picked: dict[tuple[str, str, str, str], tuple[Template, bool]] = {}
        self._layout = self._html.from_string(_EMAIL_LAYOUT)
        self._wrap = self._html.from_string("<p>{{ text }}</p>")

    @classmethod
    def load(cls, path: Path = TEMPLATES_FILE) -> Templates:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    def _pick(self, kind: str, locale: str, channel: str, part: str) -> tuple[Template, bool]:
        """The template and whether it is the channel's own (for e-mail: HTML already)."""
        key = (kind, locale, channel, part)
        if key not in self._picked:
            self._picked[key] = self._find(kind, locale, channel, part)
        return self._picked[key]

    def _find(self, kind: str, locale: str, channel: str, part: str) -> tuple[Template, bool]:
        for loc in dict.fromkeys((locale, DEFAULT_LOCALE)):
            own = self._compiled.get((kind, loc, channel, part))
            if own is not None:
                return own, True
            default = self._compiled.get((kind, loc, "default", part))
            if default is not None:
                return default, False
        raise KeyError(f"no template for {kind}/{part}")

    def _locale(self, kind: str, locale: str | None) -> str:
        """The locale actually used: a missing translation falls back to Chinese as a whole."""
        locale = locale or DEFAULT_LOCALE
        return locale if (kind, locale) in self._translated else DEFAULT_LOCALE

    def _subject(self, kind: str, locale: str, channel: str, values: dict[str, Any]) -> str:
        subject_template, _ = self._pick(kind, locale, channel, "subject")
        return " ".join(subject_template.render(values).split())

    def render_subject(
        self, kind: str, locale: str | None, channel: str, context: dict[str, Any], in_app: Rendered
    ) -> Rendered:
        """Only the channel's subject, for a delivery that is never sent (the delivery log shows its subject; its
        body is read by no one, so none is rendered). `in_app` is the inbox's rendering from the same context:
        its subject is the channel's too when both use one template, as most kinds' channels do."""
        locale = self._locale(kind, locale)
        html = channel == Channel.EMAIL
        if self._pick(kind, locale, channel, "subject")[0] is self._pick(kind, locale, Channel.IN_APP, "subject")[0]:
            return Rendered(in_app.subject, "", html=html)
        return Rendered(self._subject(kind, locale, channel, {**context, "kind": kind, "locale": locale}), "", html)

    def reads(self, kind: str, locale: str | None, channel: str, name: str) -> bool:
        """Whether the channel's rendering reads the variable `name` (the notifier renders what does not read
        `recipient` once for all the recipients of an event, a city's schools for a round that opens)."""
        locale = self._locale(kind, locale)
        return any(name in self._names[self._pick(kind, locale, channel, part)[0]] for part in ("subject", "body"))

    def render(self, kind: str, locale: str | None, channel: str, context: dict[str, Any]) -> Rendered:
        locale = self._locale(kind, locale)
        values = {**context, "kind": kind, "locale": locale}
        subject = self._subject(kind, locale, channel, values)
        body_template, own = self._pick(kind, locale, channel, "body")
        if channel != Channel.EMAIL:
            return Rendered(subject, body_template.render(values).strip())
        inner = body_template.render(values) if own else self._wrap.render(text=body_template.render(values).strip())
        footer = _FOOTER.get(locale, _FOOTER[DEFAULT_LOCALE])
        html = self._layout.render(locale=locale, subject=subject, body=_Markup(inner), footer=footer)
        return Rendered(subject, html, html=True)


def _Markup(value: str) -> Any:
    from markupsafe import Markup

    return Markup(value)  # noqa: S704 - already rendered by an autoescaping template
