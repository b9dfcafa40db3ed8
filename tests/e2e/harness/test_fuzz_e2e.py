"""Fuzzing every API (issue 14): Schemathesis generates requests from each service's OpenAPI document (the one
the portal's types come from, which the drift test keeps equal to what the services publish) and sends them
through the gateway with real access tokens of several demo roles, from 127.0.0.2, the one client address this
stack's gateway does not rate limit (else most operations would only ever be answered 429).

Every answer must be no 5xx, a documented status code, a documented content type and match its documented
schema (problem+json for errors). `make test` runs FUZZ_EXAMPLES (default 5) examples per operation; `make fuzz`
runs more (FUZZ_EXAMPLES=100).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from tests.e2e.conftest import Stack, token
from tests.e2e.harness import authz

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
# Several roles, from the platform down to a school, and one of 宜春学院 (a university's chain).
FUZZ_ROLES = ("admin", "city.reviewer", "county.reviewer", "school.admin", "training.admin", "cio", "president")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
# Browser flows of single sign-on (redirects to identity providers, cookies and forms) and the password
# endpoints the gateway limits per address on purpose: covered by test_sso_e2e.py and the token attacks.
SKIPPED_PATHS = ("/sso/", "/api/auth/token", "/api/auth/session")


def _schema(service: str) -> Any:
    document = json.loads((authz.OPENAPI_DIR / f"{service}.json").read_text(encoding="utf-8"))
    schema = schemathesis.openapi.from_dict(document)
    return schema.exclude(path_regex="^(" + "|".join(SKIPPED_PATHS) + ")")


SCHEMAS = {service: _schema(service) for service in authz.SERVICES}


@pytest.fixture(scope="module")
def fuzz_client(harness_stack: Stack) -> Iterator[dict[str, Any]]:
    session = authz.unlimited_session()
    tokens = {role: token(harness_stack, role) for role in FUZZ_ROLES}
    yield {"session": session, "base": harness_stack.gateway, "tokens": tokens, "roles": itertools.cycle(FUZZ_ROLES)}
    session.close()


def _fuzz(case: Any, client: dict[str, Any]) -> None:
    role = next(client["roles"])
    headers = {"Authorization": f"Bearer {client['tokens'][role]}", "X-Request-ID": f"fuzz-{role}"}
    case.call_and_validate(base_url=client["base"], session=client["session"], headers=headers, checks=CHECKS)


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible, not a coin toss
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)


@SCHEMAS["identity"].parametrize()
@FUZZ_SETTINGS
def test_fuzz_identity(case: Any, fuzz_client: dict[str, Any]) -> None:
    _fuzz(case, fuzz_client)


@SCHEMAS["nominations"].parametrize()
@FUZZ_SETTINGS
def test_fuzz_nominations(case: Any, fuzz_client: dict[str, Any]) -> None:
    _fuzz(case, fuzz_client)


@SCHEMAS["approvals"].parametrize()
@FUZZ_SETTINGS
def test_fuzz_approvals(case: Any, fuzz_client: dict[str, Any]) -> None:
    _fuzz(case, fuzz_client)


@SCHEMAS["training"].parametrize()
@FUZZ_SETTINGS
def test_fuzz_training(case: Any, fuzz_client: dict[str, Any]) -> None:
    _fuzz(case, fuzz_client)


@SCHEMAS["governance"].parametrize()
@FUZZ_SETTINGS
def test_fuzz_governance(case: Any, fuzz_client: dict[str, Any]) -> None:
    _fuzz(case, fuzz_client)


@SCHEMAS["notifications"].parametrize()
@FUZZ_SETTINGS
def test_fuzz_notifications(case: Any, fuzz_client: dict[str, Any]) -> None:
    _fuzz(case, fuzz_client)
