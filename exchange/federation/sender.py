"""Sending the outbox to one partner: claim a batch, seal each message, post it, believe only a signed receipt.

One batch runs in one transaction that holds the partner's ``send_state`` row (``FOR UPDATE SKIP LOCKED``): a
second process finds it locked and skips the partner, so a message is never sent by two processes at once.
Within a batch up to ``IN_FLIGHT`` messages travel at once, but only for different records: the messages of
one record go one after the other in outbox order, so its versions arrive in order. The outbox rows of the batch are
claimed ``FOR UPDATE SKIP LOCKED`` too. Each message keeps its stored id across retries: if we crash after the
partner applied it but before our commit, the retry is a replay the partner answers with its original receipt.

Outcomes of one message:

* a valid signed receipt naming it accepted -> ``delivered`` (+ a ``deliveries`` row and a disclosure audit row);
* a receipt listing it as rejected, or an ordinary 4xx -> ``rejected`` with the code, logged, shown in status;
* a network error, timeout, 408/429/5xx or an invalid receipt -> the batch stops, the partner backs off
  (stored in the database: multiplicative x2, jittered +-20 %, capped at ``EXCHANGE_BACKOFF_MAX_S``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from protocols import strictjson
from protocols.envelope import open_envelope
from protocols.errors import ProtocolError

from .. import audit
from . import partners as partner_registry
from .context import Federation
from .outbox import wire_body
from .transport import TransportError

log = logging.getLogger("exchange.federation.send")
BATCH = 50
IN_FLIGHT = 8  # messages to one partner in flight at once (different records only)
BACKOFF_START = 1.0
SENDER_ACTOR = audit.Actor(username="federation-sender", role="system", request_id="federation")


@dataclass
class BatchResult:
    claimed: bool = True        # False: another process holds this partner, or it is backing off
    delivered: int = 0
    rejected: int = 0
    failed: bool = False        # a transient failure stopped the batch (backoff set)
    more: bool = False          # the batch was full: call again at once
    error: str | None = None
    disclosed: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    kind: str                   # delivered | rejected | retry
    status: int | None = None
    error: str | None = None


def next_backoff(previous: float, cap: float, rng_uniform: float) -> tuple[float, float]:
    """(stored backoff, jittered delay): double the previous (start 1 s), cap it, jitter by ``rng_uniform``."""
    base = min(cap, max(BACKOFF_START, previous * 2))
    return base, base * rng_uniform


async def deliver(fed: Federation, partner: partner_registry.Partner, row: asyncpg.Record,
                  now: dt.datetime) -> Outcome:
    """Seal one outbox row for ``partner``, post it, and judge the answer."""
    try:
        data = fed.seal_to(partner, row["type"], wire_body(row["type"], row["body"], fed.country), now,
                           message_id=str(row["message_id"]))
    except ProtocolError as exc:
        return Outcome("retry" if exc.status == 401 else "rejected", None, f"local: {exc.code}")
    except ValueError:
        return Outcome("rejected", None, "local: cannot seal")
    try:
        answer = await fed.transport.post(partner.endpoint("inbox"), data)
    except TransportError as exc:
        return Outcome("retry", None, f"transport: {exc}")
    if answer.status in (408, 429) or answer.status >= 500:
        return Outcome("retry", answer.status, f"http {answer.status}")
    if 400 <= answer.status < 500:
        return Outcome("rejected", answer.status, _error_code(answer.body))
    if answer.status != 200:
        return Outcome("retry", answer.status, f"http {answer.status}")
    try:
        receipt = open_envelope(answer.body, me=fed.country, keyring=partner_registry.PartnerKeyring([partner]),
                                my_box_key=fed.node().box_secrets(), now=fed.now())
    except ProtocolError as exc:
        return Outcome("retry", 200, f"invalid receipt: {exc.code}")
    if receipt.type != "receipt" or receipt.sender != partner.country or \
            receipt.body["message_id"] != str(row["message_id"]):
        return Outcome("retry", 200, "invalid receipt: not for this message")
    refused = [r["code"] for r in receipt.body["rejected"]]
    if refused:
        return Outcome("rejected", 200, f"partner refused: {refused[0]}")
    return Outcome("delivered", 200)


def _error_code(body: bytes) -> str:
    try:
        code = strictjson.loads(body, max_bytes=64 * 1024)["error"]["code"]
    except (strictjson.StrictJSONError, KeyError, TypeError):
        return "refused"
    return str(code)[:64] if isinstance(code, str) else "refused"


async def send_batch(fed: Federation, pool: asyncpg.Pool, country: str, limit: int = BATCH) -> BatchResult:
    """Send up to ``limit`` pending messages to ``country`` in order; see the module docstring."""
    result = BatchResult()
    now = fed.now()
    async with pool.acquire() as conn, conn.transaction():
        state = await conn.fetchrow("SELECT * FROM send_state WHERE partner = $1 FOR UPDATE SKIP LOCKED", country)
        if state is None or (state["backoff_until"] is not None and state["backoff_until"] > now):
            result.claimed = False
            return result
        partner = await partner_registry.get(conn, country)
        if partner is None or not partner.active:
            result.claimed = False
            return result
        rows = await conn.fetch(
            """SELECT * FROM outbox WHERE partner = $1 AND status = 'pending' ORDER BY id LIMIT $2
               FOR UPDATE SKIP LOCKED""", country, limit)
        outcomes = await deliver_all(fed, partner, rows)
        for row in rows:
            outcome = outcomes.get(row["id"])
            if outcome is None:  # not attempted: an earlier failure stopped the batch
                continue
            if outcome.kind == "retry":
                await conn.execute("UPDATE outbox SET attempts = attempts + 1, last_status = $2, last_error = $3 "
                                   "WHERE id = $1", row["id"], outcome.status, outcome.error)
                if not result.failed:
                    base, delay = next_backoff(state["backoff_seconds"], fed.settings.backoff_max_s,
                                               fed.rng.uniform(0.8, 1.2))
                    await conn.execute(
                        """UPDATE send_state SET backoff_seconds = $2, backoff_until = $3, last_error = $4,
                               last_error_at = $5 WHERE partner = $1""",
                        country, base, fed.now() + dt.timedelta(seconds=delay), outcome.error, fed.now())
                    result.failed, result.error = True, outcome.error
                    log.warning("partner send failed; backing off", extra={"fields": {
                        "partner": country, "error": outcome.error, "backoff_s": round(delay, 2)}})
                continue
            if outcome.kind == "rejected":
                await conn.execute("UPDATE outbox SET status = 'rejected', attempts = attempts + 1, last_status = $2,"
                                   " last_error = $3 WHERE id = $1", row["id"], outcome.status, outcome.error)
                await conn.execute("UPDATE send_state SET last_error = $2, last_error_at = $3 WHERE partner = $1",
                                   country, f"rejected: {outcome.error}", fed.now())
                log.error("partner rejected a message", extra={"fields": {
                    "partner": country, "message_id": str(row["message_id"]), "error": outcome.error}})
                result.rejected += 1
                continue
            await mark_delivered(conn, row, "push")
            result.delivered += 1
            result.disclosed.append({"type": row["type"], "message_id": str(row["message_id"]),
                                     "record": None if row["person_id"] is None else str(row["person_id"]),
                                     "version": row["version"]})
        if result.delivered and not result.failed:
            await conn.execute("UPDATE send_state SET backoff_seconds = 0, backoff_until = NULL, last_success_at = $2"
                               " WHERE partner = $1", country, fed.now())
        elif result.delivered:
            await conn.execute("UPDATE send_state SET last_success_at = $2 WHERE partner = $1", country, fed.now())
        if result.disclosed:  # audit last: it takes the chain lock until the commit
            await audit_disclosures(conn, partner, result.disclosed, "push")
        result.more = len(rows) == limit and not result.failed
    return result


async def deliver_all(fed: Federation, partner: partner_registry.Partner,
                      rows: list[asyncpg.Record]) -> dict[int, Outcome]:
    """Deliver ``rows`` with up to ``IN_FLIGHT`` messages at once; the messages of one record one after the
    other, in queue order. The first transient failure stops everything not yet started (rows without an
    outcome stay pending); messages already in flight finish and are judged."""
    lanes: dict[object, list[asyncpg.Record]] = {}
    for row in rows:
        lanes.setdefault(row["person_id"] or row["id"], []).append(row)
    gate = asyncio.Semaphore(IN_FLIGHT)
    outcomes: dict[int, Outcome] = {}
    stop = asyncio.Event()

    async def lane(queue: list[asyncpg.Record]) -> None:
        for row in queue:
            async with gate:
                if stop.is_set():
                    return
                outcome = await deliver(fed, partner, row, fed.now())
            outcomes[row["id"]] = outcome
            if outcome.kind == "retry":
                stop.set()
                return

    try:
        async with asyncio.TaskGroup() as group:  # a crash or cancellation of one lane stops them all
            for queue in lanes.values():
                group.create_task(lane(queue))
    except BaseExceptionGroup as failed:  # an unexpected error: the batch's transaction rolls back
        raise failed.exceptions[0] from None
    return outcomes


async def mark_delivered(conn: asyncpg.Connection, row: asyncpg.Record, via: str) -> None:
    await conn.execute("UPDATE outbox SET status = 'delivered', attempts = attempts + 1, last_status = 200, "
                       "last_error = NULL, delivered_at = now(), delivered_via = $2 WHERE id = $1", row["id"], via)
    if row["person_id"] is not None:
        await conn.execute(
            """INSERT INTO deliveries (partner, person_id, version, message_id, via) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT DO NOTHING""", row["partner"], row["person_id"], row["version"], row["message_id"], via)


async def audit_disclosures(conn: asyncpg.Connection, partner: partner_registry.Partner,
                            items: list[dict[str, Any]], via: str) -> None:
    """One disclosure audit row for what a partner received: recipient, message ids, record ids, legal basis."""
    await audit.write(conn, SENDER_ACTOR, audit.Entry(
        "federation.disclosure", record_ids=sorted({i["record"] for i in items if i["record"]}),
        detail={"recipient": partner.country, "via": via, "legal_basis": partner.legal_basis,
                "messages": [{"id": i["message_id"], "type": i["type"], "version": i["version"]} for i in items]}))
