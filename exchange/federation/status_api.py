"""Officers' view of the federation: ``GET /api/v1/partners`` (admin, liaison) and
``GET /api/v1/partner-records`` (liaison, purpose required, audited).

Partner records come with their open match candidates against our register (computed on arrival, see
``receive.on_new_version``): our record id and the probability, for the review.

Partner status shows, per partner: the agreement (receives, categories), the push queue (pending and rejected
messages, last success, last error, current backoff), the pull state, and the overdue acknowledgements:
corrections and withdrawals of our records not yet acknowledged by a past recipient after
``EXCHANGE_ACK_OVERDUE_S``. It holds no personal data (record ids are opaque uuids), so it is not audited.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from aiohttp import web

from protocols.validation import ValidationError, clean_ascii_id, clean_country, clean_exact_country

from .. import audit, params
from ..appkeys import POOL, SETTINGS
from ..middleware import actor
from ..policy import policy

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


@policy("admin", "liaison")
async def list_partners(request: web.Request) -> web.Response:
    params.only_params(request)
    overdue_after = dt.timedelta(seconds=request.app[SETTINGS].ack_overdue_s)
    async with request.app[POOL].acquire() as conn:
        rows = await conn.fetch(
            """SELECT p.country, p.url, p.receives, p.categories, p.active, p.key_set, s.backoff_seconds,
                      s.backoff_until, s.last_success_at, s.last_error, s.last_error_at, ps.last_seq,
                      ps.last_pull_at, ps.last_error AS pull_error, ps.last_error_at AS pull_error_at,
                      (SELECT count(*) FROM outbox o WHERE o.partner = p.country AND o.status = 'pending') AS pending,
                      (SELECT count(*) FROM outbox o WHERE o.partner = p.country AND o.status = 'rejected')
                        AS rejected
               FROM partners p JOIN send_state s ON s.partner = p.country JOIN pull_state ps ON ps.partner = p.country
               ORDER BY p.country""")
        overdue = await conn.fetch(
            """SELECT partner, person_id, version, type, created_at, attempts, last_error FROM outbox
               WHERE status = 'pending' AND created_at < now() - $1::interval
                 AND (type = 'record_withdrawal' OR (type = 'record_upsert' AND EXISTS (
                      SELECT 1 FROM deliveries d WHERE d.partner = outbox.partner AND d.person_id = outbox.person_id)))
               ORDER BY created_at LIMIT 500""", overdue_after)
    late: dict[str, list[dict[str, Any]]] = {}
    for r in overdue:
        late.setdefault(r["partner"], []).append({
            "record_id": str(r["person_id"]), "version": r["version"], "type": r["type"],
            "queued_at": _iso(r["created_at"]), "attempts": r["attempts"], "last_error": r["last_error"]})
    items = [{
        "country": r["country"], "url": r["url"], "receives": r["receives"],
        "categories": None if r["categories"] is None else list(r["categories"]), "active": r["active"],
        "key_set_version": r["key_set"]["version"], "queue_depth": r["pending"], "rejected": r["rejected"],
        "last_success_at": _iso(r["last_success_at"]), "last_error": r["last_error"],
        "last_error_at": _iso(r["last_error_at"]), "backoff_seconds": r["backoff_seconds"],
        "backoff_until": _iso(r["backoff_until"]),
        "pull": {"last_seq": r["last_seq"], "last_pull_at": _iso(r["last_pull_at"]), "last_error": r["pull_error"],
                 "last_error_at": _iso(r["pull_error_at"])},
        "overdue_acks": late.get(r["country"], []),
    } for r in rows]
    return web.json_response({"partners": items})


def _encode_cursor(updated_at: dt.datetime, country: str, record_id: str) -> str:
    raw = f"{updated_at.astimezone(dt.UTC).isoformat()}|{country}|{record_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_cursor(raw: str | None) -> tuple[dt.datetime, str, str] | None:
    if raw is None:
        return None
    try:
        if len(raw) > 400 or not raw.isascii():
            raise ValueError("cursor")
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        when, country, record_id = text.split("|")
        return (params.parse_time(when, "cursor"), clean_exact_country(country, "cursor"),
                clean_ascii_id(record_id, "cursor"))  # checked: a NUL would reach PostgreSQL (a 500)
    except (binascii.Error, UnicodeDecodeError, ValueError, params.BadRequest):
        raise params.bad_parameter("cursor", "is not a cursor this service issued") from None


@policy("liaison", purpose=True)
async def list_partner_records(request: web.Request) -> web.Response:
    """Received partner records (current version), oldest change first; withdrawn ones without their details."""
    params.only_params(request, ("country", "status", "cursor", "limit"))
    country = request.query.get("country")
    try:
        country = clean_country(country, "country") if country is not None else None
    except ValidationError as err:
        raise params.bad_parameter("country", err.message) from None
    status = params.choice_param(request, "status", ("active", "withdrawn"))
    limit = params.int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    assert limit is not None
    after = _decode_cursor(request.query.get("cursor"))
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """SELECT h.country, h.record_id, h.status, h.updated_at, v.version, v.body, v.message_id, v.kid, v.via,
                      v.received_at,
                      (SELECT json_agg(json_build_object('record_id', c.person_id, 'probability', c.probability)
                                       ORDER BY c.probability DESC)
                         FROM partner_match_candidates c WHERE c.country = h.country AND c.record_id = h.record_id
                          AND c.status = 'open') AS candidates
               FROM partner_records h JOIN partner_record_versions v ON v.country = h.country
                    AND v.record_id = h.record_id AND v.version = h.current_version
               WHERE ($1::text IS NULL OR h.country = $1) AND ($2::text IS NULL OR h.status = $2)
                 AND ($3::timestamptz IS NULL OR (h.updated_at, h.country, h.record_id) > ($3, $4, $5))
               ORDER BY h.updated_at, h.country, h.record_id LIMIT $6""",
            country, status, after[0] if after else None, after[1] if after else None,
            after[2] if after else None, limit + 1)
        items = [_item(r) for r in rows[:limit]]
        query = {k: v for k, v in request.query.items() if k != "cursor"}
        await audit.write(conn, actor(request), audit.Entry(
            "partner_record.list", record_ids=[f"{i['country']}:{i['record_id']}" for i in items],
            detail={"filters": query, "paged": after is not None, "count": len(items)}))
    last = rows[limit - 1] if len(rows) > limit else None
    cursor = _encode_cursor(last["updated_at"], last["country"], last["record_id"]) if last else None
    return web.json_response({"items": items, "next_cursor": cursor})


def _item(r: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"country": r["country"], "record_id": r["record_id"], "version": r["version"],
                           "status": r["status"], "updated_at": _iso(r["updated_at"]),
                           "provenance": {"message_id": str(r["message_id"]), "kid": r["kid"], "via": r["via"],
                                          "received_at": _iso(r["received_at"])}}
    body = r["body"]
    if r["status"] == "active":
        # stored bodies are validated messages; .get keeps an older or hand-made row readable rather than a 500
        out.update(person=body["person"], convictions=body.get("convictions", []), review_date=body.get("review_date"),
                   match_candidates=r["candidates"] or [])
    else:
        out["withdrawal_reason"] = body.get("reason")
    return out
