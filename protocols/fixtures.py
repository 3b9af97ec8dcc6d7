"""Fixed, public test material: the keys and sample bodies behind the published test vectors.

NEVER use these keys for anything real: their seeds are printed in docs/protocol.md. Every person here is
invented. Tests, the benchmark and ``protocols.vectors`` share this module so that all of them exercise the
same known answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .keys import Keyring, KeySet, NodeKey

NOW = dt.datetime(2026, 5, 1, 8, 0, 0, tzinfo=dt.UTC)
KEY_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
KEY_UNTIL = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
ROTATION_AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)  # KH's 2027a key is valid from here: one month overlap
NEXT_UNTIL = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
EPHEMERAL_SECRET = bytes(range(224, 256))  # fixes the sealed box's ephemeral key in the vectors only


def _seed(start: int) -> bytes:
    return bytes(range(start, start + 32))


NODE_KEYS: dict[str, NodeKey] = {
    "KH": NodeKey.from_seeds("ed25519:2026a", _seed(0), _seed(32)),
    "TH": NodeKey.from_seeds("ed25519:2026a", _seed(64), _seed(96)),
    "VN": NodeKey.from_seeds("ed25519:2026a", _seed(128), _seed(160)),
}
KH_NEXT = NodeKey.from_seeds("ed25519:2027a", _seed(192), bytes(range(96, 64, -1)))


def key_set(country: str, *, version: int = 1, with_next: bool = False) -> KeySet:
    """The public key set of a node; ``with_next`` adds KH's rotated key (version 2 of KH's set)."""
    entries = [NODE_KEYS[country].public(KEY_FROM, KEY_UNTIL)]
    if with_next:
        entries.append(KH_NEXT.public(ROTATION_AT, NEXT_UNTIL))
    return KeySet(country, version, entries)


def keyring() -> Keyring:
    return Keyring([key_set(c) for c in NODE_KEYS])


PERSON: dict[str, Any] = {
    "id": "KH-P-000001",
    "names": [{"family": "Sok", "given": "Dara", "script": "Latn", "kind": "primary"},
              {"full": "សុខ ដារ៉ា", "script": "Khmr", "kind": "primary"}],
    "sex": "male",
    "birth_date": "1979-03-14",
    "nationalities": ["KH"],
    "documents": [{"kind": "passport", "number": "N0000001", "country": "KH", "expires": "2030-01-31"}],
}

CONVICTION: dict[str, Any] = {
    "court": "Example Provincial Court", "case_number": "0001/2019", "date": "2019-06-20",
    "offence_category": "child_sexual_abuse", "sentence": "8 years imprisonment", "release_date": "2025-06-20",
}


def sample_bodies(sender: str = "KH", recipient: str = "TH") -> dict[str, dict[str, Any]]:
    """One valid body per encrypted message type, from ``sender`` to ``recipient``."""
    upsert = {"record_id": f"{sender}-R-000001", "version": 3, "source_country": sender, "person": PERSON,
              "convictions": [CONVICTION], "review_date": "2031-06-20"}
    withdrawal = {"record_id": f"{sender}-R-000002", "version": 2, "reason": "acquittal_on_appeal"}
    return {
        "record_upsert": upsert,
        "record_withdrawal": withdrawal,
        "match_query": {"query_id": "Q-0001", "person": PERSON, "purpose": "border_screening"},
        "match_result": {"query_id": "Q-0001", "result": "hit", "reference": "REF-7f3a", "band": "high"},
        "record_request": {"reference": "REF-7f3a", "purpose": "criminal_investigation",
                           "legal_basis": "Bilateral agreement art. 5"},
        "travel_notice": {"record_reference": "REF-7f3a", "border_point": "KH-POIPET", "direction": "exit",
                          "time": "2026-05-01T07:45:00Z", "destination_country": recipient},
        "receipt": {"message_id": "00000000-0000-4000-8000-000000000001", "accepted": [f"{recipient}-R-1"],
                    "rejected": [{"id": f"{recipient}-R-2", "code": "schema_error"}]},
        "feed_page": {"sender": sender, "recipient": recipient, "next_cursor": "c-42",
                      "expires": "2026-05-01T08:05:00Z",
                      "items": [{"seq": 41, "type": "record_upsert", "body": upsert},
                                {"seq": 42, "type": "record_withdrawal", "body": withdrawal}]},
    }
