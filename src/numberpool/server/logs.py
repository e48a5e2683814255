"""Log output: one JSON object per line off a terminal (or `--log-format json`), readable lines on one.

Every logger of the process (numberpool's own, and uvicorn's error logger) writes through one
handler on stdout. The access line of each request (`api.observe`) carries the request's ids,
route template, status, duration and resource as fields; any line written while a request is
answered carries that request's id. As a last guard, anything shaped like a credential (a
connection string's access key, an HMAC signature, a bearer token) is masked before a line is
written, though no code logs headers or keys.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any, TextIO

from numberpool.api.request_ids import CURRENT_REQUEST_ID

FORMATS = ("auto", "json", "text")
LEVELS = ("debug", "info", "warning", "error")

# Fields an access line (or any record) may carry, in the order they are written.
FIELDS = (
    "request_id", "client_request_id", "correlation_vector", "method", "route", "status", "duration_ms",
    "resource", "error_code",
)

_SECRET = re.compile(
    r"(?i)(accesskey=|signature=|bearer\s+|authorization:\s*\S+\s+)([^\s;,&\"']+)"
)


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: m.group(1) + "[redacted]", text)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = {name: getattr(record, name) for name in FIELDS if getattr(record, name, None) is not None}
    if "request_id" not in fields:
        current = CURRENT_REQUEST_ID.get()
        if current is not None:
            fields["request_id"] = current
    return fields


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def _timestamp(record: logging.LogRecord) -> str:
    seconds = int(record.created)
    if _second[0] != seconds:
        _second[:] = [seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))]
    return f"{_second[1]}.{int(record.msecs):03d}Z"


def _event(record: logging.LogRecord) -> str:
    """The message; masked unless it is an access line, made only of the route table's templates."""
    message = record.getMessage()
    return message if getattr(record, "access", False) else redact(message)


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "event", <fields>, "exception"?}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": _event(record),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger event key=value ...`, for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        for name in ("method", "route", "status"):  # already in the access line's event
            fields.pop(name, None)
        extra = " ".join(f"{name}={value}" for name, value in fields.items())
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name} {_event(record)}"
        if extra:
            line += " " + extra
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


def configure_logging(log_format: str = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Send every logger's records through one stdout handler in `log_format` (auto: JSON unless a terminal)."""
    stream = stream or sys.stdout
    if log_format == "auto":
        log_format = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(level.upper())
