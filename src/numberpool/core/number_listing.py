"""An operator's listing of the inventory's numbers, a page at a time (the admin API's `GET /numbers`)."""

from __future__ import annotations

from numberpool.core.model import PhoneNumber
from numberpool.core.storage import NumberFilter, Store

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50


async def numbers_page(store: Store, where: NumberFilter, after: str, size: int) -> tuple[list[PhoneNumber], bool]:
    """Up to `size` numbers matching `where` after the number `after` ("+" from the start), in
    E.164 order, and whether more follow. Keyset paging: see store/admin_queries.py."""
    async with store.read() as tx:
        found = await tx.numbers_page(where, after, size + 1)
    return found[:size], len(found) > size
