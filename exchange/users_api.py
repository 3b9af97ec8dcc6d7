"""``/api/v1/users``: the admin's management of officer accounts (list, create, disable, enable).

Creating an account answers with its generated password and TOTP URI once; they are never shown again.
"""

from __future__ import annotations

from aiohttp import web

from protocols.validation import ValidationError, clean_enum, clean_text, expect_mapping

from .appkeys import POOL, SETTINGS
from .auth import ROLES
from .body import invalid, read_json
from .errors import Conflict, NotFound
from .middleware import actor
from .policy import policy
from .users import create_user, set_disabled

USER_FIELDS = ("username", "role", "border_point")
# Refusals of a well-formed account that the current state causes (a taken username, a border point that is
# not active): 409, like any other conflict with the state, not 400.
STATE_CONFLICTS = ("already_exists", "unknown_border_point")


@policy("admin")
async def list_users(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await conn.fetch(
            """SELECT id, username, role, border_point, disabled, locked_until, created_at
               FROM users ORDER BY id LIMIT 1000""")
    return web.json_response({"items": [
        {**dict(r), "locked_until": r["locked_until"].isoformat() if r["locked_until"] else None,
         "created_at": r["created_at"].isoformat()} for r in rows]})


@policy("admin")
async def add_user(request: web.Request) -> web.Response:
    body = await read_json(request)
    try:
        obj = expect_mapping(body, "", USER_FIELDS, required=("username", "role"))
        username = clean_text(obj["username"], "username", 64)
        role = clean_enum(obj["role"], "role", ROLES)
        border_point = clean_text(obj["border_point"], "border_point", 32) if obj.get("border_point") else None
        async with request.app[POOL].acquire() as conn, conn.transaction():
            new = await create_user(conn, actor(request), username=username, role=role, border_point=border_point,
                                    password=None, issuer=request.app[SETTINGS].issuer)
    except ValidationError as err:
        if err.code in STATE_CONFLICTS:  # well-formed, but the register's state refuses it
            raise Conflict(err.message, code=err.code, field=err.field) from None
        raise invalid(err) from None
    return web.json_response({"id": new.id, "username": new.username, "password": new.password,
                              "totp_uri": new.totp_uri}, status=201)


def _user_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise NotFound("no such user")
    return int(raw)


async def _set(request: web.Request, disabled: bool) -> web.Response:
    user_id = _user_id(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if not await set_disabled(conn, actor(request), user_id, disabled):
            raise NotFound("no such user")
    return web.json_response({"id": user_id, "disabled": disabled})


@policy("admin")
async def disable_user(request: web.Request) -> web.Response:
    return await _set(request, True)


@policy("admin")
async def enable_user(request: web.Request) -> web.Response:
    return await _set(request, False)
