"""`make run`'s process list: each service fetches token keys from identity directly, not via the gateway."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_local_under_test", REPO_ROOT / "scripts" / "run_local.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_services_fetch_keys_from_identity_not_through_the_gateway(tmp_path: Path) -> None:
    run_local = _load()
    services = [s for s in run_local.load_services() if s.exists]
    identity = next(s for s in services if s.name == "identity")
    urls = {f"{s.name.upper()}_DATABASE_URL": f"postgresql+psycopg://postgres@/cio_{s.name}" for s in services}
    text = run_local.procfile(services, urls, tmp_path / "nginx.conf", "/usr/bin/python3")
    for line in text.splitlines():
        name = line.split(":", 1)[0]
        if name.startswith("identity-") or name == "gateway":
            assert "JWKS_URL" not in line
        else:
            jwks = f"JWKS_URL=http://127.0.0.1:{identity.web_port}/api/auth/.well-known/jwks.json"
            assert jwks in line, name
