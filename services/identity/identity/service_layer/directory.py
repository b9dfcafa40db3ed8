"""Handlers for organisations, users and role grants, including the CSV imports a digital base exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from identity.adapters.orm import orgs as orgs_table
from identity.adapters.orm import users as users_table
from identity.adapters.passwords import hash_password
from identity.domain.model import PLATFORM_PATH, ROLES, DomainError, Org, OrgLevel, User, clean_profile
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from shared import tabular
from shared.db import read_outside_transaction
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error, refused, row_error
from shared.principal import Principal
from shared.scope import within_any
from shared.validators import is_email

ADMIN = "platform_admin"
# Every role reads the directory within its subtree except the CIO and the liaison, who act on their own records.
READER_ROLES = tuple(sorted(ROLES - {"cio", "liaison"}))
PHONE = re.compile(r"^1\d{10}$")
MAX_IMPORT_ROWS = 50_000


def _require_admin_over(actor: Principal, org: Org | None) -> None:
    """Administering inside an org needs platform_admin at or above it; at the top level, platform-wide."""
    if org is None:
        if "/" not in actor.paths(ADMIN):
            raise NotFound("No such parent organisation.")
        return
    actor.require_within(org.path, ADMIN, what="organisation")


# -- organisations -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateOrg:
    code: str
    name: str
    level: str
    parent_code: str | None = None


def create_org(uow: IdentityUnitOfWork, actor: Principal, cmd: CreateOrg) -> Org:
    with uow:
        parent = uow.orgs.get(cmd.parent_code) if cmd.parent_code else None
        if cmd.parent_code and parent is None:
            raise NotFound("No such parent organisation.", errors=[field_error("parent_code", "not found")])
        _require_admin_over(actor, parent)
        if uow.orgs.get(cmd.code) is not None:
            raise Conflict(
                f"An organisation with code {cmd.code} exists.", errors=[field_error("code", "already used")]
            )
        try:
            org = Org(cmd.code, cmd.name, OrgLevel(cmd.level), parent)
        except DomainError as exc:
            raise refused(exc) from exc
        uow.orgs.add(org)
        uow.audit("org_created", actor=actor.subject, target=org.code, details={"path": org.path})
        uow.commit()
        return org


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, row: int, column: str, zh: str, en: str) -> None:
        self.errors.append(row_error(row, column, en, zh))

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
        }


def _read_csv(content: bytes, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = tabular.decode_text(content)
    except tabular.UnreadableFile as exc:
        raise Unprocessable("The file is neither UTF-8 nor GB18030 text.") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise Unprocessable(
            f"The header lacks the columns: {', '.join(missing)}.",
            errors=[row_error(1, c, "missing column", "缺少列") for c in missing],
        )
    rows = [
        (index + 2, {(k or "").strip(): (v or "").strip() for k, v in raw.items()}) for index, raw in enumerate(reader)
    ]
    if len(rows) > MAX_IMPORT_ROWS:
        raise Unprocessable(f"At most {MAX_IMPORT_ROWS} rows per file.")
    return rows


def import_orgs(uow: IdentityUnitOfWork, actor: Principal, content: bytes) -> ImportReport:
    """Import `code,name,level,parent_code`; parents may come later in the file. All rows or none."""
    rows = _read_csv(content, ["code", "name", "level", "parent_code"])
    report = ImportReport()
    with uow:
        existing = uow.orgs.by_codes_to_change([r["code"] for _, r in rows if r.get("code")])
        parents = uow.orgs.by_codes([r["parent_code"] for _, r in rows if r.get("parent_code")])
        in_file: dict[str, tuple[int, dict[str, str]]] = {}
        for line, row in rows:
            code = row["code"]
            if not code:
                report.error(line, "code", "机构代码不能为空", "code is required")
                continue
            if code in in_file:
                report.error(
                    line,
                    "code",
                    f"机构代码与第{in_file[code][0]}行重复",
                    f"duplicate of row {in_file[code][0]}",
                )
                continue
            in_file[code] = (line, row)
            if row["level"] not in {lv.value for lv in OrgLevel}:
                report.error(
                    line,
                    "level",
                    "机构层级无效",
                    f"level must be one of {', '.join(lv.value for lv in OrgLevel)}",
                )
            if not row["name"]:
                report.error(line, "name", "机构名称不能为空", "name is required")
        built: dict[str, Org] = dict(existing)
        built.update({c: p for c, p in parents.items() if c not in built})

        outcome: dict[str, Org | None] = {}

        def build(code: str, trail: tuple[str, ...] = ()) -> Org | None:
            """Resolve one row (parents first), once; None when the row or an ancestor is bad."""
            if code not in in_file:
                return built.get(code)
            if code in trail:
                return None
            if code not in outcome:
                outcome[code] = resolve(code, trail)
            return outcome[code]

        def resolve(code: str, trail: tuple[str, ...]) -> Org | None:
            line, row = in_file[code]
            parent: Org | None = None
            if row["parent_code"]:
                if row["parent_code"] in in_file:
                    parent = build(row["parent_code"], (*trail, code))
                    if parent is None:
                        report.error(line, "parent_code", "上级机构有误或成环", "parent is invalid or forms a cycle")
                        return None
                else:
                    parent = built.get(row["parent_code"])
                    if parent is None:
                        report.error(line, "parent_code", "上级机构不存在", "parent org not found")
                        return None
            if code in existing:
                org = existing[code]
                if org.parent_code != (parent.code if parent else None) or org.level.value != row["level"]:
                    report.error(
                        line,
                        "parent_code",
                        "已有机构的上级或层级不能更改",
                        "an existing org's parent or level cannot change",
                    )
                    return None
                return org
            try:
                if (parent is None and "/" not in actor.paths(ADMIN)) or (
                    parent is not None and not actor.can(parent.path, ADMIN)
                ):
                    report.error(line, "parent_code", "无权在该机构下导入", "not within your administration scope")
                    return None
                org = Org(code, row["name"], OrgLevel(row["level"]), parent)
            except (DomainError, ValueError) as exc:
                report.error(line, getattr(exc, "field", None) or "level", "数据无效", str(exc))
                return None
            built[code] = org
            return org

        already_failed = {e["row"] for e in report.errors}
        for code, (line, row) in in_file.items():
            if line in already_failed:
                continue
            org = build(code)
            if org is None:
                continue
            if code in existing:
                if org.name != row["name"]:
                    if not actor.can(org.path, ADMIN):
                        report.error(line, "code", "无权修改该机构", "not within your administration scope")
                        continue
                    org.rename(row["name"])
                    report.updated += 1
                else:
                    report.unchanged += 1
            else:
                report.created += 1
        if report.errors:
            report.errors.sort(key=lambda e: (e["row"], e["column"]))
            raise Unprocessable(f"{len(report.errors)} row(s) are invalid; nothing was imported.", errors=report.errors)
        # Parents before children: the parent_code foreign key is checked row by row.
        for org in sorted((built[c] for c in in_file if c not in existing), key=lambda o: o.path.count("/")):
            uow.orgs.add(org)
        uow.audit("orgs_imported", actor=actor.subject, details=report.as_dict())
        uow.commit()
    return report


def whoami(uow: IdentityUnitOfWork, actor: Principal) -> dict[str, Any]:
    """The caller as the token says, for the portal's shell: each grant names its org by code and name (the
    last segment of the org path is the org's code; a platform-wide grant has none), and whether the browser
    session came from single sign-on (the `idp` claim), where signing out also goes upstream."""
    codes = {g.org_path: g.org_path.rstrip("/").rsplit("/", 1)[-1] or None for g in actor.grants}
    named = [c for c in codes.values() if c]
    names: dict[str, str] = {}
    if named:  # platform-wide grants name no org: no session, no pooled connection checked out and back for nothing
        with uow:
            read_outside_transaction(uow.session)  # one SELECT: no BEGIN, no ROLLBACK
            names = {code: org.name for code, org in uow.orgs.by_codes(named).items()}
    idp = actor.claims.get("idp")
    return {
        "id": actor.subject,
        "username": actor.claims.get("preferred_username"),
        "display_name": actor.name,
        "org_code": actor.claims.get("org"),
        "client_id": actor.client_id,
        "sso": bool(idp),
        "sso_provider": idp,
        "grants": [
            {
                "role": g.role,
                "org_path": g.org_path,
                "org_code": codes[g.org_path],
                "org_name": names.get(codes[g.org_path] or ""),
            }
            for g in sorted(actor.grants, key=lambda g: (g.role, g.org_path))
        ],
    }


def get_org(uow: IdentityUnitOfWork, actor: Principal, code: str) -> Org:
    with uow:
        org = uow.org_to_read(code)  # kept in memory until it changes; else one SELECT by key
        actor.require_within(org.path if org else None, what="organisation")
        assert org is not None
        return org


def list_orgs(
    uow: IdentityUnitOfWork,
    actor: Principal,
    *,
    level: str | None,
    parent_code: str | None,
    after: str | None,
    limit: int,
) -> list[Org]:
    with uow:
        return uow.orgs.list_within(actor.paths(), level=level, parent_code=parent_code, after=after, limit=limit)


# -- users and grants ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateUser:
    username: str
    display_name: str
    org_code: str
    phone: str | None = None
    email: str | None = None
    gender: str | None = None
    birth_date: dt.date | None = None
    external_id: str | None = None
    external_source: str | None = None
    password: str | None = None
    locale: str = "zh-CN"


def is_root_admin(actor: Principal) -> bool:
    """platform_admin over the whole platform ("/"), not over one subtree."""
    return PLATFORM_PATH in actor.paths(ADMIN)


def _require_root_for_external_id(actor: Principal) -> None:
    """An external id decides whom a sign-in at the digital base lands in (and with that, whose grants):
    planting one is for the platform's root administrators only, never an administrator of one school."""
    if not is_root_admin(actor):
        raise Forbidden(
            "Only a platform-wide administrator may set an external id.",
            errors=[field_error("external_id", "needs platform_admin at /")],
        )


def _new_user(uow: IdentityUnitOfWork, actor: Principal, cmd: CreateUser) -> User:
    org = uow.orgs.get(cmd.org_code)
    if org is None:
        raise NotFound("No such organisation.", errors=[field_error("org_code", "not found")])
    _require_admin_over(actor, org)
    if cmd.external_id or cmd.external_source:
        _require_root_for_external_id(actor)
        if cmd.external_id and cmd.external_source and _external_id_holder(uow, cmd.external_source, cmd.external_id):
            raise Conflict("Another user has this external id.", errors=[field_error("external_id", "already used")])
    if uow.users.by_username(cmd.username) is not None:
        raise Conflict("The username is taken.", errors=[field_error("username", "already used")])
    try:
        user = User(
            cmd.username,
            cmd.display_name,
            org_code=org.code,
            phone=cmd.phone,
            email=cmd.email,
            gender=cmd.gender,
            birth_date=cmd.birth_date,
            external_id=cmd.external_id,
            external_source=cmd.external_source,
            locale=cmd.locale,
            password_hash=hash_password(cmd.password) if cmd.password else None,
        )
    except DomainError as exc:
        raise refused(exc) from exc
    uow.users.add(user)
    return user


def create_user(uow: IdentityUnitOfWork, actor: Principal, cmd: CreateUser) -> User:
    with uow:
        user = _new_user(uow, actor, cmd)
        uow.audit("user_created", actor=actor.subject, target=str(user.id), details={"org": cmd.org_code})
        if user.external_id:
            _audit_external_id(uow, actor, user)
        uow.commit()
        return user


def _external_id_holder(uow: IdentityUnitOfWork, source: str, external_id: str) -> str | None:
    """The username of the user who is `external_id` at `source`, if any."""
    found = uow.session.execute(
        select(users_table.c.username).where(
            users_table.c.external_source == source, users_table.c.external_id == external_id
        )
    ).scalar_one_or_none()
    return str(found) if found is not None else None


def _external_id_holders(uow: IdentityUnitOfWork, external_ids: list[str]) -> dict[tuple[str, str], str]:
    """Who holds these external ids already, by (source, id), in queries of a thousand."""
    held: dict[tuple[str, str], str] = {}
    for start in range(0, len(external_ids), 1000):
        chunk = external_ids[start : start + 1000]
        query = select(users_table.c.external_source, users_table.c.external_id, users_table.c.username).where(
            users_table.c.external_id.in_(chunk), users_table.c.external_source.is_not(None)
        )
        for source, external_id, username in uow.session.execute(query):
            held[(source, external_id)] = username
    return held


def _audit_external_id(uow: IdentityUnitOfWork, actor: Principal, user: User) -> None:
    uow.audit(
        "external_id_set",
        actor=actor.subject,
        target=str(user.id),
        details={"external_source": user.external_source, "external_id": user.external_id},
    )


def user_in_scope(uow: IdentityUnitOfWork, actor: Principal, user_id: uuid.UUID, *roles: str) -> User:
    user = uow.users.get(user_id)
    org = uow.orgs.get(user.org_code) if user and user.org_code else None
    if user is None or org is None or not actor.can(org.path, *roles):
        raise NotFound("No such user.")
    return user


def get_user(uow: IdentityUnitOfWork, actor: Principal, user_id: uuid.UUID) -> User:
    with uow:
        if str(user_id) == actor.subject:
            user = uow.users.get(user_id)
            if user is None:
                raise NotFound("No such user.")
            return user
        return user_in_scope(uow, actor, user_id, *READER_ROLES)


def list_users(
    uow: IdentityUnitOfWork,
    actor: Principal,
    *,
    org_code: str | None,
    after: str | None,
    limit: int,
    q: str | None,
) -> list[User]:
    with uow:
        paths = actor.paths(*READER_ROLES)
        codes = select(orgs_table.c.code).where(within_any(orgs_table.c.path, paths))
        if org_code:
            org = uow.orgs.get(org_code)
            actor.require_within(org.path if org else None, *READER_ROLES, what="organisation")
            assert org is not None
            codes = select(orgs_table.c.code).where(within_any(orgs_table.c.path, [org.path]))
        return uow.users.list_in_orgs(codes, after=after, limit=limit, q=q)


def grant_role(
    uow: IdentityUnitOfWork, actor: Principal, user_id: uuid.UUID, role: str, org_code: str | None
) -> tuple[User, Any]:
    with uow:
        user = user_in_scope(uow, actor, user_id, ADMIN)
        org = uow.orgs.get(org_code) if org_code else None
        if org_code and org is None:
            raise NotFound("No such organisation.", errors=[field_error("org_code", "not found")])
        _require_admin_over(actor, org)
        if role not in ROLES:
            raise Unprocessable(
                "Unknown role.", errors=[field_error("role", f"must be one of {', '.join(sorted(ROLES))}")]
            )
        try:
            grant = user.grant(role, org, by=actor.subject)
        except DomainError as exc:
            raise refused(exc) from exc
        uow.audit(
            "role_granted",
            actor=actor.subject,
            target=str(user.id),
            details={"role": role, "org_path": grant.org_path},
        )
        uow.commit()
        return user, grant


def revoke_role(uow: IdentityUnitOfWork, actor: Principal, user_id: uuid.UUID, grant_id: uuid.UUID) -> None:
    with uow:
        user = user_in_scope(uow, actor, user_id, ADMIN)
        grant = next((g for g in user.grants if g.id == grant_id), None)
        if grant is None or not actor.can(grant.org_path, ADMIN):
            raise NotFound("No such grant.")
        user.revoke(grant_id, by=actor.subject)
        uow.audit(
            "role_revoked",
            actor=actor.subject,
            target=str(user.id),
            details={"role": grant.role, "org_path": grant.org_path},
        )
        uow.commit()


def import_users(uow: IdentityUnitOfWork, actor: Principal, content: bytes) -> ImportReport:
    """Import `username,display_name,org_code[,phone,email,gender,birth_date,external_id,external_source,roles]`;
    all rows or none.

    `roles` is a `;`-separated list granted at the user's org. An existing username updates its profile only
    when that user is already inside the importer's subtree: otherwise the row would move someone from
    elsewhere on the platform into it (and let the importer rewrite their phone and e-mail), so it is a row
    error. External ids (with their `external_source`) are for platform-wide administrators only.
    """
    rows = _read_csv(content, ["username", "display_name", "org_code"])
    report = ImportReport()
    with uow:
        org_by_code = uow.orgs.by_codes(sorted({r["org_code"] for _, r in rows if r["org_code"]}))
        existing = uow.users.by_usernames(sorted({r["username"].lower() for _, r in rows if r["username"]}))
        home_orgs = uow.orgs.by_codes(sorted({u.org_code for u in existing.values() if u.org_code}))
        root = is_root_admin(actor)
        linked: dict[tuple[str, str], int] = {}
        holders = _external_id_holders(uow, sorted({r["external_id"] for _, r in rows if r.get("external_id")}))
        seen: dict[str, int] = {}
        parsed: list[tuple[int, dict[str, Any], list[str]]] = []
        for line, row in rows:
            username = row["username"].lower()
            bad = len(report.errors)
            if not username:
                report.error(line, "username", "用户名不能为空", "username is required")
            elif username in seen:
                report.error(
                    line,
                    "username",
                    f"用户名与第{seen[username]}行重复",
                    f"duplicate of row {seen[username]}",
                )
            seen.setdefault(username, line)
            if not row["display_name"]:
                report.error(line, "display_name", "姓名不能为空", "display_name is required")
            org = org_by_code.get(row["org_code"])
            if org is None:
                report.error(line, "org_code", "机构不存在", "org not found")
            elif not actor.can(org.path, ADMIN):
                report.error(line, "org_code", "无权在该机构下导入", "not within your administration scope")
            phone = row.get("phone") or None
            if phone and not PHONE.match(phone):
                report.error(line, "phone", "手机号格式不正确", "phone must be 11 digits starting with 1")
            email = row.get("email") or None
            if email and not is_email(email):
                report.error(line, "email", "电子邮箱格式不正确", "email is not valid")
            birth: dt.date | None = None
            if row.get("birth_date"):
                try:
                    birth = dt.date.fromisoformat(row["birth_date"])
                except ValueError:
                    report.error(line, "birth_date", "出生日期应为YYYY-MM-DD", "birth_date must be YYYY-MM-DD")
            held = existing.get(username)
            if held is not None:
                home = home_orgs.get(held.org_code or "")
                if home is None or not actor.can(home.path, ADMIN):
                    report.error(
                        line,
                        "username",
                        "该用户名已被本单位管理范围之外的用户使用",
                        "the username belongs to a user outside your administration scope",
                    )
            external_id = row.get("external_id") or None
            external_source = row.get("external_source") or None
            if external_id or external_source:
                if not root:
                    report.error(
                        line, "external_id", "只有平台管理员可以设置外部标识", "only a platform-wide admin may set it"
                    )
                elif not (external_id and external_source):
                    report.error(
                        line,
                        "external_source",
                        "外部标识须与其来源（统一身份认证入口）一同填写",
                        "external_id and external_source go together",
                    )
                elif (external_source, external_id) in linked:
                    report.error(
                        line, "external_id", f"外部标识与第{linked[(external_source, external_id)]}行重复", "duplicate"
                    )
                elif holders.get((external_source, external_id), username) != username:
                    report.error(line, "external_id", "外部标识已属于其他用户", "another user has this external id")
                else:
                    linked[(external_source, external_id)] = line
            try:
                # 学历, 民族, 教龄, 现任行政职务, 专业技术职务, 政治面貌: optional columns the forms prefill
                profile = clean_profile({k: row.get(k) for k in User.PROFILE_KEYS})
            except DomainError as exc:
                report.error(line, exc.field or "profile", "个人信息格式不正确", str(exc))
                profile = {}
            roles = [r.strip() for r in (row.get("roles") or "").split(";") if r.strip()]
            unknown = [r for r in roles if r not in ROLES]
            if unknown:
                report.error(line, "roles", "角色无效", f"unknown roles: {', '.join(unknown)}")
            if len(report.errors) == bad:
                data: dict[str, Any] = {
                    "username": username,
                    "display_name": row["display_name"],
                    "org_code": row["org_code"],
                    "phone": phone,
                    "email": email,
                    "gender": row.get("gender") or None,
                    "birth_date": birth,
                    "external_id": external_id,
                    "external_source": external_source,
                    "profile": profile,
                }
                parsed.append((line, data, roles))
        if report.errors:
            raise Unprocessable(f"{len(report.errors)} row(s) are invalid; nothing was imported.", errors=report.errors)
        for line, data, roles in parsed:
            org = org_by_code[str(data["org_code"])]
            user = existing.get(str(data["username"]))
            if user is None:
                try:
                    user = User(**data)
                except DomainError as exc:
                    report.error(line, exc.field or "username", "数据无效", str(exc))
                    continue
                uow.users.add(user)
                report.created += 1
                if user.external_id:
                    _audit_external_id(uow, actor, user)
            else:
                before = len(user.events)
                user.update_profile(
                    **{k: v for k, v in data.items() if k not in ("username", "external_id", "external_source")}
                )
                # A root administrator may name the source of an existing account (one imported before
                # external ids had sources, say); checked above, audited here.
                if data["external_id"] and user.link_external(data["external_source"], data["external_id"]):
                    _audit_external_id(uow, actor, user)
                if len(user.events) > before:
                    report.updated += 1
                else:
                    report.unchanged += 1
            for role in roles:
                user.grant(role, org, by=actor.subject, source="import")
        if report.errors:
            raise Unprocessable(f"{len(report.errors)} row(s) are invalid; nothing was imported.", errors=report.errors)
        uow.audit("users_imported", actor=actor.subject, details=report.as_dict())
        uow.commit()
    return report
