"""Border checks over HTTP against the real PostgreSQL: screening across scripts and name order, the clean
family, what the officer sees, cross-post refusal, bad input writing nothing, and idempotent (offline) replay."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import uuid

import pytest

from exchange.cli import _parser
from exchange.database import create_pool
from exchange.screening_index import ScreeningIndex

from .conftest import login, new_officer
from .test_border_support import (
    CHECKS,
    alerts_for,
    family_body,
    parent,
    random_birth,
    register,
    submit,
    td3,
    unique_word,
    variant,
    years_ago,
)


async def count_rows(owner_conn) -> tuple[int, int, int]:
    return (await owner_conn.fetchval("SELECT count(*) FROM border_checks"),
            await owner_conn.fetchval("SELECT count(*) FROM border_alerts"),
            await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'border.check'"))


# The register holds the offender in one form; the companion at the post is written in another.
SPELLINGS = [
    pytest.param({"full": "គឹម ចក្រា", "script": "Khmr"}, {"family": "Kim", "given": "Chakra"}, id="khmer-vs-latin"),
    pytest.param({"family": "Kim", "given": "Chakra"}, {"full": "CHAKRA KIM"}, id="other-order"),
    pytest.param({"family": "Nguyễn", "given": "Văn Hùng"}, {"full": "Hung Nguyen Van"}, id="vietnamese-no-accents"),
]


@pytest.mark.parametrize(("registered", "at_post"), SPELLINGS)
async def test_unrelated_adult_in_register_is_flagged_and_liaison_gets_the_alert(
        client, officers, owner_conn, registered, at_post):
    birth = random_birth()
    pid = await register(client, officers["registrar"], {"names": [registered], "sex": "male", "birth_date": birth,
                                                         "nationalities": ["KH"]})
    body = family_body()
    body["situation"] = "other_adults"
    body["companions"] = [{"person": {"names": [at_post], "sex": "male", "birth_date": birth},
                           "relationship": "friend_of_family", "evidence": "none"}]
    body["consent_letter"] = {"present": True, "signed_by": "mother", "notarised": True}
    answer = await submit(client, officers["immigration"], body)
    assert "companion_watchlist_hit" in answer["flags"] and "unrelated_adult" in answer["flags"]
    assert answer["recommendation"]["action"] in ("secondary_inspection", "refer")
    texts = [r["text"] for r in answer["recommendation"]["reasons"]]
    assert "possible match: hold for secondary inspection and call the liaison desk" in texts
    # the officer's answer says nothing about the record: no id, no offence, no name from the register
    raw = json.dumps(answer)
    assert pid not in raw and "trafficking" not in raw and "Court" not in raw
    alerts = await alerts_for(client, officers["liaison"], answer["id"])
    mine = [a for a in alerts if a["candidate"]["id"] == pid]
    assert len(mine) == 1  # (another test's register entry with the same common name may be listed too)
    alert = mine[0]
    assert alert["probability"] == max(a["probability"] for a in alerts)
    assert alert["status"] == "open" and alert["probability"] >= 0.5
    recorded_name = alert["subject"]["recorded"]["person"]["names"][0]
    assert alert["subject"]["kind"] == "companion" and at_post.items() <= recorded_name.items()
    assert alert["candidate"]["convictions"][0]["offence_category"] == "child_trafficking"
    assert {f["name"] for f in alert["explanation"]["features"]} >= {"name", "birth_date"}
    assert alert["explanation"]["model_version"]
    actions = await owner_conn.fetch("SELECT action, record_ids FROM audit_log WHERE $1 = ANY(record_ids)",
                                     alert["id"])
    assert {r["action"] for r in actions} >= {"border.alert", "border.alert.view"}


async def test_child_with_both_parents_and_documents_is_cleared_without_alert(client, officers, owner_conn):
    answer = await submit(client, officers["immigration"], family_body())
    assert answer["flags"] == []
    assert answer["recommendation"] == {"action": "clear", "reasons": []}
    assert await owner_conn.fetchval("SELECT count(*) FROM border_alerts WHERE check_id = $1",
                                     uuid.UUID(answer["id"])) == 0
    row = await owner_conn.fetchrow("SELECT border_point, action, personal FROM border_checks WHERE id = $1",
                                    uuid.UUID(answer["id"]))
    assert row["border_point"] == "POIPET" and row["action"] == "clear"
    audit = await owner_conn.fetchrow("SELECT username, border_point, purpose FROM audit_log "
                                      "WHERE action = 'border.check' AND $1 = ANY(record_ids)", answer["id"])
    assert (audit["username"], audit["border_point"], audit["purpose"]) == (
        officers["immigration"].username, "POIPET", "border_check")


async def test_withdrawn_record_raises_no_alert_and_a_replaced_one_is_screened_by_its_new_version(
        client, officers):
    registrar = officers["registrar"]
    family, given = unique_word("Chhay"), unique_word("Rith")
    birth = random_birth()
    pid = await register(client, registrar, {"names": [{"family": family, "given": given}], "birth_date": birth})
    resp = await client.post(f"/api/v1/records/{pid}/withdraw", json={"reason": "acquittal_on_appeal"},
                             headers=registrar.headers(purpose=None))
    assert resp.status == 200, await resp.text()
    body = family_body()
    body["companions"].append({"person": {"names": [{"full": f"{given} {family}"}], "birth_date": birth},
                               "relationship": "other_relative", "evidence": "family_book"})
    answer = await submit(client, officers["immigration"], body)
    assert "companion_watchlist_hit" not in answer["flags"]
    assert await alerts_for(client, officers["liaison"], answer["id"]) == []


async def test_same_birth_date_with_another_name_is_not_a_hit(client, officers):
    """An innocent traveller who shares a birth date and sex with an offender must not be held."""
    birth = random_birth()
    await register(client, officers["registrar"], {"names": [{"family": unique_word("Tep"), "given": "Sokha"}],
                                                   "birth_date": birth, "sex": "male", "nationalities": ["KH"]})
    body = family_body()
    body["companions"][0]["person"].update(names=[{"family": unique_word("Nhem"), "given": "Visal"}],
                                           birth_date=birth, sex="male")
    answer = await submit(client, officers["immigration"], body)
    assert "companion_watchlist_hit" not in answer["flags"]
    assert await alerts_for(client, officers["liaison"], answer["id"]) == []


async def test_hand_over_persons_and_the_child_are_screened_too(client, officers):
    family, given = unique_word("Prak"), unique_word("Sam")
    birth = random_birth()
    pid = await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth, "sex": "male"})
    body = family_body()
    body["met_by"] = [{"person": {"names": [{"full": f"{family.upper()} {given.upper()}"}], "birth_date": birth},
                       "relationship": "unknown"}]
    answer = await submit(client, officers["immigration"], body)
    assert "companion_watchlist_hit" in answer["flags"]
    alerts = await alerts_for(client, officers["liaison"], answer["id"])
    assert [(a["subject"]["kind"], a["candidate"]["id"]) for a in alerts] == [("met_by", pid)]


async def test_immigration_sees_its_own_check_without_alerts_and_liaison_sees_them(client, officers):
    answer = await submit(client, officers["immigration"], family_body())
    resp = await client.get(f"{CHECKS}/{answer['id']}", headers=officers["immigration"].headers("border_check"))
    assert resp.status == 200
    view = await resp.json()
    assert view["border_point"] == "POIPET" and "alerts" not in view and view["personal"]["child"]["names"]
    resp = await client.get(f"{CHECKS}/{answer['id']}", headers=officers["liaison"].headers("border_check"))
    assert resp.status == 200 and (await resp.json())["alerts"] == []


async def test_another_post_gets_404_and_the_attempt_is_audited(client, officers, db_target, owner_conn):
    answer = await submit(client, officers["immigration"], family_body())
    bavet = await login(client, await new_officer(db_target, "immigration", "BAVET"))
    for method, body in (("GET", None), ("PATCH", {"outcome": "cleared"})):
        resp = await client.request(method, f"{CHECKS}/{answer['id']}", json=body,
                                    headers=bavet.headers("border_check"))
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "not_found"
    denied = await owner_conn.fetch("SELECT action FROM audit_log WHERE username = $1 AND outcome = 'denied'",
                                    bavet.username)
    assert sorted(r["action"] for r in denied) == ["border.check.outcome", "border.check.view"]
    listed = await client.get(CHECKS, headers=bavet.headers("border_check"))
    assert answer["id"] not in {c["id"] for c in (await listed.json())["items"]}
    outcome = await owner_conn.fetchval("SELECT outcome FROM border_checks WHERE id = $1", uuid.UUID(answer["id"]))
    assert outcome is None


async def test_outcome_recorded_afterwards(client, officers, owner_conn):
    answer = await submit(client, officers["immigration"], family_body())
    resp = await client.patch(f"{CHECKS}/{answer['id']}", json={"outcome": "cleared", "observations": "waved on"},
                              headers=officers["immigration"].headers("border_check"))
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["outcome"] == "cleared"
    row = await owner_conn.fetchrow("SELECT outcome, outcome_at, personal FROM border_checks WHERE id = $1",
                                    uuid.UUID(answer["id"]))
    assert row["outcome"] == "cleared" and row["outcome_at"] is not None
    assert row["personal"]["outcome_observations"] == "waved on"
    listed = await client.get(CHECKS + "?limit=200", headers=officers["immigration"].headers("border_check"))
    items = {c["id"]: c for c in (await listed.json())["items"]}
    assert items[answer["id"]]["outcome"] == "cleared"
    assert "personal" not in items[answer["id"]] and "child" not in json.dumps(items[answer["id"]])


def _bad_bodies():
    body = family_body()
    child = body["child"]
    return [
        ("future birth date", variant(body, child={**child, "birth_date": "2999-01-01"}), "child.birth_date"),
        ("birth date after the check", variant(body, child={**child, "birth_date": years_ago(0, -3)}),
         "child.birth_date"),
        ("adult listed as the child", variant(body, child={**child, "birth_date": years_ago(18, 1)}),
         "child.birth_date"),
        ("adult by year only", variant(body, child={**child, "birth_date": years_ago(20)[:4]}), "child.birth_date"),
        ("post in the body", variant(body, border_point="BAVET"), "border_point"),
        ("role in the body", variant(body, role="admin"), "role"),
        ("malformed MRZ", variant(body, child={**child, "documents": [
            {"kind": "passport", "number": "N1234567", "mrz": "P<KHMSHORT"}]}), "child.documents[0].mrz"),
        ("oversize companion list", variant(body, companions=[parent("Sok", "Dara", "male")] * 21), "companions"),
        ("oversize group", variant(body, situation="group", group_size=100000), "group_size"),
        ("group without size", variant(body, situation="group"), "group_size"),
        ("companions missing", variant(body, companions=[]), "companions"),
        ("no birth date", variant(body, child={k: v for k, v in child.items() if k != "birth_date"}),
         "child.birth_date"),
        ("NUL in a name", variant(body, child={**child, "names": [{"full": "Sok\u0000Dara"}]}),
         "child.names[0].full"),
        ("bidi control in a name", variant(body, child={**child, "names": [{"full": "Sok\u202eDara"}]}),
         "child.names[0].full"),
        ("check time in the future", variant(body, time="2999-01-01T00:00:00+00:00"), "time"),
        ("unknown relationship", variant(body, companions=[{**body["companions"][0], "relationship": "boss"}]),
         "companions[0].relationship"),
        ("stated age of an adult", variant(body, stated_age=30), "stated_age"),
    ]


@pytest.mark.parametrize(("case", "body", "field"), _bad_bodies(), ids=[c[0] for c in _bad_bodies()])
async def test_bad_input_is_a_clear_400_and_writes_nothing(client, officers, owner_conn, case, body, field):
    before = await count_rows(owner_conn)
    resp = await client.post(CHECKS, json=body, headers=officers["immigration"].headers("border_check"))
    assert resp.status == 400, case
    error = (await resp.json())["error"]
    assert error["field"] == field and error["code"] and error["message"]
    assert "Sok" not in error["message"] and "Dara" not in error["message"]
    assert await count_rows(owner_conn) == before


async def test_non_json_and_strict_json_violations_are_refused(client, officers, owner_conn):
    before = await count_rows(owner_conn)
    headers = {**officers["immigration"].headers("border_check"), "Content-Type": "application/json"}
    resp = await client.post(CHECKS, data=b'{"direction": "exit", "direction": "entry"}', headers=headers)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_json"
    resp = await client.post(CHECKS, data=b"direction=exit", headers={
        **officers["immigration"].headers("border_check"), "Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 415
    assert await count_rows(owner_conn) == before


async def test_queued_offline_check_replays_idempotently(client, officers, owner_conn, db_target):
    happened = dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)
    body = variant(family_body(), time=happened.isoformat())
    key = f"post-client-{uuid.uuid4()}"
    first = await submit(client, officers["immigration"], body, **{"Idempotency-Key": key})
    again = await submit(client, officers["immigration"], body, **{"Idempotency-Key": key})
    assert again == first
    rows = await owner_conn.fetch("SELECT id, checked_at, received_at FROM border_checks WHERE idempotency_key = $1",
                                  key)
    assert len(rows) == 1 and abs((rows[0]["checked_at"] - happened).total_seconds()) < 1
    # the same key from another officer of the same post (a shift change) is the same check
    colleague = await login(client, await new_officer(db_target, "immigration", "POIPET"))
    assert await submit(client, colleague, body, **{"Idempotency-Key": key}) == first
    # the key with another body is a conflict; at another post it is another check
    resp = await client.post(CHECKS, json=family_body(), headers=officers["immigration"].headers(
        "border_check", **{"Idempotency-Key": key}))
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "idempotency_mismatch"
    bavet = await login(client, await new_officer(db_target, "immigration", "BAVET"))
    assert (await submit(client, bavet, body, **{"Idempotency-Key": key}))["id"] != first["id"]
    # older than the offline window: refused, nothing stored
    stale = variant(body, time=(dt.datetime.now(dt.UTC) - dt.timedelta(days=15)).isoformat())
    resp = await client.post(CHECKS, json=stale, headers=officers["immigration"].headers("border_check"))
    assert resp.status == 400 and (await resp.json())["error"]["field"] == "time"


async def test_concurrent_replays_store_one_check(client, officers, owner_conn):
    body = family_body()
    key = f"burst-{uuid.uuid4()}"
    answers = await asyncio.gather(*[submit(client, officers["immigration"], body, **{"Idempotency-Key": key})
                                     for _ in range(5)])
    assert len({a["id"] for a in answers}) == 1
    assert await owner_conn.fetchval("SELECT count(*) FROM border_checks WHERE idempotency_key = $1", key) == 1


async def test_valid_mrz_is_accepted_and_a_wrong_check_digit_is_a_flag(client, officers):
    body = family_body()
    child = body["child"]
    good = td3("VONG", "SREY", "N1234567", child["birth_date"], body["child"]["documents"][0]["expires"])
    child["documents"][0]["mrz"] = good
    assert (await submit(client, officers["immigration"], body))["flags"] == []


async def test_two_hits_in_one_check_are_two_alerts_named_by_one_audit_row(client, officers, owner_conn):
    """Every alert of a check is stored (one statement) and one ``border.alert`` row names them all, the check
    and both matched records."""
    people = [(unique_word("Ouk"), unique_word("Vann"), random_birth()) for _ in range(2)]
    pids = [await register(client, officers["registrar"], {"names": [{"family": f, "given": g}], "birth_date": b})
            for f, g, b in people]
    body = family_body()
    body["situation"] = "other_adults"
    body["companions"] = [{"person": {"names": [{"full": f"{g} {f}".upper()}], "birth_date": b},
                           "relationship": "unrelated", "evidence": "none"} for f, g, b in people]
    answer = await submit(client, officers["immigration"], body)
    assert "companion_watchlist_hit" in answer["flags"]
    alerts = await alerts_for(client, officers["liaison"], answer["id"])
    mine = {a["candidate"]["id"]: a for a in alerts if a["candidate"]["id"] in pids}
    assert sorted(mine) == sorted(pids)
    assert sorted(a["subject"]["index"] for a in mine.values()) == [0, 1]
    rows = await owner_conn.fetch("SELECT record_ids, detail FROM audit_log WHERE action = 'border.alert' "
                                  "AND $1 = ANY(record_ids)", answer["id"])
    assert len(rows) == 1
    named = set(rows[0]["record_ids"])
    assert {a["id"] for a in alerts} | set(pids) <= named
    assert {item["alert"] for item in rows[0]["detail"]["alerts"]} == {a["id"] for a in alerts}
    assert all(item["probability"] >= 0.5 for item in rows[0]["detail"]["alerts"])


async def test_a_deactivated_post_is_refused_before_screening_but_its_stored_checks_replay(
        client, db_target, owner_conn):
    officer = await login(client, await new_officer(db_target, "immigration", "KOH_KONG"))
    key = f"koh-kong-{uuid.uuid4()}"
    body = family_body()
    first = await submit(client, officer, body, **{"Idempotency-Key": key})
    before = await count_rows(owner_conn)
    await owner_conn.execute("UPDATE border_points SET active = false WHERE code = 'KOH_KONG'")
    try:
        resp = await client.post(CHECKS, json=family_body(), headers=officer.headers("border_check"))
        assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
        replay = await client.post(CHECKS, json=body, headers=officer.headers("border_check", **{
            "Idempotency-Key": key}))
        assert replay.status == 201 and await replay.json() == first
    finally:
        await owner_conn.execute("UPDATE border_points SET active = true WHERE code = 'KOH_KONG'")
    assert await count_rows(owner_conn) == before


async def test_requests_arriving_together_share_an_index_refresh_begun_after_they_arrived(
        client, officers, db_target):
    """Twenty concurrent screenings cost one or two refreshes; a request that arrives while a refresh is
    already reading waits for the next one, so it sees a record registered just before it arrived."""
    pool = await create_pool(db_target.app_dsn, min_size=1, max_size=3)
    try:
        holder = ScreeningIndex()
        await holder.load(pool)
        reads, read_once, gate = [], asyncio.Event(), asyncio.Event()
        real = holder.refresh

        async def refresh(conn):
            changed = await real(conn)
            reads.append(changed)
            if len(reads) == 1:
                read_once.set()
                await gate.wait()  # the first refresh has read the database; hold it there
            return changed
        holder.refresh = refresh  # type: ignore[method-assign]
        first = asyncio.create_task(holder.refreshed(pool))
        await read_once.wait()
        family, given = unique_word("Seng"), unique_word("Vuth")
        pid = await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                             "birth_date": random_birth()})
        late = [asyncio.create_task(holder.refreshed(pool)) for _ in range(20)]
        await asyncio.sleep(0.05)
        assert pid not in holder.versions and len(reads) == 1  # the late ones wait for the next refresh
        gate.set()
        await asyncio.gather(first, *late)
        assert len(reads) == 2 and pid in holder.versions
    finally:
        await pool.close()


def test_serve_workers_must_be_a_small_positive_count():
    assert _parser().parse_args(["serve", "--workers", "2"]).workers == 2
    for bad in ("0", "-1", "many", "99"):
        with pytest.raises(SystemExit):
            _parser().parse_args(["serve", "--workers", bad])


async def test_a_loaded_index_is_kept_out_of_the_garbage_collector(db_target):
    """A full collection walking millions of index objects stalls every request for seconds: after the load
    they are frozen (``gc.freeze``)."""
    pool = await create_pool(db_target.app_dsn, min_size=1, max_size=2)
    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        await ScreeningIndex().load(pool)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        await pool.close()


def test_the_registers_document_number_with_a_shortened_name_is_a_hit():
    """The register person's own passport number with a name that drops a middle name scores below the alert
    threshold in the model (the number's issuing country is missing at the post): it is still a hit. A shared
    number with a different name, or a similar name alone at that probability, is not."""
    from exchange.border.screening import ALERT_THRESHOLD, is_hit
    from matching.model import score
    from matching.record import prepare

    register = prepare({"id": "r", "names": [{"family": "Nguyen", "given": "Van Duc"}], "sex": "male",
                        "birth_date": "1975-03-02", "nationalities": ["VN"],
                        "documents": [{"kind": "passport", "number": "C1234567", "country": "VN"}]})

    def traveller(name: dict, number: str) -> object:
        return prepare({"id": "t", "names": [name], "sex": "male",
                        "documents": [{"kind": "passport", "number": number}]})

    shortened = score(register, traveller({"full": "Nguyen Duc"}, "C1234567"))
    assert shortened.probability < ALERT_THRESHOLD and is_hit(shortened.probability, shortened)
    stranger = score(register, traveller({"full": "Somchai Boonmee"}, "C1234567"))
    assert not is_hit(stranger.probability, stranger)
    other_number = score(register, traveller({"full": "Nguyen Duc"}, "K7654321"))
    assert not is_hit(other_number.probability, other_number)
