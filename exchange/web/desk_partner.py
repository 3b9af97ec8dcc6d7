"""Asking a partner from the search page: hit/no-hit for the person just searched, then the record behind a hit.

``POST /search/partner`` sends the person of the search form (its fields come back in the POST body, never in a
URL) to ``POST /api/v1/partner-queries`` with the partner and the protocol purpose; the partner's signed answer
is hit (with a reference and a band) or no hit. ``POST /search/partner-record`` asks for the record behind a
hit's reference with a legal basis (``POST /api/v1/partner-record-requests``); the partner decides and, if it
agrees, sends the record, which arrives in the partner records and the review queue. Liaison officers only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from protocols.messages import PURPOSES as PROTOCOL_PURPOSES

from ..policy import policy
from . import apiclient
from .desk_common import api, keep, options, page
from .desk_compare import person_form, search_body, search_field
from .render import session_of

ASK_FIELDS = ("partner", "partner_purpose", "reference", "band", "legal_basis")


def _form(posted: Any) -> dict[str, str]:
    raw = {k: v for k, v in posted.items() if isinstance(v, str)}
    form = person_form(raw)
    form.update({k: raw.get(k, "").strip()[:300] for k in ASK_FIELDS})
    return form


async def ask_values(request: web.Request) -> dict[str, Any]:
    """The "ask a partner" form's choices: the active partners and the protocol's purposes (liaison only)."""
    session = session_of(request)
    if session is None or session.who.role != "liaison":
        return {"partner_options": [], "partner_purposes": []}
    partners = (await api(request, "GET", "/api/v1/partners")).body["partners"]
    return {"partner_options": [(p["country"], p["country"]) for p in partners if p["active"]],
            "partner_purposes": options(request, "ppurpose", PROTOCOL_PURPOSES)}


async def _again(request: web.Request, form: dict[str, str], status: int, **values: Any) -> web.Response:
    form.update(keep(request))
    return page(request, "desk/search.html", status=status, form=form, answer=None, rows_of=None,
                **{"errors": {}, "asked": None, "requested": None, **values}, **await ask_values(request))


def _field(api_field: str | None, own: dict[str, str]) -> str:
    """The form field of an API error: the person's fields as in the search, else the ask form's own (the
    protocol's validators name a message body's fields ``body.<name>``)."""
    name = api_field or ""
    name = name.removeprefix("body.")
    return own.get(name, "") or search_field(name)


@policy("liaison", page=True, purpose=True)
async def ask_partner(request: web.Request) -> web.Response:
    form = _form(await request.post())
    body = {"country": form["partner"], "person": search_body(form)["person"], "purpose": form["partner_purpose"]}
    try:
        answer = (await api(request, "POST", "/api/v1/partner-queries", json_body=body)).body
    except apiclient.ApiProblem as problem:
        if problem.status in (401, 403) or (problem.status >= 500 and problem.status != 502):
            raise
        field = "partner" if problem.status == 404 else _field(problem.field, {"country": "partner",
                                                                                "purpose": "partner_purpose"})
        return await _again(request, form, problem.status, errors={field: problem.message})
    return await _again(request, form, 200, asked=answer)


@policy("liaison", page=True, purpose=True)
async def ask_record(request: web.Request) -> web.Response:
    form = _form(await request.post())
    body = {"country": form["partner"], "reference": form["reference"], "purpose": form["partner_purpose"],
            "legal_basis": form["legal_basis"]}
    asked = {"result": "hit", "reference": form["reference"], "band": form["band"]}
    try:
        answer = (await api(request, "POST", "/api/v1/partner-record-requests", json_body=body)).body
    except apiclient.ApiProblem as problem:
        if problem.status in (401, 403) or (problem.status >= 500 and problem.status != 502):
            raise
        field = "partner" if problem.status == 404 else _field(problem.field, {
            "country": "partner", "purpose": "partner_purpose", "legal_basis": "legal_basis", "reference": ""})
        return await _again(request, form, problem.status, asked=asked, errors={field: problem.message})
    return await _again(request, form, 200, asked=asked, requested=answer)
