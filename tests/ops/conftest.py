"""The operations checks: each artefact checked by its ecosystem's own tool (nginx -t and a running nginx,
promtool, amtool, kubectl kustomize, kubernetes-validate, checkov, docker compose config) and the generated
artefacts compared with a fresh generation. They start programs, so they are not in tests/unit (`make test-fast`
runs tests/unit only); `make test` runs them, and a missing tool fails them (tests/ops/test_ops_tools.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/ops carries the `ops` marker (select or skip them with -m ops)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.ops)
