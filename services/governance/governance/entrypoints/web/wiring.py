"""What every governance view module needs from the app: the wired service and its handlers as views call them.
One place, so the plan and registry views (resources.py) and the 月调度, security and committee views
(work_resources.py) answer alike."""

from __future__ import annotations

from governance.bootstrap import GovernanceService
from shared.views import Handlers
from shared.web import wired_service


def service() -> GovernanceService:
    return wired_service("governance", GovernanceService)


handlers = Handlers(service, full_responses=True)
