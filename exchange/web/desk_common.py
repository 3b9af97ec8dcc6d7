"""What the liaison desk's pages share: the API call as the page's officer with the chosen purpose, links that
carry the purpose and case reference on (never personal data), rendering with the desk's select options, and
the confirm/reject form handling of alerts and review items.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from protocols.person import DOCUMENT_KINDS, SEXES

from . import apiclient, i18n
from .desk_compare import FORM_FIELDS, lines
from .render import redirect, render

DECISIONS = ("confirm", "reject")


api = apiclient.as_officer  # our JSON API as the page's officer, with the purpose and case reference given
keep = apiclient.purpose_args  # the purpose and case reference, carried on to the next page's links


def options(request: web.Request, group: str, codes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(code, label) pairs for a select, in the officer's language."""
    lang = i18n.language(request)
    return [(code, i18n.translate(lang, f"desk.{group}.{code}")) for code in codes]


def page(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    """Render a desk page; ``href(path, **ids)`` builds links that carry the purpose and case reference on."""
    kept = values.pop("keep", None) or keep(request)

    def href(path: str, **ids: str) -> str:
        return path + "?" + urlencode({**ids, **{k: v for k, v in kept.items() if v}})

    return render(request, template, status=status, keep=kept, href=href, name_of=name_of, person_fields=FORM_FIELDS,
                  sexes=options(request, "sex", SEXES), doc_kinds=options(request, "doc", DOCUMENT_KINDS), **values)


def name_of(person: dict[str, Any] | None) -> str:
    """A person's first name line for a list ("—" without one)."""
    found = lines(person, "names")
    return found[0] if found else "—"


def as_uuid(raw: str | None) -> str | None:
    try:
        return str(uuid.UUID(raw)) if raw else None
    except ValueError:
        return None


Again = Callable[..., Awaitable[web.Response]]


async def decide(request: web.Request, api_path: str, again: Again, back: str) -> web.Response:
    """POST the form's decision (``decision`` and ``<decision>_reason``) to ``api_path``.

    Done: back to ``back`` (with the purpose and ``decided=1``). Refused: the
    page again (``again(request, errors=, chosen=, status=)``) with the API's message next to the reason it names, or
    above the forms for a wrong decision or a conflict (decided meanwhile)."""
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    decision = form.get("decision", "")
    reason = form.get(f"{decision}_reason", "") if decision in DECISIONS else ""
    try:
        await api(request, "POST", api_path, json_body={"decision": decision, "reason_code": reason})
    except apiclient.ApiProblem as problem:
        if problem.status >= 500 or problem.status in (401, 403, 404):
            raise
        field = f"{decision}_reason" if problem.field == "reason_code" and decision in DECISIONS else ""
        return await again(request, errors={field: problem.message}, chosen=form, status=problem.status)
    return redirect(back + "?" + urlencode({**keep(request), "decided": "1"}))
