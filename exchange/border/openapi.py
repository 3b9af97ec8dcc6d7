"""OpenAPI 3.1 description of the border routes (merged into ``exchange.openapi.OPERATIONS``).

Enumerations and limits come from the validators' own constants (``schema``, ``flags``, ``alerts``,
``points``), so the document and the checks cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from ..registry.openapi import _PURPOSE, PERSON, _body, _errors, _object, _ok
from . import alerts as A
from . import flags as F
from . import points as PT
from . import schema as S

_COUNTRY = {"type": "string", "pattern": "^[A-Za-z]{2}$", "description": "ISO 3166-1 alpha-2"}
_TIME = {"type": "string", "format": "date-time"}
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
    "direction": _enum(S.DIRECTIONS), "time": {**_TIME, "description": "when the check happened (default now)"},
    "child": {**PERSON, "description": "canonical person; birth_date required; under 18 at the time"},
    "stated_age": {"type": "integer", "minimum": 0, "maximum": 17},
    "situation": _enum(S.SITUATIONS), "group_size": {"type": "integer", "minimum": 1, "maximum": S.MAX_GROUP},
    "companions": _people(S.MAX_COMPANIONS, True),
    "consent_letter": _object({"present": {"type": "boolean"}, "signed_by": _enum(S.SIGNERS),
                               "notarised": {"type": "boolean"}}, ("present",)),
    "destination": _object({"country": _COUNTRY, "place": {"type": "string", "maxLength": 200}}),
    "purpose": _enum(S.PURPOSES), "seen_off_by": _people(S.MAX_HANDOVER, False),
    "met_by": _people(S.MAX_HANDOVER, False),
    "observations": {"type": "string", "maxLength": S.MAX_OBSERVATIONS}, "outcome": _enum(S.OUTCOMES),
}, ("direction", "child", "situation"))
RECOMMENDATION = {"type": "object", "required": ["action", "reasons"], "properties": {
    "action": _enum(["clear", "secondary_inspection", "refer"]),
    "reasons": {"type": "array", "items": {"type": "object", "properties": {
        "flag": _enum(F.ORDER), "text": {"type": "string"}}}}}}
ANSWER = {"type": "object", "required": ["id", "flags", "recommendation"], "properties": {
    "id": {"type": "string", "format": "uuid"}, "flags": {"type": "array", "items": _enum(F.ORDER)},
    "recommendation": RECOMMENDATION}}
CHECK = {"type": "object", "description": "a check; personal is null once purged; alerts only for liaison/auditor"}
_LABEL = {"type": "string", "minLength": 1, "maxLength": 120, "pattern": "\\S"}
POINT = _object({"code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{1,31}$"}, "name": _LABEL, "province": _LABEL,
                 "neighbour": _COUNTRY, "crossing_type": _enum(PT.CROSSING_TYPES), "active": {"type": "boolean"}},
                ("code", "name", "province", "neighbour", "crossing_type"))
POINT_PATCH = {k: v for k, v in POINT.items() if k != "required"} | {
    "properties": {k: v for k, v in POINT["properties"].items() if k != "code"}, "minProperties": 1}
_LIST = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array"}}}

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/border/checks"): {
        "summary": "Record and screen a check on a child traveller at the officer's own post (immigration)",
        "parameters": [*_PURPOSE, _KEY], "requestBody": _body(CHECK_BODY),
        "responses": {"201": _ok(ANSWER, "stored (or replayed for the same Idempotency-Key)"),
                      **_errors(400, 401, 403, 409, 413, 415, 503)}},
    ("GET", "/api/v1/border/checks"): {
        "summary": "Recent checks without personal data (immigration: own post; liaison, auditor: all); audited",
        "parameters": [*_PURPOSE, {"name": "border_point", "in": "query", "schema": {"type": "string"}},
                       {"name": "since", "in": "query", "schema": _TIME},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
        "responses": {"200": _ok(_LIST), **_errors(400, 401, 403, 404)}},
    ("GET", "/api/v1/border/checks/{id}"): {
        "summary": "One check (immigration: own post only, else 404 audited; liaison, auditor: any); audited",
        "parameters": [*_PURPOSE, _ID], "responses": {"200": _ok(CHECK), **_errors(400, 401, 403, 404)}},
    ("PATCH", "/api/v1/border/checks/{id}"): {
        "summary": "Record the outcome of a check afterwards (immigration, own post)",
        "parameters": [*_PURPOSE, _ID],
        "requestBody": _body(_object({"outcome": _enum(S.OUTCOMES),
                                      "observations": {"type": "string", "maxLength": S.MAX_OBSERVATIONS}},
                                     ("outcome",))),
        "responses": {"200": _ok(CHECK), **_errors(400, 401, 403, 404, 413, 415)}},
    ("GET", "/api/v1/border/stats"): {
        "summary": "Counts per post, day, direction, situation, flag, recommendation and outcome (no personal data)",
        "parameters": [{"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}},
                       {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"}},
                       {"name": "border_point", "in": "query", "schema": {"type": "string"}}],
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
        "responses": {"200": _ok(_LIST), **_errors(400, 401, 403)}},
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
