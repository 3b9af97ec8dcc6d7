"""The ``exchange post`` subcommands, registered by ``exchange.cli``.

    exchange post init --post CODE       create the encrypted queue for this post's machine
    exchange post record CHECK.json      submit a check; queue it when the service cannot be reached
    exchange post sync                   replay the queue in order
    exchange post status                 counts, oldest age, checks nearing the 14-day window, rejections
    exchange post discard KEY            delete a rejected entry once it has been dealt with

Options: ``--url`` (else ``EXCHANGE_URL``), ``--home`` (else ``EXCHANGE_POST_HOME``, else ~/.exchange-post),
``--username`` (else ``EXCHANGE_POST_USERNAME``, else a prompt), ``--timeout``, ``--json``. The password, the
authenticator code and the queue passphrase are never options: they come from a prompt or standard input
(the passphrase also from ``EXCHANGE_POST_PASSPHRASE``).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

from protocols.validation import ValidationError

from .commands import Options, Stop, record, sync
from .console import Console, InputMissing
from .manage import discard, init, status
from .queue import QueueError

DEFAULT_HOME = Path.home() / ".exchange-post"


def add_parser(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=None, help="the central service (default: EXCHANGE_URL)")
    common.add_argument("--home", type=Path, default=None, help="the queue's folder (default: EXCHANGE_POST_HOME)")
    common.add_argument("--username", default=None, help="the officer's username (default: a prompt)")
    common.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for the service")
    common.add_argument("--json", action="store_true", help="print one JSON object")
    post = sub.add_parser("post", help="a border post's client with its offline queue")
    cmds = post.add_subparsers(dest="post_command", required=True)
    cmds.add_parser("init", parents=[common], help="create the encrypted queue").add_argument("--post", required=True)
    cmds.add_parser("record", parents=[common], help="submit a check, or queue it offline").add_argument(
        "file", type=Path)
    cmds.add_parser("sync", parents=[common], help="replay the queue in order")
    cmds.add_parser("status", parents=[common], help="what waits in the queue")
    cmds.add_parser("discard", parents=[common], help="delete a rejected entry").add_argument("key")


def options(args: argparse.Namespace, console: Console) -> Options:
    home = args.home or Path(console.env.get("EXCHANGE_POST_HOME") or DEFAULT_HOME)
    url = args.url or console.env.get("EXCHANGE_URL") or ""
    if args.post_command in ("record", "sync") and not url.startswith(("http://", "https://")):
        raise Stop("the service's address is needed: --url or EXCHANGE_URL (http:// or https://)", 2)
    return Options(home=home, url=url, username=args.username, timeout=args.timeout)


async def run_async(args: argparse.Namespace, console: Console | None = None) -> int:
    """Run one ``post`` subcommand; every failure becomes a message without personal data and an exit code."""
    console = console or Console()
    console.as_json = args.json
    try:
        opts = options(args, console)
        if args.post_command == "record":
            return await record(opts, console, args.file)
        if args.post_command == "sync":
            return await sync(opts, console)
        if args.post_command == "init":
            return init(opts, console, args.post)
        if args.post_command == "status":
            return status(opts, console)
        return discard(opts, console, args.key)
    except Stop as err:
        console.problem(str(err))
        return err.code
    except ValidationError as err:
        console.problem(f"the check is not valid: {err.field or 'body'}: {err.message} ({err.code}); nothing sent")
        return 2
    except (QueueError, InputMissing) as err:
        console.problem(str(err))
        return 2
    except sqlite3.DatabaseError as err:
        console.problem(f"the queue file cannot be used ({type(err).__name__}): restore it or run init elsewhere")
        return 2
    except OSError as err:
        console.problem(f"{err.strerror or type(err).__name__}: {err.filename or 'a file of the queue'}")
        return 2


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(run_async(args))
    except KeyboardInterrupt:
        print("exchange post: interrupted; run `exchange post status` to see what is queued", file=sys.stderr)
        return 130
