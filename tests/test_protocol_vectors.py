"""The published known-answer vectors: up to date, and checked the way a partner would (plain libraries)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import rfc8785
from nacl.public import PrivateKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from protocols import errors, strictjson
from protocols.encoding import b64u_decode
from protocols.envelope import open_envelope
from protocols.fixtures import key_set, keyring
from protocols.keys import KeySet
from protocols.keyset import accept_key_set
from protocols.messages import validate_body
from protocols.sealing import seal as seal_box
from protocols.vectors import build, load, main, render

VECTORS = load()
KEYS = {(k["node"], k["kid"]): k for k in VECTORS["keys"]}


def _time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def test_regenerating_gives_identical_output(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "protocols" / "vectors.json").read_text(encoding="utf-8")
    assert render(build()) == text
    assert render(build()) == render(build())
    assert main(["--check"]) == 0


@pytest.mark.parametrize("key", VECTORS["keys"], ids=lambda k: f"{k['node']}-{k['kid']}")
def test_public_keys_from_seeds(key: dict[str, str]) -> None:
    sign = SigningKey(bytes.fromhex(key["signing_seed_hex"])).verify_key
    box = PrivateKey(bytes.fromhex(key["box_secret_hex"])).public_key
    assert bytes(sign).hex() == key["sign_public_hex"] and b64u_decode(key["sign_public_b64u"]) == bytes(sign)
    assert bytes(box).hex() == key["box_public_hex"] and b64u_decode(key["box_public_b64u"]) == bytes(box)


def test_rfc8785_examples() -> None:
    first = VECTORS["jcs"][0]
    assert first["canonical_utf8"] == '{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'  # RFC 8785 3.2.2.3
    for case in VECTORS["jcs"]:
        canon = rfc8785.dumps(strictjson.loads(case["input"]))
        assert canon.decode() == case["canonical_utf8"] and canon.hex() == case["canonical_hex"]


@pytest.mark.parametrize("case", VECTORS["envelopes"], ids=lambda c: c["type"])
def test_envelope_vectors_like_a_partner(case: dict) -> None:
    wire = case["wire_utf8"].encode()
    env = json.loads(wire)
    sender = KEYS[(case["from"], env["kid"])]
    recipient = next(k for k in VECTORS["keys"] if k["node"] == case["to"])
    # 1. signing input = JCS of the envelope without "sig", signature verifies with the sender's public key
    unsigned = {k: v for k, v in env.items() if k != "sig"}
    assert rfc8785.dumps(unsigned).decode() == case["signing_input_utf8"]
    assert rfc8785.dumps(unsigned).hex() == case["signing_input_hex"]
    VerifyKey(bytes.fromhex(sender["sign_public_hex"])).verify(rfc8785.dumps(unsigned), b64u_decode(case["sig_b64u"]))
    assert env["sig"] == case["sig_b64u"] and rfc8785.dumps(env) == wire  # the wire is itself canonical
    # 2. the ciphertext opens with the recipient's box secret to the JCS bytes of the body
    plain = SealedBox(PrivateKey(bytes.fromhex(recipient["box_secret_hex"]))).decrypt(b64u_decode(env["ciphertext"]))
    assert plain.decode() == case["body_canonical_utf8"] == rfc8785.dumps(case["body"]).decode()
    # 3. with the fixed ephemeral key, the sealed box is reproducible byte for byte
    ephemeral = PrivateKey(bytes.fromhex(case["ephemeral_secret_hex"]))
    assert seal_box(PrivateKey(bytes.fromhex(recipient["box_secret_hex"])).public_key, plain,
                    ephemeral=ephemeral) == b64u_decode(case["ciphertext_b64u"])
    # 4. and our receiver accepts it with the validated body
    message = open_envelope(wire, me=case["to"], keyring=keyring(), my_box_key=PrivateKey(
        bytes.fromhex(recipient["box_secret_hex"])), now=_time(case["now"]))
    assert message.body == validate_body(case["type"], case["body"], sender=case["from"], recipient=case["to"])


def test_key_set_vectors() -> None:
    first, rotated = VECTORS["key_sets"]
    now = _time(first["now"])
    trusted = accept_key_set(first["wire_utf8"].encode(), trusted=key_set("KH"), me="TH", now=now)
    assert trusted.version == 1
    newer = accept_key_set(rotated["wire_utf8"].encode(), trusted=trusted, me="TH", now=now)
    assert newer.version == 2 and len(newer.entries()) == 2
    assert KeySet.from_json(json.loads(rotated["wire_utf8"])["body"]).to_json() == newer.to_json()


@pytest.mark.parametrize("case", VECTORS["negative"], ids=lambda c: c["name"])
def test_negative_vectors(case: dict) -> None:
    now = _time(case.get("now", VECTORS["envelopes"][0]["now"]))
    th_secret = PrivateKey(bytes.fromhex(KEYS[("TH", "ed25519:2026a")]["box_secret_hex"]))
    with pytest.raises(errors.ProtocolError) as info:
        open_envelope(case["wire_utf8"].encode(), me=VECTORS["receiver"], keyring=keyring(), my_box_key=th_secret,
                      now=now)
    assert (info.value.code, info.value.status) == (case["expect"], case["status"])
