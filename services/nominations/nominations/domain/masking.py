"""Masking personal data (手机 138****8000) for readers whose role does not need the full value."""

from __future__ import annotations

from typing import Any


def mask_phone(value: str) -> str:
    digits = value.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else "***"


def mask_value(kind: str, value: Any) -> Any:
    if value in (None, ""):
        return value
    text = str(value)
    if kind == "phone":
        return mask_phone(text)
    if kind == "email":
        return mask_email(text)
    if kind == "date":
        return text[:4] + "-**-**"
    return text[:6] + "****"
