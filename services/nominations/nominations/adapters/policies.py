"""Loading policy documents: YAML files checked against the one policy schema (shared.policy), read by the
shared reader (the chain, term and evaluation every service follows) and then by nominations' domain.

A broken file stops the process at start-up with the file, the place in it and what is wrong.
"""

from __future__ import annotations

from pathlib import Path

from nominations.domain.policy import Policy, PolicyError
from shared.policy import PolicyDocumentError, PolicySnapshotError, load_policy_document

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"


class PolicyLoadError(RuntimeError):
    """A policy file cannot be used; the message names the file and the problem."""


def parse_policy(text: str, origin: str = "<policy>") -> Policy:
    """Parse and validate one document; raises PolicyLoadError naming `origin` and the offending path."""
    try:
        # the shared reader reads the chain and term in from_document: what approvals and training will act on
        return Policy.from_document(load_policy_document(text, origin))
    except PolicyDocumentError as exc:
        raise PolicyLoadError(str(exc)) from exc
    except (PolicySnapshotError, PolicyError) as exc:
        raise PolicyLoadError(f"{origin}: {exc}") from exc


class PolicyCatalog:
    """Every policy shipped with the service (one YAML per source); a new region is one more file."""

    def __init__(self, policies: dict[str, Policy]) -> None:
        self._policies = dict(sorted(policies.items()))

    @classmethod
    def load(cls, directory: Path = POLICY_DIR) -> PolicyCatalog:
        policies: dict[str, Policy] = {}
        for path in sorted(directory.glob("*.yaml")):
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
