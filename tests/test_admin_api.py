"""The admin APIs the admin pages needed: ``POST /api/v1/users/{id}/reset-mfa`` and the partner management
(``POST /api/v1/partners``, ``PATCH /api/v1/partners/{id}``, ``POST .../keys``, ``POST .../keys/revoke``)."""

from __future__ import annotations

import pycountry
import pyotp
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from protocols.encoding import b64u_encode
from tests.conftest import fresh_code, login, new_officer


def keys() -> tuple[str, str]:
    return (b64u_encode(bytes(SigningKey.generate().verify_key)), b64u_encode(bytes(PrivateKey.generate().public_key)))


async def free_country(owner_conn, settings) -> str:
    taken = {r["country"] for r in await owner_conn.fetch("SELECT country FROM partners")} | {settings.country}
    return next(c.alpha_2 for c in sorted(pycountry.countries, key=lambda c: c.alpha_2[::-1]) if c.alpha_2 not in taken)


async def audit_rows(owner_conn, action: str) -> int:
    return await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = $1", action)


async def test_reset_mfa_gives_a_new_secret_once_and_ends_the_sessions(client, officers, db_target, owner_conn):
    admin = officers["admin"]
    victim = await login(client, await new_officer(db_target, "registrar"))
    user_id = await owner_conn.fetchval("SELECT id FROM users WHERE username = $1", victim.username)
    before = await audit_rows(owner_conn, "user.mfa_reset")
    resp = await client.post(f"/api/v1/users/{user_id}/reset-mfa", headers=admin.headers(None))
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["id"] == user_id and body["username"] == victim.username
    new_secret = pyotp.parse_uri(body["totp_uri"]).secret
    assert new_secret != victim.totp_secret
    assert await audit_rows(owner_conn, "user.mfa_reset") == before + 1
    # the old session is revoked, the old secret refused, the new one works
    assert (await client.get("/api/v1/auth/me", headers=victim.headers(None))).status == 401
    old = await client.post("/api/v1/auth/token", json={"username": victim.username, "password": victim.password,
                                                        "totp": await fresh_code(victim)})
    assert old.status == 401
    victim.totp_secret, victim.last_step = new_secret, None
    await owner_conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1", user_id)
    assert (await login(client, victim)).token
    # the list never answers a secret
    listed = await (await client.get("/api/v1/users", headers=admin.headers(None))).json()
    assert all("totp" not in k and "password" not in k for item in listed["items"] for k in item)


async def test_reset_mfa_of_no_user_and_by_another_role(client, officers):
    assert (await client.post("/api/v1/users/999999999/reset-mfa", headers=officers["admin"].headers(None))).status \
        == 404
    assert (await client.post("/api/v1/users/1/reset-mfa", headers=officers["liaison"].headers(None))).status == 403


async def test_partner_add_policy_and_keys(client, officers, owner_conn, settings):
    admin = officers["admin"].headers(None)
    country = await free_country(owner_conn, settings)
    signing, box = keys()
    body = {"country": country, "url": "https://node.example:8443/x", "signing_key": signing, "box_key": box,
            "key_id": "ed25519:first"}
    added = before = await audit_rows(owner_conn, "partner.add")
    resp = await client.post("/api/v1/partners", json=body, headers=admin)
    assert resp.status == 201, await resp.text()
    got = await resp.json()
    assert got["receives"] == "hits" and [k["kid"] for k in got["keys"]] == ["ed25519:first"]
    assert await audit_rows(owner_conn, "partner.add") == added + 1
    again = await client.post("/api/v1/partners", json=body, headers=admin)
    assert again.status == 409 and (await again.json())["error"]["field"] == "country"

    resp = await client.patch(f"/api/v1/partners/{country}", headers=admin, json={
        "receives": "full", "categories": ["child_trafficking"], "legal_basis": "MoU 2025 art. 4"})
    assert resp.status == 200, await resp.text()
    row = await owner_conn.fetchrow("SELECT receives, categories, legal_basis FROM partners WHERE country = $1",
                                    country)
    assert (row["receives"], list(row["categories"]), row["legal_basis"]) == ("full", ["child_trafficking"],
                                                                               "MoU 2025 art. 4")
    read = await (await client.get(f"/api/v1/partners/{country}", headers=admin)).json()
    assert (read["receives"], read["legal_basis"]) == ("full", "MoU 2025 art. 4")
    resp = await client.patch(f"/api/v1/partners/{country}", headers=admin, json={"categories": None})
    assert resp.status == 200 and (await resp.json())["categories"] is None

    new_signing, new_box = keys()
    resp = await client.post(f"/api/v1/partners/{country}/keys", headers=admin,
                             json={"signing_key": new_signing, "box_key": new_box, "key_id": "ed25519:second"})
    assert resp.status == 201, await resp.text()
    assert [k["kid"] for k in (await resp.json())["keys"]] == ["ed25519:first", "ed25519:second"]
    resp = await client.post(f"/api/v1/partners/{country}/keys/revoke", headers=admin, json={"kid": "ed25519:first"})
    assert resp.status == 200
    revoked = {k["kid"]: k["revoked_at"] for k in (await resp.json())["keys"]}
    assert revoked["ed25519:first"] is not None and revoked["ed25519:second"] is None
    assert await audit_rows(owner_conn, "partner.revoke-key") >= 1
    assert before + 1 == await audit_rows(owner_conn, "partner.add")


async def test_partner_refusals_name_the_field_and_store_nothing(client, officers, owner_conn, settings):
    admin = officers["admin"].headers(None)
    country = await free_country(owner_conn, settings)
    signing, box = keys()
    good = {"country": country, "url": "https://node.example", "signing_key": signing, "box_key": box}
    cases = [({**good, "url": "ftp://x"}, 400, "url"), ({**good, "signing_key": "abc"}, 400, "signing_key"),
             ({**good, "key_id": "nope"}, 400, "key_id"), ({**good, "receives": "all"}, 400, "receives"),
             ({**good, "categories": ["x"]}, 400, "categories[0]"), ({**good, "role": "admin"}, 400, "role"),
             ({**good, "country": settings.country}, 409, "country"), ({**good, "country": "th"}, 400, "country")]
    for body, status, field in cases:
        resp = await client.post("/api/v1/partners", json=body, headers=admin)
        err = (await resp.json())["error"]
        assert (resp.status, err["field"]) == (status, field), (body, err)
    assert not await owner_conn.fetchval("SELECT 1 FROM partners WHERE country = $1", country)
    assert (await client.patch("/api/v1/partners/QQ", json={"active": False}, headers=admin)).status == 404
    assert (await client.post("/api/v1/partners", json=good, headers=officers["liaison"].headers(None))).status == 403
