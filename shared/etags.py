"""Optimistic concurrency by ETag (a record's version in quotes) and If-Match, without the web framework: views read
the header (`shared.http`), and a handler that compares versions inside its own transaction uses the same rules."""

from __future__ import annotations

from collections.abc import Set

from shared.errors import PreconditionFailed, PreconditionRequired, field_error

STALE_RECORD = "The record changed since you read it; read it again and retry."


def etag_for(version: int | str) -> str:
    return f'"{version}"'


def if_match_tags(header: str | None) -> set[str]:
    """The ETags an If-Match header names (weak ones compared as strong); updates must send one: none is 428."""
    if not header:
        raise PreconditionRequired(
            "Send If-Match with the ETag you read.", errors=[field_error("If-Match", "required", "header")]
        )
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def require_current(tags: Set[str], current_version: int | str, detail: str = STALE_RECORD) -> None:
    """An update based on another version than the current one is refused (412), with the current ETag."""
    if "*" not in tags and etag_for(current_version) not in tags:
        raise PreconditionFailed(detail, current_etag=etag_for(current_version))
