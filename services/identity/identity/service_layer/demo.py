"""The demo seed: the demo organisation tree and one account per role, for `make run` and demos."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from identity.service_layer import directory
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from shared.principal import Grant, Principal

DEMO_ORGS = Path(__file__).resolve().parent.parent / "demo" / "orgs-demo.csv"

# username, name, org, role (granted at the org; None = platform-wide)
DEMO_ACCOUNTS: list[tuple[str, str, str, str, str | None]] = [
    ("admin", "平台管理员", "4108", "platform_admin", None),
    ("city.reviewer", "焦作市教育局审核员", "4108", "city_reviewer", "4108"),
    ("county.reviewer", "解放区教育局审核员", "410802", "county_reviewer", "410802"),
    ("county2.reviewer", "修武县教育局审核员", "410821", "county_reviewer", "410821"),
    ("school.admin", "解放区第一实验小学校长", "4108020001", "school_admin", "4108020001"),
    ("school2.admin", "修武县城关小学校长", "4108210001", "school_admin", "4108210001"),
    ("training.admin", "焦作市培训管理员", "4108", "training_admin", "4108"),
    ("evaluator", "焦作市测评员", "4108", "evaluator", "4108"),
    ("cio", "解放区第一实验小学首席信息官", "4108020001", "cio", "4108020001"),
    ("liaison", "宜春学院信息化联络员", "10417", "liaison", "10417"),
    ("auditor", "审计员", "4108", "auditor", None),
    ("president", "宜春学院校长", "10417", "university_president", "10417"),
    ("office.meeting", "宜春学院校长办公会", "10417", "university_office_meeting", "10417"),
    ("party.committee", "宜春学院党委常委会", "10417", "party_committee", "10417"),
]

SYSTEM = Principal(subject="system:seed", grants=(Grant("platform_admin", "/"),))


def seed(uow_factory: Callable[[], IdentityUnitOfWork], *, orgs_csv: Path | None, out: TextIO) -> None:
    """Idempotent: existing orgs and accounts are left as they are (their passwords too)."""
    report = directory.import_orgs(uow_factory(), SYSTEM, (orgs_csv or DEMO_ORGS).read_bytes())
    print(f"orgs: {report.created} created, {report.unchanged + report.updated} already there", file=out)
    shared_password = os.environ.get("DEMO_PASSWORD")
    lines = []
    for username, name, org_code, role, grant_org in DEMO_ACCOUNTS:
        uow = uow_factory()
        with uow:
            exists = uow.users.by_username(username) is not None
        if exists:
            lines.append(f"  {username:<18} {role:<26} (exists; password unchanged)")
            continue
        password = shared_password or secrets.token_urlsafe(12)
        user = directory.create_user(
            uow_factory(), SYSTEM, directory.CreateUser(username, name, org_code, password=password)
        )
        directory.grant_role(uow_factory(), SYSTEM, user.id, role, grant_org)
        # A password the operator chose is not repeated into the logs; a random one is shown this once.
        lines.append(f"  {username:<18} {role:<26} {'(DEMO_PASSWORD)' if shared_password else password}")
    print("demo accounts (username, role, password — shown once):", file=out)
    print("\n".join(lines), file=out)
