"""Loading policy documents: YAML files validated against the JSON Schema, then read by the domain.

A broken file stops the process at start-up with the file, the place in it and what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from nominations.domain.policy import Policy, PolicyError

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
SCHEMA_FILE = POLICY_DIR / "policy.schema.yaml"


class PolicyLoadError(RuntimeError):
    """A policy file cannot be used; the message names the file and the problem."""


def _schema() -> dict[str, Any]:
    schema = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


def parse_policy(text: str, origin: str = "<policy>") -> Policy:
    """Parse and validate one document; raises PolicyLoadError naming `origin` and the offending path."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyLoadError(f"{origin}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise PolicyLoadError(f"{origin}: a policy must be a mapping")
    # Dates written bare in YAML become date objects; the snapshot must stay JSON.
    document = _jsonable(document)
    validator = jsonschema.Draft202012Validator(_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:10]]
        raise PolicyLoadError(f"{origin}: does not match the policy schema:\n" + "\n".join(lines))
    try:
        return Policy.from_document(document)
    except PolicyError as exc:
        raise PolicyLoadError(f"{origin}: {exc}") from exc


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class PolicyCatalog:
    """Every policy shipped with the service (one YAML per source); a new region is one more file."""

    def __init__(self, policies: dict[str, Policy]) -> None:
        self._policies = dict(sorted(policies.items()))

    @classmethod
    def load(cls, directory: Path = POLICY_DIR) -> PolicyCatalog:
        policies: dict[str, Policy] = {}
        for path in sorted(directory.glob("*.yaml")):
            if path.name == SCHEMA_FILE.name:
                continue
            policy = parse_policy(path.read_text(encoding="utf-8"), origin=path.name)
            if policy.id != path.stem:
                raise PolicyLoadError(f"{path.name}: id {policy.id!r} must match the file name")
            policies[policy.id] = policy
        if not policies:
            raise PolicyLoadError(f"no policy files in {directory}")
        return cls(policies)

    def all(self) -> list[Policy]:
        return list(self._policies.values())

    def get(self, policy_id: str) -> Policy | None:
        return self._policies.get(policy_id)
