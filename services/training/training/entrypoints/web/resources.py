"""The training API: trainings, attendance, certificates, imports, verification and compliance."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, jsonify, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from shared.audit_listing import audit_blueprint
from shared.auth import current_principal, public
from shared.errors import Unprocessable, field_error, flatten_marshmallow
from shared.http import idempotent
from shared.pagination import PageArgs, time_then_id
from shared.views import Handlers
from shared.web import wired_service
from training.bootstrap import TrainingService
from training.domain.model import ImportJob, ImportKind
from training.entrypoints.web.schemas import (
    AttendancePage,
    CertificateListArgs,
    CertificatePage,
    CertificateSchema,
    ClaimDecisionSchema,
    ClaimListArgs,
    ClaimListSchema,
    ClaimSchema,
    CompletionResultSchema,
    CompletionsSchema,
    ComplianceArgs,
    ComplianceSchema,
    EnrolResultSchema,
    EnrolSchema,
    ImportForm,
    ImportJobSchema,
    RevokeSchema,
    SummarySchema,
    TrainingListArgs,
    TrainingPage,
    TrainingSchema,
    VerificationSchema,
)
from training.service_layer import certificates, claims, compliance, imports, trainings

trainings_blp = Blueprint("trainings", __name__, url_prefix="/api/trainings", description="Trainings (培训)")
certificates_blp = Blueprint(
    "certificates", __name__, url_prefix="/api/certificates", description="Certificates (合格证)"
)
compliance_blp = Blueprint(
    "compliance", __name__, url_prefix="/api/training-compliance", description="The yearly requirement"
)


def service() -> TrainingService:
    return wired_service("training", TrainingService)


handlers = Handlers(service)


def _created(body: dict[str, Any], location: str) -> Response:
    """A full response, so Idempotency-Key can store and replay it."""
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = location
    return response


# Both import endpoints take the same form: the file and what to do with bad rows (ImportForm).
IMPORT_UPLOAD = {
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "mode": {"type": "string", "enum": ["all_or_nothing", "good_rows_only"]},
                },
            }
        }
    }
}


def _upload(kind: ImportKind, training_id: uuid.UUID | None) -> Response:
    """Shared by both import endpoints: multipart `file` plus `mode`; answers by the job's state."""
    try:
        form = ImportForm().load(request.form.to_dict())
    except ValidationError as exc:
        raise Unprocessable(errors=flatten_marshmallow({"form": exc.normalized_messages()})) from exc
    upload = request.files.get("file")
    if upload is None:
        raise Unprocessable(
            "Upload the file as multipart field `file`.", errors=[field_error("file", "required", "files")]
        )
    content = upload.read()
    job, replayed = imports.submit_import(
        service().uow,
        current_principal(),
        kind=kind,
        mode=form["mode"],
        training_id=training_id,
        filename=upload.filename or "upload",
        content=content,
        inline_max_bytes=service().rules.inline_import_bytes,
    )
    body = ImportJobSchema().dump(job)
    location = url_for("trainings.ImportJobResource", job_id=job.id)
    if job.status == ImportJob.REJECTED:
        raise Unprocessable(
            f"{job.rows_failed or len(job.errors)} row(s) are invalid; nothing was imported.",
            errors=job.errors,
            job=body,
        )
    response = jsonify(body)
    response.status_code = 200 if replayed else (201 if job.finished else 202)
    response.headers["Location"] = location
    response.headers["Idempotent-Replayed"] = "true" if replayed else "false"
    return response


def _import_route(blp: Blueprint, rule: str, endpoint: str, kind: ImportKind, columns: str) -> None:
    """An import endpoint (`endpoint` at `rule`) for one kind of rows, given as the columns its file has."""

    @blp.doc(requestBody=IMPORT_UPLOAD, description=f"CSV or XLSX with columns {columns}.")
    @blp.response(201, ImportJobSchema)
    def post(_view: MethodView, training_id: uuid.UUID | None = None) -> Response:
        return _upload(kind, training_id)

    blp.route(rule)(type(endpoint, (MethodView,), {"post": post}))


# -- trainings ---------------------------------------------------------------------------------------
@trainings_blp.route("")
class Trainings(MethodView):
    get = handlers.listing(
        trainings_blp,
        TrainingListArgs,
        TrainingPage,
        trainings.list_trainings,
        time_then_id("starts_on"),
        doc="Trainings organised within the caller's subtree, newest first.",
    )

    @trainings_blp.arguments(TrainingSchema)
    @trainings_blp.response(201, TrainingSchema)
    @idempotent(handlers.session_factory)
    def post(self, data: dict[str, Any]) -> Any:
        """Record a training (training_admin, organiser org within their subtree)."""
        data["level"], data["kind"] = data["level"].value, data["kind"].value
        training = handlers.call(trainings.create_training, trainings.CreateTraining(**data))
        return _created(TrainingSchema().dump(training), url_for("trainings.TrainingResource", training_id=training.id))


handlers.route(trainings_blp, "/<uuid:training_id>", "TrainingResource", TrainingSchema, trainings.get_training)


@trainings_blp.route("/<uuid:training_id>/enrolments")
class Enrolments(MethodView):
    @trainings_blp.arguments(EnrolSchema)
    @trainings_blp.response(200, EnrolResultSchema)
    def post(self, data: dict[str, Any], training_id: uuid.UUID) -> Any:
        """报名: enrol people in bulk; those already enrolled are left as they are."""
        added = handlers.call(trainings.enrol, training_id, data["person_user_ids"])
        return {"added": added}


@trainings_blp.route("/<uuid:training_id>/completions")
class Completions(MethodView):
    @trainings_blp.arguments(CompletionsSchema)
    @trainings_blp.response(200, CompletionResultSchema)
    def post(self, data: dict[str, Any], training_id: uuid.UUID) -> Any:
        """结业: record completions with hours (and optionally issue certificates) in bulk; all or nothing."""
        rows = [
            trainings.CompletionRow(
                row=index,
                person=str(item["person_user_id"]),
                hours=item["hours"],
                completed_on=item["completed_on"],
                certificate_number=item.get("certificate_number"),
                certificate_expires_on=item.get("certificate_expires_on"),
            )
            for index, item in enumerate(data["items"])
        ]
        outcome = handlers.call(trainings.record_completions, training_id, rows)
        return outcome


@trainings_blp.route("/<uuid:training_id>/attendance")
class AttendanceList(MethodView):
    get = handlers.listing(trainings_blp, PageArgs, AttendancePage, trainings.list_attendance, lambda a: str(a.id))


_import_route(
    trainings_blp,
    "/<uuid:training_id>/attendance/imports",
    "AttendanceImports",
    ImportKind.ATTENDANCE,
    "用户名/username, 姓名/name, 学时/hours, 结业日期/completed_on, 证书编号/certificate_number, "
    "有效期至/certificate_expires_on",
)


handlers.route(
    trainings_blp,
    "/imports/<uuid:job_id>",
    "ImportJobResource",
    ImportJobSchema,
    imports.get_job,
    doc="An import job: poll it for its status, counts and per-row report.",
)

handlers.route(
    trainings_blp,
    "/people/<uuid:person_id>/summary",
    "PersonSummary",
    SummarySchema,
    trainings.person_summary,
    doc="培训档案: hours per year and certificates (the person themself, or a reader in scope).",
)


# -- certificates ------------------------------------------------------------------------------------
@certificates_blp.route("")
class Certificates(MethodView):
    get = handlers.listing(
        certificates_blp, CertificateListArgs, CertificatePage, certificates.list_certificates, lambda c: c.number
    )

    @certificates_blp.arguments(CertificateSchema)
    @certificates_blp.response(201, CertificateSchema)
    @idempotent(handlers.session_factory)
    def post(self, data: dict[str, Any]) -> Any:
        """Record a certificate (e.g. from a training held elsewhere) for a person in the admin's subtree."""
        row = certificates.CertificateRow(
            row=0,
            number=data["number"],
            person=str(data["person_user_id"]),
            kind=data["kind"].value,
            level=data["level"].value,
            issuer=data["issuer"],
            issued_on=data["issued_on"],
            expires_on=data.get("expires_on"),
            training_id=data.get("training_id"),
        )
        cert = handlers.call(certificates.record_certificate, row)
        return _created(
            CertificateSchema().dump(cert), url_for("certificates.CertificateResource", certificate_id=cert.id)
        )


handlers.route(
    certificates_blp, "/<uuid:certificate_id>", "CertificateResource", CertificateSchema, certificates.get_certificate
)

handlers.route(
    certificates_blp,
    "/<uuid:certificate_id>/revoke",
    "Revocation",
    CertificateSchema,
    certificates.revoke_certificate,
    body=RevokeSchema,
    doc="撤销: revoke with a reason; the holder no longer qualifies once nominations hears of it.",
    verb="post",
)


_import_route(
    certificates_blp,
    "/imports",
    "CertificateImports",
    ImportKind.CERTIFICATES,
    "证书编号/number, 用户名/username, 姓名/name, 培训类别/kind, 培训级别/level, 发证机构/issuer, "
    "发证日期/issued_on, 有效期至/expires_on, 培训ID/training_id",
)


handlers.route(
    certificates_blp,
    "/claims",
    "Claims",
    ClaimListSchema,
    claims.list_claims,
    filters=ClaimListArgs,
    items=True,
    doc="合格证 claimed on 推荐表 of the schools in the training administrator's subtree.",
)


@certificates_blp.route("/claims/<uuid:claim_id>/decision")
class ClaimDecision(MethodView):
    @certificates_blp.arguments(ClaimDecisionSchema)
    @certificates_blp.response(200, ClaimSchema)
    def post(self, body: dict[str, Any], claim_id: uuid.UUID) -> Any:
        """Confirm (records the certificate: nominations then counts it) or reject with a reason (the school is
        told)."""
        return handlers.call(claims.decide_claim, claim_id, body["decision"], body.get("note"))


@certificates_blp.route("/<string:number>/verify")
class Verification(MethodView):
    @public
    @certificates_blp.doc(security=[])
    @certificates_blp.response(200, VerificationSchema)
    def get(self, number: str) -> Any:
        """证书查验, no token needed: valid / revoked / expired, with the holder's name masked."""
        return certificates.verify(service().uow(), number)


# -- compliance --------------------------------------------------------------------------------------
@compliance_blp.route("")
class Compliance(MethodView):
    @compliance_blp.arguments(ComplianceArgs, location="query")
    @compliance_blp.response(200, ComplianceSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Active CIOs in scope for the year, and whether each completed the required centralized trainings."""
        return handlers.call(
            compliance.compliance, year=args["year"], org_code=args.get("org"), status=args.get("status")
        )


# GET /api/audit/training: the audit listing every service serves the same way (shared/audit.py).
BLUEPRINTS = [trainings_blp, certificates_blp, compliance_blp, audit_blueprint("training")]
