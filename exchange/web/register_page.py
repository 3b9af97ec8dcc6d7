"""What the register pages share: the roles, the API path, the labelled choices of the form's selects, the API
call as the page's officer, rendering with links that carry the purpose and case reference (never personal data),
and how an API refusal is shown (its message with its code)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from protocols.person import DOCUMENT_KINDS, NAME_KINDS, SCRIPTS, SEXES
from protocols.record import OFFENCE_CATEGORIES

from ..appkeys import PRINCIPAL
from ..errors import NotFound
from ..registry.api import WITHDRAWAL_REASONS
from . import apiclient, i18n, register_form
from .apiclient import ApiProblem
from .render import render

REGISTRAR = ("registrar",)
LISTERS = ("registrar", "liaison")
VIEWERS = ("registrar", "liaison", "auditor")
API = "/api/v1/records"
DEFAULT_PURPOSE = "data_quality"  # a registrar's own read-back after a change, when no purpose was chosen
CHOICES = {"sex": SEXES, "script": SCRIPTS, "name_kind": NAME_KINDS, "doc_kind": DOCUMENT_KINDS,
           "offence": OFFENCE_CATEGORIES, "sharing_mode": register_form.SHARING_MODES,
           "reason": WITHDRAWAL_REASONS, "status": ("active", "withdrawn")}


api = apiclient.as_officer  # the register API as the page's officer, with the purpose the guard set
keep = apiclient.purpose_args  # the purpose and case reference carried on in links and hidden fields


def page(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    """Render a register page with ``href`` (links that carry the purpose on) and ``options`` (labelled choices)."""
    kept = values.pop("keep", None)
    kept = keep(request) if kept is None else kept
    lang = i18n.language(request)

    def href(path: str, **query: str) -> str:
        return path + "?" + urlencode({**{k: v for k, v in query.items() if v}, **kept})

    def options(group: str) -> list[tuple[str, str]]:
        return [(code, i18n.translate(lang, f"register.{group}.{code}")) for code in CHOICES[group]]

    return render(request, template, status=status, keep=kept, href=href, options=options,
                  role=getattr(request.get(PRINCIPAL), "role", None), **values)


def record_id(request: web.Request) -> str:
    try:
        return str(uuid.UUID(request.match_info["id"]))
    except ValueError:
        raise NotFound("no record with this id") from None


def said(problem: ApiProblem) -> str:
    """The API's message with its stable code, as shown next to the field."""
    return f"{problem.message} ({problem.code})"


def refused(problem: ApiProblem) -> bool:
    """A refusal the page shows by the form (validation, conflict, stale version); others become the error page."""
    return problem.status < 500 and problem.status not in (401, 403, 404)


async def posted(request: web.Request) -> tuple[dict[str, str], dict[str, str]]:
    """The record form's own fields, and every string field posted (buttons, hidden fields)."""
    data = await request.post()
    raw = {k: v for k, v in data.items() if isinstance(v, str)}
    return register_form.clean(raw), raw
