"""The pages call the service's own JSON API, on the loopback connection they arrived on.

A page is a form over the API, not a second implementation of it: roles, purpose and case reference, the
per-officer read limits, validation with its error codes and fields, If-Match and idempotency, and every audit row
come from the very code the API runs. The call carries the officer's session token (``session.WebSession``),
so the API sees the same officer, and the purpose the officer chose on the page.

The address is the local end of the connection the page request came in on (what the server is listening on),
so this works behind a reverse proxy and with several worker processes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from ..appkeys import CASE_REF, PURPOSE
from ..errors import ApiError, ErrorCode
from .session import WebSession

HTTP = web.AppKey("web_http", aiohttp.ClientSession)
TIMEOUT = aiohttp.ClientTimeout(total=30)


async def http_ctx(app: web.Application) -> AsyncIterator[None]:
    """One client session per process for the pages' API calls (cleanup_ctx)."""
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=aiohttp.DummyCookieJar()) as session:
        app[HTTP] = session
        yield


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class ApiProblem(ApiError):
    """The API refused the call: its status, stable code, field and message, for the page to show."""

    def __init__(self, status: int, code: str, message: str, field: str | None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message, code=code, field=field, headers=headers)
        self.status = status


def _base(request: web.Request) -> str:
    sock = request.transport.get_extra_info("sockname") if request.transport else None
    if not sock:
        raise ApiError("the page cannot reach the service's API")
    host, port = sock[0], sock[1]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


async def call(request: web.Request, session: WebSession | None, method: str, path: str, *,
               json_body: Any = None, params: dict[str, str] | None = None, purpose: str | None = None,
               case_ref: str | None = None, headers: dict[str, str] | None = None,
               accept: tuple[int, ...] = ()) -> Answer:
    """Call ``path`` of our own API as the page's officer. A 4xx/5xx not in ``accept`` raises ``ApiProblem``."""
    sent = dict(headers or {})
    if session is not None:
        sent["Authorization"] = f"Bearer {session.token}"
    if purpose:
        sent["X-Purpose"] = purpose
    if case_ref:
        sent["X-Case-Ref"] = case_ref
    data = None
    if json_body is not None:
        sent["Content-Type"] = "application/json"
        data = json.dumps(json_body, ensure_ascii=False).encode()
    try:
        async with request.app[HTTP].request(method, _base(request) + path, params=params, data=data,
                                             headers=sent) as resp:
            raw = await resp.read()
            kept = {k: v for k, v in resp.headers.items() if k in ("ETag", "Retry-After", "Location",
                                                                   "Idempotent-Replayed", "Content-Type")}
            status = resp.status
    except (aiohttp.ClientError, TimeoutError):
        raise ApiProblem(503, ErrorCode.DATABASE_UNAVAILABLE, "the service did not answer; try again shortly",
                         None) from None
    body: Any = None
    if raw:
        with contextlib.suppress(ValueError):
            body = json.loads(raw)
    answer = Answer(status, body, kept)
    if status >= 400 and status not in accept:
        err = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        raise ApiProblem(status, str(err.get("code", "error")), str(err.get("message", "the request was refused")),
                         err.get("field"), {"Retry-After": kept["Retry-After"]} if "Retry-After" in kept else None)
    return answer


async def as_officer(request: web.Request, method: str, path: str, **kw: Any) -> Answer:
    """``call`` as the page's officer, with the purpose and case reference the guard set for this page."""
    from .render import session_of  # render imports the session module, as this one does

    return await call(request, session_of(request), method, path, purpose=request.get(PURPOSE),
                      case_ref=request.get(CASE_REF), **kw)


def purpose_args(request: web.Request) -> dict[str, str]:
    """The purpose and case reference, carried on in the next page's links and hidden fields (no personal data)."""
    out = {"purpose": request.get(PURPOSE) or "", "case_ref": request.get(CASE_REF) or ""}
    return {k: v for k, v in out.items() if v}


def problem_errors(problem: ApiProblem, fields: tuple[str, ...]) -> dict[str, str]:
    """``{form field: "message (code)"}`` for a refusal of the API; a 5xx or an auth failure is re-raised (the
    error page). An API field like ``categories[0]`` shows by the form field ``categories``; one the form does
    not have shows above the form."""
    if problem.status >= 500 or problem.status in (401, 403):
        raise problem
    field = (problem.field or "").split("[", 1)[0]
    return {field if field in fields else "": f"{problem.message} ({problem.code})"}
