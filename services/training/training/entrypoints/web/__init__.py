"""The training web process: `gunicorn "training.entrypoints.web:create_app()"` (shared.service.create_app)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from shared import service as machine
from training.declaration import SPEC


def create_app(service: Any | None = None) -> Flask:
    return machine.create_app(SPEC, service)
