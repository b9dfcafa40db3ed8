"""The approvals API: the reviewer's inbox and decisions, cases and their history, appointments."""

from __future__ import annotations

import uuid
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


def _decide_command(task_id: uuid.UUID, body: dict[str, Any]) -> reviews.Decide:
    seal = body.get("seal") or {}
    return reviews.Decide(
        task_id=task_id,
        decision=body["decision"],
        opinion=body.get("opinion"),
        seal_unit_name=seal.get("unit_name"),
        seal_date=seal.get("date"),
        document_number=body.get("document_number"),
        starts_on=body.get("starts_on"),
        term_years=body.get("term_years"),
        on_behalf_of=body.get("on_behalf_of"),
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
@tasks_blp.route("")
class Tasks(MethodView):
    @tasks_blp.arguments(TaskListArgs, location="query")
    @tasks_blp.response(200, TaskPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Open tasks in the caller's scope (filter by status, role, stage, org, school, round, overdue)."""
        return queries.list_tasks(service().uow(), current_principal(), args)


@tasks_blp.route("/decisions")
class BulkDecisions(MethodView):
    @tasks_blp.arguments(BulkDecisionSchema)
    @tasks_blp.response(200, BulkResultSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Decide several tasks at once: all are recorded, or none (each refused item is named)."""
        commands = [_decide_command(item["task_id"], item) for item in body["items"]]
        results = reviews.decide_many(service().uow(), current_principal(), commands)
        return {"items": [_result(r) for r in results]}


@tasks_blp.route("/delegations")
class Delegations(MethodView):
    @tasks_blp.response(200, DelegationListSchema)
    def get(self) -> Any:
        """Delegations the caller gave or received."""
        return {"items": queries.delegations(service().uow(), current_principal())}

    @tasks_blp.arguments(DelegationSchema)
    @tasks_blp.response(201, DelegationSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Delegate your tasks of one role at one org to a colleague holding the same role there."""
        principal = current_principal()
        delegation_id = reviews.delegate(service().uow(), principal, reviews.Delegate(**body))
        return {**body, "id": delegation_id, "delegator_user_id": principal.subject}


@tasks_blp.route("/delegations/<uuid:delegation_id>/revoke")
class RevokeDelegation(MethodView):
    @tasks_blp.response(200, DelegationSchema)
    def post(self, delegation_id: uuid.UUID) -> Any:
        """撤销委托: the delegator (or a platform admin over the org) ends it now; revoked already is 409."""
        return reviews.revoke_delegation(service().uow(), current_principal(), delegation_id)


@tasks_blp.route("/<uuid:task_id>")
class Task(MethodView):
    @tasks_blp.response(200, TaskSchema)
    def get(self, task_id: uuid.UUID) -> Any:
        task = queries.get_task(service().uow(), current_principal(), task_id)
        return with_etag(make_response(TaskSchema().dump(task)), task.version)


@tasks_blp.route("/<uuid:task_id>/decision")
class TaskDecision(MethodView):
    @tasks_blp.arguments(DecisionSchema)
    @tasks_blp.response(200, DecisionResultSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Approve, return for revision or reject; a task already decided (or not current) is 409."""
        result = reviews.decide(service().uow(), current_principal(), _decide_command(task_id, body))
        return _result(result)


# -- cases ----------------------------------------------------------------------------------------
@cases_blp.route("")
class Cases(MethodView):
    @cases_blp.arguments(CaseListArgs, location="query")
    @cases_blp.response(200, CasePage)
    def get(self, args: dict[str, Any]) -> Any:
        return queries.list_cases(service().uow(), current_principal(), args)


@cases_blp.route("/<uuid:case_id>")
class Case(MethodView):
    @cases_blp.response(200, CaseSchema)
    def get(self, case_id: uuid.UUID) -> Any:
        return queries.get_case(service().uow(), current_principal(), case_id)


@cases_blp.route("/<uuid:case_id>/history")
class CaseHistory(MethodView):
    @cases_blp.response(200, HistorySchema)
    def get(self, case_id: uuid.UUID) -> Any:
        """The append-only audit trail of the case."""
        return {"items": queries.case_history(service().uow(), current_principal(), case_id)}


# -- appointments ---------------------------------------------------------------------------------
@appointments_blp.route("")
class Appointments(MethodView):
    @appointments_blp.arguments(AppointmentListArgs, location="query")
    @appointments_blp.response(200, AppointmentPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Appointments in scope, by org subtree, status, or term ending before a date."""
        return queries.list_appointments(service().uow(), current_principal(), args)


@appointments_blp.route("/published-list")
class PublishedList(MethodView):
    @appointments_blp.arguments(PublishedListArgs, location="query")
    @appointments_blp.response(200, description="名单公示 as CSV or XLSX")
    def get(self, args: dict[str, Any]) -> Response:
        """名单公示: the appointments of a round, as CSV or XLSX."""
        rows = queries.published_rows(service().uow(), current_principal(), args["round_id"])
        fmt = args["format"]
        body = queries.render_xlsx(rows, "名单公示") if fmt == "xlsx" else queries.render_csv(rows)
        filename = f"published-list-{args['round_id']}.{fmt}"
        return files.document(body, files.TABLE_TYPES[fmt], filename, disposition="attachment")


@appointments_blp.route("/<uuid:appointment_id>")
class AppointmentResource(MethodView):
    @appointments_blp.response(200, AppointmentSchema)
    def get(self, appointment_id: uuid.UUID) -> Any:
        found = queries.get_appointment(service().uow(), current_principal(), appointment_id)
        return with_etag(make_response(AppointmentSchema().dump(found)), found.version)


@appointments_blp.route("/<uuid:appointment_id>/letter.pdf")
class AppointmentLetterPdf(MethodView):
    @appointments_blp.response(200, description="聘任文件 and 聘书 as application/pdf")
    def get(self, appointment_id: uuid.UUID) -> Any:
        """The printable appointment: 聘任文件 (document number, term, issuing body) and 聘书."""
        from approvals.adapters.letter_pdf import render_pdf

        letter = queries.appointment_letter(service().uow(), current_principal(), appointment_id)
        filename = f"appointment-{appointment_id}.pdf"
        return files.document(render_pdf(letter), "application/pdf", filename, disposition="inline", private=True)


@appointments_blp.route("/<uuid:appointment_id>/renew")
class Renew(MethodView):
    @appointments_blp.arguments(RenewSchema)
    @appointments_blp.response(201, AppointmentSchema)
    def post(self, body: dict[str, Any], appointment_id: uuid.UUID) -> Any:
        """连任: the next term, within the policy's consecutive-term limit (else 422 with the reason)."""
        return appointments.renew(service().uow(), current_principal(), appointment_id, body["document_number"])


@appointments_blp.route("/<uuid:appointment_id>/filings")
class Filings(MethodView):
    @appointments_blp.response(200, FilingListSchema)
    def get(self, appointment_id: uuid.UUID) -> Any:
        return {"items": queries.appointment_filings(service().uow(), current_principal(), appointment_id)}

    @appointments_blp.arguments(FilingSchema)
    @appointments_blp.response(201, FilingOutSchema)
    def post(self, body: dict[str, Any], appointment_id: uuid.UUID) -> Any:
        """变更报备: file what changed during the term (person, post, contact data); the bureau is notified."""
        cmd = appointments.FileChange(appointment_id=appointment_id, **body)
        return appointments.file_change(service().uow(), current_principal(), cmd)


@appointments_blp.route("/<uuid:appointment_id>/filings/<int:filing_id>/decision")
class FilingDecision(MethodView):
    @appointments_blp.arguments(FilingDecisionSchema)
    @appointments_blp.response(200, FilingOutSchema)
    def post(self, body: dict[str, Any], appointment_id: uuid.UUID, filing_id: int) -> Any:
        """The appointing bureau acknowledges (备案) or rejects a filing; an acknowledged new person is appointed."""
        cmd = appointments.DecideFiling(appointment_id=appointment_id, filing_id=filing_id, **body)
        return appointments.decide_filing(service().uow(), current_principal(), cmd)


@appointments_blp.route("/<uuid:appointment_id>/end")
class Dismiss(MethodView):
    @appointments_blp.arguments(DismissSchema)
    @appointments_blp.response(200, AppointmentSchema)
    def post(self, body: dict[str, Any], appointment_id: uuid.UUID) -> Any:
        """免聘: end the appointment normally, for a reason (left the school, retired, reassigned)."""
        cmd = appointments.Dismiss(appointment_id=appointment_id, **body)
        return appointments.dismiss(service().uow(), current_principal(), cmd)


@appointments_blp.route("/<uuid:appointment_id>/revoke")
class Revoke(MethodView):
    @appointments_blp.arguments(RevokeSchema)
    @appointments_blp.response(200, AppointmentSchema)
    def post(self, body: dict[str, Any], appointment_id: uuid.UUID) -> Any:
        """取消任命 with a reason."""
        return appointments.revoke(service().uow(), current_principal(), appointment_id, body["reason"])


@appointments_blp.route("/<uuid:appointment_id>/history")
class AppointmentHistory(MethodView):
    @appointments_blp.response(200, HistorySchema)
    def get(self, appointment_id: uuid.UUID) -> Any:
        return {"items": queries.appointment_history(service().uow(), current_principal(), appointment_id)}


# -- evaluations and rectification --------------------------------------------------------------
evaluations_blp = Blueprint(
    "evaluations",
    __name__,
    url_prefix="/api/evaluations",
    description="Evaluations (测评 / 考核) as score sheets, and rectification (限期整改)",
)


def _session_factory() -> Any:
    return service().session_factory


def _evaluation_response(found: dict[str, Any], status: int = 200) -> Response:
    return with_etag(make_response(EvaluationSchema().dump(found), status), found["version"])


@evaluations_blp.route("/campaigns")
class EvaluationCampaigns(MethodView):
    @evaluations_blp.arguments(CampaignSchema)
    @evaluations_blp.response(201, CampaignResultSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """One act of the bureau: open `kind` for `period` for every active appointment in its subtree whose policy
        orders it (each with its policy's score sheet); those already evaluated are left as they are. With
        `round_id`, the school assessment (每2年对学校信息化工作考核一次) of every school in the subtree, with or
        without a CIO, under the round's policy."""
        return evaluations.open_campaign(service().uow(), current_principal(), evaluations.Campaign(**body))

    @evaluations_blp.arguments(CampaignSchema, location="query")
    @evaluations_blp.response(200, CampaignOverviewSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """完成情况: each appointment in the subtree whose policy orders `kind` (with `round_id`: each school), and how
        far its evaluation is."""
        return evaluations.campaign_overview(service().uow(), current_principal(), evaluations.Campaign(**args))


@evaluations_blp.route("")
class Evaluations(MethodView):
    @evaluations_blp.arguments(EvaluationListArgs, location="query")
    @evaluations_blp.response(200, EvaluationPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Evaluations in scope (and the caller's own, as the CIO evaluated), newest period first."""
        return evaluations.list_evaluations(service().uow(), current_principal(), args)

    @evaluations_blp.arguments(OpenEvaluationSchema)
    @evaluations_blp.response(201, EvaluationSchema)
    @idempotent(_session_factory)
    def post(self, body: dict[str, Any]) -> Any:
        """Open the evaluation of an appointment for a kind and year, on the policy's (or the platform's) sheet."""
        opened = evaluations.open_evaluation(service().uow(), current_principal(), evaluations.Open(**body))
        return _evaluation_response(evaluations.view(opened), 201)


@evaluations_blp.route("/<uuid:evaluation_id>")
class EvaluationResource(MethodView):
    @evaluations_blp.response(200, EvaluationSchema)
    def get(self, evaluation_id: uuid.UUID) -> Any:
        return _evaluation_response(evaluations.get_evaluation(service().uow(), current_principal(), evaluation_id))


@evaluations_blp.route("/<uuid:evaluation_id>/self-assessment")
class SelfAssessment(MethodView):
    @evaluations_blp.arguments(SelfAssessmentSchema)
    @evaluations_blp.response(200, EvaluationSchema)
    def put(self, body: dict[str, Any], evaluation_id: uuid.UUID) -> Any:
        """自评 (If-Match): self-scores with evidence and the summary; `submit: true` hands it to the bureau."""
        found = evaluations.self_assess(
            service().uow(), current_principal(), evaluations.SelfAssess(evaluation_id, **body), require_if_match
        )
        return _evaluation_response(evaluations.view(found))


@evaluations_blp.route("/<uuid:evaluation_id>/verification")
class Verification(MethodView):
    @evaluations_blp.arguments(VerificationSchema)
    @evaluations_blp.response(200, EvaluationSchema)
    def put(self, body: dict[str, Any], evaluation_id: uuid.UUID) -> Any:
        """核查 (If-Match): verified scores, 扣分原因 for each deduction, veto items (一票否决)."""
        found = evaluations.verify(
            service().uow(), current_principal(), evaluations.Verify(evaluation_id, **body), require_if_match
        )
        return _evaluation_response(evaluations.view(found))


@evaluations_blp.route("/<uuid:evaluation_id>/finalise")
class Finalise(MethodView):
    @evaluations_blp.response(200, EvaluationSchema)
    def post(self, evaluation_id: uuid.UUID) -> Any:
        """Grade it (If-Match) and publish the result; 不合格 orders rectification where the policy says so."""
        done = evaluations.finalise(service().uow(), current_principal(), evaluation_id, require_if_match)
        return _evaluation_response(evaluations.view(done.evaluation, done.rectification))


@evaluations_blp.route("/<uuid:evaluation_id>/history")
class EvaluationHistory(MethodView):
    @evaluations_blp.response(200, HistorySchema)
    def get(self, evaluation_id: uuid.UUID) -> Any:
        return {"items": evaluations.evaluation_history(service().uow(), current_principal(), evaluation_id)}


@evaluations_blp.route("/rectifications")
class Rectifications(MethodView):
    @evaluations_blp.arguments(RectificationListArgs, location="query")
    @evaluations_blp.response(200, RectificationPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Rectifications in scope, soonest due first (filter by status, overdue, org subtree)."""
        return evaluations.list_rectifications(service().uow(), current_principal(), args)


@evaluations_blp.route("/rectifications/<uuid:rectification_id>")
class RectificationResource(MethodView):
    @evaluations_blp.response(200, RectificationSchema)
    def get(self, rectification_id: uuid.UUID) -> Any:
        found = evaluations.get_rectification(service().uow(), current_principal(), rectification_id)
        return with_etag(make_response(RectificationSchema().dump(found)), found.version)


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
        evaluations.report_rectification(service().uow(), current_principal(), cmd)
        return evaluations.rectification_report(service().uow(), current_principal(), rectification_id)

    @evaluations_blp.response(200, RectificationReportSchema)
    def get(self, rectification_id: uuid.UUID) -> Any:
        return evaluations.rectification_report(service().uow(), current_principal(), rectification_id)


@evaluations_blp.route("/rectifications/<uuid:rectification_id>/report/attachments/<uuid:attachment_id>")
class RectificationAttachment(MethodView):
    @evaluations_blp.response(200, description="the attachment as uploaded")
    def get(self, rectification_id: uuid.UUID, attachment_id: uuid.UUID) -> Any:
        filename, content_type, data = evaluations.rectification_attachment(
            service().uow(), current_principal(), rectification_id, attachment_id
        )
        return files.uploaded(data, content_type, filename, disposition="attachment")


@evaluations_blp.route("/rectifications/<uuid:rectification_id>/outcome")
class RectificationOutcome(MethodView):
    @evaluations_blp.arguments(OutcomeSchema)
    @evaluations_blp.response(200, OutcomeResultSchema)
    def post(self, body: dict[str, Any], rectification_id: uuid.UUID) -> Any:
        """整改验收 (If-Match): passed or failed; failed under a revoking policy revokes the appointment."""
        done = evaluations.record_outcome(
            service().uow(), current_principal(), evaluations.Outcome(rectification_id, **body), require_if_match
        )
        return {
            "rectification": done.rectification,
            "revoked_appointment_id": done.revoked.id if done.revoked else None,
        }


@evaluations_blp.route("/rectifications/<uuid:rectification_id>/history")
class RectificationHistory(MethodView):
    @evaluations_blp.response(200, HistorySchema)
    def get(self, rectification_id: uuid.UUID) -> Any:
        return {"items": evaluations.rectification_history(service().uow(), current_principal(), rectification_id)}


# -- 名单公示 -----------------------------------------------------------------------------------------
@publications_blp.route("")
class Publications(MethodView):
    @publications_blp.arguments(PublishSchema)
    @publications_blp.response(201, PublicationSchema)
    @idempotent(_session_factory)
    def post(self, body: dict[str, Any]) -> Any:
        """Publish the people awaiting this body's final approval in the round for the period (公示期); their
        final approval waits until the period has ended and every objection about them is resolved."""
        found = publications.publish(
            service().uow(), current_principal(), publications.Publish(**{"note": None, **body})
        )
        return {**found.__dict__, "objections": []}

    @publications_blp.arguments(PublicationListArgs, location="query")
    @publications_blp.response(200, PublicationListSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The lists published in the caller's subtree, newest first."""
        found = publications.list_for_bureau(service().uow(), current_principal(), args["round_id"])
        return {"items": [p.__dict__ for p in found]}


@publications_blp.route("/<uuid:publication_id>")
class PublicationById(MethodView):
    @publications_blp.response(200, PublicationSchema)
    def get(self, publication_id: uuid.UUID) -> Any:
        """The list with its objections and the objectors' contact details (the read is audited)."""
        found = publications.read_for_bureau(service().uow(), current_principal(), publication_id)
        return {**found.publication.__dict__, "objections": [o.__dict__ for o in found.objections]}


@publications_blp.route("/<uuid:publication_id>/objections/<uuid:objection_id>/resolution")
class ObjectionResolution(MethodView):
    @publications_blp.arguments(ResolveSchema)
    @publications_blp.response(200, ObjectionSchema)
    def post(self, body: dict[str, Any], publication_id: uuid.UUID, objection_id: uuid.UUID) -> Any:
        """The publishing body's finding: upheld (the person is not appointed) or dismissed, with its reasons."""
        cmd = publications.Resolve(publication_id=publication_id, objection_id=objection_id, **body)
        return publications.resolve(service().uow(), current_principal(), cmd).__dict__


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
