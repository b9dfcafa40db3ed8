"""Running a service's Alembic migrations from code (the CLI, tests and the local runner use it)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config


def alembic_config(service_dir: Path, url: str) -> Config:
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(service_dir: Path, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service_dir, url), revision)


def autogenerate(service_dir: Path, url: str, message: str) -> None:
    command.revision(alembic_config(service_dir, url), message=message, autogenerate=True)


def service_dir(name: str) -> Path:
    """Where `services/<name>/` (alembic.ini, migrations/) lives: beside this package, or under the cwd."""
    import os

    candidates = [
        Path(os.environ["CIO_SERVICES_DIR"]) / name if os.environ.get("CIO_SERVICES_DIR") else None,
        Path(__file__).resolve().parents[1] / "services" / name,
        Path.cwd() / "services" / name,
    ]
    for candidate in candidates:
        if candidate is not None and (candidate / "alembic.ini").exists():
            return candidate
    raise FileNotFoundError(f"cannot find services/{name}/alembic.ini; set CIO_SERVICES_DIR")
