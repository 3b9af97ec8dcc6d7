"""Backup and restore (exchange/backup.py, docs/operations.md): records registered through the API, a pg_dump
of the live database, a restore into a NEW database, then ``exchange audit verify`` passes on it and a fresh
service on the restored database serves the same records; a tampered restored audit row is still detected;
restore refuses an existing database and a missing file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from exchange.app import create_app
from exchange.backup import BackupError, backup, restore
from exchange.config import Settings
from exchange.database import connect, drop_database

from .conftest import login, new_officer
from .test_registry_api import create, make_body

RECORDS = "/api/v1/records"


def cli(env_url: str, *args: str, home) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env.update({"EXCHANGE_HOME": str(home), "EXCHANGE_DATABASE_URL": env_url, "EXCHANGE_FEDERATION_LOOPS": "0"})
    return subprocess.run([sys.executable, "-m", "exchange.cli", *args], env=env, capture_output=True, timeout=120)


async def read(client, officer, rid: str) -> dict:
    resp = await client.get(f"{RECORDS}/{rid}", headers=officer.headers("investigation"))
    assert resp.status == 200, await resp.text()
    return await resp.json()


@pytest.mark.slow
async def test_backup_restores_into_a_new_database_that_verifies_and_serves_the_same_records(
        client, officers, db_target, pg_cluster, tmp_path, settings):
    if pg_cluster.socket_dir is None:
        pytest.skip("needs the embedded server (its pg_dump and a local socket)")
    ids = [(await create(client, officers["registrar"], make_body()))["id"] for _ in range(5)]
    before = {rid: await read(client, officers["liaison"], rid) for rid in ids}
    dumped = await backup(db_target.owner_dsn, tmp_path / "exchange.dump")
    assert dumped.size > 0 and len(dumped.sha256) == 64
    assert not (tmp_path / "exchange.dump.partial").exists()

    name = f"restored_{os.urandom(4).hex()}"
    restored_dsn = await restore(db_target.owner_dsn, dumped.path, name)
    try:
        verify = cli(restored_dsn, "audit", "verify", home=tmp_path / "home")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        verified = json.loads(verify.stdout)
        assert verified["ok"] is True and verified["rows_verified"] > 0

        target = pg_cluster.target(name)
        restored_settings = Settings(home=settings.home, issuer=settings.issuer, token_ttl=3600,
                                     federation_loops=False)
        async with TestClient(TestServer(create_app(restored_settings, target=target), host="127.0.0.1")) as again:
            liaison = await login(again, await new_officer(target, "liaison"))
            after = {rid: await read(again, liaison, rid) for rid in ids}
        assert after == before

        # the restored chain is a real chain and its append-only trigger came back: one changed row is found
        owner = await connect(target.owner_dsn)
        try:
            with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
                await owner.execute("UPDATE audit_log SET outcome = 'edited'")
            await owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
            await owner.execute("UPDATE audit_log SET outcome = 'edited' WHERE id = (SELECT min(audit_id) "
                                "FROM audit_chain)")
        finally:
            await owner.close()
        broken = cli(restored_dsn, "audit", "verify", home=tmp_path / "home")
        assert broken.returncode == 1 and json.loads(broken.stdout)["ok"] is False

        with pytest.raises(BackupError, match="exists already"):
            await restore(db_target.owner_dsn, dumped.path, name)
    finally:
        await drop_database(pg_cluster.admin_dsn, name)
    with pytest.raises(BackupError, match="does not exist"):
        await restore(db_target.owner_dsn, tmp_path / "missing.dump", f"never_{os.urandom(4).hex()}")
    with pytest.raises(BackupError, match="database name"):
        await restore(db_target.owner_dsn, dumped.path, "Bad-Name; DROP")


@pytest.mark.slow
async def test_the_cli_backs_up_and_restores(db_target, pg_cluster, tmp_path):
    if pg_cluster.socket_dir is None:
        pytest.skip("needs the embedded server")
    dumped = cli(db_target.owner_dsn, "backup", "--to", str(tmp_path / "cli.dump"), home=tmp_path / "home")
    assert dumped.returncode == 0, dumped.stderr
    info = json.loads(dumped.stdout)
    assert info["bytes"] == (tmp_path / "cli.dump").stat().st_size
    name = f"clirestore_{os.urandom(4).hex()}"
    try:
        restored = cli(db_target.owner_dsn, "restore", "--from", str(tmp_path / "cli.dump"), "--database", name,
                       home=tmp_path / "home")
        assert restored.returncode == 0, restored.stderr
        assert json.loads(restored.stdout)["audit_ok"] is True
    finally:
        await drop_database(pg_cluster.admin_dsn, name)
