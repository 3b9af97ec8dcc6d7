"""The screening index's encrypted snapshot, against a real PostgreSQL holding a few hundred real-shaped records
(Febrl 3 people, Khmer and Thai names in their own scripts): a restored index answers exactly like the loaded
one; changes made after the snapshot are seen after restore + reconcile; a damaged, foreign or stale snapshot is
ignored and the database load runs; the file and key are private and hold no name in clear."""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
import logging
import os
import re
import stat
import uuid
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web

from exchange import screening_snapshot as snapshots
from exchange.appkeys import POOL, SETTINGS
from exchange.border import jobs
from exchange.border.config import BorderSettings
from exchange.border.jobs import _index_loop, _snapshot_loop, _start_index
from exchange.config import ConfigError, Settings
from exchange.database import connect, create_pool
from exchange.migrate import migrate
from exchange.screening_index import ScreeningIndex
from exchange.screening_snapshot import SnapshotFile, restore, save
from tests.conftest import fresh_database

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # shared/ lies beside the clone, here and in CI
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _people() -> list[dict]:
    """300 Febrl 3 records, 30 Khmer full names and 30 Thai names, in the canonical shape."""
    with open(DATA / "febrl3" / "records.jsonl", encoding="utf-8") as fh:
        febrl = (json.loads(line) for line in fh)
        people = list(itertools.islice((p for p in febrl if all(n.get("full") for n in p["names"])), 300))
    with open(DATA / "names" / "khmer_names_kname.csv", encoding="utf-8") as fh:
        khmer = [row for row in csv.DictReader(fh) if row["part"] == "full_surname_first"][:30]
    people += [{"names": [{"full": row["khmer"], "kind": "primary"}], "birth_date": f"19{60 + i}-03-0{1 + i % 9}"}
               for i, row in enumerate(khmer)]
    with open(DATA / "names" / "thai_names_romanization.csv", encoding="utf-8") as fh:
        thai = [row["thai"] for row in csv.DictReader(fh) if row["latin_kind"] == "rtgs"][:30]
    people += [{"names": [{"full": f"{name} สมบูรณ์", "kind": "primary"}], "birth_date": f"1975-0{1 + i % 9}-1{i % 10}"}
               for i, name in enumerate(thai)]
    return people


async def _insert(conn: asyncpg.Connection, person: dict, pid: uuid.UUID | None = None, version: int = 1) -> uuid.UUID:
    pid = pid or uuid.uuid4()
    if version == 1:
        await conn.execute("INSERT INTO persons (id, status, current_version) VALUES ($1, 'active', 1)", pid)
    else:
        await conn.execute("UPDATE persons SET current_version = $2, updated_at = now() WHERE id = $1", pid, version)
    birth = person.get("birth_date")
    birth = birth if isinstance(birth, str) and _DATE.fullmatch(birth) else None
    await conn.execute("INSERT INTO record_versions (person_id, version, status, birth_date, birth_precision, "
                       "nationalities, addresses) VALUES ($1, $2, 'active', $3, $4, $5, $6)", pid, version, birth,
                       "day" if birth else None, person.get("nationalities", []),
                       json.dumps(person.get("addresses", [])))
    for i, name in enumerate(person["names"]):
        full = name.get("full") or f"{name.get('given', '')} {name.get('family', '')}".strip()
        await conn.execute("INSERT INTO person_names (person_id, version, ordinal, family, given, full_name, script, "
                           "kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", pid, version, i,
                           name.get("family") or None, name.get("given") or None, full, name.get("script"), "primary")
    for i, doc in enumerate(person.get("documents", [])):
        await conn.execute("INSERT INTO person_documents (person_id, version, ordinal, kind, number, country) "
                           "VALUES ($1, $2, $3, $4, $5, $6)", pid, version, i, doc["kind"], doc["number"],
                           doc.get("country"))
    return pid


@pytest.fixture(scope="module")
async def people() -> list[dict]:
    return _people()


@pytest.fixture(scope="module")
async def db(pg_cluster, people):
    """A database of its own (the session's grows with every other test) with the people in it."""
    async with fresh_database(pg_cluster, "snap") as name:
        target = pg_cluster.target(name)
        await migrate(target.owner_dsn)
        owner = await connect(target.owner_dsn)
        try:
            async with owner.transaction():
                for person in people:
                    await _insert(owner, person)
            yield target, owner
        finally:
            await owner.close()


@pytest.fixture
async def pool(db):
    made = await create_pool(db[0].app_dsn, min_size=1, max_size=3)  # the service's role, as in production
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def loaded(pool) -> ScreeningIndex:
    holder = ScreeningIndex()
    await holder.load(pool)
    return holder


def _queries(people: list[dict]) -> list[dict]:
    """Every person under another id (a record is never its own candidate), and the Khmer names in Latin."""
    with open(DATA / "names" / "khmer_names_kname.csv", encoding="utf-8") as fh:
        latin = [row["latin"] for row in csv.DictReader(fh) if row["part"] == "full_surname_first"][:30]
    return ([{**p, "id": f"q{i}"} for i, p in enumerate(people)]
            + [{"id": f"k{i}", "names": [{"full": name}]} for i, name in enumerate(latin)])


def _answers(holder: ScreeningIndex, queries: list[dict]) -> list[list[tuple]]:
    return [[(c.id, c.probability, c.match.features, c.match.model_version) for c in holder.query(q, 10, 0.05)]
            for q in queries]


def _shared_name_keys(holder: ScreeningIndex) -> int:
    return len({id(key) for p in holder.index.export_state().records if p is not None for key in p.names})


async def test_a_restored_index_answers_exactly_like_the_loaded_one(pool, loaded, people, tmp_path):
    file = SnapshotFile(tmp_path)
    assert await save(loaded, pool, file) == loaded.changes  # written by a forked child
    restored = ScreeningIndex()
    assert await restore(restored, pool, file)
    assert len(restored) == len(loaded) == len(people) and restored.versions == loaded.versions
    assert restored.looked_at == loaded.looked_at
    assert [s.watermark for s in restored.sources] == [s.watermark for s in loaded.sources]
    queries = _queries(people)
    before, after = _answers(loaded, queries), _answers(restored, queries)
    assert after == before
    assert sum(map(len, before)) > len(queries)  # the comparison is not between empty answers
    assert any(c[0] for c in before[-1])  # a Latin query finds its Khmer-script record
    # records sharing a name share one NameKey object after the restore, as after the load
    assert _shared_name_keys(restored) == _shared_name_keys(loaded) < sum(len(p["names"]) for p in people)
    assert not list((tmp_path / "index").glob("*.tmp"))


async def test_changes_after_the_snapshot_are_seen_after_restore_and_reconcile(db, pool, loaded, people, tmp_path):
    file = SnapshotFile(tmp_path)
    assert await save(loaded, pool, file) is not None
    owner = db[1]
    ids = sorted(loaded.versions)
    withdrawn, replaced = uuid.UUID(ids[0]), uuid.UUID(ids[1])
    async with owner.transaction():
        new = await _insert(owner, {"names": [{"family": "Sokhazq", "given": "Vannak"}], "birth_date": "1971-02-03"})
        await owner.execute("UPDATE persons SET status = 'withdrawn', updated_at = now() WHERE id = $1", withdrawn)
        await _insert(owner, {"names": [{"family": "Ratanakzq", "given": "Bopha"}]}, replaced, version=2)
    holder = ScreeningIndex()
    assert await restore(holder, pool, file)
    assert str(new) not in holder.versions and str(withdrawn) in holder.versions  # the snapshot's moment
    assert await holder.reconcile(pool) == 3
    fresh = ScreeningIndex()
    await fresh.load(pool)
    assert holder.versions == fresh.versions and holder.versions[str(replaced)] == 2
    assert str(withdrawn) not in holder.versions and holder.index.get(str(withdrawn)) is None
    assert "ratanakzq" in holder.index.get(str(replaced)).name_tokens
    query = {"id": "q", "names": [{"family": "Sokhazq", "given": "Vannak"}], "birth_date": "1971-02-03"}
    assert [c.id for c in holder.query(query, 5, 0.5)][:1] == [str(new)]
    queries = _queries(people)
    assert _answers(holder, queries) == _answers(fresh, queries)


def _flip_byte(file: SnapshotFile) -> None:
    data = bytearray(file.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    file.path.write_bytes(bytes(data))


def _truncate(file: SnapshotFile) -> None:
    data = file.path.read_bytes()
    file.path.write_bytes(data[: len(data) - 100])


def _wrong_key(file: SnapshotFile) -> None:
    key = file.home / "keys" / "snapshot.key"
    key.write_bytes(os.urandom(32))


def _drop_a_frame(file: SnapshotFile) -> None:  # a whole, authentic frame cut out of the middle
    data = file.path.read_bytes()
    at, frames = len(snapshots.MAGIC), []
    while at < len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        frames.append(data[at:at + 4 + size])
        at += 4 + size
    file.path.write_bytes(snapshots.MAGIC + b"".join(frames[:3] + frames[4:]))


@pytest.mark.parametrize("damage", [_flip_byte, _truncate, _wrong_key, _drop_a_frame])
async def test_a_damaged_snapshot_or_wrong_key_falls_back_to_the_database(pool, loaded, people, tmp_path, caplog,
                                                                          monkeypatch, damage):
    file = SnapshotFile(tmp_path)
    assert await save(loaded, pool, file) is not None
    damage(file)
    unpickled = []
    monkeypatch.setattr(snapshots, "load_frame", lambda *args: unpickled.append(args[0]) or [])
    await _falls_back(pool, loaded, people, file, caplog)
    assert unpickled == []  # a file that is not wholly authentic is never unpickled, not even its first frames


@pytest.mark.parametrize("change", ["format", "code", "model", "database"])
async def test_a_snapshot_of_other_code_or_another_database_falls_back(pool, loaded, people, tmp_path, caplog,
                                                                      monkeypatch, change):
    file = SnapshotFile(tmp_path)
    with monkeypatch.context() as patch:  # the snapshot is written by other code, or for another database
        if change == "format":
            patch.setattr(snapshots, "FORMAT", snapshots.FORMAT + 1)
        elif change == "code":
            patch.setattr(snapshots, "code_digest", lambda: "0" * 64)
        elif change == "model":
            patch.setattr(snapshots, "fingerprint", lambda version: {"format": snapshots.FORMAT, "model": "fs-other",
                                                                    "code": snapshots.code_digest()})
        else:
            async def other(conn):
                return "another database"
            patch.setattr(snapshots, "database_identity", other)
        assert await save(loaded, pool, file) is not None
    await _falls_back(pool, loaded, people, file, caplog)


async def _falls_back(pool, loaded, people, file, caplog) -> None:
    """The service's start: the snapshot is ignored with a log line naming no one, the database load runs,
    and the index answers as a loaded one does."""
    app = web.Application()
    app[POOL] = pool
    holder = ScreeningIndex()
    with caplog.at_level(logging.INFO):
        assert not await _start_index(app, holder, file)
    assert holder.ready.is_set() and holder.versions == loaded.versions
    queries = _queries(people)[::7]
    assert _answers(holder, queries) == _answers(loaded, queries)
    ignored = [r for r in caplog.records if r.getMessage().startswith("screening snapshot ignored")]
    assert len(ignored) == 1 and ignored[0].levelno == logging.WARNING
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records).lower()
    for person in people[:50]:
        for name in person["names"]:
            for part in (name.get("family"), name.get("given")):
                assert not part or len(part) < 4 or part.lower() not in logged


async def test_file_and_key_are_private_and_hold_no_name_in_clear(pool, loaded, people, tmp_path):
    file = SnapshotFile(tmp_path)
    assert await save(loaded, pool, file) is not None
    key = tmp_path / "keys" / "snapshot.key"
    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600 and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    data = file.path.read_bytes()
    names = {n for p in people for name in p["names"] for n in (name.get("family"), name.get("given"), name.get("full"))
             if n and len(n) >= 4}
    folded = {t for p in loaded.index.export_state().records if p for key_ in p.names for t in key_.tokens
              if len(t) >= 5}
    assert len(names) > 300 and len(folded) > 300
    for text in names | folded:
        assert text.encode() not in data and text.lower().encode() not in data
    assert b"matching.names" not in data and b"NameKey" not in data  # not even the class names


async def test_the_event_loop_keeps_answering_while_a_snapshot_is_read(pool, loaded, tmp_path, monkeypatch):
    for kind in snapshots.CHUNK:  # small frames, as a large register has many
        monkeypatch.setitem(snapshots.CHUNK, kind, 40)
    file = SnapshotFile(tmp_path)
    assert await save(loaded, pool, file) is not None
    frames = sum(1 for _ in file.frames())
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        assert await restore(ScreeningIndex(), pool, file)
    finally:
        task.cancel()
    assert frames >= 10 and ticks >= frames - 2  # it ran between (nearly) every two frames


async def test_two_writers_at_once_leave_one_whole_snapshot(pool, loaded, tmp_path):
    file = SnapshotFile(tmp_path)
    written = await asyncio.gather(save(loaded, pool, file), save(loaded, pool, file))
    assert any(w is not None for w in written)
    assert not list((tmp_path / "index").glob("*.tmp"))
    assert await restore(ScreeningIndex(), pool, file)


async def test_the_service_writes_after_a_load_and_again_only_after_a_change(db, pool, loaded, tmp_path):
    file = SnapshotFile(tmp_path)
    app = web.Application()
    app[POOL] = pool
    holder = ScreeningIndex()
    assert not await _start_index(app, holder, file)  # no snapshot yet: the database load
    task = asyncio.create_task(_snapshot_loop(app, holder, file, every=1, saved=None))
    try:
        first = await _written(file, None)
        await asyncio.sleep(1.5)  # a turn of the loop with nothing changed writes nothing
        assert file.path.stat().st_ino == first
        async with db[1].transaction():
            await _insert(db[1], {"names": [{"family": "Chanthyzq", "given": "Dara"}]})
        async with pool.acquire() as conn:
            assert await holder.refresh(conn) == 1
        await _written(file, first)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    restored = ScreeningIndex()
    assert await _start_index(app, restored, file)
    assert restored.ready.is_set() and restored.versions == holder.versions


async def _written(file: SnapshotFile, before: int | None) -> int:
    """The inode of the snapshot once one other than ``before`` is in place (waits up to 20 s)."""
    for _ in range(200):
        if file.path.exists() and file.path.stat().st_ino != before:
            return file.path.stat().st_ino
        await asyncio.sleep(0.1)
    raise AssertionError("no snapshot written")


def test_the_setting():
    assert BorderSettings.from_env({}).snapshot_interval == 3600
    assert BorderSettings.from_env({"EXCHANGE_BORDER_SNAPSHOT_INTERVAL": "0"}).snapshot_interval == 0
    with pytest.raises(ConfigError, match="EXCHANGE_BORDER_SNAPSHOT_INTERVAL"):
        BorderSettings.from_env({"EXCHANGE_BORDER_SNAPSHOT_INTERVAL": "-1"})


def test_a_snapshot_key_of_the_wrong_size_is_refused(tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "snapshot.key").write_bytes(b"short")
    with pytest.raises(snapshots.SnapshotError, match="32-byte"):
        snapshots.load_key(tmp_path)




async def test_a_failed_write_is_reported_and_changes_nothing(pool, loaded, people, tmp_path, caplog):
    queries = _queries(people)[:60]  # answers compared, not one person's: earlier tests withdraw random records
    before = _answers(loaded, queries)
    (tmp_path / "index").write_bytes(b"")  # a file where the folder should be: the child cannot write
    with caplog.at_level(logging.INFO):
        assert await save(loaded, pool, SnapshotFile(tmp_path)) is None
    assert any("writer exit status 1" in str(getattr(r, "fields", "")) for r in caplog.records)
    assert loaded.ready.is_set() and sum(map(len, before)) > 0 and _answers(loaded, queries) == before


async def test_interval_zero_neither_reads_nor_writes_a_snapshot(pool, loaded, tmp_path, monkeypatch):
    file = SnapshotFile(tmp_path)
    assert await save(loaded, pool, file) is not None
    before = file.path.stat().st_ino
    app = web.Application()
    app[POOL] = pool
    app[SETTINGS] = Settings(home=tmp_path)
    holder = ScreeningIndex()
    touched: list[str] = []  # this loop's own calls (log lines could come from other apps of the test session)

    async def refuse(what: str) -> None:
        touched.append(what)
        raise AssertionError(f"snapshot {what} with the interval at 0")

    monkeypatch.setattr(jobs, "restore", lambda *a, **k: refuse("read"))
    monkeypatch.setattr(jobs, "save", lambda *a, **k: refuse("written"))
    # returns: no reconcile loop, and no snapshot loop at all
    await asyncio.wait_for(_index_loop(app, holder, BorderSettings(snapshot_interval=0, reconcile_interval=0)), 60)
    assert holder.ready.is_set() and holder.versions == loaded.versions
    assert touched == []
    assert file.path.stat().st_ino == before


async def test_records_a_bulk_load_left_as_text_are_saved_and_restored(pool, people, tmp_path):
    """An index loaded in forked workers holds records as JSON text until first used (matching ``Unprepared``):
    they are saved as such and the restored index answers exactly like the one saved."""
    holder = ScreeningIndex()
    holder.index.add_many([{**p, "id": f"b{i}"} for i, p in enumerate(people)], workers=2)
    queries = _queries(people)
    first = _answers(holder, queries[:5])  # prepares some records; the rest stay text
    kinds = {type(p).__name__ for p in holder.index.export_state().records}
    assert kinds == {"Prepared", "Unprepared"}
    file = SnapshotFile(tmp_path)
    await save(holder, pool, file)
    restored = ScreeningIndex()
    assert await restore(restored, pool, file)
    assert {type(p).__name__ for p in restored.index.export_state().records} == kinds
    assert _answers(restored, queries) == _answers(holder, queries)
    assert _answers(restored, queries[:5]) == first and sum(map(len, first)) >= 5
