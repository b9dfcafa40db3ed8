"""What the governance worker consumes: per queue, the handler of each event type (the declaration names these)."""

from __future__ import annotations

from governance.service_layer import plans
from shared import directory
from shared.bus.consumer import Handler
from shared.contracts.approvals import ReviewDecided
from shared.contracts.identity import UserUpdated

# the directory: orgs for names, scope and districts; users for refusing disabled accounts' tokens (停用)
DIRECTORY_HANDLERS: dict[str, Handler] = {
    "identity.org.upserted": directory.apply,
    UserUpdated.event_type: directory.apply,
}
# approvals' decisions on project_plan cases: the plan follows its review chain
REVIEW_HANDLERS: dict[str, Handler] = {ReviewDecided.event_type: plans.on_review_decided}
