"""JSON log lines: fields as given, and for an exception its type and frames, never its message (which may
quote data, e.g. a database error's DETAIL line)."""

from __future__ import annotations

import io
import json
import logging

from exchange.logs import JsonFormatter


def test_an_exception_is_logged_by_type_and_frames_only():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test-logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError("duplicate key\nDETAIL: Key (full_name)=(Sok Dara) already exists.")
    except ValueError:
        logger.exception("insert failed", extra={"fields": {"request_id": "r1"}})
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["exception"] == "ValueError" and line["request_id"] == "r1"
    assert line["trace"] and all("test_logs.py" in frame for frame in line["trace"])
    assert "Sok" not in stream.getvalue() and "duplicate" not in stream.getvalue()
