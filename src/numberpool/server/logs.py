"""Log output: one JSON object per line off a terminal (or `--log-format json`), readable lines on one.

Every logger of the process (numberpool's own, and uvicorn's error logger) writes through one
handler on stdout. The access line of each request (`api.observe`) carries the request's ids,
route template, status, duration and resource as fields; any line written while a request is
answered carries that request's id. As a last guard, anything shaped like a credential (a
connection string's access key, an HMAC signature, a bearer token) is masked before a line is
written, though no code logs headers or keys.

In JSON, lines are written in one `write` per event-loop turn (or per 256 lines), not one
`write` and `flush` each, and the access line is formatted straight from its fields
(`access_line_json`), without a `LogRecord`: the same text `JsonFormatter` would make of it,
at a fraction of the cost. A warning or error is written at once, after whatever is pending;
`logging.shutdown` (at exit, after SIGTERM too) writes what is pending.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
import time
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any, TextIO

from numberpool.api import observe
from numberpool.api.request_ids import CURRENT_REQUEST_ID, RequestIds

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
    return _timestamp_of(record.created)


def _timestamp_of(created: float) -> str:
    seconds = int(created)
    if _second[0] != seconds:
        _second[:] = [seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))]
    return f"{_second[1]}.{int((created - seconds) * 1000):03d}Z"


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


_ACCESS_HEAD = '", "level": "info", "logger": "numberpool.access", "event": '


def access_line_json(
    method: str, route: str, status: int, duration_ms: float, ids: RequestIds, resource: str | None,
    error_code: str | None, created: float,
) -> str:
    """The access line `JsonFormatter` writes for these fields, character for character."""
    line = [
        '{"time": "', _timestamp_of(created), _ACCESS_HEAD, encode_basestring(f"{method} {route} {status}"),
        ', "request_id": ', encode_basestring(ids.request_id),
    ]
    if ids.client_request_id is not None:
        line += ', "client_request_id": ', encode_basestring(ids.client_request_id)
    line += (', "correlation_vector": ', encode_basestring(ids.correlation_vector), ', "method": ',
             encode_basestring(method), ', "route": ', encode_basestring(route), ', "status": ', str(status),
             ', "duration_ms": ', repr(duration_ms))
    if resource is not None:
        line += ', "resource": ', encode_basestring(resource)
    if error_code is not None:
        line += ', "error_code": ', encode_basestring(error_code)
    line.append("}")
    return "".join(line)


class LineWriter:
    """Lines for `stream`, written together once per event-loop turn (or every `most` lines).

    Off an event loop (start-up, another thread) a line is written at once, after what is pending.
    """

    def __init__(self, stream: TextIO, most: int = 256) -> None:
        self.stream = stream
        self.most = most
        self._pending: list[str] = []
        self._scheduled = False
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock:
            self._pending.append(line)
            pending = len(self._pending)
        if self._scheduled and pending < self.most:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if pending >= self.most:
            self.flush()
        else:
            self._scheduled = True
            loop.call_soon(self.flush)

    def flush(self) -> None:
        with self._lock:
            self._scheduled = False
            lines, self._pending = self._pending, []
            if lines:
                lines.append("")
                self.stream.write("\n".join(lines))
                self.stream.flush()


class _LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler writing through a `LineWriter`; a warning or worse is written at once."""

    def __init__(self, writer: LineWriter) -> None:
        super().__init__(writer.stream)
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.writer.write(self.format(record))
            if record.levelno >= logging.WARNING:
                self.writer.flush()
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        self.writer.flush()


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
    handler: logging.Handler
    if log_format == "json":
        writer = LineWriter(stream)
        handler = _LineHandler(writer)
        handler.setFormatter(JsonFormatter())
        observe.write_access_lines(lambda *fields: writer.write(access_line_json(*fields)))
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(TextFormatter())
        observe.write_access_lines(None)
    root = logging.getLogger()
    for old in list(root.handlers):
        old.flush()  # what an earlier configuration still holds
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(level.upper())
