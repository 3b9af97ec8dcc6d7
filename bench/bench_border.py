"""Benchmark: border check submission with screening against a large register, and without, in one run.

    .venv/bin/python bench/bench_border.py [--records 20000] [--concurrency 20] [--requests 300]
        [--think-ms 1000] [--workers 1,2] [--loop asyncio|uvloop] [--hit-rate 0.1] [--seed 7]
        [--load-timeout 3600] [--max-minutes 120] [--json PATH] [--profile DIR]

It starts an embedded PostgreSQL in a temporary folder and writes ``--records`` synthetic register entries with
COPY (names drawn from the real Khmer, Thai and Vietnamese name lists in ../shared/data/names, random birth
dates and passport numbers). Then, for each count in ``--workers`` and for screening on and off, it starts that
many service processes (this file with ``--worker``: the real application, sharing one port with SO_REUSEPORT
as ``exchange serve --workers N`` does, each loading its own screening index) and drives them from this process
with ``--concurrency`` officers, each with its own account and session, spread over the three posts:

- ``stress``: every officer submits its next check as soon as the answer to the last arrives (closed loop,
  back to back; a stress test, no officer works like this);
- ``paced``: every officer pauses a think time drawn uniformly from 0.5-1.5 x ``--think-ms`` between two
  checks (default 1 s; a real check at a counter takes minutes, see docs/border.md);
- ``alone``: one officer, nobody else.

Every check carries its own ``Idempotency-Key`` (a post's client always sends one). ``--hit-rate`` of the checks
carry a companion from the register written differently (other name order, upper case): the table counts how
many of them were flagged (recall) and how many other checks were held (false alerts). The no-screening rows
use the same bodies on the same database with screening switched off (a bench-only setting). Also reported: the
index load time and memory per worker, and the service processes' CPU time per check (user + system, from
/proc; PostgreSQL's and the load generator's CPU are not in it), which is steadier than latency on a shared
machine. Everything runs on loopback and stops by itself (``--load-timeout``, ``--max-minutes``; a worker exits
when the bench closes its standard input); the temporary folder is removed at the end.
The issue's target is p95 < 150 ms at 20 officers with 1,000,000 records (``--records 1000000``: the index
load then takes several minutes and a few GB of memory per worker; see docs/border.md for measured figures).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
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
from exchange.keystore import TokenKeys
from exchange.migrate import migrate
from exchange.screening_index import SCREENING
from exchange.users import create_user

NAMES = Path(__file__).resolve().parents[2] / "shared" / "data" / "names"  # shared/ lies beside the clone
FAMILIES = ["Sok", "Chea", "Kim", "Heng", "Ly", "Chan", "Meas", "Ouk", "Keo", "Srey", "Pich", "Som", "Hem", "Nhem",
            "Nguyen", "Tran", "Le", "Pham", "Hoang", "Phan", "Vu", "Dang", "Bui", "Do", "Ho", "Ngo", "Duong",
            "Saetang", "Srisuk", "Wongsa", "Chaiyaphum", "Boonmee", "Thongdee", "Kaewkla", "Suwannarat"]


def rss_mb() -> float:
    """Resident memory of this process now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by these processes (Linux /proc), in seconds."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


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
                # a Cambodian identity card number has 9 digits; drawn from the passports' 10^7 numbers, one
                # companion in ten met a register passport (of a million) by chance and was held for it
                "national_id": f"{r.randrange(10**8, 10**9)}",
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


def bodies(world: World, register: list[dict[str, Any]], count: int,
           hit_rate: float) -> list[tuple[dict[str, Any], bool]]:
    """``count`` check bodies, each with whether it carries a planted register person (``hit_rate`` of them)."""
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
                                          "documents": [{"kind": "national_id", "number": a["national_id"]}]},
                               "relationship": "parent" if situation in ("parents", "one_parent") else "teacher",
                               "evidence": "birth_certificate"})
        planted = bool(register) and r.random() < hit_rate
        if planted:
            hit = r.choice(register)
            companions.append({"person": {"names": [{"full": f"{hit['given']} {hit['family']}".upper()}],
                                          "birth_date": hit["birth_date"]},
                               "relationship": "unrelated", "evidence": "none"})
        body = {"direction": r.choice(["exit", "entry"]), "child": child, "situation": situation,
                "companions": companions, "destination": {"country": r.choice(["TH", "VN"])}, "purpose": "tourism",
                "consent_letter": {"present": r.random() < 0.8, "signed_by": "both_parents"}}
        if situation == "group":
            body["group_size"] = r.randrange(2, 15)
        out.append((body, planted))
    return out


POSTS = ("POIPET", "BAVET", "KOH_KONG")


async def officer_tokens(target: Target, base: str, settings: Settings, count: int) -> list[str]:
    """``count`` fresh immigration accounts spread over the posts, each logged in once (its own session and
    rate-limit bucket, as real officers have)."""
    conn = await connect(target.app_dsn)
    try:
        made = []
        for i in range(count):
            async with conn.transaction():
                made.append(await create_user(conn, audit.Actor(username="bench", request_id="bench"),
                                              username=f"bench-{uuid.uuid4().hex[:8]}", role="immigration",
                                              border_point=POSTS[i % len(POSTS)], password=None,
                                              issuer=settings.issuer))
    finally:
        await conn.close()
    tokens = []
    async with aiohttp.ClientSession() as http:
        for user in made:
            async with http.post(f"{base}/api/v1/auth/token", json={
                    "username": user.username, "password": user.password,
                    "totp": pyotp.parse_uri(user.totp_uri).now()}) as resp:
                assert resp.status == 200, await resp.text()
                tokens.append((await resp.json())["token"])
    return tokens


async def drive(base: str, tokens: list[str], work: list[tuple[dict[str, Any], bool]], think_ms: float,
                seed: int) -> dict[str, Any]:
    """One officer per token, each sending its next check (with its own Idempotency-Key, as a post's client
    does) when the answer to the last arrives, after a pause drawn uniformly from 0.5-1.5 x ``think_ms``
    (0: back to back). Returns latency percentiles, checks per second, errors, and the planted register
    persons found (recall) and other checks held (false alerts)."""
    latencies: list[float] = []
    errors = planted = found = held = 0
    queue = list(work)
    rng = random.Random(seed)

    async def officer(http: aiohttp.ClientSession, token: str) -> None:
        nonlocal errors, planted, found, held
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": "border_check"}
        if think_ms:  # officers do not all start at the same instant
            await asyncio.sleep(rng.uniform(0, think_ms) / 1000)
        while queue:
            body, is_planted = queue.pop()
            t0 = time.perf_counter()
            async with http.post(f"{base}/api/v1/border/checks", json=body,
                                 headers={**headers, "Idempotency-Key": uuid.uuid4().hex}) as resp:
                answer = await resp.json()
            latencies.append(time.perf_counter() - t0)
            if resp.status != 201:
                errors += 1
                continue
            hit = any(f.endswith("watchlist_hit") for f in answer["flags"])
            planted += is_planted
            found += is_planted and hit
            held += hit and not is_planted
            if think_ms:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=len(tokens))) as http:
        started = time.perf_counter()
        await asyncio.gather(*[officer(http, token) for token in tokens])
        elapsed = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else ms * 99
    return {"requests": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(q[94], 1),
            "p99_ms": round(q[98], 1), "checks_per_s": round(len(ms) / elapsed, 1), "errors": errors,
            "planted": planted, "planted_found": found, "others_held": held}


# --- the service under test: worker processes sharing one port ------------------------------------------------

async def serve_worker(args: argparse.Namespace) -> None:
    """One service process (bench-only ``BorderSettings``); prints one JSON line when its index is ready, stops
    on SIGTERM or when the bench closes its standard input (so no worker outlives the bench)."""
    settings = Settings(home=Path(args.home), issuer="exchange-kh-bench", token_ttl=3600)
    app = create_app(settings, target=Target(owner_dsn=args.owner_dsn, app_dsn=args.app_dsn))
    # No index snapshot: its writer (a forked child pickling the whole index, bench/bench_snapshot.py measures it)
    # would run during the first measured run; every worker loads from the database.
    app[BORDER_SETTINGS] = BorderSettings(screening=args.screening, purge_interval=0, reconcile_interval=0,
                                          index_wait=3600, snapshot_interval=0)
    rss0 = rss_mb()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port, reuse_port=True).start()
    try:
        t0 = time.perf_counter()
        await app[SCREENING].ready.wait()
        print(json.dumps({"index_load_s": round(time.perf_counter() - t0, 1), "indexed": len(app[SCREENING]),
                          "index_rss_growth_mb": round(rss_mb() - rss0)}), flush=True)
        profile = cProfile.Profile() if args.profile else None
        if profile:
            profile.enable()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        eof = asyncio.create_task(reader.read())
        await asyncio.wait([eof, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        if profile:
            profile.disable()
            profile.dump_stats(Path(args.profile) / f"worker-{'screening' if args.screening else 'plain'}-"
                               f"{os.getpid()}.prof")
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_workers(n: int, screening: bool, home: Path, target: Target, port: int, loop_kind: str,
                        load_timeout: float, profile: Path | None,
                        ) -> tuple[list[asyncio.subprocess.Process], list[dict[str, Any]]]:
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--worker", "--home", str(home), "--owner-dsn", target.owner_dsn,
        "--app-dsn", target.app_dsn, "--port", str(port), "--loop", loop_kind,
        *(["--profile", str(profile)] if profile else []),
        *(["--screening"] if screening else []),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE) for _ in range(n)]
    try:
        lines = await asyncio.wait_for(asyncio.gather(*[p.stdout.readline() for p in procs]),  # type: ignore[union-attr]
                                       load_timeout)
        return procs, [json.loads(line) for line in lines]
    except BaseException:
        await stop_workers(procs)
        raise


async def stop_workers(procs: list[asyncio.subprocess.Process]) -> None:
    for p in procs:
        if p.returncode is None:
            p.terminate()
    for p in procs:
        try:
            await asyncio.wait_for(p.wait(), 30)
        except TimeoutError:
            p.kill()
            await p.wait()


async def run_config(args: argparse.Namespace, target: Target, home: Path, settings: Settings, workers: int,
                     screening: bool, sets: dict[str, list[tuple[dict[str, Any], bool]]]) -> dict[str, Any]:
    port = free_port()
    procs, ready = await start_workers(workers, screening, home, target, port, args.loop, args.load_timeout,
                                       args.profile)
    base = f"http://127.0.0.1:{port}"
    try:
        tokens = await officer_tokens(target, base, settings, args.concurrency)
        await drive(base, tokens, sets["warmup"], 0, args.seed)
        pids = [p.pid for p in procs]
        runs = {}
        for name, think in (("stress", 0), ("paced", args.think_ms)):
            cpu = cpu_seconds(pids)
            runs[name] = await drive(base, tokens, sets[name], think, args.seed)
            runs[name]["service_cpu_ms_per_check"] = round((cpu_seconds(pids) - cpu) * 1000 / len(sets[name]), 2)
        alone = await drive(base, tokens[:1], sets["warmup"][:20], 0, args.seed)
    finally:
        await stop_workers(procs)
    return {"workers": workers, "mode": "screening" if screening else "no_screening",
            "index_load_s": max(r["index_load_s"] for r in ready), "indexed": ready[0]["indexed"],
            "index_rss_growth_mb_per_worker": max(r["index_rss_growth_mb"] for r in ready),
            "stress": runs["stress"], "paced": runs["paced"], "alone_p50_ms": alone["p50_ms"]}


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
            sets = {"warmup": bodies(world, register, 40, args.hit_rate),
                    "stress": bodies(world, register, args.requests, args.hit_rate),
                    "paced": bodies(world, register, args.requests, args.hit_rate)}
            settings = Settings(home=home, issuer="exchange-kh-bench", token_ttl=3600)
            TokenKeys.load_or_create(home)  # once, before the workers start (they all read it)
            report: dict[str, Any] = {
                "records": args.records, "concurrency": args.concurrency, "hit_rate": args.hit_rate,
                "think_ms": args.think_ms, "loop": args.loop, "requests": args.requests,
                "register_copy_s": round(copy_s, 1), "results": []}
            for workers in args.workers:
                for screening in (True, False):
                    report["results"].append(await run_config(args, target, home, settings, workers, screening,
                                                              sets))
                    print(f"{workers} worker(s), {report['results'][-1]['mode']}: done", flush=True)
                    if args.json:  # what is measured so far survives a run stopped by --max-minutes
                        args.json.write_text(json.dumps(report, indent=2))
            return report
    finally:
        shutil.rmtree(home, ignore_errors=True)


def table(report: dict[str, Any]) -> str:
    head = ["workers", "mode", "load s", "MB/worker", "stress p50", "p95", "p99", "checks/s", "paced p50", "p95",
            "p99", "checks/s", "alone p50", "service CPU ms/check", "planted found", "others held", "errors"]
    lines = [f"border check submission: {report['records']:,} register records, {report['concurrency']} officers, "
             f"{report['requests']} checks per run; stress = back to back, paced = think time "
             f"{report['think_ms']} ms (0.5-1.5x); latencies in ms; loop {report['loop']}",
             " | ".join(head), " | ".join("---" for _ in head)]
    for r in report["results"]:
        s, p = r["stress"], r["paced"]
        found = s["planted_found"] + p["planted_found"]
        cells = [r["workers"], r["mode"], r["index_load_s"], r["index_rss_growth_mb_per_worker"], s["p50_ms"],
                 s["p95_ms"], s["p99_ms"], s["checks_per_s"], p["p50_ms"], p["p95_ms"], p["p99_ms"],
                 p["checks_per_s"], r["alone_p50_ms"], s["service_cpu_ms_per_check"],
                 f"{found}/{s['planted'] + p['planted']}" if r["mode"] == "screening" else "-",
                 s["others_held"] + p["others_held"], s["errors"] + p["errors"]]
        lines.append(" | ".join(str(c) for c in cells))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=20, help="officers, each with an account")
    parser.add_argument("--requests", type=int, default=300, help="checks per run (after 40 warm-up checks)")
    parser.add_argument("--hit-rate", type=float, default=0.1)
    parser.add_argument("--think-ms", type=int, default=1000,
                        help="paced run: mean pause of each officer between two checks (see docs/border.md)")
    parser.add_argument("--workers", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2],
                        help="service process counts to measure, comma-separated (default 1,2)")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--load-timeout", type=float, default=3600, help="seconds allowed for the index load")
    parser.add_argument("--max-minutes", type=float, default=120, help="the whole run stops after this")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--profile", type=Path, default=None,
                        help="folder for a cProfile dump of each worker (after its index load)")
    # a service worker started by the bench itself
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--screening", action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--home", "--owner-dsn", "--app-dsn"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if args.worker:
        asyncio.run(serve_worker(args))
        return 0
    report = asyncio.run(asyncio.wait_for(main_async(args), args.max_minutes * 60))
    print("\n" + table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
