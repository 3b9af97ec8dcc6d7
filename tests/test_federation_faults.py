"""Fault tests, each bounded in time and stopping by itself:

- the receiver goes down in the middle of a push (some messages never reach it, some are applied but their
  answer is lost) and comes back: every message arrives once, versions of one record in order;
- the sender dies between sending and marking sent (its transaction never commits): the retry is a replay the
  receiver answers idempotently; nothing lost, nothing applied twice;
- two sender loops (two pools: two processes) on one database: no message is sent twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from exchange.appkeys import POOL
from exchange.database import create_pool
from exchange.federation.context import Federation
from exchange.federation.loops import cancel_all, send_loop
from exchange.federation.sender import send_batch
from exchange.federation.transport import Answer, HttpTransport, TransportError

from .test_federation_support import fed_nodes, record_body, register  # noqa: F401 (the session fixture)

RECORDS = 60
CORRECTED = 15
DEADLINE = 60.0


@pytest.fixture
def nodes(request):
    return request.getfixturevalue("fed_nodes")  # three nodes shared by the federation test files


class FlakyTransport:
    """A real HTTP transport with an outage: after ``ok`` posts, the next ``down`` posts fail; every other one
    of them is lost on the way there, the others reach the receiver and lose the answer on the way back."""

    def __init__(self, ok: int, down: int) -> None:
        self.inner, self.ok, self.down, self.posts, self.failed = HttpTransport(), ok, down, 0, 0

    async def post(self, url: str, data: bytes) -> Answer:
        self.posts += 1
        if self.ok < self.posts <= self.ok + self.down:
            self.failed += 1
            if self.failed % 2:
                raise TransportError("connection refused")
            await self.inner.post(url, data)
            raise TransportError("connection reset before the answer")
        return await self.inner.post(url, data)

    async def get(self, url: str) -> Answer:
        return await self.inner.get(url)

    async def close(self) -> None:
        await self.inner.close()


class CountingTransport(HttpTransport):
    def __init__(self, seen: list[bytes]) -> None:
        super().__init__()
        self.seen = seen

    async def post(self, url: str, data: bytes) -> Answer:
        self.seen.append(data)
        return await super().post(url, data)


async def _make_records(kh, count: int, corrected: int, tag: str) -> list[str]:
    ids = [await register(kh, record_body(f"{tag}{i:04d}", "Fault", passport=f"F{tag}{i:05d}")) for i in range(count)]
    for rid in ids[:corrected]:
        for version in (1, 2):
            resp = await kh.client.put(f"/api/v1/records/{rid}", json=record_body(f"{tag}{version}x", "Fixed"),
                                       headers={**kh.headers("registrar", None), "If-Match": f'"{version}"'})
            assert resp.status == 200
    return ids


async def _pending(kh, country: str) -> int:
    return await kh.owner.fetchval("SELECT count(*) FROM outbox WHERE partner = $1 AND status = 'pending'", country)


async def _until_drained(kh, country: str) -> None:
    started = time.monotonic()
    while await _pending(kh, country):
        assert time.monotonic() - started < DEADLINE, "the queue did not drain in time"
        await asyncio.sleep(0.1)


async def _check_arrived_once_in_order(kh, receiver, ids: list[str]) -> None:
    sent = await kh.owner.fetchval("SELECT count(*) FROM outbox WHERE partner = $1 AND person_id = ANY($2::uuid[])",
                                   receiver.country, [uuid.UUID(i) for i in ids])
    got = await receiver.owner.fetch(
        "SELECT record_id, array_agg(version ORDER BY received_at, version) AS versions FROM partner_record_versions"
        " WHERE country = 'KH' AND record_id = ANY($1::text[]) GROUP BY record_id", ids)
    assert len(got) == len(ids)
    assert sum(len(g["versions"]) for g in got) == sent  # every message applied, none twice (primary key)
    for g in got:
        assert list(g["versions"]) == list(range(1, len(g["versions"]) + 1))  # in version order, none skipped
    status = await kh.owner.fetch("SELECT DISTINCT status FROM outbox WHERE partner = $1 AND person_id = ANY($2)",
                                  receiver.country, [uuid.UUID(i) for i in ids])
    assert [s["status"] for s in status] == ["delivered"]


async def test_receiver_down_in_the_middle_of_a_push(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    ids = await _make_records(kh, RECORDS, CORRECTED, "D")
    real = kh.fed.transport
    flaky = FlakyTransport(ok=RECORDS // 3, down=6)
    kh.fed.transport = flaky
    task = asyncio.create_task(send_loop(kh.fed, kh.app, "TH"))
    try:
        await _until_drained(kh, "TH")
    finally:
        await cancel_all([task])
        kh.fed.transport = real
        await flaky.close()
    assert flaky.failed == 6
    await _check_arrived_once_in_order(kh, th, ids)
    replays = await th.owner.fetchval("SELECT count(*) FROM audit_log WHERE action = 'federation.receive' "
                                      "AND outcome = 'replayed'")
    assert replays >= 1  # a message applied before its answer was lost came again and was not applied again


class DyingTransport(HttpTransport):
    """Delivers, then the sending process 'dies' before it can mark the message sent."""

    def __init__(self, die_at: int) -> None:
        super().__init__()
        self.die_at, self.posts = die_at, 0

    async def post(self, url: str, data: bytes) -> Answer:
        self.posts += 1
        dies = self.posts == self.die_at
        answer = await super().post(url, data)
        if dies:
            raise RuntimeError("process killed")
        return answer


async def test_sender_dies_between_sending_and_marking_sent(nodes):
    kh, vn = nodes["KH"], nodes["VN"]
    await _until_drained_direct(kh, "VN")  # earlier records: out of the way
    ids = await _make_records(kh, 30, 5, "K")
    dying = DyingTransport(die_at=17)
    real, kh.fed.transport = kh.fed.transport, dying
    try:
        with pytest.raises(RuntimeError):
            await send_batch(kh.fed, kh.pool, "VN")
        assert await _pending(kh, "VN") >= 30  # the batch never committed: everything is still to send
    finally:
        kh.fed.transport = real
        await dying.close()
    await _until_drained_direct(kh, "VN")
    await _check_arrived_once_in_order(kh, vn, ids)


async def _until_drained_direct(kh, country: str) -> None:
    started = time.monotonic()
    while await _pending(kh, country):
        assert time.monotonic() - started < DEADLINE
        result = await send_batch(kh.fed, kh.pool, country)
        if not result.more:
            await asyncio.sleep(0.05)


async def test_two_sender_processes_on_one_database_send_nothing_twice(nodes):
    kh, vn = nodes["KH"], nodes["VN"]
    await _until_drained_direct(kh, "VN")
    ids = await _make_records(kh, 50, 10, "T")
    seen: list[bytes] = []
    second_pool = await create_pool(kh.target.app_dsn)
    feds = [Federation(kh.settings, transport=CountingTransport(seen)) for _ in range(2)]

    class App(dict):
        pass

    apps = []
    for pool in (kh.pool, second_pool):  # what send_loop reads from its application: the pool
        fake = App()
        fake[POOL] = pool
        apps.append(fake)
    tasks = [asyncio.create_task(send_loop(fed, app, "VN")) for fed, app in zip(feds, apps, strict=True)]
    try:
        await _until_drained(kh, "VN")
    finally:
        await cancel_all(tasks)
        for fed in feds:
            await fed.transport.close()
        await second_pool.close()
    queued = await kh.owner.fetchval("SELECT count(*) FROM outbox WHERE partner = 'VN' AND person_id = ANY($1)",
                                     [uuid.UUID(i) for i in ids])
    assert len(seen) == queued  # each message posted exactly once by one of the two processes
    await _check_arrived_once_in_order(kh, vn, ids)
