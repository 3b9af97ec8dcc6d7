"""OpenAPI 3.1 description of ``POST /api/v1/search`` (merged into ``exchange.openapi.OPERATIONS``).

The limits come from ``exchange.search`` and the person schema from the register's part
(``exchange.registry.openapi.PERSON``), so the document and the checks cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from . import openapi_types as T
from . import search as S
from .registry.openapi import PERSON

REQUEST = {"type": "object", "additionalProperties": False, "required": ["person"], "properties": {
    "person": PERSON,
    "limit": {"type": "integer", "minimum": 1, "maximum": S.MAX_LIMIT, "default": S.DEFAULT_LIMIT},
    "threshold": {"type": "number", "minimum": S.MIN_THRESHOLD, "maximum": S.MAX_THRESHOLD,
                  "default": S.DEFAULT_THRESHOLD, "description": "lowest match probability answered"},
    "sources": {"type": "array", "minItems": 1, "maxItems": len(S.SOURCES),
                "items": {"type": "string", "enum": list(S.SOURCES)}, "default": list(S.SOURCES)}}}
_NULLABLE_TEXT = {"type": ["string", "null"]}
SUMMARY = {"type": "object", "required": ["names", "birth_date", "sex", "nationalities", "documents"], "properties": {
    "names": {"type": "array", "items": {"type": "object"}}, "birth_date": _NULLABLE_TEXT, "sex": _NULLABLE_TEXT,
    "nationalities": {"type": "array", "items": {"type": "string"}},
    "documents": {"type": "array", "items": {"type": "object", "properties": {
        "kind": _NULLABLE_TEXT, "country": _NULLABLE_TEXT, "number": _NULLABLE_TEXT}}}}}
FEATURE = {"type": "object", "required": ["feature", "level", "weight", "detail"], "properties": {
    "feature": {"type": "string"}, "level": {"type": "string"}, "weight": {"type": "number"},
    "detail": {"type": "string", "description": "the agreement in words"}}}
CANDIDATE = {"type": "object", "required": ["source", "version", "probability", "summary", "explanation"],
             "properties": {
                 "source": {"type": "string", "enum": ["register", "partner"]},
                 "id": {"type": "string", "format": "uuid", "description": "register records"},
                 "country": {"type": "string", "description": "partner records: the partner country"},
                 "record_id": {"type": "string", "description": "partner records: the partner's record id"},
                 "version": {"type": "integer", "minimum": 1},
                 "probability": {"type": "number", "minimum": 0, "maximum": 1},
                 "summary": SUMMARY,
                 "explanation": {"type": "array", "items": FEATURE},
                 "provenance": {"type": "object", "description": "partner records: the signed message they came in",
                                "properties": {"message_id": {"type": "string"}, "kid": {"type": "string"},
                                               "via": {"type": "string"},
                                               "received_at": {"type": "string", "format": "date-time"}}}}}
ANSWER = {"type": "object", "required": ["candidates", "index", "threshold", "model_version"], "properties": {
    "candidates": {"type": "array", "maxItems": S.MAX_LIMIT, "items": CANDIDATE},
    "threshold": {"type": "number"}, "model_version": {"type": "string"},
    "index": {"type": "object", "required": ["records", "ready"],
              "properties": {"records": {"type": "integer", "minimum": 0}, "ready": {"type": "boolean"}}}}}

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/search"): {
        "summary": "Search a person in the register and the partners' records (liaison, registrar); ranked, "
                   "explained candidates; audited (ids returned, never the names asked)",
        "parameters": T.PURPOSE_PARAMS,
        "requestBody": {"required": True, "content": {"application/json": {"schema": REQUEST}}},
        "responses": {"200": {"description": "the candidates, best first", "content": {"application/json": {
                          "schema": ANSWER}}},
                      **T.errors(400, 401, 403, 413, 415, 429, 503)}},
}
