"""Withdrawing numbers: out of sale for good (state `withdrawn`), kept in the database for the record.

Only a number nobody holds or owns can be withdrawn: an available one. Withdrawing a
withdrawn number again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from numberpool.core.model import ADMIN_ACTOR, Change
from numberpool.core.storage import Store

REASONS = {
    None: "not in the inventory",
    "held": "held by a search (it returns to the inventory when the hold ends or lapses)",
    "reserved": "reserved by a reservation (it returns to the inventory when the reservation ends)",
    "purchased": "purchased by a resource (it must be released first)",
    "aging": "aging after a release (it cannot be sold until its aging ends)",
}


@dataclass
class WithdrawResult:
    withdrawn: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    """(number, reason)"""

    def text(self) -> str:
        return f"withdrawn {len(self.withdrawn)}, already withdrawn {len(self.already)}, refused {len(self.refused)}"


async def withdraw_numbers(store: Store, numbers: Sequence[str], now: float) -> WithdrawResult:
    before = await store.inventory().withdraw(numbers, Change(now, ADMIN_ACTOR))
    result = WithdrawResult()
    for number in dict.fromkeys(numbers):
        state = before.get(number)
        if state == "available":
            result.withdrawn.append(number)
        elif state == "withdrawn":
            result.already.append(number)
        else:
            result.refused.append((number, REASONS.get(state, f"in state {state}")))
    return result
