"""The OpenAPI 3 document of the officers' API, served at ``/api/v1/openapi.json``.

``OPERATIONS`` describes each route of ``exchange.routes.ROUTES``; a test fails when a route is missing here.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web

from . import openapi_types as T
from .audit_verify_api import OPERATIONS as AUDIT_VERIFY_OPERATIONS
from .auth import ROLES
from .border.openapi import OPERATIONS as BORDER_OPERATIONS
from .federation.openapi import OPERATIONS as FEDERATION_OPERATIONS
from .federation.partners_admin_openapi import OPERATIONS as PARTNER_ADMIN_OPERATIONS
from .federation.review_api import OPERATIONS as REVIEW_OPERATIONS
from .policy import policy
from .registry.deliveries import OPERATIONS as DELIVERY_OPERATIONS
from .registry.openapi import OPERATIONS as RECORD_OPERATIONS
from .search_openapi import OPERATIONS as SEARCH_OPERATIONS
from .users_mfa import OPERATIONS as MFA_OPERATIONS

ERROR = T.ERROR


_errors = T.errors


def _json(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


PURPOSE_PARAMS = T.PURPOSE_PARAMS

USER_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}

TOKEN = {"type": "object", "required": ["token", "token_type", "expires_in"],
         "properties": {"token": {"type": "string"}, "token_type": {"type": "string"},
                        "expires_in": {"type": "integer"}, "role": {"type": "string"},
                        "border_point": {"type": ["string", "null"]}}}

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/healthz"): {"summary": "Liveness", "security": [], "responses": {"200": _json({"type": "object"})}},
    ("GET", "/readyz"): {"summary": "Readiness (database answers)", "security": [],
                         "responses": {"200": _json({"type": "object"}), **_errors(503)}},
    ("GET", "/api/v1/openapi.json"): {"summary": "This document", "security": [],
                                      "responses": {"200": _json({"type": "object"})}},
    ("POST", "/api/v1/auth/token"): {
        "summary": "Log in with username, password and a current TOTP code", "security": [],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False, "required": ["username", "password", "totp"],
            "properties": {"username": T.text(64), "password": T.text(256),
                           "totp": {"type": "string", "pattern": "^[0-9]{6}$"}}}}}},
        "responses": {"200": _json(TOKEN), **_errors(400, 401, 413, 415)}},
    ("POST", "/api/v1/auth/refresh"): {"summary": "A fresh token for the same session",
                                       "responses": {"200": _json(TOKEN), **_errors(401)}},
    ("POST", "/api/v1/auth/logout"): {"summary": "End the session", "responses": {"200": _json({"type": "object"}),
                                                                                  **_errors(401)}},
    ("GET", "/api/v1/auth/me"): {"summary": "Who am I", "responses": {"200": _json({"type": "object"}),
                                                                      **_errors(401)}},
    ("GET", "/api/v1/audit"): {
        "summary": "Read the audit log (auditor); itself audited",
        "parameters": [*PURPOSE_PARAMS,
                       {"name": "since", "in": "query", "schema": T.TIME},
                       {"name": "until", "in": "query", "schema": T.TIME},
                       {"name": "username", "in": "query", "schema": T.QUERY_TEXT},
                       {"name": "action", "in": "query", "schema": T.QUERY_TEXT},
                       {"name": "outcome", "in": "query", "schema": T.QUERY_TEXT},
                       {"name": "order", "in": "query", "schema": {"type": "string", "enum": ["oldest", "newest"]},
                        "description": "oldest first (the default; the next page: after=next_after) or newest first "
                                       "(the next page: before=next_before)"},
                       {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                                  "maximum": 2**62},
                        "description": "only rows after this id"},
                       {"name": "before", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                   "maximum": 2**62},
                        "description": "only rows before this id"},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
        "responses": {"200": _json({"type": "object"}), **_errors(400, 401, 403)}},
    ("GET", "/api/v1/users"): {"summary": "List officer accounts (admin)",
                               "responses": {"200": _json({"type": "object"}), **_errors(401, 403)}},
    ("POST", "/api/v1/users"): {
        "summary": "Create an officer account (admin); answers its password and TOTP URI once",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False, "required": ["username", "role"],
            "properties": {"username": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{2,63}$"},
                           "role": {"type": "string", "enum": list(ROLES)},
                           "border_point": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]{1,31}$",
                                            "description": "the code of an active border point (else 409)"}},
            "description": "border_point is given for the immigration role and only for it",
            "if": {"properties": {"role": {"const": "immigration"}}},
            "then": {"required": ["border_point"]}, "else": {"not": {"required": ["border_point"]}}}}}},
        "responses": {"201": _json({"type": "object"}), **_errors(400, 401, 403, 409, 413, 415)}},
    ("POST", "/api/v1/users/{id}/disable"): {
        "summary": "Disable an account (effective on its next request)", "parameters": [USER_ID],
        "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)}},
    ("POST", "/api/v1/users/{id}/enable"): {
        "summary": "Enable an account", "parameters": [USER_ID],
        "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)}},
    **RECORD_OPERATIONS,  # /api/v1/records (exchange/registry/openapi.py)
    **FEDERATION_OPERATIONS,  # partners, partner records, record requests, /federation/v1 (exchange/federation)
    **BORDER_OPERATIONS,  # /border, /border-points, /alerts (exchange/border/openapi.py)
    **SEARCH_OPERATIONS,  # /api/v1/search (exchange/search_openapi.py)
    **DELIVERY_OPERATIONS,  # /api/v1/records/{id}/deliveries (exchange/registry/deliveries.py)
    **REVIEW_OPERATIONS,  # /api/v1/review-queue (exchange/federation/review_api.py)
    **AUDIT_VERIFY_OPERATIONS,  # /api/v1/audit/verify (exchange/audit_verify_api.py)
    **MFA_OPERATIONS,  # /api/v1/users/{id}/reset-mfa (exchange/users_mfa.py)
    **PARTNER_ADMIN_OPERATIONS,  # the admin's partner management (exchange/federation/partners_admin.py)
}


def _with_service_errors(path: str, op: dict[str, Any]) -> dict[str, Any]:
    """Answers any operation may give: 503 when the database is away; 413/415 for a body too large or not JSON;
    429 past a rate limit on the routes that read personal data (an X-Purpose header) and on login."""
    limited = path == "/api/v1/auth/token" or any(p.get("name") == "X-Purpose" for p in op.get("parameters", []))
    body = (413, 415) if "requestBody" in op else ()  # a body too large, or not JSON (exchange/body.py)
    extra = _errors(*body, *((429, 503) if limited else (503,)))
    return {**op, "responses": {**extra, **op.get("responses", {})}}


RULES = ("The schemas state what the server accepts. Three rules apply beyond them: in a JSON body an integer "
         "is written as an integer (10, not 10.0); a rule between fields that JSON Schema cannot state is given in "
         "the schema's description (for instance a conviction's release_date is not before its date); a custom "
         "format (cursor, partner-cursor, check-time, child-birth-date) is explained where it is used.")


def build() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in OPERATIONS.items():
        paths.setdefault(path, {})[method.lower()] = _with_service_errors(path, op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Offender information exchange: officers' API", "version": "1", "description": RULES},
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "field": {"type": ["string", "null"]}}}}}},
        },
    }


@functools.cache
def _document_text() -> str:
    return json.dumps(build())  # the document is fixed for the process: built once, on the first request


@policy(public=True)
async def document(request: web.Request) -> web.Response:
    return web.json_response(text=_document_text())
