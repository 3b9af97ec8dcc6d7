"""Key sets: validity at the message time, revocation, rotation overlap, signed publication and acceptance."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from protocols import errors
from protocols.canonical import canonical_bytes
from protocols.encoding import b64u_decode, b64u_encode, format_time, parse_time
from protocols.envelope import open_envelope, seal
from protocols.fixtures import (
    KEY_FROM,
    KEY_UNTIL,
    KH_NEXT,
    NEXT_UNTIL,
    NODE_KEYS,
    NOW,
    ROTATION_AT,
    key_set,
    sample_bodies,
)
from protocols.keys import KeyEntry, Keyring, KeySet, NodeKey
from protocols.keyset import accept_key_set, publish_key_set
from protocols.validation import ValidationError

KH, TH = NODE_KEYS["KH"], NODE_KEYS["TH"]
DAY = dt.timedelta(days=1)


def test_key_for_checks_validity_window_and_revocation() -> None:
    ks = key_set("KH")
    assert ks.key_for(KH.kid, NOW).verify_key == KH.signing_key.verify_key
    assert ks.key_for(KH.kid, KEY_FROM).kid == KH.kid  # not_before is inclusive
    with pytest.raises(errors.ExpiredKey):
        ks.key_for(KH.kid, KEY_FROM - dt.timedelta(seconds=1))
    with pytest.raises(errors.ExpiredKey):
        ks.key_for(KH.kid, KEY_UNTIL)  # not_after is exclusive
    with pytest.raises(errors.UnknownKey):
        ks.key_for("ed25519:2099z", NOW)
    revoked = KeySet("KH", 2, [KH.public(KEY_FROM, KEY_UNTIL, revoked_at=NOW + 30 * DAY)])
    for at in (KEY_FROM, NOW, NOW + 60 * DAY):  # refused at once, whatever the message time
        with pytest.raises(errors.RevokedKey):
            revoked.key_for(KH.kid, at)


@pytest.mark.parametrize("kid", ["../../dev/null", "'; DROP TABLE keys; --", "ed25519:2026a\x00", "", "%s",
                                 "ed25519:2026a/../x", 0, None, ("ed25519:2026a",)])
def test_hostile_kids_are_only_membership_tested(kid: object) -> None:
    with pytest.raises(errors.UnknownKey):
        key_set("KH").key_for(kid, NOW)
    with pytest.raises(errors.UnknownKey):
        Keyring([key_set("KH")])("KH", kid, NOW)  # type: ignore[arg-type]


def test_unknown_country_in_keyring() -> None:
    ring = Keyring([key_set("KH")])
    for country in ("TH", "kh", "", None):
        with pytest.raises(errors.UnknownKey):
            ring(country, KH.kid, NOW)  # type: ignore[arg-type]


def test_rotation_overlap_both_keys_verify() -> None:
    rotated = key_set("KH", version=2, with_next=True)
    ring = Keyring([rotated, key_set("TH")])
    overlap = ROTATION_AT + 10 * DAY
    old_msg = _upsert(KH, overlap)
    new_msg = _upsert(KH_NEXT, overlap)
    assert _open(old_msg, ring, overlap).kid == "ed25519:2026a"
    assert _open(new_msg, ring, overlap).kid == "ed25519:2027a"
    after = KEY_UNTIL + DAY  # the old key has expired, the new one carries on
    with pytest.raises(errors.ExpiredKey):
        _open(_upsert(KH, after), ring, after)
    assert _open(_upsert(KH_NEXT, after), ring, after).kid == "ed25519:2027a"
    before = ROTATION_AT - DAY  # the new key is not valid yet
    with pytest.raises(errors.ExpiredKey):
        _open(_upsert(KH_NEXT, before), ring, before)
    assert [e.kid for e in rotated.current(overlap)] == ["ed25519:2027a", "ed25519:2026a"]
    assert rotated.box_key(overlap) == KH_NEXT.box_private.public_key


def test_publish_and_accept_key_set_with_rotation() -> None:
    trusted = key_set("KH")
    v2 = key_set("KH", version=2, with_next=True)
    accepted = accept_key_set(publish_key_set(v2, signer=KH, now=NOW), trusted=trusted, me="TH", now=NOW)
    assert accepted.version == 2 and {e.kid for e in accepted.entries()} == {"ed25519:2026a", "ed25519:2027a"}
    # once trusted, a set signed by the new key is accepted too (after its not_before)
    later = ROTATION_AT + DAY
    v3 = KeySet("KH", 3, [KH_NEXT.public(ROTATION_AT, NEXT_UNTIL)])
    assert accept_key_set(publish_key_set(v3, signer=KH_NEXT, now=later), trusted=accepted, me="VN",
                          now=later).version == 3


def test_key_set_rollback_and_untrusted_signer() -> None:
    v2 = key_set("KH", version=2, with_next=True)
    v1_wire = publish_key_set(key_set("KH"), signer=KH, now=NOW)
    with pytest.raises(errors.Rollback):
        accept_key_set(v1_wire, trusted=v2, me="TH", now=NOW)
    assert accept_key_set(v1_wire, trusted=key_set("KH"), me="TH", now=NOW).version == 1  # same set: no-op
    changed = KeySet("KH", 1, [KH.public(KEY_FROM, NEXT_UNTIL)])
    with pytest.raises(errors.Rollback):
        accept_key_set(publish_key_set(changed, signer=KH, now=NOW), trusted=key_set("KH"), me="TH", now=NOW)
    impostor = NodeKey.generate("ed25519:2026a")  # same kid, different key
    forged = KeySet("KH", 9, [impostor.public(KEY_FROM, KEY_UNTIL)])
    with pytest.raises(errors.BadSignature):
        accept_key_set(publish_key_set(forged, signer=impostor, now=NOW), trusted=key_set("KH"), me="TH", now=NOW)
    with pytest.raises(errors.UnknownKey):  # signed by a key the receiver does not trust yet
        accept_key_set(publish_key_set(key_set("KH", version=2, with_next=True), signer=KH_NEXT,
                                       now=ROTATION_AT + DAY), trusted=key_set("KH"), me="TH", now=ROTATION_AT + DAY)
    th_set = publish_key_set(key_set("TH", version=5), signer=TH, now=NOW)
    with pytest.raises(errors.UnknownKey):  # another node's set does not replace KH's
        accept_key_set(th_set, trusted=key_set("KH"), me="VN", now=NOW)


def test_revocations_are_sticky() -> None:
    revoked_at = NOW - DAY
    trusted = KeySet("KH", 2, [KH.public(KEY_FROM, KEY_UNTIL, revoked_at=revoked_at),
                               KH_NEXT.public(KEY_FROM, NEXT_UNTIL)])
    forgetful = KeySet("KH", 3, [KH_NEXT.public(KEY_FROM, NEXT_UNTIL), KH.public(KEY_FROM, KEY_UNTIL)])
    accepted = accept_key_set(publish_key_set(forgetful, signer=KH_NEXT, now=NOW), trusted=trusted, me="TH", now=NOW)
    with pytest.raises(errors.RevokedKey):
        accepted.key_for(KH.kid, NOW)
    with pytest.raises(errors.RevokedKey):  # a revoked key cannot sign a key set that un-revokes itself
        accept_key_set(publish_key_set(forgetful, signer=KH, now=NOW), trusted=trusted, me="TH", now=NOW)


def test_key_set_body_is_validated() -> None:
    body = key_set("KH").to_json()
    assert KeySet.from_json(body).to_json() == body
    entry = body["keys"][0]
    bad_cases = [
        {**body, "keys": [{**entry, "kid": "rsa:1"}]},
        {**body, "keys": [{**entry, "sign": entry["sign"] + "="}]},
        {**body, "keys": [{**entry, "sign": b64u_encode(b"short")}]},
        {**body, "keys": [{**entry, "not_after": entry["not_before"]}]},
        {**body, "keys": [entry, entry]},
        {**body, "keys": []},
        {**body, "country": "kh"},
        {**body, "version": 0},
        {**body, "extra": 1},
    ]
    for case in bad_cases:
        with pytest.raises(ValidationError):
            KeySet.from_json(case)
    with pytest.raises(errors.SchemaError):  # a key set published for another country
        seal("key_set", key_set("TH").to_json(), sender="KH", recipient="*", signing_key=KH.signing_key,
             kid=KH.kid, recipient_box_key=None, now=NOW)


def test_key_entry_round_trip_and_encodings() -> None:
    entry = KH.public(KEY_FROM, KEY_UNTIL, revoked_at=NOW)
    assert KeyEntry.from_json(entry.to_json(), "k") == entry
    assert parse_time(format_time(NOW)) == NOW
    for text in ("2026-05-01T08:00:00+00:00", "2026-05-01T08:00:00.5Z", "2026-05-01t08:00:00z", "2026-02-30T00:00:00Z"):
        with pytest.raises(ValueError):
            parse_time(text)
    for text in ("AQ==", "AQ=", "A", "+/8", "AR"):  # padding, other alphabet, bad length, non-canonical bits
        with pytest.raises(ValueError):
            b64u_decode(text)
    assert b64u_decode("AQ") == b"\x01"


def test_key_set_envelope_is_public_and_signed() -> None:
    wire = publish_key_set(key_set("KH"), signer=KH, now=NOW)
    env = json.loads(wire)
    assert env["to"] == "*" and "body" in env and "ciphertext" not in env
    tampered = canonical_bytes({**env, "body": {**env["body"], "version": 7}})
    with pytest.raises(errors.BadSignature):
        accept_key_set(tampered, trusted=key_set("KH"), me="TH", now=NOW)


def _upsert(node: NodeKey, at: dt.datetime) -> bytes:
    return seal("record_upsert", sample_bodies()["record_upsert"], sender="KH", recipient="TH",
                signing_key=node.signing_key, kid=node.kid, recipient_box_key=TH.box_private.public_key, now=at)


def _open(data: bytes, ring: Keyring, at: dt.datetime):
    return open_envelope(data, me="TH", keyring=ring, my_box_key=TH.box_private, now=at)
