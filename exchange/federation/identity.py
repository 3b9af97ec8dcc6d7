"""This node's own federation keys, kept under ``EXCHANGE_HOME/keys/node/node.json`` (folder 0700, file 0600).

The file holds the node's key set with the private halves::

    {"country": "KH", "version": 2,
     "keys": [{"kid": "ed25519:20261128-1a2b", "sign_seed": "<b64u>", "box_secret": "<b64u>",
               "not_before": "...Z", "not_after": "...Z", "revoked_at": null}, ...]}

``exchange keys init`` creates it with one key; ``keys rotate`` adds a new key and shortens the old one's
validity to an overlap (both verify meanwhile); ``keys revoke`` marks a key revoked (partners refuse it as soon
as they fetch the new signed key set). Every change raises ``version``: partners refuse a key set whose
version does not grow (``protocols.keyset``). The public half is served at ``GET /federation/v1/keys``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey

from protocols.encoding import b64u_decode, b64u_encode, format_time, parse_time, utc
from protocols.keys import KeyEntry, KeySet, NodeKey

DEFAULT_VALIDITY = dt.timedelta(days=730)
DEFAULT_OVERLAP = dt.timedelta(days=7)
_BACKDATE = dt.timedelta(minutes=10)  # tolerate partner clocks a little behind ours


class IdentityError(Exception):
    """The node's key file is missing, malformed or cannot change as asked (no key material in the message)."""


@dataclass(frozen=True)
class OwnKey:
    key: NodeKey
    not_before: dt.datetime
    not_after: dt.datetime
    revoked_at: dt.datetime | None = None

    def valid_at(self, at: dt.datetime) -> bool:
        return self.revoked_at is None and self.not_before <= at < self.not_after

    def public(self) -> KeyEntry:
        return self.key.public(self.not_before, self.not_after, self.revoked_at)


@dataclass(frozen=True)
class NodeIdentity:
    country: str
    version: int
    keys: tuple[OwnKey, ...]

    def key_set(self) -> KeySet:
        return KeySet(self.country, self.version, [k.public() for k in self.keys])

    def signer(self, at: dt.datetime) -> NodeKey:
        """The key to sign with at ``at``: the OLDEST valid one, which every partner trusts already. During a
        rotation's overlap partners fetch the new key set (signed by this key); the new key signs once the
        old one has expired."""
        valid = sorted((k for k in self.keys if k.valid_at(utc(at))), key=lambda k: k.not_before)
        if not valid:
            raise IdentityError("no node key is valid now; run `exchange keys rotate`")
        return valid[0].key

    def box_secrets(self) -> list[PrivateKey]:
        """Every unrevoked box secret, newest first (a sender may still use the older key during a rotation)."""
        live = sorted((k for k in self.keys if k.revoked_at is None), key=lambda k: k.not_before, reverse=True)
        return [k.key.box_private for k in live]

    def show(self, at: dt.datetime) -> dict[str, str]:
        """What a partner needs to pin this node: ``exchange keys show --json``."""
        key = self.signer(at)
        return {"country": self.country, "signing_key": b64u_encode(bytes(key.signing_key.verify_key)),
                "box_key": b64u_encode(bytes(key.box_private.public_key)), "key_id": key.kid}


def key_path(home: Path) -> Path:
    return home / "keys" / "node" / "node.json"


def new_kid(now: dt.datetime) -> str:
    return f"ed25519:{utc(now):%Y%m%d}-{secrets.token_hex(3)}"


def _new_key(now: dt.datetime, validity: dt.timedelta) -> OwnKey:
    start = utc(now) - _BACKDATE
    return OwnKey(NodeKey.generate(new_kid(now)), start, start + validity)


def init(home: Path, country: str, now: dt.datetime, validity: dt.timedelta = DEFAULT_VALIDITY) -> NodeIdentity:
    """Create the node's first key; refuses if a key file exists already (rotate instead)."""
    if key_path(home).exists():
        raise IdentityError("node keys exist already; use `exchange keys rotate` to add a key")
    identity = NodeIdentity(country, 1, (_new_key(now, validity),))
    save(home, identity)
    return identity


def load(home: Path, country: str) -> NodeIdentity:
    path = key_path(home)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = tuple(_read_key(item) for item in data["keys"])
        identity = NodeIdentity(str(data["country"]), int(data["version"]), keys)
    except FileNotFoundError:
        raise IdentityError("no node keys; run `exchange keys init`") from None
    except (ValueError, KeyError, TypeError):
        raise IdentityError("the node key file is malformed") from None
    if identity.country != country:
        raise IdentityError("the node key file belongs to another country than EXCHANGE_COUNTRY")
    return identity


def rotate(home: Path, country: str, now: dt.datetime, overlap: dt.timedelta = DEFAULT_OVERLAP,
           validity: dt.timedelta = DEFAULT_VALIDITY) -> NodeIdentity:
    """Add a new key valid from now; every older valid key stays valid for ``overlap`` more, then expires."""
    current = load(home, country)
    end = utc(now) + overlap
    old = tuple(replace(k, not_after=min(k.not_after, end)) if k.revoked_at is None else k for k in current.keys)
    fresh = _new_key(now, validity)
    identity = NodeIdentity(country, current.version + 1, (*old, fresh))
    save(home, identity)
    return identity


def revoke(home: Path, country: str, kid: str, now: dt.datetime) -> NodeIdentity:
    """Revoke ``kid`` at once; refuses to revoke the last key valid now (rotate first)."""
    current = load(home, country)
    if kid not in {k.key.kid for k in current.keys}:
        raise IdentityError("no such key id in this node's key set")
    keys = tuple(replace(k, revoked_at=utc(now)) if k.key.kid == kid and k.revoked_at is None else k
                 for k in current.keys)
    if not any(k.valid_at(utc(now)) for k in keys):
        raise IdentityError("that would leave no valid key; rotate first")
    identity = NodeIdentity(country, current.version + 1, keys)
    save(home, identity)
    return identity


def save(home: Path, identity: NodeIdentity) -> None:
    """Write the key file atomically with mode 0600 in a 0700 folder."""
    path = key_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    data = {"country": identity.country, "version": identity.version, "keys": [_write_key(k) for k in identity.keys]}
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
    os.replace(tmp, path)


def _write_key(k: OwnKey) -> dict[str, Any]:
    return {"kid": k.key.kid, "sign_seed": b64u_encode(bytes(k.key.signing_key)),
            "box_secret": b64u_encode(bytes(k.key.box_private)), "not_before": format_time(k.not_before),
            "not_after": format_time(k.not_after),
            "revoked_at": None if k.revoked_at is None else format_time(k.revoked_at)}


def _read_key(item: dict[str, Any]) -> OwnKey:
    key = NodeKey.from_seeds(item["kid"], b64u_decode(item["sign_seed"]), b64u_decode(item["box_secret"]))
    revoked = item.get("revoked_at")
    return OwnKey(key, parse_time(item["not_before"]), parse_time(item["not_after"]),
                  None if revoked is None else parse_time(revoked))
