"""Officer authentication: Argon2id passwords, TOTP second factor, lockout, EdDSA JWTs bound to a session.

A login creates a row in ``sessions`` (its id is the token's ``sid``). Every request decodes the token with
the algorithm fixed to EdDSA, the key chosen from our own key set by allow-listed ``kid``, and ``exp``,
``iat``, ``iss``, ``aud``, ``sub``, ``jti`` required; then one query reads the session and the user, so a
disabled user, a changed role, a revoked or idle session (30 min) is refused on the very next request.
The user's role and border point come from the database, never from the token.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

import asyncpg
import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .config import Settings
from .errors import ErrorCode, Unauthorized
from .keystore import TokenKeys

ROLES = ("admin", "registrar", "liaison", "immigration", "auditor")
OFFICER_AUDIENCE = "exchange-officer-api"
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti"]
_LAST_SEEN_GRANULARITY = dt.timedelta(seconds=30)

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Verified against when the username is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
INVALID_CREDENTIALS = "invalid username, password or code"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_dummy_password(password: str) -> None:
    """Spend the time of one password check when there is no user, so an unknown username answers as slowly."""
    check_password(_DUMMY_HASH, password)


def new_password() -> str:
    return secrets.token_urlsafe(18)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def totp_step(secret: str, code: str, at: dt.datetime, last_step: int | None) -> int | None:
    """The time step a valid code belongs to (±1 step of drift), or None; a step already used is refused."""
    if not (isinstance(code, str) and code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(at.timestamp()) // totp.interval
    for step in (now_step, now_step - 1, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            if last_step is not None and step <= last_step:
                return None
            return step
    return None


@dataclass(frozen=True)
class Principal:
    """The authenticated officer of a request (as the database says now)."""

    user_id: int
    username: str
    role: str
    border_point: str | None
    session_id: uuid.UUID


def issue_token(keys: TokenKeys, settings: Settings, user_id: int, session_id: uuid.UUID,
                now: dt.datetime) -> tuple[str, int]:
    claims = {
        "iss": settings.issuer, "aud": OFFICER_AUDIENCE, "sub": str(user_id), "sid": str(session_id),
        "jti": str(uuid.uuid4()), "iat": int(now.timestamp()), "nbf": int(now.timestamp()),
        "exp": int(now.timestamp()) + settings.token_ttl,
    }
    token = jwt.encode(claims, keys.current.private, algorithm="EdDSA", headers={"kid": keys.current.kid})
    return token, settings.token_ttl


def decode_token(keys: TokenKeys, settings: Settings, token: str, *, verify_exp: bool = True) -> dict:
    """The verified claims of an officer token. ``verify_exp=False`` only for the web session cookie, whose
    lifetime is the session's (idle timeout, revocation, 12 h cap: ``principal_for``), not the token's."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("the token is malformed", code=ErrorCode.INVALID_TOKEN) from None
    if header.get("alg") != "EdDSA":
        raise Unauthorized("the token is not accepted", code=ErrorCode.INVALID_TOKEN)
    key = keys.public_for(header.get("kid"))
    if key is None:
        raise Unauthorized("the token is not accepted", code=ErrorCode.INVALID_TOKEN)
    try:
        claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=OFFICER_AUDIENCE, issuer=settings.issuer,
                            options={"require": _REQUIRED_CLAIMS, "verify_exp": verify_exp}, leeway=5)
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired", code=ErrorCode.INVALID_TOKEN) from None
    except jwt.PyJWTError:
        raise Unauthorized("the token is not accepted", code=ErrorCode.INVALID_TOKEN) from None
    if not isinstance(claims.get("sid"), str):
        raise Unauthorized("the token is not accepted", code=ErrorCode.INVALID_TOKEN)
    return claims


async def principal_for(conn: asyncpg.Connection, settings: Settings, claims: dict,
                        now: dt.datetime) -> Principal:
    try:
        sid = uuid.UUID(claims["sid"])
        user_id = int(claims["sub"])
    except (ValueError, TypeError):
        raise Unauthorized("the token is not accepted", code=ErrorCode.INVALID_TOKEN) from None
    row = await conn.fetchrow(
        """SELECT u.id, u.username, u.role, u.border_point, u.disabled, s.revoked_at, s.last_seen_at, s.expires_at
           FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.jti = $1 AND u.id = $2""", sid, user_id)
    if row is None or row["disabled"] or row["revoked_at"] is not None:
        raise Unauthorized("the session is no longer valid", code=ErrorCode.SESSION_EXPIRED)
    idle = now - row["last_seen_at"]
    if idle > dt.timedelta(seconds=settings.idle_timeout) or now > row["expires_at"]:
        raise Unauthorized("the session has expired; log in again", code=ErrorCode.SESSION_EXPIRED)
    if idle > _LAST_SEEN_GRANULARITY:
        await conn.execute("UPDATE sessions SET last_seen_at = $2 WHERE jti = $1", sid, now)
    return Principal(row["id"], row["username"], row["role"], row["border_point"], sid)
