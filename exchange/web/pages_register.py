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
is shown next to that field (``register_form.field_of``) with every value kept. Labels: ``register_text``.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from protocols.person import DOCUMENT_KINDS, NAME_KINDS, SCRIPTS, SEXES
from protocols.record import OFFENCE_CATEGORIES

from ..appkeys import CASE_REF, PRINCIPAL, PURPOSE
from ..errors import NotFound
from ..policy import policy
from ..registry.api import WITHDRAWAL_REASONS
from . import apiclient, i18n, register_form, register_text  # noqa: F401 (register_text registers the labels)
from .apiclient import ApiProblem
from .render import menu, redirect, render, session_of

REGISTRAR = ("registrar",)
LISTERS = ("registrar", "liaison")
VIEWERS = ("registrar", "liaison", "auditor")
API = "/api/v1/records"
DEFAULT_PURPOSE = "data_quality"  # a registrar's own read-back after a change, when no purpose was chosen
CHOICES = {"sex": SEXES, "script": SCRIPTS, "name_kind": NAME_KINDS, "doc_kind": DOCUMENT_KINDS,
           "offence": OFFENCE_CATEGORIES, "sharing_mode": register_form.SHARING_MODES,
           "reason": WITHDRAWAL_REASONS, "status": ("active", "withdrawn")}

menu("/records", "register.menu.records", LISTERS, 5)
menu("/records/new", "register.menu.new", REGISTRAR, 6)


async def _api(request: web.Request, method: str, path: str, **kw: Any) -> apiclient.Answer:
    return await apiclient.call(request, session_of(request), method, path, purpose=request.get(PURPOSE),
                                case_ref=request.get(CASE_REF), **kw)


def _keep(request: web.Request, default: str | None = None) -> dict[str, str]:
    """The purpose and case reference carried on in links and hidden fields (no personal data)."""
    out = {"purpose": request.get(PURPOSE) or default or ""}
    if request.get(CASE_REF):
        out["case_ref"] = request[CASE_REF]
    return {k: v for k, v in out.items() if v}


def _page(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    keep = values.pop("keep", None)
    keep = _keep(request) if keep is None else keep
    lang = i18n.language(request)

    def href(path: str, **query: str) -> str:
        return path + "?" + urlencode({**{k: v for k, v in query.items() if v}, **keep})

    def options(group: str) -> list[tuple[str, str]]:
        return [(code, i18n.translate(lang, f"register.{group}.{code}")) for code in CHOICES[group]]

    return render(request, template, status=status, keep=keep, href=href, options=options,
                  role=getattr(request.get(PRINCIPAL), "role", None), **values)


def _record_id(request: web.Request) -> str:
    try:
        return str(uuid.UUID(request.match_info["id"]))
    except ValueError:
        raise NotFound("no record with this id") from None


def _said(problem: ApiProblem) -> str:
    """The API's message with its stable code, as shown next to the field."""
    return f"{problem.message} ({problem.code})"


def _refused(problem: ApiProblem) -> bool:
    """A refusal the page shows by the form (validation, conflict, stale version); others become the error page."""
    return problem.status < 500 and problem.status not in (401, 403, 404)


async def _posted(request: web.Request) -> tuple[dict[str, str], dict[str, str]]:
    posted = await request.post()
    raw = {k: v for k, v in posted.items() if isinstance(v, str)}
    return register_form.clean(raw), raw


# --- list --------------------------------------------------------------------------------------------------

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
        answer = (await _api(request, "GET", API, params={**params, "limit": "50"})).body
    except ApiProblem as problem:
        if not _refused(problem):
            raise
        return _page(request, "register/list.html", status=problem.status, items=[], following=None,
                     filters=filters, errors={problem.field or "": _said(problem)})
    following = None
    if answer.get("next_cursor"):
        following = {**filters, "cursor": answer["next_cursor"]}
    return _page(request, "register/list.html", items=answer["items"], following=following, filters=filters,
                 errors={})


# --- create ------------------------------------------------------------------------------------------------

def _form_page(request: web.Request, form: dict[str, str], *, status: int = 200, errors: dict[str, str],
               **values: Any) -> web.Response:
    return _page(request, "register/form.html", status=status, form=form, errors=errors,
                 blocks=lambda group: range(len(register_form.blocks(form, group))), **values)


def _focus(form: dict[str, str], raw: dict[str, str]) -> str | None:
    """The id of the first field of the block just added (register.js focuses it)."""
    group = raw.get("add")
    if group not in register_form.GROUPS:
        return None
    last = len(register_form.blocks(form, group)) - 1
    return f"f-{group}-{last}-{register_form.GROUPS[group][1][0]}"


def _idem(raw: str | None) -> str:
    try:
        return str(uuid.UUID(raw)) if raw else str(uuid.uuid4())
    except ValueError:
        return str(uuid.uuid4())


@policy(*REGISTRAR, page=True)
async def new_form(request: web.Request) -> web.Response:
    keep = {k: request.query[k] for k in ("purpose", "case_ref") if request.query.get(k)}
    return _form_page(request, register_form.renumbered({}), errors={}, idem=str(uuid.uuid4()), mode="new",
                      keep=keep)


@policy(*REGISTRAR, page=True)
async def new_submit(request: web.Request) -> web.Response:
    form, raw = await _posted(request)
    idem = _idem(raw.get("idem"))
    keep = {k: raw[k] for k in ("purpose", "case_ref") if raw.get(k)}
    if raw.get("add") or raw.get("remove"):
        form = register_form.renumbered(form, add=raw.get("add"), remove=raw.get("remove"))
        return _form_page(request, form, errors={}, idem=idem, mode="new", keep=keep, focus=_focus(form, raw))
    body, origin = register_form.body_of(form)
    try:
        created = (await _api(request, "POST", API, json_body=body, headers={"Idempotency-Key": idem})).body
    except ApiProblem as problem:
        if not _refused(problem):
            raise
        return _form_page(request, register_form.renumbered(form), status=problem.status, idem=idem, mode="new",
                          errors={register_form.field_of(problem.field, origin): _said(problem)}, keep=keep)
    query = {"purpose": keep.get("purpose", DEFAULT_PURPOSE), **keep, "saved": "1"}
    return redirect(f"/records/{created['id']}?" + urlencode(query))


# --- view --------------------------------------------------------------------------------------------------

@policy(*VIEWERS, page=True, purpose=True)
async def record_view(request: web.Request) -> web.Response:
    rid = _record_id(request)
    version = request.query.get("version", "")
    role = getattr(request.get(PRINCIPAL), "role", None)
    record = None
    if role in LISTERS:  # auditors see who changed it and who received it, not the person
        params = {"version": version} if version.isdigit() else None
        record = (await _api(request, "GET", f"{API}/{rid}", params=params)).body
    history = (await _api(request, "GET", f"{API}/{rid}/history")).body["versions"]
    deliveries = (await _api(request, "GET", f"{API}/{rid}/deliveries")).body["deliveries"]
    current = history[-1] if history else None
    notice = next((k for k in ("saved", "withdrawn") if request.query.get(k) == "1"), None)
    return _page(request, "register/view.html", rid=rid, record=record, history=history, current=current,
                 deliveries=deliveries, notice=notice, precision=register_form.precision)


# --- edit --------------------------------------------------------------------------------------------------

@policy(*REGISTRAR, page=True, purpose=True)
async def edit_form(request: web.Request) -> web.Response:
    rid = _record_id(request)
    record = (await _api(request, "GET", f"{API}/{rid}")).body
    if record["status"] != "active":  # a withdrawn record cannot change: show it as it is
        return redirect(f"/records/{rid}?" + urlencode(_keep(request)))
    return _form_page(request, register_form.from_record(record), errors={}, mode="edit", rid=rid,
                      version=str(record["version"]))


@policy(*REGISTRAR, page=True, purpose=True)
async def edit_submit(request: web.Request) -> web.Response:
    rid = _record_id(request)
    form, raw = await _posted(request)
    version = raw.get("version", "")
    values = {"mode": "edit", "rid": rid, "version": version}
    if raw.get("add") or raw.get("remove"):
        form = register_form.renumbered(form, add=raw.get("add"), remove=raw.get("remove"))
        return _form_page(request, form, errors={}, focus=_focus(form, raw), **values)
    body, origin = register_form.body_of(form)
    try:
        await _api(request, "PUT", f"{API}/{rid}", json_body=body, headers={"If-Match": f'"{version}"'})
    except ApiProblem as problem:
        if not _refused(problem):
            raise
        stale = problem.status == 412
        field = "" if stale or problem.field == "If-Match" else register_form.field_of(problem.field, origin)
        current = (await _api(request, "GET", f"{API}/{rid}")).body if stale else None
        return _form_page(request, register_form.renumbered(form), status=problem.status, current=current,
                          errors={field: _said(problem)}, **values)
    return redirect(f"/records/{rid}?" + urlencode({**_keep(request), "saved": "1"}))


# --- withdraw ----------------------------------------------------------------------------------------------

async def _withdraw_page(request: web.Request, rid: str, *, chosen: dict[str, str], errors: dict[str, str],
                         status: int = 200, version: str | None = None) -> web.Response:
    record = (await _api(request, "GET", f"{API}/{rid}")).body
    return _page(request, "register/withdraw.html", status=status, rid=rid, record=record, chosen=chosen,
                 errors=errors, version=version or str(record["version"]))


@policy(*REGISTRAR, page=True, purpose=True)
async def withdraw_form(request: web.Request) -> web.Response:
    rid = _record_id(request)
    return await _withdraw_page(request, rid, chosen={}, errors={})


@policy(*REGISTRAR, page=True, purpose=True)
async def withdraw_submit(request: web.Request) -> web.Response:
    rid = _record_id(request)
    _, raw = await _posted(request)
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
        await _api(request, "POST", f"{API}/{rid}/withdraw", json_body=body, headers={"If-Match": f'"{version}"'})
    except ApiProblem as problem:
        if not _refused(problem):
            raise
        field = problem.field if problem.field in ("reason", "note") else ""
        return await _withdraw_page(request, rid, chosen=chosen, status=problem.status, version=version,
                                    errors={field: _said(problem)})
    return redirect(f"/records/{rid}?" + urlencode({**_keep(request), "withdrawn": "1"}))


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
