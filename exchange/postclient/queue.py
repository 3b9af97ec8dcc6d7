"""The post's local queue: one SQLite file (mode 0600, in a 0700 folder), each check's body sealed at rest.

    meta     salt, Argon2id cost, passphrase verifier, the post the queue belongs to
    entries  seq (replay order), Idempotency-Key, check time, state (queued | rejected), the error of a
             rejection, and the sealed body

Only the key (a random UUID), the check time and the state are readable without the passphrase, so
``status`` works for any officer; the body (names, dates, documents) is sealed with :class:`Vault`. An entry
is deleted (``PRAGMA secure_delete`` overwrites its pages) once the service has stored it. The queue is
bounded (``MAX_ENTRIES``): past that the written procedure applies, not an ever-growing file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .vault import DamagedEntry, KdfParams, Vault

MAX_ENTRIES = 5000
FILE_NAME = "queue.sqlite3"
_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    check_time TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'rejected')),
    status INTEGER, error_code TEXT, error_field TEXT,
    sealed BLOB NOT NULL);
"""


class QueueError(Exception):
    """The queue cannot be used as asked (not set up, already set up, full, locked)."""


@dataclass(frozen=True)
class Entry:
    seq: int
    key: str
    check_time: dt.datetime
    state: str
    error_code: str | None = None
    error_field: str | None = None


class Queue:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
        self.post: str = meta["post"].decode()
        self._params = KdfParams(meta["salt"], int(meta["opslimit"]), int(meta["memlimit"]))
        self._verifier: bytes = meta["verifier"]
        self._vault: Vault | None = None

    @classmethod
    def create(cls, home: Path, passphrase: str, post: str, params: KdfParams | None = None) -> Queue:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(home, 0o700)
        path = home / FILE_NAME
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise QueueError(f"a queue already exists at {path}") from None
        params = params or KdfParams.fresh()
        vault = Vault(passphrase, params)
        conn = _connect(path)
        with conn:
            conn.executescript(_SCHEMA)
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("post", post.encode()), ("salt", params.salt), ("opslimit", str(params.opslimit).encode()),
                ("memlimit", str(params.memlimit).encode()), ("verifier", vault.verifier())])
        queue = cls(conn, path)
        queue._vault = vault
        return queue

    @classmethod
    def open(cls, home: Path) -> Queue:
        path = home / FILE_NAME
        if not path.is_file():
            raise QueueError(f"no queue at {path}: run `exchange post init` first")
        os.chmod(path, 0o600)
        return cls(_connect(path), path)

    def close(self) -> None:
        self._conn.close()

    def unlock(self, passphrase: str) -> None:
        """Derive the key and check it against the verifier (raises WrongPassphrase)."""
        vault = Vault(passphrase, self._params)
        vault.check(self._verifier)
        self._vault = vault

    @property
    def unlocked(self) -> bool:
        return self._vault is not None

    def _box(self) -> Vault:
        if self._vault is None:
            raise QueueError("the queue is locked: the passphrase is needed")
        return self._vault

    def add(self, key: str, check_time: dt.datetime, body: dict[str, Any]) -> None:
        sealed = self._box().seal(json.dumps({"key": key, "body": body}, ensure_ascii=False).encode())
        with self._conn:
            if self._conn.execute("SELECT count(*) FROM entries").fetchone()[0] >= MAX_ENTRIES:
                raise QueueError(f"the queue is full ({MAX_ENTRIES} entries): sync it, or follow the written "
                                 "offline procedure")
            self._conn.execute("INSERT INTO entries (key, check_time, sealed) VALUES (?, ?, ?)",
                               (key, check_time.astimezone(dt.UTC).isoformat(), sealed))

    def entries(self, state: str | None = None) -> list[Entry]:
        sql = "SELECT seq, key, check_time, state, error_code, error_field FROM entries"
        rows = self._conn.execute(sql + (" WHERE state = ?" if state else "") + " ORDER BY seq",
                                  (state,) if state else ()).fetchall()
        return [Entry(r[0], r[1], dt.datetime.fromisoformat(r[2]), r[3], r[4], r[5]) for r in rows]

    def body(self, entry: Entry) -> dict[str, Any]:
        """The decrypted body of ``entry`` (raises DamagedEntry when it fails authentication)."""
        row = self._conn.execute("SELECT sealed FROM entries WHERE seq = ?", (entry.seq,)).fetchone()
        if row is None:
            raise QueueError("the entry is no longer in the queue")
        opened = json.loads(self._box().open(row[0]))
        if opened.get("key") != entry.key:  # a sealed body moved to another row
            raise DamagedEntry("a queued entry does not belong to its row")
        return opened["body"]

    def remove(self, key: str) -> bool:
        with self._conn:
            return self._conn.execute("DELETE FROM entries WHERE key = ?", (key,)).rowcount == 1

    def reject(self, key: str, status: int, code: str | None, field: str | None) -> None:
        with self._conn:
            self._conn.execute("UPDATE entries SET state = 'rejected', status = ?, error_code = ?, error_field = ? "
                               "WHERE key = ?", (status, code, field, key))

    def discard(self, key: str) -> bool:
        """Delete a *rejected* entry once the officer has dealt with it (a queued one is never discarded)."""
        with self._conn:
            return self._conn.execute("DELETE FROM entries WHERE key = ? AND state = 'rejected'",
                                      (key,)).rowcount == 1


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level="DEFERRED")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


__all__ = ["MAX_ENTRIES", "DamagedEntry", "Entry", "Queue", "QueueError"]
