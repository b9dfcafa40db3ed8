"""The printable recommendation form (推荐表) as a layout: a table driven by the policy's form fields.

Laid out like the attachment of the source documents: label/value pairs three to a row beside the photo, long
text and lists (honours as a sub-table) on rows of their own, the filler's signature, then one opinion row per
approval stage with its seal and date. Pure: the service layer gathers the facts, an adapter renders the sheet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from nominations.domain.policy import Policy

SLOTS_PER_ROW = 3  # label/value pairs per row, as in 姓名 | 性别 | 出生日期
PHOTO_ROWS = 4  # rows the photo cell spans on the right
SHORT_STRING = 50  # strings up to this length share a row three to a row; longer ones take two slots
DECISION_ZH = {"approve": "同意", "reject": "不同意"}


@dataclass(frozen=True)
class Cell:
    text: str
    label: bool = False
    colspan: int = 1


@dataclass(frozen=True)
class SubTable:
    """A list field (e.g. honours): its label and a table of its items' columns."""

    label: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    colspan: int = 1


@dataclass
class Row:
    cells: list[Cell | SubTable] = field(default_factory=list)
    photo: bool = False  # this row starts the photo cell
    photo_rowspan: int = 0


@dataclass(frozen=True)
class Opinion:
    """One stage's opinion row: 所在单位意见 … （盖章） 年 月 日; blank until the stage has decided."""

    label: str
    text: str
    seal: str
    date: str


@dataclass(frozen=True)
class FormSheet:
    title: str
    filled_on: str
    rows: tuple[Row, ...]
    attestation_label: str
    signer: str
    opinions: tuple[Opinion, ...]
    note: str
    masked: bool


def _display(spec_raw: dict[str, Any], value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    for choice in spec_raw.get("choices", []):
        if choice["value"] == value:
            return str(choice["label_zh"])
    return str(value)


def _slots(raw: dict[str, Any]) -> int:
    kind = raw["type"]
    if kind in ("text", "list"):
        return SLOTS_PER_ROW
    if kind == "string" and (raw.get("max_length") or 0) > SHORT_STRING:
        return 2
    return 1


def _layout(fields: list[dict[str, Any]], form: dict[str, Any]) -> list[Row]:
    """Pack the fields into rows of SLOTS_PER_ROW label/value pairs (6 columns); a short row's last value widens."""
    rows: list[Row] = []
    current: list[Cell | SubTable] = []
    used = 0

    def flush() -> None:
        nonlocal current, used
        if current:
            last = current[-1]
            spare = (SLOTS_PER_ROW - used) * 2
            if spare and isinstance(last, Cell):
                current[-1] = Cell(last.text, last.label, last.colspan + spare)
            rows.append(Row(current))
        current, used = [], 0

    for raw in fields:
        slots = _slots(raw)
        if used + slots > SLOTS_PER_ROW:
            flush()
        value = form.get(raw["name"])
        if raw["type"] == "list":
            items = raw.get("items", [])
            body = tuple(
                tuple(_display(i, entry.get(i["name"])) for i in items)
                for entry in (value or [])
                if isinstance(entry, dict)
            )
            current.append(Cell(raw["label_zh"], label=True))
            current.append(SubTable(raw["label_zh"], tuple(i["label_zh"] for i in items), body, colspan=5))
        else:
            current.append(Cell(raw["label_zh"], label=True))
            current.append(Cell(_display(raw, value), colspan=slots * 2 - 1))
        used += slots
    flush()
    return rows


def _with_photo(rows: list[Row]) -> list[Row]:
    """The photo spans the first rows on the right; every later row's last cell widens by one column."""
    if not rows:
        return rows
    span = min(PHOTO_ROWS, len(rows))
    rows[0].photo, rows[0].photo_rowspan = True, span
    for row in rows[span:]:
        last = row.cells[-1]
        if isinstance(last, SubTable):
            row.cells[-1] = SubTable(last.label, last.header, last.rows, last.colspan + 1)
        else:
            row.cells[-1] = Cell(last.text, last.label, last.colspan + 1)
    return rows


def _zh_date(value: dt.date | None) -> str:
    return f"{value.year} 年 {value.month} 月 {value.day} 日" if value else "年　　月　　日"


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def stage_decisions(policy: Policy, history: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The standing approve/reject decision of each stage, read from the nomination's history in order.

    A resubmission re-enters the chain (at the returning stage or the first, per the policy), so the
    decisions from that stage on no longer stand.
    """
    reenters_first = policy.reenters_first_stage
    # A case may skip a stage (市直各学校 have no county), so its stage numbers are not the policy's:
    # a decision names its stage by key, and goes under that stage of the printed form.
    by_key = {stage.key: index for index, stage in enumerate(policy.stages)}
    standing: dict[int, dict[str, Any]] = {}
    returned_at: int | None = None
    for change in history:
        details = dict(change.get("details") or {})
        if details.get("stage_key") in by_key:
            details["stage_index"] = by_key[details["stage_key"]]
        action = change.get("action", "")
        if action == "review_returned":
            returned_at = details.get("stage_index")
        elif action == "resubmitted":
            start = 0 if reenters_first or returned_at is None else returned_at
            standing = {i: d for i, d in standing.items() if i < start}
        elif action.startswith("review_") and details.get("decision") in DECISION_ZH:
            index = details.get("stage_index")
            if isinstance(index, int):
                standing[index] = {**details, "at": change.get("at")}
    return standing


def build_sheet(
    policy: Policy,
    *,
    form: dict[str, Any],
    filled_on: dt.date | None,
    signer: str | None,
    decisions: dict[int, dict[str, Any]],
    seal_names: dict[str, str],
    masked: bool,
) -> FormSheet:
    """The sheet of one nomination; `form` is already masked when the reader may not see personal data."""
    document = policy.document["form"]
    opinions = []
    for index, stage in enumerate(policy.stages):
        decided = decisions.get(index)
        if decided is None:
            opinions.append(Opinion(stage.name, "", "", _zh_date(None)))
            continue
        text = DECISION_ZH[decided["decision"]]
        if decided.get("opinion"):
            text = f"{text}。{decided['opinion']}"
        seal = decided.get("seal_unit_name") or seal_names.get(stage.org_level, "")
        date = _as_date(decided.get("seal_date")) or _as_date(decided.get("at"))
        opinions.append(Opinion(stage.name, text, seal, _zh_date(date)))
    return FormSheet(
        title=document["title_zh"],
        filled_on=filled_on.isoformat() if filled_on else "",
        rows=tuple(_with_photo(_layout(document["fields"], form))),
        attestation_label=document.get("attestation_zh") or "填写人对上述所填内容真实性负责并签字",
        signer=signer or "",
        opinions=tuple(opinions),
        note=f"备注：{document['print_note_zh']}。" if document.get("print_note_zh") else "",
        masked=masked,
    )
