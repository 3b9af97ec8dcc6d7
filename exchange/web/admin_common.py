"""What the administrator's pages share: the role, the API call as the page's officer, the posted form, and the
API's refusal turned into an error shown next to the form's field."""

from __future__ import annotations

from aiohttp import web

from .apiclient import as_officer, problem_errors

ADMIN = ("admin",)

__all__ = ["ADMIN", "api", "form_of", "problem_errors"]

api = as_officer
"""Call the admin API as this page's officer (the admin pages ask no purpose: these APIs read no personal data)."""


async def form_of(request: web.Request, fields: tuple[str, ...]) -> dict[str, str]:
    """The posted values of ``fields`` (stripped strings; a missing one is empty)."""
    posted = await request.post()
    return {k: str(posted.get(k, "")).strip() for k in fields}

