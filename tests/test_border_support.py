"""Helpers shared by the border tests (no tests here): bodies, valid and damaged MRZs, register entries."""

from __future__ import annotations

import copy
import datetime as dt
import secrets
from typing import Any

from matching.mrz import check_digit

CHECKS = "/api/v1/border/checks"
RECORDS = "/api/v1/records"


def years_ago(years: int, days: int = 0) -> str:
    today = dt.date.today()
    return (today.replace(year=today.year - years) - dt.timedelta(days=days)).isoformat()


def in_days(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def _yymmdd(iso: str) -> str:
    return iso[2:4] + iso[5:7] + iso[8:10]


def td3(surname: str, given: str, number: str, birth: str, expires: str, sex: str = "F",
        nationality: str = "KHM") -> str:
    """A passport MRZ (two lines of 44) with every check digit right."""
    line1 = f"P<{nationality}{surname.upper()}<<{given.upper().replace(' ', '<')}".ljust(44, "<")[:44]
    num = number.ljust(9, "<")
    b, e = _yymmdd(birth), _yymmdd(expires)
    personal = "<" * 14
    body = num + check_digit(num) + nationality + b + check_digit(b) + sex + e + check_digit(e) + personal + "<"
    composite = body[0:10] + body[13:20] + body[21:43]
    return line1 + "\n" + body + check_digit(composite)


def damage(mrz: str) -> str:
    """The same MRZ with the document number's check digit wrong."""
    line1, line2 = mrz.split("\n")
    wrong = str((int(line2[9]) + 1) % 10)
    return line1 + "\n" + line2[:9] + wrong + line2[10:]


def unique_word(prefix: str) -> str:
    """A name nobody else in the test database has (letters only)."""
    return prefix + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(6))


def random_birth(first: int = 1950, years: int = 40) -> str:
    """An adult's birth date unlikely to be shared with another test's register entry."""
    return f"{first + secrets.randbelow(years)}-{1 + secrets.randbelow(12):02d}-{1 + secrets.randbelow(28):02d}"


def parent(family: str, given: str, sex: str, relationship: str = "parent",
           evidence: str = "birth_certificate") -> dict[str, Any]:
    return {"person": {"names": [{"family": family, "given": given}], "sex": sex, "birth_date": years_ago(38),
                       "nationalities": ["KH"],
                       "documents": [{"kind": "national_id", "number": f"K{secrets.randbelow(10**8):08d}",
                                      "country": "KH", "expires": in_days(900)}]},
            "relationship": relationship, "evidence": evidence}


def family_body() -> dict[str, Any]:
    """A child leaving with both parents, every document in order: the rules raise no flag."""
    family = unique_word("Vong")
    birth = years_ago(9, 40)
    return {
        "direction": "exit",
        "child": {"names": [{"family": family, "given": unique_word("Sre")}], "sex": "female",
                  "birth_date": birth, "nationalities": ["KH"],
                  "documents": [{"kind": "passport", "number": f"N{secrets.randbelow(10**7):07d}", "country": "KH",
                                 "expires": in_days(700)}]},
        "stated_age": 9,
        "situation": "parents",
        "companions": [parent(family, unique_word("Da"), "male"), parent(unique_word("Lim"), unique_word("Ny"),
                                                                         "female")],
        "destination": {"country": "TH", "place": "Bangkok"},
        "purpose": "family_visit",
    }


def variant(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    out.update(changes)
    return out


async def register(client, registrar, person: dict[str, Any]) -> str:
    """Put a person in the register through the register API; returns the record id."""
    body = {"person": person, "convictions": [{"court": "Phnom Penh Municipal Court", "case_number": "PP-2019-0042",
                                              "date": "2019-06-01", "offence_category": "child_trafficking"}]}
    resp = await client.post(RECORDS, json=body, headers=registrar.headers(purpose=None))
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


async def submit(client, officer, body: dict[str, Any], status: int = 201, **headers: str) -> dict[str, Any]:
    resp = await client.post(CHECKS, json=body, headers=officer.headers(purpose="border_check", **headers))
    assert resp.status == status, await resp.text()
    return await resp.json()


async def alerts_for(client, liaison, check_id: str, status: str = "all") -> list[dict[str, Any]]:
    resp = await client.get(f"/api/v1/alerts?status={status}&check={check_id}",
                            headers=liaison.headers(purpose="border_check"))
    assert resp.status == 200, await resp.text()
    return (await resp.json())["items"]
