"""The federation commands of the ``exchange`` command line (hooked into ``exchange/cli.py``).

    exchange keys init                           create this node's signing and box keys (EXCHANGE_HOME/keys/node)
    exchange keys show [--json]                  print what a partner needs: country, signing_key, box_key, key_id
    exchange keys rotate [--overlap-days N]      add a new key; older keys stay valid N days (default 7)
    exchange keys revoke --kid KID               revoke a key now (partners refuse it once they fetch the key set)
    exchange partner add --country TH --url URL --signing-key=KEY --box-key=KEY [--key-id KID]
                         [--receives full|hits|none] [--categories CAT ...] [--legal-basis TEXT]
    exchange partner list [--json]
    exchange partner refresh-keys --country TH   fetch and accept the partner's signed key set now
    exchange partner revoke-key --country TH --kid KID
    exchange partner retry --country TH          put the partner's rejected messages back in the queue
    exchange partner backfill --country TH       queue every active record it may receive and was never sent
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from protocols.errors import ProtocolError
from protocols.record import OFFENCE_CATEGORIES

from .. import audit
from ..config import Settings
from . import identity, partners
from .context import Federation
from .outbox import backfill
from .transport import TransportError

CLI_ACTOR = audit.Actor(username="cli", role="operator", request_id="cli")
DbRunner = Callable[[Settings, Callable[[asyncpg.Connection], Awaitable[int]]], int]


def add_parsers(sub: Any) -> None:
    keys = sub.add_parser("keys", help="this node's federation keys").add_subparsers(dest="keys_command",
                                                                                     required=True)
    keys.add_parser("init", help="create the node's first key")
    show = keys.add_parser("show", help="print the public keys partners pin")
    show.add_argument("--json", action="store_true")
    rotate = keys.add_parser("rotate", help="add a new key (older ones stay valid for the overlap)")
    rotate.add_argument("--overlap-days", type=int, default=7)
    revoke = keys.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("--kid", required=True)
    partner = sub.add_parser("partner", help="partner nodes").add_subparsers(dest="partner_command", required=True)
    add = partner.add_parser("add", help="register a partner node with its pinned keys")
    add.add_argument("--country", required=True)
    add.add_argument("--url", required=True)
    key_help = "base64url; write --%s=KEY (a key may start with '-')"
    add.add_argument("--signing-key", required=True, help=key_help % "signing-key")
    add.add_argument("--box-key", required=True, help=key_help % "box-key")
    add.add_argument("--key-id", default=None)
    add.add_argument("--receives", choices=partners.RECEIVES, default="hits")
    add.add_argument("--categories", nargs="+", choices=OFFENCE_CATEGORIES, default=None)
    add.add_argument("--legal-basis", default="bilateral agreement")
    listing = partner.add_parser("list", help="list partners")
    listing.add_argument("--json", action="store_true")
    for name in ("refresh-keys", "revoke-key", "retry", "backfill"):
        cmd = partner.add_parser(name)
        cmd.add_argument("--country", required=True)
        if name == "revoke-key":
            cmd.add_argument("--kid", required=True)


def run(settings: Settings, args: argparse.Namespace, with_db: DbRunner) -> int:
    now = dt.datetime.now(dt.UTC)
    try:
        if args.command == "keys":
            return _keys(settings, args, now)
        return _partner(settings, args, now, with_db)
    except (identity.IdentityError, partners.PartnerError, LookupError) as err:
        print(f"exchange: {err}", file=sys.stderr)
        return 1
    except (ProtocolError, TransportError) as err:
        print(f"exchange: the partner's key set was refused or unreachable ({err})", file=sys.stderr)
        return 1


def _keys(settings: Settings, args: argparse.Namespace, now: dt.datetime) -> int:
    home, country = settings.home, settings.country
    if args.keys_command == "init":
        node = identity.init(home, country, now)
    elif args.keys_command == "rotate":
        node = identity.rotate(home, country, now, overlap=dt.timedelta(days=args.overlap_days))
    elif args.keys_command == "revoke":
        node = identity.revoke(home, country, args.kid, now)
    else:
        node = identity.load(home, country)
    shown = node.show(now)
    if getattr(args, "json", False):
        print(json.dumps(shown))
    else:
        print("\n".join(f"{k}: {v}" for k, v in shown.items()) + f"\nkey_set_version: {node.version}")
    return 0


def _partner(settings: Settings, args: argparse.Namespace, now: dt.datetime, with_db: DbRunner) -> int:
    command = args.partner_command

    async def work(conn: asyncpg.Connection) -> int:
        if command == "add":
            if args.country == settings.country:
                raise partners.PartnerError("--country is this node's own country")
            async with conn.transaction():
                found = await partners.add(conn, country=args.country, url=args.url, signing_key=args.signing_key,
                                           box_key=args.box_key, key_id=args.key_id, receives=args.receives,
                                           categories=args.categories, legal_basis=args.legal_basis, now=now)
                await audit.write(conn, CLI_ACTOR, audit.Entry("partner.add", detail={
                    "country": found.country, "receives": found.receives, "categories": found.categories}))
            print(json.dumps({"country": found.country, "receives": found.receives, "url": found.url}))
            return 0
        if command == "list":
            rows: list[dict[str, Any]] = [
                {"country": p.country, "url": p.url, "receives": p.receives, "categories": p.categories,
                 "active": p.active, "key_ids": [e.kid for e in p.key_set.entries()],
                 "key_set_version": p.key_set.version}
                for p in await partners.all_partners(conn, active_only=False)]
            if args.json:
                print(json.dumps(rows))
            else:
                for r in rows:
                    print(f"{r['country']}  {r['receives']:<5} {r['url']}  keys={','.join(r['key_ids'])}")
            return 0
        async with conn.transaction():
            if command == "refresh-keys":
                from .keys_api import refresh_partner_keys
                fed = Federation(settings)
                try:
                    accepted = await refresh_partner_keys(fed, conn, args.country)
                finally:
                    await fed.transport.close()
                detail: dict[str, Any] = {"country": args.country, "version": accepted.version}
            elif command == "backfill":
                detail = {"country": args.country, "queued": await backfill(conn, args.country)}
            elif command == "revoke-key":
                if not await partners.revoke_key(conn, args.country, args.kid, now):
                    raise partners.PartnerError("no such partner key")
                detail = {"country": args.country, "kid": args.kid}
            else:
                count = await conn.fetchval(
                    """WITH r AS (UPDATE outbox SET status = 'pending', last_error = NULL
                                  WHERE partner = $1 AND status = 'rejected' RETURNING 1) SELECT count(*) FROM r""",
                    args.country)
                await conn.execute("UPDATE send_state SET backoff_seconds = 0, backoff_until = NULL "
                                   "WHERE partner = $1", args.country)
                detail = {"country": args.country, "requeued": count}
            await audit.write(conn, CLI_ACTOR, audit.Entry(f"partner.{command}", detail=detail))
        print(json.dumps(detail))
        return 0

    return with_db(settings, work)
