"""Seal and open envelopes: the happy path and every refusal, in the order the spec gives."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from nacl.public import PrivateKey

from protocols import errors
from protocols.canonical import canonical_bytes
from protocols.encoding import b64u_encode
from protocols.envelope import open_envelope, seal, signing_bytes
from protocols.fixtures import KEY_FROM, KEY_UNTIL, NODE_KEYS, NOW, key_set, keyring, sample_bodies
from protocols.keys import Keyring, KeySet

KH, TH, VN = NODE_KEYS["KH"], NODE_KEYS["TH"], NODE_KEYS["VN"]
LATER = NOW + dt.timedelta(seconds=30)


def sealed(message_type: str = "record_upsert", body: dict[str, Any] | None = None, *, sender: str = "KH",
           recipient: str = "TH", now: dt.datetime = NOW, **kw: Any) -> bytes:
    node = NODE_KEYS[sender]
    payload = body if body is not None else sample_bodies(sender, recipient)[message_type]
    return seal(message_type, payload, sender=sender, recipient=recipient, signing_key=node.signing_key,
                kid=node.kid, recipient_box_key=NODE_KEYS[recipient].box_private.public_key, now=now, **kw)


def opened(data: bytes, *, me: str = "TH", now: dt.datetime = LATER, ring: Any = None, **kw: Any):
    return open_envelope(data, me=me, keyring=ring or keyring(), my_box_key=NODE_KEYS[me].box_private, now=now, **kw)


def resign(env: dict[str, Any], signer: Any = KH) -> bytes:
    """Re-sign a modified envelope with a real key (to test checks that come after the signature)."""
    env = {k: v for k, v in env.items() if k != "sig"}
    env["sig"] = b64u_encode(signer.signing_key.sign(signing_bytes(env)).signature)
    return canonical_bytes(env)


@pytest.mark.parametrize("message_type", list(sample_bodies()))
def test_every_type_round_trips(message_type: str) -> None:
    data = sealed(message_type)
    message = opened(data)
    assert (message.type, message.sender, message.recipient, message.kid) == (message_type, "KH", "TH", KH.kid)
    assert message.created == NOW and message.expires == NOW + dt.timedelta(minutes=5)
    assert json.loads(data)["id"] == message.id
    assert "ciphertext" in json.loads(data) and "body" not in json.loads(data)
    assert message.body["record_id" if "record_id" in message.body else next(iter(message.body))] is not None


def test_body_is_encrypted_and_opens_only_for_recipient() -> None:
    data = sealed()
    assert b"Dara" not in data and "ដារ៉ា".encode() not in data
    with pytest.raises(errors.Undecryptable):
        open_envelope(data, me="TH", keyring=keyring(), my_box_key=VN.box_private, now=LATER)
    # several box keys during a rotation: any one that opens it will do
    message = open_envelope(data, me="TH", keyring=keyring(), my_box_key=[PrivateKey.generate(), TH.box_private],
                            now=LATER)
    assert message.body["person"]["names"][0]["family"] == "Sok"


def test_duplicate_key_is_malformed() -> None:
    data = sealed()
    with pytest.raises(errors.Malformed) as info:
        opened(b'{"type":"receipt",' + data[1:])
    assert info.value.code == "duplicate_key" and info.value.status == 400


@pytest.mark.parametrize("field", ["ciphertext", "sig", "id", "created", "from"])
def test_one_byte_flipped_is_never_accepted(field: str) -> None:
    data = sealed()
    start = data.index(f'"{field}":"'.encode()) + len(field) + 4
    for offset in range(0, 12):
        i = start + offset
        flipped = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
        with pytest.raises(errors.ProtocolError) as info:
            opened(flipped)
        assert info.value.status in (400, 401)
        if field in ("ciphertext", "sig", "id"):
            assert isinstance(info.value, errors.BadSignature), info.value


def test_tampered_values_are_bad_signature() -> None:
    env = json.loads(sealed())
    for change in ({"to": "VN"}, {"type": "record_withdrawal"}, {"expires": "2026-05-01T09:00:00Z"},
                   {"created": "2026-05-01T07:59:59Z"}):
        with pytest.raises(errors.BadSignature) as info:
            opened(canonical_bytes({**env, **change}))
        assert (info.value.code, info.value.status) == ("bad_signature", 401)


def test_unsigned_or_missing_fields_are_refused() -> None:
    env = json.loads(sealed())
    with pytest.raises(errors.BadSignature) as info:
        opened(canonical_bytes({**env, "priority": "high"}))
    assert (info.value.code, info.value.status) == ("bad_signature", 401)
    with pytest.raises(errors.BadSignature) as info:
        opened(resign({**env, "priority": "high"}))  # even if signed: the field set is exact
    assert info.value.code == "bad_signature"
    for field in ("v", "id", "kid", "sig", "created", "ciphertext"):
        with pytest.raises(errors.Malformed):
            opened(canonical_bytes({k: v for k, v in env.items() if k != field}))
    with pytest.raises(errors.Malformed):
        opened(canonical_bytes({**env, "body": {}}))
    for version in (2, 1.0, True, "1"):  # 1.0 has the same JCS form as 1, but only the integer is the version
        with pytest.raises(errors.Malformed):
            opened(json.dumps({**env, "v": version}).encode())
    with pytest.raises(errors.Malformed):
        opened(b'["not", "an", "object"]')


def test_unknown_revoked_and_expired_keys() -> None:
    env = json.loads(sealed())
    for kid in ("ed25519:nope", "../../dev/null", "'; DROP TABLE partners; --", "ED25519:2026A", ""):
        with pytest.raises(errors.UnknownKey) as info:
            opened(canonical_bytes({**env, "kid": kid}))
        assert (info.value.code, info.value.status) == ("unknown_key", 401)
    for kid in (7, None, ["ed25519:2026a"]):
        with pytest.raises(errors.Malformed):
            opened(canonical_bytes({**env, "kid": kid}))
    with pytest.raises(errors.UnknownKey):  # a sender we have no key set for
        opened(sealed(), ring=Keyring([key_set("TH")]))
    revoked = KeySet("KH", 2, [KH.public(KEY_FROM, KEY_UNTIL, revoked_at=NOW + dt.timedelta(days=30))])
    with pytest.raises(errors.RevokedKey) as info:  # revoked in the future still means refused now
        opened(sealed(), ring=Keyring([revoked, key_set("TH")]))
    assert info.value.code == "revoked_key"
    late = KeySet("KH", 2, [KH.public(NOW + dt.timedelta(days=1), KEY_UNTIL)])
    with pytest.raises(errors.ExpiredKey):
        opened(sealed(), ring=Keyring([late, key_set("TH")]))


def test_key_of_another_node_is_bad_signature() -> None:
    env = json.loads(sealed())
    with pytest.raises(errors.BadSignature):
        opened(resign(env, signer=VN))  # VN's key, KH's kid


def test_wrong_recipient() -> None:
    data = sealed(recipient="VN")
    with pytest.raises(errors.NotForUs) as info:
        opened(data, me="TH")
    assert info.value.code == "not_for_us"
    assert opened(data, me="VN").recipient == "VN"


def test_time_window() -> None:
    data = sealed()
    assert opened(data, now=NOW - dt.timedelta(seconds=300)).id  # within the clock skew
    with pytest.raises(errors.TooEarly):
        opened(data, now=NOW - dt.timedelta(seconds=301))
    assert opened(data, now=NOW + dt.timedelta(seconds=299)).id
    with pytest.raises(errors.Expired):
        opened(data, now=NOW + dt.timedelta(seconds=300))
    long_lived = sealed(ttl=dt.timedelta(hours=1))
    with pytest.raises(errors.Expired):  # not expired, but created more than max_age ago
        opened(long_lived, now=NOW + dt.timedelta(minutes=6))
    assert opened(long_lived, now=NOW + dt.timedelta(minutes=6), max_age=dt.timedelta(hours=1)).id


def test_expires_must_follow_created_within_a_day() -> None:
    env = json.loads(sealed())
    for expires in ("2026-05-01T08:00:00Z", "2026-05-01T07:00:00Z", "2026-05-03T08:00:00Z"):
        with pytest.raises(errors.Malformed):
            opened(resign({**env, "expires": expires}))
    with pytest.raises(errors.Malformed):
        opened(canonical_bytes({**env, "created": "2026-05-01 08:00:00"}))


def test_schema_error_names_the_field_without_content() -> None:
    body = sample_bodies()["record_upsert"]
    bad = {**body, "person": {**body["person"], "names": [{"full": "Sok\u202eDara"}]}}
    env = json.loads(sealed())
    from protocols.sealing import seal as seal_box
    env["ciphertext"] = b64u_encode(seal_box(TH.box_private.public_key, canonical_bytes(bad)))
    with pytest.raises(errors.SchemaError) as info:
        opened(resign(env))
    assert info.value.field == "body.person.names[0].full" and info.value.status == 400
    assert "Sok" not in str(info.value) and info.value.to_dict()["field"] == info.value.field


def test_body_that_is_not_strict_json_is_malformed() -> None:
    env = json.loads(sealed())
    from protocols.sealing import seal as seal_box
    env["ciphertext"] = b64u_encode(seal_box(TH.box_private.public_key, b'{"record_id": NaN}'))
    with pytest.raises(errors.Malformed) as info:
        opened(resign(env))
    assert info.value.code == "bad_number"


def test_limits_and_strict_parse_errors_map_to_protocol_errors() -> None:
    with pytest.raises(errors.TooLarge) as info:
        opened(b" " * (20 * 1024 * 1024))
    assert info.value.status == 413
    for data, code in ((b"[" * 100_000, "too_deep"), (b'{"v": NaN}', "bad_number"), (b'{"v": 1e400}', "bad_number"),
                       (b'{"v": 9007199254740993}', "bad_number"), (b'{"from": "\\ud800"}', "lone_surrogate"),
                       (b"\xff", "invalid_utf8"), (b"{", "invalid_json")):
        with pytest.raises(errors.Malformed) as info:
            opened(data)
        assert info.value.code == code and info.value.status == 400


def test_sender_side_refuses_bad_bodies_and_addresses() -> None:
    with pytest.raises(errors.SchemaError):
        sealed("record_withdrawal", {"record_id": "X", "version": 1, "reason": "because"})
    with pytest.raises(errors.SchemaError):  # a node only pushes its own records
        sealed("record_upsert", {**sample_bodies()["record_upsert"], "source_country": "VN"})
    with pytest.raises(ValueError):
        seal("record_upsert", sample_bodies()["record_upsert"], sender="KH", recipient="*",
             signing_key=KH.signing_key, kid=KH.kid, recipient_box_key=TH.box_private.public_key, now=NOW)
    with pytest.raises(ValueError):
        seal("record_upsert", sample_bodies()["record_upsert"], sender="KH", recipient="TH",
             signing_key=KH.signing_key, kid=KH.kid, recipient_box_key=None, now=NOW)
    with pytest.raises(ValueError):
        sealed(ttl=dt.timedelta(days=2))
    page = sample_bodies()["feed_page"]
    bad_page = {**page, "items": [page["items"][0], {**page["items"][1], "body": {"record_id": "X"}}]}
    with pytest.raises(errors.SchemaError) as info:  # a sender never emits a bad feed item
        sealed("feed_page", bad_page)
    assert info.value.field == "body.items[1].body.version"


def test_message_id_is_kept_for_retries() -> None:
    mid = "0a1b2c3d-0000-4000-8000-00000000abcd"
    first, retry = sealed(message_id=mid), sealed(message_id=mid, now=NOW + dt.timedelta(minutes=10))
    assert opened(first).id == mid
    assert opened(retry, now=NOW + dt.timedelta(minutes=10)).id == mid


def test_errors_form_one_hierarchy() -> None:
    declared = [errors.Malformed, errors.TooLarge, errors.SchemaError, errors.Undecryptable, errors.BadSignature,
                errors.UnknownKey, errors.ExpiredKey, errors.RevokedKey, errors.NotForUs, errors.Expired,
                errors.TooEarly, errors.Replayed, errors.Rollback, errors.Frozen]
    assert all(issubclass(e, errors.ProtocolError) for e in declared)
    assert errors.Replayed().status == 200 and errors.Replayed().code == "replayed"
    assert {e.status for e in (errors.UnknownKey, errors.ExpiredKey, errors.RevokedKey, errors.BadSignature)} == {401}
    assert len({e.default_code for e in declared if e is not errors.FeedRefused}) == len(declared)
