"""Running a service's Alembic migrations from code (the CLI, tests and the local runner use it).

A service's database holds two histories: the service's own (services/<name>/migrations/versions) and the `shared`
branch (here, in versions/): the tables shared owns in every service's database (outbox, inbox, idempotency keys,
the audit trail, the directory projection). The shared branch's first revision depends on the revision labelled
`service` in each service's history (the last that made those tables the old way), so a fresh database and one
migrated before the branch existed take the same path. Each service merges every shared revision into its own
history (a revision whose parents are its previous head and the shared one, moving its own rows if it must), so
`upgrade head` still names one revision; `upgrade heads` is what `migrate` runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

SHARED_VERSIONS = Path(__file__).resolve().parent / "versions"


def alembic_config(service_dir: Path, url: str) -> Config:
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    # Set here rather than in alembic.ini: in the image shared/ is an installed package, not beside services/.
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", os.pathsep.join([str(service_dir / "migrations" / "versions"), str(SHARED_VERSIONS)])
    )
    config.attributes["url"] = url
    return config


def shared_metadata() -> MetaData:
    """The tables of the shared branch, all registered (each module adds its own to `bus_metadata`)."""
    import shared.audit  # registers audit_log
    import shared.directory  # registers directory_orgs, directory_users, directory_grants
    import shared.http  # noqa: F401 - registers idempotency_keys
    from shared.bus.tables import bus_metadata

    return bus_metadata


def upgrade(service_dir: Path, url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(service_dir, url), revision)


def autogenerate(service_dir: Path, url: str, message: str) -> None:
    """A new revision of the service's own history (never of the shared branch, which lives in shared/)."""
    command.revision(
        alembic_config(service_dir, url),
        message=message,
        autogenerate=True,
        head="service@head",
        version_path=str(service_dir / "migrations" / "versions"),
    )


def service_dir(name: str) -> Path:
    """Where `services/<name>/` (alembic.ini, migrations/) lives: beside this package, or under the cwd."""
    candidates = [
        Path(os.environ["CIO_SERVICES_DIR"]) / name if os.environ.get("CIO_SERVICES_DIR") else None,
        Path(__file__).resolve().parents[2] / "services" / name,
        Path.cwd() / "services" / name,
    ]
    for candidate in candidates:
        if candidate is not None and (candidate / "alembic.ini").exists():
            return candidate
    raise FileNotFoundError(f"cannot find services/{name}/alembic.ini; set CIO_SERVICES_DIR")
