"""The CAS auth class of the test server: users and their attributes from a JSON file, read at every call.

The file (``CAS_IDP_USERS_FILE``) maps a username to ``{"password": ..., "attributes": {...}}``. It is read
afresh for every password check and every ticket, so a test that rewrites it (atomically) changes what the next
sign-in releases. django-cas-server renders attribute values with ``str``: booleans are given as
``"true"``/``"false"`` (as Apereo CAS renders them), numbers as their decimal text, lists as repeated
attributes, and anything else (objects, lists of objects) as JSON text.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from cas_server.auth import AuthUser
from django.conf import settings


def _users() -> dict[str, Any]:
    with open(settings.USERS_FILE, encoding="utf-8") as fh:
        users: dict[str, Any] = json.load(fh)
    return users


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _release(value: Any) -> str | list[str]:
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return [_scalar(v) for v in value]
    return _scalar(value)


class JsonFileAuthUser(AuthUser):  # type: ignore[misc]
    def _record(self) -> dict[str, Any] | None:
        record = _users().get(self.username)
        return record if isinstance(record, dict) else None

    def test_password(self, password: str) -> bool:
        record = self._record()
        if record is None or record.get("disabled"):
            return False
        return hmac.compare_digest(str(record.get("password", "")).encode(), str(password).encode())

    def attributs(self) -> dict[str, Any]:
        record = self._record() or {}
        return {name: _release(value) for name, value in (record.get("attributes") or {}).items() if value is not None}
