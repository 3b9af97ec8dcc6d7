"""Migration runner for the numbered plain-SQL files in ``migrations/`` (``NNNN_name.sql``).

It records each applied step in ``schema_migrations`` (version, name, checksum), applies the missing ones
in order, each in its own transaction under an advisory lock (two processes starting together apply each step
once), re-checks the installed version before every step, refuses a database whose schema is newer than the
files it knows, and refuses an applied file whose text has changed since.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_LOCK_KEY = 7_310_428_001  # pg_advisory_lock key of the migration runner
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

log = logging.getLogger(__name__)


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(folder.iterdir()):
        match = _FILE.match(path.name)
        if match is None:
            if path.suffix == ".sql":
                raise MigrationError(f"migration file name not of the form NNNN_name.sql: {path.name}")
            continue
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError("migration versions must be 1, 2, 3, ... without gaps or duplicates")
    return found


async def installed_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")


async def migrate(dsn: str, *, target: int | None = None, migrations: list[Migration] | None = None) -> list[int]:
    """Bring the database at ``dsn`` up to ``target`` (default: newest). Returns the versions applied."""
    steps = load_migrations() if migrations is None else migrations
    newest = steps[-1].version if steps else 0
    target = newest if target is None else target
    applied: list[int] = []
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        await conn.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now())""")
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY version")
        known = {m.version: m for m in steps}
        for row in rows:
            step = known.get(row["version"])
            if step is None:
                raise MigrationError(
                    f"database schema is at version {rows[-1]['version']}, newer than this code knows ({newest});"
                    " upgrade the code before starting it")
            if step.checksum != row["checksum"]:
                raise MigrationError(f"applied migration {step.version:04d}_{step.name} has changed since")
        for step in steps:
            if step.version > target:
                break
            async with conn.transaction():
                if step.version <= await installed_version(conn):
                    continue
                await conn.execute(step.sql)
                await conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                   step.version, step.name, step.checksum)
            log.info("migration applied", extra={"fields": {"version": step.version, "migration": step.name}})
            applied.append(step.version)
    finally:
        try:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
        finally:
            await conn.close()
    return applied
