"""The signed (and, except for key sets, encrypted) envelope every node-to-node message travels in.

::

    {"v": 1, "id": "<uuid4>", "type": "record_upsert", "from": "KH", "to": "TH",
     "created": "2026-05-01T08:00:00Z", "expires": "2026-05-01T08:05:00Z", "kid": "ed25519:2026a",
     "ciphertext": "<base64url sealed box of the JCS bytes of the body>",   (or "body": {...} for key_set)
     "sig": "<base64url Ed25519 signature of the JCS bytes of everything above>"}

:func:`seal` builds one; :func:`open_envelope` checks one in a fixed order and returns only verified content:
strict I-JSON parse -> exact field set -> key lookup (``from``, ``kid`` at ``created``) -> signature over the
JCS bytes of the parsed object minus ``sig`` -> field formats -> ``to`` is us -> time window -> decrypt ->
strict parse of the body -> body schema. Nothing but ``from``/``kid``/``created``/``v`` is interpreted before
the signature verifies, and the object returned is built from the verified parse, never re-read from input.
Replay (a message id seen before) needs the database: the service raises ``errors.Replayed``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from . import strictjson
from .canonical import CanonicalError, canonical_bytes
from .encoding import b64u_decode, b64u_encode, format_time, parse_time, utc
from .errors import (
    BadSignature,
    ErrorCode,
    Expired,
    Malformed,
    NotForUs,
    SchemaError,
    TooEarly,
    TooLarge,
    Undecryptable,
)
from .keys import is_kid
from .messages import MESSAGE_TYPES, PUBLIC_TYPES, clean_uuid4, validate_body
from .sealing import open_sealed
from .sealing import seal as seal_box
from .validation import ValidationError

VERSION = 1
BROADCAST = "*"  # the ``to`` of public messages (key sets)
HEADER_FIELDS = frozenset({"v", "id", "type", "from", "to", "created", "expires", "kid", "sig"})
DEFAULT_TTL = dt.timedelta(minutes=5)
DEFAULT_MAX_SKEW = dt.timedelta(minutes=5)
DEFAULT_MAX_AGE = dt.timedelta(minutes=5)
MAX_TTL = dt.timedelta(hours=24)
MAX_BYTES = strictjson.DEFAULT_MAX_BYTES
_COUNTRY = re.compile(r"[A-Z]{2}", re.ASCII)

Keyring = Callable[[str, str, dt.datetime], VerifyKey]


@dataclass(frozen=True)
class VerifiedMessage:
    """What :func:`open_envelope` returns: only fields that were signed, and the schema-checked body."""

    id: str
    type: str
    sender: str
    recipient: str
    created: dt.datetime
    expires: dt.datetime
    kid: str
    body: dict[str, Any]


def seal(message_type: str, body: dict[str, Any], *, sender: str, recipient: str, signing_key: SigningKey,
         kid: str, recipient_box_key: PublicKey | None, now: dt.datetime, ttl: dt.timedelta = DEFAULT_TTL,
         message_id: str | None = None, ephemeral: PrivateKey | None = None) -> bytes:
    """Validate ``body``, encrypt it to ``recipient_box_key`` (not for key_set), sign, and return wire bytes.

    The output is itself the JCS form of the envelope. ``message_id`` defaults to a fresh uuid4; the outbox
    passes the stored id when re-sealing a retry (the id is the replay key). ``ephemeral`` fixes the sealed
    box's ephemeral key and is for test vectors only.
    """
    if not _COUNTRY.fullmatch(sender) or not is_kid(kid) or not dt.timedelta(0) < ttl <= MAX_TTL:
        raise ValueError("bad sender, kid or ttl")
    public = message_type in PUBLIC_TYPES
    if public != (recipient == BROADCAST) or (not public and not _COUNTRY.fullmatch(recipient)):
        raise ValueError("public messages go to '*', all others to one country")
    clean = _validate_body(message_type, body, sender, recipient)
    for item in clean.get("items", []) if message_type == "feed_page" else []:
        if "error" in item:  # receivers tolerate a bad feed item; senders must not produce one
            raise SchemaError(item["error"]["field"], "fails its schema", reason=item["error"]["code"])
    created = utc(now)
    envelope: dict[str, Any] = {
        "v": VERSION, "id": clean_uuid4(message_id, "id") if message_id else str(uuid.uuid4()),
        "type": message_type, "from": sender, "to": recipient,
        "created": format_time(created), "expires": format_time(created + ttl), "kid": kid,
    }
    if public:
        envelope["body"] = clean
    else:
        if recipient_box_key is None:
            raise ValueError("an encrypted message needs the recipient's box key")
        envelope["ciphertext"] = b64u_encode(seal_box(recipient_box_key, canonical_bytes(clean), ephemeral=ephemeral))
    envelope["sig"] = b64u_encode(signing_key.sign(canonical_bytes(envelope)).signature)
    return canonical_bytes(envelope)


def open_envelope(data: bytes, *, me: str, keyring: Keyring, my_box_key: PrivateKey | Iterable[PrivateKey] | None,
                  now: dt.datetime, max_skew: dt.timedelta = DEFAULT_MAX_SKEW,
                  max_age: dt.timedelta = DEFAULT_MAX_AGE, max_bytes: int = MAX_BYTES) -> VerifiedMessage:
    """Verify ``data`` addressed to node ``me`` and return its content, or raise a ``errors.ProtocolError``."""
    env = _parse(data, max_bytes)
    _check_field_set(env)
    if type(env["v"]) is not int or env["v"] != VERSION:
        raise Malformed("unsupported envelope version")
    created = _time(env["created"], "created")
    verify_key = keyring(_text(env["from"], "from"), _text(env["kid"], "kid"), created)
    _verify(env, verify_key)

    message_type = env["type"]
    if message_type not in MESSAGE_TYPES:
        raise Malformed("unknown message type")
    try:
        message_id = clean_uuid4(env["id"], "id")
    except ValidationError:
        raise Malformed("id must be a lower-case uuid4") from None
    sender, recipient = env["from"], _text(env["to"], "to")
    public = message_type in PUBLIC_TYPES
    if not _COUNTRY.fullmatch(sender) or ("body" in env) != public:
        raise Malformed("sender or payload form does not fit the message type")
    if recipient != me and not (public and recipient == BROADCAST):
        raise NotForUs("message is addressed to another node")
    expires = _time(env["expires"], "expires")
    if not created < expires <= created + MAX_TTL:
        raise Malformed("expires must be after created and within 24 hours")
    now = utc(now)
    if created > now + max_skew:
        raise TooEarly("created is in the future")
    if now >= expires or created < now - max_age:
        raise Expired("message has expired")

    raw_body = env["body"] if public else _decrypt(env["ciphertext"], my_box_key, max_bytes)
    body = _validate_body(message_type, raw_body, sender, recipient)
    return VerifiedMessage(message_id, message_type, sender, recipient, created, expires, env["kid"], body)


def signing_bytes(envelope: dict[str, Any]) -> bytes:
    """The bytes the signature covers: JCS of the envelope without ``sig``."""
    return canonical_bytes({k: v for k, v in envelope.items() if k != "sig"})


def _parse(data: bytes | str, max_bytes: int) -> dict[str, Any]:
    try:
        env = strictjson.loads(data, max_bytes=max_bytes)
    except strictjson.StrictJSONError as exc:
        if exc.code == "too_large":
            raise TooLarge("envelope is over the size limit") from None
        raise Malformed(exc.message, code=ErrorCode(exc.code)) from None
    if not isinstance(env, dict):
        raise Malformed("envelope must be a JSON object")
    return env


def _check_field_set(env: dict[str, Any]) -> None:
    keys = set(env)
    payload = keys - HEADER_FIELDS
    if not HEADER_FIELDS <= keys:
        raise Malformed("envelope lacks a required field")
    if payload not in ({"body"}, {"ciphertext"}):
        if payload - {"body", "ciphertext"}:
            # a field the signature does not cover: the signed object is not the one received (SECURITY.md E)
            raise BadSignature("envelope has a field outside the signed set")
        raise Malformed("envelope needs exactly one of body or ciphertext")


def _verify(env: dict[str, Any], verify_key: VerifyKey) -> None:
    try:
        signature = b64u_decode(env["sig"])
        if len(signature) != 64:
            raise ValueError("bad length")
        verify_key.verify(signing_bytes(env), signature)
    except (ValueError, BadSignatureError, CanonicalError):
        raise BadSignature("signature does not verify") from None


def _decrypt(ciphertext: Any, my_box_key: PrivateKey | Iterable[PrivateKey] | None, max_bytes: int) -> Any:
    if my_box_key is None:
        raise Undecryptable("this node holds no box key")
    try:
        plaintext = open_sealed(my_box_key, b64u_decode(ciphertext))
    except (ValueError, CryptoError):
        raise Undecryptable("ciphertext does not open with our box key") from None
    try:
        return strictjson.loads(plaintext, max_bytes=max_bytes)
    except strictjson.StrictJSONError as exc:
        raise Malformed("body: " + exc.message, code=ErrorCode(exc.code)) from None


def _validate_body(message_type: str, body: Any, sender: str, recipient: str) -> dict[str, Any]:
    try:
        return validate_body(message_type, body, sender=sender, recipient=recipient)
    except ValidationError as exc:
        raise SchemaError(exc.field, exc.message, reason=exc.code) from None


def _time(value: Any, field: str) -> dt.datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise Malformed(f"{field} must be a UTC time YYYY-MM-DDTHH:MM:SSZ") from None


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise Malformed(f"{field} must be a string")
    return value
