"""The request pipeline, outermost first:

1. ``context``: request id, one JSON access-log line (route pattern, status, duration; never the query string,
   never a body), security headers (``Cache-Control: no-store`` on every answer).
2. ``errors``: ``ApiError`` -> its JSON body; aiohttp's own 404/405/413 -> the same JSON shape; a lost database
   -> 503; anything else -> 500 with the request id (the traceback goes to the log, the client sees no detail).
3. ``access``: the route's ``Policy`` (deny by default), the bearer token and session, the role, and the
   ``X-Purpose``/``X-Case-Ref`` headers of routes that read personal data. Denials are audited.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import uuid

import asyncpg
from aiohttp import web

from . import audit
from .appkeys import CASE_REF, POOL, PRINCIPAL, PURPOSE, REQUEST_ID, SETTINGS, TOKEN_KEYS
from .auth import Principal, decode_token, principal_for
from .errors import (
    ApiError,
    BadRequest,
    ErrorCode,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from .policy import PURPOSES, policy_of
from .ratelimit import LIMITS

log = logging.getLogger("exchange.http")
_CASE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_:-]{0,63}$")

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

# The database went away (or is shutting down / starting): 503, and the pool reconnects on the next acquire.
_DB_DOWN = (asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.OperatorInterventionError,
            asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.InterfaceError, ConnectionError, OSError,
            TimeoutError)
# A transaction lost a race it can safely run again (it rolled back): the handler is retried, never surfaced.
_RETRYABLE = (asyncpg.exceptions.SerializationError, asyncpg.exceptions.DeadlockDetectedError)
RETRIES = 3
# aiohttp's own refusals (no route, wrong method, body past client_max_size) as our error classes
_AIOHTTP_REFUSALS: dict[int, type[ApiError]] = {404: NotFound, 405: MethodNotAllowed, 413: PayloadTooLarge}


def request_id(request: web.Request) -> str:
    return request.get(REQUEST_ID, "-")


def principal(request: web.Request) -> Principal:
    found = request.get(PRINCIPAL)
    if not isinstance(found, Principal):
        raise Unauthorized("authentication required")
    return found


def actor(request: web.Request) -> audit.Actor:
    """The audit actor of this request (who, role, post, purpose, case reference, request id)."""
    who = request.get(PRINCIPAL)
    if isinstance(who, Principal):
        return audit.Actor(who.user_id, who.username, who.role, who.border_point, request_id(request),
                           request.get(PURPOSE), request.get(CASE_REF))
    return audit.Actor(request_id=request_id(request))


@web.middleware
async def context(request: web.Request, handler) -> web.StreamResponse:
    rid = uuid.uuid4().hex
    request[REQUEST_ID] = rid
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        for key, value in SECURITY_HEADERS.items():  # a web page sets its own CSP (exchange/web/render.py)
            response.headers.setdefault(key, value)
        response.headers["X-Request-Id"] = rid
        return response
    finally:
        route = request.match_info.route.resource
        log.info("request", extra={"fields": {
            "request_id": rid, "method": request.method,
            "route": route.canonical if route is not None else "(unmatched)", "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 2)}})


def error_response(err: ApiError, rid: str) -> web.Response:
    response = web.json_response(err.body(), status=err.status, headers=err.headers)
    response.headers.update(SECURITY_HEADERS)
    response.headers["X-Request-Id"] = rid
    return response


async def _retrying(request: web.Request, handler) -> web.StreamResponse:
    """Run the handler; on a serialization failure or deadlock (its transaction rolled back) run it again, up to
    ``RETRIES`` times. The body is cached by aiohttp after the first read, so the retry sees the same request."""
    for attempt in range(RETRIES):
        try:
            return await handler(request)
        except _RETRYABLE:
            log.info("transaction retried", extra={"fields": {"request_id": request_id(request), "try": attempt + 1}})
            await asyncio.sleep(0.01 * (attempt + 1))
    try:
        return await handler(request)
    except _RETRYABLE:
        raise Unavailable("the database is busy; try again", headers={"Retry-After": "1"}) from None


def _is_page(request: web.Request) -> bool:
    route = request.match_info.route
    rule = policy_of(route.handler) if route.resource is not None else None
    return rule is not None and rule.page


def _page_error(request: web.Request, err: ApiError) -> web.StreamResponse:
    from .web import guard, render  # the pages import this module

    if isinstance(err, Unauthorized):
        return guard.login_redirect(request)
    return render.error_page(request, err)


@web.middleware
async def errors(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await _retrying(request, handler)
    except ApiError as err:
        if _is_page(request):
            return _page_error(request, err)
        return error_response(err, request_id(request))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kind = _AIOHTTP_REFUSALS.get(exc.status, BadRequest)
        refused = kind(exc.reason or "request refused",  # a 405 keeps its Allow header (RFC 9110)
                       headers={"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None)
        refused.status = exc.status  # any other 4xx/5xx of aiohttp keeps its status, with BadRequest's code
        return error_response(refused, request_id(request))
    except _DB_DOWN:
        log.warning("database unavailable", extra={"fields": {"request_id": request_id(request)}})
        down = Unavailable("the database is unavailable; try again shortly", headers={"Retry-After": "5"})
        return _page_error(request, down) if _is_page(request) else error_response(down, request_id(request))
    except Exception:
        log.exception("unhandled error", extra={"fields": {"request_id": request_id(request)}})
        return error_response(ApiError("internal error; quote the request id to the operators"),
                              request_id(request))


async def ratelimit_reads(request: web.Request, who: Principal) -> None:
    """Per-officer token bucket on reads of personal data (429 + Retry-After), and the unusual-volume alert."""
    taken = await request.app[LIMITS].reads.take(request.app[POOL], who.user_id)
    if taken.alert:
        log.warning("unusual read volume", extra={"fields": {"request_id": request_id(request),
                                                             "user_id": who.user_id}})
        await audit.write_alone(request.app[POOL], actor(request), audit.Entry(
            "security.alert", "alert", detail={"reason": "unusual_read_volume"}))
    if taken.wait:
        await audit.write_alone(request.app[POOL], actor(request), audit.Entry(
            "access.rate_limited", "denied", detail={"route": request.match_info.route.resource.canonical}))
        raise TooManyRequests("too many reads; slow down", headers={"Retry-After": str(taken.wait)})


@web.middleware
async def access(request: web.Request, handler) -> web.StreamResponse:
    route = request.match_info.route
    if route.resource is None:  # no route matched: let aiohttp answer 404/405
        return await handler(request)
    rule = policy_of(route.handler)
    if rule is not None and rule.public:
        return await handler(request)
    if rule is not None and rule.page:
        from .web.guard import page_access  # the pages import this module

        return await page_access(request, handler, rule)
    app = request.app
    settings = app[SETTINGS]
    pool = app[POOL]
    try:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or len(header) > 4096:
            raise Unauthorized("a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        claims = decode_token(app[TOKEN_KEYS], settings, header[7:].strip())
        async with pool.acquire() as conn:
            who = await principal_for(conn, settings, claims, dt.datetime.now(dt.UTC))
    except Unauthorized as refused:  # a security event: the reason code and route, never the token
        await audit.write_alone(pool, actor(request), audit.Entry(
            "auth.denied", "denied",
            detail={"reason": refused.code, "route": route.resource.canonical, "method": request.method}))
        raise
    request[PRINCIPAL] = who
    if rule is None or who.role not in rule.roles:
        await audit.write_alone(pool, actor(request), audit.Entry(
            "access.denied", "denied", detail={"route": route.resource.canonical, "method": request.method}))
        raise Forbidden("your role may not use this endpoint")
    if rule.purpose:
        purpose = request.headers.get("X-Purpose")
        if purpose is None:
            raise BadRequest("X-Purpose header is required: " + ", ".join(PURPOSES),
                             code=ErrorCode.MISSING_PURPOSE, field="X-Purpose")
        if purpose not in PURPOSES:
            raise BadRequest("X-Purpose must be one of: " + ", ".join(PURPOSES),
                             code=ErrorCode.INVALID_PURPOSE, field="X-Purpose")
        request[PURPOSE] = purpose
        await ratelimit_reads(request, who)
        case_ref = request.headers.get("X-Case-Ref")
        if case_ref is not None:
            if not _CASE_REF.match(case_ref):
                raise BadRequest("X-Case-Ref must be 1-64 letters, digits, space or . / _ : -",
                                 code=ErrorCode.INVALID_PARAMETER, field="X-Case-Ref")
            request[CASE_REF] = case_ref
    return await handler(request)
