"""OpenAPI 3.1 description of ``/api/v1/records`` (merged into ``exchange.openapi.OPERATIONS``).

The limits and enumerations come from the validators' own constants (``protocols.person``,
``protocols.record``), so the document and the checks cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from protocols import person as P
from protocols import record as R

from .. import openapi_types as T
from ..params import MAX_VERSION
from .api import DEFAULT_LIMIT, MAX_LIMIT, MAX_NOTE, WITHDRAWAL_REASONS

_DATE = T.DATE
_COUNTRY = T.COUNTRY
_text = T.text


def _object(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": list(required), "properties": props}


NAME = {**_object({"family": T.name_part(P.MAX_NAME), "given": T.name_part(P.MAX_NAME),
                   "full": T.name_part(P.MAX_NAME), "script": {"type": "string", "enum": list(P.SCRIPTS)},
                   "kind": {"type": "string", "enum": list(P.NAME_KINDS), "default": "primary"}}),
        "anyOf": T.at_least_one(("full", "family", "given")),
        "description": "at least one of full, family or given is not blank"}
_NUMBER = "[A-Za-z0-9./-]"
DOCUMENT = _object({"kind": {"type": "string", "enum": list(P.DOCUMENT_KINDS)},
                    "number": {"type": "string", "maxLength": 64,
                               "pattern": f"^[A-Za-z0-9 ./-]*{_NUMBER}[A-Za-z0-9 ./-]*$",
                               "description": "ASCII letters and digits, spaces, '.', '/', '-'"},
                    "country": _COUNTRY, "expires": _DATE,
                    "mrz": {"type": "string", "maxLength": 100, "pattern": "^[A-Z0-9<\\n]*[A-Z0-9<][A-Z0-9<\\n]*$",
                            "description": "the MRZ alphabet (A-Z, 0-9, '<'), lines separated by newline"}},
                   ("kind", "number"))


def _address(assigned: bool) -> dict[str, Any]:
    line = _text(P.MAX_TEXT, blank=True, assigned=assigned)
    return {**_object({"line": line, "locality": line, "postcode": line, "region": line, "country": _COUNTRY}),
            "anyOf": T.at_least_one(("line", "locality", "postcode", "region"), ("country",)),
            "description": "at least one field, not blank"}


# The register refuses a birth date after today (exchange/registry/common.py: check_born); JSON Schema cannot
# say "today", so a custom format names the rule (tests/schemathesis_hooks.py draws such dates).
PAST_BIRTH_DATE = {"type": "string", "format": "past-partial-date",
                   "description": "YYYY, YYYY-MM or YYYY-MM-DD (a day that exists), from 1850, whose first day is "
                                  "not after today (in the earliest time zone, UTC+14)"}


def person(document: dict[str, Any] = DOCUMENT, *, assigned: bool = False) -> dict[str, Any]:
    """The canonical person (protocols/person.py). The border checks pass a stricter document (a whole MRZ);
    the register (``assigned``) also refuses unassigned characters in every text (registry/storable.py)."""
    return _object({
        "id": {"type": "string", "maxLength": 128, "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]*$"},
        "names": {"type": "array", "minItems": 1, "maxItems": P.MAX_NAMES, "items": NAME},
        "sex": {"type": "string", "enum": list(P.SEXES)},
        "birth_date": PAST_BIRTH_DATE if assigned else T.PARTIAL_DATE,
        "birth_place": _text(P.MAX_TEXT, assigned=assigned),
        "nationalities": {"type": "array", "maxItems": P.MAX_NATIONALITIES, "items": _COUNTRY},
        "documents": {"type": "array", "maxItems": P.MAX_DOCUMENTS, "items": document},
        "addresses": {"type": "array", "maxItems": P.MAX_ADDRESSES, "items": _address(assigned)},
    }, ("names",))


PERSON = person()
REGISTER_PERSON = person(assigned=True)
CONVICTION = {**_object({"court": _text(R.MAX_COURT, assigned=True),
                         "case_number": _text(R.MAX_CASE_NUMBER, assigned=True), "date": _DATE,
                         "offence_category": {"type": "string", "enum": list(R.OFFENCE_CATEGORIES)},
                         "sentence": _text(R.MAX_SENTENCE, assigned=True), "release_date": _DATE},
                        ("court", "case_number", "date", "offence_category")),
              "description": "release_date, when given, is not before date (a rule between two fields, which "
                             "JSON Schema cannot state)"}
SHARING = {**_object({"countries": {"type": "array", "maxItems": R.MAX_SHARING, "items": _COUNTRY}}, ("countries",)),
           "description": "absent or null: every partner whose agreement allows full records; present: only these"}
RECORD_BODY = _object({"person": REGISTER_PERSON,
                       "convictions": {"type": ["array", "null"], "maxItems": R.MAX_CONVICTIONS, "items": CONVICTION},
                       "sharing": {"oneOf": [SHARING, {"type": "null"}]},
                       "review_date": {"oneOf": [_DATE, {"type": "null"}]}}, ("person",))
_TIME = {"type": "string", "format": "date-time"}
RECORD = {"type": "object", "required": ["id", "version", "status", "person", "convictions", "sharing",
                                         "review_date", "created_at", "updated_at"],
          "properties": {"id": {"type": "string", "format": "uuid"}, "version": {"type": "integer", "minimum": 1},
                         "status": {"type": "string", "enum": ["active", "withdrawn"]}, "person": REGISTER_PERSON,
                         "convictions": {"type": "array", "items": CONVICTION},
                         "sharing": {"oneOf": [SHARING, {"type": "null"}]},
                         "review_date": {"oneOf": [_DATE, {"type": "null"}]},
                         "created_at": _TIME, "updated_at": _TIME,
                         "withdrawal": {"type": "object", "properties": {
                             "reason": {"type": "string", "enum": list(WITHDRAWAL_REASONS)},
                             "note": {"type": "string"}}}}}
VERSION_REF = {"type": "object", "required": ["id", "version"],
               "properties": {"id": {"type": "string", "format": "uuid"}, "version": {"type": "integer"},
                              "status": {"type": "string", "enum": ["active", "withdrawn"]}}}
HISTORY = {"type": "object", "required": ["id", "versions"], "properties": {
    "id": {"type": "string", "format": "uuid"},
    "versions": {"type": "array", "items": {"type": "object", "properties": {
        "version": {"type": "integer"}, "status": {"type": "string"}, "created_at": _TIME,
        "created_by": {"type": ["string", "null"]},
        "withdrawal_reason": {"type": ["string", "null"], "enum": [*WITHDRAWAL_REASONS, None]},
        "withdrawal_note": {"type": ["string", "null"]}}}}}}
PAGE = {"type": "object", "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": RECORD}, "next_cursor": {"type": ["string", "null"]}}}

_PURPOSE = T.PURPOSE_PARAMS
CURSOR = {"type": "string", "maxLength": 200, "format": "cursor",
          "description": "opaque: the next_cursor of an earlier page (another value is refused)"}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_IF_MATCH = {"name": "If-Match", "in": "header", "description": 'the version being replaced, "3" or 3 (1-999999999)',
             "schema": {"type": "string", "anyOf": [{"pattern": "^[0-9]{1,9}$"}, {"pattern": '^"[0-9]{1,9}"$'}],
                        "not": {"pattern": '^"?0+"?$'}}}
_ETAG = {"ETag": {"schema": {"type": "string"}, "description": 'the version, e.g. "3"'}}


_errors = T.errors


def _ok(schema: dict[str, Any], description: str = "ok", headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/records"): {
        "summary": "Create a record (registrar); Idempotency-Key makes a retry safe",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"}}],
        "requestBody": _body(RECORD_BODY),
        "responses": {"201": _ok(VERSION_REF, "created", {**_ETAG, "Location": {"schema": {"type": "string"}}}),
                      **_errors(400, 401, 403, 409, 413, 415)}},
    ("GET", "/api/v1/records"): {
        "summary": "List current records with filters and cursor paging (registrar, liaison); audited",
        "parameters": [*_PURPOSE,
                       {"name": "status", "in": "query", "schema": {"type": "string",
                                                                    "enum": ["active", "withdrawn"]}},
                       {"name": "offence_category", "in": "query",
                        "schema": {"type": "string", "enum": list(R.OFFENCE_CATEGORIES)}},
                       {"name": "nationality", "in": "query", "schema": _COUNTRY},
                       {"name": "updated_since", "in": "query", "schema": T.TIME},
                       {"name": "cursor", "in": "query", "schema": CURSOR},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                  "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}}],
        "responses": {"200": _ok(PAGE), **_errors(400, 401, 403)}},
    ("GET", "/api/v1/records/{id}"): {
        "summary": "Read a record, or an older version with ?version=N (registrar, liaison); audited",
        "parameters": [*_PURPOSE, _ID, {"name": "version", "in": "query",
                                        "schema": {"type": "integer", "minimum": 1,
                                                   "maximum": MAX_VERSION}}],
        "responses": {"200": _ok(RECORD, headers=_ETAG), **_errors(400, 401, 403, 404)}},
    ("PUT", "/api/v1/records/{id}"): {
        "summary": "Replace a record as a new version (registrar); If-Match names the version replaced",
        "parameters": [_ID, {**_IF_MATCH, "required": True}],
        "requestBody": _body(RECORD_BODY),
        "responses": {"200": _ok(VERSION_REF, headers=_ETAG), **_errors(400, 401, 403, 404, 409, 412, 413, 415,
                                                                         428)}},
    ("POST", "/api/v1/records/{id}/withdraw"): {
        "summary": "Withdraw a record (registrar): a new version with status withdrawn; history kept",
        "parameters": [_ID, {**_IF_MATCH, "required": False}],
        "requestBody": _body(_object({"reason": {"type": "string", "enum": list(WITHDRAWAL_REASONS)},
                                      "note": _text(MAX_NOTE, assigned=True)}, ("reason",))),
        "responses": {"200": _ok(VERSION_REF, headers=_ETAG), **_errors(400, 401, 403, 404, 409, 412, 413, 415)}},
    ("GET", "/api/v1/records/{id}/history"): {
        "summary": "The versions of a record: who, when, status, withdrawal reason (registrar, liaison, auditor); "
                   "audited",
        "parameters": [*_PURPOSE, _ID],
        "responses": {"200": _ok(HISTORY), **_errors(400, 401, 403, 404)}},
}
