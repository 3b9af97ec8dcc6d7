"""``/api/v1/border-points``: the border points as data (code, name, province, neighbouring country, crossing
type, active). Every officer may list them; an administrator adds and edits them (audited). A point is never
deleted, because checks and accounts refer to it: it is made inactive, and its officers can no longer submit.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from aiohttp import web

from protocols.validation import (
    Code,
    ValidationError,
    clean_bool,
    clean_country,
    clean_enum,
    clean_text,
    expect_mapping,
)

from .. import audit
from ..appkeys import POOL
from ..body import invalid, read_json
from ..errors import Conflict, NotFound
from ..middleware import actor
from ..policy import policy

CROSSING_TYPES = ("land", "sea", "river", "air")
FIELDS = ("code", "name", "province", "neighbour", "crossing_type", "active")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,31}", re.ASCII)


def _view(row: asyncpg.Record) -> dict[str, Any]:
    return {"code": row["code"], "name": row["name"], "province": row["province"], "neighbour": row["neighbour"],
            "crossing_type": row["crossing_type"], "active": row["active"]}


def _clean(body: Any, *, creating: bool) -> dict[str, Any]:
    allowed = FIELDS if creating else FIELDS[1:]
    required = ("code", "name", "province", "neighbour", "crossing_type") if creating else ()
    obj = expect_mapping(body, "", allowed, required=required)
    out: dict[str, Any] = {}
    if "code" in obj:
        if not isinstance(obj["code"], str) or not _CODE.fullmatch(obj["code"]):
            raise ValidationError(Code.INVALID_VALUE, "code", "must be 2-32 capital letters, digits or '_'")
        out["code"] = obj["code"]
    for key in ("name", "province"):
        if obj.get(key) is not None:
            out[key] = clean_text(obj[key], key, 120)
    if obj.get("neighbour") is not None:
        out["neighbour"] = clean_country(obj["neighbour"], "neighbour")
    if obj.get("crossing_type") is not None:
        out["crossing_type"] = clean_enum(obj["crossing_type"], "crossing_type", CROSSING_TYPES)
    if obj.get("active") is not None:
        out["active"] = clean_bool(obj["active"], "active")
    if not creating and not out:
        raise ValidationError(Code.EMPTY, "", "names no field to change")
    return out


async def _read(request: web.Request, *, creating: bool) -> dict[str, Any]:
    try:
        return _clean(await read_json(request), creating=creating)
    except ValidationError as err:
        raise invalid(err) from None


@policy("admin", "registrar", "liaison", "immigration", "auditor")
async def list_points(request: web.Request) -> web.Response:
    async with request.app[POOL].acquire() as conn:
        rows = await conn.fetch("SELECT * FROM border_points ORDER BY code")
    return web.json_response({"items": [_view(r) for r in rows]})


@policy("admin")
async def add_point(request: web.Request) -> web.Response:
    point = await _read(request, creating=True)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """INSERT INTO border_points (code, name, province, neighbour, crossing_type, active)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING RETURNING *""",
            point["code"], point["name"], point["province"], point["neighbour"], point["crossing_type"],
            point.get("active", True))
        if row is None:
            raise Conflict("a border point with this code exists", field="code")
        await audit.write(conn, actor(request), audit.Entry("border_point.add", record_ids=[point["code"]],
                                                            detail=_view(row)))
    return web.json_response(_view(row), status=201)


@policy("admin")
async def edit_point(request: web.Request) -> web.Response:
    code = request.match_info.get("id", "")
    if not _CODE.fullmatch(code):
        raise NotFound("no such border point")
    change = await _read(request, creating=False)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """UPDATE border_points SET name = coalesce($2, name), province = coalesce($3, province),
                   neighbour = coalesce($4, neighbour), crossing_type = coalesce($5, crossing_type),
                   active = coalesce($6, active), updated_at = now()
               WHERE code = $1 RETURNING *""",
            code, change.get("name"), change.get("province"), change.get("neighbour"), change.get("crossing_type"),
            change.get("active"))
        if row is None:
            raise NotFound("no such border point")
        await audit.write(conn, actor(request), audit.Entry("border_point.edit", record_ids=[code],
                                                            detail={"changed": sorted(change)}))
    return web.json_response(_view(row))
