"""The governance web process: `gunicorn "governance.entrypoints.web:create_app()"` (shared.service.create_app)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from governance.declaration import SPEC
from shared import service as machine


def create_app(service: Any | None = None) -> Flask:
    return machine.create_app(SPEC, service)
