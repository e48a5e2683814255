"""Number aging: a released number rests before it can be held again.

How long is its offering's `aging_days` (0 in the demo catalog: a released number is for sale
again at once). While aging, a number is in no search, browse or reservation: they take only
`available` numbers. The sweep makes it available when its `aging_until` passes (event
`aging ended`, actor `system`); an operator can end it early (`numberpool inventory
release-aging`).
"""

from __future__ import annotations

from collections.abc import Sequence

from numberpool.core.model import ADMIN_ACTOR, Change, Offering, PhoneNumber
from numberpool.core.storage import Store

SECONDS_PER_DAY = 24 * 3600


def aging_days(offerings: Sequence[Offering], number: PhoneNumber) -> int:
    """The rest period of the offering the number was bought under.

    That is the cheapest offering of its type and assignment that sells its capabilities (the one
    a search or capability update would pick); failing that, the longest period of its type, so a
    number whose offering has since changed rests rather than being resold too early.
    """
    of_its_type = [o for o in offerings if o.number_type is number.number_type]
    if number.assignment is not None and number.capabilities is not None:
        fitting = [o for o in of_its_type if o.assignment is number.assignment and o.allows(number.capabilities)]
        if fitting:
            return min(fitting, key=lambda o: o.cost.amount).aging_days
    return max((o.aging_days for o in of_its_type), default=0)


def aging_until(offerings: Sequence[Offering], number: PhoneNumber, now: float) -> float | None:
    """When a number released at `now` may be sold again; None when at once."""
    days = aging_days(offerings, number)
    return now + days * SECONDS_PER_DAY if days > 0 else None


async def release_aging(store: Store, phone_numbers: Sequence[str], now: float) -> list[str]:
    """The operator's override: end the aging of these numbers now (event `aging ended`, actor `admin`).

    Returns the numbers that were aging and are now available; the others are left as they are.
    """
    async with store.transaction() as tx:
        return await tx.end_aging(phone_numbers, Change(now, ADMIN_ACTOR))
