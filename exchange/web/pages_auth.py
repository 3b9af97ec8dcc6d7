"""Log in (password and TOTP code), log out, the start page, the language switch and the static files."""

from __future__ import annotations

import mimetypes
from importlib import resources

from aiohttp import web

from ..auth import ROLES
from ..errors import ApiError, NotFound
from ..policy import policy
from . import apiclient, i18n
from .render import SAFE_PATH, redirect, render, session_of
from .session import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    check_login_csrf,
    clear_session_cookie,
    login_csrf,
    open_session,
    set_session_cookie,
)

# Where each role starts (the first page of its menu).
START = {"liaison": "/desk", "registrar": "/records", "immigration": "/post", "auditor": "/audit",
         "admin": "/admin/users"}


def _next(raw: str | None) -> str:
    """Only a plain path of this site (no scheme, host, query, backslash): never an open redirect."""
    return raw if raw and SAFE_PATH.fullmatch(raw) else "/"


def _login_form(request: web.Request, *, status: int = 200, notice: str | None = None,
                error: str | None = None, username: str = "") -> web.Response:
    response = web.Response()  # carries the login CSRF cookie over to the rendered page
    token = login_csrf(request, response)
    page = render(request, "login.html", status=status, login_csrf=token, notice=notice, error=error,
                  username=username, next=_next(request.query.get("next")))
    for morsel in response.cookies.values():
        page.cookies[morsel.key] = morsel
    return page


@policy(public=True, page=True)
async def login_page(request: web.Request) -> web.Response:
    try:
        if await open_session(request) is not None:
            return redirect("/")
    except ApiError:
        pass  # an ended session: show the form
    notice = {"expired": "login.expired", "out": "login.logged_out"}.get(request.query.get("notice", ""))
    return _login_form(request, notice=notice)


@policy(public=True, page=True)
async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    check_login_csrf(request, form.get(CSRF_FIELD))
    username = str(form.get("username", ""))[:64]
    answer = await apiclient.call(request, None, "POST", "/api/v1/auth/token", json_body={
        "username": username, "password": str(form.get("password", ""))[:256],
        "totp": str(form.get("totp", ""))[:10]}, accept=(400, 401, 429))
    if answer.status != 200:
        return _login_form(request, status=answer.status, error="login.failed", username=username)
    response = redirect(_next(str(form.get("next", ""))))
    set_session_cookie(request, response, answer.body["token"])
    response.del_cookie(LOGIN_COOKIE, path="/")
    return response


@policy(*ROLES, page=True)
async def logout(request: web.Request) -> web.Response:
    session = session_of(request)
    if session is not None:
        await apiclient.call(request, session, "POST", "/api/v1/auth/logout", accept=(401,))
    response = redirect("/login?notice=out")
    clear_session_cookie(request, response)
    return response


@policy(*ROLES, page=True)
async def home(request: web.Request) -> web.Response:
    session = session_of(request)
    role = session.who.role if session else ""
    start = START.get(role)
    if start is not None and start in {r.canonical for r in request.app.router.resources()}:
        return redirect(start)
    return render(request, "home.html")


@policy(public=True, page=True)
async def switch_language(request: web.Request) -> web.Response:
    lang = request.match_info["lang"]
    if lang not in i18n.LANGUAGES:
        raise NotFound("no such language")
    response = redirect(_next(request.query.get("next")))
    response.set_cookie(i18n.LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="Strict", httponly=True)
    return response


def _static_files() -> dict[str, tuple[bytes, str]]:
    """Every file under static/, read once: a fixed allow-list, so no request path ever reaches the file system."""
    found: dict[str, tuple[bytes, str]] = {}
    root = resources.files("exchange.web") / "static"

    def walk(folder, prefix: str) -> None:
        for entry in folder.iterdir():
            name = prefix + entry.name
            if entry.is_dir():
                walk(entry, name + "/")
            elif entry.is_file():
                kind = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
                if entry.name.endswith(".woff2"):
                    kind = "font/woff2"
                found[name] = (entry.read_bytes(), kind)

    walk(root, "")
    return found


_STATIC: dict[str, tuple[bytes, str]] | None = None


@policy(public=True)
async def static_file(request: web.Request) -> web.Response:
    global _STATIC
    if _STATIC is None:
        _STATIC = _static_files()
    found = _STATIC.get(request.match_info["name"])
    if found is None:
        raise NotFound("no such file")
    body, kind = found
    return web.Response(body=body, content_type=kind, headers={"Cache-Control": "public, max-age=3600"})


PAGES = [
    ("GET", "/", home),
    ("GET", "/login", login_page),
    ("POST", "/login", login_submit),
    ("POST", "/logout", logout),
    ("GET", "/lang/{lang}", switch_language),
    ("GET", "/static/{name:[A-Za-z0-9_./-]+}", static_file),
]
