"""The packages of the project, found rather than listed: shared/ and the repository's tools at the top, and every
service's package at services/<name>/<name>/ (so adding a service edits nothing here). The rest of the project's
metadata is in pyproject.toml. Namespace packages, as pyproject's `packages.find` finds them: data directories
without __init__.py (nominations/policies, identity/sso/mappings) are shipped too."""

from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOT = Path(__file__).resolve().parent
# deploy, k8s, scripts and bench are the repository's tools: installed with the project (editable in the venv) so
# they import it and each other by name, never by editing sys.path. The images copy only shared/ and services/.
TOOLS = ["shared*", "deploy*", "k8s*", "scripts*", "bench*"]

packages = find_namespace_packages(str(ROOT), include=TOOLS)
package_dir: dict[str, str] = {}
for root in sorted(p.parent for p in ROOT.glob("services/*/*/__init__.py") if p.parent.name == p.parent.parent.name):
    packages += find_namespace_packages(str(root.parent), include=[root.name, f"{root.name}.*"])
    package_dir[root.name] = root.relative_to(ROOT).as_posix()

setup(packages=packages, package_dir=package_dir)
