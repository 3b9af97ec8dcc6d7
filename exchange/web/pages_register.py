"""The register pages (registrars; the record view also for liaison officers and auditors).

    GET  /records                  current records with filters (status, offence, nationality, updated since):
                                   ids and filters in the link, never a name
    GET  /records/new              the empty record form (a fresh Idempotency-Key in a hidden field)
    POST /records/new              "add another ..." / "remove" re-render the form; "Save" creates the record
    GET  /records/{id}             the record (or ?version=N), its history and which partner got which version;
                                   auditors see the history and the deliveries, not the person
    GET  /records/{id}/edit        the form filled from the record, with the version it replaces
    POST /records/{id}/edit        re-render, or save as a new version (If-Match: a stale edit gets the API's 412)
    GET  /records/{id}/withdraw    reason, note and a confirmation
    POST /records/{id}/withdraw    withdraw (If-Match)

Every page is a form over ``/api/v1/records`` (``apiclient``): the API checks the role and purpose, validates,
writes the version, the partner outbox rows and the audit row. A refusal comes back with its code and field and
is shown next to that field (``register_form.field_of``) with every value kept. The form pages are in
``register_edit``, what the pages share in ``register_page``, the labels in ``register_text``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..appkeys import PRINCIPAL
from ..policy import policy
from . import i18n, register_form, register_text  # noqa: F401 (register_text registers the labels)
from .apiclient import ApiProblem
from .register_edit import edit_form, edit_submit, new_form, new_submit
from .register_page import API, LISTERS, REGISTRAR, VIEWERS, api, keep, page, posted, record_id, refused, said
from .render import menu, redirect

menu("/records", "register.menu.records", LISTERS, 5)
menu("/records/new", "register.menu.new", REGISTRAR, 6)


@policy(*LISTERS, page=True, purpose=True)
async def records_list(request: web.Request) -> web.Response:
    filters = {k: request.query[k] for k in ("status", "offence_category", "nationality", "updated_since")
               if request.query.get(k)}
    params = {k: v for k, v in filters.items() if k != "updated_since"}
    if filters.get("updated_since"):
        params["updated_since"] = filters["updated_since"] + ("" if "T" in filters["updated_since"] else "T00:00Z")
    if request.query.get("cursor"):
        params["cursor"] = request.query["cursor"]
    try:
        answer = (await api(request, "GET", API, params={**params, "limit": "50"})).body
    except ApiProblem as problem:
        if not refused(problem):
            raise
        return page(request, "register/list.html", status=problem.status, items=[], following=None,
                    filters=filters, errors={problem.field or "": said(problem)})
    following = None
    if answer.get("next_cursor"):
        following = {**filters, "cursor": answer["next_cursor"]}
    return page(request, "register/list.html", items=answer["items"], following=following, filters=filters,
                errors={})


@policy(*VIEWERS, page=True, purpose=True)
async def record_view(request: web.Request) -> web.Response:
    rid = record_id(request)
    version = request.query.get("version", "")
    role = getattr(request.get(PRINCIPAL), "role", None)
    record = None
    if role in LISTERS:  # auditors see who changed it and who received it, not the person
        params = {"version": version} if version.isdigit() else None
        record = (await api(request, "GET", f"{API}/{rid}", params=params)).body
    history = (await api(request, "GET", f"{API}/{rid}/history")).body["versions"]
    deliveries = (await api(request, "GET", f"{API}/{rid}/deliveries")).body["deliveries"]
    current = history[-1] if history else None
    notice = next((k for k in ("saved", "withdrawn") if request.query.get(k) == "1"), None)
    return page(request, "register/view.html", rid=rid, record=record, history=history, current=current,
                deliveries=deliveries, notice=notice, precision=register_form.precision)


# --- withdraw ----------------------------------------------------------------------------------------------

async def _withdraw_page(request: web.Request, rid: str, *, chosen: dict[str, str], errors: dict[str, str],
                         status: int = 200, version: str | None = None) -> web.Response:
    record = (await api(request, "GET", f"{API}/{rid}")).body
    return page(request, "register/withdraw.html", status=status, rid=rid, record=record, chosen=chosen,
                errors=errors, version=version or str(record["version"]))


@policy(*REGISTRAR, page=True, purpose=True)
async def withdraw_form(request: web.Request) -> web.Response:
    rid = record_id(request)
    return await _withdraw_page(request, rid, chosen={}, errors={})


@policy(*REGISTRAR, page=True, purpose=True)
async def withdraw_submit(request: web.Request) -> web.Response:
    rid = record_id(request)
    _, raw = await posted(request)
    chosen = {k: raw.get(k, "") for k in ("reason", "note", "confirm")}
    version = raw.get("version", "")
    lang = i18n.language(request)
    if chosen["confirm"] != "yes":  # asked here: the API has no notion of the officer's confirmation
        return await _withdraw_page(request, rid, chosen=chosen, status=400, version=version,
                                    errors={"confirm": i18n.translate(lang, "register.withdraw.confirm_needed")})
    body: dict[str, Any] = {"reason": chosen["reason"]}
    if chosen["note"].strip():
        body["note"] = chosen["note"].strip()
    try:
        await api(request, "POST", f"{API}/{rid}/withdraw", json_body=body, headers={"If-Match": f'"{version}"'})
    except ApiProblem as problem:
        if not refused(problem):
            raise
        field = problem.field if problem.field in ("reason", "note") else ""
        return await _withdraw_page(request, rid, chosen=chosen, status=problem.status, version=version,
                                    errors={field: said(problem)})
    return redirect(f"/records/{rid}?" + urlencode({**keep(request), "withdrawn": "1"}))


PAGES = [
    ("GET", "/records", records_list),
    ("GET", "/records/new", new_form),
    ("POST", "/records/new", new_submit),
    ("GET", "/records/{id}", record_view),
    ("GET", "/records/{id}/edit", edit_form),
    ("POST", "/records/{id}/edit", edit_submit),
    ("GET", "/records/{id}/withdraw", withdraw_form),
    ("POST", "/records/{id}/withdraw", withdraw_submit),
]
