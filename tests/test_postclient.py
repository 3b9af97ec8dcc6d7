"""The border post's client (``exchange post``) against the real service and PostgreSQL: online answers, the
offline queue and its local answer, replay after the link returns (one check and one audit row per entry, a
second sync changes nothing), rejected replays set aside, encryption at rest, and the real command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import socket
import sqlite3
import stat
import sys
import uuid
from pathlib import Path
from typing import Any

import nacl.pwhash
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from exchange.cli import _parser
from exchange.postclient import cli as post_cli
from exchange.postclient.console import Console
from exchange.postclient.queue import FILE_NAME, Queue, QueueError
from exchange.postclient.service import Blocked, Refused, Service, Unreachable
from exchange.postclient.vault import KdfParams, WrongPassphrase

from .conftest import fresh_code, new_officer
from .test_border_support import CHECKS, family_body, random_birth, register, unique_word

PASSPHRASE = "grey river at poipet 7"
# libsodium's minimum Argon2id cost keeps the tests fast; the sealing is the same (a real queue uses MODERATE,
# checked by the command-line test).
FAST = dict(opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN, memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN)
ROOT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    """A loopback port nobody listens on (connection refused): the link to the service is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def risky_body() -> dict[str, Any]:
    """A child with an adult who is not a parent and shows no proof, and no consent letter: the rules say refer."""
    body = family_body()
    body["situation"] = "other_adults"
    body["companions"] = body["companions"][:1]
    body["companions"][0].update(relationship="friend_of_family", evidence="none")
    return body


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "post"
    Queue.create(path, PASSPHRASE, "POIPET", KdfParams.fresh(**FAST)).close()
    return path


class Post:
    """Runs ``exchange post ...`` in this process (the test server shares its event loop) as an officer."""

    def __init__(self, home: Path, url: str, db_target) -> None:
        self.home, self.url, self.db_target = home, url, db_target
        self.err = ""

    async def run(self, *argv: str, url: str | None = None, officer=None, passphrase: str = PASSPHRASE,
                  file: dict | None = None) -> tuple[int, dict]:
        if officer is None and url is None:  # a fresh officer per login: a TOTP code is accepted only once
            officer = await new_officer(self.db_target, "immigration", "POIPET")
        username, lines = (officer.username, f"{officer.password}\n{await fresh_code(officer)}\n") if officer else (
            "officer-offline", "not-checked\n000000\n")
        args = list(argv)
        if file is not None:
            path = self.home.parent / f"{uuid.uuid4()}.json"
            path.write_text(json.dumps(file))
            args.append(str(path))
        parsed = _parser().parse_args(["post", argv[0], "--json", "--home", str(self.home), "--url", url or self.url,
                                       "--username", username, *args[1:]])
        out, err = io.StringIO(), io.StringIO()
        console = Console(env={"EXCHANGE_POST_PASSPHRASE": passphrase}, stdin=io.StringIO(lines), out=out, err=err)
        code = await post_cli.run_async(parsed, console)
        self.err = err.getvalue()
        return code, json.loads(out.getvalue()) if out.getvalue() else {}

    async def offline(self, body: dict) -> dict:
        code, out = await self.run("record", url=f"http://127.0.0.1:{closed_port()}", file=body)
        assert code == 3, self.err
        assert out["mode"] == "offline" and out["queued"] is True
        return out


@pytest.fixture
def post(home: Path, client, db_target) -> Post:
    return Post(home, str(client.make_url("/")), db_target)


async def stored_for(owner_conn, key: str) -> list:
    return await owner_conn.fetch("SELECT id, border_point, flags, action, checked_at FROM border_checks "
                                  "WHERE idempotency_key = $1", key)


async def audit_rows(owner_conn, check_id) -> int:
    return await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'border.check' "
                                     "AND $1 = ANY(record_ids)", str(check_id))


def queued_keys(home: Path, state: str = "queued") -> list[str]:
    queue = Queue.open(home)
    try:
        return [e.key for e in queue.entries(state)]
    finally:
        queue.close()


async def test_record_while_reachable_prints_the_service_answer(post, owner_conn, home):
    code, out = await post.run("record", file=risky_body())
    assert code == 0, post.err
    assert out["mode"] == "online" and out["replayed"] is False
    rows = await stored_for(owner_conn, out["key"])
    assert len(rows) == 1 and str(rows[0]["id"]) == out["id"] and rows[0]["border_point"] == "POIPET"
    assert out["flags"] == list(rows[0]["flags"]) and "unrelated_adult" in out["flags"]
    assert out["recommendation"]["action"] == rows[0]["action"] == "refer"
    assert queued_keys(home) == []


async def test_record_while_unreachable_queues_and_gives_the_local_rules_answer(post, owner_conn, home):
    out = await post.offline(risky_body())
    assert out["flags"] == ["unrelated_adult", "no_consent_letter"]
    assert out["recommendation"]["action"] == "refer"
    assert out["screened"] is False and "NOT DONE" in out["warning"] and "written offline procedure" in out["warning"]
    assert queued_keys(home) == [out["key"]]
    assert await stored_for(owner_conn, out["key"]) == []


async def test_sync_after_the_link_returns_stores_each_entry_once_and_a_second_sync_changes_nothing(
        post, owner_conn, home, client, db_target):
    bodies = [risky_body(), family_body(), risky_body()]
    keys = [(await post.offline(b))["key"] for b in bodies]
    # the reply to the second one was lost: the service stored it, the post queued it anyway
    queue = Queue.open(home)
    queue.unlock(PASSPHRASE)
    lost = queue.body(queue.entries("queued")[1])
    times = {e.key: e.check_time for e in queue.entries("queued")}
    queue.close()
    with sqlite3.connect(home / FILE_NAME) as conn:
        sealed = [row[0] for row in conn.execute("SELECT sealed FROM entries")]
    conn.close()
    first = await new_officer(db_target, "immigration", "POIPET")
    resp = await client.post("/api/v1/auth/token", json={"username": first.username, "password": first.password,
                                                          "totp": first.code()})
    first.token = (await resp.json())["token"]
    resp = await client.post(CHECKS, json=lost, headers=first.headers("border_check", **{"Idempotency-Key": keys[1]}))
    assert resp.status == 201
    code, out = await post.run("sync")  # another officer of the same post
    assert code == 0, post.err
    assert (out["sent"], out["already_stored"], out["rejected"], out["queued"]) == (2, 1, 0, 0)
    assert [r["key"] for r in out["results"]] == keys  # in the order recorded
    for key, result in zip(keys, out["results"], strict=True):
        rows = await stored_for(owner_conn, key)
        assert len(rows) == 1 and str(rows[0]["id"]) == result["id"] and rows[0]["border_point"] == "POIPET"
        assert rows[0]["checked_at"] == times[key]  # the time the check was recorded, not the time of the sync
        assert await audit_rows(owner_conn, rows[0]["id"]) == 1
    assert queued_keys(home) == []
    raw = (home / FILE_NAME).read_bytes()
    assert not any(blob[-64:] in raw for blob in sealed)  # secure_delete overwrote the replayed entries
    before = await owner_conn.fetchval("SELECT count(*) FROM border_checks")
    code, out = await post.run("sync")
    assert code == 0 and (out["sent"], out["already_stored"], out["queued"]) == (0, 0, 0)
    assert await owner_conn.fetchval("SELECT count(*) FROM border_checks") == before


async def test_a_replay_refused_with_4xx_is_set_aside_and_never_sent_again(post, owner_conn, home, client, officers):
    bad, good = await post.offline(risky_body()), await post.offline(family_body())
    # the same key was used at the post for another check: the service answers 409 idempotency_mismatch
    resp = await client.post(CHECKS, json=family_body(),
                             headers=officers["immigration"].headers("border_check", **{"Idempotency-Key": bad["key"]}))
    assert resp.status == 201
    taken = (await resp.json())["id"]
    code, out = await post.run("sync")
    assert code == 1
    assert (out["sent"], out["rejected"], out["queued"], out["rejected_total"]) == (1, 1, 0, 1)
    assert out["results"][0] == {"key": bad["key"], "result": "rejected", "status": 409,
                                 "code": "idempotency_mismatch", "field": "Idempotency-Key",
                                 "message": out["results"][0]["message"]}
    assert len(await stored_for(owner_conn, good["key"])) == 1
    assert [str(r["id"]) for r in await stored_for(owner_conn, bad["key"])] == [taken]
    assert queued_keys(home, "rejected") == [bad["key"]]
    code, out = await post.run("sync")
    assert code == 0 and (out["sent"], out["rejected"], out["results"]) == (0, 0, [])
    code, out = await post.run("status")
    assert out["rejected_entries"][0]["code"] == "idempotency_mismatch" and out["queued"] == 0
    code, _ = await post.run("discard", bad["key"])
    assert code == 0 and queued_keys(home, "rejected") == []


async def test_a_check_the_service_refuses_is_shown_and_not_queued(post, home, client, officers, db_target):
    code_ = "TEST_" + uuid.uuid4().hex[:6].upper()
    point = {"code": code_, "name": "Closed post", "province": "Kampot", "neighbour": "VN", "crossing_type": "land"}
    admin = officers["admin"]
    assert (await client.post("/api/v1/border-points", json=point, headers=admin.headers(None))).status == 201
    officer = await new_officer(db_target, "immigration", code_)
    assert (await client.patch(f"/api/v1/border-points/{code_}", json={"active": False},
                               headers=admin.headers(None))).status == 200
    closed = home.parent / "closed"
    Queue.create(closed, PASSPHRASE, code_, KdfParams.fresh(**FAST)).close()
    post.home = closed
    code, out = await post.run("record", officer=officer, file=family_body())
    assert code == 1 and out["mode"] == "refused" and out["queued"] is False
    assert (out["status"], out["code"]) == (403, "forbidden") and "NOT queued" in post.err
    assert queued_keys(closed) == []


async def test_an_invalid_check_is_refused_locally_naming_the_field_not_the_value(post, home):
    body = risky_body()
    body["child"]["birth_date"] = "1990-01-01"  # an adult listed as the child
    name = body["child"]["names"][0]["given"]
    code, out = await post.run("record", url=f"http://127.0.0.1:{closed_port()}", file=body)
    assert code == 2 and out == {}
    assert "child.birth_date" in post.err and "1990" not in post.err and name not in post.err
    assert queued_keys(home) == []


async def test_a_queued_check_is_screened_when_replayed(post, client, officers, owner_conn):
    birth, family, given = random_birth(), unique_word("Kim"), unique_word("Chakra")
    await register(client, officers["registrar"], {"names": [{"family": family, "given": given}], "sex": "male",
                                                   "birth_date": birth, "nationalities": ["KH"]})
    body = risky_body()
    body["companions"][0]["person"].update(names=[{"full": f"{given.upper()} {family.upper()}"}], birth_date=birth)
    queued = await post.offline(body)
    assert "companion_watchlist_hit" not in queued["flags"]
    code, out = await post.run("sync")
    assert code == 0 and "companion_watchlist_hit" in out["results"][0]["flags"]
    assert await owner_conn.fetchval("SELECT count(*) FROM border_alerts WHERE check_id = $1",
                                     uuid.UUID(out["results"][0]["id"])) >= 1


async def test_status_warns_when_a_queued_check_nears_the_14_day_window(post):
    body = family_body()
    body["time"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=12)).isoformat(timespec="seconds")
    queued = await post.offline(body)
    code, out = await post.run("status")
    assert code == 1 and out["queued"] == 1 and out["near_window"] == [queued["key"]]
    assert 12 * 24 - 1 <= out["oldest_age_hours"] <= 12 * 24 + 1
    code, out = await post.run("sync", url=f"http://127.0.0.1:{closed_port()}")  # the link is still down
    assert code == 1 and out["stopped"] and out["queued"] == 1 and out["near_window"] == [queued["key"]]


async def test_sync_by_an_officer_of_another_post_sends_nothing(post, home, db_target, owner_conn):
    queued = await post.offline(family_body())
    other = await new_officer(db_target, "immigration", "BAVET")
    code, out = await post.run("sync", officer=other)
    assert code == 1 and out == {} and "belongs to post POIPET" in post.err
    assert queued_keys(home) == [queued["key"]] and await stored_for(owner_conn, queued["key"]) == []


async def test_an_entry_changed_on_disk_is_set_aside_not_sent(post, home, owner_conn):
    queued = await post.offline(family_body())
    with sqlite3.connect(home / FILE_NAME) as conn:
        sealed = bytearray(conn.execute("SELECT sealed FROM entries").fetchone()[0])
        sealed[-1] ^= 1
        conn.execute("UPDATE entries SET sealed = ?", (bytes(sealed),))
    conn.close()
    code, out = await post.run("sync")
    assert code == 1 and out["results"][0]["code"] == "damaged_entry" and out["rejected"] == 1
    assert await stored_for(owner_conn, queued["key"]) == []


async def test_the_queue_file_holds_no_plaintext_and_a_wrong_passphrase_reads_nothing(post, home):
    body = risky_body()
    secrets_ = [body["child"]["names"][0]["given"], body["child"]["names"][0]["family"],
                body["child"]["documents"][0]["number"], body["companions"][0]["person"]["names"][0]["given"]]
    queued = await post.offline(body)
    path = home / FILE_NAME
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(home).st_mode) == 0o700
    raw = b"".join(p.read_bytes() for p in home.iterdir())
    for word in secrets_:
        assert word.encode() not in raw
    assert queued["key"].encode() in raw  # the file is the queue (the key is not personal data)
    queue = Queue.open(home)
    with pytest.raises(WrongPassphrase):
        queue.unlock("not the passphrase at all")
    with pytest.raises(QueueError):
        queue.body(queue.entries()[0])
    queue.close()
    code, _ = await post.run("sync", passphrase="not the passphrase at all")
    assert code == 1 and "passphrase" in post.err and queued_keys(home) == [queued["key"]]
    for word in secrets_:
        assert word not in post.err
    queue = Queue.open(home)
    queue.unlock(PASSPHRASE)
    opened = queue.body(queue.entries()[0])
    queue.close()
    assert opened.pop("time") and opened == body


async def test_the_command_line_reads_secrets_from_stdin_and_records_online(client, db_target, owner_conn, tmp_path):
    """The real ``exchange`` program records with password and code on stdin, into a queue made by ``init``
    with the default (MODERATE) Argon2id cost and the passphrase from the environment."""
    home, check = tmp_path / "cli-post", tmp_path / "check.json"
    check.write_text(json.dumps(family_body()))
    officer = await new_officer(db_target, "immigration", "POIPET")
    env = {**os.environ, "EXCHANGE_POST_PASSPHRASE": PASSPHRASE, "EXCHANGE_POST_HOME": str(home),
           "EXCHANGE_URL": str(client.make_url("/")), "EXCHANGE_POST_USERNAME": officer.username}
    console = Console(env=env, stdin=io.StringIO(""), out=io.StringIO(), err=io.StringIO())
    assert await post_cli.run_async(_parser().parse_args(["post", "init", "--post", "POIPET"]), console) == 0
    queue = Queue.open(home)
    assert queue._params.opslimit == nacl.pwhash.argon2id.OPSLIMIT_MODERATE
    queue.close()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "exchange.cli", "post", "record", str(check), cwd=ROOT, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    answers = f"{officer.password}\n{await fresh_code(officer)}\n"
    out_b, err_b = await asyncio.wait_for(proc.communicate(answers.encode()), 60)
    out = out_b.decode()
    assert proc.returncode == 0, err_b.decode()
    assert "ANSWER OF THE SERVICE" in out and "recommendation: CLEAR" in out
    check_id = out.split("(check ")[1].split(")")[0]
    assert await owner_conn.fetchval("SELECT border_point FROM border_checks WHERE id = $1",
                                     uuid.UUID(check_id)) == "POIPET"
    # no secrets on standard input: nothing is sent, and the answer says why
    args = _parser().parse_args(["post", "record", str(check)])
    assert await post_cli.run_async(args, console) == 2 and "standard input ended" in console.err.getvalue()


async def test_answers_of_a_gateway_or_portal_are_sorted_as_unreachable_or_blocked():
    """A stand-in for what sits between a post and the service (a gateway, a captive portal), on loopback."""
    answers = {"502": web.Response(status=502), "503": web.json_response({"error": {}}, status=503),
               "portal": web.Response(text="<html>log in to the wifi</html>"),
               "redirect": web.Response(status=301, headers={"Location": "https://elsewhere.example/"}),
               "limited": web.json_response({"error": {"code": "rate_limited", "message": "wait"}}, status=429),
               "bad": web.json_response({"error": {"code": "invalid_value", "field": "time", "message": "m"}},
                                        status=400)}

    async def handler(request: web.Request) -> web.Response:
        return answers[request.headers["Idempotency-Key"]]

    app = web.Application()
    app.router.add_post("/api/v1/border/checks", handler)
    async with TestServer(app, host="127.0.0.1") as server, Service(str(server.make_url("/"))) as service:
        service._token = "t"  # the stand-in checks no token
        got = {key: await service.submit(key, {}) for key in answers}
    assert all(isinstance(got[k], Unreachable) for k in ("502", "503", "portal"))
    assert all(isinstance(got[k], Blocked) for k in ("redirect", "limited"))
    assert type(got["bad"]) is Refused and (got["bad"].code, got["bad"].field) == ("invalid_value", "time")
