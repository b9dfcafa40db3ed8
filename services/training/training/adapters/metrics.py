"""The training service's workflow metrics (the HTTP and bus metrics come from shared.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

COMPLETIONS = Counter("training_completions_total", "Training completions (结业) recorded.")
CERTIFICATES_ISSUED = Counter("training_certificates_issued_total", "Certificates (合格证) issued or recorded.")
CERTIFICATES_REVOKED = Counter("training_certificates_revoked_total", "Certificates revoked.")
IMPORT_JOBS = Counter("training_import_jobs_total", "Import jobs finished, by kind and outcome.", ["kind", "outcome"])
IMPORT_ROWS = Counter(
    "training_import_rows_total", "Rows of finished import jobs, by kind and outcome.", ["kind", "outcome"]
)
REQUIREMENT_UNMET_PUBLISHED = Counter(
    "training_requirement_unmet_published_total", "training.requirement.unmet events written to the outbox."
)
CIOS_MISSING_REQUIREMENT = Gauge(
    "training_cios_missing_requirement",
    "Active CIOs who have not yet met this year's training requirement (as of the last check).",
    multiprocess_mode="max",
)
ACTIVE_CIOS = Gauge("training_active_cios", "Active CIOs tracked for the yearly requirement.", multiprocess_mode="max")
