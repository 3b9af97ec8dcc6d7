"""The register record: a person and their convictions. One schema for the register API and the partner protocol.

``validate_record_body`` checks a ``POST /records`` body::

    {"person": <canonical person>, "convictions": [<conviction>, ...],
     "sharing": {"countries": ["TH", "VN"]}, "review_date": "YYYY-MM-DD"}

and ``validate_convictions`` the conviction list that a ``record_upsert`` message carries. A conviction::

    {"court", "case_number", "date", "offence_category", "sentence", "release_date"}

Convictions are facts as a court recorded them; assessments (match adjudications) live elsewhere.
Errors are ``validation.ValidationError`` with dotted field paths and no personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .person import validate_person
from .validation import (
    Code,
    ValidationError,
    clean_country,
    clean_date,
    clean_enum,
    clean_text,
    expect_list,
    expect_mapping,
    join,
)

OFFENCE_CATEGORIES = ("child_sexual_abuse", "child_sexual_exploitation", "child_trafficking",
                      "trafficking_in_persons", "child_pornography", "other")
CONVICTION_FIELDS = ("court", "case_number", "date", "offence_category", "sentence", "release_date")
RECORD_BODY_FIELDS = ("person", "convictions", "sharing", "review_date")
SHARING_FIELDS = ("countries",)
MAX_CONVICTIONS = 50
MAX_SHARING = 10
MAX_COURT = 200
MAX_CASE_NUMBER = 100
MAX_SENTENCE = 300


def validate_conviction(value: Any, field: str) -> dict[str, str]:
    """One conviction; ``release_date`` (if given) must not precede the conviction ``date``."""
    obj = expect_mapping(value, field, CONVICTION_FIELDS, required=("court", "case_number", "date", "offence_category"))
    out = {
        "court": clean_text(obj["court"], join(field, "court"), MAX_COURT),
        "case_number": clean_text(obj["case_number"], join(field, "case_number"), MAX_CASE_NUMBER),
        "date": clean_date(obj["date"], join(field, "date")),
        "offence_category": clean_enum(obj["offence_category"], join(field, "offence_category"), OFFENCE_CATEGORIES),
    }
    if obj.get("sentence") is not None:
        out["sentence"] = clean_text(obj["sentence"], join(field, "sentence"), MAX_SENTENCE)
    if obj.get("release_date") is not None:
        release = clean_date(obj["release_date"], join(field, "release_date"))
        if release < out["date"]:  # ISO dates compare correctly as strings
            raise ValidationError(Code.INVALID_DATE, join(field, "release_date"), "is before the conviction date")
        out["release_date"] = release
    return out


def validate_convictions(value: Any, field: str = "convictions", *, min_items: int = 1) -> list[dict[str, str]]:
    items = expect_list(value, field, MAX_CONVICTIONS, min_items=min_items)
    return [validate_conviction(item, f"{field}[{i}]") for i, item in enumerate(items)]


def validate_sharing(value: Any, field: str = "sharing") -> dict[str, list[str]]:
    """Which partner countries may receive the record; duplicates are folded, order kept."""
    obj = expect_mapping(value, field, SHARING_FIELDS, required=("countries",))
    items = expect_list(obj["countries"], join(field, "countries"), MAX_SHARING)
    countries = [clean_country(c, f"{field}.countries[{i}]") for i, c in enumerate(items)]
    return {"countries": list(dict.fromkeys(countries))}


def validate_record_body(obj: Any, field: str = "") -> dict[str, Any]:
    """A register record body (``POST /records``, ``PUT /records/{id}``): returns a cleaned copy or raises.

    Only ``person`` is required. The cleaned copy always has the four keys:

    - ``convictions``: omitted or ``null`` -> ``[]`` (an empty list is accepted too);
    - ``sharing``: omitted or ``null`` -> ``None``, meaning every partner whose agreement allows full records;
      an object ``{"countries": [...]}`` narrows that to the listed partners (``[]``: no partner at all);
    - ``review_date``: omitted or ``null`` -> ``None``.
    """
    if not isinstance(obj, Mapping):
        raise ValidationError(Code.INVALID_TYPE, field or "body", "must be an object")
    body = expect_mapping(obj, field, RECORD_BODY_FIELDS, required=("person",))
    person = validate_person(body["person"], join(field, "person"))
    return {
        "person": person,
        "convictions": validate_convictions(body["convictions"], join(field, "convictions"), min_items=0)
        if body.get("convictions") is not None else [],
        "sharing": validate_sharing(body["sharing"], join(field, "sharing"))
        if body.get("sharing") is not None else None,
        "review_date": clean_date(body["review_date"], join(field, "review_date"))
        if body.get("review_date") is not None else None,
    }
