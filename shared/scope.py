"""Org-subtree scope by materialized path: a grant at `/a/b` covers `/a/b` and everything under it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, false, or_


def is_grant_path(grant_path: str) -> bool:
    """A grant names "/" (the whole platform) or an org path `/a/b`; an empty or relative path names nothing.

    Without this, "" stripped of its slashes would be the prefix of every path: a grant that lost its org
    would mean "everywhere".
    """
    return grant_path == "/" or (grant_path.startswith("/") and grant_path.strip("/") != "")


def path_within(record_path: str, grant_path: str) -> bool:
    """True when `record_path` is `grant_path` or below it (segment-wise, so /41 does not cover /410)."""
    if not is_grant_path(grant_path):
        return False
    if grant_path == "/":
        return record_path.startswith("/")
    base = grant_path.rstrip("/")
    return record_path == base or record_path.startswith(base + "/")


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def within_any(column: Any, grant_paths: Iterable[str]) -> ColumnElement[bool]:
    """SQL condition: the column's path lies in one of the subtrees."""
    clauses: list[ColumnElement[bool]] = []
    for path in grant_paths:
        if not is_grant_path(path):
            continue
        if path == "/":
            return column.like("/%")
        base = path.rstrip("/")
        clauses.append(column == base)
        clauses.append(column.like(escape_like(base) + "/%", escape="\\"))
    return or_(*clauses) if clauses else false()
