"""The auditor's pages: the audit log with filters (``GET /api/v1/audit``) and the result of the hash-chain
verification (``GET /api/v1/audit/verify``).

``/audit`` reads the log through the API, which checks the auditor role and the purpose and writes its own
``audit.read`` row; filters (action, user name, outcome, from/until time), the order (newest first unless the
auditor asks for oldest first) and the page size travel in the link, with the cursor of the next page (a row
id: ``before`` newest first, ``after`` oldest first). They are codes, a user name and times, never personal data of a
registered person. Times are typed in UTC as ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (what a date-time field
sends); the API refuses anything else, and its message shows next to the field.

``/audit/verify`` runs one bounded stretch of the verification (the API's ``limit``) and offers to continue
from where it stopped; a failure names the first row that does not fit, with a link to it in the log.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..appkeys import CASE_REF, PURPOSE
from ..policy import policy
from . import apiclient, i18n, stats_text  # noqa: F401 (stats_text registers the labels)
from .render import menu, render

AUDITOR = ("auditor",)
FILTERS = ("action", "username", "outcome", "since", "until")
OUTCOMES = ("ok", "denied", "invalid", "not_found", "refused", "rejected", "rate_limited", "failed", "error")
LIMITS = ("50", "100", "200", "500")
ORDERS = ("newest", "oldest")  # the page's first is its default: an auditor looks at what just happened first
CURSOR = {"newest": "before", "oldest": "after"}
# links per verification run: about 12 s at the 4,000 links/s measured on 2 shared cores (the page's API call
# times out after 30 s); the officer continues from where it stopped
VERIFY_LIMIT = 50_000

menu("/audit", "audit.menu", AUDITOR, 10)
menu("/audit/verify", "audit.verify_menu", AUDITOR, 20)


def _filters(request: web.Request) -> dict[str, str]:
    return {k: request.query[k].strip()[:64] for k in FILTERS if request.query.get(k, "").strip()}


def _api_params(filters: dict[str, str], request: web.Request) -> dict[str, str]:
    out = dict(filters)
    limit = request.query.get("limit", "100")
    out["limit"] = limit if limit in LIMITS else "100"
    order = request.query.get("order", "")
    out["order"] = order if order in ORDERS else ORDERS[0]
    cursor = CURSOR[out["order"]]
    value = request.query.get(cursor, "")
    if value.isascii() and value.isdigit() and len(value) <= 19:
        out[cursor] = value
    return out


def _keep(request: web.Request) -> dict[str, str]:
    out = {"purpose": request.get(PURPOSE) or "audit"}
    if request.get(CASE_REF):
        out["case_ref"] = request[CASE_REF]
    return out


@policy(*AUDITOR, page=True, purpose=True)
async def audit_log(request: web.Request) -> web.Response:
    filters = _filters(request)
    params = _api_params(filters, request)
    keep = _keep(request)
    lang = i18n.language(request)
    values: dict[str, Any] = {"filters": filters, "limit": params["limit"], "limits": [(v, v) for v in LIMITS],
                              "order": params["order"],
                              "orders": [(v, i18n.translate(lang, f"audit.order.{v}")) for v in ORDERS],
                              "outcomes": [(v, v) for v in OUTCOMES], "keep": keep, "errors": {}, "items": [],
                              "next_link": None, "first_link": None}
    try:
        answer = await apiclient.as_officer(request, "GET", "/api/v1/audit", params=params)
    except apiclient.ApiProblem as problem:
        values["errors"] = apiclient.problem_errors(problem, (*FILTERS, "limit"))
        return render(request, "audit/log.html", status=problem.status, **values)
    base = {**filters, "order": params["order"], "limit": params["limit"], **keep}
    values["items"] = answer.body["items"]
    cursor = CURSOR[params["order"]]
    if answer.body.get(f"next_{cursor}") is not None:
        values["next_link"] = "/audit?" + urlencode({**base, cursor: answer.body[f"next_{cursor}"]})
    if cursor in params:
        values["first_link"] = "/audit?" + urlencode(base)
    return render(request, "audit/log.html", **values)


@policy(*AUDITOR, page=True)
async def audit_verify(request: web.Request) -> web.Response:
    after = request.query.get("after_seq", "0")
    params = {"limit": str(VERIFY_LIMIT)}
    if after.isascii() and after.isdigit() and len(after) <= 19 and after != "0":
        params["after_seq"] = after
    answer = await apiclient.as_officer(request, "GET", "/api/v1/audit/verify", params=params)
    result = answer.body
    bad_link = None
    if result.get("first_bad_id") is not None:
        # the log from the row before the one that does not fit (ids are the log's cursor)
        bad_link = "/audit?" + urlencode({"order": "oldest", "after": max(int(result["first_bad_id"]) - 1, 0),
                                          "limit": "50", "purpose": "audit"})
    return render(request, "audit/verify.html", result=result, limit=VERIFY_LIMIT, bad_link=bad_link)


PAGES = [
    ("GET", "/audit", audit_log),
    ("GET", "/audit/verify", audit_verify),
]
