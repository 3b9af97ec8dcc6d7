"""Publishing and accepting signed key sets (key rotation between partners).

A node publishes its :class:`~protocols.keys.KeySet` as a public ``key_set`` envelope (``to`` = ``"*"``, body
in clear) signed by one of its current keys. A receiver accepts it only if it verifies against the key set it
already trusts for that node (pinned at partner registration, then updated by earlier accepted sets):

* the signing kid must be in the trusted set, valid and unrevoked at ``created``;
* the new ``version`` must be greater than the trusted one (an older or equal-but-different set is a
  rollback); the same version with the same content is accepted as a no-op;
* revocations are sticky: a kid revoked in the trusted set stays revoked even if the new set forgets it.

Rotation: publish version n+1 holding the old and the new key with overlapping validity, signed by the old
key (which partners trust); once every partner has it, sign with either. A compromised key is revoked by a
set signed with another trusted key; if every trusted key is lost, re-pin out of band.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from .envelope import BROADCAST, MAX_TTL, VerifiedMessage, open_envelope, seal
from .errors import Malformed, Rollback
from .keys import KeyEntry, Keyring, KeySet, NodeKey

# A published key set is re-signed at least daily (the service caches it); receivers accept it for that long.
KEY_SET_TTL = MAX_TTL


def publish_key_set(key_set: KeySet, *, signer: NodeKey, now: dt.datetime, ttl: dt.timedelta = KEY_SET_TTL,
                    message_id: str | None = None) -> bytes:
    """The signed ``key_set`` envelope for ``key_set``, signed by ``signer`` (one of its current keys)."""
    return seal("key_set", key_set.to_json(), sender=key_set.country, recipient=BROADCAST,
                signing_key=signer.signing_key, kid=signer.kid, recipient_box_key=None, now=now, ttl=ttl,
                message_id=message_id)


def accept_key_set(data: bytes, *, trusted: KeySet, me: str, now: dt.datetime,
                   max_age: dt.timedelta = KEY_SET_TTL) -> KeySet:
    """Verify a published key set against ``trusted`` and return the key set to trust from now on.

    Raises the envelope's errors (BadSignature, UnknownKey, RevokedKey, ...), Malformed if the envelope is
    not a key set of ``trusted.country``, and Rollback if its version is not newer.
    """
    message: VerifiedMessage = open_envelope(data, me=me, keyring=Keyring([trusted]), my_box_key=None, now=now,
                                             max_age=max_age)
    if message.type != "key_set" or message.sender != trusted.country:
        raise Malformed("not a key set of this partner")
    offered = KeySet.from_json(message.body)
    if offered.version < trusted.version:
        raise Rollback("key set version is older than the trusted one")
    if offered.version == trusted.version:
        if offered.to_json() != trusted.to_json():
            raise Rollback("key set changed without a new version")
        return trusted
    return _keep_revocations(offered, trusted)


def _keep_revocations(offered: KeySet, trusted: KeySet) -> KeySet:
    merged: dict[str, KeyEntry] = {e.kid: e for e in offered.entries()}
    for old in trusted.entries():
        if old.revoked_at is None:
            continue
        new = merged.get(old.kid)
        revoked_at = old.revoked_at if new is None or new.revoked_at is None else min(old.revoked_at, new.revoked_at)
        merged[old.kid] = dataclasses.replace(new or old, revoked_at=revoked_at)
    return KeySet(offered.country, offered.version, merged.values())
