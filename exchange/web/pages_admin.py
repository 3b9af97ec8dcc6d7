"""The administrator's pages: officer accounts (list, create, disable/enable, reset MFA); the border points and
the partner nodes live in ``admin_points.py`` and ``admin_partners.py``; ``PAGES`` lists all of them.

Every page is a form over the admin APIs (``/api/v1/users``, ``/api/v1/border-points``, ``/api/v1/partners``),
which check the role and write the audit rows. The admin never sees personal data of the register here.

A new account's one-time password and its TOTP enrolment (the ``otpauth://`` URI as text and as a QR code drawn
on the server by ``segno``, an SVG in a ``data:`` image) are in the answer to the POST that created the account,
and likewise the new enrolment after an MFA reset: the page is not cached (``no-store``), nothing of it is kept,
and no later page can show it again.
"""

from __future__ import annotations

from typing import Any

import segno
from aiohttp import web

from ..auth import ROLES
from ..errors import NotFound
from ..policy import policy
from . import admin_partners, admin_points, admin_text, i18n  # noqa: F401 (admin_text registers the labels)
from .admin_common import ADMIN, api, form_of, problem_errors
from .apiclient import ApiProblem
from .render import menu, redirect, render

USER_FIELDS = ("username", "role", "border_point")

menu("/admin/users", "admin.menu.users", ADMIN, 10)


def enrolment_qr(uri: str) -> str:
    """The otpauth URI as a QR code: an SVG ``data:`` URI (drawn here, nothing fetched), for an ``<img>``."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


async def _users(request: web.Request) -> list[dict[str, Any]]:
    return list((await api(request, "GET", "/api/v1/users")).body["items"])


async def _active_points(request: web.Request) -> list[tuple[str, str]]:
    items = (await api(request, "GET", "/api/v1/border-points")).body["items"]
    return [(p["code"], f"{p['code']} · {p['name']}") for p in items if p["active"]]


@policy(*ADMIN, page=True)
async def users(request: web.Request) -> web.Response:
    return render(request, "admin/users.html", users=await _users(request))


async def _new_form(request: web.Request, values: dict[str, str], errors: dict[str, str],
                    status: int = 200) -> web.Response:
    return render(request, "admin/user_new.html", status=status, values=values, errors=errors,
                  roles=[(r, i18n.translate(i18n.language(request), "role." + r)) for r in ROLES],
                  points=await _active_points(request))


@policy(*ADMIN, page=True)
async def new_user(request: web.Request) -> web.Response:
    if request.method == "GET":
        return await _new_form(request, {}, {})
    values = await form_of(request, USER_FIELDS)
    body = {k: v for k, v in values.items() if v}
    try:
        made = (await api(request, "POST", "/api/v1/users", json_body=body)).body
    except ApiProblem as problem:
        return await _new_form(request, values, problem_errors(problem, USER_FIELDS), problem.status)
    return render(request, "admin/enrolment.html", username=made["username"], user_id=made["id"],
                  password=made["password"], totp_uri=made["totp_uri"], qr=enrolment_qr(made["totp_uri"]),
                  reset=False)


def _user_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise NotFound("no such user")
    return int(raw)


@policy(*ADMIN, page=True)
async def user(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    found = next((u for u in await _users(request) if u["id"] == user_id), None)
    if found is None:
        raise NotFound("no such user")
    return render(request, "admin/user.html", user=found, done=request.query.get("done", ""))


@policy(*ADMIN, page=True)
async def user_action(request: web.Request) -> web.StreamResponse:
    user_id = _user_id(request)
    action = request.match_info["action"]
    if action in ("disable", "enable"):
        await api(request, "POST", f"/api/v1/users/{user_id}/{action}")
        return redirect(f"/admin/users/{user_id}?done={action}d")
    answer = (await api(request, "POST", f"/api/v1/users/{user_id}/reset-mfa")).body
    return render(request, "admin/enrolment.html", username=answer["username"], user_id=user_id, password=None,
                  totp_uri=answer["totp_uri"], qr=enrolment_qr(answer["totp_uri"]), reset=True)


PAGES = [
    ("GET", "/admin/users", users),
    ("GET", "/admin/users/new", new_user),
    ("POST", "/admin/users/new", new_user),
    ("GET", "/admin/users/{id}", user),
    ("POST", "/admin/users/{id}/{action:disable|enable|reset-mfa}", user_action),
    *admin_points.PAGES,
    *admin_partners.PAGES,
]
