"""The administrator's partner-node pages: the partners with their state and a form to register one
(``POST /api/v1/partners``: country, base URL, the public keys it printed with ``exchange keys show``); one
partner's sharing policy (``PATCH /api/v1/partners/{country}``), its trusted keys with a revoke button each
(``POST .../keys/revoke``) and a form to pin one more key (``POST .../keys``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from protocols.record import OFFENCE_CATEGORIES

from ..federation.partners import RECEIVES
from ..policy import policy
from . import i18n
from .admin_common import ADMIN, api, form_of, problem_errors
from .apiclient import ApiProblem
from .render import menu, redirect, render

ADD_FIELDS = ("country", "url", "signing_key", "box_key", "key_id", "receives", "legal_basis")
POLICY_FIELDS = ("receives", "legal_basis", "active", "categories")
KEY_FIELDS = ("signing_key", "box_key", "key_id")
COUNTRY = r"{country:[A-Z][A-Z]}"

menu("/admin/partners", "admin.menu.partners", ADMIN, 20)


def _choices(request: web.Request) -> dict[str, Any]:
    lang = i18n.language(request)
    return {"receives": [(r, f"{r}: {i18n.translate(lang, 'admin.receives.' + r)}") for r in RECEIVES],
            "categories": OFFENCE_CATEGORIES}


async def _list(request: web.Request, values: dict[str, str], errors: dict[str, str],
                status: int = 200) -> web.Response:
    partners = (await api(request, "GET", "/api/v1/partners")).body["partners"]
    return render(request, "admin/partners.html", status=status, partners=partners, values=values,
                  errors=errors, **_choices(request))


@policy(*ADMIN, page=True)
async def partners(request: web.Request) -> web.Response:
    if request.method == "GET":
        return await _list(request, {"receives": "hits", "legal_basis": "bilateral agreement"}, {})
    values = await form_of(request, ADD_FIELDS)
    values["country"] = values["country"].upper()
    body = {k: v for k, v in values.items() if v}
    try:
        await api(request, "POST", "/api/v1/partners", json_body=body)
    except ApiProblem as problem:
        return await _list(request, values, problem_errors(problem, ADD_FIELDS), problem.status)
    return redirect(f"/admin/partners/{values['country']}?done=added")


async def _detail(request: web.Request, country: str, *, status: int = 200, policy_values: dict[str, Any] | None = None,
                  key_values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                  done: str = "") -> web.Response:
    partner = (await api(request, "GET", f"/api/v1/partners/{country}")).body
    if policy_values is None:
        policy_values = {"receives": partner["receives"], "legal_basis": partner["legal_basis"],
                         "active": "on" if partner["active"] else "", "categories": partner["categories"] or []}
    return render(request, "admin/partner.html", status=status, partner=partner, policy=policy_values,
                  key_values=key_values or {}, errors=errors or {}, done=done, **_choices(request))


@policy(*ADMIN, page=True)
async def partner(request: web.Request) -> web.Response:
    done = request.query.get("done", "")
    return await _detail(request, request.match_info["country"], done=done if done.isalpha() else "")


async def _change(request: web.Request, country: str, method: str, sub: str, body: dict[str, Any],
                  fields: tuple[str, ...], **kept: Any) -> web.Response:
    """Send one change of the partner to the API; back to its page when done, or the page again with the
    refusal by the form's field (``kept``: what the officer typed, shown again)."""
    try:
        await api(request, method, f"/api/v1/partners/{country}{sub}", json_body=body)
    except ApiProblem as problem:
        return await _detail(request, country, status=problem.status, errors=problem_errors(problem, fields), **kept)
    return redirect(f"/admin/partners/{country}?done=saved")


@policy(*ADMIN, page=True)
async def partner_policy(request: web.Request) -> web.Response:
    country = request.match_info["country"]
    values: dict[str, Any] = await form_of(request, ("receives", "legal_basis", "active"))
    values["categories"] = [str(c) for c in (await request.post()).getall("categories", [])]
    body = {"receives": values["receives"], "legal_basis": values["legal_basis"], "active": values["active"] == "on",
            "categories": values["categories"] or None}
    return await _change(request, country, "PATCH", "", body, POLICY_FIELDS, policy_values=values)


@policy(*ADMIN, page=True)
async def partner_key(request: web.Request) -> web.Response:
    country = request.match_info["country"]
    values = await form_of(request, KEY_FIELDS)
    return await _change(request, country, "POST", "/keys", values, KEY_FIELDS, key_values=values)


@policy(*ADMIN, page=True)
async def partner_revoke(request: web.Request) -> web.Response:
    country = request.match_info["country"]
    kid = (await form_of(request, ("kid",)))["kid"]
    return await _change(request, country, "POST", "/keys/revoke", {"kid": kid}, ("kid",))


PAGES = [
    ("GET", "/admin/partners", partners),
    ("POST", "/admin/partners", partners),
    ("GET", f"/admin/partners/{COUNTRY}", partner),
    ("POST", f"/admin/partners/{COUNTRY}/policy", partner_policy),
    ("POST", f"/admin/partners/{COUNTRY}/keys", partner_key),
    ("POST", f"/admin/partners/{COUNTRY}/revoke", partner_revoke),
]
