"""Schemathesis against the service's own OpenAPI document (SECURITY.md F6), as a real process.

Every check (``--checks all``: no server errors, status codes and headers and bodies as documented, schema-valid
data accepted, schema-invalid data refused, authentication not ignored, ...) and every phase (examples, coverage,
fuzzing, stateful), once with a valid token of each role, with a fixed seed and a fixed budget per role
(``ST_SECONDS``, about 90 s in all).

``positive_data_acceptance`` holds because the document states what the validators accept (exchange/openapi.py,
exchange/openapi_types.py and the parts). Where JSON Schema cannot say it, the document names a custom format and
tests/schemathesis_hooks.py draws values for it (cursors, the time of a border check, a child's birth date,
assigned Unicode). Schema-valid data may still meet a state that refuses it; those answers are documented and
expected: 404 (no such record, check, alert or partner), 409 (a taken username, an inactive border point, a
second decision), 412 (If-Match names a version that is no longer current), 401/403 (wrong password, another
role's route), 429 and 503. One operation keeps the check off (``CONFIG``): the border statistics, whose since
and until depend on each other and on today's date (since on or before until, at most 400 days apart, defaults
from today), which no schema of a single parameter can state.

Three operations are left out of the generated traffic because they would end the run's own authority: logging out
(revokes the token the run uses), disabling users and resetting their MFA (both revoke the sessions of the run's
officers, users 1-5); they are covered by tests/test_auth.py, tests/test_admin_api.py and tests/test_role_matrix.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_cli import _free_port, _wait_ready
from .test_db_faults import _add_user, pg_bin, stop_service  # noqa: F401 (pg_bin: the embedded server's tools)

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("admin", "registrar", "liaison", "immigration", "auditor")
ST_SECONDS = int(os.environ.get("EXCHANGE_TEST_ST_SECONDS", "8"))
EXCLUDED = ("/api/v1/auth/logout", "/api/v1/users/{id}/disable", "/api/v1/users/{id}/reset-mfa")
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "412", "429", "503"]

# since <= until <= since + 400 days, with defaults from today: a rule between two parameters and the clock
[[operations]]
include-path = "/api/v1/border/stats"
checks.positive_data_acceptance.enabled = false
"""


def _schemathesis() -> str:
    found = Path(sys.executable).with_name("schemathesis")
    return str(found) if found.exists() else (shutil.which("schemathesis") or "schemathesis")


def _token(port: int, made: dict) -> str:
    import json
    import urllib.request

    import pyotp
    body = json.dumps({"username": made["username"], "password": made["password"],
                       "totp": pyotp.parse_uri(made["totp_uri"]).now()}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/token", data=body,
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["token"]


def _still_valid(port: int, token: str) -> bool:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/me",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status == 200
    except urllib.error.HTTPError:
        return False


@pytest.mark.slow
def test_schemathesis_all_checks_and_phases_with_each_role(tmp_path):
    pytest.importorskip("schemathesis")
    home = tmp_path / "home"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env.update({"EXCHANGE_HOME": str(home), "EXCHANGE_FEDERATION_LOOPS": "0", "EXCHANGE_TOKEN_TTL": "3600",
                "EXCHANGE_SEARCH_RATE": "1000000", "EXCHANGE_LOGIN_RATE": "1000000"})
    with open(tmp_path / "serve.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "exchange.cli", "serve", "--port", str(port)], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    failures = []
    try:
        _wait_ready(port, time.monotonic() + 90)
        tokens = {role: _token(port, _add_user(home, role, "POIPET" if role == "immigration" else None))
                  for role in ROLES}
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG)
        for role, token in tokens.items():
            argv = [_schemathesis(), "--config-file", str(config), "run",
                    f"http://127.0.0.1:{port}/api/v1/openapi.json", "--url", f"http://127.0.0.1:{port}",
                    "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
                    "--max-time", str(ST_SECONDS),
                    "--max-examples", "20", "--seed", "7", "--workers", "1", "--generation-database", "none",
                    "--request-timeout", "20", "--no-color", "--max-failures", "20",
                    "--header", f"Authorization: Bearer {token}"]
            for path in EXCLUDED:
                argv += ["--exclude-path", path]
            done = subprocess.run(argv, capture_output=True, timeout=ST_SECONDS * 4 + 60, cwd=ROOT,
                                  env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks"})
            if done.returncode != 0:
                failures.append(f"--- {role} ---\n" + done.stdout.decode(errors="replace")[-6000:])
            # a run whose token stopped working would pass on 401s alone: the token must still be good
            assert _still_valid(port, token), f"the {role} token stopped working during its run"
        assert server.poll() is None
    finally:
        stop_service(server, home / "pgdata")
    assert not failures, "\n".join(failures)
    log_text = (tmp_path / "serve.log").read_text()
    assert '"status": 500' not in log_text
