"""``exchange post init|status|discard``: set the queue up, see what waits in it, drop a handled rejection.

``status`` needs no passphrase: it reads only keys, check times and states. It warns when a queued check nears
the service's 14-day window (``local.WARN_BEFORE`` before it closes) and when one has passed it: the service
will refuse such a check, so the written procedure is the only record of it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .commands import Options, Stop
from .console import Console
from .local import WARN_BEFORE, window_left
from .queue import Queue
from .vault import MIN_PASSPHRASE, KdfParams

_POST = re.compile(r"[A-Z][A-Z0-9_]{1,31}", re.ASCII)


def init(opts: Options, console: Console, post: str, params: KdfParams | None = None) -> int:
    if not _POST.fullmatch(post):
        raise Stop("--post must be a border point code such as POIPET", 2)
    passphrase = console.passphrase(confirm=True)
    if len(passphrase) < MIN_PASSPHRASE:
        raise Stop(f"the passphrase must have at least {MIN_PASSPHRASE} characters", 2)
    queue = Queue.create(opts.home, passphrase, post, params)
    queue.close()
    console.say(f"queue created for post {post} at {queue.path}")
    console.result({"post": post, "queue": str(queue.path)})
    return 0


def _days(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds() / 86400:.1f} days"


def status(opts: Options, console: Console, now: dt.datetime | None = None) -> int:
    now = now or dt.datetime.now(dt.UTC)
    queue = Queue.open(opts.home)
    try:
        queued, rejected = queue.entries("queued"), queue.entries("rejected")
        post = queue.post
    finally:
        queue.close()
    oldest = min((e.check_time for e in queued), default=None)
    expired = [e.key for e in queued if window_left(e.check_time, now) <= dt.timedelta(0)]
    near = [e.key for e in queued if dt.timedelta(0) < window_left(e.check_time, now) <= WARN_BEFORE]
    out: dict[str, Any] = {
        "post": post, "queued": len(queued), "rejected": len(rejected),
        "oldest_age_hours": None if oldest is None else round((now - oldest).total_seconds() / 3600, 1),
        "near_window": near, "past_window": expired,
        "rejected_entries": [{"key": e.key, "check_time": e.check_time.isoformat(), "code": e.error_code,
                              "field": e.error_field} for e in rejected]}
    console.say(f"post {post}: {len(queued)} queued, {len(rejected)} rejected")
    if oldest is not None:
        console.say(f"oldest queued check: {_days(now - oldest)} old")
    for key in near:
        entry = next(e for e in queued if e.key == key)
        console.say(f"WARNING: {key} must be sent within {_days(window_left(entry.check_time, now))} "
                    "or the service will refuse it: run `exchange post sync`")
    for key in expired:
        console.say(f"WARNING: {key} is past the service's window and will be refused; the paper record of the "
                    "written procedure is the only one")
    for e in rejected:
        console.say(f"rejected: {e.key} ({e.check_time:%Y-%m-%d %H:%M} UTC) {e.error_code}"
                    + (f" field {e.error_field}" if e.error_field else "")
                    + "; record it again corrected, then `exchange post discard KEY`")
    console.result(out)
    return 1 if near or expired else 0


def discard(opts: Options, console: Console, key: str) -> int:
    queue = Queue.open(opts.home)
    try:
        if not queue.discard(key):
            raise Stop("no rejected entry with that key (queued entries are never discarded)")
    finally:
        queue.close()
    console.say(f"discarded {key}")
    console.result({"discarded": key})
    return 0
