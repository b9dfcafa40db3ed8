"""The harnesses' own stack (authorization matrix, fuzzing): they write junk and end records, so they never
share the session's `stack` with the journeys. The fuzzing client connects from 127.0.0.2, which this stack's
gateway leaves out of its rate limits (tests/e2e/conftest.py running_stack unlimited_clients); every other
client, 127.0.0.1 included, is limited as in production."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.harness.authz import UNLIMITED_CLIENT
from tests.infrastructure import Infrastructure


@pytest.fixture(scope="session")
def harness_stack(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(infra, tmp_path_factory.mktemp("harness-stack"), unlimited_clients=(UNLIMITED_CLIENT,)) as s:
        yield s
