"""The access rules of a page (called by ``middleware.access`` for handlers with ``@policy(..., page=True)``).

The same rules as the API: deny by default, the role read from the database on every request, refusals
audited. A page answers a missing or ended session with a redirect to the login page (with the path to return
to, never a query string), a wrong role with a 403 page, and an unsafe method without the form's CSRF token
with a 403 page. A page that reads personal data gets the officer's purpose and case reference from the
query or form (``purpose``/``case_ref``, validated like the API's headers) and asks for them when absent.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

from .. import audit
from ..appkeys import CASE_REF, POOL, PRINCIPAL, PURPOSE
from ..errors import BadRequest, ErrorCode, Forbidden, Unauthorized
from ..middleware import actor
from ..policy import PURPOSES, Policy
from .render import WEB_SESSION, redirect, render
from .session import CSRF_FIELD, check_csrf, clear_session_cookie, open_session, set_session_cookie

_CASE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./_:-]{0,63}$")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def login_redirect(request: web.Request) -> web.Response:
    back = request.path if request.method == "GET" else "/"
    return redirect("/login?next=" + quote(back, safe="/"))


async def _purpose(request: web.Request, form: dict[str, str]) -> web.StreamResponse | None:
    """Set the request's purpose and case reference, or return the page that asks for them."""
    purpose = form.get("purpose") or request.query.get("purpose")
    case_ref = form.get("case_ref") or request.query.get("case_ref") or None
    if purpose is None:
        if request.method != "GET":
            raise BadRequest("choose the purpose of this look-up", code=ErrorCode.MISSING_PURPOSE, field="purpose")
        return render(request, "purpose.html", status=200, query=dict(request.query))
    if purpose not in PURPOSES:
        raise BadRequest("the purpose must be one of: " + ", ".join(PURPOSES), code=ErrorCode.INVALID_PURPOSE,
                         field="purpose")
    if case_ref is not None and not _CASE_REF.match(case_ref):
        raise BadRequest("the case reference must be 1-64 letters, digits, space or . / _ : -",
                         code=ErrorCode.INVALID_PARAMETER, field="case_ref")
    request[PURPOSE] = purpose
    if case_ref is not None:
        request[CASE_REF] = case_ref
    return None


async def page_access(request: web.Request, handler, rule: Policy) -> web.StreamResponse:
    pool = request.app[POOL]
    route = request.match_info.route.resource.canonical
    try:
        session = await open_session(request)
    except Unauthorized as refused:
        await audit.write_alone(pool, actor(request), audit.Entry(
            "auth.denied", "denied", detail={"reason": refused.code, "route": route, "method": request.method,
                                              "channel": "web"}))
        response = login_redirect(request)
        clear_session_cookie(request, response)
        return response
    if session is None:
        return login_redirect(request)
    request[PRINCIPAL] = session.who
    request[WEB_SESSION] = session
    if session.who.role not in rule.roles:
        await audit.write_alone(pool, actor(request), audit.Entry(
            "access.denied", "denied", detail={"route": route, "method": request.method, "channel": "web"}))
        raise Forbidden("your role may not open this page")
    form: dict[str, str] = {}
    if request.method in UNSAFE:
        posted = await request.post()
        form = {k: v for k, v in posted.items() if isinstance(v, str)}
        try:
            check_csrf(request, session, form.get(CSRF_FIELD))
        except Forbidden:
            await audit.write_alone(pool, actor(request), audit.Entry(
                "access.denied", "denied", detail={"route": route, "method": request.method,
                                                  "reason": "csrf_failed", "channel": "web"}))
            raise
    if rule.purpose:
        asked = await _purpose(request, form)
        if asked is not None:
            return asked
    response = await handler(request)
    if session.renewed:
        set_session_cookie(request, response, session.token)
    return response
