"""MRZ parsing and check digits against the ICAO 9303 specimens, damaged zones and hostile input."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.mrz import MRZError, check_digit, parse_mrz
from protocols.person import validate_person

TODAY = dt.date(2026, 6, 1)

# ICAO 9303 Part 4 (TD3 passport) and Part 5 (TD1 card) specimens with their published check digits.
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<\n"
       "7408122F1204159UTO<<<<<<<<<<<6\n"
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


def td3(names: str, number: str, nationality: str, birth: str, sex: str, expiry: str, issuer: str = "KHM",
        personal: str = "") -> str:
    """A TD3 MRZ with correct check digits, built the ICAO way."""
    line1 = f"P<{issuer}{names}".ljust(44, "<")[:44]
    num = number.ljust(9, "<")
    pers = personal.ljust(14, "<")
    pers_cd = check_digit(pers) if personal else "<"
    body = (f"{num}{check_digit(num)}{nationality}{birth}{check_digit(birth)}{sex}"
            f"{expiry}{check_digit(expiry)}{pers}{pers_cd}")
    composite = body[0:10] + body[13:20] + body[21:43]
    return line1 + "\n" + body + check_digit(composite)


@pytest.mark.parametrize(("field", "digit"), [
    ("L898902C3", "6"), ("740812", "2"), ("120415", "9"), ("ZE184226B<<<<<", "1"), ("D23145890", "7"),
    ("<<<<<<<<<", "0"), ("", "0"),
])
def test_check_digit_published_values(field: str, digit: str) -> None:
    assert check_digit(field) == digit


def test_td3_specimen() -> None:
    m = parse_mrz(TD3, today=TODAY)
    assert m.valid and m.failed_checks == () and m.problems == ()
    assert (m.format, m.document_code, m.document_number) == ("TD3", "P", "L898902C3")
    assert (m.surname, m.given_names, m.names_truncated) == ("ERIKSSON", "ANNA MARIA", False)
    assert (m.issuing_code, m.issuing_country, m.nationality) == ("UTO", None, None)   # Utopia is not a country
    assert (m.birth_date, m.sex, m.expires) == ("1974-08-12", "female", "2012-04-15")
    assert m.optional_data == "ZE184226B"


def test_canonical_document_from_zone() -> None:
    m = parse_mrz(td3("SOK<<DARA", "N01234567", "KHM", "790412", "M", "300101"), today=TODAY)
    assert m.document() == {"kind": "passport", "number": "N01234567", "country": "KH", "expires": "2030-01-01"}
    card = parse_mrz(TD1, today=TODAY).document()
    assert card == {"kind": "national_id", "number": "D23145890", "expires": "2012-04-15"}   # Utopia: no country
    assert validate_person({"names": [{"full": "x"}], "documents": [card]})["documents"] == [card]


def test_td1_specimen() -> None:
    m = parse_mrz(TD1, today=TODAY)
    assert m.valid
    assert (m.format, m.document_code, m.document_number) == ("TD1", "I", "D23145890")
    assert (m.surname, m.given_names, m.birth_date, m.sex, m.expires) == (
        "ERIKSSON", "ANNA MARIA", "1974-08-12", "female", "2012-04-15")


def test_td1_long_document_number() -> None:
    # ICAO 9303-5: a number longer than 9 characters continues in the optional data, then its check digit.
    number = "D23145890734"
    line1 = f"I<UTO{number[:9]}<{number[9:]}{check_digit(number)}".ljust(30, "<")
    line2_wo = "7408122F1204159UTO<<<<<<<<<<<"
    composite = line1[5:30] + line2_wo[0:7] + line2_wo[8:15] + line2_wo[18:29]
    text = "\n".join([line1, line2_wo + check_digit(composite), "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"])
    m = parse_mrz(text, today=TODAY)
    assert m.valid and m.document_number == number


def test_cambodian_passport_and_one_line_form() -> None:
    text = td3("SOK<<DARA", "N01234567", "KHM", "790412", "M", "300101")
    m = parse_mrz(text, today=TODAY)
    assert m.valid
    assert (m.issuing_country, m.nationality, m.surname, m.given_names) == ("KH", "KH", "SOK", "DARA")
    assert (m.document_number, m.birth_date, m.sex, m.expires) == ("N01234567", "1979-04-12", "male", "2030-01-01")
    assert parse_mrz(text.replace("\n", ""), today=TODAY) == m
    assert parse_mrz("  " + text.replace("\n", "\r\n") + "\n", today=TODAY) == m


@pytest.mark.parametrize(("birth", "expected"), [
    ("100101", "2010-01-01"),    # a child: 2010 is not after today
    ("300101", "1930-01-01"),    # 2030 would be in the future
    ("7904<<", "1979-04"),       # unknown day
    ("79<<<<", "1979"),          # unknown month and day
])
def test_birth_century_and_partial_dates(birth: str, expected: str) -> None:
    m = parse_mrz(td3("NGUYEN<<VAN<AN", "C1234567", "VNM", birth, "M", "300101", issuer="VNM"), today=TODAY)
    assert m.birth_date == expected and m.valid


def test_birth_century_relative_to_expiry() -> None:
    # An expired passport read today: born in '15 must be 1915, since the passport expired in 2012.
    m = parse_mrz(td3("SOK<<DARA", "N01234567", "KHM", "150101", "M", "120101"), today=TODAY)
    assert m.birth_date == "1915-01-01"


@pytest.mark.parametrize(("line", "pos", "char", "failed"), [
    (1, 3, "9", {"number", "composite"}),          # document number digit
    (1, 15, "5", {"birth", "composite"}),          # birth date digit
    (1, 23, "2", {"expiry", "composite"}),         # expiry digit
    (1, 9, "0", {"number"}),                        # the check digit itself (composite may fail too)
    (1, 43, "7", {"composite"}),
    (1, 30, "X", {"personal", "composite"}),
])
def test_damaged_check_digits(line: int, pos: int, char: str, failed: set[str]) -> None:
    lines = TD3.split("\n")
    assert lines[line][pos] != char
    lines[line] = lines[line][:pos] + char + lines[line][pos + 1:]
    m = parse_mrz("\n".join(lines), today=TODAY)
    assert not m.valid
    assert failed <= set(m.failed_checks) <= failed | {"composite"}


def test_ocr_damage_in_dates_reported_without_values() -> None:
    lines = TD3.split("\n")
    lines[1] = lines[1][:13] + "74O812" + lines[1][19:]   # letter O for zero in the birth date
    m = parse_mrz("\n".join(lines), today=TODAY)
    assert m.birth_date is None and "birth" in m.failed_checks
    assert m.problems == ("birth date field is not a date",)
    assert not m.valid


def test_card_without_expiry() -> None:
    text = td3("SOK<<DARA", "N01234567", "KHM", "790412", "M", "<<<<<<")
    m = parse_mrz(text, today=TODAY)
    assert m.expires is None and m.valid


def test_truncated_names_flagged() -> None:
    m = parse_mrz(td3("CHANTHAVONGSAKUNWATTHANA<<PHONGSAPHAKDIWATTHANAKUL", "AA1234567", "THA", "790412",
                      "M", "300101", issuer="THA"), today=TODAY)
    assert m.names_truncated and m.valid


@pytest.mark.parametrize("text", [
    "", "P<UTO", TD3.split("\n")[0], TD3 + "\n" + "<" * 44, TD3.lower(), TD3.replace("<", " "),
    TD3.replace("E", "\u0415"),            # Cyrillic E
    TD3.replace("8", "\u0e58"),            # Thai digit eight
    TD3.replace("ANNA", "AN\x00A"),
    "A" * 10_000, "\n" * 10_000, ("<" * 44 + "\n") * 500,
    TD1.replace("\n", "\n\n\n") + "X",
    None, 42, b"P<UTO", ["P<UTO"],
])
def test_not_an_mrz_raises_declared_error(text: object) -> None:
    with pytest.raises(MRZError) as info:
        parse_mrz(text, today=TODAY)
    assert "ERIKSSON" not in str(info.value) and "L898902C3" not in str(info.value)


MRZ_CHARS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(st.lists(st.text(MRZ_CHARS, min_size=44, max_size=44), min_size=2, max_size=2),
                 st.lists(st.text(MRZ_CHARS, min_size=30, max_size=30), min_size=3, max_size=3)))
def test_any_well_shaped_zone_parses_without_crashing(lines: list[str]) -> None:
    m = parse_mrz("\n".join(lines), today=TODAY)
    assert m.valid == (not m.failed_checks and not m.problems)
    assert m.sex in ("male", "female", "unknown")


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=300))
def test_arbitrary_text_raises_only_the_declared_error(text: str) -> None:
    try:
        parse_mrz(text, today=TODAY)
    except MRZError:
        pass
