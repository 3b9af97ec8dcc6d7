"""OpenAPI entries of the federation routes (merged into ``exchange.openapi.OPERATIONS``).

The officers' operations are described in full. The ``/federation/v1`` operations are listed so that the
document covers every route, but their bodies are signed envelopes specified in docs/protocol.md (HTTP binding);
they take no bearer token (one is refused) and are authenticated by the envelope's signature.
"""

from __future__ import annotations

from typing import Any

from protocols.messages import MAX_LEGAL_BASIS
from protocols.messages import PURPOSES as PROTOCOL_PURPOSES

from .. import openapi_types as T
from ..policy import PURPOSES
from ..registry.openapi import PERSON

ERROR = T.ERROR
PURPOSE = [{"name": "X-Purpose", "in": "header", "required": True, "schema": {"type": "string",
                                                                               "enum": list(PURPOSES)}}]
COUNTRY = T.COUNTRY
_REFERENCE = {"type": "string", "maxLength": 128, "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]*$",
              "description": "the reference a partner's hit answered"}
_PROTOCOL_PURPOSE = {"type": "string", "enum": list(PROTOCOL_PURPOSES)}
_CURSOR = {"type": "string", "maxLength": 400, "format": "partner-cursor",
           "description": "opaque: the next_cursor of an earlier page (another value is refused)"}


_errors = T.errors


def _ok(schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"200": {"description": "ok", "content": {"application/json": {"schema": schema or {"type": "object"}}}}}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": False, "required": required, "properties": properties}}}}


ENVELOPE = {"required": True, "description": "a signed envelope (docs/protocol.md)",
            "content": {"application/json": {"schema": {"type": "object"}}}}
PARTNER = {"security": [], "tags": ["federation"]}

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/partners"): {
        "summary": "Partner status: queue depth, last success, last error, backoff, pull state, overdue acks",
        "responses": {**_ok(), **_errors(401, 403)}},
    ("GET", "/api/v1/partner-records"): {
        "summary": "Records received from partners (current versions), audited",
        "parameters": [*PURPOSE,
                       {"name": "country", "in": "query", "schema": COUNTRY},
                       {"name": "status", "in": "query", "schema": {"enum": ["active", "withdrawn"]}},
                       {"name": "cursor", "in": "query", "schema": _CURSOR},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
        "responses": {**_ok(), **_errors(400, 401, 403)}},
    ("POST", "/api/v1/partner-queries"): {
        "summary": "Ask a partner whether it knows a person (hit/no-hit, reference, band)",
        "parameters": PURPOSE,
        "requestBody": _body({"country": {**COUNTRY, "description": "an active partner (else 404)"},
                              "person": PERSON, "purpose": _PROTOCOL_PURPOSE}, ["country", "person", "purpose"]),
        "responses": {**_ok(), **_errors(400, 401, 403, 404, 502)}},
    ("POST", "/api/v1/partner-record-requests"): {
        "summary": "Ask a partner for the details behind its hit (its liaison officers decide)",
        "parameters": PURPOSE,
        "requestBody": _body({"country": {**COUNTRY, "description": "an active partner (else 404)"},
                              "reference": _REFERENCE, "purpose": _PROTOCOL_PURPOSE,
                              "legal_basis": T.text(MAX_LEGAL_BASIS)},
                             ["country", "reference", "purpose", "legal_basis"]),
        "responses": {**_ok(), **_errors(400, 401, 403, 404, 502)}},
    ("GET", "/api/v1/record-requests"): {
        "summary": "Partners' requests for the details behind our hits",
        "parameters": [*PURPOSE, {"name": "status", "in": "query",
                                  "schema": {"enum": ["pending", "approved", "refused"]}}],
        "responses": {**_ok(), **_errors(400, 401, 403)}},
    ("POST", "/api/v1/record-requests/{id}/decision"): {
        "summary": "Approve (the record is queued for the partner) or refuse a record request",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": _body({"decision": {"enum": ["approve", "refuse"]}, "note": T.text(500)},
                             ["decision"]),
        "responses": {**_ok(), **_errors(400, 401, 403, 404, 409)}},
    ("GET", "/federation/v1/keys"): {**PARTNER, "summary": "Partner API: this node's signed key set",
                                     "responses": {**_ok(), **_errors(403, 503)}},  # 403: an officer token
    ("POST", "/federation/v1/inbox"): {**PARTNER, "summary": "Partner API: push one signed envelope",
                                       "requestBody": ENVELOPE,
                                       "responses": {**_ok(), **_errors(400, 401, 403, 409, 413)}},
    ("POST", "/federation/v1/feed"): {**PARTNER, "summary": "Partner API: pull the next signed feed page",
                                      "requestBody": ENVELOPE,
                                      "responses": {**_ok(), **_errors(400, 401, 403, 409, 413)}},
}
