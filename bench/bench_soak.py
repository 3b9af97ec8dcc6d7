"""A bounded soak: the service as a real process under a mixed load for a few minutes; is it flat?

    .venv/bin/python bench/bench_soak.py [--seconds 120] [--concurrency 8] [--json PATH]

Starts ``python -m exchange.cli serve`` on a free 127.0.0.1 port with its own temporary home (embedded
PostgreSQL, federation loops off), creates a registrar, a liaison officer and an immigration officer at POIPET
with the CLI, then runs ``--concurrency`` workers for ``--seconds``: registrations (``POST /records``), audited
reads (``GET /records/{id}``), searches (``GET /records?limit=20``) and border checks (``POST /border/checks``),
in a fixed mix. It samples the service process's resident memory (RSS, psutil) every 5 s and prints, per
kind and in total: requests, throughput, p50/p99 latency, non-2xx answers; and the RSS at start (after a
10 s warm-up) and at the end, with the growth. ``--json`` writes the same figures. Everything is bounded:
fixed duration, per-request timeout, the service stopped (and its home removed) at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path

import aiohttp
import psutil
import pyotp

ROOT = Path(__file__).resolve().parents[1]
MIX = [("register", 2), ("read", 4), ("search", 2), ("check", 2)]
WARMUP = 10.0
RATE = "1000000"  # the service's own abuse limits are not what is measured here


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env.update({"EXCHANGE_HOME": str(home), "EXCHANGE_FEDERATION_LOOPS": "0", "EXCHANGE_LOG_LEVEL": "WARNING",
                "EXCHANGE_SEARCH_RATE": RATE, "EXCHANGE_LOGIN_RATE": RATE, "EXCHANGE_TOKEN_TTL": "3600"})
    return env


def _user(home: Path, role: str, post: str | None = None) -> dict:
    extra = ["--border-point", post] if post else []
    out = subprocess.run([sys.executable, "-m", "exchange.cli", "user", "add", "--username",
                          f"{role}-{uuid.uuid4().hex[:6]}", "--role", role, *extra, "--json"], env=_env(home),
                         capture_output=True, timeout=60, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def _wait_ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the service did not become ready")


def _record() -> dict:
    word = uuid.uuid4().hex[:8]
    return {"person": {"names": [{"family": "Soak" + word, "given": random.choice(["Dara", "Sokha", "Vanna"])}],
                       "birth_date": f"19{random.randint(50, 99)}-0{random.randint(1, 9)}-1{random.randint(0, 9)}",
                       "sex": random.choice(["male", "female"])},
            "convictions": [{"court": "Phnom Penh Municipal Court", "case_number": "PP-2019-0042",
                             "date": "2019-06-01", "offence_category": "child_trafficking"}]}


def _check() -> dict:
    """A child leaving with both parents, documents in order (as tests/test_border_support.family_body)."""
    today = dt.date.today()
    family = "Vong" + uuid.uuid4().hex[:6]

    def doc(kind: str, prefix: str) -> dict:
        return {"kind": kind, "number": f"{prefix}{random.randrange(10**7):07d}", "country": "KH",
                "expires": (today + dt.timedelta(days=700)).isoformat()}

    def parent(family_name: str, given: str, sex: str) -> dict:
        return {"person": {"names": [{"family": family_name, "given": given}], "sex": sex,
                           "birth_date": today.replace(year=today.year - 38).isoformat(), "nationalities": ["KH"],
                           "documents": [doc("national_id", "K")]},
                "relationship": "parent", "evidence": "birth_certificate"}

    birth = (today.replace(year=today.year - 9) - dt.timedelta(days=40)).isoformat()
    return {"direction": "exit", "stated_age": 9, "situation": "parents", "purpose": "family_visit",
            "child": {"names": [{"family": family, "given": "Srey"}], "sex": "female", "birth_date": birth,
                      "nationalities": ["KH"], "documents": [doc("passport", "N")]},
            "companions": [parent(family, "Dara", "male"), parent("Lim" + uuid.uuid4().hex[:4], "Ny", "female")],
            "destination": {"country": "TH", "place": "Bangkok"}}


class Soak:
    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base, self.tokens = base, tokens
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.ids: list[str] = []
        self.measure_from = 0.0

    async def one(self, session: aiohttp.ClientSession, kind: str) -> None:
        if kind == "register":
            req = ("POST", "/api/v1/records", "registrar", None, _record())
        elif kind == "read" and self.ids:
            req = ("GET", f"/api/v1/records/{random.choice(self.ids)}", "liaison", "investigation", None)
        elif kind in ("read", "search"):
            req = ("GET", "/api/v1/records?limit=20", "liaison", "investigation", None)
        else:
            req = ("POST", "/api/v1/border/checks", "immigration", "border_check", _check())
        method, path, role, purpose, body = req
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        if purpose:
            headers["X-Purpose"] = purpose
        started = time.perf_counter()
        try:
            async with session.request(method, self.base + path, json=body, headers=headers) as resp:
                answer = await resp.read()
                ok = 200 <= resp.status < 300
                if ok and kind == "register" and len(self.ids) < 50_000:
                    self.ids.append(json.loads(answer)["id"])
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if time.monotonic() >= self.measure_from:
            self.latency[kind].append(time.perf_counter() - started)
            if not ok:
                self.errors[kind] += 1

    async def worker(self, session: aiohttp.ClientSession, until: float) -> None:
        kinds = [k for k, w in MIX for _ in range(w)]
        while time.monotonic() < until:
            await self.one(session, random.choice(kinds))


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")


async def soak(args: argparse.Namespace, port: int, server: psutil.Process, tokens: dict[str, str]) -> dict:
    runner = Soak(f"http://127.0.0.1:{port}", tokens)
    rss: list[tuple[float, int]] = []
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        start = time.monotonic()
        runner.measure_from = start + WARMUP
        until = runner.measure_from + args.seconds
        workers = [asyncio.create_task(runner.worker(session, until)) for _ in range(args.concurrency)]
        while time.monotonic() < until:
            await asyncio.sleep(5)
            rss.append((round(time.monotonic() - start, 1), server.memory_info().rss))
        await asyncio.gather(*workers)
    measured = [r for t, r in rss if t >= WARMUP]
    kinds = {}
    for kind, values in sorted(runner.latency.items()):
        kinds[kind] = {"requests": len(values), "per_s": round(len(values) / args.seconds, 1),
                       "p50_ms": round(_pct(values, 0.50), 2), "p99_ms": round(_pct(values, 0.99), 2),
                       "non_2xx": runner.errors[kind]}
    every = [v for values in runner.latency.values() for v in values]
    total = {"requests": len(every), "per_s": round(len(every) / args.seconds, 1),
             "p50_ms": round(_pct(every, 0.50), 2), "p99_ms": round(_pct(every, 0.99), 2),
             "non_2xx": sum(runner.errors.values())}
    return {"seconds": args.seconds, "concurrency": args.concurrency, "mix": dict(MIX), "kinds": kinds,
            "total": total,
            "rss_start_mb": round(measured[0] / 2**20, 1) if measured else None,
            "rss_end_mb": round(measured[-1] / 2**20, 1) if measured else None,
            "rss_max_mb": round(max(measured) / 2**20, 1) if measured else None,
            "rss_samples": [(t, round(r / 2**20, 1)) for t, r in rss]}


def _print(result: dict) -> None:
    print(f"soak: {result['seconds']} s, {result['concurrency']} workers (after {WARMUP:.0f} s warm-up), "
          f"mix {result['mix']}")
    print(f"{'kind':<10} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for kind, row in [*result["kinds"].items(), ("total", result["total"])]:
        print(f"{kind:<10} {row['requests']:>9} {row['per_s']:>8} {row['p50_ms']:>8} {row['p99_ms']:>8} "
              f"{row['non_2xx']:>8}")
    start, end = result["rss_start_mb"], result["rss_end_mb"]
    growth = f"{end - start:+.1f} MB" if start is not None and end is not None else "n/a"
    print(f"service RSS: start {start} MB, end {end} MB, max {result['rss_max_mb']} MB ({growth})")


def main() -> int:
    parser = argparse.ArgumentParser(description="bounded soak of the service (mixed load, memory)")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--mix", default=",".join(f"{k}={w}" for k, w in MIX),
                        help="weights, e.g. read=4,search=2,check=2 (no register: the register stops growing)")
    args = parser.parse_args()
    MIX[:] = [(k, int(w)) for k, w in (part.split("=") for part in args.mix.split(","))]
    if not {k for k, _ in MIX} <= {"register", "read", "search", "check"}:
        parser.error("--mix kinds are register, read, search, check")
    random.seed(7)
    home = Path(tempfile.mkdtemp(prefix="exchange-soak-"))
    port = _free_port()
    with open(home / "serve.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "exchange.cli", "serve", "--port", str(port)],
                                env=_env(home), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        _wait_ready(port, time.monotonic() + 120)
        users = {"registrar": _user(home, "registrar"), "liaison": _user(home, "liaison"),
                 "immigration": _user(home, "immigration", "POIPET")}
        tokens = {}
        for role, made in users.items():
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/auth/token", method="POST",
                headers={"Content-Type": "application/json"},
                data=json.dumps({"username": made["username"], "password": made["password"],
                                 "totp": pyotp.parse_uri(made["totp_uri"]).now()}).encode())
            with urllib.request.urlopen(req, timeout=30) as resp:
                tokens[role] = json.loads(resp.read())["token"]
        result = asyncio.run(soak(args, port, psutil.Process(proc.pid), tokens))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(home, ignore_errors=True)
    _print(result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
