"""Node keys: Ed25519 signing keys and Curve25519 box keys, grouped in a :class:`KeySet` with validity periods.

A node holds one or more :class:`NodeKey` (private seeds) and publishes the public halves as a KeySet:
entries with a kid (``ed25519:<label>``), a signing key, a box key, ``not_before`` / ``not_after`` and an
optional ``revoked_at``. A message is checked against the key valid at its ``created`` time (as synapse's
keyring does); a revoked key is refused whatever the time; during rotation the old and the new key are
both valid for an overlap, so messages signed either side of the switch verify.

Kids are allow-listed: a kid from the wire is only ever tested for membership in the set's dict; it never
reaches a file name, a URL or a query. Keys are written as unpadded base64url of the raw 32 bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from .encoding import b64u_decode, b64u_encode, format_time, parse_time
from .errors import ExpiredKey, RevokedKey, UnknownKey
from .validation import Code, ValidationError, clean_exact_country, clean_int, expect_list, expect_mapping

KID_PATTERN = re.compile(r"ed25519:[A-Za-z0-9_-]{1,32}", re.ASCII)
MAX_KEYS = 16
ENTRY_FIELDS = ("kid", "sign", "box", "not_before", "not_after", "revoked_at")


def is_kid(value: Any) -> bool:
    return isinstance(value, str) and KID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True)
class KeyEntry:
    """The public half of one node key and when it may be used."""

    kid: str
    verify_key: VerifyKey
    box_key: PublicKey
    not_before: dt.datetime
    not_after: dt.datetime
    revoked_at: dt.datetime | None = None

    def valid_at(self, at: dt.datetime) -> bool:
        return self.revoked_at is None and self.not_before <= at < self.not_after

    def to_json(self) -> dict[str, str]:
        out = {"kid": self.kid, "sign": b64u_encode(bytes(self.verify_key)), "box": b64u_encode(bytes(self.box_key)),
               "not_before": format_time(self.not_before), "not_after": format_time(self.not_after)}
        if self.revoked_at is not None:
            out["revoked_at"] = format_time(self.revoked_at)
        return out

    @classmethod
    def from_json(cls, value: Any, field: str) -> KeyEntry:
        obj = expect_mapping(value, field, ENTRY_FIELDS, required=("kid", "sign", "box", "not_before", "not_after"))
        if not is_kid(obj["kid"]):
            raise ValidationError(Code.INVALID_VALUE, f"{field}.kid", "must look like ed25519:<1-32 of A-Za-z0-9_->")
        sign, box = _raw_key(obj["sign"], f"{field}.sign"), _raw_key(obj["box"], f"{field}.box")
        not_before, not_after = _time(obj["not_before"], f"{field}.not_before"), _time(obj["not_after"],
                                                                                     f"{field}.not_after")
        if not_after <= not_before:
            raise ValidationError(Code.INVALID_VALUE, f"{field}.not_after", "must be after not_before")
        revoked = _time(obj["revoked_at"], f"{field}.revoked_at") if obj.get("revoked_at") is not None else None
        return cls(obj["kid"], VerifyKey(sign), PublicKey(box), not_before, not_after, revoked)


class KeySet:
    """The public keys of one node (``country``), with a ``version`` that only ever grows."""

    def __init__(self, country: str, version: int, entries: Iterable[KeyEntry]) -> None:
        self.country = country
        self.version = version
        self._entries: dict[str, KeyEntry] = {}
        for entry in entries:
            if entry.kid in self._entries:
                raise ValueError("duplicate kid in key set")
            self._entries[entry.kid] = entry

    def key_for(self, kid: object, at: dt.datetime) -> KeyEntry:
        """The entry for ``kid`` if usable at ``at``; raise UnknownKey / RevokedKey / ExpiredKey otherwise."""
        if not isinstance(kid, str) or kid not in self._entries:  # membership test only: never a lookup elsewhere
            raise UnknownKey("key id is not in the sender's key set")
        entry = self._entries[kid]
        if entry.revoked_at is not None:
            raise RevokedKey("key is revoked")
        if not entry.not_before <= at < entry.not_after:
            raise ExpiredKey("key was not valid at the message time")
        return entry

    def entries(self) -> list[KeyEntry]:
        return list(self._entries.values())

    def current(self, at: dt.datetime) -> list[KeyEntry]:
        """Keys usable at ``at``, newest (latest ``not_before``) first."""
        return sorted((e for e in self._entries.values() if e.valid_at(at)), key=lambda e: e.not_before, reverse=True)

    def box_key(self, at: dt.datetime) -> PublicKey:
        """The box key to encrypt to at ``at``: the newest valid entry's."""
        keys = self.current(at)
        if not keys:
            raise ExpiredKey("no key of this node is valid now")
        return keys[0].box_key

    def to_json(self) -> dict[str, Any]:
        """The body of a ``key_set`` message."""
        return {"country": self.country, "version": self.version, "keys": [e.to_json() for e in self._entries.values()]}

    @classmethod
    def from_json(cls, value: Any, field: str = "body") -> KeySet:
        obj = expect_mapping(value, field, ("country", "version", "keys"), required=("country", "version", "keys"))
        country = clean_exact_country(obj["country"], f"{field}.country")
        version = clean_int(obj["version"], f"{field}.version", 1, 2**53 - 1)
        items = expect_list(obj["keys"], f"{field}.keys", MAX_KEYS, min_items=1)
        entries = [KeyEntry.from_json(item, f"{field}.keys[{i}]") for i, item in enumerate(items)]
        if len({e.kid for e in entries}) != len(entries):
            raise ValidationError(Code.INVALID_VALUE, f"{field}.keys", "has a kid twice")
        return cls(country, version, entries)


@dataclass(frozen=True)
class NodeKey:
    """The private half of one node key: an Ed25519 signing key and a Curve25519 box secret."""

    kid: str
    signing_key: SigningKey
    box_private: PrivateKey

    @classmethod
    def from_seeds(cls, kid: str, signing_seed: bytes, box_secret: bytes) -> NodeKey:
        """``signing_seed``: the 32-byte Ed25519 seed; ``box_secret``: the raw 32-byte X25519 secret key."""
        if not is_kid(kid):
            raise ValueError("bad kid")
        return cls(kid, SigningKey(signing_seed), PrivateKey(box_secret))

    @classmethod
    def generate(cls, kid: str) -> NodeKey:
        if not is_kid(kid):
            raise ValueError("bad kid")
        return cls(kid, SigningKey.generate(), PrivateKey.generate())

    def public(self, not_before: dt.datetime, not_after: dt.datetime,
               revoked_at: dt.datetime | None = None) -> KeyEntry:
        return KeyEntry(self.kid, self.signing_key.verify_key, self.box_private.public_key,
                        not_before, not_after, revoked_at)


class Keyring:
    """What a node trusts: one KeySet per partner country. Call it as ``keyring(country, kid, at)``."""

    def __init__(self, sets: Mapping[str, KeySet] | Iterable[KeySet] = ()) -> None:
        values = sets.values() if isinstance(sets, Mapping) else sets
        self._sets: dict[str, KeySet] = {ks.country: ks for ks in values}

    def __call__(self, country: str, kid: str, at: dt.datetime) -> VerifyKey:
        key_set = self._sets.get(country) if isinstance(country, str) else None
        if key_set is None:
            raise UnknownKey("sender is not a registered partner")
        return key_set.key_for(kid, at).verify_key

    def get(self, country: str) -> KeySet | None:
        return self._sets.get(country)

    def with_set(self, key_set: KeySet) -> Keyring:
        """A new keyring with ``key_set`` replacing the country's previous one."""
        return Keyring({**self._sets, key_set.country: key_set})


def _raw_key(value: Any, field: str) -> bytes:
    try:
        raw = b64u_decode(value)
    except ValueError:
        raise ValidationError(Code.INVALID_VALUE, field, "must be unpadded base64url") from None
    if len(raw) != 32:
        raise ValidationError(Code.INVALID_VALUE, field, "must encode 32 bytes")
    return raw


def _time(value: Any, field: str) -> dt.datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise ValidationError(Code.INVALID_DATE, field, "must be a UTC time YYYY-MM-DDTHH:MM:SSZ") from None
