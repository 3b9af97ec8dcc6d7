"""Push throughput KH -> TH on loopback (signed, encrypted, receipts verified) against raw inserts of the same rows.

    .venv/bin/python bench/bench_federation.py [--records 1000] [--max-seconds 120] [--json PATH]

One run, stops by itself (after ``--records`` or ``--max-seconds``, whichever comes first). It starts an
embedded PostgreSQL in a temporary folder with two databases (KH, TH), gives each node keys, registers them as
partners of each other, starts TH's real service on 127.0.0.1, fills KH's outbox with ``--records``
``record_upsert`` messages (2 KiB-ish bodies from protocols.fixtures), then measures:

* ``push``: KH's sender draining its outbox to TH's inbox: per message seal (JCS + sealed box + Ed25519), HTTP
  POST, TH verifies, decrypts, stores inbox row + partner record version + audit row in one transaction, seals a
  receipt; KH verifies the receipt and marks the row delivered (batch transactions of 50);
* ``raw_tx``: the same rows TH writes (inbox, partner record head and version, audit row) inserted directly,
  one transaction per record, no protocol and no HTTP;
* ``raw_batch``: the same rows without audit in one transaction with executemany (the database's ceiling).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import platform
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web

from exchange import audit
from exchange.app import create_app
from exchange.config import Settings
from exchange.database import APP_ROLE, create_pool, embedded_server, ensure_database, socket_dsn
from exchange.database import Target as DbTarget
from exchange.federation import identity, partners
from exchange.federation.context import Federation
from exchange.federation.outbox import enqueue
from exchange.federation.sender import send_batch
from exchange.migrate import migrate
from protocols.fixtures import sample_bodies


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _body(i: int) -> dict[str, Any]:
    body = dict(sample_bodies("KH", "TH")["record_upsert"])
    body.pop("source_country")
    body["record_id"] = f"KH-B-{i:07d}"
    body["version"] = 1
    return body


async def _register(pool: Any, me: identity.NodeIdentity, other: identity.NodeIdentity, url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    shown = other.show(now)
    async with pool.acquire() as conn, conn.transaction():
        await partners.add(conn, country=other.country, url=url, signing_key=shown["signing_key"],
                           box_key=shown["box_key"], key_id=shown["key_id"], receives="full", now=now)


async def bench_push(socket_dir: str, root: Path, records: int, max_seconds: float) -> dict[str, Any]:
    targets = {}
    for c in ("kh", "th"):
        await ensure_database(socket_dsn(socket_dir, "postgres", "postgres"), f"bench_{c}")
        targets[c] = DbTarget(socket_dsn(socket_dir, "postgres", f"bench_{c}"),
                              socket_dsn(socket_dir, APP_ROLE, f"bench_{c}"))
        await migrate(targets[c].owner_dsn)
    now = dt.datetime.now(dt.UTC)
    kh_id, th_id = identity.init(root / "kh", "KH", now), identity.init(root / "th", "TH", now)
    port = _free_port()
    th_settings = Settings(home=root / "th", country="TH", federation_loops=False)
    runner = web.AppRunner(create_app(th_settings, target=targets["th"]), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    kh_pool = await create_pool(targets["kh"].app_dsn)
    fed = Federation(Settings(home=root / "kh", country="KH", federation_loops=False))
    try:
        await _register(kh_pool, kh_id, th_id, f"http://127.0.0.1:{port}")
        th_pool = await create_pool(targets["th"].app_dsn)
        await _register(th_pool, th_id, kh_id, "http://127.0.0.1:9")
        await th_pool.close()
        async with kh_pool.acquire() as conn, conn.transaction():
            for i in range(records):
                await enqueue(conn, "TH", "record_upsert", _body(i), person_id=uuid.uuid4(), version=1)
        started = time.perf_counter()
        delivered = 0
        while delivered < records and time.perf_counter() - started < max_seconds:
            result = await send_batch(fed, kh_pool, "TH")
            delivered += result.delivered
            if result.failed:
                raise RuntimeError(f"push failed: {result.error}")
        elapsed = time.perf_counter() - started
    finally:
        await fed.transport.close()
        await kh_pool.close()
        await runner.cleanup()
    return {"name": "push", "records": delivered, "seconds": round(elapsed, 3),
            "records_per_s": round(delivered / elapsed, 1)}


async def bench_raw(socket_dir: str, records: int, batch: bool) -> dict[str, Any]:
    name = "bench_raw_batch" if batch else "bench_raw_tx"
    await ensure_database(socket_dsn(socket_dir, "postgres", "postgres"), name)
    owner = socket_dsn(socket_dir, "postgres", name)
    await migrate(owner)
    pool = await create_pool(socket_dsn(socket_dir, APP_ROLE, name))
    bodies = [_body(i) for i in range(records)]
    ids = [uuid.uuid4() for _ in bodies]
    actor = audit.Actor(username="partner:KH", role="partner", request_id="bench")
    try:
        started = time.perf_counter()
        if batch:
            async with pool.acquire() as conn, conn.transaction():
                await conn.executemany(
                    "INSERT INTO inbox (message_id, sender, type, kid, signature, envelope) "
                    "VALUES ($1, 'KH', 'record_upsert', 'ed25519:x', 'sig', $2)",
                    [(m, json.dumps(b).encode()) for m, b in zip(ids, bodies, strict=True)])
                await conn.executemany("INSERT INTO partner_records (country, record_id, current_version, status) "
                                       "VALUES ('KH', $1, 1, 'active')", [(b["record_id"],) for b in bodies])
                await conn.executemany(
                    "INSERT INTO partner_record_versions (country, record_id, version, status, body, message_id, "
                    "kid, signature, via) VALUES ('KH', $1, 1, 'active', $2, $3, 'ed25519:x', 'sig', 'push')",
                    [(b["record_id"], b, m) for m, b in zip(ids, bodies, strict=True)])
        else:
            for m, b in zip(ids, bodies, strict=True):
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute("INSERT INTO inbox (message_id, sender, type, kid, signature, envelope) "
                                       "VALUES ($1, 'KH', 'record_upsert', 'ed25519:x', 'sig', $2)",
                                       m, json.dumps(b).encode())
                    await conn.execute("INSERT INTO partner_records (country, record_id, current_version, status) "
                                       "VALUES ('KH', $1, 1, 'active')", b["record_id"])
                    await conn.execute(
                        "INSERT INTO partner_record_versions (country, record_id, version, status, body, message_id,"
                        " kid, signature, via) VALUES ('KH', $1, 1, 'active', $2, $3, 'ed25519:x', 'sig', 'push')",
                        b["record_id"], b, m)
                    await audit.write(conn, actor, audit.Entry("federation.receive", record_ids=[b["record_id"]]))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    return {"name": "raw_batch" if batch else "raw_tx", "records": records, "seconds": round(elapsed, 3),
            "records_per_s": round(records / elapsed, 1)}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-fed-") as tmp:
        root = Path(tmp)
        with embedded_server(root / "pg") as socket_dir:
            rows = [await bench_push(socket_dir, root, args.records, args.max_seconds),
                    await bench_raw(socket_dir, args.records, batch=False),
                    await bench_raw(socket_dir, args.records, batch=True)]
    push = rows[0]["records_per_s"]
    for row in rows:
        row["vs_push"] = round(row["records_per_s"] / push, 2) if push else None
    return {"benchmark": "federation_push", "python": platform.python_version(), "machine": platform.machine(),
            "records": args.records, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--json", dest="json_path", default=None, help="also write the result as JSON here")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    print(f"{'row':<10} {'records':>8} {'seconds':>9} {'records/s':>10} {'x push':>7}")
    for row in result["rows"]:
        print(f"{row['name']:<10} {row['records']:>8} {row['seconds']:>9} {row['records_per_s']:>10} "
              f"{row['vs_push']:>7}")
    if args.json_path:
        with contextlib.suppress(FileNotFoundError):
            Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
