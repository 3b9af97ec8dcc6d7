"""Officer accounts: creation (CLI and admin API), disabling, MFA reset. Passwords are Argon2id hashes."""

from __future__ import annotations

import re
from dataclasses import dataclass

import asyncpg

from protocols.validation import Code, ValidationError

from . import audit
from .auth import ROLES, hash_password, new_password, new_totp_secret, totp_uri

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


@dataclass(frozen=True)
class NewUser:
    id: int
    username: str
    password: str
    totp_uri: str


def check_new_user(username: str, role: str, border_point: str | None, password: str | None) -> None:
    if not _USERNAME.match(username):
        raise ValidationError(Code.INVALID_VALUE, "username",
                              "must be 3-64 lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise ValidationError(Code.INVALID_VALUE, "role", "must be one of: " + ", ".join(ROLES))
    if (role == "immigration") != (border_point is not None):
        raise ValidationError(Code.INVALID_VALUE, "border_point",
                              "is required for the immigration role and only for it")
    if password is not None and not 12 <= len(password) <= 256:
        raise ValidationError(Code.INVALID_VALUE, "password", "must be 12 to 256 characters")


async def create_user(conn: asyncpg.Connection, who: audit.Actor, *, username: str, role: str,
                      border_point: str | None, password: str | None, issuer: str) -> NewUser:
    """Create an account in the caller's transaction; returns the password (generated if not given)."""
    check_new_user(username, role, border_point, password)
    if border_point is not None and not await conn.fetchval(
            "SELECT 1 FROM border_points WHERE code = $1 AND active", border_point):
        raise ValidationError("unknown_border_point", "border_point", "is not a known, active border point")
    if await conn.fetchval("SELECT 1 FROM users WHERE username = $1", username):
        raise ValidationError("already_exists", "username", "is already taken")
    password = password or new_password()
    secret = new_totp_secret()
    user_id = await conn.fetchval(
        """INSERT INTO users (username, role, border_point, password_hash, totp_secret)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        username, role, border_point, hash_password(password), secret)
    await audit.write(conn, who, audit.Entry("user.create", detail={"user_id": user_id, "role": role,
                                                                     "border_point": border_point}))
    return NewUser(user_id, username, password, totp_uri(secret, username, issuer))


async def set_disabled(conn: asyncpg.Connection, who: audit.Actor, user_id: int, disabled: bool) -> bool:
    done = await conn.fetchval("UPDATE users SET disabled = $2, updated_at = now() WHERE id = $1 RETURNING id",
                               user_id, disabled)
    if done:
        await conn.execute("UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
                           user_id)
        await audit.write(conn, who, audit.Entry("user.disable" if disabled else "user.enable",
                                                 detail={"user_id": user_id}))
    return done is not None
