"""CloudEvents 1.0 structured-mode JSON envelope."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

CONTENT_TYPE = "application/cloudevents+json"


class EnvelopeError(ValueError):
    """A message body is not a CloudEvent we can read; retrying will not help."""


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    subject: str | None = None
    requestid: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "datacontenttype": "application/json",
            "data": self.data,
        }
        if self.subject is not None:
            body["subject"] = self.subject
        if self.requestid is not None:
            body["requestid"] = self.requestid
        return body

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, body: bytes | str) -> CloudEvent:
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise EnvelopeError(f"not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise EnvelopeError("a CloudEvent must be a JSON object")
        if raw.get("specversion") != "1.0":
            raise EnvelopeError(f"unsupported specversion {raw.get('specversion')!r}")
        missing = [name for name in ("id", "source", "type") if not raw.get(name)]
        if missing:
            raise EnvelopeError(f"missing attributes: {', '.join(missing)}")
        data = raw.get("data") or {}
        if not isinstance(data, dict):
            raise EnvelopeError("data must be a JSON object")
        return cls(
            type=raw["type"],
            source=raw["source"],
            data=data,
            id=raw["id"],
            time=raw.get("time") or dt.datetime.now(dt.UTC).isoformat(),
            subject=raw.get("subject"),
            requestid=raw.get("requestid"),
        )
