"""Reading and validating what clients send: query parameters and JSON bodies."""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Any, TypeVar

from numberpool.core.errors import bad_request
from numberpool.core.model import Capabilities, Direction

E = TypeVar("E", bound=Enum)

MAX_PAGE_SIZE = 1000
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")


def json_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise bad_request("The request body is empty; a JSON object is required.")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise bad_request("The request body must be a JSON object.")
    if raw.isascii() and b"\\" not in raw:  # only an escape or a non-ASCII byte can hold a surrogate
        return value
    try:  # "\ud800" is valid JSON but no Unicode text: it could be neither stored nor echoed back
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request("The request body contains an unpaired UTF-16 surrogate escape.") from None
    except RecursionError:
        raise bad_request("The request body is nested too deeply.") from None
    return value


def enum_value(kind: type[E], value: Any, name: str, allowed: tuple[E, ...] | None = None) -> E:
    try:
        member = kind(value)
    except ValueError:
        member = None
    if member is not None and (allowed is None or member in allowed):
        return member
    choices = allowed or tuple(kind)
    names = ", ".join(m.value for m in choices)
    raise bad_request(f"Invalid value for '{name}': {_show(value)}. Expected one of: {names}.", target=name)


def required(body: dict[str, Any], name: str) -> Any:
    if body.get(name) is None:
        raise bad_request(f"The '{name}' field is required.", target=name)
    return body[name]


def capabilities(value: Any, name: str = "capabilities") -> Capabilities:
    if not isinstance(value, dict):
        raise bad_request(f"'{name}' must be an object with 'calling' and 'sms'.", target=name)
    return Capabilities(
        enum_value(Direction, required(value, "calling"), f"{name}.calling"),
        enum_value(Direction, required(value, "sms"), f"{name}.sms"),
    )


def integer(value: Any, name: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise bad_request(f"'{name}' must be an integer from {minimum} to {maximum}.", target=name)
    return value


def query_int(params: Any, name: str, default: int, *, minimum: int = 0, maximum: int = 2**31 - 1) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):  # int() would also take " 1", "1_0" and non-ASCII digits
        raise bad_request(f"Query parameter '{name}' must be an integer.", target=name)
    return integer(int(raw), name, minimum=minimum, maximum=maximum)


def optional_string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"'{name}' must be a string.", target=name)
    return value


def boolean(body: dict[str, Any], *names: str) -> bool:
    """The first of `names` present in the body, as a boolean (absent is False)."""
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise bad_request(f"'{name}' must be true or false.", target=name)
        return value
    return False


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
