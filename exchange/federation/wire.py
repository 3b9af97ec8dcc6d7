"""HTTP plumbing shared by the ``/federation/v1`` handlers: reading envelope bytes, refusing officer tokens,
verifying with the registered partners' keys, and turning protocol errors into JSON answers.

These routes are ``public`` for the officers' access middleware: a partner is authenticated by the signature
of its envelope, never by a bearer token, so a request that carries an ``Authorization`` header is refused
(an officer token means nothing here). Every refusal answers ``{"error": {"code", "message", "field"}}`` with
the protocol error's status (``protocols.errors``) and is written to the audit log as a security event with
the code only (nothing unverified from the request is recorded).
"""

from __future__ import annotations

from aiohttp import web

from protocols import strictjson
from protocols.envelope import MAX_BYTES, VerifiedMessage, open_envelope
from protocols.errors import ProtocolError, TooLarge

from .. import audit
from ..appkeys import POOL
from ..middleware import request_id
from . import partners
from .context import FEDERATION, Federation, NodeKeysMissing
from .identity import IdentityError

PARTNER_ROLE = "partner"


class Refused(Exception):
    """A federation request refused outside the protocol's own errors (status, code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_json(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, "field": field}}, status=status)


def refuse_officer_token(request: web.Request) -> None:
    if "Authorization" in request.headers:
        raise Refused(403, "forbidden", "officer tokens are not accepted on the federation API; sign an envelope")


async def read_envelope(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BYTES:
        raise TooLarge("envelope is over the size limit")
    try:
        data = await request.content.read(MAX_BYTES + 1)
        while len(data) <= MAX_BYTES and not request.content.at_eof():
            more = await request.content.read(MAX_BYTES + 1 - len(data))
            if not more:
                break
            data += more
    except web.HTTPRequestEntityTooLarge:
        raise TooLarge("envelope is over the size limit") from None
    if len(data) > MAX_BYTES:
        raise TooLarge("envelope is over the size limit")
    return data


def federation(request: web.Request) -> Federation:
    return request.app[FEDERATION]


async def verify(request: web.Request, data: bytes) -> VerifiedMessage:
    """Open ``data`` addressed to this node with the registered partners' keys (raises ProtocolError)."""
    fed = federation(request)
    async with request.app[POOL].acquire() as conn:
        keyring = partners.PartnerKeyring(await partners.all_partners(conn))
    return open_envelope(data, me=fed.country, keyring=keyring, my_box_key=fed.node().box_secrets(), now=fed.now())


def signature_of(data: bytes) -> str:
    """The ``sig`` of envelope bytes that already verified (kept as provenance)."""
    return str(strictjson.loads(data)["sig"])


def partner_actor(request: web.Request, country: str | None) -> audit.Actor:
    return audit.Actor(username=f"partner:{country}" if country else "partner:unverified", role=PARTNER_ROLE,
                       request_id=request_id(request))


async def answer_errors(request: web.Request, endpoint: str, work) -> web.StreamResponse:
    """Run ``work()``; map protocol errors and refusals to JSON answers and audit them (never a 500 for them)."""
    try:
        return await work()
    except ProtocolError as exc:
        await _audit_refusal(request, endpoint, str(exc.code))
        field = getattr(exc, "field", None)
        status = 409 if exc.status == 200 else exc.status  # a replay reaching here has no stored answer
        return error_json(status, str(exc.code), exc.detail or str(exc.code), field)
    except Refused as exc:
        await _audit_refusal(request, endpoint, exc.code)
        return error_json(exc.status, exc.code, exc.message)
    except (NodeKeysMissing, IdentityError):
        return error_json(503, "node_keys_missing", "this node has no valid federation key; see `exchange keys`")


async def _audit_refusal(request: web.Request, endpoint: str, code: str) -> None:
    await audit.write_alone(request.app[POOL], partner_actor(request, None), audit.Entry(
        "federation.refused", "refused", detail={"endpoint": endpoint, "code": code}))
