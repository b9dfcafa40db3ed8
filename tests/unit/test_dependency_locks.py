"""The Python dependencies are installed from lock files (requirements/*.txt, by `make lock`): every version the
project pins is the locked one, every locked package carries its hashes, and the Makefile, the Dockerfile and the
test machine's checkov venv install from them with --require-hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCKS = {
    "runtime": PYPROJECT["project"]["dependencies"],
    "dev": PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["dev"],
    "checkov": PYPROJECT["dependency-groups"]["checkov"],
}
ENTRY = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)(?: ; (?P<marker>.+?))?(?P<rest> \\\n(?:    --hash=\S+(?: \\\n)?)*)",
    re.MULTILINE,
)


def locked(name: str) -> dict[str, str]:
    text = (REPO_ROOT / "requirements" / f"{name}.txt").read_text(encoding="utf-8")
    entries: dict[str, str] = {}
    matches = list(ENTRY.finditer(text))
    for match in matches:
        assert "--hash=sha256:" in match["rest"], f"{name}.txt: {match['name']} has no hash"
        # A universal lock may list a package twice under exclusive markers (Python or platform versions).
        if match["marker"] is None or Marker(match["marker"]).evaluate():
            entries[canonicalize_name(match["name"])] = match["version"]
    pinned_lines = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9._-]+==", line)]
    assert len(matches) == len(pinned_lines), f"{name}.txt: an entry without hashes"
    return entries


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_pinned_dependency_is_locked_at_its_version_with_hashes(lock: str) -> None:
    entries = locked(lock)
    for spec in LOCKS[lock]:
        requirement = Requirement(spec)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        pins = [s.version for s in requirement.specifier if s.operator == "=="]
        assert pins, f"pyproject: {spec} is not pinned"
        assert entries.get(canonicalize_name(requirement.name)) == pins[0], f"{lock}.txt: {spec}"


def test_the_makefile_the_dockerfile_and_the_test_machine_install_from_the_locks() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet --require-hashes -r requirements/dev.txt" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip wheel --require-hashes --wheel-dir /wheels -r requirements/runtime.txt" in dockerfile
    assert "pip wheel --no-deps --wheel-dir /wheels ." in dockerfile
    prepare = (REPO_ROOT / "scripts" / "prepare-test-machine.sh").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements/checkov.txt" in prepare
