"""Checking YAML/JSON documents against a JSON Schema (the policy, notifications' rules and templates), with every
problem named by its place in the document (`rules[2].recipients[0].ancestor_level: 'town' is not one of …`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import yaml


@functools.cache
def validator(schema_file: Path) -> jsonschema.Draft202012Validator:
    """The validator of a schema file (YAML), built once: a schema is read at start-up, not per document."""
    schema = yaml.safe_load(schema_file.read_text(encoding="utf-8"))
    assert isinstance(schema, dict), f"{schema_file}: a schema is a mapping"
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@functools.cache
def part_validator(schema_file: Path, pointer: str) -> jsonschema.Draft202012Validator:
    """The validator of one part of a schema (`/properties/training/properties/requirement`), for a piece of a
    document that travels on its own; the part keeps the schema's `$defs`, which its references name."""
    whole = validator(schema_file).schema
    part: Any = whole
    for key in pointer.strip("/").split("/"):
        part = part[key]
    return jsonschema.Draft202012Validator(
        {**part, "$defs": whole.get("$defs", {})}, format_checker=jsonschema.FormatChecker()
    )


def place(path: Iterable[Any], root: str = "") -> str:
    """`rules`, 0, `kind` → `rules[0].kind`; `root` prefixes a document whose top has no name of its own."""
    text = root
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top)"


def schema_errors(schema_file: Path, document: Any, pointer: str = "") -> list[jsonschema.ValidationError]:
    """Every error of `document` against the schema (or the part of it at `pointer`), in document order."""
    checker = part_validator(schema_file, pointer) if pointer else validator(schema_file)
    return sorted(checker.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])


def schema_problems(schema_file: Path, document: Any, root: str = "") -> list[str]:
    """Every place where `document` does not match the schema, in document order: `place: what is wrong`."""
    return [f"{place(e.absolute_path, root)}: {e.message}" for e in schema_errors(schema_file, document)]
