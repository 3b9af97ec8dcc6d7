"""The pull feed: ``POST /federation/v1/feed`` (serving our record changes to a partner) and :func:`pull_once`
(pulling a partner's feed).

The request is a signed, encrypted ``receipt`` envelope that acknowledges what the puller has applied and so
asks for what follows: ``{"message_id": <id of the last page applied, or the zero uuid4>, "accepted":
["seq:<last sequence applied>"], "rejected": []}``. Its id is stored like any inbox message id (a replayed
request is refused). The acknowledgement marks our outbox rows up to that sequence delivered (``via pull``,
with a ``deliveries`` row), so the push loop does not send them again.

The answer is a signed, encrypted ``feed_page``: the partner's outbox rows after the cursor (record upserts
and withdrawals as tombstones) in sequence order, at most ``PAGE`` of them, ``next_cursor`` set when more
follow, and an ``expires`` five minutes ahead. The puller verifies it, refuses rollback and freeze
(``protocols.feed.check_feed_page``), stores the page id as an inbox message (a replayed page is refused),
applies the items and moves its cursor, all in one transaction: nothing moves unless everything applied.
An item whose body fails its schema is skipped, kept with the page, and reported in the next request's
``rejected`` list (``{id: record id, code}``); the serving node marks that outbox row ``rejected``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

import asyncpg
from aiohttp import web

from protocols.encoding import format_time
from protocols.envelope import open_envelope
from protocols.errors import Malformed, ProtocolError, Replayed
from protocols.feed import check_feed_page

from .. import audit
from ..appkeys import POOL
from ..policy import policy
from . import partners as partner_registry
from .context import Federation
from .outbox import schema_problem, wire_body
from .receive import Provenance, apply_record
from .sender import audit_disclosures, mark_delivered
from .transport import TransportError
from .wire import answer_errors, federation, partner_actor, read_envelope, refuse_officer_token, signature_of, verify

log = logging.getLogger("exchange.federation.feed")
PAGE = 100
PAGE_TTL = dt.timedelta(minutes=5)
MAX_PAGES_PER_PULL = 50
ZERO_ID = "00000000-0000-4000-8000-000000000000"
_CURSOR = re.compile(r"seq:(0|[1-9][0-9]{0,15})", re.ASCII)
PULLER = audit.Actor(username="federation-puller", role="system", request_id="federation")


def feed_request_body(last_page_id: str | None, last_seq: int,
                      rejected: list[dict[str, str]] | None = None) -> dict[str, object]:
    """The feed request: acknowledges up to ``last_seq`` and reports the items of the last page we refused."""
    return {"message_id": last_page_id or ZERO_ID, "accepted": [f"seq:{last_seq}"], "rejected": rejected or []}


def _cursor(accepted: list[str]) -> int:
    match = _CURSOR.fullmatch(accepted[0]) if len(accepted) == 1 else None
    if match is None:
        raise Malformed("a feed request acknowledges exactly one 'seq:<n>'")
    return int(match[1])


@policy(public=True)
async def serve_feed(request: web.Request) -> web.StreamResponse:
    async def work() -> web.StreamResponse:
        refuse_officer_token(request)
        data = await read_envelope(request)
        message = await verify(request, data)
        if message.type != "receipt":
            raise Malformed("the feed is asked for with a receipt of the last page applied")
        cursor = _cursor(message.body["accepted"])
        refused = {r["id"]: r["code"] for r in message.body["rejected"]}
        fed = federation(request)
        async with request.app[POOL].acquire() as conn, conn.transaction():
            claimed = await conn.fetchval(
                """INSERT INTO inbox (message_id, sender, type, kid, signature, envelope, receipt)
                   VALUES ($1, $2, 'receipt', $3, $4, $5, '{"feed_request": true}') ON CONFLICT DO NOTHING
                   RETURNING 1""", message.id, message.sender, message.kid, signature_of(data), data)
            if not claimed:
                raise Replayed("this feed request was answered already")
            partner = await partner_registry.get(conn, message.sender)
            assert partner is not None
            acked = await _acknowledge(conn, partner.country, cursor, refused)
            rows = await conn.fetch(
                """SELECT seq, type, body, person_id, version, message_id FROM outbox
                   WHERE partner = $1 AND seq > $2 AND status <> 'rejected' ORDER BY seq LIMIT $3""",
                partner.country, cursor, PAGE + 1)
            served = []
            for r in rows[:PAGE]:  # a stored body the schema refuses now is marked, never served, never blocking
                problem = schema_problem(r["type"], r["body"])
                if problem is None:
                    served.append(r)
                else:
                    await conn.execute("UPDATE outbox SET status = 'rejected', last_error = $2 WHERE message_id = $1",
                                       r["message_id"], problem)
            items = [{"seq": r["seq"], "type": r["type"], "body": wire_body(r["type"], r["body"], fed.country)}
                     for r in served]
            disclosed = [{"type": r["type"], "message_id": str(r["message_id"]), "record": str(r["person_id"]),
                          "version": r["version"]} for r in served]
            if disclosed:
                await audit_disclosures(conn, partner, disclosed, "pull")
            await audit.write(conn, partner_actor(request, partner.country), audit.Entry(
                "federation.feed", record_ids=[], detail={"request_id": message.id, "cursor": cursor,
                                                          "acknowledged": acked, "items": len(items),
                                                          "refused_by_partner": message.body["rejected"]}))
        now = fed.now()
        body = {"sender": fed.country, "recipient": partner.country, "items": items,
                "next_cursor": f"seq:{rows[PAGE - 1]['seq']}" if len(rows) > PAGE else None,
                "expires": format_time(now + PAGE_TTL)}
        sealed = fed.seal_to(partner, "feed_page", body, now)
        return web.Response(body=sealed, content_type="application/json")

    return await answer_errors(request, "feed", work)


async def _acknowledge(conn: asyncpg.Connection, country: str, cursor: int, refused: dict[str, str]) -> int:
    """Mark pending outbox rows up to ``cursor`` delivered by pull (rows being pushed right now are skipped);
    the records the puller reports refused are marked ``rejected`` with its code instead."""
    rows = await conn.fetch(
        """SELECT * FROM outbox WHERE partner = $1 AND seq <= $2 AND status = 'pending' ORDER BY id
           FOR UPDATE SKIP LOCKED""", country, cursor)
    for row in rows:
        code = refused.get(str(row["person_id"]))
        if code is None:
            await mark_delivered(conn, row, "pull")
        else:
            await conn.execute("UPDATE outbox SET status = 'rejected', last_error = $2 WHERE id = $1", row["id"],
                               f"partner refused: {code}")
            log.error("partner refused a pulled record", extra={"fields": {"partner": country, "code": code}})
    return len(rows)


@dataclass
class PullResult:
    pages: int = 0
    applied: int = 0
    items: int = 0
    refused: int = 0
    error: str | None = None
    busy: bool = False


async def pull_once(fed: Federation, pool: asyncpg.Pool, country: str,
                    max_pages: int = MAX_PAGES_PER_PULL) -> PullResult:
    """Pull ``country``'s feed until it has no more pages (at most ``max_pages``); errors end up in pull_state."""
    result = PullResult()
    for _ in range(max_pages):
        more = await _pull_page(fed, pool, country, result)
        if not more:
            break
    return result


async def _pull_page(fed: Federation, pool: asyncpg.Pool, country: str, result: PullResult) -> bool:
    node = fed.node()
    async with pool.acquire() as conn, conn.transaction():
        state = await conn.fetchrow("SELECT * FROM pull_state WHERE partner = $1 FOR UPDATE SKIP LOCKED", country)
        partner = await partner_registry.get(conn, country)
        if state is None or partner is None or not partner.active:
            result.busy = True
            return False
        last_page = None if state["last_page_id"] is None else str(state["last_page_id"])
        refused_before = [] if last_page is None else (await conn.fetchval(
            "SELECT receipt->'rejected' FROM inbox WHERE message_id = $1", state["last_page_id"]) or [])
        try:
            request = fed.seal_to(partner, "receipt", feed_request_body(last_page, state["last_seq"], refused_before))
            answer = await fed.transport.post(partner.endpoint("feed"), request)
            if answer.status != 200:
                raise TransportError(f"http {answer.status}")
            page = open_envelope(answer.body, me=fed.country, keyring=partner_registry.PartnerKeyring([partner]),
                                 my_box_key=node.box_secrets(), now=fed.now())
            if page.type != "feed_page" or page.sender != country:
                raise Malformed("the feed answered something other than its feed page")
            new_seq = check_feed_page(page.body, state["last_seq"], fed.now())
            claimed = await conn.fetchval(
                """INSERT INTO inbox (message_id, sender, type, kid, signature, envelope) VALUES ($1, $2, $3, $4,
                       $5, $6) ON CONFLICT DO NOTHING RETURNING 1""",
                page.id, page.sender, page.type, page.kid, signature_of(answer.body), answer.body)
            if not claimed:
                raise Replayed("feed page was seen before")
        except (ProtocolError, TransportError) as exc:
            code = str(exc.code) if isinstance(exc, ProtocolError) else f"transport: {exc}"
            await conn.execute("UPDATE pull_state SET last_error = $2, last_error_at = $3 WHERE partner = $1",
                               country, code, fed.now())
            result.error = code
            return False
        prov = Provenance(country, page.id, page.kid, signature_of(answer.body), "pull")
        ids, refused = [], {}
        for item in page.body["items"]:
            if "error" in item:  # one bad record neither blocks the feed nor vanishes: reported on the next request
                key = item["record_id"] or f"item:{item['seq']}"
                refused[key] = {"id": key, "code": str(item["error"]["code"])[:64]}
                continue
            outcome = await apply_record(conn, item["type"], item["body"], prov)
            result.applied += outcome == "applied"
            ids.append(f"{country}:{item['body']['record_id']}")
        result.refused += len(refused)
        await conn.execute("UPDATE inbox SET receipt = $2 WHERE message_id = $1", page.id,
                           {"rejected": list(refused.values())})
        result.items += len(page.body["items"])
        result.pages += 1
        await conn.execute(
            """UPDATE pull_state SET last_seq = $2, last_page_id = $3, last_pull_at = $4, last_error = NULL
               WHERE partner = $1""", country, new_seq, page.id, fed.now())
        await audit.write(conn, PULLER, audit.Entry("federation.pull", record_ids=ids, detail={
            "sender": country, "message_id": page.id, "items": len(ids), "last_seq": new_seq,
            "refused": list(refused.values())}))
        return page.body["next_cursor"] is not None
