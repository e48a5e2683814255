"""Browsing: a random sample of the numbers for sale right now, with no hold placed.

The sample is drawn without reading the whole inventory: the matching area codes
(narrowed by the requested prefixes) are visited in random order, and from each a
window of free numbers after a random starting point is read and sampled. The
generator comes from `Context.random`, so with a server seed the same request on
the same inventory gets the same answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from numberpool.core import errors
from numberpool.core.catalog import check_country
from numberpool.core.context import Context
from numberpool.core.model import AssignmentType, AvailableNumber, Direction, NumberType, Offering
from numberpool.numbering.e164 import calling_code

MAX_RESULTS = 30
"""How many numbers one browse returns at most (the real service answered about 30)."""
_SPREAD = 10  # the sample is spread over up to this many area codes (or prefixes)
_WINDOW = 3  # numbers read per number wanted from one area code
_MAX_VISITS = 100  # area codes visited at most, when most are (nearly) sold out
_START_DIGITS = 8


@dataclass(frozen=True)
class BrowseRequest:
    number_type: NumberType
    assignment: AssignmentType | None = None
    calling: Direction | None = None
    """The least calling capability wanted; None or `none`: any."""
    sms: Direction | None = None
    prefixes: tuple[str, ...] = ()
    """Digits the number must start with, country code included ("1425"); empty: any."""


def fitting_offerings(offerings: list[Offering], request: BrowseRequest) -> list[Offering]:
    return [
        o
        for o in offerings
        if o.number_type is request.number_type
        and (request.assignment is None or o.assignment is request.assignment)
        and (request.calling is None or o.capabilities.calling.covers(request.calling))
        and (request.sms is None or o.capabilities.sms.covers(request.sms))
    ]


def _ranges(code: str, area_codes: list[str], prefixes: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(area code, low, high): the stretches of E.164 text to sample, `low <= number < high`."""
    found = set()
    for area in area_codes:
        digits = code + area
        if not prefixes:
            found.add((area, "+" + digits, "+" + digits + ":"))  # ":" sorts right after "9"
        for prefix in prefixes:
            if digits.startswith(prefix):
                found.add((area, "+" + digits, "+" + digits + ":"))
            elif prefix.startswith(digits):
                found.add((area, "+" + prefix, "+" + prefix + ":"))
    return sorted(found)


async def browse(ctx: Context, country: str, request: BrowseRequest) -> list[AvailableNumber]:
    """Up to MAX_RESULTS numbers free now, in random order, each under an offering that fits the request."""
    country = check_country(country)
    now = ctx.clock.epoch()
    wanted = (request.number_type, request.assignment, request.calling, request.sms)
    rng = ctx.random("browse", country, *(e.value if e else "" for e in wanted), ",".join(request.prefixes))
    async with ctx.store.read() as tx:
        offerings = fitting_offerings(await tx.offerings(country), request)
        if not offerings:
            raise errors.no_matching_plan()
        do_not_resell = {c.code: c.do_not_resell for c in await tx.countries()}.get(country, False)
        localities = await tx.localities(country)
        area_codes = sorted({loc.area_code for loc in localities if loc.number_type is request.number_type})
        ranges = _ranges(calling_code(country), area_codes, request.prefixes)
        rng.shuffle(ranges)
        per_range = math.ceil(MAX_RESULTS / max(1, min(len(ranges), _SPREAD)))
        picked: list[str] = []
        seen: set[str] = set()
        for area, low, high in ranges[:_MAX_VISITS]:
            if len(picked) >= MAX_RESULTS:
                break
            want = min(per_range, MAX_RESULTS - len(picked))
            start = low + "".join(rng.choice("0123456789") for _ in range(_START_DIGITS))
            window = await tx.free_numbers(country, request.number_type, area, start, high, want * _WINDOW, now)
            if len(window) < want * _WINDOW:  # wrap around to the start of the range
                window += await tx.free_numbers(
                    country, request.number_type, area, low, start, want * _WINDOW - len(window), now
                )
            fresh = [n for n in window if n not in seen]
            for number in rng.sample(fresh, min(want, len(fresh))):
                seen.add(number)
                picked.append(number)
    rng.shuffle(picked)
    found = []
    for number in picked:
        offering = rng.choice(offerings)
        found.append(
            AvailableNumber(
                number, country, request.number_type, offering.assignment, offering.capabilities, offering.cost,
                do_not_resell,
            )
        )
    return found
