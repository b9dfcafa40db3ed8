"""The world the authorization matrix runs in: records of every kind the API names by id, at two schools of
焦作市 (解放区第一实验小学 under 解放区, 修武县城关小学 under 修武县), and a few outside the city (贺兰县), so every
demo role has a record inside its subtree and one outside it where such a record can exist.

Built through the gateway as the journeys do (SPEC §6): a candidate per school with a certificate, a round, a
nomination submitted and approved up the chain to an appointment, a change filing, a delegation, a training per
county, inbox messages, and governance's catalogue entry, a plan per county and a registered system per school.
Shared by tests/e2e/test_authz_matrix_e2e.py and scripts/authz_matrix.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from shared import clock
from shared.scope import path_within
from tests.e2e.batches import city_task_released, county_sends_its_batch
from tests.e2e.conftest import DEMO_PASSWORD, Stack, token
from tests.helpers import wait_until

# The demo accounts (identity's seed-demo) and the org subtree each one's grant covers ("/" = platform-wide).
ROLES: dict[str, str] = {
    "admin": "/",
    "auditor": "/",
    "city.reviewer": "/4108",
    "training.admin": "/4108",
    "evaluator": "/4108",
    "county.reviewer": "/4108/410802",
    "county2.reviewer": "/4108/410821",
    "school.admin": "/4108/410802/4108020001",
    "cio": "/4108/410802/4108020001",
    "school2.admin": "/4108/410821/4108210001",
    "liaison": "/10417",
    "president": "/10417",
    "office.meeting": "/10417",
    "party.committee": "/10417",
}
SCHOOLS = {"A": ("4108020001", "/4108/410802/4108020001"), "B": ("4108210001", "/4108/410821/4108210001")}
OUTSIDE = ("6401220001", "/640122/6401220001")  # 贺兰县第一小学: outside 焦作市
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAFElEQVR4nGM8ISfHwMDAxMDAgKAAFEoBCqHkTQMAAAAASUVORK5CYII="
)


# The harnesses' client address: their stack's gateway leaves it out of the rate limits (harness/conftest.py).
UNLIMITED_CLIENT = "127.0.0.2"


class FromAddress(HTTPAdapter):
    """Connections from a chosen local address (the unlimited client of the harness stack)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def unlimited_session() -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(UNLIMITED_CLIENT))
    return session


class Client:
    def __init__(self, stack: Stack, username: str, password: str = DEMO_PASSWORD) -> None:
        self.base = stack.gateway
        self.session = unlimited_session()
        self.session.headers["Authorization"] = f"Bearer {token(stack, username, password)}"

    def call(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.base}{path}", timeout=30, **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response


@dataclass
class Record:
    """One record the API names by id, and the org path that scopes it (None: the caller's own, e.g. inbox)."""

    value: str
    org_path: str | None
    owner: str | None = None  # for per-person records: the demo account it belongs to


@dataclass
class World:
    records: dict[str, list[Record]] = field(default_factory=dict)

    def add(self, kind: str, value: str, org_path: str | None, owner: str | None = None) -> None:
        self.records.setdefault(kind, []).append(Record(value, org_path, owner))

    def pick(self, kind: str, role: str, where: str) -> Record | None:
        """A record of `kind` inside (`where`="in") or outside ("out") the subtree of `role`'s grant; for records
        that belong to a person, "in" is the caller's own and "out" someone else's."""
        subtree = ROLES[role]
        for record in self.records.get(kind, []):
            if record.owner is not None:
                mine = record.owner == role
            elif record.org_path is None:
                mine = True
            else:
                # a record of the caller's subtree, or of an org above it (the city's round for a school)
                mine = path_within(record.org_path, subtree) or path_within(subtree, record.org_path)
            if mine == (where == "in"):
                return record
        return None


def _user(admin: Client, name: str, org_code: str) -> dict[str, Any]:
    body = {
        "username": f"authz.{uuid.uuid4().hex[:8]}",
        "display_name": name,
        "org_code": org_code,
        "phone": "13800138000",
        "email": "authz@example.cn",
        "gender": "男",
        "birth_date": "1978-05-04",
        "password": DEMO_PASSWORD,
    }
    return dict(admin.call("POST", "/api/users", expect=201, json=body).json())


def build(stack: Stack) -> World:
    world = World()
    admin = Client(stack, "admin")
    trainer = Client(stack, "training.admin")
    city = Client(stack, "city.reviewer")
    schools = {"A": Client(stack, "school.admin"), "B": Client(stack, "school2.admin")}
    counties = {"A": Client(stack, "county.reviewer"), "B": Client(stack, "county2.reviewer")}

    for code, path in [*SCHOOLS.values(), OUTSIDE, ("10417-IT", "/10417/10417-IT")]:
        world.add("org", code, path)
    world.add("policy", "jiaozuo-2022", None)

    people: dict[str, dict[str, Any]] = {}
    for side, (code, path) in [*SCHOOLS.items(), ("X", OUTSIDE)]:
        person = _user(admin, f"矩阵候选人{side}", code)
        people[side] = person
        world.add("user", person["id"], path)
        grant = admin.call(
            "POST", f"/api/users/{person['id']}/grants", expect=201, json={"role": "evaluator", "org_code": code}
        ).json()
        world.add("grant", f"{person['id']}/{grant['id']}", path)

    # Certificates (合格证) at both schools: the candidates qualify.
    for side in SCHOOLS:
        number = f"JZ-AUTHZ-{uuid.uuid4().hex[:8]}"

        def recorded(side: str = side, number: str = number) -> dict[str, Any] | None:
            r = trainer.call(
                "POST",
                "/api/certificates",
                expect=None,
                json={
                    "number": number,
                    "person_user_id": people[side]["id"],
                    "kind": "cio",
                    "level": "city",
                    "issuer": "焦作市教育局",
                    "issued_on": "2026-06-01",
                },
            )
            return r.json() if r.status_code == 201 else None

        certificate = wait_until(recorded, 30, 0.3, "training knows the candidate")
        world.add("certificate", certificate["id"], SCHOOLS[side][1])
        world.add("person", people[side]["id"], SCHOOLS[side][1])

    # Trainings organised by each county.
    for side, county_code in (("A", "410802"), ("B", "410821")):
        training = trainer.call(
            "POST",
            "/api/trainings",
            expect=201,
            json={
                "title": f"信息化领导力培训{side}",
                "kind": "cio",
                "level": "county",
                "organiser_org_code": county_code,
                "starts_on": "2026-09-01",
                "ends_on": "2026-09-03",
                "hours": 24,
                "centralized": True,
            },
        ).json()
        world.add("training", training["id"], SCHOOLS[side][1].rsplit("/", 1)[0])

    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(days=20)).isoformat()
    round_ = city.call(
        "POST",
        "/api/rounds",
        expect=201,
        json={"title": "矩阵测试推荐", "policy_id": "jiaozuo-2022", "issuing_org_code": "4108", "deadline": deadline},
    ).json()
    world.add("round", round_["id"], "/4108")

    today = clock.today().isoformat()
    for side, (code, path) in SCHOOLS.items():
        school, county = schools[side], counties[side]
        person = people[side]

        def created(school: Client = school, code: str = code, person: dict[str, Any] = person) -> Any:
            r = school.call(
                "POST",
                "/api/nominations",
                expect=None,
                json={"round_id": round_["id"], "school_org_code": code, "candidate_user_id": person["id"]},
            )
            return r if r.status_code == 201 else None

        nomination = wait_until(created, 30, 0.3, "nominations knows the candidate")
        nid, etag = nomination.json()["id"], nomination.headers["ETag"]
        world.add("nomination", nid, path)
        # 证明材料 of that nomination (the certificate's scan), by (nomination, kind)
        world.add("evidence", f"{nid}/certificate_scan", path)
        form = {
            "education": "本科",
            "ethnicity": "汉族",
            "teaching_years": 25,
            "administrative_post": "校长",
            "professional_title": "高级教师",
            "postal_address": "焦作市解放区民主路1号",
            "work_achievements": "推进智慧校园建设。",
            "post_kind": "principal",
            "years_in_it_management": 3,
        }
        etag = school.call("PATCH", f"/api/nominations/{nid}", json={"form": form}, headers={"If-Match": etag}).headers[
            "ETag"
        ]
        etag = school.call(
            "PUT", f"/api/nominations/{nid}/photo", data=PNG, headers={"If-Match": etag, "Content-Type": "image/png"}
        ).headers["ETag"]
        etag = school.call(
            "POST",
            f"/api/nominations/{nid}/attestation",
            json={"signer_name": "李老师", "confirm": True},
            headers={"If-Match": etag},
        ).headers["ETag"]
        wait_until(
            lambda school=school, nid=nid: school.call("GET", f"/api/nominations/{nid}/eligibility").json()["eligible"],
            30,
            0.3,
            "the certificate reached nominations",
        )
        school.call("POST", f"/api/nominations/{nid}/submit", headers={"If-Match": etag})

        def task(client: Client, nid: str = nid) -> dict[str, Any] | None:
            items = client.call("GET", "/api/tasks").json()["items"]
            return next((t for t in items if t["nomination_id"] == nid and t["status"] == "open"), None)

        unit = wait_until(lambda school=school: task(school), 30, 0.3, "the unit's task")
        world.add("case", unit["case_id"], path)
        school.call(
            "POST",
            f"/api/tasks/{unit['id']}/decision",
            json={"decision": "approve", "opinion": "同意推荐", "seal": {"unit_name": "学校", "date": today}},
        )
        county_task = wait_until(lambda county=county: task(county), 30, 0.3, "the county's task")
        world.add("task", county_task["id"], county_task["org_path"])
        county.call(
            "POST",
            f"/api/tasks/{county_task['id']}/decision",
            json={"decision": "approve", "opinion": "符合条件", "seal": {"unit_name": "教育局", "date": today}},
        )
        # 报送至市教育局: the county sends its batch before the city decides
        county_sends_its_batch(county, round_["id"], county_task["org_code"], nid)
        city_task = city_task_released(city, nid)
        city.call(
            "POST",
            f"/api/tasks/{city_task['id']}/decision",
            json={
                "decision": "approve",
                "opinion": "同意聘任",
                "seal": {"unit_name": "焦作市教育局", "date": today},
                "document_number": f"焦教文〔2026〕{side}号",
            },
        )

        def appointed(person: dict[str, Any] = person) -> dict[str, Any] | None:
            items = city.call("GET", "/api/appointments").json()["items"]
            return next((a for a in items if a["person_user_id"] == person["id"]), None)

        appointment = wait_until(appointed, 30, 0.3, "the appointment")
        world.add("appointment", appointment["id"], path)
        filing = school.call(
            "POST",
            f"/api/appointments/{appointment['id']}/filings",
            expect=201,
            json={"kind": "contact", "change": "联系电话变更", "details": {"phone": "13900139000"}},
        ).json()
        world.add("filing", f"{appointment['id']}/{filing['id']}", path)
        # A delegation (代理审批) to a colleague holding the same role at the same bureau.
        county_path = path.rsplit("/", 1)[0]
        deputy = _user(admin, f"矩阵代理审核员{side}", county_path.rsplit("/", 1)[-1])
        admin.call(
            "POST",
            f"/api/users/{deputy['id']}/grants",
            expect=201,
            json={"role": "county_reviewer", "org_code": county_path.rsplit("/", 1)[-1]},
        )

        def delegated(county: Client = county, deputy: dict[str, Any] = deputy, county_path: str = county_path) -> Any:
            r = county.call(
                "POST",
                "/api/tasks/delegations",
                expect=None,
                json={
                    "delegate_user_id": deputy["id"],
                    "role": "county_reviewer",
                    "org_path": county_path,
                    "starts_on": today,
                    "ends_on": (clock.today() + dt.timedelta(days=30)).isoformat(),
                },
            )
            return r.json() if r.status_code == 201 else None

        delegation = wait_until(delegated, 30, 0.3, "approvals knows the deputy's grant")
        world.add("delegation", delegation["id"], county_path)

    # Governance: the city's catalogue, a plan per county (信息化项目建设方案), a registered system per school.
    entry = city.call(
        "POST",
        "/api/platform-catalogue",
        expect=201,
        json={"org_code": "4108", "code": f"authz-{uuid.uuid4().hex[:6]}", "kind": "function", "name": "矩阵统一认证"},
    ).json()
    world.add("catalogue_entry", entry["id"], "/4108")
    for side, (code, path) in SCHOOLS.items():
        county_path = path.rsplit("/", 1)[0]
        plan_body = {
            "unit_org_code": county_path.rsplit("/", 1)[1],
            "title": "矩阵测试项目",
            "budget": "1000.00",
            "funding_source": "区级财政",
            "functions": ["智慧课堂"],
            "starts_on": today,
            "ends_on": today,
        }

        def planned(county: Client = counties[side], body: dict[str, Any] = plan_body) -> Any:
            made = county.call("POST", "/api/project-plans", expect=None, json=body)
            return made.json() if made.status_code == 201 else None  # governance learns the orgs by events

        world.add("plan", wait_until(planned, 30, 0.3, "governance knows the county")["id"], county_path)
        system = (
            schools[side]
            .call(
                "POST",
                "/api/application-systems",
                expect=201,
                json={"org_code": code, "name": "矩阵应用", "owner": "信息中心", "purpose": "教学"},
            )
            .json()
        )
        world.add("application", system["id"], path)

    # 月调度, network security work: this month's report and a scheduling meeting (with an action item) per county,
    # an inspection (with a finding) and an emergency plan per school; 宜春学院's committee.
    month = clock.today().strftime("%Y-%m")
    for side, (code, path) in SCHOOLS.items():
        county_path = path.rsplit("/", 1)[0]
        county, district = counties[side], county_path.rsplit("/", 1)[1]
        report = county.call(
            "POST",
            "/api/progress-reports",
            expect=201,
            json={"district_code": district, "month": month, "overall": "矩阵"},
        ).json()
        world.add("report", report["id"], county_path)
        meeting = county.call(
            "POST",
            "/api/scheduling-meetings",
            expect=201,
            json={
                "org_code": district,
                "held_on": today,
                "title": "矩阵调度会",
                "attendees": ["矩阵"],
                "minutes": "矩阵",
                "action_items": [{"title": "矩阵", "owner": "矩阵", "due_on": today}],
            },
        ).json()
        world.add("meeting", meeting["id"], county_path)
        world.add("action_item", f"{meeting['id']}/{meeting['action_items'][0]['id']}", county_path)
        check = county.call(
            "POST",
            "/api/security-checks",
            expect=201,
            json={
                "org_code": code,
                "kind": "inspection",
                "held_on": today,
                "title": "矩阵检查",
                "findings": [{"description": "矩阵", "severity": "low", "rectification": "矩阵", "due_on": today}],
            },
        ).json()
        world.add("security_check", check["id"], path)
        world.add("finding", f"{check['id']}/{check['findings'][0]['id']}", path)
        schools[side].call(
            "PUT",
            f"/api/emergency-plans/{code}",
            expect=201,
            json={"title": "矩阵预案", "document_url": "https://files.example.cn/p.pdf", "last_reviewed_on": today},
        )
    Client(stack, "president").call(
        "PUT",
        "/api/committees/10417",
        expect=201,
        json={
            "name": "矩阵委员会",
            "members": [
                {"name": "校长", "position": "director"},
                {"name": "CIO", "position": "deputy_director", "is_cio": True},
            ],
        },
    )

    # Inbox messages: each demo account's own (the journeys told the reviewers and schools).
    for role in ROLES:
        items = Client(stack, role).call("GET", "/api/inbox").json()["items"]
        if items:
            world.add("message", items[0]["id"], None, owner=role)
    deliveries = admin.call("GET", "/api/deliveries").json().get("items", [])
    for delivery in deliveries[:1]:
        world.add("delivery", delivery["id"], delivery.get("org_path"))
    return world


# -- the matrix: operations from the OpenAPI documents, cells per role and place -----------------------------

OPENAPI_DIR = Path(__file__).resolve().parents[3] / "portal" / "openapi"
SERVICES = ("identity", "nominations", "approvals", "training", "notifications", "governance")
METHODS = ("get", "post", "put", "patch", "delete")
# Operations anyone may call without a token (sign-in, keys, the browser's single sign-on, public certificate
# verification): the matrix has nothing to say about them; the data lists each with its reason.
PUBLIC_PREFIXES = ("/sso/", "/api/auth/")
PUBLIC_REASON = (
    "no bearer token by design (sign-in, signing keys, the browser's single sign-on, public verification); "
    "covered by tests/e2e/test_sso_e2e.py, test_token_attacks_e2e.py and the fuzzing"
)
# The record kind a path parameter names.
PARAM_KINDS = {
    "code": "org",
    "user_id": "user",
    "grant_id": "grant",
    "nomination_id": "nomination",
    "round_id": "round",
    "policy_id": "policy",
    "appointment_id": "appointment",
    "filing_id": "filing",
    "evaluation_id": "evaluation",
    "rectification_id": "rectification",
    "case_id": "case",
    "task_id": "task",
    "delegation_id": "delegation",
    "certificate_id": "certificate",
    "job_id": "job",
    "person_id": "person",
    "training_id": "training",
    "delivery_id": "delivery",
    "message_id": "message",
    "number": "certificate_number",
    "kind": "evidence",
    "batch_id": "batch",
    "publication_id": "publication",
    "objection_id": "objection",
    "attachment_id": "attachment",
    "claim_id": "claim",
    "entry_id": "catalogue_entry",
    "plan_id": "plan",
    "system_id": "application",
    "org_code": "org",
    "report_id": "report",
    "meeting_id": "meeting",
    "item_id": "action_item",
    "check_id": "security_check",
    "finding_id": "finding",
}
# Record kinds whose two path parameters come as one "a/b" value.
PAIRED = {
    "grant": ("user_id", "grant_id"),
    "filing": ("appointment_id", "filing_id"),
    "evidence": ("nomination_id", "kind"),
    "batch": ("round_id", "batch_id"),
    "objection": ("publication_id", "objection_id"),
    "attachment": ("rectification_id", "attachment_id"),
    "action_item": ("meeting_id", "item_id"),
    "finding": ("check_id", "finding_id"),
}
# Fields (body or query) that name an org: filled with an org in or out of the caller's subtree.
ORG_FIELDS = (
    "org_code",
    "school_org_code",
    "issuing_org_code",
    "organiser_org_code",
    "parent_code",
    "org",
    "unit_org_code",
    "district_code",
)
ORG_PATH_FIELDS = ("org_path",)
# Body fields that name a record: filled with the record of the same place.
ID_FIELDS = {
    "appointment_id": "appointment",
    "person_user_id": "person",
    "candidate_user_id": "person",
    "delegate_user_id": "user",
    "round_id": "round",
}
# Writes that end something: run after every other cell, so they cannot change what the others meet.
DESTRUCTIVE = ("/revoke", "/withdraw", "/disable", "/end", "/close", "/sign-out-everywhere")


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    spec: dict[str, Any]
    components: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def params(self) -> list[str]:
        return re.findall(r"{([^}]+)}", self.path)

    @property
    def kind(self) -> str | None:
        names = self.params
        return PARAM_KINDS[names[-1]] if names else None

    def query_params(self) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == "query"]

    def body_schema(self) -> tuple[str, dict[str, Any]] | None:
        content = (self.spec.get("requestBody") or {}).get("content") or {}
        for media in ("application/json", "image/png", "multipart/form-data"):
            if media in content:
                return media, self.resolve(content[media].get("schema") or {})
        return None

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    @property
    def names_org(self) -> bool:
        fields = {p["name"] for p in self.query_params()}
        body = self.body_schema()
        if body and body[0] == "application/json":
            fields |= set(body[1].get("properties", {}))
        return bool(fields & {*ORG_FIELDS, *ORG_PATH_FIELDS})

    @property
    def placed(self) -> bool:
        """Whether the operation has an in and an out: it names a record, or an org in its query or body."""
        return self.kind is not None or self.names_org

    @property
    def order(self) -> tuple[int, str]:
        if self.method == "get":
            return (0, self.key)
        return (2 if any(self.path.endswith(d) for d in DESTRUCTIVE) or self.method == "delete" else 1, self.key)


def operations() -> list[Operation]:
    found = []
    for service in SERVICES:
        document = json.loads((OPENAPI_DIR / f"{service}.json").read_text(encoding="utf-8"))
        components = document.get("components", {}).get("schemas", {})
        for path, item in document["paths"].items():
            for method in METHODS:
                if method in item:
                    found.append(Operation(service, method, path, item[method], components))
    return found


def is_public(op: Operation) -> bool:
    return op.path.startswith(PUBLIC_PREFIXES) or op.spec.get("security") == []


def cells(op: Operation) -> list[tuple[str, str]]:
    wheres = ("out", "in") if op.placed else ("any",)
    return [(role, where) for where in wheres for role in ROLES]


@dataclass
class Probe:
    """The request one cell sends; `record` is None when the world has no record of that kind and place."""

    method: str
    url: str
    record: Record | None
    kwargs: dict[str, Any]
    skipped: str | None = None


def _org_for(world: World, role: str, where: str) -> Record | None:
    return world.pick("org", role, "in" if where == "any" else where)


def _value(op: Operation, name: str, schema: dict[str, Any], world: World, role: str, where: str) -> Any:
    schema = op.resolve(schema)
    place = "in" if where == "any" else where
    if name in ORG_FIELDS:
        org = _org_for(world, role, where)
        return org.value if org else "0000"
    if name in ORG_PATH_FIELDS:
        org = _org_for(world, role, where)
        return org.org_path if org else "/0000"
    if name in ID_FIELDS:
        record = world.pick(ID_FIELDS[name], role, place)
        return record.value if record else str(uuid.uuid4())
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    fmt = schema.get("format")
    if kind == "string":
        if fmt == "uuid":
            return str(uuid.uuid4())
        if fmt == "date":
            return clock.today().isoformat()
        if fmt == "date-time":
            return (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).isoformat()
        return "权限矩阵"
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {
            k: _value(op, k, v, world, role, where)
            for k, v in schema.get("properties", {}).items()
            if k in schema.get("required", [])
        }
    return None


# Bodies the schema alone does not make meaningful (the rest come from each request schema's required fields).
BODIES: dict[str, dict[str, Any]] = {
    "PATCH /api/nominations/{nomination_id}": {"form": {"postal_address": "焦作市解放区民主路2号"}},
    "POST /api/nominations/{nomination_id}/attestation": {"signer_name": "李老师", "confirm": True},
    "POST /api/tasks/{task_id}/decision": {
        "decision": "approve",
        "opinion": "同意",
        "seal": {"unit_name": "单位", "date": "2026-12-04"},
    },
    "PUT /api/preferences": {"channels": {}},
    "POST /api/orgs": {"name": "矩阵测试学校", "level": "school"},
    "POST /api/rounds": {"policy_id": "jiaozuo-2022"},
    "POST /api/tasks/delegations": {"role": "county_reviewer"},
    "POST /api/evaluations": {"kind": "annual", "period": 2026},
    "POST /api/users/{user_id}/grants": {"role": "evaluator"},
    "POST /api/platform-catalogue": {"code": "authz-matrix", "kind": "function"},
    "POST /api/project-plans": {"budget": "1000.00"},
    "PUT /api/project-plans/{plan_id}": {"budget": "1000.00"},
    "POST /api/project-plans/{plan_id}/acceptances": {
        "kind": "stage",
        "evidence": [{"name": "验收报告", "url": "https://files.example.cn/acceptance.pdf"}],
    },
    "POST /api/progress-reports": {"month": clock.today().strftime("%Y-%m")},
    "POST /api/scheduling-meetings": {"attendees": ["矩阵"]},
    "POST /api/committees/{org_code}/meetings": {"attendees": ["矩阵"]},
    "PUT /api/emergency-plans/{org_code}": {"document_url": "https://files.example.cn/p.pdf"},
    "PUT /api/committees/{org_code}": {
        "members": [
            {"name": "校长", "position": "director"},
            {"name": "CIO", "position": "deputy_director", "is_cio": True},
        ]
    },
    "POST /api/security-checks/{check_id}/findings/{finding_id}/rectification": {
        "evidence": [{"name": "整改报告", "url": "https://files.example.cn/fix.pdf"}]
    },
}
FILES = {"multipart/form-data": {"file": ("authz.csv", "编号,姓名\n".encode(), "text/csv")}}


def probe(stack: Stack, world: World, op: Operation, role: str, where: str, etag: str | None = None) -> Probe:
    record: Record | None = None
    values: dict[str, str] = {}
    kind = op.kind
    if kind is not None:
        record = world.pick(kind, role, "in" if where == "any" else where)
        if record is None:
            # No record of this kind there: an id nobody has (the answer must still be a refusal, never a 5xx).
            value = f"{uuid.uuid4()}/{uuid.uuid4()}" if kind in PAIRED else str(uuid.uuid4())
        else:
            value = record.value
        if kind in PAIRED:
            first, second = value.split("/", 1)
            values.update(dict(zip(PAIRED[kind], (first, second), strict=True)))
        else:
            values[op.params[-1]] = value
    elif op.names_org:
        record = _org_for(world, role, where)
    url = op.path
    for name, value in values.items():
        url = url.replace("{" + name + "}", value)
    kwargs: dict[str, Any] = {}
    query = {}
    for param in op.query_params():
        name = param["name"]
        if name in ORG_FIELDS or param.get("required"):
            query[name] = _value(op, name, param.get("schema", {}), world, role, where)
    if query:
        kwargs["params"] = query
    body = op.body_schema()
    if body is not None:
        media, schema = body
        if media == "application/json":
            data = {
                k: _value(op, k, v, world, role, where)
                for k, v in schema.get("properties", {}).items()
                if not op.resolve(v).get("readOnly")
                and (k in schema.get("required", []) or k in (*ORG_FIELDS, *ORG_PATH_FIELDS))
            }
            data.update(BODIES.get(op.key, {}))
            if op.key == "POST /api/orgs":
                data["code"] = f"99{uuid.uuid4().int % 10**8:08d}"
            if op.key == "POST /api/users":
                data["username"] = f"authz.{uuid.uuid4().hex[:8]}"
            kwargs["json"] = data
        elif media == "image/png":
            kwargs["data"] = PNG
            kwargs["headers"] = {"Content-Type": "image/png"}
        else:
            kwargs["files"] = FILES[media]
    elif op.path.endswith("/import"):
        kwargs["files"] = FILES["multipart/form-data"]  # the CSV imports read their file from the form
    if "json" in kwargs and "person_user_ids" in kwargs["json"]:
        person = world.pick("person", role, "in" if where == "any" else where)
        kwargs["json"]["person_user_ids"] = [person.value if person else str(uuid.uuid4())]
    if etag:
        kwargs.setdefault("headers", {})["If-Match"] = etag
    return Probe(op.method.upper(), f"{stack.gateway}{url}", record, kwargs)


Answers = dict[str, dict[str, dict[str, int]]]


def run_matrix(stack: Stack, world: World, ops: list[Operation]) -> tuple[Answers, list[str]]:
    """Every cell's answer: {operation: {role: {where: status}}}, in the order that keeps the world intact
    (reads, then writes, then writes that end something; out-of-subtree cells before in-subtree ones), and
    every read answered 200 that names a record of another branch of the tree than the caller's (a leak)."""
    leaked: list[str] = []
    clients = {role: Client(stack, role) for role in ROLES}
    admin = clients["admin"]
    answers: Answers = {}
    for op in sorted(ops, key=lambda o: o.order):
        for role, where in cells(op):
            etag = None
            if op.service == "nominations" and op.kind == "nomination" and op.method != "get":
                target = world.pick("nomination", role, "in" if where == "any" else where)
                if target is not None:
                    etag = admin.call("GET", f"/api/nominations/{target.value}", expect=None).headers.get("ETag")
            p = probe(stack, world, op, role, where, etag)
            response = clients[role].session.request(p.method, p.url, timeout=30, **p.kwargs)
            answers.setdefault(op.key, {}).setdefault(role, {})[where] = response.status_code
            if op.method == "get" and response.status_code == 200:
                named = _named_outside(world, role, response.text)
                if named:
                    leaked.append(f"{op.key} as {role} ({where}) names {named}")
    return answers, leaked


def _named_outside(world: World, role: str, text: str) -> list[str]:
    return [
        f"{kind} {part} ({record.org_path})"
        for kind, records in world.records.items()
        for record in records
        if world_out(world, kind, record, role)
        for part in record.value.split("/")
        if len(part) == 36 and part in text  # record ids are UUIDs
    ]


def leaks(stack: Stack, world: World) -> list[str]:
    """Lists that show a caller a record outside their subtree: every GET without a path parameter, as each
    role, must not name any id of a record in another branch of the tree than the role's."""
    found = []
    clients = {role: Client(stack, role) for role in ROLES}
    for op in operations():
        if op.method != "get" or op.params or is_public(op):
            continue
        for role in ROLES:
            response = clients[role].call("GET", op.path, expect=None, params={"limit": 100})
            if response.status_code == 200:
                found += [f"{op.key} as {role} names {n}" for n in _named_outside(world, role, response.text)]
    return found


def world_out(world: World, kind: str, record: Record, role: str) -> bool:
    """A record in another branch of the tree than the role's (not below it, not above it)."""
    if kind in ("org", "policy", "round", "delivery") or record.org_path is None or record.owner is not None:
        return False  # org codes and shared catalogues are named by records in scope too
    subtree = ROLES[role]
    return not (path_within(record.org_path, subtree) or path_within(subtree, record.org_path))
