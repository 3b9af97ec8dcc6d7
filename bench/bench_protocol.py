"""Throughput of the partner protocol on 2 KiB bodies, against plain json.dumps/json.loads, in one run.

    .venv/bin/python bench/bench_protocol.py [--seconds 1.0] [--json PATH]

Each row runs its operation in a loop for about ``--seconds`` (bounded: it always stops) and reports operations
per second and microseconds per operation. The body is a ``record_upsert`` from ``protocols.fixtures`` padded
with convictions to about 2 KiB of canonical JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocols import strictjson
from protocols.canonical import canonical_bytes
from protocols.envelope import open_envelope, seal
from protocols.fixtures import CONVICTION, NODE_KEYS, NOW, keyring, sample_bodies
from protocols.sealing import open_sealed
from protocols.sealing import seal as seal_box

KH, TH = NODE_KEYS["KH"], NODE_KEYS["TH"]


def body_of_about(size: int) -> dict[str, Any]:
    body = dict(sample_bodies()["record_upsert"])
    convictions = []
    while len(canonical_bytes({**body, "convictions": convictions})) < size:
        n = len(convictions)
        convictions.append({**CONVICTION, "case_number": f"{n:04d}/2019", "sentence": "imprisonment " * 8})
    body["convictions"] = convictions
    return body


def measure(fn: Callable[[], Any], seconds: float) -> tuple[int, float]:
    fn()  # warm up
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(20):
            fn()
        count += 20
        now = time.perf_counter()
        if now >= deadline:
            return count, now - started


def run(seconds: float) -> dict[str, Any]:
    body = body_of_about(2048)
    plain = json.dumps(body).encode()
    canon = canonical_bytes(body)
    wire = seal("record_upsert", body, sender="KH", recipient="TH", signing_key=KH.signing_key, kid=KH.kid,
                recipient_box_key=TH.box_private.public_key, now=NOW)
    ring, box_pk = keyring(), TH.box_private.public_key
    sealed_body = seal_box(box_pk, canon)
    signature = KH.signing_key.sign(canon).signature
    verify_key = KH.signing_key.verify_key

    def seal_one() -> bytes:
        return seal("record_upsert", body, sender="KH", recipient="TH", signing_key=KH.signing_key, kid=KH.kid,
                    recipient_box_key=box_pk, now=NOW)

    def open_one() -> Any:
        return open_envelope(wire, me="TH", keyring=ring, my_box_key=TH.box_private, now=NOW)

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("json.dumps (baseline)", lambda: json.dumps(body)),
        ("json.loads (baseline)", lambda: json.loads(plain)),
        ("json dumps+loads (baseline)", lambda: json.loads(json.dumps(body))),
        ("strictjson.loads", lambda: strictjson.loads(plain)),
        ("canonical_bytes (JCS)", lambda: canonical_bytes(body)),
        ("Ed25519 sign", lambda: KH.signing_key.sign(canon)),
        ("Ed25519 verify", lambda: verify_key.verify(canon, signature)),
        ("sealed box encrypt", lambda: seal_box(box_pk, canon)),
        ("sealed box decrypt", lambda: open_sealed(TH.box_private, sealed_body)),
        ("seal (validate+encrypt+sign)", seal_one),
        ("open_envelope (full verify)", open_one),
        ("seal + open_envelope", lambda: open_envelope(seal_one(), me="TH", keyring=ring, my_box_key=TH.box_private,
                                                       now=NOW)),
    ]
    rows = []
    for name, fn in cases:
        count, elapsed = measure(fn, seconds)
        rows.append({"operation": name, "ops_per_s": round(count / elapsed, 1),
                     "us_per_op": round(elapsed / count * 1e6, 1)})
    return {"body_bytes_canonical": len(canon), "body_bytes_json": len(plain), "wire_bytes": len(wire),
            "seconds_per_row": seconds, "python": platform.python_version(), "machine": platform.machine(),
            "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per row (default 1.0)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    args = parser.parse_args(argv)
    result = run(max(0.05, min(args.seconds, 30.0)))
    print(f"body {result['body_bytes_canonical']} B canonical ({result['body_bytes_json']} B json.dumps), "
          f"envelope {result['wire_bytes']} B")
    print(f"{'operation':32} {'ops/s':>10} {'us/op':>10}")
    for row in result["rows"]:
        print(f"{row['operation']:32} {row['ops_per_s']:>10.0f} {row['us_per_op']:>10.1f}")
    by_name = {r["operation"]: r["ops_per_s"] for r in result["rows"]}
    ratio = by_name["json dumps+loads (baseline)"] / by_name["seal + open_envelope"]
    print(f"seal+open is {ratio:.0f}x slower than json.dumps+loads of the same body")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
