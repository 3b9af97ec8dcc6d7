"""``POST /api/v1/users/{id}/reset-mfa``: the admin gives an officer a new TOTP secret (a lost or exposed phone).

The old secret stops working at once; the account's sessions are revoked (the officer logs in again with the new
code); the new enrolment (the ``otpauth://`` URI) is answered once and never shown again. Audited as
``user.mfa_reset`` in the same transaction, with the user id only.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from . import audit
from . import openapi_types as T
from .appkeys import POOL, SETTINGS
from .auth import new_totp_secret, totp_uri
from .errors import NotFound
from .middleware import actor
from .policy import policy
from .users_api import _user_id


async def reset_mfa(conn: asyncpg.Connection, who: audit.Actor, user_id: int, issuer: str) -> tuple[str, str] | None:
    """Give ``user_id`` a new TOTP secret in the caller's transaction: (username, otpauth URI), or None."""
    secret = new_totp_secret()
    username = await conn.fetchval(
        """UPDATE users SET totp_secret = $2, last_totp_step = NULL, updated_at = now()
           WHERE id = $1 RETURNING username""", user_id, secret)
    if username is None:
        return None
    await conn.execute("UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", user_id)
    await audit.write(conn, who, audit.Entry("user.mfa_reset", detail={"user_id": user_id}))
    return username, totp_uri(secret, username, issuer)


@policy("admin")
async def reset_user_mfa(request: web.Request) -> web.Response:
    user_id = _user_id(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        done = await reset_mfa(conn, actor(request), user_id, request.app[SETTINGS].issuer)
    if done is None:
        raise NotFound("no such user")
    return web.json_response({"id": user_id, "username": done[0], "totp_uri": done[1]})


OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/users/{id}/reset-mfa"): {
        "summary": "Give an account a new TOTP secret (admin); revokes its sessions; answers the enrolment once",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": {"description": "the new enrolment", "content": {"application/json": {"schema": {
            "type": "object", "required": ["id", "username", "totp_uri"],
            "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                           "totp_uri": {"type": "string"}}}}}},
            **T.errors(401, 403, 404)}},
}
