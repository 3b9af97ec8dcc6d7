"""What the administrator's pages share: the role, the API call as the page's officer, the posted form, and the
API's refusal turned into an error shown next to the form's field."""

from __future__ import annotations

from aiohttp import web

from .apiclient import ApiProblem, as_officer

ADMIN = ("admin",)

api = as_officer
"""Call the admin API as this page's officer (the admin pages ask no purpose: these APIs read no personal data)."""


async def form_of(request: web.Request, fields: tuple[str, ...]) -> dict[str, str]:
    """The posted values of ``fields`` (stripped strings; a missing one is empty)."""
    posted = await request.post()
    return {k: str(posted.get(k, "")).strip() for k in fields}


def problem_errors(problem: ApiProblem, fields: tuple[str, ...]) -> dict[str, str]:
    """``{form field: "message (code)"}`` for a refusal of the API; a 5xx or an auth failure is re-raised (the
    error page). An API field like ``categories[0]`` shows by the form field ``categories``; one the form does
    not have shows above the form."""
    if problem.status >= 500 or problem.status in (401, 403):
        raise problem
    field = (problem.field or "").split("[", 1)[0]
    return {field if field in fields else "": f"{problem.message} ({problem.code})"}
