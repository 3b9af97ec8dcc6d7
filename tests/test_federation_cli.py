"""``exchange keys init|show|rotate`` and ``exchange partner add|list`` as an operator runs them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import stat

import pytest

from exchange import cli
from exchange.federation import identity

from .conftest import fresh_database


async def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(cli.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
async def operator_env(pg_cluster, tmp_path, monkeypatch):
    async with fresh_database(pg_cluster, prefix="fedcli") as name:
        target = pg_cluster.target(name)
        monkeypatch.setenv("EXCHANGE_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("EXCHANGE_COUNTRY", "TH")
        monkeypatch.setenv("EXCHANGE_DATABASE_URL", target.app_dsn)
        monkeypatch.setenv("EXCHANGE_DATABASE_OWNER_URL", target.owner_dsn)
        yield tmp_path / "home"


async def test_keys_init_show_rotate(capsys, operator_env):
    code, out, _ = await run(capsys, "keys", "init")
    assert code == 0 and "key_id: ed25519:" in out
    path = identity.key_path(operator_env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    code, _, err = await run(capsys, "keys", "init")
    assert code == 1 and "exist already" in err
    code, out, _ = await run(capsys, "keys", "show", "--json")
    shown = json.loads(out)
    assert set(shown) == {"country", "signing_key", "box_key", "key_id"} and shown["country"] == "TH"
    assert shown["signing_key"] not in path.read_text()  # the file holds seeds, the output public keys only
    code, out, _ = await run(capsys, "keys", "rotate", "--overlap-days", "3")
    assert code == 0 and "key_set_version: 2" in out
    assert len(identity.load(operator_env, "TH").keys) == 2


async def test_partner_add_and_list(capsys, operator_env, tmp_path):
    peer = identity.init(tmp_path / "kh", "KH", dt.datetime.now(dt.UTC)).show(dt.datetime.now(dt.UTC))
    # keys are base64url and may start with "-": passed with "=" so argparse never reads one as an option
    base = ["partner", "add", "--country", "KH", "--url", "http://127.0.0.1:9/",
            "--signing-key=" + peer["signing_key"], "--box-key=" + peer["box_key"]]
    code, out, err = await run(capsys, *base, "--key-id", peer["key_id"], "--receives", "full", "--categories",
                               "child_trafficking", "child_sexual_abuse")
    assert code == 0, err
    assert json.loads(out) == {"country": "KH", "receives": "full", "url": "http://127.0.0.1:9"}
    code, _, err = await run(capsys, *base)
    assert code == 1 and "registered already" in err
    code, _, err = await run(capsys, "partner", "add", "--country", "VN", "--url", "http://127.0.0.1:9",
                             "--signing-key", "not-a-key!", "--box-key=" + peer["box_key"])
    assert code == 1 and "--signing-key" in err and "not-a-key" not in err
    code, _, err = await run(capsys, "partner", "add", "--country", "VN", "--url", "ftp://x",
                             "--signing-key=" + peer["signing_key"], "--box-key=" + peer["box_key"])
    assert code == 1 and "--url" in err
    code, out, _ = await run(capsys, "partner", "list", "--json")
    listed = json.loads(out)
    assert [(p["country"], p["receives"], p["key_ids"]) for p in listed] == [("KH", "full", [peer["key_id"]])]
    assert sorted(listed[0]["categories"]) == ["child_sexual_abuse", "child_trafficking"]
    code, out, _ = await run(capsys, "partner", "add", "--country", "VN", "--url", "https://vn.example/x",
                             "--signing-key=" + peer["signing_key"], "--box-key=" + peer["box_key"])
    assert code == 0 and json.loads(out)["receives"] == "hits"  # the default: hit/no-hit answers only
