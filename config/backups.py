"""Database backups: `pg_dump` in its custom format into `BACKUP_DIR`, and their restore.

`backup_create` writes `diamonds-<UTC time>.dump` under a temporary name, and gives it its real
name only once pg_dump has succeeded and pg_restore can read the whole file back; only
then are backups older than `BACKUP_KEEP_DAYS` removed, so a failing night never costs an older
backup. `backup_restore` loads a dump into an empty database, never over one in use.

pg_dump and pg_restore connect with Django's own database settings (`DATABASE_URL`), passed in
libpq's environment variables so the password never shows in a process list.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

PREFIX, SUFFIX, PARTIAL = "diamonds-", ".dump", ".partial"
STAMP = "%Y%m%dT%H%M%SZ"
BACKUP_NAME = re.compile(rf"^{PREFIX}(\d{{8}}T\d{{6}}Z){re.escape(SUFFIX)}({re.escape(PARTIAL)})?$")
# Django's database settings → libpq's environment (https://www.postgresql.org/docs/current/
# libpq-envars.html); the OPTIONS that are libpq connection parameters come along.
LIBPQ_SETTINGS = {
    "NAME": "PGDATABASE",
    "USER": "PGUSER",
    "PASSWORD": "PGPASSWORD",
    "HOST": "PGHOST",
    "PORT": "PGPORT",
}
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
}


class BackupError(Exception):
    """A backup or restore failed; the message says why, in full."""


@dataclass
class Backup:
    path: Path
    size: int
    removed: list[Path]


def backup_create(*, directory: Path, keep_days: int, now: datetime | None = None) -> Backup:
    """Dump the database into `directory`, then remove the backups older than `keep_days`."""
    now = now or datetime.now(UTC)
    env = _libpq_environment()
    if keep_days < 1:
        raise BackupError(f"BACKUP_KEEP_DAYS is {keep_days}: keep backups at least a day.")
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Cannot use BACKUP_DIR {directory}: {exc}") from exc
    path = directory / f"{PREFIX}{now:{STAMP}}{SUFFIX}"
    partial = path.with_name(path.name + PARTIAL)
    try:
        _run(["pg_dump", "--format=custom", "--no-password", f"--file={partial}"], env=env)
        _run(["pg_restore", "--file=/dev/null", str(partial)], env=env)  # it all reads back
        partial.chmod(0o600)  # names, addresses and password hashes
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    removed = backups_prune(directory=directory, older_than=now - timedelta(days=keep_days))
    return Backup(path=path, size=path.stat().st_size, removed=removed)


def backups_prune(*, directory: Path, older_than: datetime) -> list[Path]:
    """Remove this store's backups (and leftovers of interrupted ones) made before
    `older_than`; any other file in the directory is left alone."""
    removed = []
    for path in sorted(directory.iterdir()):
        match = BACKUP_NAME.match(path.name)
        if match and datetime.strptime(match[1], STAMP).replace(tzinfo=UTC) < older_than:
            path.unlink()
            removed.append(path)
    return removed


def backup_restore(*, path: Path) -> tuple[int, int]:
    """Load the dump at `path` into the configured database, which must be empty, in one
    transaction. Returns the number of tables restored and of this code's migrations the
    backup does not have yet (`manage.py migrate` applies them)."""
    env = _libpq_environment()
    if not path.is_file():
        raise BackupError(f"No backup at {path}.")
    name = connection.settings_dict["NAME"]
    existing = connection.introspection.table_names()
    if existing:
        raise BackupError(
            f"The database {name} already has {len(existing)} tables: a backup is restored "
            "into a new, empty database only (createdb), never over one in use."
        )
    _run(
        [
            "pg_restore",
            "--no-password",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={name}",
            str(path),
        ],
        env=env,
    )
    executor = MigrationExecutor(connection)
    missing = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return len(connection.introspection.table_names()), len(missing)


def _libpq_environment() -> dict[str, str]:
    database = connection.settings_dict
    if connection.vendor != "postgresql":
        raise BackupError(
            f"Backups need PostgreSQL (pg_dump); DATABASE_URL names {connection.vendor}."
        )
    values = {var: database.get(key) for key, var in LIBPQ_SETTINGS.items()}
    options = database.get("OPTIONS") or {}
    values |= {var: options.get(key) for key, var in LIBPQ_OPTIONS.items()}
    return {**os.environ, **{var: str(value) for var, value in values.items() if value}}


def _run(command: list[str], *, env: dict[str, str]) -> None:
    try:
        result = subprocess.run(  # noqa: S603 (pg_dump/pg_restore with our own arguments)
            command, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise BackupError(
            f"{command[0]} is not installed (Debian: apt-get install postgresql-client, the "
            "same major version as the server or newer)."
        ) from exc
    if result.returncode != 0:
        raise BackupError(
            f"{command[0]} failed (exit {result.returncode}): "
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
