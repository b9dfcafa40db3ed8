"""Loads the review chains approvals owns itself (case_policies/<kind>.yaml in this package), once per process.

A CIO nomination's chain comes with its round's policy snapshot (nominations owns those); a case kind that has no
round, such as governance's project plans, takes its chain from a file here.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml

from approvals.adapters.policy_snapshot import parse_case_policy
from approvals.domain.policy import Policy


@cache
def case_policy(kind: str) -> Policy:
    text = files("approvals").joinpath("case_policies", f"{kind}.yaml").read_text(encoding="utf-8")
    return parse_case_policy(yaml.safe_load(text))
