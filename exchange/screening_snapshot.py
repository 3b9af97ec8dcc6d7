"""An encrypted snapshot of the screening index on disk, so a restarted process restores it in seconds instead of
preparing every record again (minutes at a million records).

The file ``EXCHANGE_HOME/index/screening.snap`` holds personal data. It is a magic line followed by frames, each
a 4-byte big-endian length and a PyNaCl ``SecretBox`` (XSalsa20-Poly1305) message under the 32-byte key
``EXCHANGE_HOME/keys/snapshot.key`` (made 0600 on first use). Every frame's plain text starts with the
snapshot's random id and the frame's number, so frames cannot be swapped, dropped or mixed with another
snapshot's, and the last frame counts them, so a truncated file is noticed. A first pass authenticates every
frame and unpickles nothing (0.1 s of CPU at 200,000 records); only a wholly authentic file is then unpickled,
frame by frame, each frame authenticated again as it is read. Frames, in this order:

    H  header (JSON): fingerprint (format, model, code), database, watermarks and last look of each source
    N  distinct name keys and birth dates, written once; records refer to them (records sharing a name share
       one object after a restore, as after a build)
    R  records, a thousand per frame    P  posting lists changed since the base
    B  the base posting lists of bulk loads (``matching.index.Base``), as the bytes of its three arrays
    T  name token counts                V  versions
    E  end (JSON): the number of frames

Reading yields to the event loop between frames. The fingerprint (format, matching model version, digest of the
``matching`` package's files and the Python version) and the database identity must equal the reader's, else
the snapshot is ignored: objects of other code are never restored, nor another database's records. The file is
written to a per-process temporary name in the same folder, fsynced, then renamed over the old one, so readers
only ever see a whole snapshot; a lock file keeps two processes from writing at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import fcntl
import gc
import hashlib
import importlib.resources
import io
import json
import logging
import os
import pickle
import signal
import struct
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import asyncpg
import nacl.secret
import nacl.utils
import numpy as np

from matching.dates import BirthDate
from matching.index import Base, IndexState, chunks, gc_paused
from matching.names import NameKey
from matching.record import Prepared

if TYPE_CHECKING:
    from .screening_index import ScreeningIndex

log = logging.getLogger(__name__)
FORMAT = 2
MAGIC = b"EXSNAP1\n"
_ID, _SEQ = 16, struct.Struct(">I")
_LEN = struct.Struct(">I")
MAX_FRAME = 256 << 20  # a length beyond this is damage, not a frame
CHUNK = {"N": 1_000, "R": 1_000, "P": 10_000, "T": 20_000, "V": 20_000}  # about 10-20 ms of unpickling each
ORDER = "HNRPBTVE"
_BASE_PIECE = 4 << 20  # bytes of a base array per B frame
_BASE_ARRAYS = (("keys", np.uint64), ("starts", np.int64), ("ids", np.int32))
_SHARED = (NameKey, BirthDate)
_STALE_TMP = 3600.0  # seconds without a write after which a temporary file is a dead writer's


class SnapshotError(Exception):
    """The snapshot cannot be used (damaged, wrong key, other code or database); never names personal data."""


@dataclass(repr=False)  # its repr would print personal data
class Snapshot:
    """What a screening index is made of: its candidate index, versions, and where each source was read up to."""

    index: IndexState
    versions: dict[str, int]
    watermarks: dict[str, dt.datetime | None]
    looked_at: dt.datetime | None


@cache
def code_digest() -> str:
    """SHA-256 of every file of the ``matching`` package (path and bytes) and of the Python version; computed
    once per process, at its first snapshot read or write, i.e. for the code it runs."""
    digest = hashlib.sha256(f"{sys.version}|{sys.implementation.cache_tag}".encode())
    stack = [("", importlib.resources.files("matching"))]
    files = []
    while stack:
        prefix, folder = stack.pop()
        for entry in folder.iterdir():
            if entry.is_dir() and entry.name != "__pycache__":
                stack.append((f"{prefix}{entry.name}/", entry))
            elif entry.is_file() and not entry.name.endswith((".pyc", ".pyo")):
                files.append((f"{prefix}{entry.name}", entry))
    for name, entry in sorted(files, key=lambda item: item[0]):
        data = entry.read_bytes()
        digest.update(f"\0{name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def fingerprint(model_version: str) -> dict[str, Any]:
    return {"format": FORMAT, "model": model_version, "code": code_digest()}


async def database_identity(conn: asyncpg.Connection) -> str:
    """Which database the index mirrors: cluster identifier (when readable), database oid and name. A restored
    backup is a new database, so another database's snapshot is never taken for this one's."""
    try:
        system = await conn.fetchval("SELECT system_identifier FROM pg_control_system()")
    except asyncpg.PostgresError:  # a managed server may refuse it to our role
        system = None
    oid, name = await conn.fetchrow("SELECT oid, datname FROM pg_database WHERE datname = current_database()")
    return hashlib.sha256(f"{system}|{oid}|{name}".encode()).hexdigest()


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def load_key(home: Path) -> nacl.secret.SecretBox:
    """The snapshot key, made on first use. Several processes may start at once: the key is written whole to
    a temporary file and hard-linked to its name, which fails if another process linked its key first."""
    path = _private_dir(home / "keys") / "snapshot.key"
    if not path.exists():
        tmp = path.with_name(f".snapshot.key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    raw = path.read_bytes()
    if len(raw) != nacl.secret.SecretBox.KEY_SIZE:
        raise SnapshotError("the snapshot key file does not hold a 32-byte key")
    return nacl.secret.SecretBox(raw)


@cache
def _init_fields(cls: type) -> tuple[str, ...] | None:
    fields = dataclasses.fields(cls)
    return None if any(not f.init for f in fields) else tuple(f.name for f in fields)


class _Saver(pickle.Pickler):
    """Pickles records with their name keys and birth dates replaced by their number in the N frames, and the
    matching library's dataclasses as a call of their constructor: unpickling a slotted dataclass by default
    runs ``dataclasses._dataclass_setstate`` (pure Python, reading ``fields()``), which made a restore several
    times slower."""

    def __init__(self, fh: BinaryIO, ids: dict[int, int]) -> None:
        super().__init__(fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._ids = ids

    def persistent_id(self, obj: Any) -> int | None:
        return self._ids.get(id(obj))

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if cls.__module__.startswith("matching.") and dataclasses.is_dataclass(cls):
            names = _init_fields(cls)
            if names is not None:
                return cls, tuple(getattr(obj, name) for name in names)
        return NotImplemented


def _dumps(items: list[Any], ids: dict[int, int]) -> bytes:
    buf = io.BytesIO()
    _Saver(buf, ids).dump(items)
    return buf.getvalue()


_ALLOWED = {("builtins", "frozenset"), ("builtins", "set"), ("array", "_array_reconstructor"), ("array", "array"),
            ("copyreg", "_reconstructor"), ("builtins", "object")}


class _Loader(pickle.Unpickler):
    """Unpickles one authenticated frame; only the matching library's classes and a few builtins are found."""

    def __init__(self, data: bytes, shared: list[Any]) -> None:
        super().__init__(io.BytesIO(data))
        self._shared = shared

    def persistent_load(self, pid: Any) -> Any:
        return self._shared[pid]

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED or (module.startswith("matching.") and name[:1].isupper()):
            return super().find_class(module, name)
        raise SnapshotError("the snapshot refers to a class it may not hold")


def _shared_table(records: list[Any]) -> tuple[list[Any], dict[int, int]]:
    """Distinct name keys and birth dates (equal ones merged) and, by object id, each one's number."""
    numbers: dict[Any, int] = {}
    ids: dict[int, int] = {}
    for p in records:
        if not isinstance(p, Prepared):  # removed (None), or left as its JSON text by a bulk load
            continue
        for obj in (*p.names, p.birth_date):
            if isinstance(obj, _SHARED) and id(obj) not in ids:
                ids[id(obj)] = numbers.setdefault(obj, len(numbers))
    return list(numbers), ids


class SnapshotFile:
    """The snapshot of one EXCHANGE_HOME: ``write`` (blocking, whole) and ``frames`` (for ``restore``)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / "index" / "screening.snap"

    def write(self, snap: Snapshot, header: dict[str, Any]) -> int | None:
        """Write ``snap`` with ``header``; returns the file's size, or None if another process is writing."""
        box = load_key(self.home)
        folder = _private_dir(self.path.parent)
        lock_fd = os.open(folder / "screening.lock", os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(lock_fd, "w") as lock:  # held for the whole write
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            for old in folder.glob("screening.snap.*.tmp"):
                if time.time() - old.stat().st_mtime > _STALE_TMP:
                    old.unlink(missing_ok=True)
            tmp = folder / f"screening.snap.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
                    fh.write(MAGIC)
                    self._frames_out(fh, box, snap, header)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        return self.path.stat().st_size

    @staticmethod
    def _frames_out(fh: BinaryIO, box: nacl.secret.SecretBox, snap: Snapshot, header: dict[str, Any]) -> None:
        snap_id = nacl.utils.random(_ID)
        seq = 0

        def put(kind: str, payload: bytes) -> None:
            nonlocal seq
            sealed = box.encrypt(snap_id + _SEQ.pack(seq) + kind.encode() + payload)
            fh.write(_LEN.pack(len(sealed)) + sealed)
            seq += 1

        put("H", json.dumps(header).encode())
        shared, ids = _shared_table(snap.index.records)
        for part in chunks(shared, CHUNK["N"]):
            put("N", _dumps(part, {}))
        for part in chunks(snap.index.records, CHUNK["R"]):
            put("R", _dumps(part, ids))
        for part in chunks(snap.index.postings.items(), CHUNK["P"]):
            put("P", _dumps(part, {}))
        if snap.index.base is not None:
            for name, _ in _BASE_ARRAYS:
                raw = memoryview(getattr(snap.index.base, name)).cast("B")
                for start in range(0, max(len(raw), 1), _BASE_PIECE):
                    put("B", _dumps([(name, bytes(raw[start:start + _BASE_PIECE]))], {}))
        for kind, items in (("T", snap.index.token_counts.items()), ("V", snap.versions.items())):
            for part in chunks(items, CHUNK[kind]):
                put(kind, _dumps(part, {}))
        put("E", json.dumps({"frames": seq + 1}).encode())

    def frames(self, fh: BinaryIO | None = None) -> Iterator[tuple[str, bytes]]:
        """The frames of the file (or of ``fh``, read from its start), each authenticated and checked for its
        place before it is returned; raises FileNotFoundError if there is no snapshot and SnapshotError (or
        CryptoError) if it is damaged."""
        box = load_key(self.home)
        with open(self.path, "rb") if fh is None else contextlib.nullcontext(fh) as fh:
            fh.seek(0)
            if fh.read(len(MAGIC)) != MAGIC:
                raise SnapshotError("not a snapshot file of this format")
            snap_id, seq, rank = b"", 0, 0
            while True:
                raw = fh.read(_LEN.size)
                if len(raw) < _LEN.size:
                    raise SnapshotError("the snapshot ends before its last frame")
                (size,) = _LEN.unpack(raw)
                sealed = fh.read(size) if size <= MAX_FRAME else b""
                if len(sealed) != size or size < box.NONCE_SIZE + box.MACBYTES:
                    raise SnapshotError("the snapshot holds a damaged frame")
                plain = box.decrypt(sealed)
                kind = plain[_ID + _SEQ.size:_ID + _SEQ.size + 1].decode("ascii", "replace")
                snap_id = snap_id or plain[:_ID]
                if plain[:_ID] != snap_id or _SEQ.unpack_from(plain, _ID)[0] != seq or kind not in ORDER[rank:] \
                        or (seq == 0) != (kind == "H"):
                    raise SnapshotError("the snapshot's frames are out of place")
                rank, seq = ORDER.index(kind), seq + 1
                payload = plain[_ID + _SEQ.size + 1:]
                if kind == "E":
                    if json.loads(payload).get("frames") != seq:
                        raise SnapshotError("the snapshot's frame count does not match")
                    if fh.read(1):
                        raise SnapshotError("the snapshot has data after its last frame")
                    return
                yield kind, payload


def load_frame(kind: str, payload: bytes, shared: list[Any]) -> list[Any]:
    """The items of one authenticated N, R, P, B, T or V frame."""
    return _Loader(payload, shared if kind == "R" else []).load()


def _when(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


async def read(file: SnapshotFile, expect: dict[str, Any]) -> Snapshot:
    """Read the snapshot, yielding to the event loop after every frame; the header is checked against
    ``expect`` before anything is unpickled. The cyclic garbage collector is paused meanwhile (unpickling
    creates millions of acyclic objects, as a load does) and the restored objects are then frozen, i.e. moved
    out of its sight without a scan: the first collection after the pause would otherwise walk all of them in
    one go (0.6 s of CPU at 200,000 records, stalling every request)."""
    with gc_paused():
        snap = await _read(file, expect)
        gc.freeze()
    return snap


async def _read(file: SnapshotFile, expect: dict[str, Any]) -> Snapshot:
    with file.path.open("rb") as fh:  # one open file for both passes, even if a new snapshot is renamed over it
        for i, (kind, payload) in enumerate(file.frames(fh)):  # first pass: authenticate all, unpickle nothing
            if kind == "H":
                header = json.loads(payload)
                for key, value in expect.items():
                    if header.get(key) != value:
                        raise SnapshotError(f"the snapshot was made for another {key}")
            if i % 64 == 63:
                await asyncio.sleep(0)
        return await _load(file.frames(fh), header)


async def _load(frames: Iterator[tuple[str, bytes]], header: dict[str, Any]) -> Snapshot:
    next(frames)  # the header, read in the first pass
    shared: list[Any] = []
    state = IndexState([], {}, Counter())
    versions: dict[str, int] = {}
    base: dict[str, list[bytes]] = {}
    for kind, payload in frames:
        items = load_frame(kind, payload, shared)
        if kind == "N":
            shared.extend(items)
        elif kind == "R":
            state.records.extend(items)
        elif kind == "P":
            state.postings.update(items)
        elif kind == "B":
            for name, piece in items:
                base.setdefault(name, []).append(piece)
        elif kind == "T":
            state.token_counts.update(dict(items))
        else:
            versions.update(items)
        await asyncio.sleep(0)  # one frame is a few milliseconds of unpickling: requests go in between
    if base:
        state = IndexState(state.records, state.postings, state.token_counts, _base(base))
    watermarks = {name: _when(value) for name, value in header["watermarks"].items()}
    return Snapshot(state, versions, watermarks, _when(header["looked_at"]))


def _base(pieces: dict[str, list[bytes]]) -> Base:
    """The base posting lists from the B frames' bytes (authenticated, so checked only for shape)."""
    try:
        arrays = {name: np.frombuffer(b"".join(pieces[name]), dtype) for name, dtype in _BASE_ARRAYS}
    except (KeyError, ValueError) as exc:
        raise SnapshotError("the snapshot's base posting lists are damaged") from exc
    base = Base(arrays["keys"], arrays["starts"], arrays["ids"])
    if len(base.starts) != len(base.keys) + 1 or int(base.starts[-1]) != len(base.ids):
        raise SnapshotError("the snapshot's base posting lists are damaged")
    return base


async def _expected(holder: ScreeningIndex, pool: asyncpg.Pool) -> dict[str, Any]:
    async with pool.acquire() as conn:
        database = await database_identity(conn)
    return {"fingerprint": fingerprint(holder.index.model.version), "database": database}


async def restore(holder: ScreeningIndex, pool: asyncpg.Pool, file: SnapshotFile) -> bool:
    """Fill ``holder`` from the snapshot; False (logged, nothing changed) if there is none or it is unusable.
    The caller then reconciles with the database, which repairs whatever changed since it was written."""
    expect = await _expected(holder, pool)
    started = time.process_time()
    try:
        snap = await read(file, expect)
    except FileNotFoundError:
        return False
    except SnapshotError as exc:
        log.warning("screening snapshot ignored; loading from the database", extra={"fields": {"reason": str(exc)}})
        return False
    except Exception as exc:  # wrong key, damage: the type only (a message might quote the data)
        log.warning("screening snapshot ignored; loading from the database",
                    extra={"fields": {"reason": type(exc).__name__}})
        return False
    await holder.adopt(snap)
    log.info("screening index restored from its snapshot",
             extra={"fields": {"records": len(holder), "cpu_s": round(time.process_time() - started, 2)}})
    return True


def _fork_writer(file: SnapshotFile, snap: Snapshot, header: dict[str, Any]) -> int:
    """Fork a child that writes the snapshot as it is at the fork, and exits: 0 written, 3 another process was
    writing, 1 failed (its log line names the error's type only). The child never returns into the event loop
    and runs no exit handlers."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        signal.set_wakeup_fd(-1)  # a signal to the child must not reach the parent's event loop
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        os.nice(10)
        gc.disable()  # short-lived, and pickling makes no cycles: no collection walks the copied heap
        code = 0 if file.write(snap, header) is not None else 3
    except Exception as exc:
        log.warning("screening snapshot write failed", extra={"fields": {"reason": type(exc).__name__}})
    finally:
        os._exit(code)


async def save(holder: ScreeningIndex, pool: asyncpg.Pool, file: SnapshotFile) -> int | None:
    """Write a snapshot of ``holder`` from a forked child process (pickling a large index takes seconds of CPU;
    the child does it while this process goes on answering). Returns the holder's change count the snapshot
    holds, or None if none was written."""
    expect = await _expected(holder, pool)
    started = time.monotonic()
    async with holder.locked() as (snap, changes):
        header = {**expect, "written_at": dt.datetime.now(dt.UTC).isoformat(),
                  "looked_at": None if snap.looked_at is None else snap.looked_at.isoformat(),
                  "watermarks": {k: None if v is None else v.isoformat() for k, v in snap.watermarks.items()}}
        pid = _fork_writer(file, snap, header)
    try:
        _, status = await asyncio.get_running_loop().run_in_executor(None, os.waitpid, pid, 0)
    except asyncio.CancelledError:  # shutting down: stop the child (the executor's waitpid reaps it)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        (file.path.parent / f"screening.snap.{pid}.tmp").unlink(missing_ok=True)
        raise
    code = os.waitstatus_to_exitcode(status)
    if code == 3:  # several workers: one writes, the others try again at their next turn
        log.info("screening snapshot left to another process writing one")
        return None
    if code != 0:
        log.warning("screening snapshot not written", extra={"fields": {"reason": f"writer exit status {code}"}})
        return None
    log.info("screening snapshot written", extra={"fields": {
        "records": len(holder), "seconds": round(time.monotonic() - started, 2),
        "bytes": file.path.stat().st_size}})
    return changes
