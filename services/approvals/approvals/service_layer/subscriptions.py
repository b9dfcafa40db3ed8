"""What the approvals worker consumes: per queue, the handler of each event type (the declaration names these)."""

from __future__ import annotations

from approvals.service_layer import appointments, reviews

REVIEW_HANDLERS = {
    "nominations.round.opened": reviews.on_round_opened,
    "nominations.nomination.submitted": reviews.on_nomination_submitted,
    "nominations.nomination.resubmitted": reviews.on_nomination_resubmitted,
    "nominations.nomination.withdrawn": reviews.on_nomination_withdrawn,
    # 报送: the county's batch reaches the city; the city's tasks of its forms may be decided
    "nominations.batch.submitted": reviews.on_batch_submitted,
}
DIRECTORY_HANDLERS = {
    "identity.org.upserted": reviews.on_org_upserted,
    "identity.role.granted": reviews.on_role_granted,
    "identity.role.revoked": reviews.on_role_revoked,
    # a CIO the directory moves away from the school leaves the school a 变更报备 to make (贺兰县)
    "identity.user.updated": appointments.on_user_updated,
}
