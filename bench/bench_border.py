"""Benchmark: border check submission with screening against a large register, and without, in one run.

    .venv/bin/python bench/bench_border.py [--records 20000] [--concurrency 20] [--requests 400]
                                           [--hit-rate 0.1] [--seed 7] [--json PATH]

It starts an embedded PostgreSQL in a temporary folder, writes ``--records`` synthetic register entries with
COPY (names drawn from the real Khmer, Thai and Vietnamese name lists in /work/shared/data/names, random birth
dates and passport numbers), then serves the real application on 127.0.0.1 twice:

1. ``screening``: the screening index is loaded from the register (load time and memory reported), and
   ``--concurrency`` officers submit ``--requests`` checks in a closed loop (each officer sends the next check
   when the answer to the last arrives); ``--hit-rate`` of the checks carry a companion from the register,
   written differently (other name order, upper case), so alerts are raised as in real use;
2. ``no_screening``: the same bodies against the same database with screening switched off (a bench-only
   setting, not an environment variable), to show what screening costs.

It prints one table (p50/p95/p99 latency, sustained checks per second, errors, hits) and writes it as JSON with
``--json``. Everything runs on loopback and stops by itself; the temporary folder is removed at the end.
The issue's target is p95 < 150 ms at 20 officers with 1,000,000 records (``--records 1000000``: the index
load then takes several minutes and a few GB of memory; see docs/border.md for measured figures).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exchange import audit
from exchange.app import create_app
from exchange.border.config import BORDER_SETTINGS, BorderSettings
from exchange.config import Settings
from exchange.database import (
    APP_ROLE,
    Target,
    connect,
    embedded_server,
    ensure_database,
    socket_dsn,
)
from exchange.migrate import migrate
from exchange.screening_index import SCREENING
from exchange.users import create_user

NAMES = Path("/work/shared/data/names")
FAMILIES = ["Sok", "Chea", "Kim", "Heng", "Ly", "Chan", "Meas", "Ouk", "Keo", "Srey", "Pich", "Som", "Hem", "Nhem",
            "Nguyen", "Tran", "Le", "Pham", "Hoang", "Phan", "Vu", "Dang", "Bui", "Do", "Ho", "Ngo", "Duong",
            "Saetang", "Srisuk", "Wongsa", "Chaiyaphum", "Boonmee", "Thongdee", "Kaewkla", "Suwannarat"]


def rss_mb() -> float:
    """Resident memory of this process now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def name_pool() -> list[str]:
    pool: set[str] = set()
    for file, column in (("khmer_names_kname.csv", "latin"), ("thai_names_romanization.csv", "latin"),
                         ("vietnamese_names_ascii.csv", "latin")):
        path = NAMES / file
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    for part in (row.get(column) or "").split():
                        if part.isascii() and part.isalpha() and 2 <= len(part) <= 20:
                            pool.add(part.capitalize())
    return sorted(pool) or ["Dara", "Sophea", "Minh", "Somchai"]


class World:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.given = name_pool()
        # Thai surnames are long and nearly unique: make some from two given names
        self.families = FAMILIES + [a + b.lower() for a, b in zip(self.rng.sample(self.given, 400),
                                                                   self.rng.sample(self.given, 400), strict=True)]

    def person(self, first_year: int, years: int) -> dict[str, Any]:
        r = self.rng
        given = r.choice(self.given) + ("" if r.random() < 0.6 else " " + r.choice(self.given))
        born = dt.date(first_year + r.randrange(years), 1 + r.randrange(12), 1 + r.randrange(28))
        return {"family": r.choice(self.families), "given": given, "birth_date": born.isoformat(),
                "sex": r.choice(["male", "female"]), "number": f"N{r.randrange(10**7):07d}",
                "nationality": r.choice(["KH", "KH", "TH", "VN"])}


async def fill_register(owner_dsn: str, world: World, count: int) -> float:
    """COPY ``count`` persons into the register; returns seconds taken."""
    started = time.perf_counter()
    conn = await connect(owner_dsn)
    try:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        done = 0
        while done < count:
            n = min(50_000, count - done)
            people = [(uuid.uuid4(), world.person(1940, 60)) for _ in range(n)]
            await conn.copy_records_to_table("persons", columns=["id", "status", "current_version", "created_at",
                                                                "updated_at"],
                                             records=[(pid, "active", 1, old, old) for pid, _ in people])
            await conn.copy_records_to_table(
                "record_versions", columns=["person_id", "version", "status", "sex", "birth_date", "birth_precision",
                                            "nationalities"],
                records=[(pid, 1, "active", p["sex"], p["birth_date"], "day", [p["nationality"]])
                         for pid, p in people])
            await conn.copy_records_to_table(
                "person_names", columns=["person_id", "version", "ordinal", "family", "given", "full_name", "script",
                                         "kind"],
                records=[(pid, 1, 0, p["family"], p["given"], f"{p['family']} {p['given']}", "Latn", "primary")
                         for pid, p in people])
            await conn.copy_records_to_table(
                "person_documents", columns=["person_id", "version", "ordinal", "kind", "number", "country"],
                records=[(pid, 1, 0, "passport", p["number"], p["nationality"]) for pid, p in people])
            done += n
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def sample_register(owner_dsn: str, k: int) -> list[dict[str, Any]]:
    conn = await connect(owner_dsn)
    try:
        rows = await conn.fetch("""SELECT n.family, n.given, v.birth_date FROM person_names n
                                   JOIN record_versions v USING (person_id, version) ORDER BY random() LIMIT $1""", k)
    finally:
        await conn.close()
    return [dict(r) for r in rows]


def bodies(world: World, register: list[dict[str, Any]], count: int, hit_rate: float) -> list[dict[str, Any]]:
    r = world.rng
    out = []
    for _ in range(count):
        c = world.person(dt.date.today().year - 17, 16)
        doc = {"kind": "passport", "number": c["number"], "country": "KH", "expires": "2030-01-01"}
        child = {"names": [{"family": c["family"], "given": c["given"]}], "sex": c["sex"],
                 "birth_date": c["birth_date"], "nationalities": ["KH"], "documents": [doc]}
        situation = r.choice(["parents", "parents", "one_parent", "other_adults", "group"])
        companions = []
        for _ in range({"parents": 2, "one_parent": 1, "other_adults": 1, "group": 2}[situation]):
            a = world.person(1960, 35)
            companions.append({"person": {"names": [{"family": a["family"], "given": a["given"]}], "sex": a["sex"],
                                          "birth_date": a["birth_date"],
                                          "documents": [{"kind": "national_id", "number": a["number"]}]},
                               "relationship": "parent" if situation in ("parents", "one_parent") else "teacher",
                               "evidence": "birth_certificate"})
        if register and r.random() < hit_rate:
            hit = r.choice(register)
            companions.append({"person": {"names": [{"full": f"{hit['given']} {hit['family']}".upper()}],
                                          "birth_date": hit["birth_date"]},
                               "relationship": "unrelated", "evidence": "none"})
        body = {"direction": r.choice(["exit", "entry"]), "child": child, "situation": situation,
                "companions": companions, "destination": {"country": r.choice(["TH", "VN"])}, "purpose": "tourism",
                "consent_letter": {"present": r.random() < 0.8, "signed_by": "both_parents"}}
        if situation == "group":
            body["group_size"] = r.randrange(2, 15)
        out.append(body)
    return out


async def officer_token(target: Target, base: str, settings: Settings) -> str:
    conn = await connect(target.app_dsn)
    try:
        async with conn.transaction():
            made = await create_user(conn, audit.Actor(username="bench", request_id="bench"),
                                     username=f"bench-{uuid.uuid4().hex[:8]}", role="immigration",
                                     border_point="POIPET", password=None, issuer=settings.issuer)
    finally:
        await conn.close()
    async with aiohttp.ClientSession() as http, http.post(f"{base}/api/v1/auth/token", json={
            "username": made.username, "password": made.password,
            "totp": pyotp.parse_uri(made.totp_uri).now()}) as resp:
        assert resp.status == 200, await resp.text()
        return (await resp.json())["token"]


async def drive(base: str, token: str, work: list[dict[str, Any]], concurrency: int,
                think: float = 0.0) -> dict[str, Any]:
    """Closed loop: ``concurrency`` officers, each sending its next check ``think`` seconds after the last answer."""
    latencies: list[float] = []
    errors = hits = 0
    queue = list(enumerate(work))
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "border_check"}

    async def officer(http: aiohttp.ClientSession) -> None:
        nonlocal errors, hits
        while queue:
            _, body = queue.pop()
            t0 = time.perf_counter()
            async with http.post(f"{base}/api/v1/border/checks", json=body, headers=headers) as resp:
                answer = await resp.json()
            latencies.append(time.perf_counter() - t0)
            if resp.status != 201:
                errors += 1
            elif any(f.endswith("watchlist_hit") for f in answer["flags"]):
                hits += 1
            if think:
                await asyncio.sleep(think)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*[officer(http) for _ in range(concurrency)])
        elapsed = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
    return {"requests": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(q[94], 1),
            "p99_ms": round(q[98], 1), "checks_per_s": round(len(ms) / elapsed, 1), "errors": errors, "hits": hits}


async def run_mode(target: Target, settings: Settings, screening: bool, work: list[dict[str, Any]],
                   concurrency: int, warmup: list[dict[str, Any]], think: float) -> dict[str, Any]:
    app = create_app(settings, target=target)
    app[BORDER_SETTINGS] = BorderSettings(screening=screening, purge_interval=0, reconcile_interval=0,
                                          index_wait=3600)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    try:
        rss0 = rss_mb()
        t0 = time.perf_counter()
        await app[SCREENING].ready.wait()
        load_s = time.perf_counter() - t0
        grown = rss_mb() - rss0
        token = await officer_token(target, base, settings)
        await drive(base, token, warmup, concurrency)
        result = await drive(base, token, work, concurrency, think)
        single = await drive(base, token, warmup[:20], 1)
        result.update(mode="screening" if screening else "no_screening", alone_p50_ms=single["p50_ms"],
                      indexed=len(app[SCREENING]), index_load_s=round(load_s, 1), index_rss_growth_mb=round(grown))
        return result
    finally:
        await runner.cleanup()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="bench-border-"))
    try:
        with embedded_server(home) as socket_dir:
            await ensure_database(socket_dsn(socket_dir, "postgres", "postgres"), "bench")
            target = Target(owner_dsn=socket_dsn(socket_dir, "postgres", "bench"),
                            app_dsn=socket_dsn(socket_dir, APP_ROLE, "bench"))
            await migrate(target.owner_dsn)
            world = World(args.seed)
            copy_s = await fill_register(target.owner_dsn, world, args.records)
            print(f"register: {args.records} records written in {copy_s:.1f} s", flush=True)
            register = await sample_register(target.owner_dsn, 2000)
            work = bodies(world, register, args.requests, args.hit_rate)
            warmup = bodies(world, register, min(40, args.requests), args.hit_rate)
            settings = Settings(home=home, issuer="exchange-kh-bench", token_ttl=3600)
            rows = []
            for screening in (True, False):
                rows.append(await run_mode(target, settings, screening, work, args.concurrency, warmup,
                                           args.think_ms / 1000))
                print(f"mode {rows[-1]['mode']} done", flush=True)
            return {"records": args.records, "concurrency": args.concurrency, "hit_rate": args.hit_rate,
                    "think_ms": args.think_ms,
                    "register_copy_s": round(copy_s, 1), "results": rows}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="checks per mode (after 40 warm-up checks)")
    parser.add_argument("--hit-rate", type=float, default=0.1)
    parser.add_argument("--think-ms", type=int, default=0,
                        help="pause of each officer between two checks (0: back to back, a stress test)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    report = asyncio.run(main_async(args))
    cols = ["mode", "indexed", "index_load_s", "index_rss_growth_mb", "requests", "p50_ms", "p95_ms", "p99_ms",
            "checks_per_s", "errors", "hits", "alone_p50_ms"]
    print(f"\nborder check submission: {report['records']} register records, {report['concurrency']} officers, "
          f"think time {report['think_ms']} ms (alone_p50_ms: one officer, nobody else)")
    print(" | ".join(f"{c:>12}" for c in cols))
    for row in report["results"]:
        print(" | ".join(f"{row[c]!s:>12}" for c in cols))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
