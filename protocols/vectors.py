"""Known-answer test vectors for partner implementations: ``python -m protocols.vectors --write|--check``.

Everything is deterministic: fixed seeds give fixed keys, Ed25519 signatures are deterministic, and the sealed
box's ephemeral key is fixed (``fixtures.EPHEMERAL_SECRET``), so regenerating gives byte-identical output.
A partner checks, in order: public keys from seeds, JCS bytes, signing input, signature, ciphertext (and that
it opens with the recipient's box secret), the whole wire envelope, and that each negative vector fails with
the stated error code. ``build()`` is pure; only the CLI reads or writes ``protocols/vectors.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey

from . import strictjson
from .canonical import canonical_bytes
from .encoding import b64u_encode
from .envelope import seal, signing_bytes
from .fixtures import EPHEMERAL_SECRET, KH_NEXT, NODE_KEYS, NOW, key_set, sample_bodies
from .keyset import publish_key_set
from .messages import validate_body

# RFC 8785 section 3.2.2/3.2.3 examples and a few of our own (UTF-16 key order, escapes, number forms).
JCS_CASES = [
    '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001]}',
    '{"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/"}',
    '{"literals": [null, true, false]}',
    '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",'
    ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O'
    ' With Diaeresis"}',
    '{"name": "\\u179f\\u17bb\\u1781", "b": [1, -0, 9007199254740991, 1.5e-7, 9007199254740991.0, 1e21], "a": {}}',
]


def _message_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _envelope_case(n: int, message_type: str, body: dict[str, Any], sender: str, recipient: str) -> dict[str, Any]:
    node, peer = NODE_KEYS[sender], NODE_KEYS[recipient]
    wire = seal(message_type, body, sender=sender, recipient=recipient, signing_key=node.signing_key, kid=node.kid,
                recipient_box_key=peer.box_private.public_key, now=NOW, message_id=_message_id(n),
                ephemeral=PrivateKey(EPHEMERAL_SECRET))
    envelope = strictjson.loads(wire)
    signed = signing_bytes(envelope)
    body = validate_body(message_type, body, sender=sender, recipient=recipient)  # what was actually encrypted
    return {"name": f"{message_type} {sender}->{recipient}", "type": message_type, "from": sender, "to": recipient,
            "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"), "body": body,
            "body_canonical_utf8": canonical_bytes(body).decode(), "ephemeral_secret_hex": EPHEMERAL_SECRET.hex(),
            "ciphertext_b64u": envelope["ciphertext"], "signing_input_utf8": signed.decode(),
            "signing_input_hex": signed.hex(), "sig_b64u": envelope["sig"], "wire_utf8": wire.decode()}


def _negative_cases(good: dict[str, Any]) -> list[dict[str, Any]]:
    """Bad inputs for receiver TH at ``now`` (default: the vectors' NOW) and the error code each must give."""
    wire = good["wire_utf8"]
    kh = NODE_KEYS["KH"]
    to_vn = seal("record_withdrawal", sample_bodies("KH", "VN")["record_withdrawal"], sender="KH", recipient="VN",
                 signing_key=kh.signing_key, kid=kh.kid, recipient_box_key=NODE_KEYS["VN"].box_private.public_key,
                 now=NOW, message_id=_message_id(50), ephemeral=PrivateKey(EPHEMERAL_SECRET)).decode()
    env = json.loads(wire)
    at = wire.index('"ciphertext":"') + len('"ciphertext":"') + 5
    flipped = wire[:at] + ("A" if wire[at] != "A" else "B") + wire[at + 1:]

    def rewrite(**changes: Any) -> str:
        return canonical_bytes({**env, **changes}).decode()

    return [
        {"name": "duplicate key", "wire_utf8": '{"v":1,' + wire[1:], "expect": "duplicate_key", "status": 400},
        {"name": "one ciphertext character changed", "wire_utf8": flipped, "expect": "bad_signature", "status": 401},
        {"name": "unsigned field added", "wire_utf8": rewrite(extra="x"), "expect": "bad_signature", "status": 401},
        {"name": "recipient changed", "wire_utf8": rewrite(to="VN"), "expect": "bad_signature", "status": 401},
        {"name": "unknown kid", "wire_utf8": rewrite(kid="ed25519:nope"), "expect": "unknown_key", "status": 401},
        {"name": "NaN", "wire_utf8": wire.replace('"v":1', '"v":NaN'), "expect": "bad_number", "status": 400},
        {"name": "integer above 2**53", "wire_utf8": wire.replace('"v":1', '"v":9007199254740993'),
         "expect": "bad_number", "status": 400},
        {"name": "lone surrogate", "wire_utf8": wire.replace('"from":"KH"', '"from":"\\ud800"'),
         "expect": "lone_surrogate", "status": 400},
        {"name": "addressed to VN", "wire_utf8": to_vn, "expect": "not_for_us", "status": 400},
        {"name": "opened after expires", "wire_utf8": wire, "now": "2026-05-01T08:05:00Z", "expect": "expired",
         "status": 400},
        {"name": "created beyond the clock skew", "wire_utf8": wire, "now": "2026-05-01T07:54:59Z",
         "expect": "too_early", "status": 400},
    ]


def build() -> dict[str, Any]:
    """The whole vector document (pure and deterministic)."""
    keys = [{"node": node, "kid": k.kid, "signing_seed_hex": bytes(k.signing_key).hex(),
             "sign_public_b64u": b64u_encode(bytes(k.signing_key.verify_key)),
             "sign_public_hex": bytes(k.signing_key.verify_key).hex(),
             "box_secret_hex": bytes(k.box_private).hex(),
             "box_public_b64u": b64u_encode(bytes(k.box_private.public_key)),
             "box_public_hex": bytes(k.box_private.public_key).hex()}
            for node, k in [*NODE_KEYS.items(), ("KH", KH_NEXT)]]
    jcs = [{"input": text, "canonical_utf8": canonical_bytes(strictjson.loads(text)).decode(),
            "canonical_hex": canonical_bytes(strictjson.loads(text)).hex()} for text in JCS_CASES]
    bodies = sample_bodies("KH", "TH")
    envelopes = [_envelope_case(i + 1, t, b, "KH", "TH") for i, (t, b) in enumerate(bodies.items())]
    rotated = key_set("KH", version=2, with_next=True)
    key_sets = [{"name": "KH key set v1 signed by 2026a", "receiver": "TH", "now": "2026-05-01T08:00:00Z",
                 "wire_utf8": publish_key_set(key_set("KH"), signer=NODE_KEYS["KH"], now=NOW,
                                              message_id=_message_id(100)).decode()},
                {"name": "KH key set v2 (rotation, overlap from 2026-12-01) signed by 2026a", "receiver": "TH",
                 "now": "2026-05-01T08:00:00Z",
                 "wire_utf8": publish_key_set(rotated, signer=NODE_KEYS["KH"], now=NOW,
                                              message_id=_message_id(101)).decode()}]
    return {"about": "Known-answer vectors of the partner-exchange protocol v1 (docs/protocol.md). Test keys only.",
            "receiver": "TH", "keys": keys, "jcs": jcs, "envelopes": envelopes, "key_sets": key_sets,
            "negative": _negative_cases(envelopes[0])}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def load() -> dict[str, Any]:
    """The published vectors (package data)."""
    doc: dict[str, Any] = json.loads(resources.files("protocols").joinpath("vectors.json").read_text(encoding="utf-8"))
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m protocols.vectors", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="regenerate protocols/vectors.json")
    parser.add_argument("--check", action="store_true", help="exit 1 if protocols/vectors.json is not up to date")
    args = parser.parse_args(argv)
    path = Path(__file__).with_name("vectors.json")
    text = render(build())
    if args.write:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(text.encode())} bytes)")
        return 0
    if args.check:
        same = path.exists() and path.read_text(encoding="utf-8") == text
        print("vectors up to date" if same else "vectors differ: run python -m protocols.vectors --write")
        return 0 if same else 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
