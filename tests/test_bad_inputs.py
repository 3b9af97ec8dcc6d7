"""The ten bad inputs of SECURITY.md, over HTTP against the real service, in one module.

Each case expects its exact status and error code, proves that nothing was written (row counts of the tables the
request could touch, before and after) and that a security audit event was recorded where the refusal is one.
Case 10's "a 10,000-record batch with one bad record" is the feed page test of ``test_federation_refusals``
(``test_a_bad_item_in_a_feed_page_is_skipped_and_reported_not_blocking``): pages are the only batches.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import tracemalloc
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from exchange.appkeys import TOKEN_KEYS

from .conftest import login, new_officer
from .test_border_support import family_body, submit
from .test_federation_refusals import envelope, post, upsert
from .test_federation_support import fed_nodes, now  # noqa: F401 (the session fixture)

RECORDS = "/api/v1/records"
WRITTEN = ("persons", "record_versions", "person_names", "sessions", "border_checks", "border_alerts", "outbox")
FED_TABLES = ("inbox", "partner_records", "partner_record_versions")


@pytest.fixture
def nodes(request):
    return request.getfixturevalue("fed_nodes")  # the three federation nodes shared by the session


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def counts(conn, tables=WRITTEN) -> dict[str, int]:
    out = {}
    for table in tables:
        out[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return out


async def audited(conn, action: str, outcome: str | None = None) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = $1 AND ($2::text IS NULL OR outcome = $2)", action, outcome)


def person_body(**person) -> dict:
    base = {"names": [{"family": "Sok", "given": "Dara"}], "birth_date": "1979-03-14", "sex": "male"}
    return {"person": {**base, **person}, "convictions": [{
        "court": "Phnom Penh Municipal Court", "case_number": "PP-2019-0042", "date": "2019-06-01",
        "offence_category": "child_trafficking"}]}


@pytest.fixture(scope="module")
async def victim(client, db_target):
    """A logged-in liaison officer whose token the forged tokens imitate."""
    return await login(client, await new_officer(db_target, "liaison"))


def forged_tokens(client, officer) -> dict[str, str]:
    claims = jwt.decode(officer.token, options={"verify_signature": False})
    keys = client.server.app[TOKEN_KEYS]
    key, kid = keys.current.private, keys.current.kid
    public_pem = keys.current.public.public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    body = _b64(json.dumps(claims).encode())
    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    hs_sig = _b64(hmac.new(public_pem, f"{hs_header}.{body}".encode(), hashlib.sha256).digest())
    no_exp = {k: v for k, v in claims.items() if k != "exp"}
    no_aud = {k: v for k, v in claims.items() if k != "aud"}
    return {
        "1 alg none": _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + body + ".",
        "1 HS256 with our public key": f"{hs_header}.{body}.{hs_sig}",
        "2 no exp": jwt.encode(no_exp, key, algorithm="EdDSA", headers={"kid": kid}),
        "2 no aud": jwt.encode(no_aud, key, algorithm="EdDSA", headers={"kid": kid}),
        "2 foreign aud": jwt.encode({**claims, "aud": "exchange-federation"}, key, algorithm="EdDSA",
                                    headers={"kid": kid}),
        "3 kid path": jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "../../dev/null"}),
        "3 kid SQL": jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "x' OR '1'='1"}),
    }


@pytest.mark.parametrize("case", ["1 alg none", "1 HS256 with our public key", "2 no exp", "2 no aud",
                                  "2 foreign aud", "3 kid path", "3 kid SQL"])
async def test_1_2_3_forged_tokens_get_401_and_are_audited(client, owner_conn, victim, case):
    token = forged_tokens(client, victim)[case]
    before, denials = await counts(owner_conn), await audited(owner_conn, "auth.denied", "denied")
    resp = await client.post(RECORDS, json=person_body(), headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_token"
    assert await counts(owner_conn) == before
    assert await audited(owner_conn, "auth.denied", "denied") == denials + 1
    row = await owner_conn.fetchrow("SELECT detail::text AS detail, username FROM audit_log "
                                    "WHERE action = 'auth.denied' ORDER BY id DESC LIMIT 1")
    assert json.loads(row["detail"]) == {"reason": "invalid_token", "route": RECORDS, "method": "POST"}
    assert row["username"] is None  # nothing unverified from the token is recorded
    assert token not in row["detail"] and "dev/null" not in row["detail"] and "OR" not in row["detail"]


async def test_a_missing_token_is_401_and_audited(client, owner_conn):
    denials = await audited(owner_conn, "auth.denied", "denied")
    resp = await client.get("/api/v1/auth/me")
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "not_authenticated"
    assert await audited(owner_conn, "auth.denied", "denied") == denials + 1


async def fed_refused(node, data: bytes, status: int, code: str) -> None:
    before = await counts(node.owner, FED_TABLES)
    refusals = await audited(node.owner, "federation.refused")
    resp = await post(node, data)
    body = await resp.json()
    assert (resp.status, body["error"]["code"]) == (status, code), body
    assert await counts(node.owner, FED_TABLES) == before
    assert await audited(node.owner, "federation.refused") == refusals + 1
    detail = await node.owner.fetchval(
        "SELECT detail FROM audit_log WHERE action = 'federation.refused' ORDER BY id DESC LIMIT 1")
    assert detail["code"] == code


async def test_4_an_envelope_with_a_duplicate_key_is_400(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    good = envelope(kh, th)
    assert good.startswith(b"{")
    await fed_refused(th, b'{"id":"' + str(uuid.uuid4()).encode() + b'",' + good[1:], 400, "duplicate_key")


async def test_5_a_flipped_byte_or_an_added_field_is_401_bad_signature(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    data = bytearray(envelope(kh, th))
    at = data.index(b'"ciphertext":"') + 20
    data[at] = ord("A") if data[at] != ord("A") else ord("B")
    await fed_refused(th, bytes(data), 401, "bad_signature")
    parsed = json.loads(envelope(kh, th))
    parsed["note"] = "unsigned"
    await fed_refused(th, json.dumps(parsed).encode(), 401, "bad_signature")


async def test_6_a_replay_is_idempotent_and_old_or_future_messages_are_400(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    data = envelope(kh, th, upsert())
    assert (await post(th, data)).status == 200
    before = await counts(th.owner, FED_TABLES)
    again = await post(th, data)
    assert again.status == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert await counts(th.owner, FED_TABLES) == before
    assert await th.owner.fetchval("SELECT count(*) FROM audit_log WHERE action = 'federation.receive' "
                                   "AND outcome = 'replayed' AND detail->>'message_id' = $1",
                                   json.loads(data)["id"]) >= 1
    await fed_refused(th, envelope(kh, th, when=now() - dt.timedelta(minutes=6)), 400, "expired")
    await fed_refused(th, envelope(kh, th, when=now() + dt.timedelta(minutes=6)), 400, "too_early")


async def _refused_record(client, officers, owner_conn, body, raw: bytes | None = None) -> dict:
    registrar = officers["registrar"]
    before = await counts(owner_conn)
    invalid = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE username = $1 AND outcome = 'invalid'",
                                        registrar.username)
    headers = registrar.headers(purpose=None)
    if raw is None:
        resp = await client.post(RECORDS, json=body, headers=headers)
    else:
        resp = await client.post(RECORDS, data=raw, headers={**headers, "Content-Type": "application/json"})
    assert resp.status == 400, await resp.text()
    assert await counts(owner_conn) == before
    assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE username = $1 AND outcome = 'invalid'",
                                     registrar.username) == invalid + 1
    return (await resp.json())["error"]


@pytest.mark.parametrize("name", ["Dara\x00", "Da\u202era"])
async def test_7_a_name_with_nul_or_a_bidi_override_is_400(client, officers, owner_conn, name):
    error = await _refused_record(client, officers, owner_conn, person_body(names=[{"family": "Sok", "given": name}]))
    assert error["field"] == "person.names[0].given" and error["code"] != "internal_error"


async def test_8_a_thai_digit_birth_date_is_400_naming_the_field(client, officers, owner_conn):
    error = await _refused_record(client, officers, owner_conn, person_body(birth_date="๑๙๗๙-03-14"))
    assert error["field"] == "person.birth_date"


@pytest.mark.parametrize("raw", [b'"review_date": NaN', b'"review_date": 1e400', b'"note": "\\ud800"'])
async def test_8_nan_huge_numbers_and_lone_surrogates_are_400(client, officers, owner_conn, raw):
    body = json.dumps(person_body()).encode()
    error = await _refused_record(client, officers, owner_conn, None, raw=body[:-1] + b", " + raw + b"}")
    assert error["code"] == "invalid_json"


async def test_9_an_officer_at_another_post_gets_404_audited(client, officers, db_target, owner_conn):
    answer = await submit(client, officers["immigration"], family_body())  # at POIPET
    bavet = await login(client, await new_officer(db_target, "immigration", "BAVET"))
    denied = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE username = $1 AND outcome = 'denied'",
                                       bavet.username)
    resp = await client.get(f"/api/v1/border/checks/{answer['id']}", headers=bavet.headers("border_check"))
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE username = $1 AND outcome = 'denied'",
                                     bavet.username) == denied + 1


@pytest.mark.parametrize("extra", [{"role": "admin"}, {"border_point_id": "BAVET"}])
async def test_9_a_body_with_role_or_post_fields_is_400(client, officers, owner_conn, extra):
    error = await _refused_record(client, officers, owner_conn, {**person_body(), **extra})
    assert error["field"] == next(iter(extra))


async def _chunks(total: int, size: int = 64 * 1024):
    chunk = b" " * size
    sent = 0
    while sent < total:
        yield chunk
        sent += size


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_10_a_20mb_body_is_413_with_flat_memory(client, officers, owner_conn, declared):
    total = 20 * 1024 * 1024
    headers = {**officers["registrar"].headers(purpose=None), "Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(total)
    before = await counts(owner_conn)
    tracemalloc.start()
    try:
        resp = await client.post(RECORDS, data=_chunks(total), headers=headers)
        status, body = resp.status, await resp.json()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (status, body["error"]["code"]) == (413, "body_too_large")
    assert peak < 6 * 1024 * 1024, f"peak {peak} bytes while refusing a 20 MB body"
    assert await counts(owner_conn) == before


async def test_10_a_100000_deep_array_is_400_with_flat_memory(client, officers, owner_conn):
    tracemalloc.start()
    try:
        error = await _refused_record(client, officers, owner_conn, None, raw=b"[" * 100_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error["code"] == "invalid_json"
    assert peak < 6 * 1024 * 1024


async def test_unknown_uuid_does_not_leak_existence(client, officers):
    resp = await client.get(f"/api/v1/border/checks/{uuid.uuid4()}", headers=officers["immigration"].headers(
        "border_check"))
    assert resp.status == 404
