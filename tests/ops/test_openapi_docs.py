"""Each service's Swagger UI page (/openapi/<service>/docs) loads nothing from outside the platform: its script
and styles are swagger-ui-dist's, served by the gateway from deploy/swagger-ui's lock file."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import Flask

from shared.web import SWAGGER_UI_URL, create_service_app

REPO_ROOT = Path(__file__).resolve().parents[2]
SWAGGER_UI = REPO_ROOT / "deploy" / "swagger-ui"


def _docs_page() -> str:
    app: Flask = create_service_app(service="demo", title="demo", blueprints=[], verifier=lambda: None, checks={})  # type: ignore[arg-type,return-value]
    response = app.test_client().get("/openapi/demo/docs")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_docs_page_references_no_external_host() -> None:
    page = _docs_page()
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page)
    assert f"{SWAGGER_UI_URL}swagger-ui-bundle.js" in references
    assert f"{SWAGGER_UI_URL}swagger-ui.css" in references
    assert not [r for r in references if re.match(r"^(https?:)?//", r)], references
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", page), "an absolute URL to another host"


def test_the_online_validator_is_off() -> None:
    """Swagger UI would otherwise send the document's URL to validator.swagger.io for its badge."""
    config = re.search(r"var override_config = (\{.*?\});", _docs_page())
    assert config is not None
    assert json.loads(config.group(1))["validatorUrl"] is None


def test_the_gateway_serves_swagger_ui_where_the_services_point() -> None:
    from deploy.nginx import render

    assert render.SWAGGER_UI_PATH == SWAGGER_UI_URL
    assert render.LOCAL_SWAGGER_UI_DIR == SWAGGER_UI / "node_modules" / "swagger-ui-dist"


def test_swagger_ui_is_pinned_in_a_lock_file() -> None:
    wanted = json.loads((SWAGGER_UI / "package.json").read_text(encoding="utf-8"))["dependencies"]["swagger-ui-dist"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", wanted), "an exact version"
    lock = json.loads((SWAGGER_UI / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/swagger-ui-dist"]["version"] == wanted
    assert lock["packages"]["node_modules/swagger-ui-dist"]["integrity"].startswith("sha512-")
