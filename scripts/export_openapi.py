"""Write each service's OpenAPI document to portal/openapi/<service>.json for the portal's typed client.

The document is the one the running service publishes at /openapi/<service>/openapi.json: each Flask app is
built with its real factory and configuration (development settings and a database URL that is never dialled:
building an app opens no connection) and asked for that path, so the portal's generated types cannot drift from
the services.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

SERVICES = ("identity", "nominations", "approvals", "notifications", "training", "governance")
ROOT = Path(__file__).resolve().parent.parent


def openapi_document(service: str) -> dict[str, object]:
    """The OpenAPI document `service` serves, read through its own app."""
    module = importlib.import_module(f"{service}.entrypoints.web")
    app = module.create_app()
    response = app.test_client().get(f"/openapi/{service}/openapi.json")
    if response.status_code != 200:
        raise SystemExit(f"{service}: /openapi/{service}/openapi.json answered {response.status_code}")
    document: dict[str, object] = response.get_json()
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "portal" / "openapi", help="directory to write to")
    parser.add_argument("services", nargs="*", default=list(SERVICES), help="services to export (default: all)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["APP_ENV"] = "development"
    os.environ["DATABASE_URL"] = "postgresql+psycopg://openapi-export@127.0.0.1:1/never-connected"
    for service in args.services:
        text = json.dumps(openapi_document(service), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        (args.out / f"{service}.json").write_text(text, encoding="utf-8")
        print(f"wrote {args.out / f'{service}.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
