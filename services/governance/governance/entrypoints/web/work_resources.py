"""The governance API of 月调度 (monthly reports, the month's overview, scheduling meetings), network security work
(checks, findings, emergency plans) and Yichun's committee and liaisons. Views parse, call one handler, render."""

from __future__ import annotations

import uuid
from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from governance.domain.committee import Member
from governance.domain.scheduling import ActionItemInput, ProgressReport, ProjectProgress, ReportContent, TargetProgress
from governance.domain.security import EmergencyPlan, FindingInput, SecurityCheck
from governance.entrypoints.web.wiring import handlers, service
from governance.entrypoints.web.work_schemas import (
    ActionItemDoneSchema,
    CheckListArgs,
    CheckListSchema,
    CommitteeMeetingSchema,
    CommitteeSchema,
    CommitteeViewSchema,
    EmergencyPlanListSchema,
    EmergencyPlanSchema,
    LiaisonCoverageSchema,
    MeetingListArgs,
    MeetingListSchema,
    MonthArgs,
    MonthOverviewSchema,
    PlanListArgs,
    RectificationSchema,
    ReportListSchema,
    ReportRevisionSchema,
    ReportSchema,
    SchedulingMeetingSchema,
    SecurityCheckSchema,
)
from governance.service_layer import committee, scheduling, security
from shared import clock
from shared.http import idempotent, json_response, require_if_match

reports_blp = Blueprint(
    "progress_reports", __name__, url_prefix="/api/progress-reports", description="月调度: districts' monthly reports"
)
meetings_blp = Blueprint(
    "scheduling_meetings",
    __name__,
    url_prefix="/api/scheduling-meetings",
    description="调度会议 with their action items",
)
checks_blp = Blueprint(
    "security_checks",
    __name__,
    url_prefix="/api/security-checks",
    description="网络安全检查, 应急演练 and 自查 with their findings' rectifications",
)
emergency_blp = Blueprint(
    "emergency_plans", __name__, url_prefix="/api/emergency-plans", description="Units' 网络安全事件应急处置预案"
)
committees_blp = Blueprint(
    "committees",
    __name__,
    url_prefix="/api/committees",
    description="A university's 网络安全和信息化委员会 and its 信息化联络员 (宜春学院 第十四、十六、十七条)",
)


# -- 月调度 ------------------------------------------------------------------------------------------
def _report_content(data: dict[str, Any]) -> ReportContent:
    return ReportContent(
        projects=[ProjectProgress(**p) for p in data["projects"]],
        targets=[TargetProgress(**t) for t in data["targets"]],
        overall=data["overall"],
        issues=data.get("issues"),
    )


def _report_body(report: ProgressReport) -> Any:
    return ReportSchema().dump(report)


@reports_blp.route("")
class Reports(MethodView):
    get = handlers.view(
        reports_blp,
        ReportListSchema,
        scheduling.list_reports,
        filters=MonthArgs,
        items=True,
        doc="The month's reports of the districts in the caller's subtree.",
    )

    @reports_blp.arguments(ReportSchema)
    @reports_blp.response(201, ReportSchema)
    @idempotent(handlers.session_factory)
    def post(self, data: dict[str, Any]) -> Any:
        """A district bureau's (county_reviewer) report for a month: each project's progress, the year's targets
        (e.g. 智慧校园 share of schools), the overall state; `late` when after the month's deadline."""
        report = handlers.call(
            scheduling.submit_report,
            data["district_code"],
            data["month"],
            _report_content(data),
            scheduling.ReportingRules.of(service().environment),
        )
        location = url_for("progress_reports.ReportResource", report_id=report.id)
        return json_response(_report_body(report), report.version, 201, location)


@reports_blp.route("/overview")
class Overview(MethodView):
    @reports_blp.arguments(MonthArgs, location="query")
    @reports_blp.response(200, MonthOverviewSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The month as the city sees it: who reported (on time or late), who has not, and the reminders sent."""
        return handlers.call(
            scheduling.overview,
            args["month"],
            scheduling.ReportingRules.of(service().environment),
            clock.today(),
        )


@reports_blp.route("/<uuid:report_id>")
class ReportResource(MethodView):
    get = handlers.view(reports_blp, ReportSchema, scheduling.get_report, etag=True)

    @reports_blp.arguments(ReportRevisionSchema)
    @reports_blp.response(200, ReportSchema)
    def put(self, data: dict[str, Any], report_id: uuid.UUID) -> Any:
        """Correct the report (If-Match); it keeps its first submission's time and lateness."""
        report = handlers.call(scheduling.revise_report, report_id, require_if_match, _report_content(data))
        return json_response(_report_body(report), report.version)


@meetings_blp.route("")
class Meetings(MethodView):
    @meetings_blp.arguments(MeetingListArgs, location="query")
    @meetings_blp.response(200, MeetingListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Scheduling meetings in the caller's subtree, newest first (`?open_items=true`: those with work left)."""
        found = handlers.call(scheduling.list_meetings, open_items_only=args["open_items"])
        return {"items": found}

    @meetings_blp.arguments(SchedulingMeetingSchema)
    @meetings_blp.response(201, SchedulingMeetingSchema)
    @idempotent(handlers.session_factory)
    def post(self, data: dict[str, Any]) -> Any:
        """调度会议 recorded: date, attendees, minutes, decisions, action items with owners and due dates."""
        record = scheduling.MeetingRecord(
            held_on=data["held_on"],
            title=data["title"],
            attendees=data["attendees"],
            minutes=data["minutes"],
            decisions=data["decisions"],
            action_items=[ActionItemInput(i["title"], i["owner"], i["due_on"]) for i in data["action_items"]],
        )
        meeting = handlers.call(scheduling.record_meeting, data["org_code"], record)
        location = url_for("scheduling_meetings.MeetingResource", meeting_id=meeting.id)
        return json_response(SchedulingMeetingSchema().dump(meeting), meeting.version, 201, location)


handlers.route(
    meetings_blp, "/<uuid:meeting_id>", "MeetingResource", SchedulingMeetingSchema, scheduling.get_meeting, etag=True
)


@meetings_blp.route("/<uuid:meeting_id>/action-items/<string:item_id>/done")
class ActionItemDone(MethodView):
    @meetings_blp.arguments(ActionItemDoneSchema)
    @meetings_blp.response(200, SchedulingMeetingSchema)
    def post(self, data: dict[str, Any], meeting_id: uuid.UUID, item_id: str) -> Any:
        """An action item done, with its outcome."""
        meeting = handlers.call(
            scheduling.complete_action_item, meeting_id, item_id, data["done_on"], data.get("outcome")
        )
        return json_response(SchedulingMeetingSchema().dump(meeting), meeting.version)


# -- network security work ---------------------------------------------------------------------------
def _check_body(check: SecurityCheck) -> Any:
    return SecurityCheckSchema().dump(check)


@checks_blp.route("")
class Checks(MethodView):
    @checks_blp.arguments(CheckListArgs, location="query")
    @checks_blp.response(200, CheckListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Checks of the units in the caller's subtree (`?open=true`: findings still to rectify)."""
        kind = args.get("kind")
        found = handlers.call(security.list_checks, kind=kind.value if kind else None, open_only=args["open"])
        return json_response({"items": [_check_body(c) for c in found]})

    @checks_blp.arguments(SecurityCheckSchema)
    @checks_blp.response(201, SecurityCheckSchema)
    @idempotent(handlers.session_factory)
    def post(self, data: dict[str, Any]) -> Any:
        """An inspection or drill (recorded by the bureau that ran it) or the unit's self-check, with findings."""
        record = security.CheckRecord(
            kind=data["kind"],
            held_on=data["held_on"],
            title=data["title"],
            summary=data.get("summary"),
            findings=[
                FindingInput(f["description"], f["severity"], f["rectification"], f["due_on"]) for f in data["findings"]
            ],
        )
        check = handlers.call(security.record_check, data["org_code"], record)
        location = url_for("security_checks.CheckResource", check_id=check.id)
        return json_response(_check_body(check), check.version, 201, location)


handlers.route(checks_blp, "/<uuid:check_id>", "CheckResource", SecurityCheckSchema, security.get_check, etag=True)


@checks_blp.route("/<uuid:check_id>/findings/<string:finding_id>/rectification")
class Rectification(MethodView):
    @checks_blp.arguments(RectificationSchema)
    @checks_blp.response(200, SecurityCheckSchema)
    def post(self, data: dict[str, Any], check_id: uuid.UUID, finding_id: str) -> Any:
        """整改完成: the finding closed with its evidence."""
        check = handlers.call(security.rectify, check_id, finding_id, data["rectified_on"], data["evidence"])
        return json_response(_check_body(check), check.version)


def _plan_body(plan: EmergencyPlan) -> Any:
    body = dict(EmergencyPlanSchema().dump(plan))
    body["stale"] = plan.stale(clock.today(), service().environment.emergency_plan_review_days)
    return body


@emergency_blp.route("")
class EmergencyPlans(MethodView):
    @emergency_blp.arguments(PlanListArgs, location="query")
    @emergency_blp.response(200, EmergencyPlanListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The units' plans in the caller's subtree (`?stale=true`: those whose last review is too old)."""
        found = handlers.call(
            security.list_emergency_plans,
            stale_only=args["stale"],
            today=clock.today(),
            review_days=service().environment.emergency_plan_review_days,
        )
        return json_response({"items": [_plan_body(p) for p in found]})


@emergency_blp.route("/<string:org_code>")
class EmergencyPlanResource(MethodView):
    @emergency_blp.response(200, EmergencyPlanSchema)
    def get(self, org_code: str) -> Any:
        plan = handlers.call(security.get_emergency_plan, org_code)
        return json_response(_plan_body(plan), plan.version)

    @emergency_blp.arguments(EmergencyPlanSchema)
    @emergency_blp.response(200, EmergencyPlanSchema)
    def put(self, data: dict[str, Any], org_code: str) -> Any:
        """The unit's plan on record, or its latest review (If-Match once a plan is on record)."""
        record = security.PlanRecord(data["title"], data["document_url"], data["last_reviewed_on"])
        plan, created = handlers.call(security.put_emergency_plan, org_code, require_if_match, record)
        return json_response(_plan_body(plan), plan.version, 201 if created else 200)


# -- Yichun's committee and liaisons -----------------------------------------------------------------
def _committee_body(view: committee.CommitteeView) -> Any:
    semesters = []
    for line in view.semesters:
        flag = view.flags.get(line.semester) or {}
        semesters.append(
            {
                **line.__dict__,
                "met": line.met,
                "flagged": line.flagged,
                "flagged_at": flag.get("flagged_at"),
                "cleared_at": flag.get("cleared_at"),
            }
        )
    return CommitteeViewSchema().dump(
        {
            "org_code": view.org.code,
            "org_path": view.org.path,
            "org_name": view.org.name,
            "committee": view.committee,
            "meetings_per_semester": view.required,
            "semesters": semesters,
            "meetings": view.meetings,
        }
    )


@committees_blp.route("/<string:org_code>")
class CommitteeResource(MethodView):
    @committees_blp.response(200, CommitteeViewSchema)
    def get(self, org_code: str) -> Any:
        """The committee, its meetings and each recent semester against `committee_meetings_per_semester`."""
        view = handlers.call(committee.view, org_code, clock.today())
        return json_response(_committee_body(view), view.committee.version if view.committee else None)

    @committees_blp.arguments(CommitteeSchema)
    @committees_blp.response(200, CommitteeSchema)
    def put(self, data: dict[str, Any], org_code: str) -> Any:
        """Constitute the committee (If-Match once it exists): members and positions, the CIO 副主任委员."""
        members = [Member(**m) for m in data["members"]]
        found, created = handlers.call(committee.put_committee, org_code, data["name"], members, require_if_match)
        return json_response(CommitteeSchema().dump(found), found.version, 201 if created else 200)


@committees_blp.route("/<string:org_code>/meetings")
class CommitteeMeetings(MethodView):
    @committees_blp.arguments(CommitteeMeetingSchema)
    @committees_blp.response(201, CommitteeMeetingSchema)
    @idempotent(handlers.session_factory)
    def post(self, data: dict[str, Any], org_code: str) -> Any:
        """A meeting convened by the CIO, with its minutes; it counts for the semester it was held in."""
        record = committee.MeetingRecord(
            held_on=data["held_on"],
            convened_by=data["convened_by"],
            attendees=data["attendees"],
            minutes=data["minutes"],
            decisions=data["decisions"],
        )
        meeting = handlers.call(committee.record_meeting, org_code, record)
        location = url_for("committees.CommitteeResource", org_code=org_code)
        return json_response(CommitteeMeetingSchema().dump(meeting), None, 201, location)


@committees_blp.route("/<string:org_code>/liaisons")
class Liaisons(MethodView):
    @committees_blp.response(200, LiaisonCoverageSchema)
    def get(self, org_code: str) -> Any:
        """Each department and college with its 信息化联络员; `lacking` lists those without (第十六条)."""
        view = handlers.call(committee.liaisons, org_code)
        return {
            "org_code": view.org.code,
            "org_path": view.org.path,
            "org_name": view.org.name,
            "liaison_per_department": view.required,
            "lacking": [d.org_code for d in view.lacking],
            "departments": [{**d.__dict__, "lacking": d.lacking} for d in view.departments],
        }


WORK_BLUEPRINTS = [reports_blp, meetings_blp, checks_blp, emergency_blp, committees_blp]
