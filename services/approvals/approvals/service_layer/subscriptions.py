"""What the approvals worker consumes: per queue, the handler of each event type (the declaration names these)."""

from __future__ import annotations

from approvals.service_layer import appointments, reviews
from shared import directory

REVIEW_HANDLERS = {
    "nominations.round.opened": reviews.on_round_opened,
    "nominations.nomination.submitted": reviews.on_nomination_submitted,
    "nominations.nomination.resubmitted": reviews.on_nomination_resubmitted,
    "nominations.nomination.withdrawn": reviews.on_nomination_withdrawn,
    # 报送: the county's batch reaches the city; the city's tasks of its forms may be decided
    "nominations.batch.submitted": reviews.on_batch_submitted,
}
DIRECTORY_HANDLERS = {
    "identity.org.upserted": directory.apply,
    "identity.role.granted": directory.apply,
    "identity.role.revoked": directory.apply,
    # a CIO the directory moves away from the school leaves the school a 变更报备 to make (贺兰县)
    "identity.user.updated": appointments.on_user_updated,
}
