"""Liaison officers and partners' hit/no-hit: asking a partner, asking for the details behind its hit, and
deciding on partners' record requests.

- ``POST /api/v1/partner-queries``            {country, person, purpose}: a ``match_query`` sent now; the signed
                                               ``match_result`` (hit/no-hit, reference, band) is the answer;
- ``POST /api/v1/partner-record-requests``    {country, reference, purpose, legal_basis}: a ``record_request``;
- ``GET  /api/v1/record-requests``            partners' requests to us, pending first;
- ``POST /api/v1/record-requests/{id}/decision`` {decision: approve|refuse}: approving queues the full record for
                                               that partner in the outbox (push and feed), audited as a disclosure.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from protocols.envelope import open_envelope
from protocols.errors import ProtocolError
from protocols.messages import PURPOSES as PROTOCOL_PURPOSES
from protocols.messages import validate_body
from protocols.person import validate_person
from protocols.validation import ValidationError, clean_country, clean_enum, clean_text, expect_mapping

from .. import audit, params
from ..appkeys import POOL
from ..body import invalid, read_json
from ..errors import ApiError, Conflict, NotFound
from ..middleware import actor, principal
from ..policy import policy
from ..registry import shape, store
from . import partners as partner_registry
from .context import FEDERATION, Federation
from .outbox import enqueue, upsert_body
from .transport import TransportError


class PartnerUnavailable(ApiError):
    """The partner could not be reached, refused, or answered something that did not verify (502)."""

    status = 502

    def __init__(self, message: str) -> None:
        super().__init__(message, code="partner_unavailable")


async def _ask(fed: Federation, partner: partner_registry.Partner, kind: str, body: dict[str, Any]) -> Any:
    """Send one message to ``partner``'s inbox now and return its verified answer."""
    data = fed.seal_to(partner, kind, body)
    try:
        answer = await fed.transport.post(partner.endpoint("inbox"), data)
    except TransportError:
        raise PartnerUnavailable("the partner could not be reached; try again later") from None
    if answer.status != 200:
        raise PartnerUnavailable(f"the partner refused the message (HTTP {answer.status})")
    try:
        return open_envelope(answer.body, me=fed.country, keyring=partner_registry.PartnerKeyring([partner]),
                             my_box_key=fed.node().box_secrets(), now=fed.now())
    except ProtocolError as exc:
        raise PartnerUnavailable(f"the partner's answer did not verify ({exc.code})") from None


async def _partner(request: web.Request, country: str) -> partner_registry.Partner:
    async with request.app[POOL].acquire() as conn:
        found = await partner_registry.get(conn, country)
    if found is None or not found.active:
        raise NotFound("no such partner")
    return found


@policy("liaison", purpose=True)
async def ask_partner(request: web.Request) -> web.Response:
    params.only_params(request)
    try:
        obj = expect_mapping(await read_json(request), "", ("country", "person", "purpose"),
                             required=("country", "person", "purpose"))
        country = clean_country(obj["country"], "country")
        body = {"query_id": "q-" + uuid.uuid4().hex, "person": validate_person(obj["person"], "person"),
                "purpose": clean_enum(obj["purpose"], "purpose", PROTOCOL_PURPOSES)}
        validate_body("match_query", body, sender="ZZ", recipient=country)
    except ValidationError as err:
        raise invalid(err) from None
    partner = await _partner(request, country)
    answer = await _ask(request.app[FEDERATION], partner, "match_query", body)
    if answer.type != "match_result" or answer.body["query_id"] != body["query_id"]:
        raise PartnerUnavailable("the partner answered something else than a match result")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await audit.write(conn, actor(request), audit.Entry("federation.query", answer.body["result"], [], {
            "recipient": country, "message_id": answer.id, "query_id": body["query_id"],
            "reference": answer.body.get("reference")}))
    return web.json_response(answer.body)


@policy("liaison", purpose=True)
async def ask_record(request: web.Request) -> web.Response:
    params.only_params(request)
    try:
        obj = expect_mapping(await read_json(request), "", ("country", "reference", "purpose", "legal_basis"),
                             required=("country", "reference", "purpose", "legal_basis"))
        country = clean_country(obj["country"], "country")
        body = validate_body("record_request", {k: obj[k] for k in ("reference", "purpose", "legal_basis")},
                             sender="ZZ", recipient=country)
    except ValidationError as err:
        raise invalid(err) from None
    partner = await _partner(request, country)
    answer = await _ask(request.app[FEDERATION], partner, "record_request", body)
    if answer.type != "receipt":
        raise PartnerUnavailable("the partner answered something else than a receipt")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await audit.write(conn, actor(request), audit.Entry("federation.record_request", "sent", [], {
            "recipient": country, "reference": body["reference"], "legal_basis": body["legal_basis"]}))
    return web.json_response({"accepted": answer.body["accepted"], "rejected": answer.body["rejected"]})


@policy("liaison", purpose=True)
async def list_requests(request: web.Request) -> web.Response:
    params.only_params(request, ("status",))
    status = params.choice_param(request, "status", ("pending", "approved", "refused"))
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """SELECT r.id, r.partner, r.reference, r.purpose, r.legal_basis, r.status, r.created_at, r.decided_at,
                      a.person_id, a.band
               FROM record_requests r JOIN match_answers a ON a.reference = r.reference
               WHERE $1::text IS NULL OR r.status = $1 ORDER BY (r.status = 'pending') DESC, r.id LIMIT 500""",
            status)
        await audit.write(conn, actor(request), audit.Entry(
            "record_request.list", record_ids=[str(r["person_id"]) for r in rows], detail={"count": len(rows)}))
    return web.json_response({"items": [{
        "id": r["id"], "partner": r["partner"], "reference": r["reference"], "record_id": str(r["person_id"]),
        "band": r["band"], "purpose": r["purpose"], "legal_basis": r["legal_basis"], "status": r["status"],
        "created_at": r["created_at"].isoformat(),
        "decided_at": None if r["decided_at"] is None else r["decided_at"].isoformat()} for r in rows]})


@policy("liaison")
async def decide_request(request: web.Request) -> web.Response:
    params.only_params(request)
    raw = request.match_info.get("id", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise NotFound("no such record request")
    try:
        obj = expect_mapping(await read_json(request), "", ("decision", "note"), required=("decision",))
        decision = clean_enum(obj["decision"], "decision", ("approve", "refuse"))
        note = clean_text(obj["note"], "note", 500) if obj.get("note") is not None else None
    except ValidationError as err:
        raise invalid(err) from None
    who = principal(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        req = await conn.fetchrow(
            """SELECT r.*, a.person_id FROM record_requests r JOIN match_answers a ON a.reference = r.reference
               WHERE r.id = $1 FOR UPDATE OF r""", int(raw))
        if req is None:
            raise NotFound("no such record request")
        if req["status"] != "pending":
            raise Conflict("this request was decided already")
        message_id = None
        if decision == "approve":
            row = await store.fetch(conn, req["person_id"])
            if row is None or row["status"] != "active":
                raise Conflict("the record behind this reference is no longer active")
            record = shape.record_from(row)
            message_id = await enqueue(conn, req["partner"], "record_upsert", upsert_body(record),
                                       person_id=req["person_id"], version=record["version"])
        await conn.execute("UPDATE record_requests SET status = $2, decided_by = $3, decided_at = now() "
                           "WHERE id = $1", req["id"], "approved" if decision == "approve" else "refused",
                           who.user_id)
        await audit.write(conn, actor(request), audit.Entry(
            "federation.disclosure" if decision == "approve" else "record_request.refuse", decision,
            [str(req["person_id"])], {"recipient": req["partner"], "request_message_id": str(req["message_id"]),
                                      "message_id": None if message_id is None else str(message_id),
                                      "legal_basis": req["legal_basis"], "purpose": req["purpose"], "note": note}))
    return web.json_response({"id": req["id"], "status": "approved" if decision == "approve" else "refused"})
