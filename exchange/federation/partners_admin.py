"""The admin's management of partner nodes over HTTP, with the very functions ``exchange partner ...`` calls.

    GET /api/v1/partners/{id}                       one partner: its agreement and its keys (ids and validity)
    POST /api/v1/partners                           register a partner: country, base URL, pinned public keys
    PATCH /api/v1/partners/{id}                its sharing policy: receives, categories, legal basis, active
    POST /api/v1/partners/{id}/keys            pin one more of its keys (a rotation announced out of band)
    POST /api/v1/partners/{id}/keys/revoke     revoke one of its keys now (``{"kid": ...}``)

Admin only, each change audited in its transaction (``partner.add``, ``partner.policy``, ``partner.add-key``,
``partner.revoke-key``), with codes and key ids only. The partner's key set published at ``/federation/v1/keys``
still replaces a pinned one when signed by a key we trust (``partners``). Refusals of ``partners.add`` name a
CLI flag (``--url ...``): they are answered with the body field it stands for.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import asyncpg
from aiohttp import web

from protocols.keys import KeySet
from protocols.record import OFFENCE_CATEGORIES
from protocols.validation import (
    ValidationError,
    clean_bool,
    clean_enum,
    clean_exact_country,
    clean_text,
    expect_mapping,
)

from .. import audit
from ..appkeys import POOL, SETTINGS
from ..body import invalid, read_json
from ..errors import BadRequest, Conflict, NotFound
from ..middleware import actor
from ..policy import policy
from . import partners

ADD_FIELDS = ("country", "url", "signing_key", "box_key", "key_id", "receives", "categories", "legal_basis")
POLICY_FIELDS = ("receives", "categories", "legal_basis", "active")
KEY_FIELDS = ("signing_key", "box_key", "key_id")
_FLAG = re.compile(r"^--([a-z-]+) (.*)$")
_COUNTRY = re.compile(r"[A-Z]{2}", re.ASCII)
# what the admin may type as a base URL (narrower than ``partners.check_url``, so the OpenAPI pattern is exact)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
URL_PATTERN = rf"https?://{_LABEL}(?:\.{_LABEL})*(?::[1-9][0-9]{{0,3}})?(?:/[A-Za-z0-9._~-]+)*/?"
KEY_PATTERN = r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]"  # unpadded base64url of 32 bytes
KID_PATTERN = r"ed25519:[A-Za-z0-9_-]{1,32}"


def _match(value: Any, field: str, pattern: str, what: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(pattern, value, re.ASCII):
        raise ValidationError("invalid_value", field, what)
    return value


def _url(value: Any) -> str:
    return _match(value, "url", URL_PATTERN, "must be http(s)://host[:port][/path] (lower-case host, no query)")


def _key(value: Any, field: str) -> str:
    return _match(value, field, KEY_PATTERN, "must be 32 bytes in unpadded base64url (43 characters)")


def _kid(value: Any, field: str) -> str:
    return _match(value, field, KID_PATTERN, "must look like ed25519:<1-32 of A-Za-z0-9_->")


def view(partner: partners.Partner) -> dict[str, Any]:
    """What the admin sees of a partner: no secret here, public keys by their ids and validity only."""
    return {"country": partner.country, "url": partner.url, "receives": partner.receives,
            "categories": None if partner.categories is None else list(partner.categories),
            "legal_basis": partner.legal_basis, "active": partner.active, "key_set_version": partner.key_set.version,
            "keys": [{"kid": e.kid, "not_before": e.not_before.isoformat(), "not_after": e.not_after.isoformat(),
                      "revoked_at": None if e.revoked_at is None else e.revoked_at.isoformat()}
                     for e in partner.key_set.entries()]}


def _refused(err: partners.PartnerError) -> BadRequest:
    found = _FLAG.match(str(err))
    if found is None:
        return BadRequest(str(err))
    return BadRequest(found.group(2), field=found.group(1).replace("-", "_"))


def _categories(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not 1 <= len(value) <= len(OFFENCE_CATEGORIES):
        raise ValidationError("invalid_value", "categories", "must be null or a list of offence categories")
    return sorted({clean_enum(c, f"categories[{i}]", OFFENCE_CATEGORIES) for i, c in enumerate(value)})


def _text(obj: Any, key: str, max_len: int) -> str:
    return clean_text(obj[key], key, max_len)


async def _body(request: web.Request, fields: tuple[str, ...], required: tuple[str, ...]) -> Any:
    try:
        return expect_mapping(await read_json(request), "", fields, required=required)
    except ValidationError as err:
        raise invalid(err) from None


def _country(request: web.Request) -> str:
    country = request.match_info.get("id", "")
    if not _COUNTRY.fullmatch(country):
        raise NotFound("no such partner")
    return country


@policy("admin")
async def add_partner(request: web.Request) -> web.Response:
    obj = await _body(request, ADD_FIELDS, ("country", "url", "signing_key", "box_key"))
    try:
        args = {"country": clean_exact_country(obj["country"], "country"), "url": _url(obj["url"]),
                "signing_key": _key(obj["signing_key"], "signing_key"), "box_key": _key(obj["box_key"], "box_key")}
        key_id = _kid(obj["key_id"], "key_id") if "key_id" in obj else None
        receives = clean_enum(obj.get("receives", "hits"), "receives", partners.RECEIVES)
        categories = _categories(obj.get("categories"))
        legal_basis = _text(obj, "legal_basis", 200) if "legal_basis" in obj else "bilateral agreement"
    except ValidationError as err:
        raise invalid(err) from None
    if args["country"] == request.app[SETTINGS].country:
        raise Conflict("is this node's own country", code="own_country", field="country")
    try:
        async with request.app[POOL].acquire() as conn, conn.transaction():
            found = await partners.add(conn, key_id=key_id, receives=receives, categories=categories,
                                       legal_basis=legal_basis, now=dt.datetime.now(dt.UTC), **args)
            await audit.write(conn, actor(request), audit.Entry("partner.add", detail={
                "country": found.country, "receives": found.receives, "categories": found.categories}))
    except partners.PartnerError as err:
        if "registered already" in str(err):
            raise Conflict("this partner is registered already", code="already_exists", field="country") from None
        raise _refused(err) from None
    return web.json_response(view(found), status=201)


@policy("admin")
async def edit_partner(request: web.Request) -> web.Response:
    country = _country(request)
    obj = await _body(request, POLICY_FIELDS, ())
    try:
        if not obj:
            raise ValidationError("empty", "", "names no field to change")
        receives = clean_enum(obj["receives"], "receives", partners.RECEIVES) if "receives" in obj else None
        legal_basis = _text(obj, "legal_basis", 200) if "legal_basis" in obj else None
        active = clean_bool(obj["active"], "active") if "active" in obj else None
        categories = _categories(obj["categories"]) if "categories" in obj else None
    except ValidationError as err:
        raise invalid(err) from None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        done = await conn.fetchval(
            """UPDATE partners SET receives = coalesce($2, receives), legal_basis = coalesce($3, legal_basis),
                   active = coalesce($4, active), categories = CASE WHEN $5 THEN $6::text[] ELSE categories END,
                   updated_at = now()
               WHERE country = $1 RETURNING country""",
            country, receives, legal_basis, active, "categories" in obj, categories)
        if done is None:
            raise NotFound("no such partner")
        await audit.write(conn, actor(request), audit.Entry("partner.policy", detail={
            "country": country, "changed": sorted(obj), "receives": receives, "categories": categories,
            "active": active}))
        found = await _partner(conn, country)
    return web.json_response(view(found))


async def _partner(conn: asyncpg.Connection, country: str) -> partners.Partner:
    found = await partners.get(conn, country)
    if found is None:
        raise NotFound("no such partner")
    return found


@policy("admin")
async def read_partner(request: web.Request) -> web.Response:
    country = _country(request)
    async with request.app[POOL].acquire() as conn:
        partner = await _partner(conn, country)
    return web.json_response(view(partner))


@policy("admin")
async def add_partner_key(request: web.Request) -> web.Response:
    country = _country(request)
    obj = await _body(request, KEY_FIELDS, KEY_FIELDS)
    try:
        signing, box = _key(obj["signing_key"], "signing_key"), _key(obj["box_key"], "box_key")
        key_id = _kid(obj["key_id"], "key_id")
        entry = partners.pinned_key_set(country, signing, box, key_id, dt.datetime.now(dt.UTC)).entries()[0]
    except ValidationError as err:
        raise invalid(err) from None
    except partners.PartnerError as err:
        raise _refused(err) from None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        partner = await _partner(conn, country)
        if key_id in {e.kid for e in partner.key_set.entries()}:
            raise Conflict("the partner has a key with this id", code="already_exists", field="key_id")
        entries = [*partner.key_set.entries(), entry]
        await partners.store_key_set(conn, country, KeySet(country, partner.key_set.version, entries))
        await audit.write(conn, actor(request), audit.Entry("partner.add-key", detail={
            "country": country, "kid": key_id}))
        partner = await _partner(conn, country)
    return web.json_response(view(partner), status=201)


@policy("admin")
async def revoke_partner_key(request: web.Request) -> web.Response:
    country = _country(request)
    obj = await _body(request, ("kid",), ("kid",))
    try:
        kid = _kid(obj["kid"], "kid")
    except ValidationError as err:
        raise invalid(err) from None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await _partner(conn, country)
        if not await partners.revoke_key(conn, country, kid, dt.datetime.now(dt.UTC)):
            raise NotFound("the partner has no key with this id", field="kid")
        await audit.write(conn, actor(request), audit.Entry("partner.revoke-key", detail={
            "country": country, "kid": kid}))
        partner = await _partner(conn, country)
    return web.json_response(view(partner))
