"""What the post's machine does on its own: read and validate a check exactly as the service will, stamp its
time, and, when the service cannot be reached, give the answer of the pure rules with a plain warning.

The validators and the rules are the service's own (``exchange.border.schema``, ``exchange.border.flags``),
imported, not copied, so a body the post accepts is one the service accepts on the same day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from exchange.border.flags import ordered, recommend, rule_flags
from exchange.border.schema import MAX_DELAY, CheckInput, validate_check
from protocols.strictjson import StrictJSONError, loads
from protocols.validation import Code, ValidationError

MAX_FILE = 1 << 20
# Warn when the oldest queued check is this close to the service's window (schema.MAX_DELAY, 14 days).
WARN_BEFORE = dt.timedelta(days=4)
NOT_SCREENED = ("SCREENING AGAINST THE REGISTER WAS NOT DONE: the central service could not be reached. "
                "Follow the written offline procedure for this post, and treat the rules' answer below as a "
                "minimum. The check is queued and will be screened when it is sent (`exchange post sync`); "
                "a possible match found then goes to the liaison desk, who will call the post.")


@dataclass(frozen=True)
class Prepared:
    body: dict[str, Any]
    check: CheckInput


def prepare(raw: bytes, now: dt.datetime) -> Prepared:
    """Parse ``raw`` strictly and validate it; the body gets ``time`` (now) unless it names the check's time.

    Raises ValidationError (code, field, message without the value).
    """
    try:
        body = loads(raw, max_bytes=MAX_FILE)
    except StrictJSONError as err:
        raise ValidationError(Code.INVALID_VALUE, "", f"the file is not strict JSON ({err.code})") from None
    if isinstance(body, dict) and body.get("time") is None:
        body["time"] = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    return Prepared(body, validate_check(body, now))


def offline_answer(check: CheckInput) -> dict[str, Any]:
    """The answer of the pure rules (no screening), shaped like the service's answer without an id."""
    flags = rule_flags(check)
    return {"flags": ordered(flags), "recommendation": recommend(flags).as_dict(), "screened": False,
            "warning": NOT_SCREENED}


def window_left(check_time: dt.datetime, now: dt.datetime) -> dt.timedelta:
    """How long the service will still accept a check made at ``check_time``."""
    return check_time + MAX_DELAY - now
