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


def calling_code(region: str) -> str:
    """The country calling code of a region, as digits ("1" for US)."""
    return str(phonenumbers.country_code_for_region(region.upper()))


def region_of(e164: str) -> str | None:
    """The region a number belongs to by its numbering plan (the calling code's main region if the
    number is not valid), or None."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return None
    for region in (phonenumbers.region_code_for_number(number),
                   phonenumbers.region_code_for_country_code(number.country_code)):
        if region and region != phonenumbers.UNKNOWN_REGION:
            return region
    return None


def is_toll_free(e164: str) -> bool:
    try:
        return phonenumbers.number_type(phonenumbers.parse(e164)) == phonenumbers.PhoneNumberType.TOLL_FREE
    except phonenumbers.NumberParseException:
        return False
