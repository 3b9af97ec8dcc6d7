"""Message types and their body schemas: strict validators that return a cleaned copy or raise ValidationError.

Every body is a JSON object with exactly the fields below (unknown fields are refused). Cross-checks with the
envelope (``sender``/``recipient``) are part of the schema: a node only pushes its own records, a feed page
names the same two nodes as its envelope, a key set is published by the node it describes.

=================  ===============================================================================
type               body
=================  ===============================================================================
key_set            country, version, keys[] (see keys.py)                  (public, not encrypted)
record_upsert      record_id, version, source_country, person, convictions[], review_date
record_withdrawal  record_id, version, reason (expungement|acquittal_on_appeal|death|error|other)
match_query        query_id, person, purpose
match_result       query_id, result (hit|no_hit); on a hit also reference and band (high|medium|low)
record_request     reference, purpose, legal_basis
travel_notice      record_reference, border_point, direction (exit|entry), time, destination_country
receipt            message_id, accepted[] (ids), rejected[] ({id, code})
feed_page          sender, recipient, items[] ({seq, type, body}), next_cursor (or null), expires
=================  ===============================================================================

In a validated feed page, an item whose body fails its schema is returned as ``{seq, type, record_id, error}``
(``record_id`` when it can be read, ``error`` = ``{code, field}``) rather than refusing the whole page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .encoding import parse_time
from .feed import check_feed_page
from .keys import KeySet
from .person import validate_person
from .record import validate_convictions
from .validation import (
    Code,
    ValidationError,
    clean_ascii_id,
    clean_date,
    clean_enum,
    clean_exact_country,
    clean_int,
    clean_text,
    expect_list,
    expect_mapping,
    join,
)

__all__ = ["ENCRYPTED_TYPES", "MESSAGE_TYPES", "PUBLIC_TYPES", "check_feed_page", "validate_body"]

WITHDRAWAL_REASONS = ("expungement", "acquittal_on_appeal", "death", "error", "other")
PURPOSES = ("criminal_investigation", "prosecution", "border_screening", "child_protection", "vetting")
RESULTS = ("hit", "no_hit")
BANDS = ("high", "medium", "low")
DIRECTIONS = ("exit", "entry")
FEED_ITEM_TYPES = ("record_upsert", "record_withdrawal")
MAX_VERSION = 2**53 - 1
MAX_RECEIPT_IDS = 10_000
MAX_FEED_ITEMS = 500
MAX_LEGAL_BASIS = 300
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.ASCII)

Validator = Callable[[Any, str, str, str], dict[str, Any]]


def clean_uuid4(value: Any, field: str) -> str:
    """A lower-case RFC 4122 version-4 UUID string (the only spelling, so ids compare as strings)."""
    if not isinstance(value, str) or not _UUID4.fullmatch(value):
        raise ValidationError(Code.INVALID_VALUE, field, "must be a lower-case UUID version 4")
    return value


def clean_time(value: Any, field: str) -> str:
    try:
        parse_time(value)
    except ValueError:
        raise ValidationError(Code.INVALID_DATE, field, "must be a UTC time YYYY-MM-DDTHH:MM:SSZ") from None
    return str(value)


def _fields(body: Any, field: str, allowed: tuple[str, ...], required: tuple[str, ...] | None = None) -> Any:
    return expect_mapping(body, field, allowed, required=allowed if required is None else required)


def _key_set(body: Any, field: str, sender: str, recipient: str) -> dict[str, Any]:
    key_set = KeySet.from_json(body, field)
    if key_set.country != sender:
        raise ValidationError(Code.INVALID_VALUE, join(field, "country"), "must be the sending node")
    return key_set.to_json()


def _record_upsert(body: Any, field: str, sender: str, recipient: str) -> dict[str, Any]:
    obj = _fields(body, field, ("record_id", "version", "source_country", "person", "convictions", "review_date"),
                  required=("record_id", "version", "source_country", "person"))
    if obj["source_country"] != sender:
        raise ValidationError(Code.INVALID_VALUE, join(field, "source_country"), "must be the sending node")
    return {"record_id": clean_ascii_id(obj["record_id"], join(field, "record_id")),
            "version": clean_int(obj["version"], join(field, "version"), 1, MAX_VERSION),
            "source_country": sender,
            "person": validate_person(obj["person"], join(field, "person")),
            "convictions": validate_convictions(obj["convictions"], join(field, "convictions"), min_items=0)
            if obj.get("convictions") is not None else [],
            "review_date": clean_date(obj["review_date"], join(field, "review_date"))
            if obj.get("review_date") is not None else None}


def _record_withdrawal(body: Any, field: str, sender: str, recipient: str) -> dict[str, Any]:
    obj = _fields(body, field, ("record_id", "version", "reason"))
    return {"record_id": clean_ascii_id(obj["record_id"], join(field, "record_id")),
            "version": clean_int(obj["version"], join(field, "version"), 1, MAX_VERSION),
            "reason": clean_enum(obj["reason"], join(field, "reason"), WITHDRAWAL_REASONS)}


def _match_query(body: Any, field: str, sender: str, recipient: str) -> dict[str, Any]:
    obj = _fields(body, field, ("query_id", "person", "purpose"))
    return {"query_id": clean_ascii_id(obj["query_id"], join(field, "query_id")),
            "person": validate_person(obj["person"], join(field, "person")),
            "purpose": clean_enum(obj["purpose"], join(field, "purpose"), PURPOSES)}


def _match_result(body: Any, field: str, sender: str, recipient: str) -> dict[str, Any]:
    obj = _fields(body, field, ("query_id", "result", "reference", "band"), required=("query_id", "result"))
    out = {"query_id": clean_ascii_id(obj["query_id"], join(field, "query_id")),
           "result": clean_enum(obj["result"], join(field, "result"), RESULTS)}
    if out["result"] == "hit":
        for key in ("reference", "band"):
            if obj.get(key) is None:
                raise ValidationError(Code.MISSING_FIELD, join(field, key), "is required for a hit")
        out["reference"] = clean_ascii_id(obj["reference"], join(field, "reference"))
        out["band"] = clean_enum(obj["band"], join(field, "band"), BANDS)
    else:
        for key in ("reference", "band"):
            if key in obj:
                raise ValidationError(Code.UNKNOWN_FIELD, join(field, key), "must be absent for no_hit")
    return out


def _record_request(body: Any, field: str, sender: str, recipient: str) -> dict[str, Any]:
    obj = _fields(body, field, ("reference", "purpose", "legal_basis"))
    return {"reference": clean_ascii_id(obj["reference"], join(field, "reference")),
            "purpose": clean_enum(obj["purpose"], join(field, "purpose"), PURPOSES),
            "legal_basis": clean_text(obj["legal_basis"], join(field, "legal_basis"), MAX_LEGAL_BASIS)}


def _travel_notice(body: Any, field: str, sender: str, recipient: str) -> dict[str, Any]:
    obj = _fields(body, field, ("record_reference", "border_point", "direction", "time", "destination_country"))
    return {"record_reference": clean_ascii_id(obj["record_reference"], join(field, "record_reference")),
            "border_point": clean_ascii_id(obj["border_point"], join(field, "border_point"), 64),
            "direction": clean_enum(obj["direction"], join(field, "direction"), DIRECTIONS),
            "time": clean_time(obj["time"], join(field, "time")),
            "destination_country": clean_exact_country(obj["destination_country"], join(field, "destination_country"))}


def _receipt(body: Any, field: str, sender: str, recipient: str) -> dict[str, Any]:
    obj = _fields(body, field, ("message_id", "accepted", "rejected"))
    accepted_items = expect_list(obj["accepted"], join(field, "accepted"), MAX_RECEIPT_IDS)
    accepted = [clean_ascii_id(v, f"{field}.accepted[{i}]") for i, v in enumerate(accepted_items)]
    rejected = []
    for i, item in enumerate(expect_list(obj["rejected"], join(field, "rejected"), MAX_RECEIPT_IDS)):
        entry = _fields(item, f"{field}.rejected[{i}]", ("id", "code"))
        rejected.append({"id": clean_ascii_id(entry["id"], f"{field}.rejected[{i}].id"),
                         "code": clean_ascii_id(entry["code"], f"{field}.rejected[{i}].code", 64)})
    if len(set(accepted)) != len(accepted) or len({r["id"] for r in rejected}) != len(rejected) or \
            set(accepted) & {r["id"] for r in rejected}:
        raise ValidationError(Code.INVALID_VALUE, field, "lists an id twice (or as accepted and rejected)")
    return {"message_id": clean_uuid4(obj["message_id"], join(field, "message_id")),
            "accepted": accepted, "rejected": rejected}


def _feed_page(body: Any, field: str, sender: str, recipient: str) -> dict[str, Any]:
    obj = _fields(body, field, ("sender", "recipient", "items", "next_cursor", "expires"),
                  required=("sender", "recipient", "items", "expires"))
    if obj["sender"] != sender or obj["recipient"] != recipient:
        raise ValidationError(Code.INVALID_VALUE, join(field, "sender"), "must match the envelope's from and to")
    items, last = [], 0
    for i, item in enumerate(expect_list(obj["items"], join(field, "items"), MAX_FEED_ITEMS)):
        items.append(_feed_item(item, f"{field}.items[{i}]", sender, recipient))
        if items[-1]["seq"] <= last:
            raise ValidationError(Code.INVALID_VALUE, f"{field}.items[{i}].seq", "must be strictly increasing")
        last = items[-1]["seq"]
    cursor = obj.get("next_cursor")
    return {"sender": sender, "recipient": recipient, "items": items,
            "next_cursor": None if cursor is None else clean_ascii_id(cursor, join(field, "next_cursor"), 256),
            "expires": clean_time(obj["expires"], join(field, "expires"))}


def _feed_item(item: Any, where: str, sender: str, recipient: str) -> dict[str, Any]:
    """``{seq, type, body}``; a body failing its schema becomes ``{seq, type, record_id, error}`` instead.

    One bad record must neither block the feed (the page would be refused forever) nor vanish: the puller
    applies the good items, reports the bad ones in a receipt's ``rejected`` list and moves past them.
    """
    entry = _fields(item, where, ("seq", "type", "body"))
    seq = clean_int(entry["seq"], f"{where}.seq", 1, MAX_VERSION)
    kind = clean_enum(entry["type"], f"{where}.type", FEED_ITEM_TYPES)
    try:
        return {"seq": seq, "type": kind, "body": SCHEMAS[kind](entry["body"], f"{where}.body", sender, recipient)}
    except ValidationError as exc:
        raw_id = entry["body"].get("record_id") if isinstance(entry["body"], dict) else None
        try:
            record_id: str | None = clean_ascii_id(raw_id, "record_id")
        except ValidationError:
            record_id = None
        return {"seq": seq, "type": kind, "record_id": record_id, "error": {"code": exc.code, "field": exc.field}}


SCHEMAS: dict[str, Validator] = {
    "key_set": _key_set, "record_upsert": _record_upsert, "record_withdrawal": _record_withdrawal,
    "match_query": _match_query, "match_result": _match_result, "record_request": _record_request,
    "travel_notice": _travel_notice, "receipt": _receipt, "feed_page": _feed_page,
}
MESSAGE_TYPES = tuple(SCHEMAS)
PUBLIC_TYPES = frozenset({"key_set"})  # sent in clear ("body"), to "*"; everything else is encrypted
ENCRYPTED_TYPES = frozenset(SCHEMAS) - PUBLIC_TYPES


def validate_body(message_type: str, body: Any, *, sender: str, recipient: str) -> dict[str, Any]:
    """Validate ``body`` against ``message_type``'s schema; return the cleaned copy or raise ValidationError."""
    if message_type not in SCHEMAS:
        raise ValidationError(Code.INVALID_VALUE, "type", "is not a known message type")
    return SCHEMAS[message_type](body, "body", sender, recipient)
