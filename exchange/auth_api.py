"""``/api/v1/auth``: log in with password and TOTP code, refresh the short-lived token, log out.

Five failures in a row lock the account for 15 minutes. A locked account, an unknown user, a wrong password
and a wrong code all get the same answer (401 ``invalid_credentials``) so the answer tells an attacker nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid

from aiohttp import web

from protocols.validation import ValidationError, clean_text, expect_mapping

from . import audit
from .appkeys import POOL, SETTINGS, TOKEN_KEYS
from .auth import INVALID_CREDENTIALS, ROLES, check_dummy_password, check_password, issue_token, totp_step
from .body import invalid, read_json
from .errors import ErrorCode, TooManyRequests, Unauthorized
from .middleware import actor, principal, request_id
from .policy import policy
from .ratelimit import LIMITS

SESSION_LIFETIME = dt.timedelta(hours=12)


@policy(public=True)
async def login(request: web.Request) -> web.Response:
    body = await read_json(request)
    try:
        obj = expect_mapping(body, "", ("username", "password", "totp"), required=("username", "password", "totp"))
        username = clean_text(obj["username"], "username", 64).lower()
        password = clean_text(obj["password"], "password", 256)
        code = clean_text(obj["totp"], "totp", 10)
    except ValidationError as err:
        raise invalid(err) from None
    app = request.app
    settings = app[SETTINGS]
    # before any password hashing (ratelimit.py)
    wait = (await app[LIMITS].logins.take(app[POOL], (username, request.remote))).wait
    if wait:
        await audit.write_alone(app[POOL], audit.Actor(username=username, request_id=request_id(request)),
                                audit.Entry("auth.login", "rate_limited", detail={"reason": "rate_limited"}))
        raise TooManyRequests("too many login attempts; wait and try again", headers={"Retry-After": str(wait)})
    now = dt.datetime.now(dt.UTC)
    async with app[POOL].acquire() as conn, conn.transaction():
        user = await conn.fetchrow("SELECT * FROM users WHERE username = $1 FOR UPDATE", username)
        who = audit.Actor(user["id"] if user else None, username, user["role"] if user else None,
                          user["border_point"] if user else None, request_id(request))
        if user is None:
            check_dummy_password(password)
            await audit.write(conn, who, audit.Entry("auth.login", "denied", detail={"reason": "unknown_user"}))
            failed = True
        else:
            locked = user["locked_until"] is not None and user["locked_until"] > now
            password_ok = check_password(user["password_hash"], password)
            step = totp_step(user["totp_secret"], code, now, user["last_totp_step"]) if password_ok else None
            failed = locked or user["disabled"] or step is None
            if failed:
                reason = ("locked" if locked else "disabled" if user["disabled"]
                          else "bad_password" if not password_ok else "bad_totp")
                failures = 0 if locked else user["failed_logins"] + 1
                locks_now = failures >= settings.lockout_failures
                lock_until = now + dt.timedelta(seconds=settings.lockout_seconds) if locks_now else user["locked_until"]
                await conn.execute(
                    "UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1",
                    user["id"], 0 if locks_now else failures, lock_until)
                outcome = "locked" if locks_now else "denied"
                await audit.write(conn, who, audit.Entry("auth.login", outcome, detail={"reason": reason}))
            else:
                sid = uuid.uuid4()
                await conn.execute(
                    "UPDATE users SET failed_logins = 0, locked_until = NULL, last_totp_step = $2 WHERE id = $1",
                    user["id"], step)
                await conn.execute("INSERT INTO sessions (jti, user_id, expires_at) VALUES ($1, $2, $3)",
                                   sid, user["id"], now + SESSION_LIFETIME)
                await audit.write(conn, who, audit.Entry("auth.login", "ok"))
    if failed:
        raise Unauthorized(f"{INVALID_CREDENTIALS} (accounts lock for {settings.lockout_seconds // 60} minutes after "
                           f"{settings.lockout_failures} failures)",
                           code=ErrorCode.INVALID_CREDENTIALS)
    token, ttl = issue_token(app[TOKEN_KEYS], settings, user["id"], sid, now)
    return web.json_response({"token": token, "token_type": "Bearer", "expires_in": ttl, "role": user["role"],
                              "border_point": user["border_point"]})


@policy(*ROLES)
async def refresh(request: web.Request) -> web.Response:
    """A fresh token for the same session (the session's idle timeout and revocation still apply)."""
    who = principal(request)
    token, ttl = issue_token(request.app[TOKEN_KEYS], request.app[SETTINGS], who.user_id, who.session_id,
                             dt.datetime.now(dt.UTC))
    return web.json_response({"token": token, "token_type": "Bearer", "expires_in": ttl, "role": who.role,
                              "border_point": who.border_point})


@policy(*ROLES)
async def logout(request: web.Request) -> web.Response:
    who = principal(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await conn.execute("UPDATE sessions SET revoked_at = now() WHERE jti = $1", who.session_id)
        await audit.write(conn, actor(request), audit.Entry("auth.logout"))
    return web.json_response({"ok": True})


@policy(*ROLES)
async def me(request: web.Request) -> web.Response:
    who = principal(request)
    return web.json_response({"username": who.username, "role": who.role, "border_point": who.border_point})
