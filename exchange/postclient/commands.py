"""``exchange post record|sync``: submit a check or queue it, and replay the queue in order.

record  validate locally -> new Idempotency-Key, check time -> log in -> submit. Stored: the service's answer.
        Refused/Blocked: the error (code, field), nothing queued. Unreachable: queue it and give the answer of
        the pure rules with the statement that screening was not done.
sync    unlock the queue -> log in -> submit each queued entry in order under its own key. Stored (or replayed):
        delete it. Refused: set it aside as rejected with the code (never sent again). Blocked or Unreachable:
        stop; the rest stays queued for the next sync.

Exit codes: 0 done, 1 refused or stopped, 2 bad input or setup, 3 queued offline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .console import PASSPHRASE_ENV, Console
from .local import WARN_BEFORE, offline_answer, prepare, window_left
from .queue import Entry, Queue, QueueError
from .service import Blocked, LoginFailed, Outcome, Refused, Service, Stored, Unreachable
from .vault import DamagedEntry, WrongPassphrase

HIT_FLAGS = frozenset({"companion_watchlist_hit", "child_watchlist_hit"})
PASSPHRASE_TRIES = 3


@dataclass(frozen=True)
class Options:
    home: Path
    url: str
    username: str | None = None
    timeout: float = 20.0


class Stop(Exception):
    """Ends a command with a message (no personal data) and an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def unlock(queue: Queue, console: Console) -> None:
    tries = PASSPHRASE_TRIES if console.interactive and not console.env.get(PASSPHRASE_ENV) else 1
    for _ in range(tries):
        try:
            queue.unlock(console.passphrase())
            return
        except WrongPassphrase:
            console.problem("the passphrase does not open this queue")
    raise Stop("the queue stays locked (wrong passphrase)")


async def _login(service: Service, queue: Queue, opts: Options, console: Console) -> Unreachable | None:
    """Log in as the officer (prompting for the secrets); an unreachable service is returned, not raised."""
    username = console.username(opts.username)
    password = console.secret("Password: ")
    totp = console.line("Authenticator code: ")
    try:
        await service.login(username, password, totp)
    except LoginFailed as failed:
        if isinstance(failed.outcome, Unreachable):
            return failed.outcome
        raise Stop(f"login refused: {failed.outcome.code}: {failed.outcome.message}") from None
    if service.border_point != queue.post:
        raise Stop(f"this machine's queue belongs to post {queue.post}; log in as an officer of that post")
    return None


def _why(outcome: Refused | Unreachable) -> str:
    return outcome.reason if isinstance(outcome, Unreachable) else f"{outcome.code}: {outcome.message}"


def _refusal(outcome: Refused) -> dict[str, Any]:
    return {"status": outcome.status, "code": outcome.code, "field": outcome.field, "message": outcome.message}


async def record(opts: Options, console: Console, path: Path) -> int:
    try:
        raw = await asyncio.to_thread(path.read_bytes)
    except OSError as err:
        raise Stop(f"cannot read the check file ({err.strerror})", 2) from None
    prepared = prepare(raw, _now())  # ValidationError is reported by the caller
    queue = Queue.open(opts.home)
    key = str(uuid.uuid4())
    try:
        async with Service(opts.url, opts.timeout) as service:
            unreachable = await _login(service, queue, opts, console)
            outcome = unreachable or await service.submit(key, prepared.body)
        if isinstance(outcome, Stored):
            console.answer(f"ANSWER OF THE SERVICE (check {outcome.answer['id']}):", outcome.answer)
            _hit_notice(console, outcome.answer)
            console.result({"mode": "online", "key": key, **outcome.answer, "replayed": outcome.replayed})
            return 0
        if isinstance(outcome, Refused):
            where = f" (field {outcome.field})" if outcome.field else ""
            console.problem(f"the service refused the check: {outcome.code}{where}: {outcome.message}. "
                            "It is NOT queued; correct it and record it again.")
            console.result({"mode": "refused", "key": key, "queued": False, **_refusal(outcome)})
            return 1
        local = offline_answer(prepared.check)
        console.say(f"OFFLINE: {outcome.reason}.")
        console.say(local["warning"])
        console.answer("ANSWER OF THE LOCAL RULES (no screening):", local)
        try:
            unlock(queue, console)
            queue.add(key, prepared.check.time, prepared.body)
        except (Stop, QueueError) as err:
            console.problem(f"{err}. THE CHECK WAS NOT QUEUED: record it on paper under the written procedure.")
            console.result({"mode": "offline", "key": key, "queued": False, **local})
            return 1
        queued = len(queue.entries("queued"))
        console.say(f"Queued as {key} ({queued} waiting): write this key on the paper record. "
                    "Run `exchange post sync` when the link returns.")
        console.result({"mode": "offline", "key": key, "queued": True, **local})
        return 3
    finally:
        queue.close()


def _hit_notice(console: Console, answer: dict[str, Any]) -> None:
    if HIT_FLAGS & set(answer.get("flags", [])):
        console.say("!! POSSIBLE MATCH: hold the group for secondary inspection and call the liaison desk.")


async def sync(opts: Options, console: Console) -> int:
    queue = Queue.open(opts.home)
    try:
        return await _sync(queue, opts, console)
    finally:
        queue.close()


async def _sync(queue: Queue, opts: Options, console: Console) -> int:
    todo = queue.entries("queued")
    summary: dict[str, Any] = {"sent": 0, "already_stored": 0, "rejected": 0, "stopped": None, "results": []}
    if todo:
        unlock(queue, console)
        async with Service(opts.url, opts.timeout) as service:
            unreachable = await _login(service, queue, opts, console)
            if unreachable is not None:
                summary["stopped"] = _why(unreachable)
            else:
                await _replay(queue, service, todo, console, summary)
    left = queue.entries("queued")
    summary["queued"] = len(left)
    summary["near_window"] = [e.key for e in left if window_left(e.check_time, _now()) <= WARN_BEFORE]
    if summary["near_window"]:
        console.say(f"WARNING: {len(summary['near_window'])} queued checks are near or past the service's 14-day "
                    "window: sync again soon (see `exchange post status`)")
    summary["rejected_total"] = len(queue.entries("rejected"))
    console.say(f"sync: {summary['sent']} sent, {summary['already_stored']} already stored, "
                f"{summary['rejected']} rejected, {summary['queued']} still queued"
                + (f" (stopped: {summary['stopped']})" if summary["stopped"] else ""))
    console.result(summary)
    return 0 if summary["queued"] == 0 and summary["rejected"] == 0 else 1


async def _replay(queue: Queue, service: Service, todo: list[Entry], console: Console,
                  summary: dict[str, Any]) -> None:
    for i, entry in enumerate(todo, 1):
        step = f"[{i}/{len(todo)}] {entry.key}"
        try:
            body = queue.body(entry)
        except DamagedEntry as err:
            outcome: Outcome = Refused(0, "damaged_entry", None, str(err))
        else:
            outcome = await service.submit(entry.key, body)
        if isinstance(outcome, Stored):
            queue.remove(entry.key)
            summary["already_stored" if outcome.replayed else "sent"] += 1
            summary["results"].append({"key": entry.key, "result": "stored", "replayed": outcome.replayed,
                                       **outcome.answer})
            console.answer(f"{step}: stored as check {outcome.answer['id']}"
                           + (" (already stored before)" if outcome.replayed else ""), outcome.answer)
            _hit_notice(console, outcome.answer)
        elif isinstance(outcome, Blocked | Unreachable):
            summary["stopped"] = _why(outcome)
            console.say(f"{step}: not sent, stopping ({summary['stopped']})")
            return
        else:
            queue.reject(entry.key, outcome.status, outcome.code, outcome.field)
            summary["rejected"] += 1
            summary["results"].append({"key": entry.key, "result": "rejected", **_refusal(outcome)})
            console.say(f"{step}: REJECTED {outcome.code}" + (f" (field {outcome.field})" if outcome.field else "")
                        + f": {outcome.message}; set aside, not sent again")
