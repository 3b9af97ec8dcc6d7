"""Three nodes (KH, TH, VN) on 127.0.0.1 in one test process: each its own database (from the session's
PostgreSQL), its own home folder and keys, its own service app; partners registered with each other's keys
as an operator would (``keys show`` -> ``partner add``). Shared by the ``test_federation_*`` files.

The send and pull loops are off (``federation_loops=False``): tests drive ``send_batch`` and ``pull_once``
themselves so each step is observable; ``test_federation_faults`` runs them concurrently. The three nodes are
made once per session (``fed_nodes``; logins cost two Argon2 hashes each) and shared by the federation files,
whose tests therefore drain queues before asserting on them.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from exchange.app import create_app
from exchange.appkeys import POOL
from exchange.config import Settings
from exchange.database import Target, connect
from exchange.federation import identity, partners
from exchange.federation.context import FEDERATION, Federation
from exchange.federation.sender import send_batch
from exchange.migrate import migrate
from protocols.fixtures import CONVICTION, PERSON

from .conftest import Officer, fresh_database, login, new_officer

COUNTRIES = ("KH", "TH", "VN")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Node:
    country: str
    home: Path
    settings: Settings
    target: Target
    app: web.Application
    client: TestClient
    owner: asyncpg.Connection
    officers: dict[str, Officer]

    @property
    def fed(self) -> Federation:
        return self.app[FEDERATION]

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app[POOL]

    @property
    def url(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    def headers(self, role: str, purpose: str | None = "investigation") -> dict[str, str]:
        return self.officers[role].headers(purpose=purpose)

    async def count(self, table: str) -> int:
        return await self.owner.fetchval(f"SELECT count(*) FROM {table}")


async def start_node(stack: contextlib.AsyncExitStack, cluster: Any, country: str, root: Path,
                     **overrides: Any) -> Node:
    home = root / country.lower()
    identity.init(home, country, now())
    name = await stack.enter_async_context(fresh_database(cluster, prefix=f"fed_{country.lower()}"))
    target = cluster.target(name)
    await migrate(target.owner_dsn)
    settings = Settings(home=home, country=country, issuer=f"exchange-{country.lower()}-test", token_ttl=3600,
                        federation_loops=False, send_interval_ms=20, **overrides)
    app = create_app(settings, target=target)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    stack.push_async_callback(client.close)
    owner = await connect(target.owner_dsn)
    stack.push_async_callback(owner.close)
    officers = {}
    for role in ("registrar", "liaison", "admin"):
        officers[role] = await login(client, await new_officer(target, role, settings=settings))
    return Node(country, home, settings, target, app, client, owner, officers)


async def link(nodes: dict[str, Node], receives: str = "full") -> None:
    """Each node registers every other one, pinning the keys it shows (as ``exchange partner add`` does)."""
    for me, node in nodes.items():
        async with node.pool.acquire() as conn, conn.transaction():
            for other, peer in nodes.items():
                if other == me:
                    continue
                shown = peer.fed.node().show(now())
                await partners.add(conn, country=other, url=peer.url, signing_key=shown["signing_key"],
                                   box_key=shown["box_key"], key_id=shown["key_id"], receives=receives, now=now())


@contextlib.asynccontextmanager
async def three_nodes(cluster: Any, **overrides: Any):
    with tempfile.TemporaryDirectory(prefix="exchange-fed-") as root:
        async with contextlib.AsyncExitStack() as stack:
            nodes = {c: await start_node(stack, cluster, c, Path(root), **overrides) for c in COUNTRIES}
            await link(nodes)
            yield nodes


def record_body(family: str = "Sok", given: str = "Dara", birth: str = "1979-03-14", passport: str = "N0000001",
                sharing: list[str] | None = None) -> dict[str, Any]:
    person = copy.deepcopy(PERSON)
    person["id"] = f"KH-P-{uuid.uuid4().hex[:8]}"
    person["names"] = [{"family": family, "given": given, "script": "Latn", "kind": "primary"}]
    person["birth_date"] = birth
    person["documents"][0]["number"] = passport
    body: dict[str, Any] = {"person": person, "convictions": [copy.deepcopy(CONVICTION)],
                            "review_date": "2031-06-20"}
    if sharing is not None:
        body["sharing"] = {"countries": sharing}
    return body


async def register(node: Node, body: dict[str, Any]) -> str:
    resp = await node.client.post("/api/v1/records", json=body, headers=node.headers("registrar", None))
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


async def drain(node: Node, country: str, rounds: int = 200) -> int:
    """Send ``node``'s queue to ``country`` until it is empty or a failure stops it; returns messages delivered."""
    delivered = 0
    for _ in range(rounds):
        result = await send_batch(node.fed, node.pool, country)
        delivered += result.delivered
        if not result.more:
            break
    return delivered


_SHARED: dict[str, dict[str, Node]] = {}


@pytest.fixture(scope="session")
async def fed_nodes(pg_cluster):
    """The session's three nodes. Each file imports this fixture (its own definition, session-scoped); the first
    to run makes the nodes and stops them at the end of the session, the others reuse them."""
    if "nodes" in _SHARED:
        yield _SHARED["nodes"]
        return
    async with three_nodes(pg_cluster, backoff_max_s=1) as made:
        _SHARED["nodes"] = made
        try:
            yield made
        finally:
            _SHARED.pop("nodes", None)
