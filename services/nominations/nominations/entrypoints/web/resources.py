"""The nominations API: policies, rounds (推荐批次), nominations (推荐表), eligibility and the summary table."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from nominations.bootstrap import Nominations
from nominations.domain.model import Nomination, Round
from nominations.entrypoints.web.schemas import (
    Attestation,
    BatchCreate,
    BatchOverviewSchema,
    BatchSentSchema,
    BatchSummaryArgs,
    CandidateArgs,
    CandidateList,
    CertificateClaimSchema,
    CoverageArgs,
    CoverageSchema,
    EligibilitySchema,
    EvidenceListSchema,
    HistoryList,
    NominationCreate,
    NominationListArgs,
    NominationPage,
    NominationSchema,
    NominationUpdate,
    PolicyList,
    PolicySchema,
    PreviousArgs,
    PreviousSchema,
    RoundCreate,
    RoundListArgs,
    RoundPage,
    RoundProgressArgs,
    RoundProgressSchema,
    RoundSchema,
    SummaryArgs,
)
from nominations.service_layer import batches, common, drafts, reads, reports, rounds, submission
from shared import files
from shared.audit_listing import audit_blueprint
from shared.auth import current_principal
from shared.errors import NotFound, Unprocessable, field_error
from shared.http import idempotent, json_response, require_if_match
from shared.pagination import decode_cursor, page, time_then_id
from shared.views import Handlers
from shared.web import wired_service

policies_blp = Blueprint("policies", __name__, url_prefix="/api/policies", description="Policies (推荐政策) as data")
rounds_blp = Blueprint("rounds", __name__, url_prefix="/api/rounds", description="Nomination rounds (推荐批次)")
nominations_blp = Blueprint(
    "nominations", __name__, url_prefix="/api/nominations", description="Nominations (推荐表) and eligibility"
)


def service() -> Nominations:
    return wired_service("nominations", Nominations)


handlers = Handlers(service)


def _round_body(round_: Round) -> dict[str, Any]:
    return {**round_.__dict__, "policy": round_.policy}


def _nomination_body(view: reads.NominationView | Nomination, masked: bool | None = None) -> dict[str, Any]:
    if isinstance(view, reads.NominationView):
        nomination, policy, masked = view.nomination, view.round.read_policy, view.masked
    else:
        nomination, policy = view, None
    body = dict(nomination.__dict__)
    body["masked"] = bool(masked)
    if masked and policy is not None:
        body["form"] = common.masked_form(policy, nomination.form)
        body["candidate"] = common.masked_candidate(nomination.candidate)
    return body


def _round_response(round_: Round, status: int = 200) -> Response:
    return json_response(RoundSchema().dump(_round_body(round_)), round_.version, status)


def _nomination_response(view: reads.NominationView | Nomination, status: int = 200) -> Response:
    nomination = view.nomination if isinstance(view, reads.NominationView) else view
    return json_response(NominationSchema().dump(_nomination_body(view)), nomination.version, status)


def _change(handler: Callable[..., Nomination], nomination_id: uuid.UUID, *args: Any, **kwargs: Any) -> Response:
    """A change to the nomination as the caller read it (If-Match), answered with its new version."""
    return _nomination_response(handlers.call(handler, nomination_id, require_if_match, *args, **kwargs))


# -- policies ------------------------------------------------------------------------------------
@policies_blp.route("")
class Policies(MethodView):
    @policies_blp.response(200, PolicyList)
    def get(self) -> Any:
        """Every policy the service ships (one per source document)."""
        return {"items": [p.document for p in service().catalog.all()]}


@policies_blp.route("/<policy_id>")
class PolicyById(MethodView):
    @policies_blp.response(200, PolicySchema)
    def get(self, policy_id: str) -> Any:
        """The whole policy: form fields, eligibility rules, approval chain, term, evaluation, training."""
        policy = service().catalog.get(policy_id)
        if policy is None:
            raise NotFound("No such policy.")
        return policy.document


# -- rounds --------------------------------------------------------------------------------------
@rounds_blp.route("")
class Rounds(MethodView):
    @rounds_blp.arguments(RoundCreate)
    @rounds_blp.response(201, RoundSchema)
    @idempotent(handlers.session_factory)
    def post(self, body: dict[str, Any]) -> Any:
        """Open a round for an org subtree with a policy (snapshotted) and a deadline."""
        round_ = rounds.open_round(
            service().uow(), service().catalog, current_principal(), **body, now=common.now_utc()
        )
        response = _round_response(round_, 201)
        response.headers["Location"] = url_for("rounds.RoundById", round_id=round_.id)
        return response

    @rounds_blp.arguments(RoundListArgs, location="query")
    @rounds_blp.response(200, RoundPage)
    def get(self, args: dict[str, Any]) -> Any:
        result = handlers.paged(rounds.list_rounds, args, time_then_id("opens_at"), "status")
        result["items"] = [_round_body(r) for r in result["items"]]
        return result


@rounds_blp.route("/<uuid:round_id>")
class RoundById(MethodView):
    @rounds_blp.response(200, RoundSchema)
    def get(self, round_id: uuid.UUID) -> Any:
        return _round_response(handlers.call(rounds.get_round, round_id))


@rounds_blp.route("/<uuid:round_id>/close")
class RoundClose(MethodView):
    @rounds_blp.response(200, RoundSchema)
    def post(self, round_id: uuid.UUID) -> Any:
        """Close the round by hand before its deadline (If-Match required)."""
        round_ = handlers.call(rounds.close_round, round_id, require_if_match, common.now_utc())
        return _round_response(round_)


def _table_response(table: reports.SummaryTable, fmt: str, name: str) -> Response:
    return files.table(fmt, name, table.title or "汇总表", table.header, table.rows)


@rounds_blp.route("/<uuid:round_id>/summary")
class RoundSummary(MethodView):
    @rounds_blp.arguments(SummaryArgs, location="query")
    @rounds_blp.response(200, description="汇总表 as text/csv or XLSX, streamed")
    def get(self, args: dict[str, Any], round_id: uuid.UUID) -> Any:
        table = reports.summary_table(
            service().uow,
            current_principal(),
            round_id,
            org_code=args["org_code"],
            reveal=args["reveal"],
            reason=args["reason"],
        )
        return _table_response(table, args["format"], f"summary-{round_id}")


@rounds_blp.route("/<uuid:round_id>/batches")
class RoundBatches(MethodView):
    @rounds_blp.arguments(BatchCreate)
    @rounds_blp.response(201, BatchSentSchema)
    @idempotent(handlers.session_factory)
    def post(self, body: dict[str, Any], round_id: uuid.UUID) -> Any:
        """报送: the county sends its approved 推荐表, their 汇总表 and its opinion to the body above, in one act,
        before its deadline (`level_deadlines`, else the round's); once per unit and round (409 after)."""
        sent = handlers.call(
            batches.send_batch,
            round_id,
            org_code=body["org_code"],
            opinion=body["opinion"],
            now=common.now_utc(),
        )
        return {**sent.batch.__dict__, "left_out": sent.left_out}

    @rounds_blp.response(200, BatchOverviewSchema)
    def get(self, round_id: uuid.UUID) -> Any:
        """The batches in the caller's view and every sending unit (county) with its batch or none yet."""
        overview = handlers.call(batches.round_batches, round_id)
        return {"items": [b.__dict__ for b in overview.batches], "units": overview.units}


@rounds_blp.route("/<uuid:round_id>/batches/<uuid:batch_id>/summary")
class RoundBatchSummary(MethodView):
    @rounds_blp.arguments(BatchSummaryArgs, location="query")
    @rounds_blp.response(200, description="the batch's 汇总表 as text/csv or XLSX, streamed")
    def get(self, args: dict[str, Any], round_id: uuid.UUID, batch_id: uuid.UUID) -> Any:
        table = reports.summary_table(
            service().uow,
            current_principal(),
            round_id,
            org_code=None,
            reveal=args["reveal"],
            reason=args["reason"],
            batch_id=batch_id,
        )
        return _table_response(table, args["format"], f"summary-{round_id}-{batch_id}")


@rounds_blp.route("/<uuid:round_id>/progress")
class RoundProgress(MethodView):
    @rounds_blp.arguments(RoundProgressArgs, location="query")
    @rounds_blp.response(200, RoundProgressSchema)
    def get(self, args: dict[str, Any], round_id: uuid.UUID) -> Any:
        """报送进度: each unit the round reaches in the caller's scope (grouped by the body above it), whether it has
        a nomination and its status, so a bureau sees at once who has not submitted; the figures cover every unit,
        the units come a page at a time."""
        after = decode_cursor(args["cursor"])
        if after is not None and not isinstance(after, str):
            raise Unprocessable("The cursor is not valid.", errors=[field_error("cursor", "not valid", "query")])
        return handlers.call(
            reports.round_progress,
            round_id,
            limit=args["limit"],
            after=after,
            county_code=args["county_code"],
            status=args["status"],
        )


# -- nominations ---------------------------------------------------------------------------------
@nominations_blp.route("")
class NominationsList(MethodView):
    @nominations_blp.arguments(NominationCreate)
    @nominations_blp.response(201, NominationSchema)
    @idempotent(handlers.session_factory)
    def post(self, body: dict[str, Any]) -> Any:
        """Open the unit's nomination in a round (one live nomination per unit and round)."""
        nomination = handlers.call(drafts.create_nomination, **body, now=common.now_utc())
        response = _nomination_response(nomination, 201)
        response.headers["Location"] = url_for("nominations.NominationById", nomination_id=nomination.id)
        return response

    @nominations_blp.arguments(NominationListArgs, location="query")
    @nominations_blp.response(200, NominationPage)
    def get(self, args: dict[str, Any]) -> Any:
        """Nominations in the caller's subtree, newest first; personal data masked."""
        found, policies = handlers.call(
            reads.list_nominations,
            round_id=args["round_id"],
            status=args["status"],
            org_code=args["org_code"],
            after=decode_cursor(args["cursor"]),
            limit=args["limit"] + 1,
        )
        result = page(found, args["limit"], lambda n: [n.created_at.isoformat(), str(n.id)])
        items = []
        for n in result["items"]:
            body = _nomination_body(n, masked=True)
            body["form"] = common.masked_form(policies[n.round_id], n.form)
            body["candidate"] = common.masked_candidate(n.candidate)
            items.append(body)
        result["items"] = items
        return result


handlers.route(
    nominations_blp,
    "/previous",
    "PreviousNomination",
    PreviousSchema,
    drafts.previous_nomination,
    filters=PreviousArgs,
    doc="The unit's latest nomination of an earlier round, to start the new round's form from (`start_from`).",
)


@nominations_blp.route("/coverage")
class Coverage(MethodView):
    @nominations_blp.arguments(CoverageArgs, location="query")
    @nominations_blp.response(200, CoverageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """首席信息官覆盖率: the schools and universities in scope with a CIO appointed and in office (from approvals'
        appointment events), in all and per body above them (a page of bodies at a time), for the dashboard."""
        after = decode_cursor(args["cursor"])
        if after is not None and not isinstance(after, str):
            raise Unprocessable("The cursor is not valid.", errors=[field_error("cursor", "not valid", "query")])
        return handlers.call(reports.coverage, args["org_code"], limit=args["limit"], after=after)


@nominations_blp.route("/candidates")
class Candidates(MethodView):
    @nominations_blp.arguments(CandidateArgs, location="query")
    @nominations_blp.response(200, CandidateList)
    def get(self, args: dict[str, Any]) -> Any:
        """The unit's users known from identity, to pick the candidate from."""
        return {"items": handlers.call(drafts.candidates, args["org_code"], args["round_id"])}


@nominations_blp.route("/<uuid:nomination_id>")
class NominationById(MethodView):
    @nominations_blp.response(200, NominationSchema)
    def get(self, nomination_id: uuid.UUID) -> Any:
        return _nomination_response(handlers.call(reads.read_nomination, nomination_id))

    @nominations_blp.arguments(NominationUpdate)
    @nominations_blp.response(200, NominationSchema)
    def patch(self, body: dict[str, Any], nomination_id: uuid.UUID) -> Any:
        """Choose the candidate and/or fill form fields (merged); If-Match required."""
        return _change(
            drafts.update_nomination,
            nomination_id,
            candidate_user_id=body["candidate_user_id"],
            form=body["form"],
            now=common.now_utc(),
        )


@nominations_blp.route("/<uuid:nomination_id>/photo")
class NominationPhoto(MethodView):
    @nominations_blp.response(200, NominationSchema)
    @nominations_blp.doc(requestBody={"content": {"image/jpeg": {}, "image/png": {}, "multipart/form-data": {}}})
    def put(self, nomination_id: uuid.UUID) -> Any:
        """Upload the photo: the raw image, or multipart field `photo`; JPEG/PNG checked by content."""
        _, content = files.received("photo")
        if not content:
            raise Unprocessable(errors=[field_error("photo", "the image is missing / 缺少照片", "body")])
        return _change(drafts.upload_photo, nomination_id, content, common.now_utc())

    def get(self, nomination_id: uuid.UUID) -> Any:
        content_type, data = handlers.call(reads.read_photo, nomination_id)
        return files.uploaded(data, content_type)


@nominations_blp.route("/<uuid:nomination_id>/evidence")
class NominationEvidenceList(MethodView):
    @nominations_blp.response(200, EvidenceListSchema)
    def get(self, nomination_id: uuid.UUID) -> Any:
        """证明材料 uploaded with the form, and the claimed certificate; for the unit and its reviewers."""
        view = handlers.call(reads.list_evidence, nomination_id)
        return {"items": view.items, "certificate_claim": view.certificate_claim}


@nominations_blp.route("/<uuid:nomination_id>/evidence/<string:kind>")
class NominationEvidence(MethodView):
    @nominations_blp.response(200, NominationSchema)
    @nominations_blp.doc(requestBody={"content": {"multipart/form-data": {}, "application/pdf": {}, "image/png": {}}})
    def put(self, nomination_id: uuid.UUID, kind: str) -> Any:
        """Upload the evidence of a kind the policy's form takes (multipart field `file`, or the raw body): a PDF
        or an image, read from its content; If-Match required."""
        filename, content = files.received("file")
        if not content:
            raise Unprocessable(errors=[field_error("file", "the file is missing / 缺少文件", "body")])
        return _change(drafts.upload_evidence, nomination_id, kind, filename or kind, content, common.now_utc())

    def get(self, nomination_id: uuid.UUID, kind: str) -> Any:
        filename, content_type, data = handlers.call(reads.read_evidence, nomination_id, kind)
        return files.uploaded(data, content_type, filename)


@nominations_blp.route("/<uuid:nomination_id>/certificate-claim")
class NominationCertificateClaim(MethodView):
    @nominations_blp.arguments(CertificateClaimSchema)
    @nominations_blp.response(200, NominationSchema)
    def post(self, body: dict[str, Any], nomination_id: uuid.UUID) -> Any:
        """Claim a 合格证 training's records do not hold yet; the training administrator confirms it (If-Match)."""
        claim = {**body, "issued_on": body["issued_on"].isoformat()}
        return _change(drafts.claim_certificate, nomination_id, claim, common.now_utc())


@nominations_blp.route("/<uuid:nomination_id>/form.pdf")
class NominationFormPdf(MethodView):
    @nominations_blp.response(200, description="推荐表 as application/pdf")
    def get(self, nomination_id: uuid.UUID) -> Any:
        """The printable recommendation form (推荐表), laid out like the source document's attachment."""
        from nominations.adapters.form_pdf import render_pdf

        sheet, photo = handlers.call(reads.printable_form, nomination_id)
        filename = f"nomination-{nomination_id}.pdf"
        return files.document(render_pdf(sheet, photo), "application/pdf", filename, disposition="inline", private=True)


@nominations_blp.route("/<uuid:nomination_id>/attestation")
class NominationAttestation(MethodView):
    @nominations_blp.arguments(Attestation)
    @nominations_blp.response(200, NominationSchema)
    def post(self, body: dict[str, Any], nomination_id: uuid.UUID) -> Any:
        """填写人签字: the person who filled the form vouches for its truth."""
        return _change(drafts.attest, nomination_id, body["signer_name"], common.now_utc())


@nominations_blp.route("/<uuid:nomination_id>/submit")
class NominationSubmit(MethodView):
    @nominations_blp.response(200, NominationSchema)
    def post(self, nomination_id: uuid.UUID) -> Any:
        """Submit (or resubmit after a return); 422 with the reasons if ineligible, 409 after the deadline."""
        return _change(submission.submit, nomination_id, common.now_utc())


@nominations_blp.route("/<uuid:nomination_id>/withdraw")
class NominationWithdraw(MethodView):
    @nominations_blp.response(200, NominationSchema)
    def post(self, nomination_id: uuid.UUID) -> Any:
        return _change(submission.withdraw, nomination_id, common.now_utc())


@nominations_blp.route("/<uuid:nomination_id>/eligibility")
class NominationEligibility(MethodView):
    @nominations_blp.response(200, EligibilitySchema)
    def get(self, nomination_id: uuid.UUID) -> Any:
        """Eligibility against the round's policy now, with reasons in Chinese and English."""
        result = handlers.call(submission.check_eligibility, nomination_id, common.now_utc().date())
        return common.eligibility_view(result)


handlers.route(
    nominations_blp, "/<uuid:nomination_id>/history", "NominationHistory", HistoryList, reads.history, items=True
)


# GET /api/audit/nominations: the audit listing every service serves the same way (shared/audit.py).
BLUEPRINTS = [policies_blp, rounds_blp, nominations_blp, audit_blueprint("nominations")]
