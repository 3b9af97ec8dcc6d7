"""``POST /federation/v1/inbox``: a partner pushes one signed envelope; we answer with a signed envelope.

Order: refuse an officer token -> read at most the size limit -> strict parse and verify (``protocols``) ->
one transaction: the message id goes into ``inbox`` (its primary key: a replay, even after a restart, finds
the row and gets the answer stored with it, re-signed, and nothing new is written) + what the message does +
the audit row -> seal the answer to the sender.

What each type does, and the answer:

=================  ==========================================================  ============================
record_upsert      a new partner record version (``receive.apply_record``)      receipt (record id accepted)
record_withdrawal  the partner record withdrawn at once                         receipt
match_query        hit/no-hit against our active register (``hits.answer``)     match_result
record_request     queued for a liaison officer's approval (``hits.request``)   receipt
match_result       kept (an answer to one of our queries)                       receipt
travel_notice      kept for the liaison officers                                receipt
=================  ==========================================================  ============================
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from protocols.envelope import VerifiedMessage
from protocols.errors import Malformed

from .. import audit
from ..appkeys import POOL
from ..policy import policy
from . import hits, partners
from .context import Federation
from .receive import Provenance, apply_record
from .wire import (
    Refused,
    answer_errors,
    federation,
    partner_actor,
    read_envelope,
    refuse_officer_token,
    signature_of,
    verify,
)

ACCEPTED_TYPES = ("record_upsert", "record_withdrawal", "match_query", "record_request", "match_result",
                  "travel_notice")


@policy(public=True)
async def inbox(request: web.Request) -> web.StreamResponse:
    async def work() -> web.StreamResponse:
        refuse_officer_token(request)
        data = await read_envelope(request)
        message = await verify(request, data)
        if message.type not in ACCEPTED_TYPES:
            raise Malformed("this message type is not accepted at the inbox")
        fed = federation(request)
        async with request.app[POOL].acquire() as conn, conn.transaction():
            stored = await _claim(conn, message, data)
            replay = stored is not None
            if stored is None:
                stored = await _dispatch(conn, message, data)
                await conn.execute("UPDATE inbox SET receipt = $2 WHERE message_id = $1", message.id, stored)
            await audit.write(conn, partner_actor(request, message.sender), audit.Entry(
                "federation.receive", "replayed" if replay else "ok", record_ids=stored.get("record_ids", []),
                detail={"message_id": message.id, "type": message.type, "sender": message.sender}))
            partner = await partners.get(conn, message.sender)
        assert partner is not None
        return _reply(fed, partner, stored, replayed=replay)

    return await answer_errors(request, "inbox", work)


async def _claim(conn: asyncpg.Connection, message: VerifiedMessage, data: bytes) -> dict[str, Any] | None:
    """Store the message id; None if it is new, else the answer stored with the earlier copy."""
    inserted = await conn.fetchval(
        """INSERT INTO inbox (message_id, sender, type, kid, signature, envelope) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (message_id) DO NOTHING RETURNING 1""",
        message.id, message.sender, message.type, message.kid, signature_of(data), data)
    if inserted:
        return None
    row = await conn.fetchrow("SELECT sender, receipt FROM inbox WHERE message_id = $1", message.id)
    if row["sender"] != message.sender or row["receipt"] is None:
        raise Malformed("this message id was used by another message")
    return row["receipt"]


async def _dispatch(conn: asyncpg.Connection, message: VerifiedMessage, data: bytes) -> dict[str, Any]:
    """Do what the message asks; return the stored answer ``{"type", "body", "record_ids"}``."""
    body = message.body
    accepted: list[str] = []
    rejected: list[dict[str, str]] = []
    record_ids: list[str] = []
    if message.type in ("record_upsert", "record_withdrawal"):
        prov = Provenance(message.sender, message.id, message.kid, signature_of(data), "push")
        await apply_record(conn, message.type, body, prov)  # duplicate/stale versions are accepted, not re-applied
        accepted.append(body["record_id"])
        record_ids.append(f"{message.sender}:{body['record_id']}")
    elif message.type == "match_query":
        try:
            result, ours = await hits.answer(conn, message)
        except hits.NotPermitted as exc:
            raise Refused(403, "not_permitted", str(exc)) from None
        return {"type": "match_result", "body": result, "record_ids": ours}
    elif message.type == "record_request":
        code = await hits.request(conn, message)
        if code is None:
            accepted.append(body["reference"])
        else:
            rejected.append({"id": body["reference"], "code": code})
    else:
        await conn.execute("INSERT INTO partner_messages (message_id, sender, type, body) VALUES ($1, $2, $3, $4)",
                           message.id, message.sender, message.type, body)
        accepted.append(body.get("query_id") or body.get("record_reference") or "message")
    receipt = {"message_id": message.id, "accepted": accepted, "rejected": rejected}
    return {"type": "receipt", "body": receipt, "record_ids": record_ids}


def _reply(fed: Federation, partner: partners.Partner, stored: dict[str, Any], *, replayed: bool) -> web.Response:
    data = fed.seal_to(partner, stored["type"], stored["body"])
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return web.Response(body=data, status=200, content_type="application/json", headers=headers)
