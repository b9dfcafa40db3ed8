"""`make run`'s process list: each service fetches token keys from identity directly, not via the gateway."""

from __future__ import annotations

from pathlib import Path

from scripts import run_local

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_services_fetch_keys_from_identity_not_through_the_gateway(tmp_path: Path) -> None:
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
