"""The record form pages: create (``/records/new``) and correct (``/records/{id}/edit``).

"Add another ..." and "Remove ..." re-render the form with every value kept; "Save" sends the body that
``register_form.body_of`` builds. Create carries a random Idempotency-Key (a hidden field kept across re-renders),
so a double submit stores one record; a correction carries the version it replaces and saves with If-Match, so a
stale edit gets the API's 412, shown with a link to the current version and everything typed kept.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ..policy import policy
from . import register_form
from .apiclient import ApiProblem
from .register_page import API, DEFAULT_PURPOSE, REGISTRAR, api, keep, page, posted, record_id, refused, said
from .render import redirect


def _form_page(request: web.Request, form: dict[str, str], *, status: int = 200, errors: dict[str, str],
               **values: Any) -> web.Response:
    return page(request, "register/form.html", status=status, form=form, errors=errors,
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
    carried = {k: request.query[k] for k in ("purpose", "case_ref") if request.query.get(k)}
    return _form_page(request, register_form.renumbered({}), errors={}, idem=str(uuid.uuid4()), mode="new",
                      keep=carried)


@policy(*REGISTRAR, page=True)
async def new_submit(request: web.Request) -> web.Response:
    form, raw = await posted(request)
    idem = _idem(raw.get("idem"))
    carried = {k: raw[k] for k in ("purpose", "case_ref") if raw.get(k)}
    if raw.get("add") or raw.get("remove"):
        form = register_form.renumbered(form, add=raw.get("add"), remove=raw.get("remove"))
        return _form_page(request, form, errors={}, idem=idem, mode="new", keep=carried,
                          focus=_focus(form, raw))
    body, origin = register_form.body_of(form)
    try:
        created = (await api(request, "POST", API, json_body=body, headers={"Idempotency-Key": idem})).body
    except ApiProblem as problem:
        if not refused(problem):
            raise
        return _form_page(request, register_form.renumbered(form), status=problem.status, idem=idem, mode="new",
                          errors={register_form.field_of(problem.field, origin): said(problem)}, keep=carried)
    query = {"purpose": carried.get("purpose", DEFAULT_PURPOSE), **carried, "saved": "1"}
    return redirect(f"/records/{created['id']}?" + urlencode(query))


@policy(*REGISTRAR, page=True, purpose=True)
async def edit_form(request: web.Request) -> web.Response:
    rid = record_id(request)
    record = (await api(request, "GET", f"{API}/{rid}")).body
    if record["status"] != "active":  # a withdrawn record cannot change: show it as it is
        return redirect(f"/records/{rid}?" + urlencode(keep(request)))
    return _form_page(request, register_form.from_record(record), errors={}, mode="edit", rid=rid,
                      version=str(record["version"]))


@policy(*REGISTRAR, page=True, purpose=True)
async def edit_submit(request: web.Request) -> web.Response:
    rid = record_id(request)
    form, raw = await posted(request)
    version = raw.get("version", "")
    values = {"mode": "edit", "rid": rid, "version": version}
    if raw.get("add") or raw.get("remove"):
        form = register_form.renumbered(form, add=raw.get("add"), remove=raw.get("remove"))
        return _form_page(request, form, errors={}, focus=_focus(form, raw), **values)
    body, origin = register_form.body_of(form)
    try:
        await api(request, "PUT", f"{API}/{rid}", json_body=body, headers={"If-Match": f'"{version}"'})
    except ApiProblem as problem:
        if not refused(problem):
            raise
        stale = problem.status == 412
        field = "" if stale or problem.field == "If-Match" else register_form.field_of(problem.field, origin)
        current = (await api(request, "GET", f"{API}/{rid}")).body if stale else None
        return _form_page(request, register_form.renumbered(form), status=problem.status, current=current,
                          errors={field: said(problem)}, **values)
    return redirect(f"/records/{rid}?" + urlencode({**keep(request), "saved": "1"}))
