"""Figures of a round and of the caller's area: 报送进度, 首席信息官覆盖率 and the 汇总表 export."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from nominations.domain.masking import mask_value
from nominations.service_layer.batches import batch_in_view
from nominations.service_layer.common import READ_ROLES, REVEAL_ROLES, UowFactory, round_in_view, within
from nominations.service_layer.unit_of_work import NominationsUnitOfWork
from shared.errors import NotFound
from shared.pagination import page
from shared.principal import Principal


def round_progress(
    uow: NominationsUnitOfWork,
    principal: Principal,
    round_id: uuid.UUID,
    *,
    limit: int,
    after: str | None = None,
    county_code: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """报送进度 of a round: the units of the policy's nominee levels under the round's issuing org that the caller
    reads. The figures cover all of them (the count per status, `none` for the units that have not started one, and
    the same per body above them, 按县（市、区）汇总); the units themselves come a page at a time, by path, filtered
    by the body above them and by status, since a city has thousands of schools."""
    with uow:
        round_ = round_in_view(uow, principal, round_id)
        paths = principal.paths(*READ_ROLES)
        units = [
            org
            for org in uow.directory.orgs_within(round_.issuing_org_path, round_.read_policy.nominee_org_levels)
            if any(within(org["path"], p) for p in paths)
        ]
        live = {n.school_org_code: n for n in uow.nominations.stream_for_summary(round_id, paths)}
        parents = uow.directory.orgs_by_path([o["path"].rsplit("/", 1)[0] for o in units if o["parent_code"]])
    counts: dict[str, int] = {}
    by_county: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for org in units:
        parent = parents.get(org["path"].rsplit("/", 1)[0])
        nomination = live.get(org["code"])
        state = nomination.status.value if nomination else None
        counts[state or "none"] = counts.get(state or "none", 0) + 1
        county = by_county.setdefault(
            parent["code"] if parent else "",
            {
                "county_code": parent["code"] if parent else None,
                "county_name": parent["name"] if parent else None,
                "units": 0,
                "counts": {},
            },
        )
        county["units"] += 1
        county["counts"][state or "none"] = county["counts"].get(state or "none", 0) + 1
        if county_code is not None and (parent["code"] if parent else None) != county_code:
            continue
        if status is not None and (state or "none") != status:
            continue
        if after is not None and org["path"] <= after:
            continue
        if len(rows) > limit:
            continue  # the figures above still count every unit; the page has its one extra row already
        rows.append(
            {
                "org_code": org["code"],
                "org_name": org["name"],
                "org_path": org["path"],
                "level": org["level"],
                "county_code": parent["code"] if parent else None,
                "county_name": parent["name"] if parent else None,
                "nomination_id": nomination.id if nomination else None,
                "status": state,
                "candidate_name": nomination.candidate.get("display_name") if nomination else None,
                "returned_at_stage": nomination.returned_at_stage if nomination else None,
                "submitted_at": nomination.submitted_at if nomination else None,
                "updated_at": nomination.updated_at if nomination else None,
            }
        )
    shown = page(rows, limit, lambda u: u["org_path"])
    return {
        "round_id": round_id,
        "units": shown["items"],
        "next_cursor": shown["next_cursor"],
        "counts": counts,
        "by_county": list(by_county.values()),
    }


NOMINEE_LEVELS = ("school", "university")


def coverage(
    uow: NominationsUnitOfWork,
    principal: Principal,
    org_code: str | None,
    *,
    limit: int,
    after: str | None = None,
) -> dict[str, Any]:
    """首席信息官覆盖率: the schools and universities in the caller's scope (or under one org of it), how many have
    a CIO appointed and in office, and the same per body above them (贺兰县's plan: every school by 2025). The
    totals cover every unit; the bodies come a page at a time, by path (a province's grant reaches hundreds)."""
    with uow:
        paths = principal.paths(*READ_ROLES)
        if org_code:
            org = uow.directory.org(org_code)
            if org is None or not principal.can(org["path"], *READ_ROLES):
                raise NotFound("No such organisation.")
            roots = [org["path"]]
        else:
            roots = paths
        units: dict[str, dict[str, Any]] = {}
        for root in roots:
            for unit in uow.directory.orgs_within(root, NOMINEE_LEVELS):
                if any(within(unit["path"], p) for p in paths):
                    units[unit["code"]] = unit
        appointed = uow.directory.units_with_appointment(list(units))
        parents = uow.directory.orgs_by_path(sorted({u["path"].rsplit("/", 1)[0] for u in units.values()}))
    by_parent: dict[str, dict[str, Any]] = {}
    for unit in sorted(units.values(), key=lambda u: u["path"]):
        parent_path = unit["path"].rsplit("/", 1)[0]
        parent = parents.get(parent_path)
        key = parent["code"] if parent else unit["code"]
        row = by_parent.setdefault(
            key,
            {
                "org_code": key,
                "org_name": parent["name"] if parent else unit["name"],
                "units": 0,
                "appointed": 0,
                "path": parent_path if parent else unit["path"],
            },
        )
        row["units"] += 1
        row["appointed"] += unit["code"] in appointed
    bodies = sorted(by_parent.values(), key=lambda r: r["path"])
    shown = page([r for r in bodies if after is None or r["path"] > after][: limit + 1], limit, lambda r: r["path"])
    return {
        "units": len(units),
        "appointed": len(appointed),
        "by_parent": [{k: v for k, v in r.items() if k != "path"} for r in shown["items"]],
        "next_cursor": shown["next_cursor"],
    }


STATUS_ZH = {
    "draft": "草稿",
    "submitted": "已提交",
    "under_review": "审核中",
    "returned": "退回修改",
    "resubmitted": "已重新提交",
    "approved": "已批准",
    "rejected": "未通过",
    "withdrawn": "已撤回",
}


@dataclass
class SummaryTable:
    title: str
    header: list[str]
    rows: Iterator[list[str]]


def summary_table(
    uow_factory: UowFactory,
    principal: Principal,
    round_id: uuid.UUID,
    *,
    org_code: str | None,
    reveal: bool,
    batch_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> SummaryTable:
    """汇总表 of a round for the caller's subtree (or one org in it, or the forms of one county's batch);
    personal data masked unless revealed.

    The rows are produced lazily from a server-side cursor; the unit of work stays open until they are read.
    """
    only: list[uuid.UUID] | None = None
    with uow_factory() as uow:
        round_ = round_in_view(uow, principal, round_id)
        policy = round_.read_policy
        paths = principal.paths(*READ_ROLES)
        if batch_id is not None:
            batch = batch_in_view(uow, principal, round_id, batch_id)
            only = [uuid.UUID(i) for i in batch.nomination_ids]
            paths = [batch.org_path]
        elif org_code:
            org = uow.directory.org(org_code)
            if org is None or not principal.can(org["path"], *READ_ROLES):
                raise NotFound("No such organisation.")
            paths = [org["path"]]
        if reveal:
            # Full personal data only of the subtrees where the caller holds a role that needs it: a second,
            # read-only grant elsewhere (auditor) must not widen an unmasked export.
            paths = [p for p in paths if principal.can(p, *REVEAL_ROLES)]
            if not paths:
                raise NotFound("No such round.")
            uow.audit(
                "summary.personal_export",
                actor=principal.subject,
                target=str(round_id),
                details={"paths": paths, "reason": reason},
            )
            uow.commit()
    columns = policy.summary_columns
    personal = {
        f"form.{f.name}": (f.type if f.type in ("phone", "email", "date") else "text")
        for f in policy.fields
        if f.personal
    }

    def rows() -> Iterator[list[str]]:
        with uow_factory() as uow:
            counties: dict[str, str] = {}
            for nomination in uow.nominations.stream_for_summary(round_id, paths, only=only):
                county_path = nomination.school_org_path.rsplit("/", 1)[0]
                if "county_name" in {c["key"] for c in columns} and county_path not in counties:
                    found = uow.directory.orgs_by_path([county_path])
                    counties[county_path] = found[county_path]["name"] if county_path in found else ""
                row: list[str] = []
                for column in columns:
                    key = column["key"]
                    value: Any
                    if key.startswith("form."):
                        value = nomination.form.get(key[5:])
                        if key in personal and not reveal:
                            value = mask_value(personal[key], value)
                    elif key == "status":
                        value = STATUS_ZH.get(nomination.status.value, nomination.status.value)
                    elif key == "county_name":
                        value = counties.get(county_path, "")
                    elif key == "school_code":
                        value = nomination.school_org_code
                    elif key == "candidate_name":
                        value = nomination.candidate.get("display_name")
                    elif key == "submitted_at":
                        value = nomination.submitted_at.isoformat() if nomination.submitted_at else ""
                    elif key == "revision":
                        value = nomination.revision
                    else:
                        value = nomination.school_name
                    row.append(
                        ""
                        if value is None
                        else str(value)
                        if not isinstance(value, bool)
                        else ("是" if value else "否")
                    )
                yield row

    return SummaryTable(
        title=f"{policy.document['form']['title_zh']}汇总表", header=[c["label_zh"] for c in columns], rows=rows()
    )
