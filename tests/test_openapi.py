"""The OpenAPI document matches the routes: every route is in it and every operation in it is a route."""

from __future__ import annotations

import pytest

from exchange.routes import ROUTES


async def test_every_route_is_documented_and_nothing_else(client):
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routed = {(method, path) for method, path, _ in ROUTES}
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set(), "documented operations with no route"
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("responses"), f"{method} {path} documents no responses"


# --- the schemas say what the validators accept (schemathesis positive_data_acceptance and its converse) ------

def _assigned(text: str) -> bool:
    """The documented meaning of the custom format ``unicode-assigned``."""
    import unicodedata
    return not any(unicodedata.category(ch) in ("Co", "Cn") for ch in text)


def _schema_validator(doc, schema):
    jsonschema_rs = pytest.importorskip("jsonschema_rs")  # schemathesis's validator
    return jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]}, validate_formats=True,
                                              formats={"unicode-assigned": _assigned})


def test_document_schemas_agree_with_the_validators_on_edge_values():
    """Values at the edges of each rule: the document's verdict is the validator's."""
    from exchange.openapi import build
    from exchange.openapi_types import PARTIAL_DATE, text
    from exchange.registry.openapi import NAME, REGISTER_PERSON
    from protocols.person import validate_person
    from protocols.validation import ValidationError

    doc = build()
    name = _schema_validator(doc, NAME)
    for value, ok in [({"family": "Sok"}, True), ({"family": " ", "given": "Dara"}, True), ({"family": " "}, False),
                      ({"given": "Da\u202era"}, False), ({"given": "Da\u200bra"}, False),
                      ({"given": "\u179f\u17bb\u200d\u1781"}, True), ({"given": "Dara\n"}, False),
                      ({"given": "\U000e0001"}, False), ({"given": "\ue000"}, False), ({"given": "\u0378"}, False)]:
        assert name.is_valid(value) is ok, value
        try:
            validate_person({"names": [value]})
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted is ok, value
    line = _schema_validator(doc, text(20))
    assert [line.is_valid(v) for v in ("a\tb", "a\nb", " x ", "", "  ", "a\rb", "a\u2066b", "a\x85b")] == \
        [True, True, True, False, False, False, False, False]
    born = _schema_validator(doc, PARTIAL_DATE)
    assert [born.is_valid(v) for v in ("1850", "1849", "2001-02", "2001-13", "2001-02-28", "2001-02-29",
                                       "2000-02-29", "2001-2-28")] == \
        [True, False, True, False, True, False, True, False]
    register = _schema_validator(doc, REGISTER_PERSON)
    assert register.is_valid({"names": [{"full": "Sok"}], "birth_place": "Siem Reap"})
    assert not register.is_valid({"names": [{"full": "Sok"}], "birth_place": "Siem \u0378Reap"})  # unassigned


async def test_query_values_with_a_control_character_are_400_not_500(client, officers):
    """A NUL in a free-text query value reached PostgreSQL (22021, a 500); now every query value is checked."""
    for role, url in [("auditor", "/api/v1/audit?username=%00"), ("admin", "/api/v1/border/stats?border_point=%00"),
                      ("liaison", "/api/v1/border/checks?border_point=a%00b")]:
        resp = await client.get(url, headers=officers[role].headers("audit" if role == "auditor" else "review"))
        assert resp.status == 400, (url, await resp.text())
        assert (await resp.json())["error"]["code"] == "invalid_parameter"


async def test_stats_until_near_year_one_is_answered_not_500(client, officers):
    """The default start (until - 30 days) overflowed before 0001-01-01 (OverflowError, a 500)."""
    resp = await client.get("/api/v1/border/stats?until=0001-01-05", headers=officers["admin"].headers(None))
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["since"] == "0001-01-01"


async def test_partner_cursor_with_a_nul_is_400_not_500(client, officers):
    import base64
    for raw in (b"2020-01-01T00:00:00+00:00|\x00|x", b"2020-01-01T00:00:00+00:00|TH|a\x00b",
                b"2020-01-01T00:00:00+00:00|th|x"):
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        resp = await client.get(f"/api/v1/partner-records?cursor={cursor}", headers=officers["liaison"].headers())
        assert resp.status == 400, await resp.text()
    # after every stored record, so the answer does not depend on other tests' partner records
    good = base64.urlsafe_b64encode(b"2999-01-01T00:00:00+00:00|TH|rec-1").decode().rstrip("=")
    resp = await client.get(f"/api/v1/partner-records?cursor={good}", headers=officers["liaison"].headers())
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["items"] == []


async def test_new_account_refused_by_state_is_409(client, officers):
    """A taken username or a border point that is not active is a conflict with the state, not a bad body."""
    admin = officers["admin"].headers(None)
    resp = await client.post("/api/v1/users", json={"username": officers["liaison"].username, "role": "liaison"},
                             headers=admin)
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "already_exists"
    resp = await client.post("/api/v1/users", json={"username": "nopost-x1", "role": "immigration",
                                                    "border_point": "NO_SUCH_POST"}, headers=admin)
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "unknown_border_point"
    resp = await client.post("/api/v1/users", json={"username": "nopost-x2", "role": "liaison",
                                                    "border_point": "POIPET"}, headers=admin)
    assert resp.status == 400  # a border point for another role than immigration: the body is wrong


def test_the_custom_format_strategies_draw_only_what_the_validators_accept():
    """tests/schemathesis_hooks.py stands in for JSON Schema where it cannot speak: its values must pass."""
    import datetime as dt

    from hypothesis import HealthCheck, given, settings

    pytest.importorskip("schemathesis")
    from exchange.border.schema import validate_check
    from exchange.federation.status_api import _decode_cursor
    from exchange.params import decode_cursor
    from exchange.registry.common import cleaned_record
    from protocols.person import validate_person
    from protocols.validation import clean_text

    from .schemathesis_hooks import STRATEGIES

    class Query:  # the part of a request decode_cursor reads
        def __init__(self, cursor):
            self.query = {"cursor": cursor}

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(time=STRATEGIES["check-time"], born=STRATEGIES["child-birth-date"], name=STRATEGIES["unicode-assigned"],
           cursor=STRATEGIES["cursor"], partner_cursor=STRATEGIES["partner-cursor"],
           register_born=STRATEGIES["past-partial-date"])
    def check(time, born, name, cursor, partner_cursor, register_born):
        body = {"direction": "exit", "situation": "alone", "time": time,
                "child": {"names": [{"full": name.strip() or "Dara"}], "birth_date": born}}
        validate_check(body, dt.datetime.now(dt.UTC))
        validate_person({"names": [{"given": name, "family": "Sok"}]})
        clean_text(name, "note", 40, allow_empty=True)
        assert decode_cursor(Query(cursor)) is not None
        assert _decode_cursor(partner_cursor) is not None
        cleaned_record({"person": {"names": [{"full": "Sok Dara"}], "birth_date": register_born}})

    check()
