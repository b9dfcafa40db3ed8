"""月调度, network security work and Yichun's committee and liaisons on PostgreSQL, through the governance API and the
worker's checks (time given to the checks as the CLI gives it: `governance check --today`)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask.testing import FlaskClient
from governance.bootstrap import GovernanceService
from governance.domain.scheduling import ProjectProgress, ReportContent, TargetProgress
from governance.entrypoints.timers import checks
from governance.service_layer import scheduling
from governance.service_layer.subscriptions import DIRECTORY_HANDLERS, GRANT_HANDLERS
from sqlalchemy import select

from shared import clock
from shared.bus.envelope import CloudEvent
from shared.bus.tables import outbox
from shared.principal import Grant, Principal
from tests.integration.governance.conftest import CITY, DISTRICT, OTHER_CITY, OTHER_DISTRICT, SCHOOL
from tests.tokens import TestIssuer

YICHUN = [
    ("10417", "宜春学院", "university", None, "/10417"),
    ("10417-IT", "现代教育技术与信息中心", "department", "10417", "/10417/10417-IT"),
    ("10417-ACA", "教务处", "department", "10417", "/10417/10417-ACA"),
    ("10417-NET", "网络安全与信息化工作办公室", "department", "10417", "/10417/10417-NET"),
]
CIO = ("cio", "/10417")
PRESIDENT = ("university_president", "/10417")
HANDLERS = {**DIRECTORY_HANDLERS, **GRANT_HANDLERS}


def feed(service: GovernanceService, events: list[CloudEvent]) -> None:
    """Events to the handlers as the consumer would give them (one unit of work each)."""
    for event in events:
        with service.uow() as uow:
            HANDLERS[event.type](event, uow)
            uow.commit()


def yichun(service: GovernanceService, *, meetings: int = 1, liaisons: int = 1) -> None:
    """宜春学院 and its departments, and its policy's keys as nominations announces them with a round."""
    feed(
        service,
        [
            CloudEvent(
                "identity.org.upserted",
                "/cio/identity",
                {"code": c, "name": n, "level": lv, "parent_code": p, "path": path},
            )
            for c, n, lv, p, path in YICHUN
        ]
        + [
            CloudEvent(
                "nominations.round.opened",
                "/cio/nominations",
                {
                    "round_id": "r1",
                    "title": "宜春学院 2026",
                    "opens_at": "2026-09-01T00:00:00+08:00",
                    "deadline": "2026-09-30T00:00:00+08:00",
                    "policy_id": "yichun-university",
                    "policy_version": 1,
                    "issuing_org_code": "10417",
                    "issuing_org_path": "/10417",
                    "policy": {
                        "evaluation": {
                            "committee_meetings_per_semester": meetings,
                            "liaison_per_department": liaisons,
                        }
                    },
                },
            )
        ],
    )


def published(service: GovernanceService, event_type: str) -> list[dict[str, Any]]:
    with service.session_factory() as session:
        bodies = session.execute(select(outbox.c.body).where(outbox.c.type == event_type)).scalars()
        return [json.loads(b)["data"] for b in bodies]


def _month_ahead() -> str:
    """A month whose deadline is still ahead of the real clock, so reports sent now are on time."""
    ahead = clock.today() + dt.timedelta(days=40)
    return f"{ahead.year:04d}-{ahead.month:02d}"


def _report(district: str, month: str, **overrides: Any) -> dict[str, Any]:
    return {
        "district_code": district,
        "month": month,
        "projects": [{"name": "海勃湾区智慧校园建设项目", "progress_percent": 40, "note": "完成招标"}],
        "targets": [{"code": "smart_campus_share", "name": "智慧校园学校占比", "target": 0.6, "actual": 0.45}],
        "overall": "按计划推进",
        **overrides,
    }


# -- 月调度 ------------------------------------------------------------------------------------------
def test_a_district_reports_its_month_once_and_the_city_sees_who_has_not_reported(
    client: FlaskClient, issuer: TestIssuer
) -> None:
    month = _month_ahead()
    district = issuer.headers("hbw", DISTRICT)
    sent = client.post("/api/progress-reports", json=_report("150302", month), headers=district)
    assert sent.status_code == 201, sent.json
    assert sent.json["late"] is False and sent.json["targets"][0]["met"] is False
    again = client.post("/api/progress-reports", json=_report("150302", month), headers=district)
    assert again.status_code == 409 and again.json["errors"][0]["field"] == "month"
    # another district's bureau does not report for it; a school does not see the district's report
    other = client.post(
        "/api/progress-reports", json=_report("150302", month), headers=issuer.headers("hn", OTHER_DISTRICT)
    )
    assert other.status_code == 404
    assert (
        client.get(f"/api/progress-reports/{sent.json['id']}", headers=issuer.headers("s", SCHOOL)).status_code == 404
    )
    overview = client.get(f"/api/progress-reports/overview?month={month}", headers=issuer.headers("city", CITY)).json
    assert [(d["district_code"], d["reported"]) for d in overview["districts"]] == [("150302", True), ("150303", False)]
    assert overview["missing"] == ["150303"]
    # another city's bureau sees none of 乌海's districts
    elsewhere = client.get(f"/api/progress-reports/overview?month={month}", headers=issuer.headers("jz", OTHER_CITY))
    assert [d["district_code"] for d in elsewhere.json["districts"]] == ["410802"]


def test_a_report_names_each_field_it_refuses(client: FlaskClient, issuer: TestIssuer) -> None:
    bad = _report("150302", "2026-13", projects=[{"name": "x", "progress_percent": 120}], overall="")
    refused = client.post("/api/progress-reports", json=bad, headers=issuer.headers("hbw", DISTRICT))
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json["errors"]}
    assert {"month", "overall", "projects.0.progress_percent"} <= fields
    assert client.post("/api/progress-reports", json=_report("150302", "2026-01")).status_code == 401


def test_a_district_missing_its_report_is_reminded_once_before_and_once_after_the_deadline(
    governance_service: GovernanceService,
) -> None:
    """「月调度」: 150302 reports on time, 150303 does not; the checks run many times a day and remind once each."""
    rules = scheduling.ReportingRules(due_day=25, reminder_days=3)
    month, deadline = "2026-03", dt.date(2026, 3, 25)
    content = ReportContent(
        projects=[ProjectProgress("智慧校园", 50)],
        targets=[TargetProgress("smart_campus_share", "智慧校园", 0.6, 0.5)],
        overall="按计划推进",
    )
    reporter = Principal("hbw", grants=(Grant(*DISTRICT),))
    on_time = dt.datetime(2026, 3, 20, 8, tzinfo=dt.UTC)
    scheduling.submit_report(governance_service.uow(), reporter, "150302", month, content, rules, at=on_time)

    def reminded_after(day: dt.date) -> list[tuple[str, str]]:
        """Run the check on `day` (twice, as a timer would) and read this month's reminders to 乌海's districts."""
        for _ in range(2):
            scheduling.check_reporting(governance_service.uow(), day, rules)
        sent = published(governance_service, "governance.report.reminder_due")
        return [
            (r["district_code"], r["reminder"])
            for r in sent
            if r["month"] == month and r["district_path"][:6] == "/1503/"
        ]

    assert reminded_after(dt.date(2026, 3, 21)) == []  # too early for the reminder
    assert reminded_after(dt.date(2026, 3, 22)) == [("150303", "before")]
    assert reminded_after(deadline) == [("150303", "before")]  # once
    assert reminded_after(dt.date(2026, 3, 26)) == [("150303", "before"), ("150303", "after")]
    assert reminded_after(dt.date(2026, 4, 2)) == [("150303", "before"), ("150303", "after")]
    reminder = next(r for r in published(governance_service, "governance.report.reminder_due") if r["month"] == month)
    assert reminder["deadline"] == "2026-03-25" and reminder["district_name"] == "海南区教育局"
    # the late report, and the overview as of after the deadline
    late = scheduling.submit_report(
        governance_service.uow(),
        Principal("hn", grants=(Grant(*OTHER_DISTRICT),)),
        "150303",
        month,
        content,
        rules,
        at=dt.datetime(2026, 3, 27, 9, tzinfo=dt.UTC),
    )
    assert late.late is True
    city = Principal("city", grants=(Grant(*CITY),))
    lines = scheduling.overview(governance_service.uow(), city, month, rules, dt.date(2026, 3, 28)).districts
    assert [(d.district_code, d.late, d.reminders) for d in lines] == [
        ("150302", False, []),
        ("150303", True, ["before", "after"]),
    ]


def test_scheduling_meeting_action_items_are_tracked_to_done(client: FlaskClient, issuer: TestIssuer) -> None:
    city = issuer.headers("city", CITY)
    today = clock.today()
    body = {
        "org_code": "1503",
        "held_on": today.isoformat(),
        "title": "12月教育信息化调度会",
        "attendees": ["市教育局", "海勃湾区教育局", "海南区教育局"],
        "minutes": "各区汇报建设进度",
        "decisions": ["海南区本月底前补报月调度表"],
        "action_items": [
            {"title": "补报月调度表", "owner": "海南区教育局", "due_on": (today + dt.timedelta(days=5)).isoformat()},
            {
                "title": "完成统一身份认证对接",
                "owner": "海勃湾区教育局",
                "due_on": (today - dt.timedelta(days=0)).isoformat(),
            },
        ],
    }
    recorded = client.post("/api/scheduling-meetings", json=body, headers=city)
    assert recorded.status_code == 201, recorded.json
    meeting = recorded.json
    first = meeting["action_items"][0]["id"]
    assert [i["done_on"] for i in meeting["action_items"]] == [None, None]
    listed = client.get("/api/scheduling-meetings?open_items=true", headers=issuer.headers("hn", OTHER_DISTRICT)).json
    assert [m["id"] for m in listed["items"]] == []  # a district reads only its own subtree's meetings
    done_url = f"/api/scheduling-meetings/{meeting['id']}/action-items/{first}/done"
    done = client.post(done_url, json={"done_on": today.isoformat(), "outcome": "已补报"}, headers=city)
    assert done.status_code == 200 and done.json["action_items"][0]["done_on"] == today.isoformat()
    assert client.post(done_url, json={"done_on": today.isoformat()}, headers=city).status_code == 409
    unknown = client.post(
        f"/api/scheduling-meetings/{meeting['id']}/action-items/nope/done",
        json={"done_on": today.isoformat()},
        headers=city,
    )
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "item_id"
    assert (
        client.get(f"/api/scheduling-meetings/{meeting['id']}", headers=issuer.headers("jz", OTHER_CITY)).status_code
        == 404
    )
    refused = client.post("/api/scheduling-meetings", json={**body, "minutes": "", "attendees": []}, headers=city)
    assert {e["field"] for e in refused.json["errors"]} >= {"minutes", "attendees"}


# -- network security work ---------------------------------------------------------------------------
def test_an_inspection_finding_is_rectified_with_evidence_and_the_check_is_done(
    client: FlaskClient, issuer: TestIssuer
) -> None:
    today = clock.today()
    check = {
        "org_code": "1503020001",
        "kind": "inspection",
        "held_on": today.isoformat(),
        "title": "2026年网络安全检查",
        "findings": [
            {
                "description": "弱口令",
                "severity": "high",
                "rectification": "修改口令并启用双因素认证",
                "due_on": (today + dt.timedelta(days=14)).isoformat(),
            }
        ],
    }
    # 「每年统一组织…网络安全检查」: the bureau runs it, the school does not record an inspection of itself
    assert client.post("/api/security-checks", json=check, headers=issuer.headers("s", SCHOOL)).status_code == 403
    recorded = client.post("/api/security-checks", json=check, headers=issuer.headers("hbw", DISTRICT))
    assert recorded.status_code == 201, recorded.json
    assert recorded.json["done"] is False
    finding = recorded.json["findings"][0]["id"]
    school = issuer.headers("s", SCHOOL)
    assert [c["id"] for c in client.get("/api/security-checks?open=true", headers=school).json["items"]] == [
        recorded.json["id"]
    ]
    url = f"/api/security-checks/{recorded.json['id']}/findings/{finding}/rectification"
    no_evidence = client.post(url, json={"rectified_on": today.isoformat(), "evidence": []}, headers=school)
    assert no_evidence.status_code == 422 and no_evidence.json["errors"][0]["field"] == "evidence"
    evidence = [{"name": "整改报告.pdf", "url": "https://files.example.cn/fix.pdf"}]
    fixed = client.post(url, json={"rectified_on": today.isoformat(), "evidence": evidence}, headers=school)
    assert fixed.status_code == 200 and fixed.json["done"] is True
    assert client.get("/api/security-checks?open=true", headers=school).json["items"] == []
    # a self-check is the school's own
    self_check = {**check, "kind": "self_check", "title": "网络安全自查", "findings": []}
    assert client.post("/api/security-checks", json=self_check, headers=school).status_code == 201
    assert (
        client.get(f"/api/security-checks/{recorded.json['id']}", headers=issuer.headers("jz", OTHER_CITY)).status_code
        == 404
    )


def test_an_emergency_plan_not_reviewed_within_the_interval_is_flagged_stale(
    client: FlaskClient, issuer: TestIssuer
) -> None:
    school = issuer.headers("s", SCHOOL)
    old = (clock.today() - dt.timedelta(days=400)).isoformat()
    body = {
        "title": "网络安全事件应急处置预案",
        "document_url": "https://files.example.cn/plan.pdf",
        "last_reviewed_on": old,
    }
    created = client.put("/api/emergency-plans/1503020001", json=body, headers=school)
    assert created.status_code == 201 and created.json["stale"] is True
    city = issuer.headers("city", CITY)
    assert [p["org_code"] for p in client.get("/api/emergency-plans?stale=true", headers=city).json["items"]] == [
        "1503020001"
    ]
    reviewed = {**body, "last_reviewed_on": clock.today().isoformat()}
    assert client.put("/api/emergency-plans/1503020001", json=reviewed, headers=school).status_code == 428
    updated = client.put(
        "/api/emergency-plans/1503020001", json=reviewed, headers={**school, "If-Match": created.headers["ETag"]}
    )
    assert updated.status_code == 200 and updated.json["stale"] is False
    assert client.get("/api/emergency-plans?stale=true", headers=city).json["items"] == []
    assert client.get("/api/emergency-plans/1503020001", headers=issuer.headers("jz", OTHER_CITY)).status_code == 404


# -- Yichun's committee and liaisons -----------------------------------------------------------------
def _committee() -> dict[str, Any]:
    return {
        "name": "宜春学院网络安全和信息化委员会",
        "members": [
            {"name": "校长", "position": "director", "title": "校长"},
            {"name": "首席信息官", "position": "deputy_director", "is_cio": True, "user_id": "cio-1"},
            {"name": "网信办主任", "position": "secretary"},
        ],
    }


def test_the_cio_sits_on_the_committee_as_deputy_director(
    client: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    yichun(governance_service)
    president = issuer.headers("president", PRESIDENT)
    wrong = _committee()
    wrong["members"][1]["position"] = "member"
    refused = client.put("/api/committees/10417", json=wrong, headers=president)
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "members.1.position"
    created = client.put("/api/committees/10417", json=_committee(), headers=president)
    assert created.status_code == 201, created.json
    assert client.get("/api/committees/10417", headers=issuer.headers("jz", OTHER_CITY)).status_code == 404


def test_a_semester_without_a_committee_meeting_is_flagged_once_and_cleared_by_a_recorded_meeting(
    client: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    """第十七条 「每学期至少召开1次」: the autumn semester 2025 ends on 2026-01-31 without a meeting."""
    yichun(governance_service)
    assert (
        client.put("/api/committees/10417", json=_committee(), headers=issuer.headers("p", PRESIDENT)).status_code
        == 201
    )
    _, flagged = checks(governance_service, dt.date(2026, 2, 3))
    assert flagged == 1
    assert checks(governance_service, dt.date(2026, 2, 4))[1] == 0  # the CIO is told once
    [missed] = published(governance_service, "governance.committee.meeting_missed")
    assert missed == {"org_code": "10417", "org_path": "/10417", "semester": "2025-autumn", "required": 1, "held": 0}
    cio = issuer.headers("cio", CIO)
    view = client.get("/api/committees/10417", headers=cio).json
    assert view["meetings_per_semester"] == 1
    autumn = next(s for s in view["semesters"] if s["semester"] == "2025-autumn")
    assert autumn["flagged"] is True and autumn["flagged_at"] is not None and autumn["cleared_at"] is None
    meeting = {
        "held_on": "2026-01-15",
        "convened_by": "首席信息官",
        "attendees": ["校长", "首席信息官"],
        "minutes": "审议年度网络安全工作",
        "decisions": ["通过年度网络安全工作计划"],
    }
    assert (
        client.post("/api/committees/10417/meetings", json={**meeting, "minutes": ""}, headers=cio).status_code == 422
    )
    recorded = client.post("/api/committees/10417/meetings", json=meeting, headers=cio)
    assert recorded.status_code == 201 and recorded.json["semester"] == "2025-autumn"
    [noted] = published(governance_service, "governance.committee.meeting_recorded")
    assert noted["cleared"] is True
    autumn = next(
        s for s in client.get("/api/committees/10417", headers=cio).json["semesters"] if s["semester"] == "2025-autumn"
    )
    assert autumn["flagged"] is False and autumn["held"] == 1 and autumn["cleared_at"] is not None


def test_departments_without_a_liaison_are_listed_and_a_grant_at_the_department_covers_it(
    client: FlaskClient, issuer: TestIssuer, governance_service: GovernanceService
) -> None:
    """第十六条 「各部门和教学院指定1名负责人作为本部门信息化联络员」: the `liaison` grant at the department's org."""
    yichun(governance_service)

    def grant(grant_id: str, path: str, role: str = "liaison") -> CloudEvent:
        data = {
            "grant_id": grant_id,
            "user_id": f"u-{grant_id}",
            "role": role,
            "org_code": path.rsplit("/", 1)[1],
            "org_path": path,
        }
        return CloudEvent("identity.role.granted", "/cio/identity", {**data, "source": "manual", "granted_by": "admin"})

    # a liaison at the university itself, and another role at a department, cover no department
    feed(
        governance_service,
        [grant("g1", "/10417"), grant("g2", "/10417/10417-IT", "cio"), grant("g3", "/10417/10417-ACA")],
    )
    cio = issuer.headers("cio", CIO)
    coverage = client.get("/api/committees/10417/liaisons", headers=cio).json
    assert coverage["liaison_per_department"] == 1
    assert coverage["lacking"] == ["10417-IT", "10417-NET"]
    aca = next(d for d in coverage["departments"] if d["org_code"] == "10417-ACA")
    assert aca["liaisons"] == ["u-g3"] and aca["lacking"] is False
    feed(
        governance_service,
        [
            CloudEvent(
                "identity.role.revoked",
                "/cio/identity",
                {
                    "grant_id": "g3",
                    "user_id": "u-g3",
                    "role": "liaison",
                    "org_code": "10417-ACA",
                    "org_path": "/10417/10417-ACA",
                    "revoked_by": "admin",
                },
            )
        ],
    )
    assert client.get("/api/committees/10417/liaisons", headers=cio).json["lacking"] == [
        "10417-ACA",
        "10417-IT",
        "10417-NET",
    ]
    assert client.get("/api/committees/10417/liaisons", headers=issuer.headers("jz", OTHER_CITY)).status_code == 404
    assert client.get("/api/committees/10417/liaisons").status_code == 401
