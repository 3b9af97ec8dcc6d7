"""Border points as data: seeded posts, admin add/edit (audited), bad input refused, and an inactive post's
officers cannot submit checks."""

from __future__ import annotations

import secrets

from .conftest import login, new_officer
from .test_border_support import CHECKS, family_body

POINTS = "/api/v1/border-points"


async def test_seeded_points_are_listed_for_every_officer(client, officers):
    for role in ("immigration", "auditor"):
        resp = await client.get(POINTS, headers=officers[role].headers(None))
        assert resp.status == 200
        points = {p["code"]: p for p in (await resp.json())["items"]}
        assert points["POIPET"]["neighbour"] == "TH" and points["POIPET"]["province"] == "Banteay Meanchey"
        assert points["BAVET"]["neighbour"] == "VN" and points["KOH_KONG"]["neighbour"] == "TH"


async def test_admin_adds_edits_and_deactivates_a_point(client, officers, db_target, owner_conn):
    admin = officers["admin"]
    code = "TEST_" + secrets.token_hex(3).upper()
    point = {"code": code, "name": "Prek Chak", "province": "Kampot", "neighbour": "VN", "crossing_type": "land"}
    resp = await client.post(POINTS, json=point, headers=admin.headers(None))
    assert resp.status == 201, await resp.text()
    assert (await resp.json()) == {**point, "active": True}
    again = await client.post(POINTS, json=point, headers=admin.headers(None))
    assert again.status == 409
    officer = await login(client, await new_officer(db_target, "immigration", code))
    resp = await client.post(CHECKS, json=family_body(), headers=officer.headers("border_check"))
    assert resp.status == 201
    resp = await client.patch(f"{POINTS}/{code}", json={"active": False, "name": "Prek Chak (closed)"},
                              headers=admin.headers(None))
    assert resp.status == 200 and (await resp.json())["active"] is False
    before = await owner_conn.fetchval("SELECT count(*) FROM border_checks WHERE border_point = $1", code)
    resp = await client.post(CHECKS, json=family_body(), headers=officer.headers("border_check"))
    assert resp.status == 403
    assert await owner_conn.fetchval("SELECT count(*) FROM border_checks WHERE border_point = $1", code) == before
    actions = await owner_conn.fetch("SELECT action FROM audit_log WHERE $1 = ANY(record_ids) ORDER BY id", code)
    assert [r["action"] for r in actions] == ["border_point.add", "border_point.edit"]


async def test_bad_point_input_is_400(client, officers):
    admin = officers["admin"]
    cases = [
        ({"code": "lower", "name": "x", "province": "y", "neighbour": "TH", "crossing_type": "land"}, "code"),
        ({"code": "OK_CODE", "name": "x", "province": "y", "neighbour": "ZZ", "crossing_type": "land"}, "neighbour"),
        ({"code": "OK_CODE", "name": "x", "province": "y", "neighbour": "TH", "crossing_type": "tunnel"},
         "crossing_type"),
        ({"code": "OK_CODE", "name": "x", "province": "y", "neighbour": "TH"}, "crossing_type"),
    ]
    for body, field in cases:
        resp = await client.post(POINTS, json=body, headers=admin.headers(None))
        assert resp.status == 400 and (await resp.json())["error"]["field"] == field, body
    resp = await client.patch(f"{POINTS}/POIPET", json={"code": "OTHER"}, headers=admin.headers(None))
    assert resp.status == 400 and (await resp.json())["error"]["field"] == "code"
    resp = await client.patch(f"{POINTS}/POIPET", json={}, headers=admin.headers(None))
    assert resp.status == 400
    resp = await client.patch(f"{POINTS}/NO_SUCH_POINT", json={"name": "x"}, headers=admin.headers(None))
    assert resp.status == 404
