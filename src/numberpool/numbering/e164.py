"""Reading and checking E.164 numbers as clients send them."""

from __future__ import annotations

import phonenumbers

MAX_E164_DIGITS = 15


def normalize(raw: str) -> str | None:
    """The canonical `+<digits>` form of a number given in a URL path, or None.

    Clients send the leading plus as `+`, as `%2B`, or (after a form-decoding
    proxy) as a single leading space; all three mean the same number. Any other
    whitespace or control character makes the number invalid.
    """
    text = "+" + raw[1:] if raw.startswith(" ") else raw
    if not text.startswith("+"):
        text = "+" + text
    digits = text[1:]
    if not digits.isascii() or not digits.isdigit() or not 2 <= len(digits) <= MAX_E164_DIGITS:
        return None
    return text


def is_valid(e164: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return False


def is_region(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code that has a numbering plan."""
    return code.isascii() and code.upper() in phonenumbers.SUPPORTED_REGIONS
