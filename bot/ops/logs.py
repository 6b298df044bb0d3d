"""Logs as JSON lines (``NINBAI_LOG_FORMAT=json``), for journald / a log shipper.

One object per line: ``ts`` (UTC, ISO), ``level``, ``logger``, ``msg``,
``pid``, and ``exc`` (the exception's type and traceback) when there is one.
The code logs ids, counts and statuses, never what a homeowner wrote; as a
second line of defence, LINE user ids, e-mail addresses and phone numbers are
masked in every line whatever logged them (a library's message, a traceback).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re

MASKS = (
    (re.compile(r"\bU[0-9a-f]{32}\b"), "U***"),  # LINE user id
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "***@***"),
    (re.compile(r"(?<!\d)0\d{1,4}-?\d{1,4}-?\d{3,4}(?!\d)"), "0**-****-****"),  # JP phone numbers
)


def mask(text: str) -> str:
    for pattern, repl in MASKS:
        text = pattern.sub(repl, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": mask(record.getMessage()),
            "pid": record.process,
        }
        if record.exc_info:
            out["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


def use_json() -> None:
    """Every handler of the root logger (and gunicorn's) writes JSON lines."""
    formatter = JsonFormatter()
    for name in (None, "gunicorn.error"):
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(formatter)
