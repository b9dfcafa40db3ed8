"""Loads the platform's default score sheets (evaluation_sheets.yaml in this package) once per process."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from approvals.domain.evaluation import GradeBand, GradeScale, ScoreSheet, SheetCatalog, SheetError
from approvals.domain.policy import Indicator

DEFAULT_FILE = "evaluation_sheets.yaml"


def _indicator(raw: dict[str, Any], where: str) -> Indicator:
    try:
        score = raw["max_score"]
        if isinstance(score, bool) or not isinstance(score, int | float) or score < 0:
            raise SheetError(f"{where}.max_score must be a number ≥ 0")
        return Indicator(
            code=str(raw["code"]),
            name=str(raw["name_zh"]),
            max_score=float(score),
            parent=str(raw["parent"]) if raw.get("parent") else None,
            veto=bool(raw.get("veto", False)),
            notes=str(raw["notes_zh"]) if raw.get("notes_zh") else None,
        )
    except KeyError as exc:
        raise SheetError(f"{where}.{exc.args[0]} is missing") from exc


def parse_catalog(data: dict[str, Any]) -> SheetCatalog:
    """The YAML document → SheetCatalog; every sheet is checked (codes, parents, sums)."""
    scale = data["scale"]
    catalog = SheetCatalog(
        sheets={
            kind: (
                str(sheet["name_zh"]),
                tuple(_indicator(i, f"sheets.{kind}.indicators[{n}]") for n, i in enumerate(sheet["indicators"])),
            )
            for kind, sheet in data["sheets"].items()
        },
        scale=GradeScale(
            bands=tuple(GradeBand(str(b["grade"]), float(b["min_percent"])) for b in scale["bands"]),
            veto_grade=str(scale["veto_grade"]),
            unqualified_grade=str(scale["unqualified_grade"]),
        ),
        default_rectification_due_days=int(data["default_rectification_due_days"]),
    )
    for kind, (name, indicators) in catalog.sheets.items():
        ScoreSheet(kind, name, "platform", indicators, catalog.scale).validate()
    return catalog


@cache
def default_catalog() -> SheetCatalog:
    text = files("approvals").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return parse_catalog(yaml.safe_load(text))
