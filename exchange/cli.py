"""The ``exchange`` command line.

    exchange serve [--host H] [--port P] [--workers N]   run the service (default 127.0.0.1:8080, 1 process)
    exchange migrate                          apply the missing migrations and print the version
    exchange user add --username U --role R [--border-point P] [--password-stdin] [--json]
    exchange user disable --username U
    exchange audit verify                     check the audit hash chain; exit 1 on any change
    exchange keys init|show|rotate|revoke     this node's federation keys (exchange/federation/commands.py)
    exchange partner add|list|refresh-keys|revoke-key|retry   partner nodes
    exchange border purge [--days N]          erase personal data of border checks older than N days
    exchange backup --to FILE                 pg_dump of the database (exchange/backup.py)
    exchange restore --from FILE --database NAME   pg_restore into a new database, then verify the audit chain
    exchange post init|record|sync|status|discard  a border post's client and offline queue (exchange/postclient/)

Every command reads its settings from the environment (see exchange/config.py) and works whether or not the
service is running on the same home folder: with the embedded database it joins the running server rather
than starting a second one on the same data.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from protocols.validation import ValidationError

from . import audit, logs
from .auth import ROLES
from .backup import BackupError
from .config import ConfigError, Settings
from .database import connect, target_for
from .federation import commands as federation_commands
from .migrate import MigrationError, installed_version, migrate
from .postclient import cli as post_cli
from .users import create_user, set_disabled

CLI_ACTOR = audit.Actor(username="cli", role="operator", request_id="cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exchange", description="Cross-border offender information exchange")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1, choices=range(1, 33), metavar="N",
                       help="service processes sharing the port (SO_REUSEPORT); each holds its own screening index")
    sub.add_parser("migrate", help="apply the missing database migrations")
    user = sub.add_parser("user", help="manage officer accounts").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create an account and print its password and TOTP URI")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--border-point", default=None, help="required for the immigration role, e.g. POIPET")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--json", action="store_true", help="print one JSON object {username, password, totp_uri}")
    disable = user.add_parser("disable", help="disable an account (effective on its next request)")
    disable.add_argument("--username", required=True)
    aud = sub.add_parser("audit", help="audit log tools").add_subparsers(dest="audit_command", required=True)
    aud.add_parser("verify", help="verify the audit hash chain")
    border = sub.add_parser("border", help="border checks").add_subparsers(dest="border_command", required=True)
    purge = border.add_parser("purge", help="erase personal data of checks past the retention period")
    purge.add_argument("--days", type=int, default=None,
                       help="retention in days (default: EXCHANGE_BORDER_RETENTION_DAYS, else 90)")
    federation_commands.add_parsers(sub)
    post_cli.add_parser(sub)
    dump = sub.add_parser("backup", help="dump the database with pg_dump (custom format)")
    dump.add_argument("--to", required=True, type=Path, help="the backup file to write")
    back = sub.add_parser("restore", help="restore a backup into a new database and verify its audit chain")
    back.add_argument("--from", dest="source", required=True, type=Path, help="the backup file")
    back.add_argument("--database", required=True, help="the NEW database to create (never an existing one)")
    return parser


async def _with_db(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[int]]) -> int:
    async with target_for(settings) as target:
        await migrate(target.owner_dsn)
        conn = await connect(target.app_dsn)
        try:
            return await work(conn)
        finally:
            await conn.close()


def _cmd_migrate(settings: Settings) -> int:
    async def run() -> int:
        async with target_for(settings) as target:
            applied = await migrate(target.owner_dsn)
            conn = await asyncpg.connect(target.owner_dsn)
            try:
                version = await installed_version(conn)
            finally:
                await conn.close()
        print(json.dumps({"applied": applied, "version": version}))
        return 0
    return asyncio.run(run())


def _cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")

    async def work(conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            new = await create_user(conn, CLI_ACTOR, username=args.username, role=args.role,
                                    border_point=args.border_point, password=password, issuer=settings.issuer)
        if args.json:
            print(json.dumps({"username": new.username, "password": new.password, "totp_uri": new.totp_uri}))
        else:
            print(f"username: {new.username}\npassword: {new.password}\ntotp_uri: {new.totp_uri}")
        return 0
    return asyncio.run(_with_db(settings, work))


def _cmd_user_disable(settings: Settings, args: argparse.Namespace) -> int:
    async def work(conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            user_id = await conn.fetchval("SELECT id FROM users WHERE username = $1", args.username)
            if user_id is None or not await set_disabled(conn, CLI_ACTOR, user_id, True):
                print("exchange: no such user", file=sys.stderr)
                return 1
        print(json.dumps({"disabled": args.username}))
        return 0
    return asyncio.run(_with_db(settings, work))


def _cmd_audit_verify(settings: Settings) -> int:
    async def work(conn: asyncpg.Connection) -> int:
        result = await audit.verify(conn)
        print(json.dumps({"ok": result.ok, "rows_verified": result.rows, "rows_pending": result.pending,
                          "first_bad_id": result.first_bad_id, "reason": result.reason}))
        return 0 if result.ok else 1
    return asyncio.run(_with_db(settings, work))


def _cmd_border_purge(settings: Settings, args: argparse.Namespace) -> int:
    from .border.config import BorderSettings
    from .border.purge import purge

    days = args.days if args.days is not None else BorderSettings.from_env().retention_days
    if days < 1:
        print("exchange: --days must be at least 1", file=sys.stderr)
        return 2

    async def work(conn: asyncpg.Connection) -> int:
        result = await purge(conn, CLI_ACTOR, days)
        print(json.dumps({"checks_purged": result.checks, "alerts_erased": result.alerts,
                          "cutoff": result.cutoff.isoformat()}))
        return 0
    return asyncio.run(_with_db(settings, work))


def _cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from .backup import backup, restore

    async def run() -> int:
        async with target_for(settings) as target:
            if args.command == "backup":
                done = await backup(target.owner_dsn, args.to)
                print(json.dumps({"file": str(done.path), "bytes": done.size, "sha256": done.sha256}))
                return 0
            restored = await restore(target.owner_dsn, args.source, args.database)
            conn = await connect(restored)
            try:
                result = await audit.verify(conn)
            finally:
                await conn.close()
            print(json.dumps({"database": args.database, "audit_ok": result.ok, "rows_verified": result.rows,
                              "reason": result.reason}))
            return 0 if result.ok else 1
    return asyncio.run(run())


def _serve_process(settings: Settings, host: str, port: int, reuse_port: bool) -> None:
    from aiohttp import web

    from .app import create_app
    logs.setup(settings.log_level)  # a spawned worker starts with a fresh interpreter
    web.run_app(create_app(settings), host=host, port=port, access_log=None, print=None, shutdown_timeout=10,
                reuse_port=reuse_port or None)


def _cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """One process, or ``--workers`` processes bound to the same port with SO_REUSEPORT (the kernel spreads the
    connections). Each worker is a whole service: its own pool, screening index (loaded and refreshed from the
    database, so a change made through one worker is seen by the next check on any other), sealer and loops.
    With the embedded database this process holds the server while the workers join it."""
    if args.workers == 1:
        _serve_process(settings, args.host, args.port, False)
        return 0
    import multiprocessing
    import signal

    from .database import embedded_server
    with contextlib.ExitStack() as stack:
        if settings.database_url is None:
            stack.enter_context(embedded_server(settings.home))
        spawn = multiprocessing.get_context("spawn")
        workers = [spawn.Process(target=_serve_process, args=(settings, args.host, args.port, True),
                                 name=f"exchange-worker-{i}") for i in range(args.workers)]
        for worker in workers:
            worker.start()

        def stop(signum: int, _frame: object) -> None:
            for worker in workers:
                if worker.is_alive() and worker.pid is not None:
                    os.kill(worker.pid, signum)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        for worker in workers:
            worker.join()
        return max((w.exitcode or 0) for w in workers)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "post":  # runs on a post's machine: no service settings, no database
        return post_cli.run(args)
    try:
        settings = Settings.from_env()
        logs.setup(settings.log_level)
        if args.command == "serve":
            return _cmd_serve(settings, args)
        if args.command == "migrate":
            return _cmd_migrate(settings)
        if args.command == "user" and args.user_command == "add":
            return _cmd_user_add(settings, args)
        if args.command == "user" and args.user_command == "disable":
            return _cmd_user_disable(settings, args)
        if args.command == "border" and args.border_command == "purge":
            return _cmd_border_purge(settings, args)
        if args.command in ("backup", "restore"):
            return _cmd_backup(settings, args)
        if args.command == "audit":
            return _cmd_audit_verify(settings)
        if args.command in ("keys", "partner"):
            return federation_commands.run(settings, args, lambda s, work: asyncio.run(_with_db(s, work)))
    except (ConfigError, MigrationError, BackupError) as err:
        print(f"exchange: {err}", file=sys.stderr)
        return 2
    except ValidationError as err:
        print(f"exchange: {err.field}: {err.message}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
