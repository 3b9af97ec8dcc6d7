"""Typed keys of the aiohttp application and request (aiohttp-demos `typedefs.py` style)."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from .auth import Principal
from .config import Settings
from .keystore import TokenKeys

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
TOKEN_KEYS = web.AppKey("token_keys", TokenKeys)

# per-request storage
REQUEST_ID = web.RequestKey("request_id", str)
PRINCIPAL = web.RequestKey("principal", Principal)
PURPOSE = web.RequestKey("purpose", str)
CASE_REF = web.RequestKey("case_ref", str)
