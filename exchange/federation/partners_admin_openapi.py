"""The OpenAPI part of the admin's partner management (``partners_admin.py``): the same patterns its validators use."""

from __future__ import annotations

from typing import Any

from protocols.record import OFFENCE_CATEGORIES

from .. import openapi_types as T
from .partners import RECEIVES
from .partners_admin import KEY_PATTERN, KID_PATTERN, URL_PATTERN

_COUNTRY_PATH = {"name": "id", "in": "path", "required": True, "description": "the partner's country code",
                 "schema": {"type": "string", "pattern": "^[A-Z]{2}$"}}
_KEY = {"type": "string", "pattern": f"^{KEY_PATTERN}$", "description": "32 bytes, unpadded base64url"}
_KID = {"type": "string", "pattern": f"^{KID_PATTERN}$"}
_CATEGORIES = {"type": ["array", "null"], "minItems": 1, "maxItems": len(OFFENCE_CATEGORIES),
               "items": {"type": "string", "enum": list(OFFENCE_CATEGORIES)},
               "description": "offence categories its full records are narrowed to; null: every category"}
_PARTNER = {"type": "object", "required": ["country", "url", "receives", "active", "keys"],
            "properties": {"country": {"type": "string"}, "url": {"type": "string"},
                           "receives": {"type": "string", "enum": list(RECEIVES)}, "categories": _CATEGORIES,
                           "legal_basis": {"type": "string"}, "active": {"type": "boolean"},
                           "key_set_version": {"type": "integer"}, "keys": {"type": "array"}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _answer(status: int, *errors: int) -> dict[str, Any]:
    return {str(status): {"description": "the partner", "content": {"application/json": {"schema": _PARTNER}}},
            **T.errors(*errors)}


OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/partners"): {
        "summary": "Register a partner node with its base URL and pinned public keys (admin); audited",
        "requestBody": _body({
            "type": "object", "additionalProperties": False, "required": ["country", "url", "signing_key", "box_key"],
            "properties": {"country": {"type": "string", "enum": T.COUNTRY["enum"]},
                           "url": {"type": "string", "pattern": f"^{URL_PATTERN}$"},
                           "signing_key": _KEY, "box_key": _KEY, "key_id": _KID,
                           "receives": {"type": "string", "enum": list(RECEIVES)}, "categories": _CATEGORIES,
                           "legal_basis": T.text(200)},
            "description": "409 for a partner registered already or this node's own country"}),
        "responses": _answer(201, 400, 401, 403, 409)},
    ("GET", "/api/v1/partners/{id}"): {
        "summary": "One partner: its agreement and its keys by id and validity (admin)", "parameters": [_COUNTRY_PATH],
        "responses": _answer(200, 401, 403, 404)},
    ("PATCH", "/api/v1/partners/{id}"): {
        "summary": "Set a partner's sharing policy: receives, categories, legal basis, active (admin); audited",
        "parameters": [_COUNTRY_PATH],
        "requestBody": _body({
            "type": "object", "additionalProperties": False, "minProperties": 1,
            "properties": {"receives": {"type": "string", "enum": list(RECEIVES)}, "categories": _CATEGORIES,
                           "legal_basis": T.text(200), "active": {"type": "boolean"}}}),
        "responses": _answer(200, 400, 401, 403, 404)},
    ("POST", "/api/v1/partners/{id}/keys"): {
        "summary": "Pin one more public key of a partner (a rotation announced out of band; admin); audited",
        "parameters": [_COUNTRY_PATH],
        "requestBody": _body({"type": "object", "additionalProperties": False,
                              "required": ["signing_key", "box_key", "key_id"],
                              "properties": {"signing_key": _KEY, "box_key": _KEY, "key_id": _KID}}),
        "responses": _answer(201, 400, 401, 403, 404, 409)},
    ("POST", "/api/v1/partners/{id}/keys/revoke"): {
        "summary": "Revoke one of a partner's keys now (admin); audited",
        "parameters": [_COUNTRY_PATH],
        "requestBody": _body({"type": "object", "additionalProperties": False, "required": ["kid"],
                              "properties": {"kid": _KID}}),
        "responses": _answer(200, 400, 401, 403, 404)},
}
