"""The administrator's border-point pages: the list with an add form (``POST /api/v1/border-points``) and one
point's edit form (``PATCH /api/v1/border-points/{code}``). A point is never deleted, only made inactive."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..border.points import CROSSING_TYPES
from ..errors import NotFound
from ..policy import policy
from .admin_common import ADMIN, api, form_of, problem_errors
from .apiclient import ApiProblem
from .render import menu, redirect, render

FIELDS = ("code", "name", "province", "neighbour", "crossing_type", "active")

menu("/admin/points", "admin.menu.points", ADMIN, 30)


def _crossings(_: Any = None) -> list[tuple[str, str]]:
    return [(c, c) for c in CROSSING_TYPES]


async def _points(request: web.Request) -> list[dict[str, Any]]:
    return list((await api(request, "GET", "/api/v1/border-points")).body["items"])


def _body(values: dict[str, str], *, creating: bool) -> dict[str, Any]:
    body: dict[str, Any] = {k: values[k] for k in FIELDS[:5] if values.get(k)}
    if not creating:
        body.pop("code", None)
    body["active"] = values.get("active") == "on"
    if "neighbour" in body:
        body["neighbour"] = body["neighbour"].upper()
    return body


@policy(*ADMIN, page=True)
async def points(request: web.Request) -> web.Response:
    if request.method == "GET":
        return render(request, "admin/points.html", points=await _points(request), values={"active": "on"},
                      errors={}, crossings=_crossings())
    values = await form_of(request, FIELDS)
    try:
        await api(request, "POST", "/api/v1/border-points", json_body=_body(values, creating=True))
    except ApiProblem as problem:
        return render(request, "admin/points.html", status=problem.status, points=await _points(request),
                      values=values, errors=problem_errors(problem, FIELDS), crossings=_crossings())
    return redirect(f"/admin/points/{values['code']}?done=saved")


@policy(*ADMIN, page=True)
async def point(request: web.Request) -> web.Response:
    code = request.match_info["id"]  # a code; anything else is no point
    found = next((p for p in await _points(request) if p["code"] == code), None)
    if found is None:
        raise NotFound("no such border point")
    if request.method == "GET":
        values = {k: str(found[k]) for k in FIELDS[:5]} | {"active": "on" if found["active"] else ""}
        return render(request, "admin/point.html", code=code, values=values, errors={}, crossings=_crossings(),
                      done=request.query.get("done") == "saved")
    values = await form_of(request, FIELDS) | {"code": code}
    try:
        await api(request, "PATCH", f"/api/v1/border-points/{code}", json_body=_body(values, creating=False))
    except ApiProblem as problem:
        return render(request, "admin/point.html", status=problem.status, code=code, values=values,
                      errors=problem_errors(problem, FIELDS), crossings=_crossings(), done=False)
    return redirect(f"/admin/points/{code}?done=saved")


PAGES = [
    ("GET", "/admin/points", points),
    ("POST", "/admin/points", points),
    ("GET", "/admin/points/{id}", point),
    ("POST", "/admin/points/{id}", point),
]
