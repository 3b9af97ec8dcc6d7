"""The body of ``POST /api/v1/border/checks``, validated strictly into a :class:`CheckInput`.

    {"direction": "exit"|"entry", "time"?: ISO 8601 (default: now; an offline post sends the real time),
     "child": <canonical person, birth_date required>, "stated_age"?: int,
     "situation": "alone"|"parents"|"one_parent"|"other_adults"|"group", "group_size"?: int,
     "companions"?: [{"person", "relationship", "evidence"}],
     "consent_letter"?: {"present", "signed_by", "notarised"},
     "destination"?: {"country", "place"}, "purpose"?: enum,
     "seen_off_by"?: [{"person", "relationship"}], "met_by"?: [{"person", "relationship"}],
     "observations"?: text, "outcome"?: enum}

Unknown fields are refused (so a body naming a post or a role is a 400: the post comes from the officer's
account). Every person goes through ``protocols.person.validate_person``; every MRZ must have the shape of one
(``matching.mrz.parse_mrz``; wrong check digits are a flag, not an error). The child must be under 18 at the
time of the check and not born after it. Messages never repeat the values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from matching.mrz import MRZ, MRZError, parse_mrz
from protocols.person import validate_person
from protocols.validation import (
    Code,
    ValidationError,
    clean_bool,
    clean_country,
    clean_enum,
    clean_int,
    clean_text,
    expect_list,
    expect_mapping,
    join,
)

from .ages import age_bounds

DIRECTIONS = ("exit", "entry")
SITUATIONS = ("alone", "parents", "one_parent", "other_adults", "group")
RELATIONSHIPS = ("parent", "legal_guardian", "grandparent", "sibling", "other_relative", "teacher",
                 "employer", "friend_of_family", "unrelated", "unknown")
EVIDENCE = ("birth_certificate", "family_book", "custody_order", "none")
SIGNERS = ("both_parents", "mother", "father", "legal_guardian", "other")
PURPOSES = ("tourism", "family_visit", "education", "work", "medical", "return_home", "other")
OUTCOMES = ("cleared", "secondary_inspection", "referred_police", "referred_social_affairs", "refused")

FIELDS = ("direction", "time", "child", "stated_age", "situation", "group_size", "companions", "consent_letter",
          "destination", "purpose", "seen_off_by", "met_by", "observations", "outcome")
MAX_COMPANIONS = 20
MAX_HANDOVER = 5
MAX_GROUP = 500
MAX_OBSERVATIONS = 2000
ADULT_AGE = 18
# An offline post may submit a check this long after it happened; a check time further in the future than
# the clock skew allowance is refused.
MAX_DELAY = dt.timedelta(days=14)
MAX_SKEW = dt.timedelta(minutes=5)


@dataclass
class Person:
    """A screened person: the cleaned canonical record and the parsed MRZ of each of its documents."""

    record: dict[str, Any]
    mrz: list[MRZ] = field(default_factory=list)


@dataclass
class Companion:
    person: Person
    relationship: str
    evidence: str = "none"


@dataclass
class CheckInput:
    direction: str
    time: dt.datetime
    child: Person
    situation: str
    group_size: int | None = None
    stated_age: int | None = None
    companions: list[Companion] = field(default_factory=list)
    consent_letter: dict[str, Any] | None = None
    destination: dict[str, str] = field(default_factory=dict)
    purpose: str | None = None
    seen_off_by: list[Companion] = field(default_factory=list)
    met_by: list[Companion] = field(default_factory=list)
    observations: str | None = None
    outcome: str | None = None

    def personal(self) -> dict[str, Any]:
        """Everything personal, as stored in ``border_checks.personal`` (and erased by the purge)."""
        def people(items: list[Companion]) -> list[dict[str, Any]]:
            return [{"person": c.person.record, "relationship": c.relationship, "evidence": c.evidence}
                    for c in items]
        return {"child": self.child.record, "stated_age": self.stated_age, "companions": people(self.companions),
                "consent_letter": self.consent_letter, "destination_place": self.destination.get("place"),
                "seen_off_by": people(self.seen_off_by), "met_by": people(self.met_by),
                "observations": self.observations}


def parse_time(value: Any, field_name: str) -> dt.datetime:
    if not isinstance(value, str) or not value.isascii() or len(value) > 40:
        raise ValidationError(Code.INVALID_VALUE, field_name, "must be an ISO 8601 time with an offset")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(Code.INVALID_VALUE, field_name, "must be an ISO 8601 time with an offset") from None
    if parsed.tzinfo is None:
        raise ValidationError(Code.INVALID_VALUE, field_name, "must carry a UTC offset")
    return parsed.astimezone(dt.UTC)


def _person(value: Any, field_name: str) -> Person:
    record = validate_person(value, field_name)
    mrzs = []
    for i, doc in enumerate(record.get("documents", [])):
        if "mrz" in doc:
            try:
                mrzs.append(parse_mrz(doc["mrz"]))
            except MRZError as err:
                raise ValidationError(Code.INVALID_VALUE, f"{field_name}.documents[{i}].mrz", str(err)) from None
    return Person(record, mrzs)


def _people(value: Any, field_name: str, max_items: int, with_evidence: bool) -> list[Companion]:
    out = []
    allowed = ("person", "relationship", "evidence") if with_evidence else ("person", "relationship")
    for i, item in enumerate(expect_list(value, field_name, max_items)):
        where = f"{field_name}[{i}]"
        obj = expect_mapping(item, where, allowed, required=("person", "relationship"))
        evidence = clean_enum(obj.get("evidence", "none"), join(where, "evidence"), EVIDENCE)
        out.append(Companion(_person(obj["person"], join(where, "person")),
                             clean_enum(obj["relationship"], join(where, "relationship"), RELATIONSHIPS), evidence))
    return out


def validate_check(body: Any, now: dt.datetime) -> CheckInput:
    """Return the cleaned check or raise ValidationError (code, field path, message without the value)."""
    obj = expect_mapping(body, "", FIELDS, required=("direction", "child", "situation"))
    when = parse_time(obj["time"], "time") if obj.get("time") is not None else now
    if when > now + MAX_SKEW:
        raise ValidationError(Code.INVALID_VALUE, "time", "is in the future")
    if when < now - MAX_DELAY:
        raise ValidationError(Code.INVALID_VALUE, "time", f"is more than {MAX_DELAY.days} days ago")
    child = _person(obj["child"], "child")
    if "birth_date" not in child.record:
        raise ValidationError(Code.MISSING_FIELD, "child.birth_date", "is required for a child traveller")
    youngest, oldest = age_bounds(child.record["birth_date"], when.date())
    if oldest < 0:
        raise ValidationError(Code.INVALID_DATE, "child.birth_date", "is after the time of the check")
    if youngest >= ADULT_AGE:
        raise ValidationError(Code.INVALID_VALUE, "child.birth_date",
                              f"shows a person aged {ADULT_AGE} or more: check them as a companion, not a child")
    check = CheckInput(direction=clean_enum(obj["direction"], "direction", DIRECTIONS), time=when, child=child,
                       situation=clean_enum(obj["situation"], "situation", SITUATIONS))
    if obj.get("stated_age") is not None:
        check.stated_age = clean_int(obj["stated_age"], "stated_age", 0, 17)
    if obj.get("group_size") is not None:
        check.group_size = clean_int(obj["group_size"], "group_size", 1, MAX_GROUP)
    if check.situation == "group" and check.group_size is None:
        raise ValidationError(Code.MISSING_FIELD, "group_size", "is required when the child travels in a group")
    if obj.get("companions") is not None:
        check.companions = _people(obj["companions"], "companions", MAX_COMPANIONS, True)
    if check.situation in ("parents", "one_parent", "other_adults") and not check.companions:
        raise ValidationError(Code.EMPTY, "companions", "must list the adults travelling with the child")
    if obj.get("consent_letter") is not None:
        check.consent_letter = _consent(obj["consent_letter"])
    if obj.get("destination") is not None:
        dest = expect_mapping(obj["destination"], "destination", ("country", "place"))
        if dest.get("country") is not None:
            check.destination["country"] = clean_country(dest["country"], "destination.country")
        if dest.get("place") is not None:
            check.destination["place"] = clean_text(dest["place"], "destination.place", 200)
    if obj.get("purpose") is not None:
        check.purpose = clean_enum(obj["purpose"], "purpose", PURPOSES)
    for key in ("seen_off_by", "met_by"):
        if obj.get(key) is not None:
            setattr(check, key, _people(obj[key], key, MAX_HANDOVER, False))
    if obj.get("observations") is not None:
        check.observations = clean_text(obj["observations"], "observations", MAX_OBSERVATIONS, allow_empty=True)
    if obj.get("outcome") is not None:
        check.outcome = clean_enum(obj["outcome"], "outcome", OUTCOMES)
    return check


def _consent(value: Any) -> dict[str, Any]:
    obj = expect_mapping(value, "consent_letter", ("present", "signed_by", "notarised"), required=("present",))
    out: dict[str, Any] = {"present": clean_bool(obj["present"], "consent_letter.present")}
    if obj.get("signed_by") is not None:
        out["signed_by"] = clean_enum(obj["signed_by"], "consent_letter.signed_by", SIGNERS)
    if obj.get("notarised") is not None:
        out["notarised"] = clean_bool(obj["notarised"], "consent_letter.notarised")
    return out


def validate_outcome(body: Any) -> tuple[str, str | None]:
    """The body of ``PATCH /border/checks/{id}``: ``{"outcome", "observations"?}``."""
    obj = expect_mapping(body, "", ("outcome", "observations"), required=("outcome",))
    outcome = clean_enum(obj["outcome"], "outcome", OUTCOMES)
    notes = None
    if obj.get("observations") is not None:
        notes = clean_text(obj["observations"], "observations", MAX_OBSERVATIONS, allow_empty=True)
    return outcome, notes
