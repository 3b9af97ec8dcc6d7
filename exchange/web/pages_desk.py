"""The liaison desk: open border alerts, the review queue of partner records, the person search with its
explained candidates, the side-by-side comparison with the confirm/reject decision, and the partners' status.

Every page is a form over the JSON API (``apiclient``): the alerts (``/api/v1/alerts``), the person search
(``POST /api/v1/search``), the partners (``/api/v1/partners``, ``/api/v1/partner-records``). The API checks the
role, the purpose and the case reference and writes the audit rows; nothing here touches the database. Links
carry ids and the purpose/case reference only; the searched person travels in the POST body, never in a URL.
The labels are in ``desk_text``; the comparison of two persons is built by ``desk_compare``.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from protocols.person import DOCUMENT_KINDS, SEXES

from ..appkeys import CASE_REF, PURPOSE
from ..border.alerts import CONFIRM_REASONS, REJECT_REASONS
from ..errors import NotFound
from ..policy import policy
from . import apiclient, desk_text, i18n  # noqa: F401 (desk_text registers the labels)
from .desk_compare import compare, explained, person_form, search_body, search_field
from .render import menu, redirect, render, session_of

LIAISON = ("liaison",)
SEARCHERS = ("liaison", "registrar")
PARTNER_VIEWERS = ("admin", "liaison")
REVIEW_SCAN = 200  # partner records read for the desk's review queue (the oldest changes first)

menu("/desk", "desk.menu.desk", LIAISON, 10)
menu("/search", "desk.menu.search", SEARCHERS, 20)
menu("/partner-records", "desk.menu.partner_records", LIAISON, 30)
menu("/partners", "desk.menu.partners", PARTNER_VIEWERS, 40)


async def _api(request: web.Request, method: str, path: str, **kw: Any) -> apiclient.Answer:
    return await apiclient.call(request, session_of(request), method, path, purpose=request.get(PURPOSE),
                                case_ref=request.get(CASE_REF), **kw)


def _keep(request: web.Request) -> dict[str, str]:
    """The purpose and case reference, carried on to the next page's links (no personal data)."""
    out = {"purpose": request.get(PURPOSE) or ""}
    if request.get(CASE_REF):
        out["case_ref"] = request[CASE_REF]
    return out


def _page(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    """Render a desk page; ``href(path, **ids)`` builds links that carry the purpose and case reference on."""
    keep = values.pop("keep", None) or _keep(request)

    def href(path: str, **ids: str) -> str:
        return path + "?" + urlencode({**ids, **{k: v for k, v in keep.items() if v}})

    return render(request, template, status=status, keep=keep, href=href, sexes=_options(request, "sex", SEXES),
                  doc_kinds=_options(request, "doc", DOCUMENT_KINDS), **values)


def _options(request: web.Request, group: str, codes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(code, label) pairs for a select, in the officer's language."""
    lang = i18n.language(request)
    return [(code, i18n.translate(lang, f"desk.{group}.{code}")) for code in codes]


def _uuid(raw: str | None) -> str | None:
    try:
        return str(uuid.UUID(raw)) if raw else None
    except ValueError:
        return None


@policy(*LIAISON, page=True, purpose=True)
async def desk(request: web.Request) -> web.Response:
    """Open alerts (oldest first), the review queue and the partners' overdue acknowledgements."""
    alerts = (await _api(request, "GET", "/api/v1/alerts", params={"status": "open", "limit": "50"})).body["items"]
    partners = (await _api(request, "GET", "/api/v1/partners")).body["partners"]
    records = (await _api(request, "GET", "/api/v1/partner-records",
                          params={"status": "active", "limit": str(REVIEW_SCAN)})).body["items"]
    review = [r for r in records if r.get("match_candidates")]
    return _page(request, "desk/desk.html", alerts=alerts, partners=partners, review=review)


async def _find_alert(request: web.Request, alert_id: str, check_id: str | None) -> dict[str, Any]:
    """The alert, read through the list API (filtered by its check when the link names it)."""
    params = {"status": "all", "limit": "200", "check": check_id} if check_id else {"status": "open", "limit": "200"}
    items = (await _api(request, "GET", "/api/v1/alerts", params=params)).body["items"]
    for item in items:
        if item["id"] == alert_id:
            return item
    raise NotFound("no such alert")


async def _alert_page(request: web.Request, *, errors: dict[str, str] | None = None, status: int = 200,
                      chosen: dict[str, str] | None = None) -> web.Response:
    alert_id = _uuid(request.match_info["id"])
    if alert_id is None:
        raise NotFound("no such alert")
    check_id = _uuid(request.query.get("check")) or _uuid((chosen or {}).get("check"))
    alert = await _find_alert(request, alert_id, check_id)
    recorded = ((alert["subject"] or {}).get("recorded") or {}).get("person")
    candidate = (alert["candidate"] or {}).get("person")
    rows = compare(recorded, candidate, (alert["explanation"] or {}).get("features", []))
    return _page(request, "desk/alert.html", status=status, alert=alert, rows=rows, errors=errors or {},
                 confirm_reasons=_options(request, "reason", CONFIRM_REASONS),
                 reject_reasons=_options(request, "reason", REJECT_REASONS),
                 chosen=chosen or {}, just_decided=request.query.get("decided") == "1" and chosen is None)


@policy(*LIAISON, page=True, purpose=True)
async def alert_view(request: web.Request) -> web.Response:
    return await _alert_page(request)


@policy(*LIAISON, page=True, purpose=True)
async def alert_decide(request: web.Request) -> web.Response:
    """Confirm or reject: the API checks the reason code against the decision; its refusal shows by the field."""
    alert_id = _uuid(request.match_info["id"])
    if alert_id is None:
        raise NotFound("no such alert")
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    decision = form.get("decision", "")
    reason = form.get(f"{decision}_reason", "") if decision in ("confirm", "reject") else ""
    try:
        await _api(request, "POST", f"/api/v1/alerts/{alert_id}/decision",
                   json_body={"decision": decision, "reason_code": reason})
    except apiclient.ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 403, 404):
            raise
        valid = problem.field == "reason_code" and decision in ("confirm", "reject")
        field = f"{decision}_reason" if valid else ""  # a bad decision or a conflict shows above the forms
        return await _alert_page(request, errors={field: problem.message}, status=problem.status,
                                 chosen=form)
    check_id = _uuid(form.get("check"))
    query = {**({"check": check_id} if check_id else {}), **_keep(request), "decided": "1"}
    return redirect(f"/alerts/{alert_id}?" + urlencode(query))


@policy(*SEARCHERS, page=True)
async def search_form(request: web.Request) -> web.Response:
    chosen = {"purpose": request.query.get("purpose", ""), "case_ref": request.query.get("case_ref", "")}
    return _page(request, "desk/search.html", form=chosen, errors={}, answer=None, keep=chosen, rows_of=None)


@policy(*SEARCHERS, page=True, purpose=True)
async def search_submit(request: web.Request) -> web.Response:
    """The person in the POST body goes to ``POST /api/v1/search``; the candidates come back explained."""
    form = person_form({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    form.update(_keep(request))
    body = search_body(form)
    try:
        answer = (await _api(request, "POST", "/api/v1/search", json_body=body)).body
    except apiclient.ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 403):
            raise
        return _page(request, "desk/search.html", status=problem.status, form=form, answer=None,
                     errors={search_field(problem.field): problem.message}, rows_of=None)
    query = body["person"]

    def rows_of(candidate: dict[str, Any]) -> list[dict[str, Any]]:
        return compare(query, candidate["summary"], explained(candidate["explanation"]))

    return _page(request, "desk/search.html", form=form, answer=answer, errors={}, rows_of=rows_of)


@policy(*PARTNER_VIEWERS, page=True)
async def partners_page(request: web.Request) -> web.Response:
    """Each partner's agreement, push queue, pull state and overdue acknowledgements (no personal data)."""
    partners = (await _api(request, "GET", "/api/v1/partners")).body["partners"]
    return _page(request, "desk/partners.html", partners=partners, keep={"purpose": "review"})


@policy(*LIAISON, page=True, purpose=True)
async def partner_records(request: web.Request) -> web.Response:
    """Received partner records with their provenance (the verified message that brought each version)."""
    params = {k: request.query[k] for k in ("country", "status", "cursor") if request.query.get(k)}
    answer = (await _api(request, "GET", "/api/v1/partner-records", params={**params, "limit": "50"})).body
    following = None
    if answer.get("next_cursor"):
        following = urlencode({**{k: v for k, v in params.items() if k != "cursor"}, **_keep(request),
                               "cursor": answer["next_cursor"]})
    return _page(request, "desk/partner_records.html", items=answer["items"], following=following,
                 filters=params)


PAGES = [
    ("GET", "/desk", desk),
    ("GET", "/alerts/{id}", alert_view),
    ("POST", "/alerts/{id}", alert_decide),
    ("GET", "/search", search_form),
    ("POST", "/search", search_submit),
    ("GET", "/partners", partners_page),
    ("GET", "/partner-records", partner_records),
]
