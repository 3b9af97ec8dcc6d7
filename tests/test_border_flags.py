"""Every flag of a border check: raised by its own cause over HTTP (each case changes one thing in a clean
family crossing), and the pure rules' edges (ages from partial dates, consent, evidence, recommendation)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from exchange.border.ages import age_bounds
from exchange.border.flags import recommend, rule_flags
from exchange.border.schema import validate_check

from .test_border_support import damage, family_body, in_days, parent, register, submit, td3, unique_word, years_ago


def _alone(b: dict[str, Any]) -> None:
    b.update(situation="alone", companions=[], consent_letter={"present": True, "signed_by": "both_parents"})


def _group(b: dict[str, Any]) -> None:
    b.update(situation="group", group_size=12, consent_letter={"present": True, "signed_by": "both_parents"})
    b["companions"] = b["companions"][:1]


def _unrelated(b: dict[str, Any]) -> None:
    b["companions"][1]["relationship"] = "employer"


def _no_evidence(b: dict[str, Any]) -> None:
    b["companions"][0]["evidence"] = "none"


def _one_parent_no_letter(b: dict[str, Any]) -> None:
    b.update(situation="one_parent", companions=b["companions"][:1])


def _letter_by_stranger(b: dict[str, Any]) -> None:
    b.update(situation="one_parent", companions=b["companions"][:1],
             consent_letter={"present": True, "signed_by": "other", "notarised": True})


def _child_doc_expired(b: dict[str, Any]) -> None:
    b["child"]["documents"][0]["expires"] = in_days(-2)


def _companion_doc_expired(b: dict[str, Any]) -> None:
    b["companions"][1]["person"]["documents"][0]["expires"] = in_days(-400)


def _mrz_expired(b: dict[str, Any]) -> None:
    child = b["child"]
    child["documents"][0]["mrz"] = td3("VONG", "SREY", "N7654321", child["birth_date"], in_days(-30))


def _mrz_bad_digit(b: dict[str, Any]) -> None:
    child = b["child"]
    child["documents"][0]["mrz"] = damage(td3("VONG", "SREY", "N7654321", child["birth_date"], in_days(300)))


def _stated_age(b: dict[str, Any]) -> None:
    b["stated_age"] = 15


def _mrz_birth_differs(b: dict[str, Any]) -> None:
    child = b["child"]
    child["documents"][0]["mrz"] = td3("VONG", "SREY", "N7654321", years_ago(12), in_days(300))


def _no_document(b: dict[str, Any]) -> None:
    del b["child"]["documents"]


CASES = [
    ("child_alone", _alone), ("large_group", _group), ("unrelated_adult", _unrelated),
    ("unrelated_adult", _no_evidence), ("no_consent_letter", _one_parent_no_letter),
    ("no_consent_letter", _letter_by_stranger), ("document_expired", _child_doc_expired),
    ("document_expired", _companion_doc_expired), ("document_expired", _mrz_expired),
    ("mrz_invalid", _mrz_bad_digit), ("age_inconsistent", _stated_age), ("age_inconsistent", _mrz_birth_differs),
    ("no_document", _no_document),
]


@pytest.mark.parametrize(("flag", "change"), CASES, ids=[f"{f}-{c.__name__.strip('_')}" for f, c in CASES])
async def test_each_flag_is_raised_by_its_cause(client, officers, flag, change):
    body = family_body()
    change(body)
    answer = await submit(client, officers["immigration"], body)
    assert flag in answer["flags"]
    assert answer["recommendation"]["action"] != "clear"
    assert flag in [r["flag"] for r in answer["recommendation"]["reasons"]]


async def test_child_watchlist_hit(client, officers):
    family, given, birth = unique_word("Heng"), unique_word("Lina"), years_ago(16, 20)
    await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                   "birth_date": birth, "sex": "female"})
    body = family_body()
    body["child"].update(names=[{"full": f"{given} {family}"}], birth_date=birth, sex="female")
    body.pop("stated_age")
    answer = await submit(client, officers["immigration"], body)
    assert "child_watchlist_hit" in answer["flags"] and "companion_watchlist_hit" not in answer["flags"]


async def test_the_clean_family_raises_nothing(client, officers):
    assert (await submit(client, officers["immigration"], family_body()))["flags"] == []


NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)


def _check(**changes: Any):
    body = family_body()
    body["child"]["birth_date"] = "2016-01-10"
    body["child"]["documents"][0]["expires"] = "2030-01-01"
    for c in body["companions"]:
        c["person"]["documents"][0]["expires"] = "2030-01-01"
    body.pop("stated_age")
    body.update(changes)
    return validate_check(body, NOW)


def test_pure_rules_on_a_fixed_clock():
    assert rule_flags(_check()) == set()
    assert rule_flags(_check(stated_age=10)) == set()       # 10 on 2026-06-15: right
    assert rule_flags(_check(stated_age=11)) == set()       # one year off is tolerated
    assert rule_flags(_check(stated_age=13)) == {"age_inconsistent"}
    grand = parent("Sok", "Mealea", "female", relationship="grandparent", evidence="family_book")
    letter = {"present": True, "signed_by": "mother", "notarised": False}
    assert rule_flags(_check(situation="other_adults", companions=[grand], consent_letter=letter)) == set()
    assert rule_flags(_check(situation="group", group_size=4, companions=[grand], consent_letter=letter)) == set()
    assert "large_group" in rule_flags(_check(situation="group", group_size=5, companions=[grand],
                                              consent_letter=letter))


def test_recommendation_grades():
    assert recommend(set()).action == "clear"
    assert recommend({"document_expired"}).action == "secondary_inspection"
    assert recommend({"companion_watchlist_hit"}).action == "secondary_inspection"
    assert recommend({"child_alone", "no_consent_letter"}).action == "refer"
    reasons = recommend({"companion_watchlist_hit", "mrz_invalid"}).reasons
    assert [r["flag"] for r in reasons] == ["mrz_invalid", "companion_watchlist_hit"]


@pytest.mark.parametrize(("birth", "on", "bounds"), [
    ("2008-06-15", dt.date(2026, 6, 15), (18, 18)),
    ("2008-06-16", dt.date(2026, 6, 15), (17, 17)),
    ("2008", dt.date(2026, 6, 15), (17, 18)),
    ("2008-02", dt.date(2026, 2, 14), (17, 18)),
    ("2026-06-16", dt.date(2026, 6, 15), (-1, -1)),
])
def test_age_bounds_from_partial_dates(birth, on, bounds):
    assert age_bounds(birth, on) == bounds


def test_a_year_only_birth_date_that_may_be_a_minor_is_accepted():
    check = _check(child={"names": [{"full": "Sok Dara"}], "birth_date": str(NOW.year - 18),
                          "documents": [{"kind": "passport", "number": "N1234567", "expires": "2030-01-01"}]})
    assert check.child.record["birth_date"] == "2008"
