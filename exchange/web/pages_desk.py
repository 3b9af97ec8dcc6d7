"""The liaison desk: open border alerts, the review queue of partner records matching our register, the person
search with its explained candidates, the side-by-side comparisons with the confirm/reject decision, and the
partners' status and records.

Every page is a form over the JSON API (``desk_common.api``): the alerts (``/api/v1/alerts``), the review queue
(``/api/v1/review-queue``), the person search (``POST /api/v1/search``), the partners (``/api/v1/partners``,
``/api/v1/partner-records``). The API checks the role, the purpose and the case reference and writes the audit
rows; nothing here touches the database. Links carry ids and the purpose/case reference only; the searched
person travels in the POST body, never in a URL. Labels: ``desk_text``; comparisons: ``desk_compare``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..border.alerts import CONFIRM_REASONS, REJECT_REASONS
from ..errors import NotFound
from ..policy import policy
from . import apiclient, desk_text  # noqa: F401 (desk_text registers the labels)
from .desk_common import api, as_uuid, decide, keep, options, page
from .desk_compare import compare, explained, person_form, search_body, search_field
from .desk_partner import ask_partner, ask_record, ask_values
from .render import menu, redirect

LIAISON = ("liaison",)
SEARCHERS = ("liaison", "registrar")
PARTNER_VIEWERS = ("admin", "liaison")

menu("/desk", "desk.menu.desk", LIAISON, 10)
menu("/search", "desk.menu.search", SEARCHERS, 20)
menu("/partner-records", "desk.menu.partner_records", LIAISON, 30)
menu("/partners", "desk.menu.partners", PARTNER_VIEWERS, 40)


def _decision_values(request: web.Request, errors: dict[str, str] | None, chosen: dict[str, str] | None) -> dict:
    return {"errors": errors or {}, "chosen": chosen or {}, "confirm_reasons": options(request, "reason",
                                                                                        CONFIRM_REASONS),
            "reject_reasons": options(request, "reason", REJECT_REASONS),
            "just_decided": request.query.get("decided") == "1" and chosen is None}


@policy(*LIAISON, page=True, purpose=True)
async def desk(request: web.Request) -> web.Response:
    """Open alerts and review items (oldest first), partners' pending requests for our records, and the
    partners' overdue acknowledgements."""
    alerts = (await api(request, "GET", "/api/v1/alerts", params={"status": "open", "limit": "50"})).body["items"]
    review = (await api(request, "GET", "/api/v1/review-queue", params={"limit": "50"})).body["items"]
    requests = (await api(request, "GET", "/api/v1/record-requests", params={"status": "pending"})).body["items"]
    partners = (await api(request, "GET", "/api/v1/partners")).body["partners"]
    return page(request, "desk/desk.html", alerts=alerts, partners=partners, review=review, requests=requests)


def _alert_id(request: web.Request) -> str:
    """An alert's id: a UUID (anything else is a 404, never sent on)."""
    alert_id = as_uuid(request.match_info["id"])
    if alert_id is None:
        raise NotFound("no such alert")
    return alert_id


async def _alert_page(request: web.Request, *, errors: dict[str, str] | None = None, status: int = 200,
                      chosen: dict[str, str] | None = None) -> web.Response:
    # open or decided, read by its id (the API writes the audit row; its 404 "no such alert" is the page's)
    alert = (await api(request, "GET", f"/api/v1/alerts/{_alert_id(request)}")).body
    recorded = ((alert["subject"] or {}).get("recorded") or {}).get("person")
    rows = compare(recorded, (alert["candidate"] or {}).get("person"), (alert["explanation"] or {}).get("features", []))
    return page(request, "desk/alert.html", status=status, alert=alert, rows=rows,
                **_decision_values(request, errors, chosen))


@policy(*LIAISON, page=True, purpose=True)
async def alert_view(request: web.Request) -> web.Response:
    return await _alert_page(request)


@policy(*LIAISON, page=True, purpose=True)
async def alert_decide(request: web.Request) -> web.Response:
    alert_id = _alert_id(request)
    return await decide(request, f"/api/v1/alerts/{alert_id}/decision", _alert_page, f"/alerts/{alert_id}")


def _review_id(request: web.Request) -> str:
    """A review item's or record request's id: digits only (anything else is a 404, never sent on)."""
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise NotFound("no such item")
    return raw


async def _review_page(request: web.Request, *, errors: dict[str, str] | None = None, status: int = 200,
                       chosen: dict[str, str] | None = None) -> web.Response:
    item = (await api(request, "GET", f"/api/v1/review-queue/{_review_id(request)}")).body
    ours = (item["register_record"] or {}).get("person")
    rows = compare(item["partner_record"]["person"], ours, (item["explanation"] or {}).get("features", []))
    return page(request, "desk/review.html", status=status, item=item, rows=rows,
                **_decision_values(request, errors, chosen))


@policy(*LIAISON, page=True, purpose=True)
async def review_view(request: web.Request) -> web.Response:
    return await _review_page(request)


@policy(*LIAISON, page=True, purpose=True)
async def review_decide(request: web.Request) -> web.Response:
    item_id = _review_id(request)
    return await decide(request, f"/api/v1/review-queue/{item_id}/decision", _review_page, f"/review/{item_id}")


async def _request_page(request: web.Request, *, errors: dict[str, str] | None = None, status: int = 200,
                        chosen: dict[str, str] | None = None) -> web.Response:
    """A partner's request for the record behind one of our hit answers (found in the API's list)."""
    wanted = _review_id(request)
    items = (await api(request, "GET", "/api/v1/record-requests")).body["items"]
    found = next((i for i in items if str(i["id"]) == wanted), None)
    if found is None:
        raise NotFound("no such record request")
    return page(request, "desk/request.html", status=status, req=found, errors=errors or {}, chosen=chosen or {},
                just_decided=request.query.get("decided") == "1" and chosen is None)


@policy(*LIAISON, page=True, purpose=True)
async def request_view(request: web.Request) -> web.Response:
    return await _request_page(request)


@policy(*LIAISON, page=True, purpose=True)
async def request_decide(request: web.Request) -> web.Response:
    """Approve (the record is queued for that partner: a disclosure, audited) or refuse, with an optional note."""
    req_id = _review_id(request)
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    body = {"decision": form.get("decision", "")}
    if form.get("note", "").strip():
        body["note"] = form["note"].strip()
    try:
        await api(request, "POST", f"/api/v1/record-requests/{req_id}/decision", json_body=body)
    except apiclient.ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 403, 404):
            raise
        field = "note" if problem.field == "note" else ""
        return await _request_page(request, errors={field: problem.message}, chosen=form, status=problem.status)
    return redirect(f"/requests/{req_id}?" + urlencode({**keep(request), "decided": "1"}))


@policy(*SEARCHERS, page=True)
async def search_form(request: web.Request) -> web.Response:
    chosen = {"purpose": request.query.get("purpose", ""), "case_ref": request.query.get("case_ref", "")}
    return page(request, "desk/search.html", form=chosen, errors={}, answer=None, keep=chosen, rows_of=None,
                asked=None, requested=None, **await ask_values(request))


@policy(*SEARCHERS, page=True, purpose=True)
async def search_submit(request: web.Request) -> web.Response:
    """The person in the POST body goes to ``POST /api/v1/search``; the candidates come back explained."""
    form = person_form({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    form.update(keep(request))
    body = search_body(form)
    try:
        answer = (await api(request, "POST", "/api/v1/search", json_body=body)).body
    except apiclient.ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 403):
            raise
        return page(request, "desk/search.html", status=problem.status, form=form, answer=None,
                    errors={search_field(problem.field): problem.message}, rows_of=None, asked=None,
                    requested=None, **await ask_values(request))

    def rows_of(candidate: dict[str, Any]) -> list[dict[str, Any]]:
        return compare(body["person"], candidate["summary"], explained(candidate["explanation"]))

    return page(request, "desk/search.html", form=form, answer=answer, errors={}, rows_of=rows_of, asked=None,
                requested=None, **await ask_values(request))


@policy(*PARTNER_VIEWERS, page=True)
async def partners_page(request: web.Request) -> web.Response:
    """Each partner's agreement, push queue, pull state and overdue acknowledgements (no personal data)."""
    partners = (await api(request, "GET", "/api/v1/partners")).body["partners"]
    return page(request, "desk/partners.html", partners=partners, keep={"purpose": "review"})


@policy(*LIAISON, page=True, purpose=True)
async def partner_records(request: web.Request) -> web.Response:
    """Received partner records with their provenance (the verified message that brought each version)."""
    params = {k: request.query[k] for k in ("country", "status", "cursor") if request.query.get(k)}
    answer = (await api(request, "GET", "/api/v1/partner-records", params={**params, "limit": "50"})).body
    following = None
    if answer.get("next_cursor"):
        following = urlencode({**{k: v for k, v in params.items() if k != "cursor"}, **keep(request),
                               "cursor": answer["next_cursor"]})
    return page(request, "desk/partner_records.html", items=answer["items"], following=following, filters=params)


PAGES = [
    ("GET", "/desk", desk),
    ("GET", "/alerts/{id}", alert_view),
    ("POST", "/alerts/{id}", alert_decide),
    ("GET", "/review/{id}", review_view),
    ("POST", "/review/{id}", review_decide),
    ("GET", "/requests/{id}", request_view),
    ("POST", "/requests/{id}", request_decide),
    ("GET", "/search", search_form),
    ("POST", "/search", search_submit),
    ("POST", "/search/partner", ask_partner),
    ("POST", "/search/partner-record", ask_record),
    ("GET", "/partners", partners_page),
    ("GET", "/partner-records", partner_records),
]
