"""What the approvals worker consumes: per queue, the handler of each event type (the declaration names these)."""

from __future__ import annotations

from approvals.service_layer import appointments, reviews
from shared import directory
from shared.bus.consumer import Handler
from shared.contracts.governance import PlanResubmitted, PlanSubmitted
from shared.contracts.identity import UserUpdated
from shared.contracts.nominations import (
    BatchSubmitted,
    NominationResubmitted,
    NominationSubmitted,
    NominationWithdrawn,
    RoundOpened,
)

REVIEW_HANDLERS: dict[str, Handler] = {
    RoundOpened.event_type: reviews.on_round_opened,
    NominationSubmitted.event_type: reviews.on_nomination_submitted,
    NominationResubmitted.event_type: reviews.on_nomination_resubmitted,
    NominationWithdrawn.event_type: reviews.on_nomination_withdrawn,
    # 报送: the county's batch reaches the city; the city's tasks of its forms may be decided
    BatchSubmitted.event_type: reviews.on_batch_submitted,
    # 信息化项目建设方案审核: a unit's plan, reviewed on the chain of case_policies/project_plan.yaml
    PlanSubmitted.event_type: reviews.on_plan_submitted,
    PlanResubmitted.event_type: reviews.on_plan_resubmitted,
}
DIRECTORY_HANDLERS: dict[str, Handler] = {
    "identity.org.upserted": directory.apply,
    "identity.role.granted": directory.apply,
    "identity.role.revoked": directory.apply,
    # a CIO the directory moves away from the school leaves the school a 变更报备 to make (贺兰县)
    UserUpdated.event_type: appointments.on_user_updated,
}
