"""Rules as data: which event notifies whom as which kind, read from YAML and checked when loaded.

A rule names an event type, a kind, and recipient selectors:
  - `{role: R, org_path_from: F}`      users holding role R at the org whose path is data[F]
  - `{role_from: F, org_path_from: G}` the role named by data[F]
  - `ancestor_level: county`           ... at the nearest org above data[G] of that level (escalation)
  - `up_tree: true`                    ... at data[G] or, if nobody holds R there, the nearest org above that has one
  - `within: true`                     ... at data[G] or any org below it (a city round reaches every school)
  - `{person_from: F}`                 the user whose id is data[F] (candidate_user_id, person_user_id)
Reminders are rules too: their event type is `reminder.<kind>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from notifications.domain.model import CHANNELS, Kind, ReminderSettings
from shared.schemas import schema_problems

RULES_SCHEMA = Path(__file__).resolve().parent.parent / "rules.schema.yaml"


class RulesError(ValueError):
    """The rules file is wrong; the process must not start with it. Lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Selector:
    role: str | None = None
    role_from: str | None = None
    org_path_from: str | None = None
    ancestor_level: str | None = None
    up_tree: bool = False
    within: bool = False
    person_from: str | None = None


@dataclass(frozen=True)
class Rule:
    event: str
    kind: str
    recipients: tuple[Selector, ...]


@dataclass(frozen=True)
class RuleBook:
    kinds: Mapping[str, Kind]
    rules: tuple[Rule, ...]
    reminders: ReminderSettings

    def for_event(self, event_type: str) -> list[Rule]:
        return [r for r in self.rules if r.event == event_type]

    @property
    def event_types(self) -> set[str]:
        return {r.event for r in self.rules if not r.event.startswith("reminder.")}


class Directory(Protocol):
    """The local projection of identity: orgs and who holds which role where."""

    def holders(self, role: str, org_path: str) -> set[str]: ...
    def holders_within(self, role: str, org_path: str) -> set[str]: ...
    def org_level(self, org_path: str) -> str | None: ...


def ancestors(org_path: str) -> list[str]:
    """Paths above `org_path`, nearest first: /a/b/c → /a/b, /a."""
    parts = [p for p in org_path.split("/") if p]
    return ["/" + "/".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


def resolve(rule: Rule, data: Mapping[str, Any], directory: Directory) -> list[str]:
    """The user ids a rule names for this event's data, each once, in selector order."""
    found: dict[str, None] = {}
    for selector in rule.recipients:
        if selector.person_from:
            person = data.get(selector.person_from)
            if person:
                found[str(person)] = None
            continue
        role = selector.role or (data.get(selector.role_from) if selector.role_from else None)
        path = data.get(selector.org_path_from) if selector.org_path_from else None
        if not role or not path:
            continue
        role, path = str(role), str(path)
        if selector.within:
            found.update(dict.fromkeys(sorted(directory.holders_within(role, path))))
            continue
        if selector.ancestor_level:
            above = [p for p in ancestors(path) if directory.org_level(p) == selector.ancestor_level]
            if not above:
                continue
            candidates = [above[0]]
        elif selector.up_tree:
            candidates = [path, *ancestors(path)]
        else:
            candidates = [path]
        for candidate in candidates:
            holders = directory.holders(role, candidate)
            if holders:
                found.update(dict.fromkeys(sorted(holders)))
                break
    return list(found)


def _selector(raw: dict[str, Any], where: str, problems: list[str]) -> Selector:
    """What the schema cannot say: which keys combine."""
    if raw.get("person_from"):
        if set(raw) - {"person_from"}:
            problems.append(f"{where}: person_from stands alone")
        return Selector(person_from=str(raw["person_from"]))
    if bool(raw.get("role")) == bool(raw.get("role_from")):
        problems.append(f"{where}: needs exactly one of role, role_from (or person_from)")
    if not raw.get("org_path_from"):
        problems.append(f"{where}: needs org_path_from")
    level = raw.get("ancestor_level")
    if raw.get("within") and (level is not None or raw.get("up_tree")):
        problems.append(f"{where}: within reaches down the tree; it does not combine with ancestor_level or up_tree")
    return Selector(
        role=raw.get("role"),
        role_from=raw.get("role_from"),
        org_path_from=raw.get("org_path_from"),
        ancestor_level=level,
        up_tree=bool(raw.get("up_tree", False)),
        within=bool(raw.get("within", False)),
    )


def load_rulebook(raw: Any, template_kinds: Iterable[str] = ()) -> RuleBook:
    """Check the parsed YAML and build the rule book; raise RulesError naming every problem.

    The shape (types, known keys, levels, the reminders' ranges) is rules.schema.yaml's; what a schema cannot say
    (a rule's kind is declared, a channel exists, which selector keys combine, a template per kind) is checked here.
    """
    problems = schema_problems(RULES_SCHEMA, raw)
    if problems:
        raise RulesError(problems)
    kinds: dict[str, Kind] = {}
    for name, spec in (raw.get("kinds") or {}).items():
        spec = spec or {}
        defaults = tuple(spec.get("default_channels") or ["in_app"])
        mandatory_channels = tuple(spec.get("mandatory_channels") or (defaults if spec.get("mandatory") else ()))
        for channel in (*defaults, *mandatory_channels):
            if channel not in CHANNELS:
                problems.append(f"kinds.{name}: unknown channel {channel!r}")
        kinds[str(name)] = Kind(str(name), defaults, bool(spec.get("mandatory", False)), mandatory_channels)
    rules: list[Rule] = []
    for index, spec in enumerate(raw.get("rules") or []):
        where = f"rules[{index}]"
        if spec["kind"] not in kinds:
            problems.append(f"{where}.kind: {spec['kind']!r} is not a declared kind")
        selectors = [_selector(s, f"{where}.recipients[{i}]", problems) for i, s in enumerate(spec["recipients"])]
        rules.append(Rule(spec["event"], spec["kind"], tuple(selectors)))
    template_kinds = set(template_kinds)
    if template_kinds:
        for name in kinds:
            if name not in template_kinds:
                problems.append(f"kinds.{name}: no zh-CN template")
    reminder_raw = raw.get("reminders") or {}
    reminders = ReminderSettings(
        round_deadline_days_before=reminder_raw.get("round_deadline_days_before", 3),
        task_due_hours_before=reminder_raw.get("task_due_hours_before", 24),
        term_ending_days_before=tuple(reminder_raw.get("term_ending_days_before", [90, 30])),
        training_requirement_due=reminder_raw.get("training_requirement_due", "12-01"),
        evaluation_due_days_before=reminder_raw.get("evaluation_due_days_before", 30),
    )
    if problems:
        raise RulesError(problems)
    return RuleBook(kinds=kinds, rules=tuple(rules), reminders=reminders)
