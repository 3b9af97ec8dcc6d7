"""Every bad partner message is refused with its error and changes nothing: a forged signature, a changed byte,
a replayed message (answered idempotently), an expired message, a message for another country, an unknown or a
revoked key, a feed rollback; officer tokens are refused on /federation/v1, envelopes mean nothing on /api/v1."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from nacl.signing import SigningKey

from exchange.federation import partners
from exchange.federation.feed import pull_once
from exchange.federation.transport import Answer
from protocols.canonical import canonical_bytes
from protocols.encoding import b64u_encode, format_time
from protocols.envelope import open_envelope, seal, signing_bytes
from protocols.fixtures import sample_bodies
from protocols.sealing import seal as seal_box

from .test_federation_support import fed_nodes, now, record_body, register  # noqa: F401 (the session fixture)

TABLES = ("inbox", "partner_records", "partner_record_versions")


@pytest.fixture
def nodes(request):
    return request.getfixturevalue("fed_nodes")  # three nodes shared by the federation test files


def upsert(sender="KH", recipient="TH"):
    body = sample_bodies(sender, recipient)["record_upsert"]
    return {**body, "record_id": f"{sender}-R-{uuid.uuid4().hex[:12]}"}


def envelope(src, dst, body=None, *, when=None, kid=None, signing_key=None, to=None, box=None,
             message_type="record_upsert"):
    at = when or now()
    signer = src.fed.node().signer(now())
    return seal(message_type, body or upsert(src.country, to or dst.country), sender=src.country,
                recipient=to or dst.country, signing_key=signing_key or signer.signing_key, kid=kid or signer.kid,
                recipient_box_key=box or dst.fed.node().key_set().box_key(now()), now=at)


async def counts(node):
    return {t: await node.count(t) for t in TABLES}


async def post(node, data, **headers):
    payload = io.BytesIO(data) if len(data) > 1024 * 1024 else data
    return await node.client.post("/federation/v1/inbox", data=payload,
                                  headers={"Content-Type": "application/json", **headers})


async def refused(node, data, status, code):
    before = await counts(node)
    resp = await post(node, data)
    body = await resp.json()
    assert (resp.status, body["error"]["code"]) == (status, code), body
    assert await counts(node) == before


async def test_a_valid_push_is_applied_and_answered_with_a_signed_receipt(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    body = upsert()
    resp = await post(th, envelope(kh, th, body))
    assert resp.status == 200
    receipt = open_envelope(await resp.read(), me="KH", keyring=partners.PartnerKeyring(
        [await partners.get(kh.owner, "TH")]), my_box_key=kh.fed.node().box_secrets(), now=now())
    assert receipt.type == "receipt" and receipt.body["accepted"] == [body["record_id"]]


async def test_forged_signature_is_refused(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    await refused(th, envelope(kh, th, signing_key=SigningKey.generate()), 401, "bad_signature")


async def test_one_changed_byte_is_refused(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    data = bytearray(envelope(kh, th))
    at = data.index(b'"ciphertext":"') + 20
    data[at] = ord("A") if data[at] != ord("A") else ord("B")
    await refused(th, bytes(data), 401, "bad_signature")
    parsed = json.loads(envelope(kh, th))
    parsed["extra"] = 1  # an unsigned field added
    await refused(th, json.dumps(parsed).encode(), 401, "bad_signature")


async def test_a_replayed_message_gets_the_same_answer_and_writes_nothing(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    data = envelope(kh, th)
    first = await post(th, data)
    assert first.status == 200
    before = await counts(th)
    again = await post(th, data)
    assert again.status == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert await counts(th) == before
    keyring = partners.PartnerKeyring([await partners.get(kh.owner, "TH")])
    one, two = [open_envelope(raw, me="KH", keyring=keyring, my_box_key=kh.fed.node().box_secrets(), now=now())
                for raw in (await first.read(), await again.read())]
    assert one.body == two.body and one.id != two.id


async def test_an_expired_or_future_message_is_refused(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    await refused(th, envelope(kh, th, when=now() - dt.timedelta(minutes=10)), 400, "expired")
    await refused(th, envelope(kh, th, when=now() + dt.timedelta(minutes=10)), 400, "too_early")


async def test_a_message_for_another_country_is_refused(nodes):
    kh, th, vn = nodes["KH"], nodes["TH"], nodes["VN"]
    await refused(th, envelope(kh, th, to="VN", box=vn.fed.node().key_set().box_key(now())), 400, "not_for_us")


async def test_unknown_and_revoked_keys_are_refused(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    await refused(th, envelope(kh, th, kid="ed25519:nobody"), 401, "unknown_key")
    kid = kh.fed.node().signer(now()).kid
    trusted = (await partners.get(th.owner, "KH")).key_set
    assert await partners.revoke_key(th.owner, "KH", kid, now())
    try:
        await refused(th, envelope(kh, th), 401, "revoked_key")
    finally:
        await partners.store_key_set(th.owner, "KH", trusted)
    resp = await post(th, envelope(kh, th))
    assert resp.status == 200


async def test_an_unregistered_sender_is_refused(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    await th.owner.execute("UPDATE partners SET active = false WHERE country = 'VN'")
    try:
        await refused(th, envelope(nodes["VN"], th), 401, "unknown_key")
    finally:
        await th.owner.execute("UPDATE partners SET active = true WHERE country = 'VN'")
    assert (await post(th, envelope(kh, th))).status == 200


async def test_malformed_and_oversized_envelopes_are_refused(nodes):
    th = nodes["TH"]
    await refused(th, b'{"v":1,"v":1}', 400, "duplicate_key")
    await refused(th, b"[" * 100_000, 400, "too_deep")
    await refused(th, b" " * (9 * 1024 * 1024), 413, "too_large")


async def test_officer_tokens_are_refused_on_federation_and_envelopes_on_the_officer_api(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    before = await counts(th)
    resp = await post(th, envelope(kh, th), **th.headers("registrar", None))
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    resp = await th.client.get("/federation/v1/keys", headers=th.headers("admin", None))
    assert resp.status == 403
    resp = await th.client.post("/api/v1/records", data=envelope(kh, th), headers={"Content-Type": "application/json"})
    assert resp.status == 401
    assert await counts(th) == before
    refusals = await th.owner.fetchval("SELECT count(*) FROM audit_log WHERE action = 'federation.refused'")
    assert refusals > 0


class ReplayingTransport:
    """A partner (or a man in the middle) serving an old signed feed page again."""

    def __init__(self, page: bytes) -> None:
        self.page = page

    async def post(self, url: str, data: bytes) -> Answer:
        return Answer(200, self.page)

    async def get(self, url: str) -> Answer:
        return Answer(404, b"")

    async def close(self) -> None:
        return None


class RecordingTransport:
    def __init__(self, inner) -> None:
        self.inner, self.answers = inner, []

    async def post(self, url: str, data: bytes) -> Answer:
        answer = await self.inner.post(url, data)
        self.answers.append(answer.body)
        return answer

    async def get(self, url: str) -> Answer:
        return await self.inner.get(url)

    async def close(self) -> None:
        return None


async def test_a_feed_rollback_is_refused_and_applies_nothing(nodes):
    kh, vn = nodes["KH"], nodes["VN"]
    await register(kh, record_body("Rollback", "Page", passport="N2000001"))
    real = vn.fed.transport
    recorder = RecordingTransport(real)
    vn.fed.transport = recorder
    try:
        first = await pull_once(vn.fed, vn.pool, "KH")
        assert first.error is None and first.items >= 1
        await register(kh, record_body("Rollback", "Later", passport="N2000002"))
        second = await pull_once(vn.fed, vn.pool, "KH")
        assert second.error is None and second.items >= 1
        state = await vn.owner.fetchrow("SELECT last_seq FROM pull_state WHERE partner = 'KH'")
        before = await counts(vn)
        vn.fed.transport = ReplayingTransport(recorder.answers[0])  # the first page again: fresh, but old seqs
        result = await pull_once(vn.fed, vn.pool, "KH")
        assert result.error == "rollback" and result.applied == 0
        assert await counts(vn) == before
        after = await vn.owner.fetchrow("SELECT last_seq, last_error FROM pull_state WHERE partner = 'KH'")
        assert after["last_seq"] == state["last_seq"] and after["last_error"] == "rollback"
    finally:
        vn.fed.transport = real
    assert (await pull_once(vn.fed, vn.pool, "KH")).error is None


async def test_the_signed_key_set_is_published(nodes):
    th = nodes["TH"]
    resp = await th.client.get("/federation/v1/keys")
    assert resp.status == 200
    data = await resp.read()
    shown = th.fed.node().show(now())
    assert shown["signing_key"] in data.decode() and json.loads(data)["type"] == "key_set"


def hand_signed_page(src, dst, items):
    """A feed page signed by ``src`` without ``seal`` (which refuses to emit a bad item), as a faulty partner."""
    at = now()
    signer = src.fed.node().signer(at)
    body = {"sender": src.country, "recipient": dst.country, "items": items, "next_cursor": None,
            "expires": format_time(at + dt.timedelta(minutes=5))}
    env = {"v": 1, "id": str(uuid.uuid4()), "type": "feed_page", "from": src.country, "to": dst.country,
           "created": format_time(at), "expires": format_time(at + dt.timedelta(minutes=5)), "kid": signer.kid,
           "ciphertext": b64u_encode(seal_box(dst.fed.node().key_set().box_key(at), canonical_bytes(body)))}
    env["sig"] = b64u_encode(signer.signing_key.sign(signing_bytes(env)).signature)
    return canonical_bytes(env)


class ScriptedFeed:
    """Answers feed requests with the given pages in turn and keeps the requests."""

    def __init__(self, pages) -> None:
        self.pages, self.requests = list(pages), []

    async def post(self, url: str, data: bytes) -> Answer:
        self.requests.append(data)
        return Answer(200, self.pages.pop(0))

    async def get(self, url: str) -> Answer:
        return Answer(404, b"")

    async def close(self) -> None:
        return None


async def test_a_bad_item_in_a_feed_page_is_skipped_and_reported_not_blocking(nodes):
    kh, vn = nodes["KH"], nodes["VN"]
    saved = await vn.owner.fetchrow("SELECT last_seq, last_page_id FROM pull_state WHERE partner = 'KH'")
    last = saved["last_seq"]
    good = {**upsert("KH", "VN"), "record_id": f"KH-GOOD-{uuid.uuid4().hex[:8]}"}
    bad = {"record_id": "KH-BAD-000001", "version": 1}
    script = ScriptedFeed([
        hand_signed_page(kh, vn, [{"seq": last + 1, "type": "record_upsert", "body": good},
                                  {"seq": last + 2, "type": "record_upsert", "body": bad}]),
        hand_signed_page(kh, vn, [])])
    real, vn.fed.transport = vn.fed.transport, script
    try:
        result = await pull_once(vn.fed, vn.pool, "KH", max_pages=1)
        assert (result.error, result.applied, result.refused) == (None, 1, 1)
        assert await vn.owner.fetchval("SELECT count(*) FROM partner_records WHERE record_id = 'KH-BAD-000001'") == 0
        assert await vn.owner.fetchval("SELECT last_seq FROM pull_state WHERE partner = 'KH'") == last + 2
        await pull_once(vn.fed, vn.pool, "KH", max_pages=1)
        keyring = partners.PartnerKeyring([await partners.get(kh.owner, "VN")])
        request = open_envelope(script.requests[-1], me="KH", keyring=keyring,
                                my_box_key=kh.fed.node().box_secrets(), now=now())
        assert request.body["accepted"] == [f"seq:{last + 2}"]
        assert [r["id"] for r in request.body["rejected"]] == ["KH-BAD-000001"]
    finally:
        vn.fed.transport = real
        await vn.owner.execute("UPDATE pull_state SET last_seq = $1, last_page_id = $2 WHERE partner = 'KH'",
                               saved["last_seq"], saved["last_page_id"])
