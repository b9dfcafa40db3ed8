"""The approvals API: the reviewer's inbox and decisions, cases and their history, appointments."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, make_response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from approvals.bootstrap import Approvals
from approvals.entrypoints.web.schemas import (
    AppointmentListArgs,
    AppointmentPage,
    AppointmentSchema,
    BulkDecisionSchema,
    BulkResultSchema,
    CampaignOverviewSchema,
    CampaignResultSchema,
    CampaignSchema,
    CaseListArgs,
    CasePage,
    CaseSchema,
    DecisionResultSchema,
    DecisionSchema,
    DelegationListSchema,
    DelegationSchema,
    DismissSchema,
    EvaluationListArgs,
    EvaluationPage,
    EvaluationSchema,
    FilingDecisionSchema,
    FilingListSchema,
    FilingOutSchema,
    FilingSchema,
    HistorySchema,
    ObjectionReceiptSchema,
    ObjectionSchema,
    ObjectSchema,
    OpenEvaluationSchema,
    OutcomeResultSchema,
    OutcomeSchema,
    PublicationListArgs,
    PublicationListSchema,
    PublicationSchema,
    PublicPublicationListSchema,
    PublicPublicationSchema,
    PublishedListArgs,
    PublishSchema,
    RectificationListArgs,
    RectificationPage,
    RectificationReportSchema,
    RectificationSchema,
    RenewSchema,
    ResolveSchema,
    RevokeSchema,
    SelfAssessmentSchema,
    TaskListArgs,
    TaskPage,
    TaskSchema,
    VerificationSchema,
)
from approvals.service_layer import appointments, evaluations, publications, queries, reviews
from shared import files
from shared.audit_listing import audit_blueprint
from shared.auth import current_principal, public
from shared.http import idempotent, require_if_match, with_etag
from shared.views import Handlers
from shared.web import wired_service

tasks_blp = Blueprint("tasks", __name__, url_prefix="/api/tasks", description="The reviewer's inbox (待办审核)")
cases_blp = Blueprint("cases", __name__, url_prefix="/api/cases", description="Review cases (审核) and history")
appointments_blp = Blueprint(
    "appointments", __name__, url_prefix="/api/appointments", description="Appointments (聘任) and their terms"
)

publications_blp = Blueprint(
    "publications", __name__, url_prefix="/api/publications", description="名单公示: lists, periods, objections"
)
public_blp = Blueprint(
    "public_publications",
    __name__,
    url_prefix="/api/public/publications",
    description="名单公示 as the public sees it, without signing in; objections (异议) during the period",
)


def service() -> Approvals:
    return wired_service("approvals", Approvals)


handlers = Handlers(service)


# What a decision may add besides the seal, each None where the body leaves it out.
DECISION_DETAILS = ("opinion", "document_number", "starts_on", "term_years", "on_behalf_of")


def _decide_command(task_id: uuid.UUID, body: dict[str, Any]) -> reviews.Decide:
    seal = body.get("seal") or {}
    details = {name: body.get(name) for name in DECISION_DETAILS}
    return reviews.Decide(
        task_id=task_id,
        decision=body["decision"],
        seal_unit_name=seal.get("unit_name"),
        seal_date=seal.get("date"),
        **details,
    )


def _result(result: reviews.DecisionResult) -> dict[str, Any]:
    next_task = result.case.open_task()
    return {
        "case_id": result.case.id,
        "task_id": result.task_id,
        "outcome": result.outcome,
        "next_task_id": next_task.id if next_task else None,
        "appointment_id": result.appointment.id if result.appointment else None,
    }


# -- tasks ----------------------------------------------------------------------------------------
handlers.route(
    tasks_blp,
    "",
    "Tasks",
    TaskPage,
    queries.list_tasks,
    query=TaskListArgs,
    doc="Open tasks in the caller's scope (filter by status, role, stage, org, school, round, overdue).",
)


@tasks_blp.route("/decisions")
class BulkDecisions(MethodView):
    @tasks_blp.arguments(BulkDecisionSchema)
    @tasks_blp.response(200, BulkResultSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Decide several tasks at once: all are recorded, or none (each refused item is named)."""
        commands = [_decide_command(item["task_id"], item) for item in body["items"]]
        results = handlers.call(reviews.decide_many, commands)
        return {"items": [_result(r) for r in results]}


@tasks_blp.route("/delegations")
class Delegations(MethodView):
    get = handlers.view(
        tasks_blp, DelegationListSchema, queries.delegations, items=True, doc="Delegations the caller gave or received."
    )

    @tasks_blp.arguments(DelegationSchema)
    @tasks_blp.response(201, DelegationSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Delegate your tasks of one role at one org to a colleague holding the same role there."""
        principal = current_principal()
        delegation_id = reviews.delegate(service().uow(), principal, reviews.Delegate(**body))
        return {**body, "id": delegation_id, "delegator_user_id": principal.subject}


handlers.route(
    tasks_blp,
    "/delegations/<uuid:delegation_id>/revoke",
    "RevokeDelegation",
    DelegationSchema,
    reviews.revoke_delegation,
    doc="撤销委托: the delegator (or a platform admin over the org) ends it now; revoked already is 409.",
    verb="post",
)

handlers.route(tasks_blp, "/<uuid:task_id>", "Task", TaskSchema, queries.get_task, etag=True)


@tasks_blp.route("/<uuid:task_id>/decision")
class TaskDecision(MethodView):
    @tasks_blp.arguments(DecisionSchema)
    @tasks_blp.response(200, DecisionResultSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Approve, return for revision or reject; a task already decided (or not current) is 409."""
        result = handlers.call(reviews.decide, _decide_command(task_id, body))
        return _result(result)


# -- cases ----------------------------------------------------------------------------------------
handlers.route(cases_blp, "", "Cases", CasePage, queries.list_cases, query=CaseListArgs)
handlers.route(cases_blp, "/<uuid:case_id>", "Case", CaseSchema, queries.get_case)
handlers.route(
    cases_blp,
    "/<uuid:case_id>/history",
    "CaseHistory",
    HistorySchema,
    queries.case_history,
    items=True,
    doc="The append-only audit trail of the case.",
)


# -- appointments ---------------------------------------------------------------------------------
handlers.route(
    appointments_blp,
    "",
    "Appointments",
    AppointmentPage,
    queries.list_appointments,
    query=AppointmentListArgs,
    doc="Appointments in scope, by org subtree, status, or term ending before a date.",
)


@appointments_blp.route("/published-list")
class PublishedList(MethodView):
    @appointments_blp.arguments(PublishedListArgs, location="query")
    @appointments_blp.response(200, description="名单公示 as CSV or XLSX")
    def get(self, args: dict[str, Any]) -> Response:
        """名单公示: the appointments of a round, as CSV or XLSX."""
        rows = handlers.call(queries.published_rows, args["round_id"])
        fmt = args["format"]
        body = queries.render_xlsx(rows, "名单公示") if fmt == "xlsx" else queries.render_csv(rows)
        filename = f"published-list-{args['round_id']}.{fmt}"
        return files.document(body, files.TABLE_TYPES[fmt], filename, disposition="attachment")


handlers.route(
    appointments_blp,
    "/<uuid:appointment_id>",
    "AppointmentResource",
    AppointmentSchema,
    queries.get_appointment,
    etag=True,
)


@appointments_blp.route("/<uuid:appointment_id>/letter.pdf")
class AppointmentLetterPdf(MethodView):
    @appointments_blp.response(200, description="聘任文件 and 聘书 as application/pdf")
    def get(self, appointment_id: uuid.UUID) -> Any:
        """The printable appointment: 聘任文件 (document number, term, issuing body) and 聘书."""
        from approvals.adapters.letter_pdf import render_pdf

        letter = handlers.call(queries.appointment_letter, appointment_id)
        filename = f"appointment-{appointment_id}.pdf"
        return files.document(render_pdf(letter), "application/pdf", filename, disposition="inline", private=True)


handlers.route(
    appointments_blp,
    "/<uuid:appointment_id>/renew",
    "Renew",
    AppointmentSchema,
    appointments.renew,
    body=RenewSchema,
    status=201,
    doc="连任: the next term, within the policy's consecutive-term limit (else 422 with the reason).",
    verb="post",
)


@appointments_blp.route("/<uuid:appointment_id>/filings")
class Filings(MethodView):
    get = handlers.view(appointments_blp, FilingListSchema, queries.appointment_filings, items=True)

    post = handlers.view(
        appointments_blp,
        FilingOutSchema,
        appointments.file_change,
        body=FilingSchema,
        command=appointments.FileChange,
        status=201,
        doc="变更报备: file what changed during the term (person, post, contact data); the bureau is notified.",
    )


handlers.route(
    appointments_blp,
    "/<uuid:appointment_id>/filings/<int:filing_id>/decision",
    "FilingDecision",
    FilingOutSchema,
    appointments.decide_filing,
    body=FilingDecisionSchema,
    command=appointments.DecideFiling,
    doc="The appointing bureau acknowledges (备案) or rejects a filing; an acknowledged new person is appointed.",
    verb="post",
)

handlers.route(
    appointments_blp,
    "/<uuid:appointment_id>/end",
    "Dismiss",
    AppointmentSchema,
    appointments.dismiss,
    body=DismissSchema,
    command=appointments.Dismiss,
    doc="免聘: end the appointment normally, for a reason (left the school, retired, reassigned).",
    verb="post",
)

handlers.route(
    appointments_blp,
    "/<uuid:appointment_id>/revoke",
    "Revoke",
    AppointmentSchema,
    appointments.revoke,
    body=RevokeSchema,
    doc="取消任命 with a reason.",
    verb="post",
)

handlers.route(
    appointments_blp,
    "/<uuid:appointment_id>/history",
    "AppointmentHistory",
    HistorySchema,
    queries.appointment_history,
    items=True,
)


# -- evaluations and rectification --------------------------------------------------------------
evaluations_blp = Blueprint(
    "evaluations",
    __name__,
    url_prefix="/api/evaluations",
    description="Evaluations (测评 / 考核) as score sheets, and rectification (限期整改)",
)


def _evaluation_response(found: dict[str, Any], status: int = 200) -> Response:
    return with_etag(make_response(EvaluationSchema().dump(found), status), found["version"])


def _evaluation_change(handler: Callable[..., Any], command: Any) -> Response:
    """An evaluation changed as the caller read it (If-Match), answered with its new version."""
    return _evaluation_response(evaluations.view(handlers.call(handler, command, require_if_match)))


@evaluations_blp.route("/campaigns")
class EvaluationCampaigns(MethodView):
    @evaluations_blp.arguments(CampaignSchema)
    @evaluations_blp.response(201, CampaignResultSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """One act of the bureau: open `kind` for `period` for every active appointment in its subtree whose policy
        orders it (each with its policy's score sheet); those already evaluated are left as they are. With
        `round_id`, the school assessment (每2年对学校信息化工作考核一次) of every school in the subtree, with or
        without a CIO, under the round's policy."""
        return handlers.call(evaluations.open_campaign, evaluations.Campaign(**body))

    @evaluations_blp.arguments(CampaignSchema, location="query")
    @evaluations_blp.response(200, CampaignOverviewSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """完成情况: each appointment in the subtree whose policy orders `kind` (with `round_id`: each school), and how
        far its evaluation is."""
        return handlers.call(evaluations.campaign_overview, evaluations.Campaign(**args))


@evaluations_blp.route("")
class Evaluations(MethodView):
    get = handlers.view(
        evaluations_blp,
        EvaluationPage,
        evaluations.list_evaluations,
        query=EvaluationListArgs,
        doc="Evaluations in scope (and the caller's own, as the CIO evaluated), newest period first.",
    )

    @evaluations_blp.arguments(OpenEvaluationSchema)
    @evaluations_blp.response(201, EvaluationSchema)
    @idempotent(handlers.session_factory)
    def post(self, body: dict[str, Any]) -> Any:
        """Open the evaluation of an appointment for a kind and year, on the policy's (or the platform's) sheet."""
        opened = handlers.call(evaluations.open_evaluation, evaluations.Open(**body))
        return _evaluation_response(evaluations.view(opened), 201)


@evaluations_blp.route("/<uuid:evaluation_id>")
class EvaluationResource(MethodView):
    @evaluations_blp.response(200, EvaluationSchema)
    def get(self, evaluation_id: uuid.UUID) -> Any:
        return _evaluation_response(handlers.call(evaluations.get_evaluation, evaluation_id))


@evaluations_blp.route("/<uuid:evaluation_id>/self-assessment")
class SelfAssessment(MethodView):
    @evaluations_blp.arguments(SelfAssessmentSchema)
    @evaluations_blp.response(200, EvaluationSchema)
    def put(self, body: dict[str, Any], evaluation_id: uuid.UUID) -> Any:
        """自评 (If-Match): self-scores with evidence and the summary; `submit: true` hands it to the bureau."""
        return _evaluation_change(evaluations.self_assess, evaluations.SelfAssess(evaluation_id, **body))


@evaluations_blp.route("/<uuid:evaluation_id>/verification")
class Verification(MethodView):
    @evaluations_blp.arguments(VerificationSchema)
    @evaluations_blp.response(200, EvaluationSchema)
    def put(self, body: dict[str, Any], evaluation_id: uuid.UUID) -> Any:
        """核查 (If-Match): verified scores, 扣分原因 for each deduction, veto items (一票否决)."""
        return _evaluation_change(evaluations.verify, evaluations.Verify(evaluation_id, **body))


@evaluations_blp.route("/<uuid:evaluation_id>/finalise")
class Finalise(MethodView):
    @evaluations_blp.response(200, EvaluationSchema)
    def post(self, evaluation_id: uuid.UUID) -> Any:
        """Grade it (If-Match) and publish the result; 不合格 orders rectification where the policy says so."""
        done = handlers.call(evaluations.finalise, evaluation_id, require_if_match)
        return _evaluation_response(evaluations.view(done.evaluation, done.rectification))


handlers.route(
    evaluations_blp,
    "/<uuid:evaluation_id>/history",
    "EvaluationHistory",
    HistorySchema,
    evaluations.evaluation_history,
    items=True,
)
handlers.route(
    evaluations_blp,
    "/rectifications",
    "Rectifications",
    RectificationPage,
    evaluations.list_rectifications,
    query=RectificationListArgs,
    doc="Rectifications in scope, soonest due first (filter by status, overdue, org subtree).",
)

handlers.route(
    evaluations_blp,
    "/rectifications/<uuid:rectification_id>",
    "RectificationResource",
    RectificationSchema,
    evaluations.get_rectification,
    etag=True,
)


@evaluations_blp.route("/rectifications/<uuid:rectification_id>/report")
class RectificationReportResource(MethodView):
    @evaluations_blp.doc(
        requestBody={
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["report"],
                        "properties": {
                            "report": {"type": "string", "description": "整改报告: what was rectified"},
                            "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        },
                    }
                }
            }
        }
    )
    @evaluations_blp.response(200, RectificationReportSchema)
    def put(self, rectification_id: uuid.UUID) -> Any:
        """整改报告: the school's report (form field `report`) with attachments (files `attachments`: PDF, JPEG,
        PNG, docx, xlsx; at most 10 of 10 MB each, types read from the content); a new one replaces the last
        until the bureau records the outcome."""
        files = tuple((f.filename or "", f.read()) for f in request.files.getlist("attachments"))
        cmd = evaluations.Report(rectification_id=rectification_id, text=request.form.get("report") or "", files=files)
        handlers.call(evaluations.report_rectification, cmd)
        return handlers.call(evaluations.rectification_report, rectification_id)

    get = handlers.view(evaluations_blp, RectificationReportSchema, evaluations.rectification_report)


@evaluations_blp.route("/rectifications/<uuid:rectification_id>/report/attachments/<uuid:attachment_id>")
class RectificationAttachment(MethodView):
    @evaluations_blp.response(200, description="the attachment as uploaded")
    def get(self, rectification_id: uuid.UUID, attachment_id: uuid.UUID) -> Any:
        filename, content_type, data = handlers.call(
            evaluations.rectification_attachment, rectification_id, attachment_id
        )
        return files.uploaded(data, content_type, filename, disposition="attachment")


@evaluations_blp.route("/rectifications/<uuid:rectification_id>/outcome")
class RectificationOutcome(MethodView):
    @evaluations_blp.arguments(OutcomeSchema)
    @evaluations_blp.response(200, OutcomeResultSchema)
    def post(self, body: dict[str, Any], rectification_id: uuid.UUID) -> Any:
        """整改验收 (If-Match): passed or failed; failed under a revoking policy revokes the appointment."""
        done = handlers.call(
            evaluations.record_outcome, evaluations.Outcome(rectification_id, **body), require_if_match
        )
        return {
            "rectification": done.rectification,
            "revoked_appointment_id": done.revoked.id if done.revoked else None,
        }


handlers.route(
    evaluations_blp,
    "/rectifications/<uuid:rectification_id>/history",
    "RectificationHistory",
    HistorySchema,
    evaluations.rectification_history,
    items=True,
)


# -- 名单公示 -----------------------------------------------------------------------------------------
@publications_blp.route("")
class Publications(MethodView):
    @publications_blp.arguments(PublishSchema)
    @publications_blp.response(201, PublicationSchema)
    @idempotent(handlers.session_factory)
    def post(self, body: dict[str, Any]) -> Any:
        """Publish the people awaiting this body's final approval in the round for the period (公示期); their
        final approval waits until the period has ended and every objection about them is resolved."""
        found = handlers.call(publications.publish, publications.Publish(**{"note": None, **body}))
        return {**found.__dict__, "objections": []}

    @publications_blp.arguments(PublicationListArgs, location="query")
    @publications_blp.response(200, PublicationListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The lists published in the caller's subtree, newest first."""
        found = handlers.call(publications.list_for_bureau, args["round_id"])
        return {"items": [p.__dict__ for p in found]}


@publications_blp.route("/<uuid:publication_id>")
class PublicationById(MethodView):
    @publications_blp.response(200, PublicationSchema)
    def get(self, publication_id: uuid.UUID) -> Any:
        """The list with its objections and the objectors' contact details (the read is audited)."""
        found = handlers.call(publications.read_for_bureau, publication_id)
        return {**found.publication.__dict__, "objections": [o.__dict__ for o in found.objections]}


@publications_blp.route("/<uuid:publication_id>/objections/<uuid:objection_id>/resolution")
class ObjectionResolution(MethodView):
    @publications_blp.arguments(ResolveSchema)
    @publications_blp.response(200, ObjectionSchema)
    def post(self, body: dict[str, Any], publication_id: uuid.UUID, objection_id: uuid.UUID) -> Any:
        """The publishing body's finding: upheld (the person is not appointed) or dismissed, with its reasons."""
        cmd = publications.Resolve(publication_id=publication_id, objection_id=objection_id, **body)
        return handlers.call(publications.resolve, cmd).__dict__


@public_blp.route("")
class PublicPublications(MethodView):
    @public
    @public_blp.doc(security=[])
    @public_blp.response(200, PublicPublicationListSchema)
    def get(self) -> Any:
        """The lists being published now or soon (no sign-in): names and units only."""
        return {"items": publications.list_public(service().uow())}


@public_blp.route("/<uuid:publication_id>")
class PublicPublication(MethodView):
    @public
    @public_blp.doc(security=[])
    @public_blp.response(200, PublicPublicationSchema)
    def get(self, publication_id: uuid.UUID) -> Any:
        return publications.read_public(service().uow(), publication_id)


@public_blp.route("/<uuid:publication_id>/objections")
class PublicObjections(MethodView):
    @public
    @public_blp.doc(security=[])
    @public_blp.arguments(ObjectSchema)
    @public_blp.response(201, ObjectionReceiptSchema)
    def post(self, body: dict[str, Any], publication_id: uuid.UUID) -> Any:
        """异议: anyone may object during the period, about one person or the list, giving a name and a phone
        number or e-mail address; 409 outside the period. The gateway limits how often one address may post."""
        cmd = publications.Object(
            publication_id=publication_id,
            case_id=body.get("case_id"),
            content=body["content"],
            contact_name=body["contact_name"],
            contact_phone=body.get("contact_phone"),
            contact_email=body.get("contact_email"),
        )
        return publications.object_to(service().uow(), cmd).__dict__


# GET /api/audit/approvals: the audit listing every service serves the same way (shared/audit.py).
BLUEPRINTS = [
    tasks_blp,
    cases_blp,
    appointments_blp,
    evaluations_blp,
    publications_blp,
    public_blp,
    audit_blueprint("approvals"),
]
