"""The one place approvals names the reader of nominations' policy snapshot (`nominations.round.opened`
data.policy): the shared one (shared.policy), which the producer's loader and the event's contract use too.

Approvals reads only what it acts on and ignores the rest (the form, eligibility, summary columns…); a key it
needs that is missing or malformed is refused with its path, e.g. ``approval.stages[1].role``.
"""

from shared.policy import PolicySnapshotError
from shared.policy import read_case_policy as parse_case_policy
from shared.policy import read_policy as parse_policy

__all__ = ["PolicySnapshotError", "parse_case_policy", "parse_policy"]
