"""What the governance worker consumes: per queue, the handler of each event type (the declaration names these)."""

from __future__ import annotations

from governance.service_layer import committee, plans
from shared import directory
from shared.bus.consumer import Handler
from shared.contracts.approvals import ReviewDecided
from shared.contracts.identity import RoleGranted, RoleRevoked, UserUpdated
from shared.contracts.nominations import RoundOpened

# the directory: orgs for names, scope and districts; users for refusing disabled accounts' tokens (停用)
DIRECTORY_HANDLERS: dict[str, Handler] = {
    "identity.org.upserted": directory.apply,
    UserUpdated.event_type: directory.apply,
}
# approvals' decisions on project_plan cases: the plan follows its review chain
REVIEW_HANDLERS: dict[str, Handler] = {ReviewDecided.event_type: plans.on_review_decided}
# Yichun's committee and liaisons: identity's role grants go to the directory (who is 信息化联络员 where); the
# policy keys `committee_meetings_per_semester` and `liaison_per_department` come with the rounds a university opens
GRANT_HANDLERS: dict[str, Handler] = {
    RoleGranted.event_type: directory.apply,
    RoleRevoked.event_type: directory.apply,
    RoundOpened.event_type: committee.on_round_opened,
}
