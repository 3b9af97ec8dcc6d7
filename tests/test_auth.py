"""Login with TOTP, lockout, token rules (SECURITY.md A and bad inputs 1-3), disabling, logout."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.appkeys import TOKEN_KEYS
from exchange.auth import OFFICER_AUDIENCE

from .conftest import login, new_officer


async def audit_count(owner_conn, action: str, outcome: str | None = None) -> int:
    return await owner_conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = $1 AND ($2::text IS NULL OR outcome = $2)", action, outcome)


async def test_login_with_totp_returns_eddsa_token(client, db_target, settings):
    officer = await login(client, await new_officer(db_target, "liaison"))
    header = jwt.get_unverified_header(officer.token)
    assert header["alg"] == "EdDSA"
    claims = jwt.decode(officer.token, options={"verify_signature": False})
    assert {"exp", "iat", "iss", "aud", "sub", "jti", "sid"} <= set(claims)
    assert claims["aud"] == OFFICER_AUDIENCE and claims["exp"] - claims["iat"] == settings.token_ttl
    resp = await client.get("/api/v1/auth/me", headers=officer.headers())
    assert resp.status == 200
    assert (await resp.json())["role"] == "liaison"


async def test_totp_code_cannot_be_replayed(client, db_target):
    officer = await login(client, await new_officer(db_target, "registrar"))
    # The very code the login used (its step), not "the code now": a 30 s step may roll over between the two
    # requests, and the next step's code is rightly accepted once.
    used = officer.code(dt.datetime.fromtimestamp(officer.last_step * 30, dt.UTC))
    resp = await client.post("/api/v1/auth/token", json={
        "username": officer.username, "password": officer.password, "totp": used})
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("field", ["password", "totp"])
async def test_wrong_password_or_code_is_refused(client, db_target, owner_conn, field):
    officer = await new_officer(db_target, "auditor")
    body = {"username": officer.username, "password": officer.password, "totp": officer.code()}
    body[field] = "000000" if field == "totp" and officer.code() != "000000" else "wrong-password-123"
    before = await audit_count(owner_conn, "auth.login", "denied")
    resp = await client.post("/api/v1/auth/token", json=body)
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_credentials"
    assert await audit_count(owner_conn, "auth.login", "denied") == before + 1


async def test_unknown_user_gets_the_same_answer(client, db_target):
    officer = await new_officer(db_target, "auditor")
    wrong = await client.post("/api/v1/auth/token", json={
        "username": officer.username, "password": "not-the-password", "totp": officer.code()})
    unknown = await client.post("/api/v1/auth/token", json={
        "username": "nobody-" + uuid.uuid4().hex[:8], "password": "not-the-password", "totp": "123456"})
    assert wrong.status == unknown.status == 401
    assert (await wrong.json())["error"] == (await unknown.json())["error"]


async def test_lockout_after_five_failures(client, db_target, owner_conn):
    officer = await new_officer(db_target, "liaison")
    for _ in range(5):
        resp = await client.post("/api/v1/auth/token", json={
            "username": officer.username, "password": "wrong-password-123", "totp": officer.code()})
        assert resp.status == 401
    locked_until = await owner_conn.fetchval("SELECT locked_until FROM users WHERE username = $1", officer.username)
    assert locked_until is not None
    assert dt.timedelta(minutes=14) < locked_until - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=15)
    # even the right password and code are refused while locked, with the same answer
    resp = await client.post("/api/v1/auth/token", json={
        "username": officer.username, "password": officer.password, "totp": officer.code()})
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_credentials"
    # after the lock expires the right credentials work again
    await owner_conn.execute("UPDATE users SET locked_until = now() - interval '1 second' WHERE username = $1",
                             officer.username)
    await login(client, officer)


async def test_disabling_a_user_takes_effect_on_next_request(client, db_target, owner_conn):
    officer = await login(client, await new_officer(db_target, "liaison"))
    assert (await client.get("/api/v1/auth/me", headers=officer.headers())).status == 200
    await owner_conn.execute("UPDATE users SET disabled = true WHERE username = $1", officer.username)
    resp = await client.get("/api/v1/auth/me", headers=officer.headers())
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "session_expired"


async def test_logout_revokes_the_session(client, db_target):
    officer = await login(client, await new_officer(db_target, "registrar"))
    assert (await client.post("/api/v1/auth/logout", headers=officer.headers())).status == 200
    assert (await client.get("/api/v1/auth/me", headers=officer.headers())).status == 401


async def test_idle_session_expires(client, db_target, owner_conn):
    officer = await login(client, await new_officer(db_target, "liaison"))
    await owner_conn.execute(
        """UPDATE sessions SET last_seen_at = now() - interval '31 minutes'
           WHERE user_id = (SELECT id FROM users WHERE username = $1)""", officer.username)
    resp = await client.get("/api/v1/auth/me", headers=officer.headers())
    assert resp.status == 401


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _claims(client, officer) -> dict:
    return jwt.decode(officer.token, options={"verify_signature": False})


async def test_alg_none_and_hs256_with_public_key_are_refused(client, db_target):
    officer = await login(client, await new_officer(db_target, "liaison"))
    claims = await _claims(client, officer)
    unsigned = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + _b64(json.dumps(claims).encode()) + "."
    keys = client.server.app[TOKEN_KEYS]
    public_pem = keys.current.public.public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": keys.current.kid}).encode())
    body = _b64(json.dumps(claims).encode())
    import hashlib
    import hmac
    sig = _b64(hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest())
    for token in (unsigned, f"{header}.{body}.{sig}"):
        resp = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("change", ["no_exp", "no_aud", "foreign_aud", "no_jti", "bad_kid_path", "sql_kid",
                                    "foreign_key"])
async def test_tokens_missing_claims_or_with_foreign_keys_are_refused(client, db_target, change):
    officer = await login(client, await new_officer(db_target, "liaison"))
    claims = await _claims(client, officer)
    keys = client.server.app[TOKEN_KEYS]
    key, kid = keys.current.private, keys.current.kid
    if change == "no_exp":
        del claims["exp"]
    elif change == "no_aud":
        del claims["aud"]
    elif change == "foreign_aud":
        claims["aud"] = "exchange-federation"
    elif change == "no_jti":
        del claims["jti"]
    elif change == "bad_kid_path":
        kid = "../../dev/null"
    elif change == "sql_kid":
        kid = "x' OR '1'='1"
    elif change == "foreign_key":
        key = Ed25519PrivateKey.generate()
    token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})
    resp = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("body", [
    b'{"username": "a", "username": "b", "password": "x", "totp": "1"}',
    b'{"username": "a", "password": "x", "totp": "1", "role": "admin"}',
    b"[1, 2]",
    b'{"username": NaN}',
])
async def test_bad_login_bodies_get_400(client, body):
    resp = await client.post("/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] in {"invalid_json", "unknown_field", "invalid_type"}
