"""OpenAPI 3.1 description of the border routes (merged into ``exchange.openapi.OPERATIONS``).

Enumerations and limits come from the validators' own constants (``schema``, ``flags``, ``alerts``,
``points``), so the document and the checks cannot drift apart. Screened persons carry a whole MRZ (it is
parsed); the travel-situation rules are ``if``/``then``. Two rules depend on today's date, which JSON Schema
cannot name: the check's ``time`` (the last 14 days) and the child's ``birth_date`` (under 18 then) are the
custom formats ``check-time`` and ``child-birth-date``, explained in their descriptions
(tests/schemathesis_hooks.py draws values for them).
"""

from __future__ import annotations

from typing import Any

from .. import openapi_types as T
from ..registry.openapi import _PURPOSE, DOCUMENT, _body, _errors, _object, _ok, person
from . import alerts as A
from . import flags as F
from . import points as PT
from . import schema as S
from .stats import MAX_DAYS as STATS_DAYS

_COUNTRY = T.COUNTRY
_L = "[A-Z0-9<]"
# Every MRZ of a screened person is parsed (schema.py): TD3 is two lines of 44, TD1 three of 30, each either on
# its own line or run together as one.
MRZ = {"type": "string",  # at most 92 characters, under the person schema's 100: no maxLength to check
       "description": "a whole machine-readable zone: TD3 (2 x 44) or TD1 (3 x 30)",
       "pattern": f"^(?:{_L}{{44}}\\n?{_L}{{44}}|{_L}{{30}}(?:\\n{_L}{{30}}\\n|{_L}{{30}}){_L}{{30}})$"}
PERSON = person({**DOCUMENT, "properties": {**DOCUMENT["properties"], "mrz": MRZ}})
CHILD_BIRTH_DATE = {"type": "string", "format": "child-birth-date",
                    "description": "YYYY, YYYY-MM or YYYY-MM-DD (from 1850): the child is under 18 at the time of "
                                   "the check, and not born after it"}
CHILD = {**PERSON, "required": ["names", "birth_date"],
         "properties": {**PERSON["properties"], "birth_date": CHILD_BIRTH_DATE},
         "description": "canonical person; birth_date required; under 18 at the time"}
CHECK_TIME = {"type": "string", "format": "check-time", "maxLength": 40,
              "description": "RFC 3339 time with an offset, within the last 14 days and not in the future "
                             "(5 minutes of clock skew allowed); default now"}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
        "description": "client-chosen, unique per border point: a queued (offline) check replays idempotently",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"}}


def _enum(values: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _people(max_items: int, evidence: bool) -> dict[str, Any]:
    props: dict[str, Any] = {"person": PERSON, "relationship": _enum(S.RELATIONSHIPS)}
    if evidence:
        props["evidence"] = {**_enum(S.EVIDENCE), "default": "none"}
    return {"type": "array", "maxItems": max_items, "items": _object(props, ("person", "relationship"))}


CHECK_BODY = _object({
    "direction": _enum(S.DIRECTIONS), "time": CHECK_TIME,
    "child": CHILD,
    "stated_age": {"type": "integer", "minimum": 0, "maximum": 17},
    "situation": _enum(S.SITUATIONS), "group_size": {"type": "integer", "minimum": 1, "maximum": S.MAX_GROUP},
    "companions": _people(S.MAX_COMPANIONS, True),
    "consent_letter": _object({"present": {"type": "boolean"}, "signed_by": _enum(S.SIGNERS),
                               "notarised": {"type": "boolean"}}, ("present",)),
    "destination": _object({"country": _COUNTRY, "place": T.text(200)}),
    "purpose": _enum(S.PURPOSES), "seen_off_by": _people(S.MAX_HANDOVER, False),
    "met_by": _people(S.MAX_HANDOVER, False),
    "observations": T.text(S.MAX_OBSERVATIONS, blank=True), "outcome": _enum(S.OUTCOMES),
}, ("direction", "child", "situation")) | {
    "description": "a child in a group gives group_size; a child with parents, one parent or other adults lists "
                   "them in companions",
    "allOf": [{"if": {"required": ["situation"], "properties": {"situation": {"const": "group"}}},
               "then": {"required": ["group_size"]}},
              {"if": {"required": ["situation"],
                      "properties": {"situation": {"enum": ["parents", "one_parent", "other_adults"]}}},
               "then": {"required": ["companions"], "properties": {"companions": {"minItems": 1}}}}]}
RECOMMENDATION = {"type": "object", "required": ["action", "reasons"], "properties": {
    "action": _enum(["clear", "secondary_inspection", "refer"]),
    "reasons": {"type": "array", "items": {"type": "object", "properties": {
        "flag": _enum(F.ORDER), "text": {"type": "string"}}}}}}
ANSWER = {"type": "object", "required": ["id", "flags", "recommendation"], "properties": {
    "id": {"type": "string", "format": "uuid"}, "flags": {"type": "array", "items": _enum(F.ORDER)},
    "recommendation": RECOMMENDATION}}
CHECK = {"type": "object", "description": "a check; personal is null once purged; alerts only for liaison/auditor"}
_LABEL = T.text(120)
POINT = _object({"code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{1,31}$"}, "name": _LABEL, "province": _LABEL,
                 "neighbour": _COUNTRY, "crossing_type": _enum(PT.CROSSING_TYPES), "active": {"type": "boolean"}},
                ("code", "name", "province", "neighbour", "crossing_type"))
POINT_PATCH = {k: v for k, v in POINT.items() if k != "required"} | {
    "properties": {k: v for k, v in POINT["properties"].items() if k != "code"}, "minProperties": 1}
_LIST = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array"}}}
_UUID = {"type": "string", "format": "uuid"}
_NULLABLE_OBJECT = {"type": ["object", "null"]}
# One alert as ``alerts._alert_view`` shapes it: an item of the list and the answer of ``GET /alerts/{id}``.
ALERT = {"type": "object", "description": "an alert: the screened person as recorded (null once purged), the "
                                          "check's context, the matched record (ours or a partner's) and the "
                                          "explanation; decision is null while open",
         "required": ["id", "status", "created_at", "probability", "explanation", "subject", "check", "candidate",
                      "decision"],
         "properties": {
             "id": _UUID, "status": _enum([s for s in A.STATUSES if s != "all"]), "created_at": {"type": "string"},
             "probability": {"type": "number", "minimum": 0, "maximum": 1}, "explanation": _NULLABLE_OBJECT,
             "subject": _object({"kind": _enum(["child", "companion", "seen_off_by", "met_by"]),
                                 "index": {"type": "integer", "minimum": 0}, "recorded": _NULLABLE_OBJECT},
                                ("kind", "index", "recorded")),
             "check": _object({"id": _UUID, "border_point": {"type": "string"}, "time": {"type": "string"},
                               "direction": _enum(S.DIRECTIONS),
                               "destination_country": {"type": ["string", "null"]},
                               "flags": {"type": "array", "items": {"type": "string"}}},
                              ("id", "border_point", "time", "direction", "destination_country", "flags")),
             "candidate": _NULLABLE_OBJECT, "decision": _NULLABLE_OBJECT}}
ALERT_LIST = {**_LIST, "properties": {"items": {"type": "array", "items": ALERT}}}

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/border/checks"): {
        "summary": "Record and screen a check on a child traveller at the officer's own post (immigration)",
        "parameters": [*_PURPOSE, _KEY], "requestBody": _body(CHECK_BODY),
        "responses": {"201": _ok(ANSWER, "stored (or replayed for the same Idempotency-Key)"),
                      **_errors(400, 401, 403, 409, 413, 415, 503)}},
    ("GET", "/api/v1/border/checks"): {
        "summary": "Recent checks without personal data (immigration: own post; liaison, auditor: all); audited",
        "parameters": [*_PURPOSE, {"name": "border_point", "in": "query", "schema": T.QUERY_TEXT,
                                   "description": "immigration: only their own post (another is a 404)"},
                       {"name": "since", "in": "query", "schema": T.TIME},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
        "responses": {"200": _ok(_LIST), **_errors(400, 401, 403, 404)}},
    ("GET", "/api/v1/border/checks/{id}"): {
        "summary": "One check (immigration: own post only, else 404 audited; liaison, auditor: any); audited",
        "parameters": [*_PURPOSE, _ID], "responses": {"200": _ok(CHECK), **_errors(400, 401, 403, 404)}},
    ("PATCH", "/api/v1/border/checks/{id}"): {
        "summary": "Record the outcome of a check afterwards (immigration, own post)",
        "parameters": [*_PURPOSE, _ID],
        "requestBody": _body(_object({"outcome": _enum(S.OUTCOMES),
                                      "observations": T.text(S.MAX_OBSERVATIONS, blank=True)},
                                     ("outcome",))),
        "responses": {"200": _ok(CHECK), **_errors(400, 401, 403, 404, 413, 415)}},
    ("GET", "/api/v1/border/stats"): {
        "summary": "Counts per post, day, direction, situation, flag, recommendation and outcome (no personal data)",
        "description": f"since is on or before until, at most {STATS_DAYS} days apart (default: the 31 days "
                       "up to today, Cambodian dates)",
        "parameters": [{"name": "since", "in": "query", "schema": T.DATE},
                       {"name": "until", "in": "query", "schema": T.DATE},
                       {"name": "border_point", "in": "query", "schema": T.QUERY_TEXT}],
        "responses": {"200": _ok({"type": "object"}), **_errors(400, 401, 403)}},
    ("GET", "/api/v1/border-points"): {"summary": "The border points (every officer)",
                                       "responses": {"200": _ok(_LIST), **_errors(401, 403)}},
    ("POST", "/api/v1/border-points"): {
        "summary": "Add a border point (admin); audited", "requestBody": _body(POINT),
        "responses": {"201": _ok(POINT), **_errors(400, 401, 403, 409, 413, 415)}},
    ("PATCH", "/api/v1/border-points/{id}"): {
        "summary": "Edit or deactivate a border point (admin); audited",
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{1,31}$"}}],
        "requestBody": _body(POINT_PATCH), "responses": {"200": _ok(POINT), **_errors(400, 401, 403, 404, 413, 415)}},
    ("GET", "/api/v1/alerts"): {
        "summary": "Screening alerts with the screened person, the matched record (ours or a partner's) and the "
                   "explanation (liaison); audited",
        "parameters": [*_PURPOSE, {"name": "status", "in": "query", "schema": _enum(A.STATUSES)},
                       {"name": "check", "in": "query", "schema": {"type": "string", "format": "uuid"}},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
        "responses": {"200": _ok(ALERT_LIST), **_errors(400, 401, 403)}},
    ("GET", "/api/v1/alerts/{id}"): {
        "summary": "One screening alert, whatever its status, as an item of the list (liaison); audited, an unknown "
                   "id is a 404 audited as not found",
        "parameters": [*_PURPOSE, _ID], "responses": {"200": _ok(ALERT), **_errors(400, 401, 403, 404)}},
    ("POST", "/api/v1/alerts/{id}/decision"): {
        "summary": "Confirm or reject an alert (liaison); a confirmed hit on a departing adult writes a travel "
                   "notice (queued in the federation outbox when the partner is registered); a second decision is 409",
        "parameters": [*_PURPOSE, _ID],
        "requestBody": _body({"oneOf": [
            _object({"decision": _enum(["confirm"]), "reason_code": _enum(A.CONFIRM_REASONS)},
                    ("decision", "reason_code")),
            _object({"decision": _enum(["reject"]), "reason_code": _enum(A.REJECT_REASONS)},
                    ("decision", "reason_code"))]}),
        "responses": {"200": _ok({"type": "object"}), **_errors(400, 401, 403, 404, 409, 413, 415)}},
}
