"""The partner registry: which nodes we trust, where they listen, what their agreement lets them receive.

A partner is registered by an operator (``exchange partner add``) with the public keys it printed with
``exchange keys show --json``: that pins its key set at version 0. Later key sets the partner publishes at
``GET /federation/v1/keys`` are accepted only when signed by a key we already trust and newer
(``protocols.keyset.accept_key_set``), so rotation needs no operator and a revoked key is refused at once.

``receives``: ``full`` (record upserts and withdrawals, and hit/no-hit answers), ``hits`` (hit/no-hit answers
only, the default) or ``none``. ``categories`` narrows ``full`` to records with a conviction in one of the
listed offence categories (NULL: all).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import yarl
from nacl.public import PublicKey
from nacl.signing import VerifyKey

from protocols.encoding import b64u_decode, utc
from protocols.errors import ExpiredKey, RevokedKey, UnknownKey
from protocols.keys import KeyEntry, KeySet, is_kid
from protocols.record import OFFENCE_CATEGORIES
from protocols.validation import ValidationError, clean_country

RECEIVES = ("full", "hits", "none")
PINNED_KID = "ed25519:pinned"  # placeholder kid of a key pinned without its key id
PIN_VALIDITY = dt.timedelta(days=5 * 365)


class PartnerError(ValueError):
    """A partner registration was refused; the message names the field, never a key or URL."""


@dataclass(frozen=True)
class Partner:
    country: str
    url: str
    receives: str
    categories: tuple[str, ...] | None
    legal_basis: str
    key_set: KeySet
    any_kid: bool
    active: bool

    def endpoint(self, name: str) -> str:
        return f"{self.url.rstrip('/')}/federation/v1/{name}"

    def accepts_category(self, categories: Iterable[str]) -> bool:
        return self.categories is None or bool(set(self.categories) & set(categories))


def key_set_json(key_set: KeySet) -> dict[str, Any]:
    return {"version": key_set.version, "keys": [e.to_json() for e in key_set.entries()]}


def key_set_from(country: str, data: dict[str, Any]) -> KeySet:
    return KeySet(country, int(data["version"]),
                  [KeyEntry.from_json(e, f"keys[{i}]") for i, e in enumerate(data["keys"])])


def _row_partner(row: asyncpg.Record) -> Partner:
    cats = row["categories"]
    return Partner(row["country"], row["url"], row["receives"], None if cats is None else tuple(cats),
                   row["legal_basis"], key_set_from(row["country"], row["key_set"]), row["any_kid"], row["active"])


def check_url(url: str) -> str:
    try:
        parsed = yarl.URL(url)
    except (ValueError, TypeError):
        raise PartnerError("--url is not a URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host or parsed.query_string or parsed.fragment:
        raise PartnerError("--url must be http(s)://host[:port][/path] without query or fragment")
    return str(parsed).rstrip("/")


def _raw_key(text: str, flag: str) -> bytes:
    try:
        raw = b64u_decode(text)
    except ValueError:
        raise PartnerError(f"{flag} must be unpadded base64url") from None
    if len(raw) != 32:
        raise PartnerError(f"{flag} must encode 32 bytes")
    return raw


def pinned_key_set(country: str, signing_key: str, box_key: str, key_id: str | None, now: dt.datetime) -> KeySet:
    if key_id is not None and not is_kid(key_id):
        raise PartnerError("--key-id must look like ed25519:<1-32 of A-Za-z0-9_->")
    start = utc(now) - dt.timedelta(days=1)
    entry = KeyEntry(key_id or PINNED_KID, VerifyKey(_raw_key(signing_key, "--signing-key")),
                     PublicKey(_raw_key(box_key, "--box-key")), start, start + PIN_VALIDITY)
    return KeySet(country, 0, [entry])


async def add(conn: asyncpg.Connection, *, country: str, url: str, signing_key: str, box_key: str,
              key_id: str | None = None, receives: str = "hits", categories: Sequence[str] | None = None,
              legal_basis: str = "bilateral agreement", now: dt.datetime) -> Partner:
    """Register a partner (inside the caller's transaction) with its pinned keys and empty queues."""
    try:
        if clean_country(country, "country") != country:
            raise PartnerError("--country must be an upper-case ISO 3166 alpha-2 code")
    except ValidationError:
        raise PartnerError("--country must be an ISO 3166 alpha-2 code") from None
    if receives not in RECEIVES:
        raise PartnerError("--receives must be full, hits or none")
    if categories is not None and not set(categories) <= set(OFFENCE_CATEGORIES):
        raise PartnerError("--categories must be among: " + ", ".join(OFFENCE_CATEGORIES))
    key_set = pinned_key_set(country, signing_key, box_key, key_id, now)
    if await conn.fetchval("SELECT 1 FROM partners WHERE country = $1", country):
        raise PartnerError("this partner is registered already")
    await conn.execute(
        """INSERT INTO partners (country, url, receives, categories, legal_basis, key_set, any_kid)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        country, check_url(url), receives, None if categories is None else list(categories), legal_basis,
        key_set_json(key_set), key_id is None)
    for table in ("send_state", "feed_counters", "pull_state"):
        await conn.execute(f"INSERT INTO {table} (partner) VALUES ($1)", country)  # noqa: S608 (constant names)
    found = await get(conn, country)
    assert found is not None
    return found


async def get(conn: asyncpg.Connection, country: str) -> Partner | None:
    row = await conn.fetchrow("SELECT * FROM partners WHERE country = $1", country)
    return None if row is None else _row_partner(row)


async def all_partners(conn: asyncpg.Connection, *, active_only: bool = True) -> list[Partner]:
    rows = await conn.fetch("SELECT * FROM partners WHERE active OR NOT $1 ORDER BY country", active_only)
    return [_row_partner(r) for r in rows]


async def store_key_set(conn: asyncpg.Connection, country: str, key_set: KeySet) -> None:
    """Trust ``key_set`` (already accepted by ``protocols.keyset``) for ``country`` from now on."""
    await conn.execute("UPDATE partners SET key_set = $2, any_kid = false, updated_at = now() WHERE country = $1",
                       country, key_set_json(key_set))


async def revoke_key(conn: asyncpg.Connection, country: str, kid: str, now: dt.datetime) -> bool:
    """Revoke one of a partner's keys locally (a compromise reported out of band); True if it was found."""
    partner = await get(conn, country)
    if partner is None or kid not in {e.kid for e in partner.key_set.entries()}:
        return False
    entries = [KeyEntry(e.kid, e.verify_key, e.box_key, e.not_before, e.not_after,
                        e.revoked_at or utc(now)) if e.kid == kid else e for e in partner.key_set.entries()]
    await store_key_set(conn, country, KeySet(country, partner.key_set.version, entries))
    return True


class PartnerKeyring:
    """``keyring(country, kid, at)`` for ``protocols.envelope.open_envelope`` over the registered partners.

    A partner pinned without a key id is trusted for any well-formed kid signed by its pinned key, until its
    first published key set names the real ones.
    """

    def __init__(self, partners: Iterable[Partner]) -> None:
        self._partners = {p.country: p for p in partners if p.active}

    def __call__(self, country: str, kid: str, at: dt.datetime) -> VerifyKey:
        partner = self._partners.get(country) if isinstance(country, str) else None
        if partner is None:
            raise UnknownKey("sender is not a registered partner")
        try:
            return partner.key_set.key_for(kid, at).verify_key
        except UnknownKey:
            entries = partner.key_set.entries()
            if not (partner.any_kid and is_kid(kid) and len(entries) == 1):
                raise
            entry = entries[0]
            if entry.revoked_at is not None:
                raise RevokedKey("key is revoked") from None
            if not entry.not_before <= at < entry.not_after:
                raise ExpiredKey("key was not valid at the message time") from None
            return entry.verify_key
