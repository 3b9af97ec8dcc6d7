"""The command line beside a running service on the same home folder: one PostgreSQL, shared data,
JSON logs without personal data, graceful shutdown that stops the embedded server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyotp
import pytest

EXCHANGE = [sys.executable, "-m", "exchange.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env["EXCHANGE_HOME"] = str(home)
    return env


def _postmaster_pid(home: Path) -> int | None:
    pidfile = home / "pgdata" / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


def _wait_ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("service did not become ready")


def _post(port: int, path: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.slow
def test_cli_beside_running_service(tmp_path):
    home = tmp_path / "home"
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([*EXCHANGE, "serve", "--port", str(port)], env=_env(home), stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        try:
            _wait_ready(port, time.monotonic() + 90)
        except AssertionError:
            raise AssertionError("service did not become ready: " + log_path.read_text()[-3000:]) from None
        pg_pid = _postmaster_pid(home)
        assert pg_pid is not None
        out = subprocess.run([*EXCHANGE, "user", "add", "--username", "poipet-officer", "--role", "immigration",
                              "--border-point", "POIPET", "--json"], env=_env(home), capture_output=True,
                             timeout=60, check=True)
        created = json.loads(out.stdout)
        assert set(created) == {"username", "password", "totp_uri"}
        assert _postmaster_pid(home) == pg_pid, "the CLI must join the running server, not start another"
        status, body = _post(port, "/api/v1/auth/token", {
            "username": "poipet-officer", "password": created["password"],
            "totp": pyotp.parse_uri(created["totp_uri"]).now()})
        assert status == 200 and body["border_point"] == "POIPET"
        # a password given on stdin is used as is
        subprocess.run([*EXCHANGE, "user", "add", "--username", "reg-one", "--role", "registrar",
                        "--password-stdin", "--json"], env=_env(home), input=b"correct horse battery\n",
                       capture_output=True, timeout=60, check=True)
        bad = subprocess.run([*EXCHANGE, "user", "add", "--username", "x", "--role", "immigration"],
                             env=_env(home), capture_output=True, timeout=60)
        assert bad.returncode == 2 and b"username" in bad.stderr
        verify = subprocess.run([*EXCHANGE, "audit", "verify"], env=_env(home), capture_output=True, timeout=60)
        assert verify.returncode == 0, verify.stderr
        assert json.loads(verify.stdout)["ok"] is True
        assert server.poll() is None, "the service must still be running"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    deadline = time.monotonic() + 15
    while _postmaster_pid(home) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _postmaster_pid(home) is None, "the embedded server must stop with the service"
    lines = log_path.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(r.get("route") == "/api/v1/auth/token" for r in records)
    assert "poipet-officer" not in log_path.read_text()
    assert created["password"] not in log_path.read_text()
