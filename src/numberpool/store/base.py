"""The storage interface the core is written against.

Every change the core makes happens inside `Store.transaction()`; a transaction
either commits whole or not at all, and the engines make sure two transactions
never take the same available number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from numberpool.core.model import (
    Capabilities,
    Cost,
    Country,
    Locality,
    NumberType,
    Offering,
    Operation,
    PhoneNumber,
    Search,
)


class Transaction(Protocol):
    # catalog
    async def countries(self) -> list[Country]: ...
    async def offerings(self, country: str) -> list[Offering]: ...
    async def localities(self, country: str) -> list[Locality]: ...

    # inventory
    async def take_available(
        self, country: str, number_type: NumberType, area_code: str | None, limit: int, now: float
    ) -> list[str]:
        """Lock and return up to `limit` numbers that are free now (available, or held past expiry)."""
        ...

    async def hold(self, numbers: Sequence[str], holder: str, expires_at: float) -> None: ...
    async def release_holds(self, holder: str) -> int: ...
    async def purchase_held(
        self, holder: str, owner: str, search: Search, now: float
    ) -> int:
        """Turn the numbers `holder` still holds into purchases of `owner`; returns how many."""
        ...

    async def get_number(self, phone_number: str) -> PhoneNumber | None: ...
    async def owned_numbers(self, owner: str, skip: int, top: int) -> list[PhoneNumber]: ...
    async def set_capabilities(self, phone_number: str, capabilities: Capabilities, cost: Cost) -> None: ...
    async def release_number(self, phone_number: str) -> None: ...

    # searches
    async def insert_search(self, search: Search) -> None: ...
    async def get_search(self, search_id: str) -> Search | None: ...
    async def set_search_status(self, search_id: str, status: str) -> None: ...

    # operations
    async def insert_operation(self, operation: Operation) -> None: ...
    async def get_operation(self, operation_id: str) -> Operation | None: ...
    async def delete_operation(self, operation_id: str) -> None: ...


class Store(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    async def is_empty(self) -> bool: ...

    async def load_catalog(self, countries: Iterable[Country], offerings: Iterable[Offering]) -> None: ...

    async def load_numbers(self, locality: Locality, numbers: Sequence[str]) -> int:
        """Bulk-add available numbers of one locality; returns how many were new."""
        ...

    async def sweep_expired(self, now: float) -> int:
        """Return expired holds to the inventory for good; returns how many numbers."""
        ...

    async def violations(self) -> list[tuple[str, str]]:
        """(rule, phone number) for every breach of the inventory invariant; empty when consistent."""
        ...

    async def close(self) -> None: ...
