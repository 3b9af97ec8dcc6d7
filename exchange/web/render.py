"""Rendering pages: one Jinja2 environment (autoescaped, strict undefined), the layout's context (officer, menu,
language, CSRF token), the page headers (a strict Content-Security-Policy: scripts, styles and fonts from this
service only, nothing inline; ``Cache-Control: no-store``), and the error page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jinja2
from aiohttp import web

from .. import policy as policy_mod
from ..appkeys import PRINCIPAL, REQUEST_ID
from ..errors import ApiError
from . import i18n
from .session import CSRF_FIELD, WebSession, csrf_token

# a path of this site: no "//", no backslash, no scheme or host (and no nested quantifier to backtrack on)
SAFE_PATH = re.compile(r"/(?:[A-Za-z0-9_.~-]+(?:/[A-Za-z0-9_.~-]+)*/?)?")
WEB_SESSION = web.RequestKey("web_session", WebSession)

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("exchange.web", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)
ENV.filters["purpose_option"] = lambda purpose, _: (purpose, _("purpose." + purpose))


@dataclass(frozen=True)
class MenuItem:
    path: str
    label: str  # a message key
    roles: frozenset[str]
    order: int


_MENU: list[MenuItem] = []


def menu(path: str, label: str, roles: tuple[str, ...], order: int = 50) -> None:
    """Put a page in the menu of the roles that may open it (page modules call this at import)."""
    if any(item.path == path for item in _MENU):
        return
    _MENU.append(MenuItem(path, label, frozenset(roles), order))
    _MENU.sort(key=lambda item: (item.order, item.path))


def menu_for(role: str | None) -> list[MenuItem]:
    return [item for item in _MENU if role in item.roles]


def current_menu(items: list[MenuItem], path: str) -> str | None:
    """The menu entry of this page: the exact path, else the longest entry the path lies under."""
    under = [item.path for item in items if path == item.path or path.startswith(item.path.rstrip("/") + "/")]
    return max(under, key=len) if under else None


def session_of(request: web.Request) -> WebSession | None:
    found = request.get(WEB_SESSION)
    return found if isinstance(found, WebSession) else None


def context(request: web.Request, **values: Any) -> dict[str, Any]:
    lang = i18n.language(request)
    session = session_of(request)
    who = request.get(PRINCIPAL)

    def _(key: str, **kw: object) -> str:
        return i18n.translate(lang, key, **kw)

    items = menu_for(getattr(who, "role", None))
    return {
        "_": _, "lang": lang, "who": who, "menu": items, "current_menu": current_menu(items, request.path),
        "csrf_field": CSRF_FIELD, "csrf": csrf_token(request, session) if session else "",
        "path": request.path, "purposes": policy_mod.PURPOSES, "request_id": request.get(REQUEST_ID, "-"),
        **values,
    }


def render(request: web.Request, template: str, *, status: int = 200, **values: Any) -> web.Response:
    html = ENV.get_template(template).render(context(request, **values))
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers.update(PAGE_HEADERS)
    return response


def redirect(location: str, status: int = 303) -> web.Response:
    """A redirect to one of our own paths (never a user-supplied absolute URL)."""
    path = location.split("?", 1)[0]
    if not SAFE_PATH.fullmatch(path):
        location = "/"
    response = web.Response(status=status, headers={"Location": location})
    response.headers.update(PAGE_HEADERS)
    return response


def error_page(request: web.Request, err: ApiError) -> web.Response:
    response = render(request, "error.html", status=err.status, error=err)
    for key, value in err.headers.items():
        response.headers.setdefault(key, value)
    return response
