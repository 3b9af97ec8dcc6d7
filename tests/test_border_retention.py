"""Retention and statistics: the purge erases what it must (personal data of old checks without a confirmed or
pending hit, explanations of rejected alerts) and keeps what it must (confirmed and undecided hits, recent checks,
every count); the statistics carry no personal data and do not change with the purge; the CLI runs it."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid

from exchange import audit
from exchange.border.purge import purge

from .test_border_support import alerts_for, family_body, random_birth, register, submit, unique_word


async def _check_with_hit(client, officers) -> tuple[str, str]:
    family, given, birth = unique_word("R"), unique_word("T"), random_birth()
    await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                   "birth_date": birth})
    body = family_body()
    body["companions"].append({"person": {"names": [{"full": f"{given} {family}"}], "birth_date": birth},
                               "relationship": "unknown", "evidence": "none"})
    answer = await submit(client, officers["immigration"], body)
    [alert] = await alerts_for(client, officers["liaison"], answer["id"])
    return answer["id"], alert["id"]


async def _decide(client, liaison, alert_id: str, decision: str, reason: str) -> None:
    resp = await client.post(f"/api/v1/alerts/{alert_id}/decision", json={"decision": decision, "reason_code": reason},
                             headers=liaison.headers("border_check"))
    assert resp.status == 200


async def _age(owner_conn, check_id: str, days: int) -> None:
    await owner_conn.execute("UPDATE border_checks SET checked_at = checked_at - make_interval(days => $2) "
                             "WHERE id = $1", uuid.UUID(check_id), days)


async def _stats(client, officer, day: dt.date) -> dict:
    resp = await client.get(f"/api/v1/border/stats?since={day}&until={day}&border_point=POIPET",
                            headers=officer.headers(purpose=None))
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_purge_erases_what_it_must_and_keeps_what_it_must(client, officers, owner_conn):
    liaison = officers["liaison"]
    plain = (await submit(client, officers["immigration"], family_body()))["id"]
    recent = (await submit(client, officers["immigration"], family_body()))["id"]
    confirmed, confirmed_alert = await _check_with_hit(client, officers)
    rejected, rejected_alert = await _check_with_hit(client, officers)
    pending, _ = await _check_with_hit(client, officers)
    await _decide(client, liaison, confirmed_alert, "confirm", "identity_verified")
    await _decide(client, liaison, rejected_alert, "reject", "different_person")
    old_day = (dt.datetime.now(dt.UTC) - dt.timedelta(days=120)).date()
    for check_id in (plain, confirmed, rejected, pending):
        await owner_conn.execute("UPDATE border_checks SET checked_at = $2 WHERE id = $1", uuid.UUID(check_id),
                                 dt.datetime.combine(old_day, dt.time(5, 0), dt.UTC))
    before = await _stats(client, officers["auditor"], old_day)

    result = await purge(owner_conn, audit.Actor(username="test", request_id="test"), 90)
    assert result.checks >= 2

    rows = {str(r["id"]): r for r in await owner_conn.fetch(
        "SELECT id, personal, purged_at, request_hash, flags, situation, action FROM border_checks "
        "WHERE id = ANY($1::uuid[])", [uuid.UUID(i) for i in (plain, recent, confirmed, rejected, pending)])}
    for erased in (plain, rejected):
        assert rows[erased]["personal"] is None and rows[erased]["purged_at"] is not None
        assert rows[erased]["situation"] == "parents" and rows[erased]["action"]  # the counts' columns stay
    for kept in (recent, confirmed, pending):
        assert rows[kept]["personal"]["child"]["names"] and rows[kept]["purged_at"] is None
    explanations = {str(r["id"]): r["explanation"] for r in await owner_conn.fetch(
        "SELECT id, explanation FROM border_alerts WHERE id = ANY($1::uuid[])",
        [uuid.UUID(confirmed_alert), uuid.UUID(rejected_alert)])}
    assert explanations[rejected_alert] is None and explanations[confirmed_alert]["features"]
    assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'border.purge' "
                                     "AND $1 = ANY(record_ids)", plain) == 1

    # a purged check still reads, without personal data; the counts do not move
    resp = await client.get(f"/api/v1/border/checks/{plain}", headers=liaison.headers("border_check"))
    view = await resp.json()
    assert view["purged"] is True and view["personal"] is None and view["flags"] == []
    assert await _stats(client, officers["auditor"], old_day) == before
    # running again finds nothing new among these
    await purge(owner_conn, audit.Actor(username="test", request_id="test"), 90)
    assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'border.purge' "
                                     "AND $1 = ANY(record_ids)", plain) == 1


async def test_stats_count_per_post_day_direction_situation_flag_and_outcome(client, officers, owner_conn):
    day = (dt.datetime.now(dt.UTC) - dt.timedelta(days=200)).date()
    body = family_body()
    body.update(situation="alone", companions=[], direction="entry", outcome="referred_social_affairs")
    made = [(await submit(client, officers["immigration"], body))["id"] for _ in range(3)]
    for check_id in made:
        await owner_conn.execute("UPDATE border_checks SET checked_at = $2 WHERE id = $1", uuid.UUID(check_id),
                                 dt.datetime.combine(day, dt.time(3, 0), dt.UTC))
    stats = await _stats(client, officers["liaison"], day)
    row = [r for r in stats["checks"] if r["situation"] == "alone" and r["direction"] == "entry"]
    assert row == [{"border_point": "POIPET", "day": day.isoformat(), "direction": "entry", "situation": "alone",
                    "action": "refer", "outcome": "referred_social_affairs", "checks": 3}]
    flags = {r["flag"]: r["checks"] for r in stats["flags"]}
    assert flags["child_alone"] == 3 and flags["no_consent_letter"] == 3
    text = json.dumps(stats)
    assert body["child"]["names"][0]["family"] not in text and body["child"]["birth_date"] not in text
    bad = await client.get("/api/v1/border/stats?since=yesterday", headers=officers["liaison"].headers(None))
    assert bad.status == 400 and (await bad.json())["error"]["field"] == "since"
    forbidden = await client.get("/api/v1/border/stats", headers=officers["immigration"].headers(None))
    assert forbidden.status == 403


def test_cli_border_purge_runs_against_the_database(db_target, pg_cluster):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env.update(EXCHANGE_HOME=str(pg_cluster.home), EXCHANGE_DATABASE_URL=db_target.app_dsn,
               EXCHANGE_DATABASE_OWNER_URL=db_target.owner_dsn)
    out = subprocess.run([sys.executable, "-m", "exchange.cli", "border", "purge", "--days", "3650"], env=env,
                         capture_output=True, timeout=120, check=True)
    result = json.loads(out.stdout)
    assert result["checks_purged"] == 0 and "cutoff" in result
    bad = subprocess.run([sys.executable, "-m", "exchange.cli", "border", "purge", "--days", "0"], env=env,
                         capture_output=True, timeout=120)
    assert bad.returncode == 2


def test_stats_days_are_cambodian_dates():
    from exchange.border.stats import local_date

    # 17:00 UTC is midnight in Phnom Penh: an evening check belongs to the next Cambodian day
    assert local_date(dt.datetime(2026, 11, 28, 16, 59, tzinfo=dt.UTC)) == dt.date(2026, 11, 28)
    assert local_date(dt.datetime(2026, 11, 28, 17, 0, tzinfo=dt.UTC)) == dt.date(2026, 11, 29)
    assert local_date(dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)) == dt.date(2026, 7, 1)  # no DST in Cambodia
