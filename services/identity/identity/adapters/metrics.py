"""The identity service's own metrics: single sign-on with the city identity platform."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from shared.metrics import LATENCY_BUCKETS

SIGN_INS = Counter(
    "identity_sso_sign_ins_total",
    "SSO sign-ins by provider and outcome (ok or the refusal reason).",
    ["provider", "outcome"],
)
UPSTREAM_LATENCY = Histogram(
    "identity_sso_upstream_duration_seconds",
    "Time the upstream identity provider took to answer, by provider and call.",
    ["provider", "call"],
    buckets=LATENCY_BUCKETS,
)
SESSIONS_ENDED = Counter("identity_sso_sessions_ended_total", "Browser sessions ended, by reason.", ["reason"])
ACTIVE_SESSIONS = Gauge(
    "identity_sso_active_sessions", "Browser sessions neither ended nor expired.", multiprocess_mode="livemax"
)
KEY_ROTATIONS = Counter(
    "identity_signing_key_rotations_total",
    "Scheduled signing-key rotations by outcome: rotated, or too_early (the next key was too new to promote).",
    ["outcome"],
)
TOKENS_ISSUED = Counter(
    "identity_tokens_issued_total",
    "Access tokens issued at the token endpoint, by grant type (client_credentials issuance is counted here, "
    "not written to the database per token).",
    ["grant_type"],
)
