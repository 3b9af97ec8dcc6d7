"""Body schemas of every message type, the register record body, and the feed's rollback/freeze rules."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from protocols import errors
from protocols.feed import check_feed_page
from protocols.fixtures import CONVICTION, NOW, PERSON, sample_bodies
from protocols.messages import MESSAGE_TYPES, validate_body
from protocols.record import OFFENCE_CATEGORIES, validate_record_body
from protocols.validation import ValidationError


def check(message_type: str, body: Any, sender: str = "KH", recipient: str = "TH") -> dict[str, Any]:
    return validate_body(message_type, body, sender=sender, recipient=recipient)


def refused(message_type: str, body: Any, field: str, sender: str = "KH") -> ValidationError:
    with pytest.raises(ValidationError) as info:
        check(message_type, body, sender=sender)
    assert info.value.field == field, info.value
    return info.value


@pytest.mark.parametrize("message_type", list(sample_bodies()))
def test_samples_are_valid_and_cleaning_is_idempotent(message_type: str) -> None:
    body = sample_bodies()[message_type]
    clean = check(message_type, body)
    assert check(message_type, clean) == clean
    assert set(MESSAGE_TYPES) == {*sample_bodies(), "key_set"}


def test_unknown_type_and_fields() -> None:
    with pytest.raises(ValidationError):
        check("record_delete", {})
    for message_type, body in sample_bodies().items():
        err = refused(message_type, {**body, "role": "admin"}, "body.role")
        assert err.code == "unknown_field"
        refused(message_type, [], "body")


def test_record_upsert_rules() -> None:
    good = sample_bodies()["record_upsert"]
    refused("record_upsert", {**good, "source_country": "TH"}, "body.source_country")  # only your own records
    refused("record_upsert", {**good, "version": 0}, "body.version")
    refused("record_upsert", {**good, "version": True}, "body.version")
    refused("record_upsert", {**good, "version": "3"}, "body.version")
    refused("record_upsert", {**good, "record_id": "../etc"}, "body.record_id")
    # a register record may carry no conviction details and no review date (issue 2); both stay optional here
    bare = {k: v for k, v in good.items() if k not in ("convictions", "review_date")}
    assert check("record_upsert", bare)["convictions"] == []
    assert check("record_upsert", {**good, "convictions": []})["convictions"] == []
    refused("record_upsert", {**good, "convictions": [{"court": "x"}]}, "body.convictions[0].case_number")
    for wrong in (0, "", {}, False):  # a wrong type is refused, never read as "no convictions"
        assert refused("record_upsert", {**good, "convictions": wrong}, "body.convictions").code == "invalid_type"
    refused("record_upsert", {**good, "review_date": "2031-02-30"}, "body.review_date")
    refused("record_upsert", {**good, "review_date": "٢٠٣١-٠٦-٢٠"}, "body.review_date")  # non-ASCII digits
    nul = {**good, "person": {**PERSON, "names": [{"full": "Sok\x00Dara"}]}}
    assert refused("record_upsert", nul, "body.person.names[0].full").code == "forbidden_character"
    bidi = {**good, "person": {**PERSON, "names": [{"full": "Sok\u202eDara"}]}}
    assert "Sok" not in str(refused("record_upsert", bidi, "body.person.names[0].full"))
    thai_dob = {**good, "person": {**PERSON, "birth_date": "๑๙๗๙-๐๓-๑๔"}}
    refused("record_upsert", thai_dob, "body.person.birth_date")
    missing = {k: v for k, v in good.items() if k != "person"}
    assert refused("record_upsert", missing, "body.person").code == "missing_field"


@pytest.mark.parametrize(("change", "field"), [
    ({"offence_category": "theft"}, "body.convictions[0].offence_category"),
    ({"date": "2019-13-01"}, "body.convictions[0].date"),
    ({"release_date": "2018-01-01"}, "body.convictions[0].release_date"),
    ({"court": ""}, "body.convictions[0].court"),
    ({"case_number": "x" * 101}, "body.convictions[0].case_number"),
    ({"sentence": 8}, "body.convictions[0].sentence"),
    ({"judge": "someone"}, "body.convictions[0].judge"),
])
def test_conviction_rules(change: dict[str, Any], field: str) -> None:
    good = sample_bodies()["record_upsert"]
    refused("record_upsert", {**good, "convictions": [{**CONVICTION, **change}]}, field)


def test_other_types() -> None:
    bodies = sample_bodies()
    refused("record_withdrawal", {**bodies["record_withdrawal"], "reason": "changed_mind"}, "body.reason")
    refused("match_query", {**bodies["match_query"], "purpose": "curiosity"}, "body.purpose")
    assert check("match_result", {"query_id": "Q-1", "result": "no_hit"}) == {"query_id": "Q-1", "result": "no_hit"}
    refused("match_result", {"query_id": "Q-1", "result": "no_hit", "band": "low"}, "body.band")
    refused("match_result", {"query_id": "Q-1", "result": "hit", "band": "low"}, "body.reference")
    refused("match_result", {**bodies["match_result"], "band": "certain"}, "body.band")
    refused("record_request", {**bodies["record_request"], "legal_basis": "x" * 301}, "body.legal_basis")
    refused("travel_notice", {**bodies["travel_notice"], "direction": "sideways"}, "body.direction")
    refused("travel_notice", {**bodies["travel_notice"], "time": "2026-05-01 07:45"}, "body.time")
    refused("travel_notice", {**bodies["travel_notice"], "destination_country": "th"}, "body.destination_country")
    refused("travel_notice", {**bodies["travel_notice"], "destination_country": "XX"}, "body.destination_country")
    receipt = bodies["receipt"]
    refused("receipt", {**receipt, "message_id": "0a1b2c3d-0000-4000-8000-00000000ABCD"}, "body.message_id")
    refused("receipt", {**receipt, "message_id": "0a1b2c3d-0000-1000-8000-00000000abcd"}, "body.message_id")
    refused("receipt", {**receipt, "accepted": ["TH-R-2"]}, "body")  # both accepted and rejected
    refused("receipt", {**receipt, "accepted": ["A", "A"]}, "body")
    refused("receipt", {**receipt, "rejected": [{"id": "B"}]}, "body.rejected[0].code")
    big = {**receipt, "accepted": [f"R-{i}" for i in range(10_000)], "rejected": [{"id": "X-1", "code": "bad"}]}
    assert len(check("receipt", big)["accepted"]) == 10_000
    refused("receipt", {**receipt, "accepted": [f"R-{i}" for i in range(10_001)]}, "body.accepted")


def test_feed_page_schema() -> None:
    page = sample_bodies()["feed_page"]
    assert [i["seq"] for i in check("feed_page", page)["items"]] == [41, 42]
    swapped = copy.deepcopy(page)
    swapped["items"].reverse()
    refused("feed_page", swapped, "body.items[1].seq")
    twice = copy.deepcopy(page)
    twice["items"][1]["seq"] = 41
    refused("feed_page", twice, "body.items[1].seq")
    refused("feed_page", {**page, "recipient": "VN"}, "body.sender")
    wrong_item = copy.deepcopy(page)
    wrong_item["items"][0]["type"] = "match_query"
    refused("feed_page", wrong_item, "body.items[0].type")
    bad_body = copy.deepcopy(page)  # one bad record neither blocks the page nor disappears
    bad_body["items"][1]["body"]["reason"] = "x"
    bad_body["items"][0]["body"]["person"]["names"] = [{"full": "Sok\u202eDara"}]
    items = check("feed_page", bad_body)["items"]
    assert items[0] == {"seq": 41, "type": "record_upsert", "record_id": "KH-R-000001",
                        "error": {"code": "forbidden_character", "field": "body.items[0].body.person.names[0].full"}}
    assert items[1]["error"] == {"code": "invalid_value", "field": "body.items[1].body.reason"}
    assert "body" not in items[1] and items[1]["record_id"] == "KH-R-000002"
    no_id = copy.deepcopy(page)
    no_id["items"][1]["body"] = ["not", "an", "object"]
    assert check("feed_page", no_id)["items"][1]["record_id"] is None
    assert check_feed_page(check("feed_page", bad_body), last_seen_seq=40, now=NOW) == 42
    assert check("feed_page", {**page, "items": [], "next_cursor": None})["items"] == []


def test_check_feed_page_refuses_rollback_and_freeze() -> None:
    page = check("feed_page", sample_bodies()["feed_page"])
    assert check_feed_page(page, last_seen_seq=40, now=NOW) == 42
    assert check_feed_page(page, last_seen_seq=0, now=NOW) == 42
    with pytest.raises(errors.Rollback) as info:
        check_feed_page(page, last_seen_seq=41, now=NOW)  # 41 was seen already
    assert info.value.code == "rollback" and info.value.status == 502
    with pytest.raises(errors.Rollback):
        check_feed_page(page, last_seen_seq=100, now=NOW)
    with pytest.raises(errors.Frozen):
        check_feed_page(page, last_seen_seq=40, now=NOW + dt.timedelta(minutes=5))
    empty = {**page, "items": []}
    assert check_feed_page(empty, last_seen_seq=77, now=NOW) == 77
    with pytest.raises(errors.Frozen):
        check_feed_page(empty, last_seen_seq=77, now=NOW + dt.timedelta(hours=1))


def test_record_body_for_the_register_api() -> None:
    body = {"person": PERSON, "convictions": [CONVICTION], "sharing": {"countries": ["th", "VN", "TH"]},
            "review_date": "2031-06-20"}
    clean = validate_record_body(body)
    assert clean["sharing"] == {"countries": ["TH", "VN"]}
    assert clean["person"]["names"][1]["full"] == "សុខ ដារ៉ា"
    # only person is required (the register API's choice): absent sharing -> None (agreement decides)
    minimal = validate_record_body({"person": PERSON})
    assert minimal == {"person": clean["person"], "convictions": [], "sharing": None, "review_date": None}
    assert validate_record_body({**body, "sharing": {"countries": []}})["sharing"] == {"countries": []}
    for bad, field in [({**body, "role": "admin"}, "role"),
                       ({**body, "sharing": {"countries": ["ZZ"]}}, "sharing.countries[0]"),
                       ({**body, "sharing": {"countries": "TH"}}, "sharing.countries"),
                       ({**body, "convictions": [{**CONVICTION, "offence_category": "x"}]},
                        "convictions[0].offence_category"),
                       ({**body, "person": {"names": []}}, "person.names"),
                       ({k: v for k, v in body.items() if k != "person"}, "person"),
                       ({**body, "review_date": "2031-6-20"}, "review_date")]:
        with pytest.raises(ValidationError) as info:
            validate_record_body(bad)
        assert info.value.field == field
    with pytest.raises(ValidationError) as info:
        validate_record_body([])
    assert info.value.field == "body"
    assert "child_trafficking" in OFFENCE_CATEGORIES
