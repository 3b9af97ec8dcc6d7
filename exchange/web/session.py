"""The web session: the officer's token in an HttpOnly, SameSite=Strict cookie, and CSRF tokens for forms.

The cookie holds the same EdDSA token the API issues at login, bound to a row of ``sessions``. Its lifetime is
the session's, not the token's: ``principal_for`` refuses a revoked session, a disabled user, 30 idle minutes
and the 12-hour cap on every page. The token inside is re-issued (same session) once it is past half its
lifetime, so the pages always hold a token the API accepts for their own calls (``apiclient``).

CSRF: every form carries ``csrf``, an HMAC of the session id under a key derived from the node's token-signing
key (so every worker process agrees and a token is useless for another session). The login form, which has no
session yet, uses a double-submit cookie. SameSite=Strict is a second wall, not the only one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from aiohttp import web
from cryptography.hazmat.primitives import serialization

from ..appkeys import POOL, SETTINGS, TOKEN_KEYS
from ..auth import Principal, decode_token, issue_token, principal_for
from ..errors import ErrorCode, Forbidden

COOKIE = "exchange_session"
LOGIN_COOKIE = "exchange_login"
CSRF_FIELD = "csrf"


@dataclass
class WebSession:
    who: Principal
    token: str  # a token valid now, for the pages' own API calls
    renewed: bool  # the token was re-issued: the response sets the cookie again


def _cookie_options(request: web.Request) -> dict:
    return {"httponly": True, "samesite": "Strict", "path": "/", "secure": request.app[SETTINGS].cookie_secure}


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(COOKIE, token, **_cookie_options(request))


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/", secure=request.app[SETTINGS].cookie_secure, httponly=True,
                        samesite="Strict")


async def open_session(request: web.Request) -> WebSession | None:
    """The session of the cookie; None without a cookie; ``Unauthorized`` for a bad or ended one."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    app = request.app
    settings = app[SETTINGS]
    claims = decode_token(app[TOKEN_KEYS], settings, raw[:4096], verify_exp=False)
    now = dt.datetime.now(dt.UTC)
    async with app[POOL].acquire() as conn:
        who = await principal_for(conn, settings, claims, now)
    token, renewed = raw, False
    if int(claims["exp"]) - now.timestamp() < settings.token_ttl / 2:
        token, _ = issue_token(app[TOKEN_KEYS], settings, who.user_id, who.session_id, now)
        renewed = True
    return WebSession(who, token, renewed)


def _csrf_key(request: web.Request) -> bytes:
    raw = request.app[TOKEN_KEYS].current.private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return hashlib.blake2b(raw, person=b"exchange-csrf", digest_size=32).digest()


def csrf_token(request: web.Request, session: WebSession) -> str:
    return hmac.new(_csrf_key(request), session.who.session_id.bytes, hashlib.sha256).hexdigest()


def check_csrf(request: web.Request, session: WebSession, sent: object) -> None:
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request, session)):
        raise Forbidden("the form has expired or did not come from this site; reload the page and try again",
                        code=ErrorCode.CSRF_FAILED, field=CSRF_FIELD)


def login_csrf(request: web.Request, response: web.StreamResponse) -> str:
    """A fresh double-submit token for the login form (cookie + hidden field)."""
    token = secrets.token_urlsafe(24)
    response.set_cookie(LOGIN_COOKIE, token, max_age=1800, **_cookie_options(request))
    return token


def check_login_csrf(request: web.Request, sent: object) -> None:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not isinstance(sent, str) or not hmac.compare_digest(sent, cookie):
        raise Forbidden("the login form has expired; reload the page and try again",
                        code=ErrorCode.CSRF_FAILED, field=CSRF_FIELD)
