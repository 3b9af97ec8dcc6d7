"""``GET /federation/v1/keys``: this node's key set, signed (a public ``key_set`` envelope, to ``*``).

Partners fetch it to learn rotated and revoked keys (:func:`refresh_partner_keys` is our side of that): a set
is accepted only if signed by a key already trusted for that partner and newer than the trusted one
(``protocols.keyset.accept_key_set``). Revocations stay revoked.
"""

from __future__ import annotations

import asyncpg
from aiohttp import web

from protocols import strictjson
from protocols.keys import KeyEntry, KeySet, is_kid
from protocols.keyset import accept_key_set, publish_key_set

from ..policy import policy
from . import partners as partner_registry
from .context import Federation
from .transport import TransportError
from .wire import answer_errors, federation, refuse_officer_token


@policy(public=True)
async def key_set(request: web.Request) -> web.StreamResponse:
    async def work() -> web.StreamResponse:
        refuse_officer_token(request)
        fed = federation(request)
        node, now = fed.node(), fed.now()
        data = publish_key_set(node.key_set(), signer=node.signer(now), now=now)
        return web.Response(body=data, content_type="application/json")

    return await answer_errors(request, "keys", work)


async def refresh_partner_keys(fed: Federation, conn: asyncpg.Connection, country: str) -> KeySet:
    """Fetch a partner's published key set, accept it against the trusted one, store it; raise on refusal."""
    partner = await partner_registry.get(conn, country)
    if partner is None:
        raise LookupError("no such partner")
    answer = await fed.transport.get(partner.endpoint("keys"))
    if answer.status != 200:
        raise TransportError(f"http {answer.status}")
    trusted = partner.key_set
    if partner.any_kid:  # pinned without a kid: trust the pinned key under the kid it signs with
        kid = _unverified_kid(answer.body)
        pinned = trusted.entries()[0]
        trusted = KeySet(country, trusted.version, [KeyEntry(kid, pinned.verify_key, pinned.box_key,
                                                             pinned.not_before, pinned.not_after, pinned.revoked_at)])
    accepted = accept_key_set(answer.body, trusted=trusted, me=fed.country, now=fed.now())
    await partner_registry.store_key_set(conn, country, accepted)
    return accepted


def _unverified_kid(data: bytes) -> str:
    """The kid named by an envelope, only to pick the pinned key; the signature check decides afterwards."""
    try:
        kid = strictjson.loads(data).get("kid")
    except (strictjson.StrictJSONError, AttributeError):
        kid = None
    return kid if is_kid(kid) else "ed25519:pinned"
