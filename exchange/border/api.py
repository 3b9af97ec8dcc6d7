"""``/api/v1/border/checks``: an immigration officer records and screens a check on a child traveller.

``POST`` validates the body (``schema``), admits it (post active, Idempotency-Key replay: one query), screens
every person against the register (``screening``; requests arriving together share one index refresh),
applies the rules (``flags``) and, in one transaction, re-checks the hits, stores the check with one alert per
hit (one statement) and writes the audit rows: ``border.check``, and one ``border.alert`` naming every alert. The
officer's answer holds the flags and the recommendation only; the matched records go to the liaison desk
(``alerts``). The post is the officer's own (from the account, never from the body).

Offline posts: a check carries the time it happened (``time``) and a client-chosen ``Idempotency-Key``
(scoped to the post), so a queued check replayed after the link returns is stored once and answered the
same way each time; the same key with a different body is a 409.
"""

from __future__ import annotations

import datetime as dt
import uuid

from aiohttp import web

from protocols.validation import ValidationError

from .. import audit
from ..appkeys import POOL
from ..body import invalid, read_json
from ..errors import Conflict, ErrorCode, Forbidden, NotFound
from ..middleware import actor, principal
from ..params import int_param, only_params, record_id, time_param
from ..policy import policy
from ..registry.idempotency import HEADER, key_of, request_hash
from ..screening_index import SCREENING, audit_ref
from . import store
from .config import BORDER_SETTINGS
from .flags import ordered, recommend, rule_flags
from .schema import validate_check, validate_outcome
from .screening import screen, still_active, watchlist_flags

SEE_ALL = ("liaison", "auditor")


def _replay(row, digest: bytes | None) -> web.Response:
    if row["request_hash"] is None or bytes(row["request_hash"]) != digest:
        raise Conflict("this Idempotency-Key was already used for a different check",
                       code=ErrorCode.IDEMPOTENCY_MISMATCH, field=HEADER)
    return web.json_response(row["answer"], status=201, headers={"Idempotent-Replayed": "true"})


@policy("immigration", purpose=True)
async def submit_check(request: web.Request) -> web.Response:
    who = principal(request)
    post = who.border_point
    if post is None:  # pragma: no cover - the users table forbids an immigration officer without a post
        raise Forbidden("your account is not bound to a border point")
    key = key_of(request)
    body = await read_json(request)
    try:
        check = validate_check(body, dt.datetime.now(dt.UTC))
    except ValidationError as err:
        raise invalid(err) from None
    digest = request_hash("POST", "/api/v1/border/checks", body) if key else None
    app = request.app
    pool = app[POOL]
    async with pool.acquire() as conn:
        active, found = await store.admission(conn, post, key)
    if found is not None:  # a replay gets its first answer, as it did when the check was stored
        return _replay(found, digest)
    if not active:  # read a moment before the insert, not in its transaction: a deactivation is not a race to win
        raise Forbidden("your border point is not active; ask an administrator")
    hits = []
    if app[BORDER_SETTINGS].screening:
        holder = app[SCREENING]
        await holder.until_ready(app[BORDER_SETTINGS].index_wait,
                                 "screening is still starting; keep the check queued and retry shortly")
        await holder.refreshed(pool)
        hits = await screen(holder, check)
    check_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        hits = await still_active(conn, hits)
        flags = rule_flags(check) | watchlist_flags(hits)
        advice = recommend(flags)
        flag_list = ordered(flags)
        answer = {"id": str(check_id), "flags": flag_list, "recommendation": advice.as_dict()}
        alert_ids = [uuid.uuid4() for _ in hits]
        if not await store.insert_check(conn, check_id=check_id, border_point=post, officer_id=who.user_id,
                                        check=check, flags=flag_list, action=advice.action, answer=answer,
                                        key=key, digest=digest, hits=hits, alert_ids=alert_ids):
            found = await store.find_by_key(conn, post, key or "")
            if found is None:  # pragma: no cover - the conflicting row committed before ON CONFLICT saw it
                raise Conflict("a check with this Idempotency-Key is being stored; retry", field=HEADER)
            return _replay(found, digest)
        who_acts = actor(request)
        await audit.write(conn, who_acts, audit.Entry(
            "border.check", record_ids=[str(check_id)],
            detail={"flags": flag_list, "action": advice.action, "alerts": len(alert_ids),
                    "direction": check.direction, "situation": check.situation}))
        if hits:  # one row names every alert of the check, its check and the matched records
            refs = [audit_ref(h.person_id) for h in hits]
            await audit.write(conn, who_acts, audit.Entry(
                "border.alert", record_ids=[*map(str, alert_ids), str(check_id), *dict.fromkeys(refs)],
                detail={"alerts": [{"alert": str(aid), "subject": h.subject, "record": ref,
                                    "probability": round(h.probability, 4)}
                                   for aid, h, ref in zip(alert_ids, hits, refs, strict=True)]}))
    return web.json_response(answer, status=201)


async def _visible_check(request: web.Request, conn, action: str):
    """The check of the path if this officer may see it; a check of another post is a 404, audited."""
    who = principal(request)
    check_id = record_id(request)
    row = None if check_id is None else await store.fetch_check(conn, check_id)
    if row is None or (who.role not in SEE_ALL and row["border_point"] != who.border_point):
        if row is not None:
            await audit.write_alone(request.app[POOL], actor(request), audit.Entry(
                action, "denied", record_ids=[str(row["id"])], detail={"reason": "another border point"}))
        raise NotFound("no such check")
    return row


@policy("immigration", "liaison", "auditor", purpose=True)
async def get_check(request: web.Request) -> web.Response:
    only_params(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await _visible_check(request, conn, "border.check.view")
        view = store.check_view(row)
        if principal(request).role in SEE_ALL:
            view["alerts"] = [{"id": str(a["id"]), "subject": a["subject"], "subject_index": a["subject_index"],
                               "status": a["status"]} for a in await store.alerts_of(conn, row["id"])]
        await audit.write(conn, actor(request), audit.Entry("border.check.view", record_ids=[str(row["id"])]))
    return web.json_response(view)


@policy("immigration", purpose=True)
async def patch_check(request: web.Request) -> web.Response:
    body = await read_json(request)
    try:
        outcome, notes = validate_outcome(body)
    except ValidationError as err:
        raise invalid(err) from None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await _visible_check(request, conn, "border.check.outcome")
        await store.set_outcome(conn, row["id"], outcome, notes)
        await audit.write(conn, actor(request), audit.Entry(
            "border.check.outcome", record_ids=[str(row["id"])], detail={"outcome": outcome}))
        row = await store.fetch_check(conn, row["id"])
    return web.json_response(store.check_view(row, personal=False))


@policy("immigration", "liaison", "auditor", purpose=True)
async def list_checks(request: web.Request) -> web.Response:
    """Recent checks, newest first, without personal data (immigration: their own post only)."""
    only_params(request, ("border_point", "since", "limit"))
    who = principal(request)
    limit = int_param(request, "limit", 50, 1, 200)
    since = time_param(request, "since")
    post = who.border_point if who.role not in SEE_ALL else request.query.get("border_point")
    if who.role not in SEE_ALL and request.query.get("border_point") not in (None, post):
        raise NotFound("no such border point")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await store.list_checks(conn, post, since, limit or 50)
        await audit.write(conn, actor(request), audit.Entry(
            "border.check.list", record_ids=[str(r["id"]) for r in rows], detail={"border_point": post}))
    return web.json_response({"items": [
        {"id": str(r["id"]), "border_point": r["border_point"], "time": r["checked_at"].isoformat(),
         "direction": r["direction"], "situation": r["situation"], "group_size": r["group_size"],
         "companions": r["companions"], "flags": list(r["flags"]), "action": r["action"],
         "outcome": r["outcome"], "purged": r["purged"]} for r in rows]})
